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
use cosx_domain::offers::{self, OfferChangeError, OfferView};
use cosx_domain::records::*;
use cosx_domain::visibility::{may_see, step_provider, visible_history};
use cosx_domain::{Action, Caller, LifecycleError, Party, PartyId, RepairOrderState, Violations};
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::watch;

pub use crate::log::{Event, EventContent};
use crate::store::*;

/// Why a request was refused. The API layer maps each to one gRPC code.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// No usable identity.
    #[error("{0}")]
    Unauthenticated(String),
    /// Known caller, not allowed.
    #[error("{0}")]
    PermissionDenied(String),
    /// Bad input, field by field.
    #[error("{0}")]
    Invalid(Violations),
    /// Not there, or not visible to the caller (the two are not told apart).
    #[error("{0} not found")]
    NotFound(String),
    /// The caller's version is stale, or a concurrent change won.
    #[error("{0}")]
    Aborted(String),
    /// The record's state does not allow the step.
    #[error("{0}")]
    FailedPrecondition(String),
    /// A request id reused for a different request.
    #[error("{0}")]
    AlreadyExists(String),
    /// The caller holds as much of a bounded resource as it may.
    #[error("{0}")]
    ResourceExhausted(String),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => CoreError::Aborted(format!(
                "{what} was changed concurrently; read it again and retry with its new version"
            )),
            StoreError::IdempotencyMismatch(id) => {
                CoreError::AlreadyExists(format!("request_id {id:?} was already used for a different request"))
            }
            other => CoreError::Store(other),
        }
    }
}

impl From<Violations> for CoreError {
    fn from(v: Violations) -> Self {
        CoreError::Invalid(v)
    }
}

type Result<T> = std::result::Result<T, CoreError>;

/// What a client asked to be idempotent: its request id and a hash of the payload.
#[derive(Debug, Clone, Default)]
pub struct RequestKey {
    /// The caller's request id; empty for none.
    pub request_id: String,
    /// Hash of the request payload.
    pub payload_hash: String,
    /// The id the caller chose for the record the request creates (party
    /// nodes choose them, so that the name they answered with holds).
    pub new_id: Option<String>,
}

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
        crate::metrics::feed_subscribers(1);
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
        crate::metrics::feed_subscribers(-1);
    }
}

/// The actor of events the coordinator raises by itself (alerts). Their
/// audience is coordinators only.
pub const SYSTEM_ACTOR: &str = "COSX-SIGNALS";

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

/// The status a refused lifecycle step maps to.
pub fn lifecycle_error(e: LifecycleError) -> CoreError {
    match e {
        LifecycleError::WrongActor { .. } => CoreError::PermissionDenied(e.to_string()),
        _ => CoreError::FailedPrecondition(e.to_string()),
    }
}

/// The collection in a record's resource name.
fn collection(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::RepairOrder => "repairOrders",
        RecordKind::CapacityOffer => "capacityOffers",
        RecordKind::AvailabilityReport => "availabilityReports",
        RecordKind::AvailabilityTarget => "availabilityTargets",
        RecordKind::DepotBaseline => "depotBaselines",
    }
}

/// The ids of the parts a split makes of `parent`: fixed by the parent's id,
/// so a party node that splits offline names them as the coordinator will.
pub fn split_part_ids(parent: &str, parts: usize) -> Vec<String> {
    (1..=parts).map(|i| format!("{parent}-{i}")).collect()
}

