//! The node's gRPC surface: the same `cosx.v1` services as the coordinator,
//! for the party's own systems. Writes are checked with the coordinator's
//! own parsing and lifecycle rules, stored in the outbox and the replica,
//! and answered before the coordinator hears of them; reads come from the
//! replica and say how fresh it is in response metadata (`cosx-synced-sequence`,
//! `cosx-synced-at`, `cosx-upstream`); signals, allocation and registry
//! changes are the coordinator's to answer and pass straight through.

use std::sync::Arc;

use chrono::Utc;
use cosx_domain::visibility::may_see;
use cosx_domain::{Nation, Party, PartyId, Releasability, Violations};
use cosx_proto::v1 as pb;
use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status, Streaming};

use super::local;
use super::store::{Accepted, Kind, Method, NodeStore, Record, View, WriteState};
use super::upstream::Upstream;
use cosx_edge::CoreError;
use cosx_edge::convert::{party_in, timestamp};
use cosx_edge::request::{create_key, request_key, valid};
use cosx_edge::request::{id_of, ingest_result, offer_draft, order_draft, report_draft, step_in};

/// What every node service shares.
pub struct Node {
    /// The outbox and replica.
    pub store: Arc<NodeStore>,
    /// The link to the coordinator.
    pub upstream: Arc<Upstream>,
    /// The party the node acts for.
    pub party: PartyId,
    /// SPIFFE trust domain of identities.
    pub trust_domain: String,
}

fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

fn bad_message(_: prost::DecodeError) -> Status {
    Status::internal("the node could not read back what it stored")
}

impl Node {
    /// Admits only the node's own party: its systems hold certificates
    /// issued for it.
    fn authenticate<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let certs = request.peer_certs();
        let leaf = certs.as_ref().and_then(|c| c.first()).map(|c| c.as_ref());
        let leaf = leaf.ok_or_else(|| Status::unauthenticated("a client certificate is required"))?;
        let id = cosx_certs::party_id_from_cert(leaf, &self.trust_domain)
            .map_err(|e| Status::unauthenticated(e.to_string()))?;
        if id != self.party.as_str() {
            return Err(Status::permission_denied(format!(
                "this node serves party {}; {id} must use its own node or the coordinator",
                self.party
            )));
        }
        tracing::Span::current().record("party", id.as_str());
        Ok(())
    }

    /// Whether the node's party is a coordinating office (from the replica).
    async fn is_coordinator(&self) -> Result<bool, Status> {
        let view = self.store.view(&format!("parties/{}", self.party)).await?;
        Ok(matches!(view.map(|v| v.record), Some(Record::Party(p)) if p.kind == pb::PartyKind::Coordinator as i32))
    }

    /// A read's answer, with how fresh the replica is.
    async fn fresh<T>(&self, body: T) -> Result<Response<T>, Status> {
        let sync = self.store.sync_point().await?;
        let (connected, _) = self.upstream.health();
        let mut response = Response::new(body);
        let meta = response.metadata_mut();
        meta.insert("cosx-synced-sequence", MetadataValue::from(sync.cursor));
        if let Some(at) = sync.last_sync_time
            && let Ok(v) = MetadataValue::try_from(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        {
            meta.insert("cosx-synced-at", v);
        }
        meta.insert("cosx-upstream", MetadataValue::from_static(if connected { "connected" } else { "disconnected" }));
        Ok(response)
    }

    /// The request id that travels upstream (the caller's, or a new one) and
    /// the hash a repeat must match.
    fn travelling_key<M: Message>(&self, request_id: &str, payload: &M) -> Result<(String, String), Status> {
        let key = request_key(request_id, payload)?;
        Ok((self.travelling_request_id(request_id), key.payload_hash))
    }

    fn travelling_request_id(&self, request_id: &str) -> String {
        if request_id.is_empty() { format!("node-{}", new_id()) } else { request_id.to_owned() }
    }

    /// As [`Self::travelling_key`] for a create, with the id of the record
    /// it creates: the caller's choice in the party's namespace (as the
    /// coordinator names it), or a fresh one there.
    fn creating_key<M: Message>(
        &self,
        request_id: &str,
        payload: &M,
        field: &str,
        chosen: &str,
    ) -> Result<(String, String, String), Status> {
        let key = create_key(&self.party, request_id, payload, field, chosen)?;
        let id = match key.new_id {
            Some(id) => id,
            None => cosx_domain::records::owned_record_id(&self.party, &new_id()).map_err(Status::internal)?,
        };
        Ok((self.travelling_request_id(request_id), key.payload_hash, id))
    }

    /// Stores a write and answers it with its record as the node now has it.
    async fn write<F>(&self, request_id: &str, hash: &str, subject: Option<&str>, build: F) -> Result<Record, Status>
    where
        F: FnOnce(Option<View>) -> Result<Accepted, Status>,
    {
        let me = self.me().await?;
        let (method, bytes) = self
            .store
            .accept(request_id, hash, subject, |current| build(current.filter(|v| sees(me.as_ref(), &v.record))))
            .await?;
        let record = decode_answer(method, &bytes)?;
        let view = self.store.view(record.subject()).await?;
        Ok(match view {
            Some(v) => View { record, ..v }.with_sync(),
            None => record,
        })
    }

    /// Refuses a draft that names another party in `field` than the node's.
    fn acts_as(&self, field: &str, who: &PartyId) -> Result<(), Status> {
        if who == &self.party {
            return Ok(());
        }
        Err(CoreError::PermissionDenied(format!("{field}: this node acts for {}, not {who}", self.party)).into())
    }

    /// Stores a write that creates `record` under `subject` (a name already
    /// taken in the party's namespace is ALREADY_EXISTS, as the coordinator
    /// answers it) and answers with the record as the node now has it.
    async fn create(
        &self,
        key: (&str, &str),
        subject: &str,
        method: Method,
        upstream_request: Vec<u8>,
        record: Record,
        ordered_by: Vec<String>,
    ) -> Result<Record, Status> {
        let (request_id, hash) = key;
        self.write(request_id, hash, Some(subject), |current| {
            if current.is_some() {
                return Err(CoreError::AlreadyExists(format!("{subject} already exists")).into());
            }
            Ok(Accepted {
                method,
                request: upstream_request,
                response: record.encode(),
                records: vec![record],
                ordered_by,
            })
        })
        .await
    }

    async fn view(&self, subject: String) -> Result<View, Status> {
        let me = self.me().await?;
        self.store
            .view(&subject)
            .await?
            .filter(|v| sees(me.as_ref(), &v.record))
            .ok_or_else(|| Status::not_found(subject))
    }

    /// The node's party as the replica knows it (none before the first sync).
    async fn me(&self) -> Result<Option<Party>, Status> {
        let view = self.store.view(&format!("parties/{}", self.party)).await?;
        Ok(match view.map(|v| v.record) {
            Some(Record::Party(p)) => party_in(&mut Violations::new(), &Some(p)),
            _ => None,
        })
    }

    /// Every record of `kind` in the replica that the party may see now.
    async fn visible_views(&self, kind: Kind) -> Result<Vec<View>, Status> {
        let me = self.me().await?;
        Ok(self.store.views(kind).await?.into_iter().filter(|v| sees(me.as_ref(), &v.record)).collect())
    }
}

