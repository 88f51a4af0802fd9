//! The coordinator's core: authorizes each request against the registry and
//! the domain rules, then turns it into one [`Commit`]. It knows domain
//! types and the [`Store`] trait; it knows nothing of protobuf or gRPC.
//!
//! Order of work in every write: authenticate → replay a repeated request id
//! → authorize → apply the pure rule → commit (record, history, event and
//! idempotency key in one transaction) → tell feed subscribers.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, SecondsFormat, Utc};
use cosx_domain::lifecycle::{self, OrderView};
use cosx_domain::limits::MAX_PAGE;
use cosx_domain::offers::{self, OfferView};
use cosx_domain::records::split_part_ids;
use cosx_domain::records::*;
use cosx_domain::visibility::{may_see, step_provider, visible_history};
use cosx_domain::{Action, Caller, Party, PartyId, RepairOrderState, Violations};
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::watch;

mod availability;
mod capacity_offers;
mod comments;
mod disruptions;
mod events;
mod exceptions;
mod quotes;
mod registry;
mod repair_orders;
mod update_requests;

pub use cosx_edge::error::{
    CoreError, comment_error, disruption_error, exception_error, lifecycle_error, offer_change_error, quote_error,
    update_request_error,
};
pub use cosx_edge::request::RequestKey;

pub use crate::log::{Event, EventContent};
use crate::store::*;
pub use disruptions::MAX_AFFECTED_ORDERS;
pub use quotes::QuoteTargets;
pub use update_requests::Swept;

type Result<T> = std::result::Result<T, CoreError>;

/// The feed subscriptions open on this coordinator: how many each party
/// holds (capped), and where each one's cursor stands (for the lag metric).
#[derive(Debug, Default)]
pub struct Subscriptions {
    open: Arc<Mutex<OpenSubscriptions>>,
}

#[derive(Debug, Default)]
struct OpenSubscriptions {
    next: u64,
    cursors: HashMap<u64, (PartyId, i64)>,
}

/// One open subscription; closed when dropped.
#[derive(Debug)]
pub struct Subscription {
    open: Arc<Mutex<OpenSubscriptions>>,
    id: u64,
}

impl Subscriptions {
    /// Opens a subscription for `party`, unless it already holds `most`.
    pub fn open(&self, party: &PartyId, cursor: i64, most: usize) -> Result<Subscription> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let held = open.cursors.values().filter(|(p, _)| p == party).count();
        if held >= most {
            return Err(CoreError::ResourceExhausted(format!(
                "party {party} already holds {held} feed subscriptions, the most one party may; close one first"
            )));
        }
        open.next += 1;
        let id = open.next;
        open.cursors.insert(id, (party.clone(), cursor));
        cosx_edge::metrics::feed_subscribers(1);
        Ok(Subscription { open: self.open.clone(), id })
    }

    fn furthest_behind(&self) -> Option<i64> {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).cursors.values().map(|(_, c)| *c).min()
    }
}

impl Subscription {
    /// The subscriber has everything up to `cursor`.
    pub fn advanced(&self, cursor: i64) {
        if let Some(entry) = self.open.lock().unwrap_or_else(|e| e.into_inner()).cursors.get_mut(&self.id) {
            entry.1 = cursor;
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).cursors.remove(&self.id);
        cosx_edge::metrics::feed_subscribers(-1);
    }
}

/// The actor of events the coordinator raises by itself (alerts). Their
/// audience is coordinators only. (The domain's, so a node knows it too.)
pub const SYSTEM_ACTOR: &str = cosx_domain::update_requests::SYSTEM_ACTOR;

/// A page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Token for the next page; empty at the end.
    pub next_page_token: String,
}

/// Filters for listing repair orders.
pub type OrderFilter = RecordFilter;

/// The coordinator.
pub struct Coordinator {
    store: Arc<dyn Store>,
    trust_domain: String,
    parties: RwLock<HashMap<PartyId, (Party, i64)>>,
    head: watch::Sender<i64>,
    /// Events this process committed lately, by sequence, exactly as the
    /// log holds them: [`Coordinator::all_events`] serves the views from
    /// here instead of reading back and parsing what was just written.
    recent: Mutex<BTreeMap<i64, (Arc<Event>, Audience)>>,
    /// The report this process last stored per reporter, TMS and timeframe
    /// (natural key → id, version): a guess at the current one, which the
    /// store checks as it commits (see [`Coordinator::submit_report`]).
    current_reports: Mutex<HashMap<String, (String, i64)>>,
    /// Feed subscriptions open now.
    subscriptions: Subscriptions,
    /// Nations the US has a security-assistance relationship with
    /// (`[allocation] security_assistance_nations`): third-country support
    /// may come only from these.
    security_assistance_nations: std::collections::BTreeSet<cosx_allocation::Nation>,
}

