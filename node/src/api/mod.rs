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
use super::store::{Accepted, Answer, Kind, Method, NodeStore, Record, Replicated, View, WriteState};
use super::upstream::Upstream;
use cosx_edge::CoreError;
use cosx_edge::convert::{party_in, timestamp};
use cosx_edge::request::{create_key, request_key, valid, version_in};
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
    /// The last [`Sight`] worked out, with the store's count of changes to
    /// parties and quotes ([`NodeStore::sight_changes`]) as of then.
    pub(crate) sight: std::sync::Mutex<Option<(u64, Arc<Sight>)>>,
}

fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// NOT_FOUND for `name`, in the coordinator's words (the one error table).
fn missing(name: &str) -> Status {
    CoreError::NotFound(name.to_owned()).into()
}

fn bad_message(_: prost::DecodeError) -> Status {
    Status::internal("the node could not read back what it stored")
}

impl Node {
    /// Admits only the node's own party: its systems hold certificates
    /// issued for it.
    fn authenticate<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let certs = request.peer_certs();
        self.authenticate_leaf(certs.as_ref().and_then(|c| c.first()).map(|c| c.as_ref()))
    }

    /// As [`Self::authenticate`], from the verified leaf certificate (DER).
    pub fn authenticate_leaf(&self, leaf: Option<&[u8]>) -> Result<(), Status> {
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

    /// Admits a write from the node's own party: its message, the request
    /// id that travels upstream and the hash a repeat must match (see
    /// [`Self::travelling_key`]; `request_id` picks the caller's from the message).
    fn admit_write<M: Message>(
        &self,
        request: Request<M>,
        request_id: impl FnOnce(&M) -> &str,
    ) -> Result<(M, String, String), Status> {
        self.authenticate(&request)?;
        let r = request.into_inner();
        let (id, hash) = self.travelling_key(request_id(&r), &r)?;
        Ok((r, id, hash))
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
        self.write_related(request_id, hash, subject, None, |current, _| build(current)).await
    }

    /// As [`Self::write`], giving `build` also the records the party may
    /// see whose names start with `related` (see `NodeStore::accept_related`).
    async fn write_related<F>(
        &self,
        request_id: &str,
        hash: &str,
        subject: Option<&str>,
        related: Option<&str>,
        build: F,
    ) -> Result<Record, Status>
    where
        F: FnOnce(Option<View>, Vec<View>) -> Result<Accepted, Status>,
    {
        let answer = self.accept_visible(request_id, hash, subject, related, build).await?;
        let record = decode_answer(answer.method, &answer.response)?;
        // A new write knows its record's standing; a repeat reads it.
        let view = match answer.after {
            Some(after) if after.record.subject() == record.subject() => Some(after),
            _ => self.store.view(record.subject()).await?,
        };
        Ok(match view {
            Some(v) => View { record, ..v }.with_sync(),
            None => record,
        })
    }

    /// As [`Self::write_related`], answering with the stored answer as it
    /// is (for a write whose answer is more than one record).
    async fn accept_visible<F>(
        &self,
        request_id: &str,
        hash: &str,
        subject: Option<&str>,
        related: Option<&str>,
        build: F,
    ) -> Result<Answer, Status>
    where
        F: FnOnce(Option<View>, Vec<View>) -> Result<Accepted, Status>,
    {
        let sight = self.sight().await?;
        self.store
            .accept_related(request_id, hash, subject, related, |current, related| {
                let visible = |v: &View| sees(&sight, &v.record);
                build(current.filter(visible), related.into_iter().filter(visible).collect())
            })
            .await
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
    async fn create<T: Replicated>(
        &self,
        key: (&str, &str),
        subject: &str,
        method: Method,
        upstream_request: Vec<u8>,
        record: T,
        ordered_by: Vec<String>,
    ) -> Result<T, Status> {
        let (request_id, hash) = key;
        let record = self
            .write(request_id, hash, Some(subject), |current| {
                if current.is_some() {
                    return Err(CoreError::AlreadyExists(format!("{subject} already exists")).into());
                }
                Ok(Accepted {
                    method,
                    request: upstream_request,
                    response: record.encode_to_vec(),
                    records: vec![record.into_record()],
                    ordered_by,
                })
            })
            .await?;
        T::from_record(record).ok_or_else(|| missing(subject))
    }

    async fn view(&self, subject: String) -> Result<View, Status> {
        let sight = self.sight().await?;
        self.store.view(&subject).await?.filter(|v| sees(&sight, &v.record)).ok_or_else(|| Status::not_found(subject))
    }

    /// What the party sees by, as the replica knows it: itself, and the
    /// orders its open quotes release to it (`quotes::releases_order`, the
    /// `asked_to_quote` entry the coordinator keeps for it but never shows).
    ///
    /// Worked out again only after a transaction changed a party or a quote
    /// (or did not say what it changed): it reads every quote.
    async fn sight(&self) -> Result<Arc<Sight>, Status> {
        let changes = self.store.sight_changes();
        if let Ok(kept) = self.sight.lock()
            && let Some((at, sight)) = kept.as_ref()
            && *at == changes
        {
            return Ok(sight.clone());
        }
        let me = self.me().await?;
        let mut asked = std::collections::HashSet::new();
        if let Some(me) = &me {
            for view in self.store.views(Kind::Quote).await? {
                if let Record::Quote(q) = view.record
                    && let Some(q) = cosx_edge::convert::quote_in(&mut Violations::new(), &q)
                    && q.provider == me.id
                    && cosx_domain::quotes::releases_order(&q)
                {
                    asked.insert(format!("repairOrders/{}", q.order_id));
                }
            }
        }
        let sight = Arc::new(Sight { me, asked });
        if let Ok(mut kept) = self.sight.lock() {
            *kept = Some((changes, sight.clone()));
        }
        Ok(sight)
    }

    /// The node's party as the replica knows it (none before the first sync).
    async fn me(&self) -> Result<Option<Party>, Status> {
        let view = self.store.view(&format!("parties/{}", self.party)).await?;
        Ok(match view.map(|v| v.record) {
            Some(Record::Party(p)) => party_in(&mut Violations::new(), &Some(p)),
            _ => None,
        })
    }

    /// Stores a write that turns the record `subject`, a `T`, into what
    /// `next` makes of it (forwarded as `upstream`, by `method`), and
    /// answers with the record as the node now has it. A record the party
    /// may not see, or of another kind, is NOT_FOUND.
    async fn replace<T: Replicated, E: Into<Status>>(
        &self,
        key: (&str, &str),
        subject: &str,
        method: Method,
        upstream: Vec<u8>,
        next: impl FnOnce(T) -> Result<T, E>,
    ) -> Result<T, Status> {
        let (request_id, hash) = key;
        let record = self
            .write(request_id, hash, Some(subject), |current| {
                let current = held(current, subject)?;
                let next = next(current).map_err(Into::into)?;
                Ok(Accepted {
                    method,
                    request: upstream,
                    response: next.encode_to_vec(),
                    records: vec![next.into_record()],
                    ordered_by: vec![],
                })
            })
            .await?;
        T::from_record(record).ok_or_else(|| missing(subject))
    }

    /// The record `subject`, a `T` the party may see, with how fresh the replica is.
    async fn get<T: Replicated>(&self, subject: String) -> Result<Response<T>, Status> {
        let record = T::from_record(self.view(subject.clone()).await?.with_sync()).ok_or_else(|| missing(&subject))?;
        self.fresh(record).await
    }

    /// Every `T` of `kind` in the replica that the party may see now.
    async fn visible<T: Replicated>(&self, kind: Kind) -> Result<Vec<T>, Status> {
        Ok(self.visible_views(kind).await?.iter().filter_map(|v| T::from_record(v.with_sync())).collect())
    }

    /// One page of the `T`s of `kind` the party may see now that `keep` keeps.
    async fn visible_page<T: Replicated>(
        &self,
        kind: Kind,
        keep: impl Fn(&T) -> bool,
        page_size: i32,
        token: &str,
    ) -> Result<(Vec<T>, String), Status> {
        page(self.visible::<T>(kind).await?.into_iter().filter(|t| keep(t)).collect(), page_size, token)
    }

    /// Every record of `kind` in the replica that the party may see now.
    async fn visible_views(&self, kind: Kind) -> Result<Vec<View>, Status> {
        let sight = self.sight().await?;
        Ok(self.store.views(kind).await?.into_iter().filter(|v| sees(&sight, &v.record)).collect())
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
        Method::RaiseException | Method::AnswerException => {
            Record::RepairException(pb::RepairException::decode(bytes).map_err(bad_message)?)
        }
        Method::SubmitQuote => Record::Quote(pb::Quote::decode(bytes).map_err(bad_message)?),
        // Answered with several records: the first quote asked, the quote accepted.
        Method::RequestQuotes => Record::Quote(
            pb::RequestQuotesResponse::decode(bytes)
                .map_err(bad_message)?
                .quotes
                .into_iter()
                .next()
                .unwrap_or_default(),
        ),
        Method::AcceptQuote => {
            Record::Quote(pb::AcceptQuoteResponse::decode(bytes).map_err(bad_message)?.quote.unwrap_or_default())
        }
        Method::AddComment | Method::EditComment | Method::WithdrawComment => {
            Record::Comment(pb::Comment::decode(bytes).map_err(bad_message)?)
        }
        Method::RequestUpdate | Method::AnswerUpdateRequest | Method::WithdrawUpdateRequest => {
            Record::UpdateRequest(pb::UpdateRequest::decode(bytes).map_err(bad_message)?)
        }
        Method::DeclareDisruption | Method::UpdateDisruption | Method::ResolveDisruption => {
            Record::Disruption(pb::Disruption::decode(bytes).map_err(bad_message)?)
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

/// Passes a call straight through to the coordinator (UNAVAILABLE while the link is down).
macro_rules! pass_through {
    ($self:ident, $request:ident, $client:path, $method:ident) => {{
        $self.0.authenticate(&$request)?;
        <$client>::new($self.0.upstream.channel()).$method($request.into_inner()).await
    }};
}

/// The page size to serve, as the coordinator decides it.
fn page_size_of(requested: i32) -> Result<u32, Status> {
    cosx_domain::limits::page_size(requested).map_err(|why| {
        let mut v = cosx_domain::Violations::new();
        v.add("page_size", why);
        Status::from(CoreError::Invalid(v))
    })
}

/// What the node's party sees by (see `Node::sight`).
pub(crate) struct Sight {
    /// The party as the replica knows it (none before the first sync).
    me: Option<Party>,
    /// The orders (`repairOrders/{id}`) its own open quotes release to it.
    asked: std::collections::HashSet<String>,
}

/// Whether the party may see `record` as the replica holds it: the
/// coordinator's rule (`may_see`) on the record's owner, provider and
/// releasability — with the party among those asked to quote on an order
/// its open quote is on, as the coordinator keeps it — so a record the
/// party lost sight of (an order it declined, one whose quote closed) is
/// NOT_FOUND here as it is at the coordinator. Before the first sync (`me`
/// unknown) the replica holds only what the feed gave the party, all of it
/// visible.
fn sees(sight: &Sight, record: &Record) -> bool {
    let Some(me) = sight.me.as_ref() else { return true };
    let id = |s: &str| PartyId::parse(s).ok();
    let released = |r: &Option<pb::Releasability>, asked: bool| Releasability {
        parties: r.iter().flat_map(|r| r.party_ids.iter()).filter_map(|p| id(p)).collect(),
        nations: r.iter().flat_map(|r| r.nations.iter()).filter_map(|n| Nation::parse(n).ok()).collect(),
        asked_to_quote: if asked { vec![me.id.clone()] } else { Vec::new() },
    };
    let check = |owner: &str, provider: &str, r: &Option<pb::Releasability>, asked: bool| match id(owner) {
        Some(owner) => may_see(me, &owner, id(provider).as_ref(), &released(r, asked)),
        None => false,
    };
    let mut v = Violations::new();
    match record {
        Record::RepairOrder(o) => check(
            &o.originator,
            &o.provider,
            &o.controls.as_ref().and_then(|c| c.releasability.clone()),
            sight.asked.contains(&o.name),
        ),
        Record::CapacityOffer(o) => check(&o.provider, "", &o.releasability, false),
        Record::AvailabilityReport(r) => check(&r.reporter, "", &r.releasability, false),
        Record::AvailabilityTarget(t) => check(&t.owner, "", &None, false),
        Record::Party(_) => true,
        // The exception's own rule (its owner, its provider, coordinators).
        Record::RepairException(e) => {
            let state = cosx_domain::RepairOrderState::Submitted; // not part of the rule
            cosx_edge::convert::exception_in(&mut v, e, state).is_some_and(|e| e.visible_to(me))
        }
        // The quote's own rule (its owner, its provider, coordinators).
        Record::Quote(q) => cosx_edge::convert::quote_in(&mut v, q).is_some_and(|q| q.visible_to(me)),
        // A comment has no rule of its own: it is seen as its record is,
        // which every comment write at the node reads and checks itself.
        Record::Comment(_) => true,
        // The notice's own rule (its provider, the owners it affected, coordinators).
        Record::Disruption(d) => cosx_edge::convert::disruption_in(&mut v, d).is_some_and(|d| d.visible_to(me)),
        // The request's own rule (its requester, its addressee, coordinators).
        Record::UpdateRequest(r) => cosx_edge::convert::update_request_in(&mut v, r).is_some_and(|r| r.visible_to(me)),
    }
}

/// The record `subject` as a `T`, from what the replica holds of it (the
/// view a write reads): NOT_FOUND, in the coordinator's words, if it holds
/// none the party may see, or one of another kind.
fn held<T: Replicated>(view: Option<View>, subject: &str) -> Result<T, Status> {
    view.and_then(|v| T::from_record(v.record)).ok_or_else(|| missing(subject))
}

/// The subjects a new comment or request for update on `record` is
/// forwarded after: the node's earlier writes to the record (its creation,
/// say). A demand cell is no record of the node's.
fn after_writes_to(record: &cosx_domain::comments::RecordRef) -> Vec<String> {
    match record {
        cosx_domain::comments::RecordRef::DemandCells(_) => vec![],
        other => vec![other.name()],
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

// After `record_as!`: macros are in scope only below their definition.
mod comments;
mod disruptions;
mod exceptions;
mod exchange;
mod export;
mod feed;
mod passthrough;
mod quotes;
mod update_requests;

pub use comments::NodeComments;
pub use disruptions::NodeDisruptions;
pub use exceptions::NodeExceptions;
pub use exchange::NodeExchange;
pub use export::NodeExport;
pub use feed::{NodeFeed, NodeStatusService, status};
pub use passthrough::{NodeAllocation, NodeRegistry, NodeSignals};
pub use quotes::NodeQuotes;
pub use update_requests::NodeUpdateRequests;