/// The record a stored answer holds, given the method that made it.
fn decode_answer(method: Method, bytes: &[u8]) -> Result<Record, Status> {
    Ok(match method {
        Method::CreateRepairOrder | Method::TransitionRepairOrder | Method::SplitRepairOrder => {
            Record::RepairOrder(pb::RepairOrder::decode(bytes).map_err(bad_message)?)
        }
        Method::CreateCapacityOffer | Method::UpdateCapacityOffer | Method::WithdrawCapacityOffer => {
            Record::CapacityOffer(pb::CapacityOffer::decode(bytes).map_err(bad_message)?)
        }
        Method::SubmitAvailabilityReport => {
            Record::AvailabilityReport(pb::AvailabilityReport::decode(bytes).map_err(bad_message)?)
        }
        Method::SetAvailabilityTarget => {
            Record::AvailabilityTarget(pb::AvailabilityTarget::decode(bytes).map_err(bad_message)?)
        }
    })
}

macro_rules! record_as {
    ($record:expr, $variant:ident, $subject:expr) => {
        match $record {
            Record::$variant(r) => Ok(r),
            _ => Err(Status::not_found($subject)),
        }
    };
}

/// The page size to serve, as the coordinator decides it.
fn page_size_of(requested: i32) -> Result<u32, Status> {
    cosx_domain::limits::page_size(requested).map_err(|why| {
        let mut v = cosx_domain::Violations::new();
        v.add("page_size", why);
        Status::from(CoreError::Invalid(v))
    })
}

/// Whether `me` may see `record` as the replica holds it: the coordinator's
/// rule (`may_see`) on the record's owner, provider and releasability, so a
/// record the party lost sight of (an order it declined) is NOT_FOUND here
/// as it is at the coordinator. Before the first sync (`me` unknown) the
/// replica holds only what the feed gave the party, all of it visible.
fn sees(me: Option<&Party>, record: &Record) -> bool {
    let Some(me) = me else { return true };
    let id = |s: &str| PartyId::parse(s).ok();
    let released = |r: &Option<pb::Releasability>| Releasability {
        parties: r.iter().flat_map(|r| r.party_ids.iter()).filter_map(|p| id(p)).collect(),
        nations: r.iter().flat_map(|r| r.nations.iter()).filter_map(|n| Nation::parse(n).ok()).collect(),
    };
    let check = |owner: &str, provider: &str, r: &Option<pb::Releasability>| match id(owner) {
        Some(owner) => may_see(me, &owner, id(provider).as_ref(), &released(r)),
        None => false,
    };
    match record {
        Record::RepairOrder(o) => {
            check(&o.originator, &o.provider, &o.controls.as_ref().and_then(|c| c.releasability.clone()))
        }
        Record::CapacityOffer(o) => check(&o.provider, "", &o.releasability),
        Record::AvailabilityReport(r) => check(&r.reporter, "", &r.releasability),
        Record::AvailabilityTarget(t) => check(&t.owner, "", &None),
        Record::Party(_) => true,
    }
}

