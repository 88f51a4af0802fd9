//! Storage behind a trait: what the coordinator needs from a database,
//! and nothing about how a backend provides it.
//!
//! Every accepted change is one [`Commit`]: the records it writes (each with
//! the version the writer last saw), the lifecycle step it records, the
//! idempotency key it answers, and the event it appends to the
//! hash-chained log (with, rarely, further events of the same change, each
//! for its own audience: [`Commit::more_events`]) — all in one transaction, so a change and its event are
//! never apart. Backends group concurrent commits into one transaction
//! (`group`) to share its fsync; each commit still succeeds or fails alone,
//! and its caller hears back only once that transaction has committed. Records are stored as JSON of their domain type next to the
//! few columns that queries and visibility need.

mod group;
mod plan;
pub mod postgres;
mod rows;
pub mod sqlite;

use async_trait::async_trait;
use cosx_domain::Party;
use cosx_domain::audit::AuditEntry;
use futures::stream::BoxStream;

pub use cosx_edge::StoreError;

/// The kinds of record the exchange stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// A repair order.
    RepairOrder,
    /// A capacity offer.
    CapacityOffer,
    /// An availability report.
    AvailabilityReport,
    /// A fleet owner's A_M / A_O target for one TMS.
    AvailabilityTarget,
    /// Depot work outside the exchange for one department and fiscal year.
    DepotBaseline,
    /// A provider's quote on an order (`{order}/quotes/{provider}`).
    Quote,
    /// A provider's repair exception on an order (`{order}/exceptions/{n}`).
    RepairException,
    /// A comment on a record (`{collection}/{record}/comments/{comment}`).
    Comment,
    /// A request for update (`updateRequests/{id}`).
    UpdateRequest,
    /// A provider's disruption notice for one of its sites (`{PROVIDER}.{name}`).
    Disruption,
}

impl RecordKind {
    /// Name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::RepairOrder => "repair_order",
            RecordKind::CapacityOffer => "capacity_offer",
            RecordKind::AvailabilityReport => "availability_report",
            RecordKind::AvailabilityTarget => "availability_target",
            RecordKind::DepotBaseline => "depot_baseline",
            RecordKind::Quote => "quote",
            RecordKind::RepairException => "repair_exception",
            RecordKind::Comment => "comment",
            RecordKind::UpdateRequest => "update_request",
            RecordKind::Disruption => "disruption",
        }
    }
}

/// Who may see a record or event, in the form the store filters on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    /// The record's owner (originator, provider of an offer, reporter).
    pub owner: String,
    /// The provider an order is proposed or assigned to.
    pub provider: Option<String>,
    /// Released to these parties.
    pub parties: Vec<String>,
    /// Released to these nations.
    pub nations: Vec<String>,
    /// Released to every registered party (party changes).
    pub everyone: bool,
}

impl Audience {
    /// Encodes the releasability as `,p:ID,n:NAT,*,`, matched by exact
    /// substring against [`Viewer::release_needles`] (never by `LIKE`: a
    /// pattern character in an id would widen the match).
    pub fn release_column(&self) -> String {
        let mut s = String::from(",");
        for p in &self.parties {
            s.push_str("p:");
            s.push_str(p);
            s.push(',');
        }
        for n in &self.nations {
            s.push_str("n:");
            s.push_str(n);
            s.push(',');
        }
        if self.everyone {
            s.push_str("*,");
        }
        s
    }
}

/// The party asking, in the form the store filters on.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Party id.
    pub party: String,
    /// Party's nation.
    pub nation: String,
    /// Coordinators see everything.
    pub coordinator: bool,
}

impl Audience {
    /// Whether `viewer` may see what has this audience: the stores'
    /// `VISIBLE` predicate in memory, for entries this process still holds
    /// (`tests/tests/store_conformance.rs` holds the two equal to `may_see`).
    pub fn visible_to(&self, viewer: &Viewer) -> bool {
        viewer.coordinator
            || self.owner == viewer.party
            || self.provider.as_deref() == Some(viewer.party.as_str())
            || self.parties.contains(&viewer.party)
            || self.nations.contains(&viewer.nation)
            || self.everyone
    }
}

