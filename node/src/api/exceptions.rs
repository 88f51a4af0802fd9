//! Repair exceptions at a node: raising and answering are checked with the coordinator's own parsing and rules against the replica, stored in the outbox, and answered; listing passes through.
//!
//! A raise or an answer is one write in the outbox like a lifecycle step:
//! it touches the exception and the order (one version on), so it is
//! forwarded after the node's earlier writes to that order, with its
//! request id. The node names a raised exception as the coordinator
//! numbers it (one more than the exceptions on the order the replica
//! knows); should the coordinator number it otherwise, its answer replaces
//! the node's. What the coordinator refuses shows on the order and in
//! `Node.ListWrites`, as a refused order write does.
//!
//! Thin handlers: parsing and the rules are the edge's and the domain's
//! (`cosx_domain::exceptions`, through `local`); never a rule of its own.

use cosx_edge::convert::{exception_answer_in, exception_cause_in, exception_name_in, resource_id};

use super::*;

/// Repair exceptions at a node.
pub struct NodeExceptions(pub Arc<Node>);

type ExceptionsUpstream = pb::repair_exceptions_client::RepairExceptionsClient<tonic::transport::Channel>;

/// The exceptions among `views`.
fn exceptions_of(views: Vec<View>) -> Vec<pb::RepairException> {
    views
        .into_iter()
        .filter_map(|v| match v.record {
            Record::RepairException(e) => Some(e),
            _ => None,
        })
        .collect()
}

#[tonic::async_trait]
impl pb::repair_exceptions_server::RepairExceptions for NodeExceptions {
    async fn raise_exception(
        &self,
        request: Request<pb::RaiseExceptionRequest>,
    ) -> Result<Response<pb::RepairException>, Status> {
        let n = &self.0;
        let (r, request_id, hash) = n.admit_write(request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let order = resource_id(&mut v, "parent", &r.parent, "repairOrders");
        let cause = exception_cause_in(&mut v, &r);
        let (order, (cause, text)) = valid(v, order.zip(cause))?;
        let subject = format!("repairOrders/{order}");
        let related = format!("{subject}/exceptions/");
        let up = pb::RaiseExceptionRequest { request_id: request_id.clone(), parent: subject.clone(), ..r };
        let record = n
            .write_related(&request_id, &hash, Some(&subject), Some(&related), |current, related| {
                let order = held::<pb::RepairOrder>(current, &subject)?;
                let known = exceptions_of(related);
                let (exception, next) = local::raised_exception(&order, &known, &n.party, cause, text, Utc::now())?;
                Ok(Accepted::answering(Method::RaiseException, &up, exception).also(Record::RepairOrder(next)))
            })
            .await?;
        Ok(Response::new(record_as!(record, RepairException, subject)?))
    }

    async fn answer_exception(
        &self,
        request: Request<pb::AnswerExceptionRequest>,
    ) -> Result<Response<pb::RepairException>, Status> {
        let n = &self.0;
        let (r, request_id, hash) = n.admit_write(request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let id = exception_name_in(&mut v, "name", &r.name);
        let answer = exception_answer_in(&mut v, &r);
        let (id, answer) = valid(v, id.zip(answer))?;
        let subject = format!("repairOrders/{id}");
        let order_subject = match id.split_once("/exceptions/") {
            Some((order, _)) => format!("repairOrders/{order}"),
            None => return Err(Status::not_found(subject)),
        };
        let up = pb::AnswerExceptionRequest { request_id: request_id.clone(), name: subject.clone(), ..r };
        let record = n
            .write_related(&request_id, &hash, Some(&subject), Some(&order_subject), |current, related| {
                let exception = held::<pb::RepairException>(current, &subject)?;
                let order = related
                    .into_iter()
                    .find(|v| v.record.subject() == order_subject)
                    .ok_or_else(|| Status::not_found(order_subject.clone()))?;
                let order = record_as!(order.record, RepairOrder, order_subject.clone())?;
                let (answered, next) = local::answered_exception(&order, &exception, &n.party, answer, Utc::now())?;
                Ok(Accepted::answering(Method::AnswerException, &up, answered).also(Record::RepairOrder(next)))
            })
            .await?;
        Ok(Response::new(record_as!(record, RepairException, subject)?))
    }

    async fn list_exceptions(
        &self,
        request: Request<pb::ListExceptionsRequest>,
    ) -> Result<Response<pb::ListExceptionsResponse>, Status> {
        pass_through!(self, request, ExceptionsUpstream, list_exceptions)
    }
}
