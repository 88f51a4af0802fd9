//! `cosx.v1.Comments` and `cosx.v1.UpdateRequests`: comments on the records
//! a party may see, and requests for a newer version or a missing report.
//!
//! A thin adapter: authenticate → parse (`cosx_edge::convert`) → the core
//! (`coordinator::comments`, `coordinator::update_requests`, which apply
//! `cosx_domain::comments` and `cosx_domain::update_requests`) → map.
//! Never decides who may see or do what itself.

use std::sync::Arc;

use cosx_domain::{PartyId, Violations};
use cosx_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::convert::*;
use super::{authenticate, authenticate_write};
use crate::coordinator::Coordinator;
use crate::store::RecordFilter;
use cosx_edge::request::*;

/// The Comments service.
pub struct CommentsService(pub Arc<Coordinator>);

/// The UpdateRequests service.
pub struct UpdateRequestsService(pub Arc<Coordinator>);

#[tonic::async_trait]
impl pb::comments_server::Comments for CommentsService {
    async fn add_comment(&self, request: Request<pb::AddCommentRequest>) -> Result<Response<pb::Comment>, Status> {
        let (caller, r, key) = authenticate_write(&self.0, &request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let record = comment_parent_in(&mut v, &r.parent, &r.demand_cell);
        let body = comment_content_in(&mut v, "content", &r.content);
        let (record, body) = valid(v, record.zip(body))?;
        let comment = self.0.add_comment(&caller, record, body, &key).await?;
        Ok(Response::new(comment_out(&comment)))
    }

    async fn edit_comment(&self, request: Request<pb::EditCommentRequest>) -> Result<Response<pb::Comment>, Status> {
        let (caller, r, key) = authenticate_write(&self.0, &request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let name = comment_name_in(&mut v, "name", &r.name);
        let body = comment_content_in(&mut v, "content", &r.content);
        version_in(&mut v, "version", r.version, "comment");
        let ((record, id), body) = valid(v, name.zip(body))?;
        let comment = self.0.edit_comment(&caller, &record, &id, r.version, body, &key).await?;
        Ok(Response::new(comment_out(&comment)))
    }

    async fn withdraw_comment(
        &self,
        request: Request<pb::WithdrawCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        let (caller, r, key) = authenticate_write(&self.0, &request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let name = comment_name_in(&mut v, "name", &r.name);
        version_in(&mut v, "version", r.version, "comment");
        let (record, id) = valid(v, name)?;
        let comment = self.0.withdraw_comment(&caller, &record, &id, r.version, &key).await?;
        Ok(Response::new(comment_out(&comment)))
    }

    async fn get_comment(&self, request: Request<pb::GetCommentRequest>) -> Result<Response<pb::Comment>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let mut v = Violations::new();
        let name = comment_name_in(&mut v, "name", &request.get_ref().name);
        let (record, id) = valid(v, name)?;
        Ok(Response::new(comment_out(&self.0.get_comment(&caller, &record, &id).await?)))
    }

    async fn list_comments(
        &self,
        request: Request<pb::ListCommentsRequest>,
    ) -> Result<Response<pb::ListCommentsResponse>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let listing = comment_listing_in(&mut v, &r.parent, &r.demand_cell);
        let listing = valid(v, listing)?;
        let page = self.0.list_comments(&caller, &listing, r.include_withdrawn, r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListCommentsResponse {
            comments: page.items.iter().map(comment_out).collect(),
            next_page_token: page.next_page_token,
        }))
    }
}

fn update_request_id_in(name: &str) -> Result<String, Status> {
    let mut v = Violations::new();
    let id = resource_id(&mut v, "name", name, "updateRequests");
    valid(v, id)
}

#[tonic::async_trait]
impl pb::update_requests_server::UpdateRequests for UpdateRequestsService {
    async fn request_update(
        &self,
        request: Request<pb::RequestUpdateRequest>,
    ) -> Result<Response<pb::UpdateRequest>, Status> {
        let (caller, r, key) = authenticate_write(&self.0, &request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let asked = update_ask_in(&mut v, &r.record, &r.missing_report, &r.text);
        let (ask, text) = valid(v, asked)?;
        let done = self.0.request_update(&caller, ask, text, &key).await?;
        Ok(Response::new(update_request_out(&done)))
    }

    async fn get_update_request(
        &self,
        request: Request<pb::GetUpdateRequestRequest>,
    ) -> Result<Response<pb::UpdateRequest>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let id = update_request_id_in(&request.get_ref().name)?;
        Ok(Response::new(update_request_out(&self.0.get_update_request(&caller, &id).await?)))
    }

    async fn list_update_requests(
        &self,
        request: Request<pb::ListUpdateRequestsRequest>,
    ) -> Result<Response<pb::ListUpdateRequestsResponse>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let state = optional_enum(&mut v, "state", r.state, update_request_state_in);
        let party = |v: &mut Violations, field: &str, s: &str| {
            if s.is_empty() { None } else { v.check(field, PartyId::parse(s)).map(|p| p.to_string()) }
        };
        let addressee = party(&mut v, "addressee", &r.addressee);
        let requester = party(&mut v, "requester", &r.requester);
        valid(v, Some(()))?;
        let filter = RecordFilter {
            state: state.map(|s| s.as_str().to_owned()),
            owner: requester,
            provider: addressee,
            ..RecordFilter::default()
        };
        let page = self.0.list_update_requests(&caller, &filter, r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListUpdateRequestsResponse {
            update_requests: page.items.iter().map(update_request_out).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn answer_update_request(
        &self,
        request: Request<pb::AnswerUpdateRequestRequest>,
    ) -> Result<Response<pb::UpdateRequest>, Status> {
        let (caller, r, key) = authenticate_write(&self.0, &request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let id = resource_id(&mut v, "name", &r.name, "updateRequests");
        let answer = v.check("answer", cosx_domain::comments::parse_text(&r.answer));
        version_in(&mut v, "version", r.version, "request");
        let (id, answer) = valid(v, id.zip(answer))?;
        let done = self.0.answer_update_request(&caller, &id, r.version, answer, &key).await?;
        Ok(Response::new(update_request_out(&done)))
    }

    async fn withdraw_update_request(
        &self,
        request: Request<pb::WithdrawUpdateRequestRequest>,
    ) -> Result<Response<pb::UpdateRequest>, Status> {
        let (caller, r, key) = authenticate_write(&self.0, &request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let id = resource_id(&mut v, "name", &r.name, "updateRequests");
        version_in(&mut v, "version", r.version, "request");
        let id = valid(v, id)?;
        let done = self.0.withdraw_update_request(&caller, &id, r.version, &key).await?;
        Ok(Response::new(update_request_out(&done)))
    }
}