impl Viewer {
    /// The substrings of a release column that grant this viewer sight:
    /// its party and its nation (the stores add `,*,`, everyone). Each is
    /// delimited by commas on both sides, and neither a party id nor a
    /// nation code can contain a comma, so a substring match is an exact
    /// match of one entry.
    pub fn release_needles(&self) -> [String; 2] {
        [format!(",p:{},", self.party), format!(",n:{},", self.nation)]
    }
}

/// A record to write.
#[derive(Debug, Clone)]
pub struct RecordWrite {
    /// Kind.
    pub kind: RecordKind,
    /// Id.
    pub id: String,
    /// `None` to insert a new record; `Some(v)` to replace version `v`.
    pub expected_version: Option<i64>,
    /// Version after the write.
    pub version: i64,
    /// Who may see it.
    pub audience: Audience,
    /// Lifecycle or offer state, for filtering.
    pub state: Option<String>,
    /// TMS, for filtering.
    pub tms: Option<String>,
    /// Region, for filtering.
    pub region: Option<String>,
    /// Reports: reporter|TMS|timeframe, one current version each.
    pub natural_key: Option<String>,
    /// Reports: the id of the version this one supersedes.
    pub supersedes: Option<String>,
    /// JSON of the domain record.
    pub body: String,
}

/// A lifecycle step to record in an order's history.
#[derive(Debug, Clone)]
pub struct TransitionWrite {
    /// Order id.
    pub order_id: String,
    /// Order version after the step.
    pub version: i64,
    /// JSON of the domain transition.
    pub body: String,
}

/// The event a commit appends.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// RFC 3339 time.
    pub time: String,
    /// Event kind name.
    pub kind: String,
    /// Party that caused it.
    pub actor: String,
    /// Fingerprint of the actor's certificate.
    pub actor_cert: String,
    /// Resource name of the subject.
    pub subject: String,
    /// Who may see it.
    pub audience: Audience,
    /// Canonical JSON content.
    pub content: String,
}

/// An idempotency key and the hash of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    /// Caller party.
    pub caller: String,
    /// The caller's request id.
    pub request_id: String,
    /// Hash of the request payload: the same id with another payload is refused.
    pub request_hash: String,
}

/// One accepted change.
#[derive(Debug, Clone)]
pub struct Commit {
    /// Idempotency key, if the request carried one.
    pub idempotency: Option<IdempotencyKey>,
    /// Parties to write (registry changes).
    pub party: Option<(Party, Option<i64>)>,
    /// Records to write.
    pub records: Vec<RecordWrite>,
    /// Lifecycle steps to record.
    pub transitions: Vec<TransitionWrite>,
    /// The event.
    pub event: NewEvent,
    /// Further events of the same change, appended right after `event`
    /// (the sequences that follow its own) in the same transaction: one per
    /// party that may see only its own part of the change (each quote an
    /// order step closes goes to its own provider). Usually empty.
    pub more_events: Vec<NewEvent>,
    /// JSON of the response, returned again to a repeat of the request.
    pub response: String,
}

impl Commit {
    /// The events the commit appends, in order: `event`, then `more_events`.
    pub fn events(&self) -> impl Iterator<Item = &NewEvent> {
        std::iter::once(&self.event).chain(&self.more_events)
    }

    /// How many log entries the commit appends.
    pub fn event_count(&self) -> i64 {
        1 + self.more_events.len() as i64
    }
}

/// What a commit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Committed {
    /// Stored, as event `sequence` (and its `more_events` right after).
    New {
        /// Sequence of the appended event.
        sequence: i64,
    },
    /// The request id was seen before with the same payload: the first response.
    Replayed {
        /// JSON of the first response.
        response: String,
    },
}

/// A stored event, for the feed and the audit log.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// The audit entry (sequence, time, kind, actor, content, hashes).
    pub entry: AuditEntry,
    /// Resource name of the subject.
    pub subject: String,
}

/// Filters for listing records.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// State name.
    pub state: Option<String>,
    /// TMS.
    pub tms: Option<String>,
    /// Owner.
    pub owner: Option<String>,
    /// Provider.
    pub provider: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Include superseded report versions.
    pub include_superseded: bool,
    /// Only ids that start with this (the quotes of one order,
    /// `{order}/quotes/`): a range on the primary key, never a `LIKE`.
    pub id_prefix: Option<String>,
}

