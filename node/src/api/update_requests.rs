//! Requests for update at a node: asking a record's owner for a newer
//! version, answering a request and withdrawing one are checked with the
//! coordinator's parsing and rules (`cosx_domain::update_requests`, through
//! `local`) against the replica, stored in the outbox and answered; each is
//! forwarded once, with its request id. Reading passes through.
//!
//! A request about a record first reads the record from the replica as the
//! party may see it (NOT_FOUND otherwise, as at the coordinator, and
//! nothing is queued); its owner and version are the replica's. A
//! coordinating office's request for a party's missing report passes
//! through (UNAVAILABLE while the link is down): whether the report has
//! arrived is judged on every report of that party, which only the
//! coordinator is sure to hold; anyone else is refused at the node by the
//! same rule as there. A new request is named from its request id
//! (`records::named_by_request`), as the coordinator names it. What the
//! coordinator refuses shows in `Node.ListWrites` (and, for a new request,
//! on the record it was ordered after).
//!
//! Thin handlers: never a rule of their own.

use cosx_domain::update_requests::{UpdateAsk, UpdateRequestError};
use cosx_edge::convert::{resource_id, update_ask_in};
use cosx_edge::error::update_request_error;

use super::*;

/// Requests for update at a node.
pub struct NodeUpdateRequests(pub Arc<Node>);

type UpdateRequestsUpstream = pb::update_requests_client::UpdateRequestsClient<tonic::transport::Channel>;

/// A record's owner and version, as the replica holds it.
fn owner_and_version(record: &Record) -> Option<(&str, i64)> {
    match record {
        Record::RepairOrder(o) => Some((&o.originator, o.version)),
        Record::CapacityOffer(o) => Some((&o.provider, o.version)),
        Record::AvailabilityReport(r) => Some((&r.reporter, r.version)),
        _ => None,
    }
}

impl NodeUpdateRequests {
    /// Answers (`Some(answer)`) or withdraws (`None`) the request `name`.
    #[allow(clippy::too_many_arguments)]
    async fn close(
        &self,
        name: &str,
        version: i64,
        answer: Option<String>,
        request_id: &str,
        hash: &str,
        method: Method,
        up: Vec<u8>,
    ) -> Result<pb::UpdateRequest, Status> {
        let n = &self.0;
        let mut v = Violations::new();
        let id = resource_id(&mut v, "name", name, "updateRequests");
        let subject = format!("updateRequests/{}", valid(v, id)?);
        let coordinator = n.is_coordinator().await?;
        let next = |request| local::closed_update_request(&request, &n.party, coordinator, version, answer, Utc::now());
        n.replace((request_id, hash), &subject, method, up, next).await
    }
}

#[tonic::async_trait]
impl pb::update_requests_server::UpdateRequests for NodeUpdateRequests {
    async fn request_update(
        &self,
        request: Request<pb::RequestUpdateRequest>,
    ) -> Result<Response<pb::UpdateRequest>, Status> {
        let n = &self.0;
        n.authenticate(&request)?;
        let r = request.get_ref().clone();
        let mut v = Violations::new();
        let asked = update_ask_in(&mut v, &r.record, &r.missing_report, &r.text);
        let (ask, text) = valid(v, asked)?;
        let record = match ask {
            UpdateAsk::Record(record) => record,
            UpdateAsk::MissingReport { .. } => {
                if !n.is_coordinator().await? {
                    return Err(update_request_error("missing_report", UpdateRequestError::NotACoordinator).into());
                }
                return pass_through!(self, request, UpdateRequestsUpstream, request_update);
            }
        };
        let (request_id, hash) = n.travelling_key(&r.request_id, &r)?;
        let name = record.name();
        let held = n.view(name.clone()).await.map_err(|_| missing(&name))?;
        let (owner, version) = owner_and_version(&held.record).ok_or_else(|| missing(&name))?;
        let owner = PartyId::parse(owner).map_err(|e| Status::failed_precondition(format!("{name}: owner {e}")))?;
        // Named as the coordinator will name it, from the request id that travels with it.
        let id = cosx_domain::records::named_by_request(&n.party, &request_id, new_id);
        let asked = local::requested_update(id, &n.party, owner, record.clone(), version, text, Utc::now())?;
        let subject = asked.name.clone();
        let up = pb::RequestUpdateRequest { request_id: request_id.clone(), ..r };
        let ordered_by = after_writes_to(&record);
        let done = n
            .create((&request_id, &hash), &subject, Method::RequestUpdate, up.encode_to_vec(), asked, ordered_by)
            .await?;
        Ok(Response::new(done))
    }

    async fn get_update_request(
        &self,
        request: Request<pb::GetUpdateRequestRequest>,
    ) -> Result<Response<pb::UpdateRequest>, Status> {
        pass_through!(self, request, UpdateRequestsUpstream, get_update_request)
    }

    async fn list_update_requests(
        &self,
        request: Request<pb::ListUpdateRequestsRequest>,
    ) -> Result<Response<pb::ListUpdateRequestsResponse>, Status> {
        pass_through!(self, request, UpdateRequestsUpstream, list_update_requests)
    }

    async fn answer_update_request(
        &self,
        request: Request<pb::AnswerUpdateRequestRequest>,
    ) -> Result<Response<pb::UpdateRequest>, Status> {
        let n = &self.0;
        let (r, request_id, hash) = n.admit_write(request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let answer = v.check("answer", cosx_domain::comments::parse_text(&r.answer));
        version_in(&mut v, "version", r.version, "request");
        let answer = valid(v, answer)?;
        let up = pb::AnswerUpdateRequestRequest { request_id: request_id.clone(), ..r.clone() };
        let method = Method::AnswerUpdateRequest;
        let done = self.close(&r.name, r.version, Some(answer), &request_id, &hash, method, up.encode_to_vec()).await?;
        Ok(Response::new(done))
    }

    async fn withdraw_update_request(
        &self,
        request: Request<pb::WithdrawUpdateRequestRequest>,
    ) -> Result<Response<pb::UpdateRequest>, Status> {
        let n = &self.0;
        let (r, request_id, hash) = n.admit_write(request, |r| &r.request_id)?;
        let mut v = Violations::new();
        version_in(&mut v, "version", r.version, "request");
        valid(v, Some(()))?;
        let up = pb::WithdrawUpdateRequestRequest { request_id: request_id.clone(), ..r.clone() };
        let method = Method::WithdrawUpdateRequest;
        let done = self.close(&r.name, r.version, None, &request_id, &hash, method, up.encode_to_vec()).await?;
        Ok(Response::new(done))
    }
}