fn ids(list: &[PartyId]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

fn audience(owner: &PartyId, provider: Option<&PartyId>, releasability: &cosx_domain::Releasability) -> Audience {
    Audience {
        owner: owner.to_string(),
        provider: provider.map(ToString::to_string),
        parties: ids(&releasability.parties),
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

/// Stored name of an offer state.
/// The status a refused offer change maps to (coordinator and node alike).
pub fn offer_change_error(name: &str, e: OfferChangeError) -> CoreError {
    match e {
        OfferChangeError::NotTheProvider { .. } => CoreError::PermissionDenied(format!("{name}: {e}")),
        OfferChangeError::NotActive(_) => CoreError::FailedPrecondition(format!("{name}: {e}")),
        OfferChangeError::Stale { .. } => CoreError::Aborted(format!("{name}: {e}")),
        OfferChangeError::ProviderChanged => {
            let mut v = Violations::new();
            v.add("capacity_offer.provider", e.to_string());
            CoreError::Invalid(v)
        }
    }
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
    async fn check_eligibility(&self, caller: &Caller, order: &RepairOrder, provider: &PartyId) -> Result<()> {
        use crate::signals::balance as adapt;
        let parties: HashMap<PartyId, Party> = self
            .parties
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, (p, _))| (k.clone(), p.clone()))
            .collect();
        let id = &order.id;
        let Some(core_order) = adapt::open_orders(std::slice::from_ref(order), &parties).pop() else {
            return Err(CoreError::FailedPrecondition(format!(
                "repairOrders/{id} cannot be judged for eligibility (its originator's nation or its fields are not \
                 usable by allocation)"
            )));
        };
        let filter =
            RecordFilter { state: Some("ACTIVE".into()), owner: Some(provider.to_string()), ..RecordFilter::default() };
        let offers: Vec<CapacityOffer> = self.all_visible(RecordKind::CapacityOffer, caller, &filter).await?;
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
                    core.head.send_if_modified(|h| {
                        let newer = sequence > *h;
                        *h = (*h).max(sequence);
                        newer
                    });
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
        let id = cosx_certs::party_id_from_cert(der, &self.trust_domain)
            .map_err(|e| CoreError::Unauthenticated(e.to_string()))?;
        let id = PartyId::parse(&id).map_err(CoreError::Unauthenticated)?;
        let (party, _) = self
            .party(&id)
            .ok_or_else(|| CoreError::PermissionDenied(format!("party {id} is not registered with this exchange")))?;
        if party.suspended {
            return Err(CoreError::PermissionDenied(format!("party {id} is suspended")));
        }
        Ok(Caller { party, cert_fingerprint: cosx_certs::fingerprint(der) })
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
        // Re-checked at every write, not only when a call starts: a party
        // suspended while its Ingest stream (or any long call) is open
        // writes nothing more.
        if !self.still_admitted(caller) {
            return Err(CoreError::PermissionDenied(format!("party {} is suspended", caller.id())));
        }
        let Change { records, transitions, kind, subject, audience: event_audience, content, time } = change;
        let remembered_audience = event_audience.clone();
        let time = rfc3339(time);
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
        let commit = Commit {
            idempotency: (!key.request_id.is_empty()).then(|| IdempotencyKey {
                caller: caller.id().to_string(),
                request_id: key.request_id.clone(),
                request_hash: key.payload_hash.clone(),
            }),
            party: None,
            records,
            transitions,
            event: NewEvent {
                time,
                kind: kind.to_owned(),
                actor: caller.id().to_string(),
                actor_cert: caller.cert_fingerprint.clone(),
                subject,
                audience: event_audience,
                content,
            },
            response,
        };
        match self.store.commit(commit).await? {
            Committed::New { sequence } => {
                self.remember(Event { sequence, ..event }, remembered_audience);
                self.head.send_if_modified(|h| {
                    let newer = sequence > *h;
                    if newer {
                        *h = sequence;
                    }
                    newer
                });
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
            response: to_json(&party)?,
        };
        let etag = expected.map_or(1, |e| e + 1);
        match self.store.commit(commit).await? {
            Committed::New { sequence } => {
                self.head.send_if_modified(|h| {
                    let newer = sequence > *h;
                    *h = (*h).max(sequence);
                    newer
                });
            }
            Committed::Replayed { response } => {
                let party: Party = from_json(&response)?;
                return Ok(self.party(&party.id).unwrap_or((party, etag)));
            }
        }
        self.parties.write().unwrap_or_else(|e| e.into_inner()).insert(party.id.clone(), (party.clone(), etag));
        Ok((party, etag))
    }

    /// Registers a party (coordinators only).
    pub async fn register_party(&self, caller: &Caller, party: Party, key: &RequestKey) -> Result<(Party, i64)> {
        if !caller.is_coordinator() {
            return Err(CoreError::PermissionDenied("only a COORDINATOR party may register parties".into()));
        }
        if let Some(p) = self.replay::<Party>(caller, key).await? {
            return Ok(self.party(&p.id).unwrap_or((p, 1)));
        }
        if self.party(&party.id).is_some() {
            return Err(CoreError::AlreadyExists(format!("party {} is already registered", party.id)));
        }
        let idem = (!key.request_id.is_empty()).then(|| IdempotencyKey {
            caller: caller.id().to_string(),
            request_id: key.request_id.clone(),
            request_hash: key.payload_hash.clone(),
        });
        self.commit_party(caller.id(), &caller.cert_fingerprint, party, None, idem).await
    }

    /// Suspends a party (coordinators only): its calls are refused from now on.
    pub async fn suspend_party(&self, caller: &Caller, id: &PartyId, etag: Option<i64>) -> Result<(Party, i64)> {
        if !caller.is_coordinator() {
            return Err(CoreError::PermissionDenied("only a COORDINATOR party may suspend parties".into()));
        }
        let (mut party, current) = self.party(id).ok_or_else(|| CoreError::NotFound(format!("parties/{id}")))?;
        if etag.is_some_and(|e| e != current) {
            return Err(CoreError::Aborted(format!("parties/{id} has etag {current}, not the one given")));
        }
        party.suspended = true;
        self.commit_party(caller.id(), &caller.cert_fingerprint, party, Some(current), None).await
    }

    /// One party.
    pub fn get_party(&self, _caller: &Caller, id: &PartyId) -> Result<(Party, i64)> {
        self.party(id).ok_or_else(|| CoreError::NotFound(format!("parties/{id}")))
    }

    /// Every registered party, by id.
    pub fn list_parties(&self, _caller: &Caller) -> Vec<(Party, i64)> {
        let mut all: Vec<_> = self.parties.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        all.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        all
    }

    // ----- repair orders -------------------------------------------------

    /// Creates a repair order as the caller.
    pub async fn create_order(
        &self,
        caller: &Caller,
        draft: RepairOrderDraft,
        key: &RequestKey,
    ) -> Result<RepairOrder> {
        if &draft.originator != caller.id() {
            return Err(CoreError::PermissionDenied(format!(
                "repair_order.originator: {} may only submit orders as itself, not as {}",
                caller.id(),
                draft.originator
            )));
        }
        let time = now();
        let order = RepairOrder {
            id: Self::id_for(key),
            draft,
            state: RepairOrderState::Submitted,
            provider: None,
            version: 1,
            parent: None,
            create_time: time,
            update_time: time,
            progress: WorkProgress::default(),
        };
        let transition = Transition {
            version: 1,
            from: None,
            to: RepairOrderState::Submitted,
            actor: caller.id().clone(),
            time,
            reason: None,
            provider: None,
            progress: WorkProgress::default(),
        };
        let write = order_write(&order, None)?;
        let aud = write.audience.clone();
        let replayed = self
            .commit_create(
                caller,
                key,
                Change {
                    records: vec![write],
                    transitions: vec![TransitionWrite {
                        order_id: order.id.clone(),
                        version: 1,
                        body: to_json(&transition)?,
                    }],
                    kind: "REPAIR_ORDER_CREATED",
                    subject: format!("repairOrders/{}", order.id),
                    audience: aud,
                    content: EventContent::RepairOrder { order: order.clone(), transition: Some(transition) },
                    time,
                },
                RecordKind::RepairOrder,
            )
            .await?;
        Ok(replayed.unwrap_or(order))
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

    /// One order, if the caller may see it.
    pub async fn get_order(&self, caller: &Caller, id: &str) -> Result<RepairOrder> {
        self.load_visible(caller, RecordKind::RepairOrder, id, |o: &RepairOrder| {
            may_see(&caller.party, &o.draft.originator, o.provider.as_ref(), &o.draft.controls.releasability)
        })
        .await
    }

    /// A page of the orders the caller may see.
    pub async fn list_orders(
        &self,
        caller: &Caller,
        filter: &OrderFilter,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<RepairOrder>> {
        self.list(RecordKind::RepairOrder, caller, filter, page_size, page_token).await
    }

    async fn list<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        caller: &Caller,
        filter: &RecordFilter,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<T>> {
        let (after, size) = page_bounds(page_size, page_token)?;
        let viewer = viewer(caller);
        let mut rows = self.store.list_records(kind, &viewer, filter, after, size + 1).await?;
        let mut more = rows.len() > size as usize;
        // Records written by one commit (the parts of a split) share a
        // position, and the next page starts after a position: never end a
        // page inside such a group, or its other members would be skipped.
        // (Found by the SIGKILL loop in server/tests/crash.rs.)
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
                    rows = self.store.list_records(kind, &viewer, filter, after, limit).await?;
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

    /// Moves an order one lifecycle step.
    #[allow(clippy::too_many_arguments)]
    pub async fn transition_order(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        action: Action,
        reason: Option<String>,
        progress: WorkProgress,
        key: &RequestKey,
    ) -> Result<RepairOrder> {
        if let Some(order) = self.replay(caller, key).await? {
            return Ok(order);
        }
        let mut order = self.get_order(caller, id).await?;
        // A stale view is refused first: the caller must re-read before anything else is judged.
        if order.version != version {
            return Err(CoreError::Aborted(format!(
                "repairOrders/{id} is at version {}, not {version}: read it again and retry",
                order.version
            )));
        }
        if let Action::Propose(provider) = &action {
            let (party, _) = self.party(provider).ok_or_else(|| {
                let mut v = Violations::new();
                v.add("provider", format!("{provider} is not a registered party"));
                CoreError::Invalid(v)
            })?;
            if party.suspended {
                return Err(CoreError::FailedPrecondition(format!("provider {provider} is suspended")));
            }
            if party.kind == cosx_domain::PartyKind::Coordinator {
                return Err(CoreError::FailedPrecondition(format!(
                    "{provider} is a coordinating office, not a provider"
                )));
            }
        }
        let step = lifecycle::apply(
            OrderView { state: order.state, originator: &order.draft.originator, provider: order.provider.as_ref() },
            caller.id(),
            caller.is_coordinator(),
            &action,
        )
        .map_err(lifecycle_error)?;
        // The same eligibility as `Allocation` (DESIGN §2, controls; FMS third-country rules).
        if let Action::Propose(provider) = &action {
            self.check_eligibility(caller, &order, provider).await?;
        }
        let time = now();
        let held_by = order.provider.clone();
        let transition = Transition {
            version: order.version + 1,
            from: Some(order.state),
            to: step.to,
            actor: caller.id().clone(),
            time,
            reason,
            provider: match &action {
                Action::Propose(p) => Some(p.clone()),
                _ => None,
            },
            progress: progress.clone(),
        };
        order.state = step.to;
        order.provider = step.provider;
        order.version += 1;
        order.update_time = time;
        order.progress.merge(&progress);
        let write = order_write(&order, Some(version))?;
        // The feed shows a step to the parties it concerns (a provider that
        // declines still learns its own decline went through); history does the same.
        let mut aud = write.audience.clone();
        aud.provider = step_provider(held_by.as_ref(), order.provider.as_ref(), order.state).map(ToString::to_string);
        let replayed = self
            .commit(
                caller,
                key,
                Change {
                    records: vec![write],
                    transitions: vec![TransitionWrite {
                        order_id: order.id.clone(),
                        version: order.version,
                        body: to_json(&transition)?,
                    }],
                    kind: "REPAIR_ORDER_TRANSITIONED",
                    subject: format!("repairOrders/{}", order.id),
                    audience: aud,
                    content: EventContent::RepairOrder { order: order.clone(), transition: Some(transition) },
                    time,
                },
                &order,
            )
            .await?;
        Ok(replayed.unwrap_or(order))
    }

    /// Splits an open order into parts (originator or coordinator).
    pub async fn split_order(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        quantities: &[u32],
        key: &RequestKey,
    ) -> Result<(RepairOrder, Vec<RepairOrder>)> {
        if let Some(done) = self.replay(caller, key).await? {
            return Ok(done);
        }
        let mut parent = self.get_order(caller, id).await?;
        if !(caller.is_coordinator() || caller.id() == &parent.draft.originator) {
            return Err(CoreError::PermissionDenied("only the originator or a coordinator may split an order".into()));
        }
        let v = lifecycle::split_violations(parent.draft.quantity, quantities);
        if !v.is_empty() {
            return Err(v.into());
        }
        if !parent.state.is_open() {
            return Err(CoreError::FailedPrecondition(format!(
                "only a SUBMITTED or DECLINED order can be split; this one is {}",
                parent.state
            )));
        }
        if parent.version != version {
            return Err(CoreError::Aborted(format!(
                "repairOrders/{id} is at version {}, not {version}",
                parent.version
            )));
        }
        let time = now();
        let hours_per_item = parent.draft.estimated_labor_hours / f64::from(parent.draft.quantity);
        let parts: Vec<RepairOrder> = quantities
            .iter()
            .zip(split_part_ids(&parent.id, quantities.len()))
            .map(|(&q, id)| {
                let mut draft = parent.draft.clone();
                draft.quantity = q;
                draft.estimated_labor_hours = hours_per_item * f64::from(q);
                RepairOrder {
                    id,
                    draft,
                    state: RepairOrderState::Submitted,
                    provider: None,
                    version: 1,
                    parent: Some(parent.id.clone()),
                    create_time: time,
                    update_time: time,
                    progress: WorkProgress::default(),
                }
            })
            .collect();
        let from = parent.state;
        parent.state = RepairOrderState::Cancelled;
        parent.version += 1;
        parent.update_time = time;
        let reason = format!(
            "split into {}",
            parts.iter().map(|p| format!("repairOrders/{}", p.id)).collect::<Vec<_>>().join(", ")
        );
        let step = Transition {
            version: parent.version,
            from: Some(from),
            to: RepairOrderState::Cancelled,
            actor: caller.id().clone(),
            time,
            reason: Some(reason),
            provider: None,
            progress: WorkProgress::default(),
        };
        let mut writes = vec![order_write(&parent, Some(version))?];
        let mut transitions =
            vec![TransitionWrite { order_id: parent.id.clone(), version: parent.version, body: to_json(&step)? }];
        for part in &parts {
            writes.push(order_write(part, None)?);
            let created = Transition {
                version: 1,
                from: None,
                to: RepairOrderState::Submitted,
                actor: caller.id().clone(),
                time,
                reason: Some(format!("split from repairOrders/{}", parent.id)),
                provider: None,
                progress: WorkProgress::default(),
            };
            transitions.push(TransitionWrite { order_id: part.id.clone(), version: 1, body: to_json(&created)? });
        }
        let aud = writes[0].audience.clone();
        let response = (parent.clone(), parts.clone());
        let replayed = self
            .commit(
                caller,
                key,
                Change {
                    records: writes,
                    transitions,
                    kind: "REPAIR_ORDER_SPLIT",
                    subject: format!("repairOrders/{}", parent.id),
                    audience: aud,
                    content: EventContent::Split { parent, parts },
                    time,
                },
                &response,
            )
            .await?;
        Ok(replayed.unwrap_or(response))
    }

    /// An order's lifecycle steps, oldest first, with the sequence of each.
    pub async fn order_history(&self, caller: &Caller, id: &str) -> Result<Vec<(Transition, i64)>> {
        let order = self.get_order(caller, id).await?;
        let stored = self.store.transitions(id).await?;
        let steps: Vec<Transition> = stored.iter().map(|(body, _)| from_json(body)).collect::<Result<_>>()?;
        let owner = &order.draft.originator;
        let seen = visible_history(&caller.party, owner, &order.draft.controls.releasability, &steps);
        Ok(seen.into_iter().map(|i| (steps[i].clone(), stored[i].1)).collect())
    }

    // ----- capacity offers ------------------------------------------------

    /// Creates a capacity offer as the caller.
    pub async fn create_offer(
        &self,
        caller: &Caller,
        draft: CapacityOfferDraft,
        key: &RequestKey,
    ) -> Result<CapacityOffer> {
        if &draft.provider != caller.id() {
            return Err(CoreError::PermissionDenied(format!(
                "capacity_offer.provider: {} may only offer capacity as itself, not as {}",
                caller.id(),
                draft.provider
            )));
        }
        let time = now();
        let offer = CapacityOffer {
            id: Self::id_for(key),
            draft,
            state: OfferState::Active,
            version: 1,
            create_time: time,
            update_time: time,
        };
        self.commit_offer(caller, key, offer, None, "CAPACITY_OFFER_CREATED", time).await
    }

    async fn commit_offer(
        &self,
        caller: &Caller,
        key: &RequestKey,
        offer: CapacityOffer,
        expected: Option<i64>,
        kind: &'static str,
        time: DateTime<Utc>,
    ) -> Result<CapacityOffer> {
        let write = offer_write(&offer, expected)?;
        let aud = write.audience.clone();
        let subject = format!("capacityOffers/{}", offer.id);
        let change = Change {
            records: vec![write],
            transitions: vec![],
            kind,
            subject,
            audience: aud,
            content: EventContent::CapacityOffer { offer: offer.clone() },
            time,
        };
        let replayed = match expected {
            None => self.commit_create(caller, key, change, RecordKind::CapacityOffer).await?,
            Some(_) => self.commit(caller, key, change, &offer).await?,
        };
        Ok(replayed.unwrap_or(offer))
    }

    /// One offer, if the caller may see it.
    pub async fn get_offer(&self, caller: &Caller, id: &str) -> Result<CapacityOffer> {
        self.load_visible(caller, RecordKind::CapacityOffer, id, |o: &CapacityOffer| {
            may_see(&caller.party, &o.draft.provider, None, &o.draft.releasability)
        })
        .await
    }

    /// A page of the offers the caller may see.
    pub async fn list_offers(
        &self,
        caller: &Caller,
        filter: &RecordFilter,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<CapacityOffer>> {
        self.list(RecordKind::CapacityOffer, caller, filter, page_size, page_token).await
    }

    async fn own_offer(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        new_provider: Option<&PartyId>,
    ) -> Result<CapacityOffer> {
        let offer = self.get_offer(caller, id).await?;
        let view = OfferView { provider: &offer.draft.provider, state: offer.state, version: offer.version };
        offers::check_change(view, caller.id(), version, new_provider)
            .map_err(|e| offer_change_error(&format!("capacityOffers/{id}"), e))?;
        Ok(offer)
    }

    /// Replaces an offer's terms with a new version (history is kept in the log).
    pub async fn update_offer(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        draft: CapacityOfferDraft,
        key: &RequestKey,
    ) -> Result<CapacityOffer> {
        if let Some(offer) = self.replay(caller, key).await? {
            return Ok(offer);
        }
        let mut offer = self.own_offer(caller, id, version, Some(&draft.provider)).await?;
        let time = now();
        offer.draft = draft;
        offer.version += 1;
        offer.update_time = time;
        self.commit_offer(caller, key, offer, Some(version), "CAPACITY_OFFER_UPDATED", time).await
    }

    /// Withdraws an offer; it stays readable with its history.
    pub async fn withdraw_offer(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        key: &RequestKey,
    ) -> Result<CapacityOffer> {
        if let Some(offer) = self.replay(caller, key).await? {
            return Ok(offer);
        }
        let mut offer = self.own_offer(caller, id, version, None).await?;
        let time = now();
        offer.state = OfferState::Withdrawn;
        offer.version += 1;
        offer.update_time = time;
        self.commit_offer(caller, key, offer, Some(version), "CAPACITY_OFFER_WITHDRAWN", time).await
    }

    // ----- availability reports ------------------------------------------

    /// Stores a report; a report for the same reporter, TMS and timeframe supersedes the current one.
    pub async fn submit_report(
        &self,
        caller: &Caller,
        draft: AvailabilityReportDraft,
        key: &RequestKey,
    ) -> Result<AvailabilityReport> {
        if &draft.reporter != caller.id() {
            return Err(CoreError::PermissionDenied(format!(
                "availability_report.reporter: {} may only report as itself, not as {}",
                caller.id(),
                draft.reporter
            )));
        }
        let natural_key = report_key(&draft);
        // The first attempt reads nothing: it supersedes the report this
        // process last stored for the same reporter, TMS and timeframe, or
        // nothing (most reports open a new timeframe). The store checks that
        // guess as it commits: if another report is current, it refuses the
        // insert, and the second attempt supersedes the one it then reads.
        // A repeated request id is replayed either way.
        let mut draft = draft;
        let mut current: Option<(String, i64)> = self.guess_current_report(&natural_key);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let time = now();
            let report = AvailabilityReport {
                id: Self::id_for(key),
                version: current.as_ref().map_or(1, |(_, version)| version + 1),
                supersedes: current.as_ref().map(|(id, _)| id.clone()),
                draft,
                create_time: time,
            };
            let write = RecordWrite {
                kind: RecordKind::AvailabilityReport,
                id: report.id.clone(),
                expected_version: None,
                version: report.version,
                audience: audience(&report.draft.reporter, None, &report.draft.releasability),
                state: None,
                tms: Some(report.draft.tms.to_string()),
                region: Some(report.draft.region.as_str().to_owned()),
                natural_key: Some(natural_key.clone()),
                supersedes: report.supersedes.clone(),
                body: to_json(&report)?,
            };
            let change = Change {
                audience: write.audience.clone(),
                records: vec![write],
                transitions: vec![],
                kind: "AVAILABILITY_REPORT_SUBMITTED",
                subject: format!("availabilityReports/{}", report.id),
                content: EventContent::AvailabilityReport { report: report.clone() },
                time,
            };
            match self.commit_create(caller, key, change, RecordKind::AvailabilityReport).await {
                Ok(Some(replayed)) => return Ok(replayed),
                Ok(None) => {
                    self.remember_current_report(natural_key, &report);
                    return Ok(report);
                }
                Err(CoreError::Aborted(_)) if attempt == 1 => {
                    let stored: Option<AvailabilityReport> = self.current(&natural_key).await?;
                    current = stored.map(|c| (c.id, c.version));
                    draft = report.draft;
                }
                Err(refused) => return Err(refused),
            }
        }
    }

    fn guess_current_report(&self, natural_key: &str) -> Option<(String, i64)> {
        self.current_reports.lock().unwrap_or_else(|e| e.into_inner()).get(natural_key).cloned()
    }

    fn remember_current_report(&self, natural_key: String, report: &AvailabilityReport) {
        let mut known = self.current_reports.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= CURRENT_REPORTS && !known.contains_key(&natural_key) {
            known.clear();
        }
        known.insert(natural_key, (report.id.clone(), report.version));
    }

    /// One report, if the caller may see it.
    pub async fn get_report(&self, caller: &Caller, id: &str) -> Result<AvailabilityReport> {
        self.load_visible(caller, RecordKind::AvailabilityReport, id, |r: &AvailabilityReport| {
            may_see(&caller.party, &r.draft.reporter, None, &r.draft.releasability)
        })
        .await
    }

    /// A page of the reports the caller may see.
    pub async fn list_reports(
        &self,
        caller: &Caller,
        filter: &RecordFilter,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<AvailabilityReport>> {
        self.list(RecordKind::AvailabilityReport, caller, filter, page_size, page_token).await
    }

    // ----- availability targets and metrics -----------------------------

    /// Sets the caller's A_M / A_O target for one TMS; the previous one is superseded.
    pub async fn set_target(
        &self,
        caller: &Caller,
        draft: AvailabilityTargetDraft,
        key: &RequestKey,
    ) -> Result<AvailabilityTarget> {
        if &draft.owner != caller.id() {
            return Err(CoreError::PermissionDenied(format!(
                "target.owner: {} may only set targets for its own fleets, not for {}",
                caller.id(),
                draft.owner
            )));
        }
        let natural_key = format!("target|{}|{}", draft.owner, draft.tms);
        let current: Option<AvailabilityTarget> = self.current(&natural_key).await?;
        let time = now();
        let target = AvailabilityTarget {
            id: Self::id_for(key),
            version: current.as_ref().map_or(1, |c| c.version + 1),
            draft,
            create_time: time,
        };
        let write = RecordWrite {
            kind: RecordKind::AvailabilityTarget,
            id: target.id.clone(),
            expected_version: None,
            version: target.version,
            audience: audience(&target.draft.owner, None, &cosx_domain::Releasability::default()),
            state: None,
            tms: Some(target.draft.tms.to_string()),
            region: None,
            natural_key: Some(natural_key),
            supersedes: current.map(|c| c.id),
            body: to_json(&target)?,
        };
        let change = Change {
            audience: write.audience.clone(),
            records: vec![write],
            transitions: vec![],
            kind: "AVAILABILITY_TARGET_SET",
            subject: format!("availabilityTargets/{}", target.id),
            content: EventContent::AvailabilityTarget { target: target.clone() },
            time,
        };
        Ok(self.commit_create(caller, key, change, RecordKind::AvailabilityTarget).await?.unwrap_or(target))
    }

    /// Every current record of a kind the caller may see.
    async fn all_visible<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        caller: &Caller,
        filter: &RecordFilter,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let rows = self.store.list_records(kind, &viewer(caller), filter, after, MAX_PAGE).await?;
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

    /// The current targets the caller may see.
    pub async fn list_targets(
        &self,
        caller: &Caller,
        owner: Option<String>,
        tms: Option<String>,
    ) -> Result<Vec<AvailabilityTarget>> {
        let filter = RecordFilter { owner, tms, ..RecordFilter::default() };
        self.all_visible(RecordKind::AvailabilityTarget, caller, &filter).await
    }

    /// The current version of every report the caller may see, with the
    /// reporter's nation, and the targets it may see.
    pub async fn availability_inputs(
        &self,
        caller: &Caller,
    ) -> Result<(Vec<(AvailabilityReport, cosx_domain::Nation)>, Vec<AvailabilityTarget>)> {
        let reports: Vec<AvailabilityReport> =
            self.all_visible(RecordKind::AvailabilityReport, caller, &RecordFilter::default()).await?;
        let with_nation = reports
            .into_iter()
            .map(|r| {
                let nation = self.party(&r.draft.reporter).map_or_else(cosx_domain::Nation::usa, |(p, _)| p.nation);
                (r, nation)
            })
            .collect();
        let targets = self.list_targets(caller, None, None).await?;
        Ok((with_nation, targets))
    }

    // ----- feed -----------------------------------------------------------

    /// Events after `after` the caller may see, at most `limit`.
    pub async fn events(&self, caller: &Caller, after: i64, limit: u32) -> Result<Vec<Event>> {
        self.store.events(&viewer(caller), after, limit).await?.into_iter().map(event_from).collect()
    }

    /// Records depot work done outside the exchange (coordinators only).
    pub async fn set_baseline(
        &self,
        caller: &Caller,
        mut baseline: DepotBaseline,
        key: &RequestKey,
    ) -> Result<DepotBaseline> {
        if !caller.is_coordinator() {
            return Err(CoreError::PermissionDenied("only a COORDINATOR party may record depot baselines".into()));
        }
        if let Some(done) = self.replay(caller, key).await? {
            return Ok(done);
        }
        let natural_key = format!("baseline|{}|{}", baseline.department, baseline.fiscal_year);
        let current: Option<DepotBaseline> = self.current(&natural_key).await?;
        baseline.id = new_id();
        baseline.version = current.as_ref().map_or(1, |c| c.version + 1);
        let write = RecordWrite {
            kind: RecordKind::DepotBaseline,
            id: baseline.id.clone(),
            expected_version: None,
            version: baseline.version,
            audience: Audience { owner: caller.id().to_string(), ..Audience::default() },
            state: None,
            tms: None,
            region: None,
            natural_key: Some(natural_key),
            supersedes: current.map(|c| c.id),
            body: to_json(&baseline)?,
        };
        let change = Change {
            audience: write.audience.clone(),
            records: vec![write],
            transitions: vec![],
            kind: "DEPOT_BASELINE_SET",
            subject: format!("depotBaselines/{}", baseline.id),
            content: EventContent::DepotBaseline { baseline: baseline.clone() },
            time: now(),
        };
        Ok(self.commit(caller, key, change, &baseline).await?.unwrap_or(baseline))
    }

    /// Inputs of the workload balance and of allocation, as a coordinator
    /// sees them: every order, every active offer, every baseline, and the
    /// registry (for provider kinds and nations). Coordinators only.
    pub async fn balance_inputs(
        &self,
        caller: &Caller,
    ) -> Result<(Vec<RepairOrder>, Vec<CapacityOffer>, Vec<DepotBaseline>, HashMap<PartyId, Party>)> {
        if !caller.is_coordinator() {
            return Err(CoreError::PermissionDenied(
                "workload balance and allocation are computed for coordinating offices only".into(),
            ));
        }
        let orders = self.all_visible(RecordKind::RepairOrder, caller, &RecordFilter::default()).await?;
        let offers = self.visible_offers(caller).await?;
        let baselines = self.all_visible(RecordKind::DepotBaseline, caller, &RecordFilter::default()).await?;
        let parties = self
            .parties
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, (p, _))| (k.clone(), p.clone()))
            .collect();
        Ok((orders, offers, baselines, parties))
    }

    /// Commits an event the coordinator raises by itself (an alert) as
    /// [`SYSTEM_ACTOR`], visible to coordinators only. `change_id` names the
    /// state change deterministically (the n-th change of one alert), and is
    /// stored as an idempotency key: when replicas judging the same log
    /// decide the same change, the first commit wins and the others find it
    /// there. Returns whether this call appended the event.
    pub async fn commit_system_event(
        &self,
        kind: &'static str,
        subject: String,
        content: EventContent,
        change_id: &str,
    ) -> Result<bool> {
        let commit = Commit {
            idempotency: Some(IdempotencyKey {
                caller: SYSTEM_ACTOR.to_owned(),
                request_id: change_id.to_owned(),
                // The same change decided from an older view may carry other
                // figures; the change itself is what must be unique.
                request_hash: change_id.to_owned(),
            }),
            party: None,
            records: vec![],
            transitions: vec![],
            event: NewEvent {
                time: rfc3339(now()),
                kind: kind.to_owned(),
                actor: SYSTEM_ACTOR.to_owned(),
                actor_cert: "system".to_owned(),
                subject,
                audience: Audience { owner: SYSTEM_ACTOR.to_owned(), ..Audience::default() },
                content: to_json(&content)?,
            },
            response: "null".to_owned(),
        };
        match self.store.commit(commit).await {
            Ok(Committed::New { sequence }) => {
                self.head.send_if_modified(|h| {
                    let newer = sequence > *h;
                    *h = (*h).max(sequence);
                    newer
                });
                Ok(true)
            }
            Ok(Committed::Replayed { .. }) | Err(StoreError::IdempotencyMismatch(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Every event after `after`, as a coordinator sees them: for the
    /// aggregates that are kept up to date from the log.
    ///
    /// Served from the events this process committed lately as far as they
    /// follow on without a gap, and from the store after that (events other
    /// processes or other paths committed, and everything older).
    pub async fn all_events(&self, after: i64, limit: u32) -> Result<Vec<Arc<Event>>> {
        let mut events: Vec<Arc<Event>> = {
            let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
            recent
                .range(after + 1..)
                .zip(after + 1..)
                .take_while(|((sequence, _), expected)| *sequence == expected)
                .take(limit as usize)
                .map(|((_, (e, _)), _)| e.clone())
                .collect()
        };
        let last = events.last().map_or(after, |e| e.sequence);
        let wanted = limit.saturating_sub(u32::try_from(events.len()).unwrap_or(u32::MAX));
        if wanted > 0 && last < *self.head.borrow() {
            let everyone = Viewer { party: String::new(), nation: String::new(), coordinator: true };
            for stored in self.store.events(&everyone, last, wanted).await? {
                events.push(Arc::new(event_from(stored)?));
            }
        }
        Ok(events)
    }

    /// Whether any entry after `after` up to `upto` concerns `caller`, if
    /// this process holds them all (`None`: ask the store). A feed
    /// subscriber woken by a commit that does not concern it goes back to
    /// sleep without a query, so a commit costs in proportion to the
    /// subscribers it concerns.
    pub fn concerns(&self, caller: &Caller, after: i64, upto: i64) -> Option<bool> {
        if upto <= after {
            return Some(false);
        }
        let viewer = viewer(caller);
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let mut expected = after + 1;
        let mut concerned = false;
        for (sequence, (_, audience)) in recent.range(after + 1..=upto) {
            if *sequence != expected {
                return None;
            }
            expected += 1;
            concerned |= audience.visible_to(&viewer);
        }
        (expected == upto + 1).then_some(concerned)
    }

    /// Keeps an event just committed for [`Self::all_events`].
    fn remember(&self, event: Event, audience: Audience) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.insert(event.sequence, (Arc::new(event), audience));
        while recent.len() > RECENT_EVENTS {
            recent.pop_first();
        }
    }

    /// The nation of a registered party.
    pub fn party_nation(&self, id: &PartyId) -> Option<cosx_domain::Nation> {
        self.party(id).map(|(p, _)| p.nation)
    }

    /// Every current capacity offer the caller may see.
    pub async fn visible_offers(&self, caller: &Caller) -> Result<Vec<CapacityOffer>> {
        let filter = RecordFilter { state: Some("ACTIVE".into()), ..RecordFilter::default() };
        self.all_visible(RecordKind::CapacityOffer, caller, &filter).await
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

    /// The feed's subscriptions, counted per party.
    pub fn subscriptions(&self) -> &Subscriptions {
        &self.subscriptions
    }

    /// How far the furthest-behind open subscription is from `head`, in
    /// log entries.
    pub fn feed_lag(&self, head: i64) -> i64 {
        self.subscriptions.furthest_behind().map_or(0, |cursor| (head - cursor).max(0))
    }
}