impl RecordFilter {
    /// The half-open id range `[prefix, prefix + U+10FFFF)` of
    /// [`RecordFilter::id_prefix`]: every id starting with the prefix, and
    /// no other, in byte order (both backends compare ids bytewise: SQLite's
    /// BINARY collation, PostgreSQL's `COLLATE "C"`).
    pub fn id_range(&self) -> (Option<String>, Option<String>) {
        match &self.id_prefix {
            None => (None, None),
            Some(p) => (Some(p.clone()), Some(format!("{p}\u{10FFFF}"))),
        }
    }
}

/// A stored record.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    /// JSON of the domain record.
    pub body: String,
    /// Listing cursor.
    pub position: i64,
}

/// What a store tells a follower about the log, including commits made by
/// other processes on the same database (other coordinator replicas).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogNotice {
    /// Event `sequence` was committed.
    Appended {
        /// Its sequence.
        sequence: i64,
        /// Whether it changed the party registry (`PARTY_*` events).
        party_changed: bool,
    },
    /// Notices may have been missed (first notice, or the listener
    /// reconnected): re-read the head and the registry.
    Resync,
}

/// What the coordinator needs from a database.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies one change atomically, or replays the first answer to a repeated request id.
    async fn commit(&self, commit: Commit) -> Result<Committed, StoreError>;

    /// The response stored for a request id, if any (and the payload hash it came with).
    async fn idempotent_response(&self, caller: &str, request_id: &str)
    -> Result<Option<(String, String)>, StoreError>;

    /// Every registered party.
    async fn parties(&self) -> Result<Vec<(Party, i64)>, StoreError>;

    /// One record, if it exists (visibility is the caller's job).
    async fn record(&self, kind: RecordKind, id: &str) -> Result<Option<String>, StoreError>;

    /// A record's JSON body, if it exists and `viewer` may see it. Missing
    /// and hidden are one answer from one indexed query, so a caller cannot
    /// tell them apart by timing either (nothing is parsed first).
    async fn visible_record(&self, kind: RecordKind, id: &str, viewer: &Viewer) -> Result<Option<String>, StoreError>;

    /// A page of records the viewer may see, after `after` in listing order.
    async fn list_records(
        &self,
        kind: RecordKind,
        viewer: &Viewer,
        filter: &RecordFilter,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredRecord>, StoreError>;

    /// The current report for a natural key (reporter|TMS|timeframe), if any.
    async fn current_report(&self, natural_key: &str) -> Result<Option<String>, StoreError>;

    /// An order's recorded lifecycle steps, oldest first, with the sequence of each.
    async fn transitions(&self, order_id: &str) -> Result<Vec<(String, i64)>, StoreError>;

    /// Events after `after` that the viewer may see, up to `limit`.
    async fn events(&self, viewer: &Viewer, after: i64, limit: u32) -> Result<Vec<StoredEvent>, StoreError>;

    /// Every event in order, for audit (a page at a time).
    async fn audit_entries(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;

    /// The highest sequence in the log.
    async fn head(&self) -> Result<i64, StoreError>;

    /// Commits as they happen, from every process writing this database, or
    /// `None` when this process is the only writer (SQLite): its own commits
    /// already tell it everything. Notices only wake; the log is read back
    /// from the store.
    async fn follow(&self) -> Result<Option<BoxStream<'static, LogNotice>>, StoreError> {
        Ok(None)
    }
}

/// Connects to the store a database URL names: `sqlite://PATH` (embedded,
/// one coordinator) or `postgres://...` / `postgresql://...` (shared by
/// several coordinator replicas).
pub async fn connect(url: &str) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(std::sync::Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(postgres::PostgresStore::open(url).await?))
    } else {
        let scheme = url.split_once(':').map_or("none", |(s, _)| s);
        Err(StoreError::Config(format!(
            "database URL scheme {scheme:?} is not supported; expected sqlite://PATH or postgres://USER@HOST/DB"
        )))
    }
}
