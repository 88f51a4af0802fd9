//! `cosx.v1.RepairExceptions`: raising a repair exception on an order,
//! answering it, and listing an order's exceptions.
//!
//! A thin adapter: authenticate → parse (`cosx_edge::convert`) → the core
//! (`coordinator::exceptions`, which applies `cosx_domain::exceptions`) →
//! map. Never decides who may see or do what itself.

use std::sync::Arc;

use cosx_domain::Violations;
use cosx_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::convert::*;
use super::{authenticate, authenticate_write, valid};
use crate::coordinator::Coordinator;

/// The RepairExceptions service.
pub struct ExceptionsService(pub Arc<Coordinator>);

#[tonic::async_trait]
impl pb::repair_exceptions_server::RepairExceptions for ExceptionsService {
    async fn raise_exception(
        &self,
        request: Request<pb::RaiseExceptionRequest>,
    ) -> Result<Response<pb::RepairException>, Status> {
        let (caller, r, key) = authenticate_write(&self.0, &request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let order = resource_id(&mut v, "parent", &r.parent, "repairOrders");
        let cause = exception_cause_in(&mut v, r);
        let (order, (cause, text)) = valid(v, order.zip(cause))?;
        let raised = self.0.raise_exception(&caller, &order, cause, text, &key).await?;
        Ok(Response::new(exception_out(&raised)))
    }

    async fn answer_exception(
        &self,
        request: Request<pb::AnswerExceptionRequest>,
    ) -> Result<Response<pb::RepairException>, Status> {
        let (caller, r, key) = authenticate_write(&self.0, &request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let id = exception_name_in(&mut v, "name", &r.name);
        let answer = exception_answer_in(&mut v, r);
        let (id, answer) = valid(v, id.zip(answer))?;
        let answered = self.0.answer_exception(&caller, &id, answer, &key).await?;
        Ok(Response::new(exception_out(&answered)))
    }

    async fn list_exceptions(
        &self,
        request: Request<pb::ListExceptionsRequest>,
    ) -> Result<Response<pb::ListExceptionsResponse>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let order = resource_id(&mut v, "parent", &r.parent, "repairOrders");
        let state = optional_enum(&mut v, "state", r.state, exception_state_in);
        let order = valid(v, order)?;
        let page = self.0.list_exceptions(&caller, &order, state, r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListExceptionsResponse {
            exceptions: page.items.iter().map(exception_out).collect(),
            next_page_token: page.next_page_token,
        }))
    }
}