/// Pages through a filtered list; the token is the offset.
fn page<T>(items: Vec<T>, page_size: i32, token: &str) -> Result<(Vec<T>, String), Status> {
    let size = page_size_of(page_size)? as usize;
    let start: usize = if token.is_empty() {
        0
    } else {
        token.parse().map_err(|_| {
            let mut v = cosx_domain::Violations::new();
            v.add("page_token", "is not a token this node issued");
            Status::from(CoreError::Invalid(v))
        })?
    };
    let total = items.len();
    let items: Vec<T> = items.into_iter().skip(start).take(size).collect();
    let next = if start + items.len() < total { (start + items.len()).to_string() } else { String::new() };
    Ok((items, next))
}

/// The Exchange service at a node.
pub struct NodeExchange(pub Arc<Node>);

impl NodeExchange {
    async fn create_order(&self, r: pb::CreateRepairOrderRequest) -> Result<pb::RepairOrder, Status> {
        let n = &self.0;
        let draft = order_draft(&r.repair_order)?;
        n.acts_as("repair_order.originator", &draft.originator)?;
        let (request_id, hash, id) = n.creating_key(
            &r.request_id,
            &r.repair_order.clone().unwrap_or_default(),
            "repair_order_id",
            &r.repair_order_id,
        )?;
        let subject = format!("repairOrders/{id}");
        let order = local::created_order(&id, draft, Utc::now());
        let up = pb::CreateRepairOrderRequest { request_id: request_id.clone(), repair_order_id: id, ..r };
        let key = (request_id.as_str(), hash.as_str());
        let record = Record::RepairOrder(order);
        let record = n.create(key, &subject, Method::CreateRepairOrder, up.encode_to_vec(), record, vec![]).await?;
        record_as!(record, RepairOrder, "repair order")
    }

    async fn create_offer(&self, r: pb::CreateCapacityOfferRequest) -> Result<pb::CapacityOffer, Status> {
        let n = &self.0;
        let draft = offer_draft(&r.capacity_offer)?;
        n.acts_as("capacity_offer.provider", &draft.provider)?;
        let (request_id, hash, id) = n.creating_key(
            &r.request_id,
            &r.capacity_offer.clone().unwrap_or_default(),
            "capacity_offer_id",
            &r.capacity_offer_id,
        )?;
        let subject = format!("capacityOffers/{id}");
        let offer = local::created_offer(&id, draft, Utc::now());
        let up = pb::CreateCapacityOfferRequest { request_id: request_id.clone(), capacity_offer_id: id, ..r };
        let key = (request_id.as_str(), hash.as_str());
        let record = Record::CapacityOffer(offer);
        let record = n.create(key, &subject, Method::CreateCapacityOffer, up.encode_to_vec(), record, vec![]).await?;
        record_as!(record, CapacityOffer, "capacity offer")
    }

    async fn submit_report(&self, r: pb::SubmitAvailabilityReportRequest) -> Result<pb::AvailabilityReport, Status> {
        let n = &self.0;
        let draft = report_draft(&r.availability_report)?;
        n.acts_as("availability_report.reporter", &draft.reporter)?;
        let (request_id, hash, id) = n.creating_key(
            &r.request_id,
            &r.availability_report.clone().unwrap_or_default(),
            "availability_report_id",
            &r.availability_report_id,
        )?;
        let subject = format!("availabilityReports/{id}");
        let report = local::submitted_report(&id, draft, Utc::now());
        let up =
            pb::SubmitAvailabilityReportRequest { request_id: request_id.clone(), availability_report_id: id, ..r };
        let key = (request_id.as_str(), hash.as_str());
        let record = Record::AvailabilityReport(report);
        // Reports are ordered among themselves (a later one supersedes).
        let ordered_by = vec!["availabilityReports".to_owned()];
        let method = Method::SubmitAvailabilityReport;
        let record = n.create(key, &subject, method, up.encode_to_vec(), record, ordered_by).await?;
        record_as!(record, AvailabilityReport, "availability report")
    }
}

#[tonic::async_trait]
impl pb::exchange_server::Exchange for NodeExchange {
    async fn create_repair_order(
        &self,
        request: Request<pb::CreateRepairOrderRequest>,
    ) -> Result<Response<pb::RepairOrder>, Status> {
        self.0.authenticate(&request)?;
        self.create_order(request.into_inner()).await.map(Response::new)
    }

    async fn get_repair_order(
        &self,
        request: Request<pb::GetRepairOrderRequest>,
    ) -> Result<Response<pb::RepairOrder>, Status> {
        self.0.authenticate(&request)?;
        let subject = format!("repairOrders/{}", id_of(&request.get_ref().name, "repairOrders")?);
        let record = self.0.view(subject.clone()).await?.with_sync();
        self.0.fresh(record_as!(record, RepairOrder, subject)?).await
    }