/// Most natural keys [`Coordinator::submit_report`] remembers; past this the
/// guesses start over (a missing guess costs one read, never a wrong answer).
const CURRENT_REPORTS: usize = 65_536;

/// Most events kept in [`Coordinator::all_events`]'s cache: a few seconds of
/// ingest, so the views following the log find their next page here.
const RECENT_EVENTS: usize = 8192;

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| CoreError::Store(StoreError::Corrupt(e.to_string())))
}

fn from_json<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| CoreError::Store(StoreError::Corrupt(e.to_string())))
}

fn parse_time(time: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(time)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| CoreError::Store(StoreError::Corrupt(format!("event time: {e}"))))
}

/// A stored event as subscribers and aggregates read it.
fn event_from(r: StoredEvent) -> Result<Event> {
    let time = parse_time(&r.entry.time)?;
    Ok(Event {
        sequence: r.entry.sequence,
        time,
        kind: r.entry.kind,
        actor: r.entry.actor,
        content: from_json(&r.entry.content)?,
    })
}

fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// The collection in a record's resource name.
fn collection(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::RepairOrder => "repairOrders",
        RecordKind::CapacityOffer => "capacityOffers",
        RecordKind::AvailabilityReport => "availabilityReports",
        RecordKind::AvailabilityTarget => "availabilityTargets",
        RecordKind::DepotBaseline => "depotBaselines",
        // A quote's id is `{order}/quotes/{provider}`: its name is `repairOrders/{id}`.
        RecordKind::Quote => "repairOrders",
        // Likewise `{order}/exceptions/{n}`.
        RecordKind::RepairException => "repairOrders",
        // A comment's id is its whole resource name.
        RecordKind::Comment => "comments",
        RecordKind::UpdateRequest => "updateRequests",
        RecordKind::Disruption => "disruptions",
    }
}

