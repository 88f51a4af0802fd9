//! Disruptions at a node: declaring, updating and resolving a notice are
//! checked with the coordinator's parsing and rules
//! (`cosx_domain::disruptions`, through `local`) against the replica (the
//! party's own offers name its sites; its notices count per site), stored
//! in the outbox and answered; each is forwarded once, with its request id.
//! Reading, the orders a notice strands and re-plans pass through.
//!
//! Whom a notice strands (and so who may see it besides its provider and
//! coordinators) is the coordinator's to find: it holds every party's
//! orders, the node only its own party's. A notice the node accepts
//! therefore affects no one until the coordinator answers, whose answer
//! replaces the node's. A new notice is named from its request id
//! (`records::named_by_request`), as the coordinator names it. What the
//! coordinator refuses shows in `Node.ListWrites`.
//!
//! Thin handlers: never a rule of their own.

use cosx_edge::convert::{disruption_draft_in, disruption_text_in, resource_id};

use super::*;

/// Disruptions at a node.
pub struct NodeDisruptions(pub Arc<Node>);

type DisruptionsUpstream = pb::disruptions_client::DisruptionsClient<tonic::transport::Channel>;

fn disruption_subject(v: &mut Violations, field: &str, name: &str) -> Option<String> {
    if name.is_empty() {
        v.add(field, "is required: disruptions/ID");
        return None;
    }
    resource_id(v, field, name, "disruptions").map(|id| format!("disruptions/{id}"))
}

fn of_kind<T>(views: &[View], pick: impl Fn(&Record) -> Option<&T>) -> Vec<T>
where
    T: Clone,
{
    views.iter().filter_map(|v| pick(&v.record).cloned()).collect()
}

impl NodeDisruptions {
    /// Updates (`Ok(draft)`) or resolves (`Err(resolution)`) the notice `subject`.
    #[allow(clippy::too_many_arguments)]
    async fn change(
        &self,
        subject: String,
        version: i64,
        change: Result<cosx_domain::disruptions::DisruptionDraft, String>,
        request_id: &str,
        hash: &str,
        method: Method,
        up: Vec<u8>,
    ) -> Result<pb::Disruption, Status> {
        let n = &self.0;
        let next = |notice| local::changed_disruption(&notice, &n.party, version, change, Utc::now());
        n.replace((request_id, hash), &subject, method, up, next).await
    }
}

#[tonic::async_trait]
impl pb::disruptions_server::Disruptions for NodeDisruptions {
    async fn declare_disruption(
        &self,
        request: Request<pb::DeclareDisruptionRequest>,
    ) -> Result<Response<pb::Disruption>, Status> {
        let n = &self.0;
        let (r, request_id, hash) = n.admit_write(request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let draft = disruption_draft_in(&mut v, "disruption", &n.party, &r.disruption);
        let draft = valid(v, draft)?;
        let me = n.me().await?.ok_or_else(|| {
            Status::failed_precondition("this node has not yet heard from the coordinator who its party is")
        })?;
        // The party's own offers (their sites) and notices, as the party may see them.
        let offers: Vec<pb::CapacityOffer> = of_kind(&n.visible_views(Kind::CapacityOffer).await?, |r| match r {
            Record::CapacityOffer(o) => Some(o),
            _ => None,
        });
        // Named as the coordinator will name it, from the request id that travels with it.
        let name = cosx_domain::records::named_by_request(&n.party, &request_id, new_id);
        let subject = format!("disruptions/{}.{name}", n.party);
        let up = pb::DeclareDisruptionRequest { request_id: request_id.clone(), ..r };
        let declared = n
            .write_related(&request_id, &hash, Some(&subject), Some("disruptions/"), |current, related| {
                if current.is_some() {
                    return Err(CoreError::AlreadyExists(format!("{subject} already exists")).into());
                }
                // Read under the writer lock: no other notice of the node's comes between.
                let known: Vec<pb::Disruption> = of_kind(&related, |r| match r {
                    Record::Disruption(d) => Some(d),
                    _ => None,
                });
                let id = subject.trim_start_matches("disruptions/").to_owned();
                let notice = local::declared_disruption(&me, id, draft, &offers, &known, Utc::now())?;
                Ok(Accepted::answering(Method::DeclareDisruption, &up, notice))
            })
            .await?;
        Ok(Response::new(record_as!(declared, Disruption, subject)?))
    }

    async fn update_disruption(
        &self,
        request: Request<pb::UpdateDisruptionRequest>,
    ) -> Result<Response<pb::Disruption>, Status> {
        let n = &self.0;
        let (r, request_id, hash) = n.admit_write(request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let given = r.disruption.clone().unwrap_or_default();
        let subject = disruption_subject(&mut v, "disruption.name", &given.name);
        version_in(&mut v, "disruption.version", given.version, "disruption");
        let draft = disruption_draft_in(&mut v, "disruption", &n.party, &r.disruption);
        let (subject, draft) = valid(v, subject.zip(draft))?;
        let up = pb::UpdateDisruptionRequest { request_id: request_id.clone(), ..r };
        let method = Method::UpdateDisruption;
        let updated =
            self.change(subject, given.version, Ok(draft), &request_id, &hash, method, up.encode_to_vec()).await?;
        Ok(Response::new(updated))
    }

    async fn resolve_disruption(
        &self,
        request: Request<pb::ResolveDisruptionRequest>,
    ) -> Result<Response<pb::Disruption>, Status> {
        let n = &self.0;
        let (r, request_id, hash) = n.admit_write(request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let subject = disruption_subject(&mut v, "name", &r.name);
        version_in(&mut v, "version", r.version, "disruption");
        let resolution = disruption_text_in(&mut v, "resolution", &r.resolution);
        let (subject, resolution) = valid(v, subject.zip(resolution))?;
        let up = pb::ResolveDisruptionRequest { request_id: request_id.clone(), name: subject.clone(), ..r.clone() };
        let method = Method::ResolveDisruption;
        let resolved =
            self.change(subject, r.version, Err(resolution), &request_id, &hash, method, up.encode_to_vec()).await?;
        Ok(Response::new(resolved))
    }

    async fn get_disruption(
        &self,
        request: Request<pb::GetDisruptionRequest>,
    ) -> Result<Response<pb::Disruption>, Status> {
        pass_through!(self, request, DisruptionsUpstream, get_disruption)
    }

    async fn list_disruptions(
        &self,
        request: Request<pb::ListDisruptionsRequest>,
    ) -> Result<Response<pb::ListDisruptionsResponse>, Status> {
        pass_through!(self, request, DisruptionsUpstream, list_disruptions)
    }

    async fn list_affected_orders(
        &self,
        request: Request<pb::ListAffectedOrdersRequest>,
    ) -> Result<Response<pb::ListAffectedOrdersResponse>, Status> {
        pass_through!(self, request, DisruptionsUpstream, list_affected_orders)
    }

    async fn propose_replan(
        &self,
        request: Request<pb::ProposeReplanRequest>,
    ) -> Result<Response<pb::AllocationPlan>, Status> {
        pass_through!(self, request, DisruptionsUpstream, propose_replan)
    }
}