    async fn list_repair_orders(
        &self,
        request: Request<pb::ListRepairOrdersRequest>,
    ) -> Result<Response<pb::ListRepairOrdersResponse>, Status> {
        self.0.authenticate(&request)?;
        let r = request.into_inner();
        let orders: Vec<pb::RepairOrder> = self
            .0
            .visible_views(Kind::RepairOrder)
            .await?
            .iter()
            .filter_map(|v| match v.with_sync() {
                Record::RepairOrder(o) => Some(o),
                _ => None,
            })
            .filter(|o| {
                (r.state == 0 || o.state == r.state)
                    && (r.tms.is_empty() || o.tms == r.tms)
                    && (r.originator.is_empty() || o.originator == r.originator)
                    && (r.provider.is_empty() || o.provider == r.provider)
                    && (r.region == 0 || o.location.as_ref().is_some_and(|l| l.region == r.region))
            })
            .collect();
        let (repair_orders, next_page_token) = page(orders, r.page_size, &r.page_token)?;
        self.0.fresh(pb::ListRepairOrdersResponse { repair_orders, next_page_token }).await
    }

    async fn transition_repair_order(
        &self,
        request: Request<pb::TransitionRepairOrderRequest>,
    ) -> Result<Response<pb::RepairOrder>, Status> {
        let n = &self.0;
        n.authenticate(&request)?;
        let r = request.into_inner();
        let step = step_in(&r)?;
        let subject = format!("repairOrders/{}", step.id);
        let (request_id, hash) = n.travelling_key(&r.request_id, &r)?;
        let coordinator = n.is_coordinator().await?;
        let up =
            pb::TransitionRepairOrderRequest { request_id: request_id.clone(), name: subject.clone(), ..r.clone() };
        let record = n
            .write(&request_id, &hash, Some(&subject), |current| {
                let order = record_as!(
                    current.ok_or_else(|| Status::not_found(subject.clone()))?.record,
                    RepairOrder,
                    subject.clone()
                )?;
                let next = local::transitioned(
                    &order,
                    &n.party,
                    coordinator,
                    r.version,
                    &step.action,
                    &step.progress,
                    Utc::now(),
                )?;
                Ok(Accepted {
                    method: Method::TransitionRepairOrder,
                    request: up.encode_to_vec(),
                    response: next.encode_to_vec(),
                    records: vec![Record::RepairOrder(next)],
                    ordered_by: vec![],
                })
            })
            .await?;
        Ok(Response::new(record_as!(record, RepairOrder, subject)?))
    }

    async fn split_repair_order(
        &self,
        request: Request<pb::SplitRepairOrderRequest>,
    ) -> Result<Response<pb::SplitRepairOrderResponse>, Status> {
        let n = &self.0;
        n.authenticate(&request)?;
        let r = request.into_inner();
        let subject = format!("repairOrders/{}", id_of(&r.name, "repairOrders")?);
        let (request_id, hash) = n.travelling_key(&r.request_id, &r)?;
        let coordinator = n.is_coordinator().await?;
        let up = pb::SplitRepairOrderRequest { request_id: request_id.clone(), name: subject.clone(), ..r.clone() };
        let record = n
            .write(&request_id, &hash, Some(&subject), |current| {
                let order = record_as!(
                    current.ok_or_else(|| Status::not_found(subject.clone()))?.record,
                    RepairOrder,
                    subject.clone()
                )?;
                let (parent, parts) =
                    local::split(&order, &n.party, coordinator, r.version, &r.quantities, Utc::now())?;
                let mut records = vec![Record::RepairOrder(parent.clone())];
                records.extend(parts.iter().cloned().map(Record::RepairOrder));
                Ok(Accepted {
                    method: Method::SplitRepairOrder,
                    request: up.encode_to_vec(),
                    response: parent.encode_to_vec(),
                    records,
                    ordered_by: vec![],
                })
            })
            .await?;
        let parent = record_as!(record, RepairOrder, subject.clone())?;
        let mut parts = Vec::new();
        for i in 1..=r.quantities.len() {
            let part = n.view(format!("{subject}-{i}")).await?.with_sync();
            parts.push(record_as!(part, RepairOrder, subject.clone())?);
        }
        Ok(Response::new(pb::SplitRepairOrderResponse { parent: Some(parent), parts }))
    }

    async fn get_repair_order_history(
        &self,
        request: Request<pb::GetRepairOrderHistoryRequest>,
    ) -> Result<Response<pb::GetRepairOrderHistoryResponse>, Status> {
        self.0.authenticate(&request)?;
        let subject = format!("repairOrders/{}", id_of(&request.get_ref().name, "repairOrders")?);
        self.0.view(subject.clone()).await?;
        let transitions = self.0.store.events_about(&subject).await?.into_iter().filter_map(|e| e.transition).collect();
        self.0.fresh(pb::GetRepairOrderHistoryResponse { transitions }).await
    }

    async fn create_capacity_offer(
        &self,
        request: Request<pb::CreateCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        self.0.authenticate(&request)?;
        self.create_offer(request.into_inner()).await.map(Response::new)
    }