fn ids(list: &[PartyId]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

fn audience(owner: &PartyId, provider: Option<&PartyId>, releasability: &cosx_domain::Releasability) -> Audience {
    Audience {
        owner: owner.to_string(),
        provider: provider.map(ToString::to_string),
        // The providers asked to quote are released to as the parties are
        // (`visibility::may_see`), in the one release column.
        parties: ids(&releasability.parties).into_iter().chain(ids(&releasability.asked_to_quote)).collect(),
        nations: releasability.nations.iter().map(ToString::to_string).collect(),
        everyone: false,
    }
}

fn viewer(caller: &Caller) -> Viewer {
    Viewer {
        party: caller.id().to_string(),
        nation: caller.party.nation.to_string(),
        coordinator: caller.is_coordinator(),
    }
}

/// The exchange itself, reading what a rule needs (never what a caller is
/// shown): sees every record.
fn system_viewer() -> Viewer {
    Viewer { party: SYSTEM_ACTOR.to_owned(), nation: String::new(), coordinator: true }
}

fn page_bounds(page_size: i32, page_token: &str) -> Result<(i64, u32)> {
    let mut v = Violations::new();
    let size = v.check("page_size", cosx_domain::limits::page_size(page_size)).unwrap_or(0);
    let after = if page_token.is_empty() {
        0
    } else {
        v.check("page_token", page_token.parse::<i64>().map_err(|_| "not a page token returned by this server"))
            .unwrap_or(0)
    };
    v.into_result(|| (after, size)).map_err(CoreError::from)
}

fn order_write(order: &RepairOrder, expected_version: Option<i64>) -> Result<RecordWrite> {
    Ok(RecordWrite {
        kind: RecordKind::RepairOrder,
        id: order.id.clone(),
        expected_version,
        version: order.version,
        audience: audience(&order.draft.originator, order.provider.as_ref(), &order.draft.controls.releasability),
        state: Some(order.state.as_str().to_owned()),
        tms: Some(order.draft.tms.to_string()),
        region: Some(order.draft.location.region.as_str().to_owned()),
        natural_key: None,
        supersedes: None,
        body: to_json(order)?,
    })
}

fn offer_write(offer: &CapacityOffer, expected_version: Option<i64>) -> Result<RecordWrite> {
    let tms = offer.draft.capabilities.iter().find_map(|c| c.tms.as_ref()).map(ToString::to_string);
    Ok(RecordWrite {
        kind: RecordKind::CapacityOffer,
        id: offer.id.clone(),
        expected_version,
        version: offer.version,
        audience: audience(&offer.draft.provider, None, &offer.draft.releasability),
        state: Some(offer.state.as_str().to_owned()),
        tms,
        region: Some(offer.draft.site.region.as_str().to_owned()),
        natural_key: None,
        supersedes: None,
        body: to_json(offer)?,
    })
}

/// One change to commit: what it writes and the event that records it.
struct Change {
    records: Vec<RecordWrite>,
    transitions: Vec<TransitionWrite>,
    kind: &'static str,
    subject: String,
    audience: Audience,
    content: EventContent,
    time: DateTime<Utc>,
}

impl Change {
    /// The change that records one step of `order`, already moved on by
    /// `transition` (at the order's update time): `records` written, the
    /// history step, and one `kind` event to `audience` with the order, the
    /// step and what else it carries (the quote it accepted, the exception
    /// it raised or answered). The one shape of every order step's event.
    fn order_step(
        order: RepairOrder,
        transition: Transition,
        records: Vec<RecordWrite>,
        kind: &'static str,
        audience: Audience,
        quote: Option<Box<cosx_domain::quotes::Quote>>,
        exception: Option<Box<cosx_domain::exceptions::RepairException>>,
    ) -> Result<Change> {
        Ok(Change {
            records,
            transitions: vec![TransitionWrite {
                order_id: order.id.clone(),
                version: order.version,
                body: to_json(&transition)?,
            }],
            kind,
            subject: format!("repairOrders/{}", order.id),
            audience,
            time: order.update_time,
            content: EventContent::RepairOrder { order, transition: Some(transition), quote, exception },
        })
    }
}

/// A further event of a [`Change`], with its own audience (see
/// [`Commit::more_events`]).
struct MoreEvent {
    kind: &'static str,
    subject: String,
    audience: Audience,
    content: EventContent,
}

fn report_key(d: &AvailabilityReportDraft) -> String {
    format!("{}|{}|{}|{}", d.reporter, d.tms, d.timeframe_start, d.timeframe_end)
}

impl Coordinator {
    /// A coordinator over `store`, trusting identities in `trust_domain`.
    pub async fn new(store: Arc<dyn Store>, trust_domain: &str) -> Result<Self> {
        let parties = store.parties().await?.into_iter().map(|(p, etag)| (p.id.clone(), (p, etag))).collect();
        let head = store.head().await?;
        Ok(Coordinator {
            store,
            trust_domain: trust_domain.to_owned(),
            parties: RwLock::new(parties),
            head: watch::Sender::new(head),
            recent: Mutex::new(BTreeMap::new()),
            current_reports: Mutex::new(HashMap::new()),
            subscriptions: Subscriptions::default(),
            security_assistance_nations: Default::default(),
        })
    }

    /// The nations with a US security-assistance relationship, a registry
    /// fact from the configuration (none by default: no third-country support).
    pub fn with_security_assistance_nations(
        mut self,
        nations: impl IntoIterator<Item = cosx_allocation::Nation>,
    ) -> Self {
        self.security_assistance_nations = nations.into_iter().collect();
        self
    }

    /// The settings an allocation (and a proposal's eligibility) is judged with on `as_of`.
    pub fn allocation_config(&self, as_of: chrono::NaiveDate) -> cosx_allocation::AllocationConfig {
        cosx_allocation::AllocationConfig {
            security_assistance_nations: self.security_assistance_nations.clone(),
            ..cosx_allocation::AllocationConfig::new(as_of)
        }
    }

    /// Refuses proposing `order` to `provider` when `Allocation` never
    /// would: the order and the provider's active offers judged by
    /// `cosx_allocation::provider_eligibility`, the one copy of the rules. A
    /// provider with no capable offer on record is judged as the registry
    /// knows it (`signals::balance::registered_provider`: its own nation, no
    /// authorizations).
    ///
    /// The provider's offers are read as the exchange sees them, not as the
    /// caller does: an owner asking a provider to quote is judged by the same
    /// offers a coordinator's proposal would be (only the verdict is shown).
    async fn check_eligibility(&self, order: &RepairOrder, provider: &PartyId) -> Result<()> {
        use crate::signals::balance as adapt;
        let parties = self.registered_parties();
        let id = &order.id;
        let Some(core_order) = adapt::open_orders(std::slice::from_ref(order), &parties).pop() else {
            return Err(CoreError::FailedPrecondition(format!(
                "repairOrders/{id} cannot be judged for eligibility (its originator's nation or its fields are not \
                 usable by allocation)"
            )));
        };
        let filter =
            RecordFilter { state: Some("ACTIVE".into()), owner: Some(provider.to_string()), ..RecordFilter::default() };
        let offers: Vec<CapacityOffer> = self.all_records(RecordKind::CapacityOffer, &system_viewer(), &filter).await?;
        let today = now().date_naive();
        let mut core_offers = adapt::offers(&offers, &parties, today);
        if !core_offers.iter().any(|f| cosx_allocation::eligibility::is_capable(&core_order, f))
            && let Some(registered) = parties.get(provider).and_then(|p| adapt::registered_provider(p, &core_order))
        {
            core_offers.push(registered);
        }
        cosx_allocation::provider_eligibility(
            &core_order,
            &core_offers,
            provider.as_str(),
            &self.allocation_config(today),
        )
        .map_err(|reason| {
            let why = match &reason {
                cosx_allocation::UnplacedReason::NoEligibleProvider { blocked_by } => {
                    blocked_by.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
                }
                other => {
                    let (code, detail) = adapt::reason_detail(other);
                    format!("{code}: {detail}")
                }
            };
            CoreError::FailedPrecondition(format!("{provider} may not be proposed repairOrders/{id}: {why}"))
        })
    }

    /// Every registered party, by id.
    fn registered_parties(&self) -> HashMap<PartyId, Party> {
        self.parties
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, (p, _))| (k.clone(), p.clone()))
            .collect()
    }

    /// The store (for audit tools).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Registers the parties of the configuration that are not yet registered.
    pub async fn bootstrap_parties(&self, parties: Vec<Party>) -> Result<()> {
        for party in parties {
            if self.party(&party.id).is_some() {
                continue;
            }
            let actor = PartyId::parse("COSX-CONFIG").map_err(|e| CoreError::PermissionDenied(e.to_string()))?;
            match self.commit_party(&actor, "config", party, None, None).await {
                // Another replica starting at the same time registered it first.
                Err(CoreError::Aborted(_)) => self.refresh_parties().await?,
                other => {
                    other?;
                }
            }
        }
        Ok(())
    }

    /// Follows commits made through other replicas on a shared database (a
    /// no-op on SQLite, where this process is the only writer): wakes this
    /// replica's feed subscribers and re-reads the party registry when a
    /// `PARTY_*` event arrives, so a suspension made through any replica
    /// takes effect on all of them within a notification's delay. Every
    /// few seconds it re-reads both anyway, in case a notification was lost.
    /// The task ends soon after the coordinator is dropped.
    pub async fn follow_store(self: &Arc<Self>) -> Result<()> {
        use futures::StreamExt;
        const RESYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
        let Some(mut notices) = self.store.follow().await? else {
            return Ok(());
        };
        let core = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut resync = tokio::time::interval(RESYNC_EVERY);
            loop {
                let notice = tokio::select! {
                    notice = notices.next() => match notice { Some(n) => n, None => return },
                    _ = resync.tick() => LogNotice::Resync,
                };
                let Some(core) = core.upgrade() else { return };
                let followed = async {
                    let (sequence, reload) = match notice {
                        LogNotice::Appended { sequence, party_changed } => (sequence, party_changed),
                        LogNotice::Resync => (core.store.head().await?, true),
                    };
                    // Registry first: a subscriber woken below re-checks its admission.
                    if reload {
                        core.refresh_parties().await?;
                    }
                    core.advance_head(sequence);
                    Ok::<_, CoreError>(())
                };
                if let Err(e) = followed.await {
                    tracing::warn!(error = %e, "following the shared log failed; retrying");
                }
            }
        });
        Ok(())
    }

    /// Re-reads the registry, keeping per party the newer of the cached and
    /// stored versions (etags only grow; parties are never deleted).
    async fn refresh_parties(&self) -> Result<()> {
        let stored = self.store.parties().await?;
        let mut cache = self.parties.write().unwrap_or_else(|e| e.into_inner());
        for (party, etag) in stored {
            if cache.get(&party.id).is_none_or(|(_, cached)| *cached < etag) {
                cache.insert(party.id.clone(), (party, etag));
            }
        }
        Ok(())
    }

    fn party(&self, id: &PartyId) -> Option<(Party, i64)> {
        self.parties.read().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }

    /// Identifies the caller from its verified leaf certificate (DER).
    pub fn authenticate(&self, leaf: Option<&[u8]>) -> Result<Caller> {
        let der = leaf.ok_or_else(|| CoreError::Unauthenticated("no client certificate presented".into()))?;
        let (id, cert_fingerprint) = cosx_certs::identity_of(der, &self.trust_domain);
        let id = id.map_err(|e| CoreError::Unauthenticated(e.to_string()))?;
        let id = PartyId::parse(&id).map_err(CoreError::Unauthenticated)?;
        let (party, _) = self
            .party(&id)
            .ok_or_else(|| CoreError::PermissionDenied(format!("party {id} is not registered with this exchange")))?;
        if party.suspended {
            return Err(CoreError::PermissionDenied(format!("party {id} is suspended")));
        }
        Ok(Caller { party, cert_fingerprint })
    }

    /// Receives the log head after every commit.
    pub fn watch_head(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }

    /// The id of a record a request creates: the caller's choice, or a fresh
    /// one. Whether the caller's choice is taken is decided by the store as
    /// it commits (see [`Self::commit_create`]), not by reading first.
    fn id_for(key: &RequestKey) -> String {
        key.new_id.clone().unwrap_or_else(new_id)
    }

    /// Replays the first answer to a repeated request id, if there is one.
    async fn replay<T: DeserializeOwned>(&self, caller: &Caller, key: &RequestKey) -> Result<Option<T>> {
        if key.request_id.is_empty() {
            return Ok(None);
        }
        match self.store.idempotent_response(caller.id().as_str(), &key.request_id).await? {
            Some((hash, response)) if hash == key.payload_hash => Ok(Some(from_json(&response)?)),
            Some(_) => Err(StoreError::IdempotencyMismatch(key.request_id.clone()).into()),
            None => Ok(None),
        }
    }

    async fn commit<T: Serialize + DeserializeOwned>(
        &self,
        caller: &Caller,
        key: &RequestKey,
        change: Change,
        response: &T,
    ) -> Result<Option<T>> {
        let response = to_json(response)?;
        self.commit_json(caller, key, change, response).await?.map(|r| from_json(&r)).transpose()
    }

    /// Commits a change that creates record `created` (the change's first
    /// record, whose body is also the response). There is no read first:
    /// a repeated request id is answered by the store with the first
    /// response, and a caller-chosen id that is taken (the store refuses
    /// the insert) is ALREADY_EXISTS.
    async fn commit_create<T: DeserializeOwned>(
        &self,
        caller: &Caller,
        key: &RequestKey,
        change: Change,
        kind: RecordKind,
    ) -> Result<Option<T>> {
        let created = change.records.first().map(|r| (r.id.clone(), r.body.clone()));
        let Some((id, response)) = created else {
            return Err(CoreError::Store(StoreError::Corrupt("a create without its record".into())));
        };
        match self.commit_json(caller, key, change, response).await {
            Err(CoreError::Aborted(_)) if key.new_id.is_some() && self.store.record(kind, &id).await?.is_some() => {
                Err(CoreError::AlreadyExists(format!("{}/{id} already exists", collection(kind))))
            }
            done => done?.map(|r| from_json(&r)).transpose(),
        }
    }

    /// Commits `change` answering with `response` (JSON); a repeated
    /// request id gets the first response instead.
    async fn commit_json(
        &self,
        caller: &Caller,
        key: &RequestKey,
        change: Change,
        response: String,
    ) -> Result<Option<String>> {
        self.commit_json_with(caller, key, change, Vec::new(), response).await
    }

    /// [`Self::commit`] with further events of the same change, each with
    /// its own audience, appended right after the change's own event in the
    /// same transaction.
    async fn commit_with<T: Serialize + DeserializeOwned>(
        &self,
        caller: &Caller,
        key: &RequestKey,
        change: Change,
        more: Vec<MoreEvent>,
        response: &T,
    ) -> Result<Option<T>> {
        let response = to_json(response)?;
        self.commit_json_with(caller, key, change, more, response).await?.map(|r| from_json(&r)).transpose()
    }

    async fn commit_json_with(
        &self,
        caller: &Caller,
        key: &RequestKey,
        change: Change,
        more: Vec<MoreEvent>,
        response: String,
    ) -> Result<Option<String>> {
        // Re-checked at every write, not only when a call starts: a party
        // suspended while its Ingest stream (or any long call) is open
        // writes nothing more.
        if !self.still_admitted(caller) {
            return Err(CoreError::PermissionDenied(format!("party {} is suspended", caller.id())));
        }
        let Change { records, transitions, kind, subject, audience, content, time } = change;
        let time = rfc3339(time);
        let mut events = Vec::with_capacity(1 + more.len());
        for (kind, subject, audience, content) in std::iter::once((kind, subject, audience, content))
            .chain(more.into_iter().map(|m| (m.kind, m.subject, m.audience, m.content)))
        {
            let event = Event {
                sequence: 0,
                // As it reads back from the log (microseconds).
                time: parse_time(&time)?,
                kind: kind.to_owned(),
                actor: caller.id().to_string(),
                content,
            };
            let content = to_json(&event.content)?;
            if content.len() > cosx_domain::limits::MAX_EVENT_BYTES {
                // A backstop behind the request limits: an event no subscriber
                // could receive would stop every feed behind it.
                let mut v = Violations::new();
                let most = cosx_domain::limits::MAX_EVENT_BYTES;
                v.add(
                    "request",
                    format!("the change would publish {} bytes; at most {most} may go out as one event", content.len()),
                );
                return Err(CoreError::Invalid(v));
            }
            let stored = NewEvent {
                time: time.clone(),
                kind: kind.to_owned(),
                actor: caller.id().to_string(),
                actor_cert: caller.cert_fingerprint.clone(),
                subject,
                audience: audience.clone(),
                content,
            };
            events.push((event, audience, stored));
        }
        let mut stored: Vec<NewEvent> = Vec::with_capacity(events.len());
        let mut remembered = Vec::with_capacity(events.len());
        for (event, audience, new) in events {
            stored.push(new);
            remembered.push((event, audience));
        }
        let first = stored.remove(0);
        let commit = Commit {
            idempotency: (!key.request_id.is_empty()).then(|| IdempotencyKey {
                caller: caller.id().to_string(),
                request_id: key.request_id.clone(),
                request_hash: key.payload_hash.clone(),
            }),
            party: None,
            records,
            transitions,
            event: first,
            more_events: stored,
            response,
        };
        match self.store.commit(commit).await? {
            Committed::New { sequence } => {
                let mut last = sequence;
                for ((event, audience), at) in remembered.into_iter().zip(sequence..) {
                    self.remember(Event { sequence: at, ..event }, audience);
                    last = at;
                }
                self.advance_head(last);
                Ok(None)
            }
            Committed::Replayed { response } => Ok(Some(response)),
        }
    }

    // ----- registry -------------------------------------------------------

    async fn commit_party(
        &self,
        actor: &PartyId,
        actor_cert: &str,
        party: Party,
        expected: Option<i64>,
        key: Option<IdempotencyKey>,
    ) -> Result<(Party, i64)> {
        let time = now();
        let kind = if expected.is_none() { "PARTY_REGISTERED" } else { "PARTY_SUSPENDED" };
        let commit = Commit {
            idempotency: key,
            party: Some((party.clone(), expected)),
            records: vec![],
            transitions: vec![],
            event: NewEvent {
                time: rfc3339(time),
                kind: kind.into(),
                actor: actor.to_string(),
                actor_cert: actor_cert.to_owned(),
                subject: format!("parties/{}", party.id),
                audience: Audience { owner: party.id.to_string(), everyone: true, ..Audience::default() },
                content: to_json(&EventContent::Party { party: party.clone() })?,
            },
            more_events: vec![],
            response: to_json(&party)?,
        };
        let etag = expected.map_or(1, |e| e + 1);
        match self.store.commit(commit).await? {
            Committed::New { sequence } => {
                self.advance_head(sequence);
            }
            Committed::Replayed { response } => {
                let party: Party = from_json(&response)?;
                return Ok(self.party(&party.id).unwrap_or((party, etag)));
            }
        }
        self.parties.write().unwrap_or_else(|e| e.into_inner()).insert(party.id.clone(), (party.clone(), etag));
        Ok((party, etag))
    }

    /// The current version of the record with this natural key, if any.
    async fn current<T: DeserializeOwned>(&self, natural_key: &str) -> Result<Option<T>> {
        self.store.current_report(natural_key).await?.map(|body| from_json(&body)).transpose()
    }

    /// One stored record of `kind` if the caller may see it, else
    /// NOT_FOUND, decided by the store before anything is parsed (missing and
    /// hidden cost the same); `may_see` checks the record once more.
    async fn load_visible<T: DeserializeOwned>(
        &self,
        caller: &Caller,
        kind: RecordKind,
        id: &str,
        may_see_it: impl Fn(&T) -> bool,
    ) -> Result<T> {
        let body = self.store.visible_record(kind, id, &viewer(caller)).await?;
        body.map(|b| from_json::<T>(&b))
            .transpose()?
            .filter(may_see_it)
            .ok_or_else(|| CoreError::NotFound(format!("{}/{id}", collection(kind))))
    }

    async fn list<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        caller: &Caller,
        filter: &RecordFilter,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<T>> {
        self.list_as(kind, &viewer(caller), filter, page_size, page_token).await
    }

    /// A page of the records of `kind` that `viewer` may see.
    async fn list_as<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        viewer: &Viewer,
        filter: &RecordFilter,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<T>> {
        let (after, size) = page_bounds(page_size, page_token)?;
        let mut rows = self.store.list_records(kind, viewer, filter, after, size + 1).await?;
        let mut more = rows.len() > size as usize;
        // Records written by one commit (the parts of a split) share a
        // position, and the next page starts after a position: never end a
        // page inside such a group, or its other members would be skipped.
        // (Found by the SIGKILL loop in server/tests/process/crash.rs.)
        let size = size as usize;
        if more && rows[size].position == rows[size - 1].position {
            let boundary = rows[size].position;
            let before = rows[..size].iter().filter(|r| r.position != boundary).count();
            if before > 0 {
                rows.truncate(before);
            } else {
                // The whole page is one group: take all of it.
                let mut limit = (size as u32).saturating_mul(2).max(16);
                loop {
                    rows = self.store.list_records(kind, viewer, filter, after, limit).await?;
                    if rows.len() < limit as usize || rows.last().is_some_and(|r| r.position != boundary) {
                        break;
                    }
                    limit = limit.saturating_mul(2);
                }
                more = rows.iter().any(|r| r.position != boundary);
                rows.retain(|r| r.position == boundary);
            }
        } else {
            rows.truncate(size);
        }
        let next_page_token =
            if more { rows.last().map(|r| r.position.to_string()).unwrap_or_default() } else { String::new() };
        let items = rows.iter().map(|r| from_json(&r.body)).collect::<Result<Vec<T>>>()?;
        Ok(Page { items, next_page_token })
    }

    /// Every current record of a kind the caller may see.
    async fn all_visible<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        caller: &Caller,
        filter: &RecordFilter,
    ) -> Result<Vec<T>> {
        self.all_records(kind, &viewer(caller), filter).await
    }

    /// Every current record of a kind `viewer` may see.
    async fn all_records<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        viewer: &Viewer,
        filter: &RecordFilter,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let rows = self.store.list_records(kind, viewer, filter, after, MAX_PAGE).await?;
            let Some(last) = rows.last() else { break };
            after = last.position;
            let full = rows.len() == MAX_PAGE as usize;
            for r in &rows {
                out.push(from_json(&r.body)?);
            }
            if !full {
                break;
            }
        }
        Ok(out)
    }

    /// The nation of a registered party.
    pub fn party_nation(&self, id: &PartyId) -> Option<cosx_domain::Nation> {
        self.party(id).map(|(p, _)| p.nation)
    }

    /// Whether the caller is still allowed service (suspension ends open streams).
    pub fn still_admitted(&self, caller: &Caller) -> bool {
        self.party(caller.id()).is_some_and(|(p, _)| !p.suspended)
    }

    /// Whether a certificate naming `party` may be served at all: the party
    /// is registered and not suspended. The edge asks before a call takes
    /// any slot.
    pub fn admits(&self, party: &str) -> std::result::Result<(), String> {
        match PartyId::parse(party).ok().and_then(|id| self.party(&id)) {
            Some((p, _)) if p.suspended => Err(format!("party {party} is suspended")),
            Some(_) => Ok(()),
            None => Err(format!("party {party} is not registered with this exchange")),
        }
    }
}