    async fn get_capacity_offer(
        &self,
        request: Request<pb::GetCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        self.0.authenticate(&request)?;
        let subject = format!("capacityOffers/{}", id_of(&request.get_ref().name, "capacityOffers")?);
        let record = self.0.view(subject.clone()).await?.with_sync();
        self.0.fresh(record_as!(record, CapacityOffer, subject)?).await
    }

    async fn list_capacity_offers(
        &self,
        request: Request<pb::ListCapacityOffersRequest>,
    ) -> Result<Response<pb::ListCapacityOffersResponse>, Status> {
        self.0.authenticate(&request)?;
        let r = request.into_inner();
        let offers: Vec<pb::CapacityOffer> = self
            .0
            .visible_views(Kind::CapacityOffer)
            .await?
            .iter()
            .filter_map(|v| match v.with_sync() {
                Record::CapacityOffer(o) => Some(o),
                _ => None,
            })
            .filter(|o| {
                (r.state == 0 || o.state == r.state)
                    && (r.provider.is_empty() || o.provider == r.provider)
                    && (r.tms.is_empty() || o.capabilities.iter().any(|c| c.tms == r.tms))
                    && (r.region == 0 || o.site.as_ref().is_some_and(|s| s.region == r.region))
            })
            .collect();
        let (capacity_offers, next_page_token) = page(offers, r.page_size, &r.page_token)?;
        self.0.fresh(pb::ListCapacityOffersResponse { capacity_offers, next_page_token }).await
    }

    async fn update_capacity_offer(
        &self,
        request: Request<pb::UpdateCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        let n = &self.0;
        n.authenticate(&request)?;
        let r = request.into_inner();
        let mut v = cosx_domain::Violations::new();
        let name = r.capacity_offer.as_ref().map(|o| o.name.clone()).unwrap_or_default();
        let id = cosx_edge::convert::resource_id(&mut v, "capacity_offer.name", &name, "capacityOffers");
        let version = r.capacity_offer.as_ref().map_or(0, |o| o.version);
        if version <= 0 {
            v.add("capacity_offer.version", "is required: the version of the offer you last read");
        }
        let draft = cosx_edge::convert::capacity_offer_in(&mut v, "capacity_offer", &r.capacity_offer);
        let (id, draft) = valid(v, id.zip(draft))?;
        let subject = format!("capacityOffers/{id}");
        let (request_id, hash) = n.travelling_key(&r.request_id, &r)?;
        let up = pb::UpdateCapacityOfferRequest { request_id: request_id.clone(), ..r };
        let record = n
            .write(&request_id, &hash, Some(&subject), |current| {
                let offer = record_as!(
                    current.ok_or_else(|| Status::not_found(subject.clone()))?.record,
                    CapacityOffer,
                    subject.clone()
                )?;
                let next = local::updated_offer(&offer, &n.party, draft, version, Utc::now())?;
                Ok(Accepted {
                    method: Method::UpdateCapacityOffer,
                    request: up.encode_to_vec(),
                    response: next.encode_to_vec(),
                    records: vec![Record::CapacityOffer(next)],
                    ordered_by: vec![],
                })
            })
            .await?;
        Ok(Response::new(record_as!(record, CapacityOffer, subject)?))
    }

    async fn withdraw_capacity_offer(
        &self,
        request: Request<pb::WithdrawCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        let n = &self.0;
        n.authenticate(&request)?;
        let r = request.into_inner();
        let subject = format!("capacityOffers/{}", id_of(&r.name, "capacityOffers")?);
        let (request_id, hash) = n.travelling_key(&r.request_id, &r)?;
        let up =
            pb::WithdrawCapacityOfferRequest { request_id: request_id.clone(), name: subject.clone(), ..r.clone() };
        let record = n
            .write(&request_id, &hash, Some(&subject), |current| {
                let offer = record_as!(
                    current.ok_or_else(|| Status::not_found(subject.clone()))?.record,
                    CapacityOffer,
                    subject.clone()
                )?;
                let next = local::withdrawn_offer(&offer, &n.party, r.version, Utc::now())?;
                Ok(Accepted {
                    method: Method::WithdrawCapacityOffer,
                    request: up.encode_to_vec(),
                    response: next.encode_to_vec(),
                    records: vec![Record::CapacityOffer(next)],
                    ordered_by: vec![],
                })
            })
            .await?;
        Ok(Response::new(record_as!(record, CapacityOffer, subject)?))
    }

    async fn submit_availability_report(
        &self,
        request: Request<pb::SubmitAvailabilityReportRequest>,
    ) -> Result<Response<pb::AvailabilityReport>, Status> {
        self.0.authenticate(&request)?;
        self.submit_report(request.into_inner()).await.map(Response::new)
    }

    async fn get_availability_report(
        &self,
        request: Request<pb::GetAvailabilityReportRequest>,
    ) -> Result<Response<pb::AvailabilityReport>, Status> {
        self.0.authenticate(&request)?;
        let subject = format!("availabilityReports/{}", id_of(&request.get_ref().name, "availabilityReports")?);
        let record = self.0.view(subject.clone()).await?.with_sync();
        self.0.fresh(record_as!(record, AvailabilityReport, subject)?).await
    }

    async fn list_availability_reports(
        &self,
        request: Request<pb::ListAvailabilityReportsRequest>,
    ) -> Result<Response<pb::ListAvailabilityReportsResponse>, Status> {
        self.0.authenticate(&request)?;
        let r = request.into_inner();
        let reports: Vec<pb::AvailabilityReport> = self
            .0
            .visible_views(Kind::AvailabilityReport)
            .await?
            .iter()
            .filter(|v| r.include_superseded || !v.superseded)
            .filter_map(|v| match v.with_sync() {
                Record::AvailabilityReport(o) => Some(o),
                _ => None,
            })
            .filter(|o| (r.reporter.is_empty() || o.reporter == r.reporter) && (r.tms.is_empty() || o.tms == r.tms))
            .collect();
        let (availability_reports, next_page_token) = page(reports, r.page_size, &r.page_token)?;
        self.0.fresh(pb::ListAvailabilityReportsResponse { availability_reports, next_page_token }).await
    }

    async fn set_availability_target(
        &self,
        request: Request<pb::SetAvailabilityTargetRequest>,
    ) -> Result<Response<pb::AvailabilityTarget>, Status> {
        let n = &self.0;
        n.authenticate(&request)?;
        let r = request.into_inner();
        let mut v = cosx_domain::Violations::new();
        let draft = cosx_edge::convert::availability_target_in(&mut v, &r.target);
        let draft = valid(v, draft)?;
        n.acts_as("target.owner", &draft.owner)?;
        let (request_id, hash, id) = n.creating_key(
            &r.request_id,
            &r.target.clone().unwrap_or_default(),
            "availability_target_id",
            &r.availability_target_id,
        )?;
        let target = local::set_target(&id, draft, Utc::now());
        let up = pb::SetAvailabilityTargetRequest { request_id: request_id.clone(), availability_target_id: id, ..r };
        let record = n
            .write(&request_id, &hash, None, |_| {
                Ok(Accepted {
                    method: Method::SetAvailabilityTarget,
                    request: up.encode_to_vec(),
                    response: target.encode_to_vec(),
                    records: vec![Record::AvailabilityTarget(target.clone())],
                    ordered_by: vec!["availabilityTargets".into()],
                })
            })
            .await?;
        Ok(Response::new(record_as!(record, AvailabilityTarget, "availability target")?))
    }

    async fn list_availability_targets(
        &self,
        request: Request<pb::ListAvailabilityTargetsRequest>,
    ) -> Result<Response<pb::ListAvailabilityTargetsResponse>, Status> {
        self.0.authenticate(&request)?;
        let r = request.into_inner();
        // The current target per owner and TMS: the latest set.
        let mut current: std::collections::BTreeMap<(String, String), pb::AvailabilityTarget> = Default::default();
        for view in self.0.store.views(Kind::AvailabilityTarget).await? {
            if let Record::AvailabilityTarget(t) = view.with_sync()
                && (r.owner.is_empty() || t.owner == r.owner)
                && (r.tms.is_empty() || t.tms == r.tms)
            {
                current.insert((t.owner.clone(), t.tms.clone()), t);
            }
        }
        self.0.fresh(pb::ListAvailabilityTargetsResponse { targets: current.into_values().collect() }).await
    }

    type IngestStream = ReceiverStream<Result<pb::IngestResult, Status>>;

    async fn ingest(
        &self,
        request: Request<Streaming<pb::IngestRequest>>,
    ) -> Result<Response<Self::IngestStream>, Status> {
        self.0.authenticate(&request)?;
        let mut records = request.into_inner();
        let this = NodeExchange(self.0.clone());
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(async move {
            let mut index = 0u64;
            while let Some(next) = records.next().await {
                let record = match next {
                    Ok(r) => r,
                    Err(status) => {
                        let _ = tx.send(Err(status)).await;
                        break;
                    }
                };
                use pb::ingest_request::Record as R;
                let (request_id, id) = (record.request_id, record.record_id);
                let outcome = match record.record {
                    Some(R::RepairOrder(o)) => this
                        .create_order(pb::CreateRepairOrderRequest {
                            repair_order: Some(o),
                            request_id,
                            repair_order_id: id,
                        })
                        .await
                        .map(|o| o.name),
                    Some(R::CapacityOffer(o)) => this
                        .create_offer(pb::CreateCapacityOfferRequest {
                            capacity_offer: Some(o),
                            request_id,
                            capacity_offer_id: id,
                        })
                        .await
                        .map(|o| o.name),
                    Some(R::AvailabilityReport(r)) => this
                        .submit_report(pb::SubmitAvailabilityReportRequest {
                            availability_report: Some(r),
                            request_id,
                            availability_report_id: id,
                        })
                        .await
                        .map(|r| r.name),
                    None => {
                        let mut v = cosx_domain::Violations::new();
                        v.add("record", "is required: a repair_order, capacity_offer or availability_report");
                        Err(CoreError::Invalid(v).into())
                    }
                };
                if tx.send(Ok(ingest_result(index, outcome))).await.is_err() {
                    break;
                }
                index += 1;
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// The Registry at a node: parties from the replica; changes go to the
/// coordinator.
pub struct NodeRegistry(pub Arc<Node>);

#[tonic::async_trait]
impl pb::registry_server::Registry for NodeRegistry {
    async fn get_party(&self, request: Request<pb::GetPartyRequest>) -> Result<Response<pb::Party>, Status> {
        self.0.authenticate(&request)?;
        let name = &request.get_ref().name;
        let subject = if name.starts_with("parties/") { name.clone() } else { format!("parties/{name}") };
        let record = self.0.view(subject.clone()).await?.record;
        self.0.fresh(record_as!(record, Party, subject)?).await
    }

    async fn list_parties(
        &self,
        request: Request<pb::ListPartiesRequest>,
    ) -> Result<Response<pb::ListPartiesResponse>, Status> {
        self.0.authenticate(&request)?;
        let r = request.into_inner();
        let parties: Vec<pb::Party> = self
            .0
            .store
            .views(Kind::Party)
            .await?
            .into_iter()
            .filter_map(|v| match v.record {
                Record::Party(p) => Some(p),
                _ => None,
            })
            .filter(|p| (r.kind == 0 || p.kind == r.kind) && (r.nation.is_empty() || p.nation == r.nation))
            .collect();
        let (parties, next_page_token) = page(parties, r.page_size, &r.page_token)?;
        self.0.fresh(pb::ListPartiesResponse { parties, next_page_token }).await
    }

    async fn register_party(&self, request: Request<pb::RegisterPartyRequest>) -> Result<Response<pb::Party>, Status> {
        self.0.authenticate(&request)?;
        pb::registry_client::RegistryClient::new(self.0.upstream.channel()).register_party(request.into_inner()).await
    }

    async fn suspend_party(&self, request: Request<pb::SuspendPartyRequest>) -> Result<Response<pb::Party>, Status> {
        self.0.authenticate(&request)?;
        pb::registry_client::RegistryClient::new(self.0.upstream.channel()).suspend_party(request.into_inner()).await
    }
}

/// Signals at a node: the coordinator computes them; the node passes the
/// call through (UNAVAILABLE while the link is down).
pub struct NodeSignals(pub Arc<Node>);

macro_rules! pass_through {
    ($self:ident, $request:ident, $client:path, $method:ident) => {{
        $self.0.authenticate(&$request)?;
        <$client>::new($self.0.upstream.channel()).$method($request.into_inner()).await
    }};
}

#[tonic::async_trait]
impl pb::signals_server::Signals for NodeSignals {
    async fn get_availability_metrics(
        &self,
        request: Request<pb::GetAvailabilityMetricsRequest>,
    ) -> Result<Response<pb::GetAvailabilityMetricsResponse>, Status> {
        pass_through!(
            self,
            request,
            pb::signals_client::SignalsClient<tonic::transport::Channel>,
            get_availability_metrics
        )
    }

    async fn get_demand_signal(
        &self,
        request: Request<pb::GetDemandSignalRequest>,
    ) -> Result<Response<pb::GetDemandSignalResponse>, Status> {
        pass_through!(self, request, pb::signals_client::SignalsClient<tonic::transport::Channel>, get_demand_signal)
    }

    async fn get_capacity_comparison(
        &self,
        request: Request<pb::GetCapacityComparisonRequest>,
    ) -> Result<Response<pb::GetCapacityComparisonResponse>, Status> {
        pass_through!(
            self,
            request,
            pb::signals_client::SignalsClient<tonic::transport::Channel>,
            get_capacity_comparison
        )
    }

    async fn get_workload_balance(
        &self,
        request: Request<pb::GetWorkloadBalanceRequest>,
    ) -> Result<Response<pb::GetWorkloadBalanceResponse>, Status> {
        pass_through!(self, request, pb::signals_client::SignalsClient<tonic::transport::Channel>, get_workload_balance)
    }

    async fn set_depot_baseline(
        &self,
        request: Request<pb::SetDepotBaselineRequest>,
    ) -> Result<Response<pb::DepotBaseline>, Status> {
        pass_through!(self, request, pb::signals_client::SignalsClient<tonic::transport::Channel>, set_depot_baseline)
    }
}

/// Allocation at a node: passed through to the coordinator.
pub struct NodeAllocation(pub Arc<Node>);

#[tonic::async_trait]
impl pb::allocation_server::Allocation for NodeAllocation {
    async fn propose(
        &self,
        request: Request<pb::ProposeAllocationRequest>,
    ) -> Result<Response<pb::AllocationPlan>, Status> {
        pass_through!(self, request, pb::allocation_client::AllocationClient<tonic::transport::Channel>, propose)
    }

    async fn commit(
        &self,
        request: Request<pb::CommitAllocationRequest>,
    ) -> Result<Response<pb::CommitAllocationResponse>, Status> {
        pass_through!(self, request, pb::allocation_client::AllocationClient<tonic::transport::Channel>, commit)
    }
}

/// The Feed at a node: the coordinator's events as the node received them,
/// with the coordinator's sequence numbers, replayed and then followed.
pub struct NodeFeed(pub Arc<Node>);

#[tonic::async_trait]
impl pb::feed_server::Feed for NodeFeed {
    type SubscribeStream = ReceiverStream<Result<pb::Event, Status>>;

    async fn subscribe(
        &self,
        request: Request<pb::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        self.0.authenticate(&request)?;
        let r = request.into_inner();
        if r.after_sequence < 0 {
            let mut v = cosx_domain::Violations::new();
            v.add("after_sequence", "must be >= 0");
            return Err(CoreError::Invalid(v).into());
        }
        let store = self.0.store.clone();
        let mut head = store.watch_events();
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            let mut cursor = r.after_sequence;
            loop {
                head.borrow_and_update();
                let events = match store.events_after(cursor, 256).await {
                    Ok(events) => events,
                    Err(e) => {
                        let _ = tx.send(Err(e.into())).await;
                        return;
                    }
                };
                let full = events.len() == 256;
                for event in events {
                    cursor = event.sequence;
                    if (r.kinds.is_empty() || r.kinds.contains(&event.kind)) && tx.send(Ok(event)).await.is_err() {
                        return;
                    }
                }
                if full {
                    continue;
                }
                tokio::select! {
                    changed = head.changed() => if changed.is_err() { return },
                    () = tx.closed() => return,
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// `cosx.v1.Node`: where the node stands.
pub struct NodeStatusService(pub Arc<Node>);

#[tonic::async_trait]
impl pb::node_server::Node for NodeStatusService {
    async fn get_status(&self, request: Request<pb::GetNodeStatusRequest>) -> Result<Response<pb::NodeStatus>, Status> {
        self.0.authenticate(&request)?;
        Ok(Response::new(status(&self.0).await?))
    }

    async fn list_writes(
        &self,
        request: Request<pb::ListWritesRequest>,
    ) -> Result<Response<pb::ListWritesResponse>, Status> {
        self.0.authenticate(&request)?;
        let r = request.into_inner();
        let state = match pb::WriteState::try_from(r.state) {
            Ok(pb::WriteState::Unspecified) => None,
            Ok(pb::WriteState::Queued) => Some(WriteState::Queued),
            Ok(pb::WriteState::Delivered) => Some(WriteState::Delivered),
            Ok(pb::WriteState::Rejected) => Some(WriteState::Rejected),
            Err(_) => {
                let mut v = cosx_domain::Violations::new();
                v.add("state", format!("{} is not a known WriteState value", r.state));
                return Err(CoreError::Invalid(v).into());
            }
        };
        let limit = page_size_of(r.page_size)?;
        let before: i64 = if r.page_token.is_empty() {
            0
        } else {
            r.page_token.parse().map_err(|_| {
                let mut v = cosx_domain::Violations::new();
                v.add("page_token", "is not a token this node issued");
                Status::from(CoreError::Invalid(v))
            })?
        };
        let writes = self.0.store.writes(state, before, limit).await?;
        let next_page_token = if writes.len() == limit as usize {
            writes.last().map(|w| w.sequence.to_string()).unwrap_or_default()
        } else {
            String::new()
        };
        let writes = writes
            .into_iter()
            .map(|w| pb::Write {
                sequence: w.sequence,
                request_id: w.request_id,
                method: w.method.as_str().to_owned(),
                subject: w.subject,
                state: match w.state {
                    WriteState::Queued => pb::WriteState::Queued,
                    WriteState::Delivered => pb::WriteState::Delivered,
                    WriteState::Rejected => pb::WriteState::Rejected,
                } as i32,
                attempts: w.attempts,
                create_time: timestamp(w.create_time),
                error_code: w.error_code.unwrap_or_default(),
                error_message: w.error_message.unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(pb::ListWritesResponse { writes, next_page_token }))
    }
}

/// The node's status, as `Node.GetStatus` and the metrics report it.
pub async fn status(node: &Node) -> Result<pb::NodeStatus, Status> {
    let counts = node.store.counts().await?;
    let sync = node.store.sync_point().await?;
    let (connected, last_error) = node.upstream.health();
    let age = counts.oldest_queued.map_or(0.0, |t| (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0);
    Ok(pb::NodeStatus {
        party: node.party.to_string(),
        upstream: node.upstream.endpoint().to_owned(),
        upstream_connected: connected,
        queued_writes: counts.queued,
        oldest_queued_age_seconds: age,
        rejected_writes: counts.rejected,
        delivered_writes: counts.delivered,
        last_sync_time: sync.last_sync_time.and_then(timestamp),
        synced_sequence: sync.cursor,
        upstream_head: sync.head,
        feed_lag_events: (sync.head - sync.cursor).max(0),
        last_error,
    })
}
