//! The node's own SQLite database: the outbox of writes accepted from the
//! party's systems, the replica of what the party may see, the events
//! received from the coordinator, and the feed cursor. Everything the node
//! answers with is on disk first (WAL, `synchronous=FULL`).
//!
//! Accepted writes commit in groups: each is read first (outside the one
//! writer lock, the read kept unless a transaction since changed what it
//! read), then decided under the lock, and none is answered before its
//! group's commit, which stores every decided write in one statement group
//! (one hop to SQLite's thread, one fsync); the commit runs in a task of its
//! own, after every write that queued behind the first, so a burst of
//! writes shares it. Every other write is one transaction of its own (one
//! hop for those the link makes with each round and feed batch).
//!
//! One schema (`node/migrations/0001_init.sql`) and the transactions that
//! keep its tables consistent with each other (outbox, replica, events,
//! cursor) stay together here; what the rows hold (write methods, record
//! kinds, a record as read) is `records`.

use std::collections::{HashSet, VecDeque};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use cosx_proto::v1 as pb;
use prost::Message;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqliteConnection};
use tokio::sync::{Mutex, MutexGuard, Notify, watch};

use cosx_edge::CoreError;

const SCHEMA: &str = include_str!("../../migrations/0001_init.sql");

mod records;

/// What went wrong in the node's database.
#[derive(Debug, thiserror::Error)]
pub enum NodeStoreError {
    /// The database failed.
    #[error("node database: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored message could not be decoded.
    #[error("node database holds an unreadable {0}")]
    Corrupt(&'static str),
}

impl From<NodeStoreError> for cosx_edge::StoreError {
    fn from(e: NodeStoreError) -> Self {
        match e {
            NodeStoreError::Database(e) => cosx_edge::StoreError::Database(e),
            NodeStoreError::Corrupt(what) => cosx_edge::StoreError::Corrupt(format!("node database: {what}")),
        }
    }
}

/// Through the one error table (`api::status`), as the coordinator's store
/// errors are: a database failure is UNAVAILABLE (retry), corruption INTERNAL.
impl From<NodeStoreError> for tonic::Status {
    fn from(e: NodeStoreError) -> Self {
        CoreError::Store(e.into()).into()
    }
}

type Result<T, E = NodeStoreError> = std::result::Result<T, E>;

pub use records::{Kind, Method, Record, Rejection, Replicated, View};

/// Where an outbox write stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteState {
    /// Waiting to be forwarded.
    Queued,
    /// At the coordinator.
    Delivered,
    /// Refused by the coordinator.
    Rejected,
}

impl WriteState {
    fn as_str(self) -> &'static str {
        match self {
            WriteState::Queued => "queued",
            WriteState::Delivered => "delivered",
            WriteState::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> Result<WriteState> {
        match s {
            "queued" => Ok(WriteState::Queued),
            "delivered" => Ok(WriteState::Delivered),
            "rejected" => Ok(WriteState::Rejected),
            _ => Err(NodeStoreError::Corrupt("outbox state")),
        }
    }
}

/// One write in the outbox.
#[derive(Debug, Clone)]
pub struct Write {
    /// Position in the outbox.
    pub sequence: i64,
    /// The idempotency key that travels upstream.
    pub request_id: String,
    /// What it calls.
    pub method: Method,
    /// The record it is about.
    pub subject: String,
    /// The upstream request, protobuf.
    pub request: Vec<u8>,
    /// Where it stands.
    pub state: WriteState,
    /// Attempts so far.
    pub attempts: u32,
    /// When the node accepted it.
    pub create_time: DateTime<Utc>,
    /// The last error (queued) or the refusal (rejected).
    pub error_code: Option<String>,
    /// Its message.
    pub error_message: Option<String>,
}

/// A write the node accepts: what to forward, what to answer, and what the
/// records look like once it is applied.
pub struct Accepted {
    /// The upstream method.
    pub method: Method,
    /// The upstream request (with the request id, and the new record's id).
    pub request: Vec<u8>,
    /// The answer to the local client, protobuf.
    pub response: Vec<u8>,
    /// The records as the write leaves them; the first is the subject.
    pub records: Vec<Record>,
    /// Further keys the write is ordered by: it is forwarded only after
    /// every earlier write with one of them (reports supersede each other at
    /// the coordinator, so they go one at a time).
    pub ordered_by: Vec<String>,
}

impl Accepted {
    /// A write by `method`, forwarded as `request` and answered with
    /// `response`, that leaves `records` (the subject first); it is ordered
    /// by no further key.
    pub fn new(method: Method, request: &impl Message, response: &impl Message, records: Vec<Record>) -> Self {
        Self {
            method,
            request: request.encode_to_vec(),
            response: response.encode_to_vec(),
            records,
            ordered_by: vec![],
        }
    }

    /// A write by `method`, forwarded as `request`, answered with the
    /// record it leaves (its subject), `record`.
    pub fn answering(method: Method, request: &impl Message, record: impl Replicated) -> Self {
        let response = record.encode_to_vec();
        Self {
            method,
            request: request.encode_to_vec(),
            response,
            records: vec![record.into_record()],
            ordered_by: vec![],
        }
    }

    /// As it is, leaving also `record`.
    pub fn also(mut self, record: Record) -> Self {
        self.records.push(record);
        self
    }

    /// As it is, forwarded only after every earlier write with one of `keys`.
    pub fn after(self, keys: Vec<String>) -> Self {
        Self { ordered_by: keys, ..self }
    }
}

/// Counts for `Node.GetStatus`.
#[derive(Debug, Clone, Default)]
pub struct OutboxCounts {
    /// Queued writes.
    pub queued: i64,
    /// When the oldest queued one was accepted.
    pub oldest_queued: Option<DateTime<Utc>>,
    /// Delivered writes.
    pub delivered: i64,
    /// Rejected writes.
    pub rejected: i64,
}

/// Where the replica stands.
#[derive(Debug, Clone, Default)]
pub struct SyncPoint {
    /// The feed cursor: every event up to it has been applied.
    pub cursor: i64,
    /// The coordinator's log head as last seen.
    pub head: i64,
    /// When the feed last answered.
    pub last_sync_time: Option<DateTime<Utc>>,
}

/// The node's database.
pub struct NodeStore {
    pool: SqlitePool,
    writer: Arc<Mutex<Writer>>,
    /// The writer's count of ended transactions, read without its lock.
    ended: Arc<AtomicU64>,
    /// The writer's count of those that changed a party or a quote.
    sight_changes: Arc<AtomicU64>,
    queued: Notify,
    events: watch::Sender<i64>,
}

/// The one writer's state: the group of accepted writes not yet committed,
/// how many transactions have ended since the store opened, and what the
/// latest of them changed.
struct Writer {
    open: Option<Group>,
    ended: Arc<AtomicU64>,
    sight_changes: Arc<AtomicU64>,
    /// For each of the latest [`RECENT`] transactions ended, its number and
    /// the request ids and records it changed (`None`: not said, so any).
    recent: VecDeque<(u64, Option<Vec<String>>)>,
    pool: SqlitePool,
}

/// How many ended transactions the writer remembers the changes of: a read
/// older than all of them is read again.
const RECENT: usize = 1024;

/// Accepted writes sharing one transaction, decided and not yet stored:
/// `settled` says how their commit went. `requests` and `touched` are the
/// request ids and records they used: what a read of committed rows misses
/// until the group commits. `rows` are what the commit stores ([`FLUSH`]).
#[derive(Default)]
struct Group {
    settled: watch::Sender<Option<Result<(), String>>>,
    requests: HashSet<String>,
    touched: HashSet<String>,
    rows: Vec<serde_json::Value>,
}

/// One accept's decision: what to answer, the keys it is stored under (the
/// records it touched and the further keys it is ordered by), and its rows.
struct Decided {
    method: Method,
    response: Vec<u8>,
    keys: Vec<String>,
    row: Option<serde_json::Value>,
    after: Option<View>,
}

/// What an accept answers: the method and stored answer, and, for a new
/// write that touched the record it is about, that record as local clients
/// see it once the write is stored (its queued writes counted with this
/// one), so the caller need not read it back.
pub struct Answer {
    /// The method of the write answered (a repeat's is the first time's).
    pub method: Method,
    /// The stored answer, encoded.
    pub response: Vec<u8>,
    /// The record the write is about as it stands once stored, for a new
    /// write that touched it: as it was when the write was decided, with
    /// this write queued too (a delivery landing between the decision and
    /// the group's commit shows at the next read, as it would after a read
    /// taken just before it).
    pub after: Option<View>,
}

/// Stores a group's decided writes, in the order decided: each in the
/// outbox, under every key, and its records as the node's own version.
/// One transaction in one statement group for the whole group, the rows
/// bound once per statement.
const FLUSH: &str = "BEGIN IMMEDIATE;
     INSERT INTO outbox (request_id, request_hash, method, subject, request, response, state, create_time)
       SELECT value ->> 'request_id', value ->> 'request_hash', value ->> 'method', value ->> 'subject',
              unhex(value ->> 'request'), unhex(value ->> 'response'), 'queued', value ->> 'create_time'
       FROM json_each(?) ORDER BY key;
     INSERT OR IGNORE INTO outbox_subject (subject, sequence)
       SELECT k.value, o.sequence FROM json_each(?) w, json_each(w.value -> 'keys') k
       JOIN outbox o ON o.request_id = w.value ->> 'request_id';
     INSERT INTO replica (subject, kind, local)
       SELECT r.value ->> 'subject', r.value ->> 'kind', unhex(r.value ->> 'local')
       FROM json_each(?) w, json_each(w.value -> 'records') r WHERE true ORDER BY w.key, r.key
     ON CONFLICT (subject) DO UPDATE SET local = excluded.local;
     COMMIT;";

impl Writer {
    /// Stores and commits the open group, if any, and tells its writers:
    /// one transaction, one statement group, one hop.
    async fn settle(&mut self) {
        let Some(group) = self.open.take() else { return };
        let outcome = if group.rows.is_empty() {
            Ok(())
        } else {
            let rows = serde_json::Value::Array(group.rows).to_string();
            match self.pool.acquire().await {
                Ok(mut conn) => {
                    at_once(&mut conn, sqlx::query(FLUSH).bind(&rows).bind(&rows).bind(&rows)).await.map(drop)
                }
                Err(e) => Err(e),
            }
            .map_err(|e| e.to_string())
        };
        let changed = group.requests.into_iter().chain(group.touched).collect();
        self.ended_with(Some(changed));
        group.settled.send_replace(Some(outcome));
    }

    /// Counts a transaction ended that changed `keys` (request ids and
    /// records; `None`: any).
    fn ended_with(&mut self, keys: Option<Vec<String>>) {
        let sees_by = |k: &String| k.starts_with("parties/") || k.contains("/quotes/");
        if keys.as_ref().is_none_or(|keys| keys.iter().any(sees_by)) {
            self.sight_changes.fetch_add(1, Ordering::AcqRel);
        }
        let number = self.ended.fetch_add(1, Ordering::AcqRel) + 1;
        self.recent.push_back((number, keys));
        while self.recent.len() > RECENT {
            self.recent.pop_front();
        }
    }

    /// Whether a read made when `read_at` transactions had ended still
    /// holds for `request_id` and `subject`: every transaction ended since
    /// said what it changed, and none changed either.
    fn unchanged_since(&self, read_at: u64, request_id: &str, subject: Option<&str>) -> bool {
        // Numbered one after another under the lock, the latest last.
        let since = usize::try_from(self.ended.load(Ordering::Acquire) - read_at).unwrap_or(usize::MAX);
        since <= self.recent.len()
            && self.recent.iter().rev().take(since).all(|(_, keys)| {
                keys.as_ref().is_some_and(|keys| keys.iter().all(|k| k != request_id && Some(k.as_str()) != subject))
            })
    }
}

/// Runs `query`, a statement group that is one whole transaction (`BEGIN
/// IMMEDIATE; ...; COMMIT;`), on `conn`: one hop to SQLite's thread. If it
/// fails, whatever it began is rolled back before the connection is reused.
/// Answers the rows its statements return.
async fn at_once<'q>(
    conn: &mut SqliteConnection,
    query: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
) -> std::result::Result<Vec<sqlx::sqlite::SqliteRow>, sqlx::Error> {
    let done = query.fetch_all(&mut *conn).await;
    if done.is_err() {
        // Fails harmlessly if nothing was begun or SQLite already rolled back.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    done
}

/// The writer held for a write other than an accept, with no group open;
/// releasing it counts as a transaction ended (whether it committed or
/// not) that changed what `changed` says (unset: anything), so an accept's
/// read from before it of one of those is read again.
struct Exclusive<'a> {
    writer: MutexGuard<'a, Writer>,
    changed: Option<Vec<String>>,
}

impl Drop for Exclusive<'_> {
    fn drop(&mut self) {
        let changed = self.changed.take();
        self.writer.ended_with(changed);
    }
}

/// What an accept reads before it decides: the first write under its
/// request id (hash, method, answer), and the record it is about.
struct Seen {
    earlier: Option<(String, Method, Vec<u8>)>,
    current: Option<View>,
}

/// `bytes` as lowercase hex, for SQLite's `unhex` (blobs travel inside a
/// statement group's JSON arguments so a batch is one hop).
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// The coordinator's versions of `records`, as the JSON array that
/// [`NodeStore::UPSTREAM`] stores: each record's name, kind, protobuf
/// (hex), version and the report it supersedes, if any.
fn upstream_rows<'r>(records: impl IntoIterator<Item = &'r Record>) -> String {
    let rows: Vec<serde_json::Value> = records
        .into_iter()
        .map(|record| {
            serde_json::json!({
                "subject": record.subject(),
                "kind": record.kind().as_str(),
                "upstream": hex(&record.encode()),
                "version": record.version(),
                "supersedes": superseded_by(record),
            })
        })
        .collect();
    serde_json::Value::Array(rows).to_string()
}

/// The records the coordinator's version of `record` changes in the
/// replica: itself and the report it supersedes.
fn changed_by(record: &Record) -> Vec<String> {
    let mut changed = vec![record.subject().to_owned()];
    changed.extend(superseded_by(record));
    changed
}

/// The report `record` supersedes, if it is a report that does.
fn superseded_by(record: &Record) -> Option<String> {
    match record {
        Record::AvailabilityReport(r) if r.supersedes.contains('/') => Some(r.supersedes.clone()),
        Record::AvailabilityReport(r) if !r.supersedes.is_empty() => {
            Some(format!("availabilityReports/{}", r.supersedes))
        }
        _ => None,
    }
}

fn now_text() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn time_of(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|_| NodeStoreError::Corrupt("timestamp"))
}

/// The records touched by the writes whose sequences are the JSON array
/// bound here. Statement groups bind anonymous parameters only, each value
/// as often as it is used: sqlx stops binding a group's numbered parameters
/// at the first statement that skips a number.
const TOUCHED: &str = "(SELECT subject FROM outbox_subject WHERE sequence IN (SELECT value FROM json_each(?)))";

const PENDING: &str = "(SELECT count(*) FROM outbox_subject s JOIN outbox o ON o.sequence = s.sequence
      WHERE s.subject = replica.subject AND o.state = 'queued')";

impl NodeStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://FILE`).
    pub async fn open(url: &str) -> Result<NodeStore> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        let head: i64 = sqlx::query_scalar("SELECT coalesce(max(sequence), 0) FROM events").fetch_one(&pool).await?;
        let (ended, sight_changes) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let writer = Arc::new(Mutex::new(Writer {
            open: None,
            ended: ended.clone(),
            sight_changes: sight_changes.clone(),
            recent: VecDeque::new(),
            pool: pool.clone(),
        }));
        Ok(NodeStore { pool, writer, ended, sight_changes, queued: Notify::new(), events: watch::channel(head).0 })
    }

    /// How many transactions so far changed a party or a quote (or did not
    /// say what they changed): what the node sees by changes only with it.
    pub fn sight_changes(&self) -> u64 {
        self.sight_changes.load(Ordering::Acquire)
    }

    /// Wakes when a write is queued.
    pub fn queued_notify(&self) -> &Notify {
        &self.queued
    }

    /// Receives the sequence of the last event stored.
    pub fn watch_events(&self) -> watch::Receiver<i64> {
        self.events.subscribe()
    }

    /// Accepts a write made by the party's systems: answers a repeated
    /// request id as the first time (or ALREADY_EXISTS if the payload
    /// differs); otherwise reads the record it is about (`subject`), lets
    /// `build` decide, and stores the write in the outbox and its effect on
    /// the replica in one durable transaction.
    pub async fn accept<F>(
        &self,
        request_id: &str,
        request_hash: &str,
        subject: Option<&str>,
        build: F,
    ) -> std::result::Result<(Method, Vec<u8>), tonic::Status>
    where
        F: FnOnce(Option<View>) -> std::result::Result<Accepted, tonic::Status>,
    {
        let answer = self.accept_related(request_id, request_hash, subject, None, |current, _| build(current)).await?;
        Ok((answer.method, answer.response))
    }

    /// As [`Self::accept`], also giving `build` every record whose name
    /// starts with `related` (e.g. `repairOrders/X/exceptions/`, the
    /// exceptions on an order), read under the same writer lock so no other
    /// write of the node's comes between what the rules saw and what is
    /// stored.
    pub async fn accept_related<F>(
        &self,
        request_id: &str,
        request_hash: &str,
        subject: Option<&str>,
        related: Option<&str>,
        build: F,
    ) -> std::result::Result<Answer, tonic::Status>
    where
        F: FnOnce(Option<View>, Vec<View>) -> std::result::Result<Accepted, tonic::Status>,
    {
        // Read first, outside the writer: under it, the read is kept unless
        // a transaction ended since changed the request id or the record (or
        // did not say what it changed), or the open group used either.
        let read_at = self.ended.load(Ordering::Acquire);
        let seen =
            Self::seen_in(&mut *self.pool.acquire().await.map_err(NodeStoreError::from)?, request_id, subject).await?;
        let mut writer = self.writer.lock().await;
        let used = writer
            .open
            .as_ref()
            .is_some_and(|g| g.requests.contains(request_id) || subject.is_some_and(|s| g.touched.contains(s)));
        // What the group decided is committed before a read that needs it.
        if used || related.is_some() {
            writer.settle().await;
        }
        let seen = if !used && writer.unchanged_since(read_at, request_id, subject) {
            seen
        } else {
            Self::seen_in(&mut *self.pool.acquire().await.map_err(NodeStoreError::from)?, request_id, subject).await?
        };
        let related = match related {
            Some(prefix) => {
                Self::views_under_in(&mut *self.pool.acquire().await.map_err(NodeStoreError::from)?, prefix).await?
            }
            None => Vec::new(),
        };
        let group = match &mut writer.open {
            Some(group) => group,
            open @ None => {
                // Queued behind every write already waiting for the lock: they join this group.
                let committer = self.writer.clone();
                tokio::spawn(async move { committer.lock().await.settle().await });
                open.insert(Group::default())
            }
        };
        let mut settled = group.settled.subscribe();
        let answer = Self::decide((request_id, request_hash), subject, seen, related, build).map(|decided| {
            if let Some(row) = decided.row {
                group.requests.insert(request_id.to_owned());
                group.touched.extend(decided.keys);
                group.rows.push(row);
            }
            Answer { method: decided.method, response: decided.response, after: decided.after }
        });
        drop(writer);
        // Nothing is answered before its group is on disk: a write, and
        // also a repeat or a refusal decided beside it, so a client's
        // answers never run ahead of what the node has stored.
        let outcome = settled.wait_for(Option::is_some).await.ok().and_then(|settled| settled.clone());
        match outcome {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(tonic::Status::unavailable(format!("node database: {e}"))),
            None => return Err(tonic::Status::unavailable("node database: the write was not committed")),
        }
        if answer.is_ok() {
            self.queued.notify_one();
        }
        answer
    }

    /// The writer, for every write but an accept. A group of accepts may
    /// be open: its writes are decided and not yet stored, and what such a
    /// write does here (deliver, refuse or apply an event about a record a
    /// decided write also touches) leaves the rows as it would have had the
    /// group been stored first: the group's rows only add a queued write
    /// and set the node's own version, which nothing here reads back but
    /// the count of queued writes, and a record with a queued write keeps
    /// the node's version either way.
    async fn exclusive(&self) -> Exclusive<'_> {
        Exclusive { writer: self.writer.lock().await, changed: None }
    }

    /// The first write under `request_id` and the record `subject`, as
    /// `conn` sees them: one read.
    async fn seen_in(
        conn: &mut SqliteConnection,
        request_id: &str,
        subject: Option<&str>,
    ) -> std::result::Result<Seen, tonic::Status> {
        let row = sqlx::query(&format!(
            "SELECT o.request_hash AS earlier_hash, o.response AS earlier_response, o.method AS earlier_method,
                    replica.*, {PENDING} AS pending
             FROM (SELECT 1) LEFT JOIN outbox o ON o.request_id = ?1 LEFT JOIN replica ON replica.subject = ?2"
        ))
        .bind(request_id)
        .bind(subject)
        .fetch_one(&mut *conn)
        .await
        .map_err(NodeStoreError::from)?;
        let earlier = match row.get::<Option<String>, _>("earlier_hash") {
            Some(hash) => Some((hash, Method::parse(row.get("earlier_method"))?, row.get("earlier_response"))),
            None => None,
        };
        let current = match row.get::<Option<&str>, _>("kind") {
            Some(_) => Some(Self::view_of(&row)?),
            None => None,
        };
        Ok(Seen { earlier, current })
    }

    /// Decides one accepted write, given what was `seen` under its request
    /// id and subject and the `related` records: its answer, the keys it is
    /// stored under, and its rows for the group to store (none for a
    /// repeat), and `subject` as it stands once the write is stored. `key`
    /// is the request id and its payload's hash.
    fn decide<F>(
        key: (&str, &str),
        subject: Option<&str>,
        seen: Seen,
        related: Vec<View>,
        build: F,
    ) -> std::result::Result<Decided, tonic::Status>
    where
        F: FnOnce(Option<View>, Vec<View>) -> std::result::Result<Accepted, tonic::Status>,
    {
        let (request_id, request_hash) = key;
        if let Some((hash, method, response)) = seen.earlier {
            if hash != request_hash {
                return Err(CoreError::AlreadyExists(format!(
                    "request_id {request_id:?} was already used for a different request"
                ))
                .into());
            }
            return Ok(Decided { method, response, keys: Vec::new(), row: None, after: None });
        }
        let current = seen.current;
        // What the record's standing becomes: one more queued write; a
        // refusal, a supersession and an upstream version stay as they were.
        let standing = current.as_ref().map(|v| (v.pending, v.upstream, v.superseded, v.rejection.clone()));
        let accepted = build(current, related)?;
        let Some(first) = accepted.records.first() else {
            return Err(tonic::Status::internal("a node write must touch a record"));
        };
        let subjects: Vec<&str> = accepted
            .ordered_by
            .iter()
            .map(String::as_str)
            .chain(accepted.records.iter().map(Record::subject))
            .collect();
        let row = serde_json::json!({
            "request_id": request_id,
            "request_hash": request_hash,
            "method": accepted.method.as_str(),
            "subject": first.subject(),
            "request": hex(&accepted.request),
            "response": hex(&accepted.response),
            "create_time": now_text(),
            "keys": subjects,
            "records": accepted.records.iter().map(|r| serde_json::json!({
                "subject": r.subject(),
                "kind": r.kind().as_str(),
                "local": hex(&r.encode()),
            })).collect::<Vec<_>>(),
        });
        let after = subject.and_then(|s| accepted.records.iter().find(|r| r.subject() == s)).map(|record| {
            let (pending, upstream, superseded, rejection) = standing.unwrap_or_default();
            View { record: record.clone(), pending: pending.saturating_add(1), upstream, superseded, rejection }
        });
        let keys = subjects.into_iter().map(str::to_owned).collect();
        Ok(Decided { method: accepted.method, response: accepted.response, keys, row: Some(row), after })
    }

    fn view_of(row: &sqlx::sqlite::SqliteRow) -> Result<View> {
        let kind = Kind::parse(row.get("kind"))?;
        let upstream: Option<Vec<u8>> = row.get("upstream");
        let local: Option<Vec<u8>> = row.get("local");
        let bytes = local.as_ref().or(upstream.as_ref()).ok_or(NodeStoreError::Corrupt("empty replica row"))?;
        let rejection = match row.get::<Option<String>, _>("rejected_request_id") {
            Some(request_id) => Some(Rejection {
                request_id,
                code: row.get::<Option<String>, _>("rejection_code").unwrap_or_default(),
                message: row.get::<Option<String>, _>("rejection_message").unwrap_or_default(),
                time: time_of(&row.get::<Option<String>, _>("rejection_time").unwrap_or_default())?,
            }),
            None => None,
        };
        Ok(View {
            record: Record::decode(kind, bytes)?,
            pending: u32::try_from(row.get::<i64, _>("pending")).unwrap_or(u32::MAX),
            upstream: upstream.is_some(),
            superseded: row.get::<i64, _>("superseded") != 0,
            rejection,
        })
    }

    /// One record as local clients see it.
    pub async fn view(&self, subject: &str) -> Result<Option<View>> {
        Self::view_in(&mut *self.pool.acquire().await?, subject).await
    }

    async fn view_in(conn: &mut SqliteConnection, subject: &str) -> Result<Option<View>> {
        let row = sqlx::query(&format!("SELECT *, {PENDING} AS pending FROM replica WHERE subject = ?"))
            .bind(subject)
            .fetch_optional(conn)
            .await?;
        row.as_ref().map(Self::view_of).transpose()
    }

    /// Every record whose name starts with `prefix`, oldest first.
    pub async fn views_under(&self, prefix: &str) -> Result<Vec<View>> {
        Self::views_under_in(&mut *self.pool.acquire().await?, prefix).await
    }

    async fn views_under_in(conn: &mut SqliteConnection, prefix: &str) -> Result<Vec<View>> {
        let rows = sqlx::query(&format!(
            "SELECT *, {PENDING} AS pending FROM replica WHERE substr(subject, 1, length(?1)) = ?1 ORDER BY rowid"
        ))
        .bind(prefix)
        .fetch_all(conn)
        .await?;
        rows.iter().map(Self::view_of).collect()
    }

    /// Every record of a kind, oldest first.
    pub async fn views(&self, kind: Kind) -> Result<Vec<View>> {
        let rows = sqlx::query(&format!("SELECT *, {PENDING} AS pending FROM replica WHERE kind = ? ORDER BY rowid"))
            .bind(kind.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(Self::view_of).collect()
    }

    fn write_of(row: &sqlx::sqlite::SqliteRow) -> Result<Write> {
        Ok(Write {
            sequence: row.get("sequence"),
            request_id: row.get("request_id"),
            method: Method::parse(row.get("method"))?,
            subject: row.get("subject"),
            request: row.get("request"),
            state: WriteState::parse(row.get("state"))?,
            attempts: u32::try_from(row.get::<i64, _>("attempts")).unwrap_or(u32::MAX),
            create_time: time_of(row.get("create_time"))?,
            error_code: row.get("error_code"),
            error_message: row.get("error_message"),
        })
    }

    /// The oldest queued writes, at most `limit`, each with every record it
    /// touches.
    pub async fn queued(&self, limit: u32) -> Result<Vec<(Write, Vec<String>)>> {
        let rows = sqlx::query(
            "SELECT o.*, (SELECT group_concat(s.subject, ' ') FROM outbox_subject s WHERE s.sequence = o.sequence)
                    AS subjects
             FROM outbox o WHERE o.state = 'queued' ORDER BY o.sequence LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let subjects: Option<String> = row.get("subjects");
                let subjects = subjects.unwrap_or_default().split(' ').map(str::to_owned).collect();
                Self::write_of(row).map(|w| (w, subjects))
            })
            .collect()
    }

    /// Writes, newest first, after `before` (0: from the newest).
    pub async fn writes(&self, state: Option<WriteState>, before: i64, limit: u32) -> Result<Vec<Write>> {
        let rows = sqlx::query(
            "SELECT * FROM outbox WHERE (?1 IS NULL OR state = ?1) AND (?2 = 0 OR sequence < ?2)
             ORDER BY sequence DESC LIMIT ?3",
        )
        .bind(state.map(WriteState::as_str))
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Self::write_of).collect()
    }

    /// Records a failed attempt that will be retried.
    pub async fn attempt_failed(&self, sequence: i64, code: &str, message: &str) -> Result<u32> {
        let mut writer = self.exclusive().await;
        // A count and an error on a queued write: nothing an accept reads.
        writer.changed = Some(Vec::new());
        let attempts: i64 = sqlx::query_scalar(
            "UPDATE outbox SET attempts = attempts + 1, error_code = ?, error_message = ? WHERE sequence = ?
             RETURNING attempts",
        )
        .bind(code)
        .bind(message)
        .bind(sequence)
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(attempts).unwrap_or(u32::MAX))
    }

    /// The statements that store the coordinator's version of every record
    /// in a JSON array (see [`upstream_rows`]), in order, and mark the
    /// reports they supersede: one statement group, one hop to SQLite's
    /// thread however many records there are. The array is bound twice.
    const UPSTREAM: &str = "INSERT INTO replica (subject, kind, upstream, upstream_version)
           SELECT value ->> 'subject', value ->> 'kind', unhex(value ->> 'upstream'), value ->> 'version'
           FROM json_each(?) WHERE true ORDER BY key
         ON CONFLICT (subject) DO UPDATE SET upstream = excluded.upstream, upstream_version = excluded.upstream_version
           WHERE replica.upstream IS NULL OR excluded.upstream_version >= replica.upstream_version;
         UPDATE replica SET superseded = 1 WHERE subject IN (SELECT value ->> 'supersedes' FROM json_each(?));";

    /// The coordinator accepted writes; each comes with the records it
    /// answered. One transaction for them all.
    pub async fn delivered(&self, done: &[(i64, Vec<Record>)]) -> Result<()> {
        if done.is_empty() {
            return Ok(());
        }
        let records = upstream_rows(done.iter().flat_map(|(_, records)| records));
        let sequences = format!("[{}]", done.iter().map(|(s, _)| s.to_string()).collect::<Vec<_>>().join(","));
        let mut writer = self.exclusive().await;
        // One transaction in one statement group: the records the writes
        // touched (answered, for the writer's account of what changed); the
        // coordinator's records; then the writes are delivered, and for
        // every record they touched: what the node named provisionally and
        // the coordinator named otherwise (an exception's number, when the
        // node did not know every exception on the order) goes, as the
        // coordinator's record came back in the answer (and comes on the
        // feed); an earlier refusal is cleared; and a record with nothing
        // left queued shows the coordinator's version again.
        let now = now_text();
        let sql = format!(
            "BEGIN IMMEDIATE;
             SELECT subject FROM {TOUCHED};
             {}
             UPDATE outbox SET state = 'delivered', done_time = ?, attempts = attempts + 1
               WHERE sequence IN (SELECT value FROM json_each(?));
             DELETE FROM replica WHERE upstream IS NULL AND {PENDING} = 0 AND subject IN {TOUCHED};
             UPDATE replica SET rejected_request_id = NULL, rejection_code = NULL, rejection_message = NULL,
                    rejection_time = NULL
               WHERE subject IN {TOUCHED};
             UPDATE replica SET local = NULL WHERE upstream IS NOT NULL AND {PENDING} = 0 AND subject IN {TOUCHED};
             COMMIT;",
            Self::UPSTREAM
        );
        let query = sqlx::query(&sql).bind(&sequences).bind(&records).bind(&records).bind(now);
        let query = query.bind(&sequences).bind(&sequences).bind(&sequences).bind(&sequences);
        let touched = at_once(&mut *self.pool.acquire().await?, query).await?;
        let mut changed: Vec<String> = touched.iter().map(|row| row.get(0)).collect();
        changed.extend(done.iter().flat_map(|(_, records)| records).flat_map(changed_by));
        writer.changed = Some(changed);
        Ok(())
    }

    /// Forgets delivered writes settled before `before`, a slice at a time
    /// so no transaction holds the writer long; answers how many. Their
    /// effect stays in the replica and the coordinator keeps their request
    /// ids, so only the node's own answer to a repeat goes (see
    /// `outbox_retention`). Queued and refused writes are never forgotten.
    pub async fn forget_delivered(&self, before: DateTime<Utc>) -> Result<u64> {
        const SLICE: i64 = 10_000;
        let cutoff = before.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let mut forgotten = 0;
        loop {
            let _writer = self.exclusive().await;
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let sequences: Vec<i64> = sqlx::query_scalar(
                "SELECT sequence FROM outbox WHERE state = 'delivered' AND done_time < ? ORDER BY sequence LIMIT ?",
            )
            .bind(&cutoff)
            .bind(SLICE)
            .fetch_all(&mut *tx)
            .await?;
            let (Some(first), Some(last)) = (sequences.first(), sequences.last()) else { return Ok(forgotten) };
            for table in ["outbox_subject", "outbox"] {
                let sql = format!(
                    "DELETE FROM {table} WHERE sequence BETWEEN ?1 AND ?2 AND sequence IN
                       (SELECT sequence FROM outbox WHERE state = 'delivered' AND done_time < ?3)"
                );
                sqlx::query(&sql).bind(first).bind(last).bind(&cutoff).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            forgotten += sequences.len() as u64;
        }
    }

    /// The coordinator refused a write: it is kept, with the reason, on the
    /// write and on every record it touched; it is not retried.
    pub async fn rejected(&self, sequence: i64, code: &str, message: &str) -> Result<()> {
        let _writer = self.exclusive().await;
        let now = now_text();
        // One transaction, one statement group: the write, the records it
        // touched, and those with nothing left queued shown as the
        // coordinator has them again (or, if it never had them, as the node
        // accepted them).
        let sql = format!(
            "BEGIN IMMEDIATE;
             UPDATE outbox SET state = 'rejected', done_time = ?, attempts = attempts + 1, error_code = ?,
                    error_message = ?
               WHERE sequence = ?;
             UPDATE replica SET rejected_request_id = (SELECT request_id FROM outbox WHERE sequence = ?),
                    rejection_code = ?, rejection_message = ?, rejection_time = ?
               WHERE subject IN (SELECT subject FROM outbox_subject WHERE sequence = ?);
             UPDATE replica SET local = NULL
               WHERE upstream IS NOT NULL AND {PENDING} = 0
                 AND subject IN (SELECT subject FROM outbox_subject WHERE sequence = ?);
             COMMIT;"
        );
        let query = sqlx::query(&sql).bind(&now).bind(code).bind(message).bind(sequence);
        let query = query.bind(sequence).bind(code).bind(message).bind(&now).bind(sequence).bind(sequence);
        at_once(&mut *self.pool.acquire().await?, query).await?;
        Ok(())
    }

    /// Stores events from the coordinator's feed and moves the cursor past
    /// them, in one transaction.
    pub async fn apply_events(&self, events: &[pb::Event]) -> Result<()> {
        let Some(last) = events.last() else {
            return Ok(());
        };
        let mut stored = Vec::with_capacity(events.len());
        let mut records = Vec::with_capacity(events.len());
        for event in events {
            let carried = Record::from_event(event);
            stored.push(serde_json::json!({
                "sequence": event.sequence,
                "subject": carried.first().map(Record::subject),
                "body": hex(&event.encode_to_vec()),
            }));
            records.extend(carried);
        }
        let stored = serde_json::Value::Array(stored).to_string();
        let changed = records.iter().flat_map(changed_by).collect();
        let records = upstream_rows(&records);
        let mut writer = self.exclusive().await;
        // The events, their records, and the cursor past them: one
        // transaction of one statement group. Freshness (`last_sync_time`) moves only with a checkpoint:
        // having applied an event says nothing about what came after it.
        let sql = format!(
            "BEGIN IMMEDIATE;
             INSERT OR IGNORE INTO events (sequence, subject, body)
               SELECT value ->> 'sequence', value ->> 'subject', unhex(value ->> 'body') FROM json_each(?);
             {}
             UPDATE replica SET local = NULL
               WHERE subject IN (SELECT value ->> 'subject' FROM json_each(?))
                 AND upstream IS NOT NULL AND {PENDING} = 0;
             UPDATE sync SET cursor = max(cursor, ?), head = max(head, ?) WHERE id = 1;
             COMMIT;",
            Self::UPSTREAM
        );
        let query = sqlx::query(&sql).bind(stored).bind(&records).bind(&records).bind(&records);
        at_once(&mut *self.pool.acquire().await?, query.bind(last.sequence).bind(last.sequence)).await?;
        writer.changed = Some(changed);
        self.events.send_if_modified(|h| {
            let newer = last.sequence > *h;
            *h = (*h).max(last.sequence);
            newer
        });
        Ok(())
    }

    /// The coordinator says this party has everything it may see up to
    /// `cursor`, as of `as_of` (its clock): the replica is that fresh.
    pub async fn checkpoint(&self, cursor: i64, as_of: DateTime<Utc>) -> Result<()> {
        let mut writer = self.exclusive().await;
        // One statement, its own transaction; no record changes.
        writer.changed = Some(Vec::new());
        sqlx::query("UPDATE sync SET cursor = max(cursor, ?1), head = max(head, ?1), last_sync_time = ?2 WHERE id = 1")
            .bind(cursor)
            .bind(as_of.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Where the replica stands.
    pub async fn sync_point(&self) -> Result<SyncPoint> {
        let row =
            sqlx::query("SELECT cursor, head, last_sync_time FROM sync WHERE id = 1").fetch_one(&self.pool).await?;
        Ok(SyncPoint {
            cursor: row.get(0),
            head: row.get(1),
            last_sync_time: row.get::<Option<String>, _>(2).as_deref().map(time_of).transpose()?,
        })
    }

    /// How many writes stand where.
    pub async fn counts(&self) -> Result<OutboxCounts> {
        let rows = sqlx::query("SELECT state, count(*), min(create_time) FROM outbox GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        let mut counts = OutboxCounts::default();
        for row in rows {
            let n: i64 = row.get(1);
            match WriteState::parse(row.get(0))? {
                WriteState::Queued => {
                    counts.queued = n;
                    counts.oldest_queued = row.get::<Option<String>, _>(2).as_deref().map(time_of).transpose()?;
                }
                WriteState::Delivered => counts.delivered = n,
                WriteState::Rejected => counts.rejected = n,
            }
        }
        Ok(counts)
    }

    /// Stored events after `after`, oldest first.
    pub async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<pb::Event>> {
        let rows =
            sqlx::query_scalar::<_, Vec<u8>>("SELECT body FROM events WHERE sequence > ? ORDER BY sequence LIMIT ?")
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|b| pb::Event::decode(b.as_slice()).map_err(|_| NodeStoreError::Corrupt("event"))).collect()
    }

    /// Stored events about one record, oldest first.
    pub async fn events_about(&self, subject: &str) -> Result<Vec<pb::Event>> {
        let rows = sqlx::query_scalar::<_, Vec<u8>>("SELECT body FROM events WHERE subject = ? ORDER BY sequence")
            .bind(subject)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|b| pb::Event::decode(b.as_slice()).map_err(|_| NodeStoreError::Corrupt("event"))).collect()
    }

    /// Closes the pool (tests reopen the same file).
    pub async fn close(&self) {
        self.writer.lock().await.settle().await;
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn order(id: &str) -> Record {
        Record::RepairOrder(pb::RepairOrder { name: format!("repairOrders/{id}"), version: 1, ..Default::default() })
    }

    async fn queue(store: &NodeStore, id: &str) -> i64 {
        let record = order(id);
        let request = pb::CreateRepairOrderRequest { request_id: id.into(), ..Default::default() }.encode_to_vec();
        store
            .accept(id, "hash", Some(record.subject()), |_| {
                Ok(Accepted {
                    method: Method::CreateRepairOrder,
                    request,
                    response: record.encode(),
                    records: vec![record.clone()],
                    ordered_by: vec![],
                })
            })
            .await
            .unwrap();
        store.writes(None, 0, 1).await.unwrap()[0].sequence
    }

    /// A write that steps the order `subject` to the version after the
    /// one it was decided on.
    fn next_version(subject: &str, current: Option<View>) -> std::result::Result<Accepted, tonic::Status> {
        let version = current.map_or(0, |v| v.record.version()) + 1;
        let record = Record::RepairOrder(pb::RepairOrder { name: subject.into(), version, ..Default::default() });
        Ok(Accepted {
            method: Method::TransitionRepairOrder,
            request: Vec::new(),
            response: record.encode(),
            records: vec![record],
            ordered_by: vec![],
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_to_one_record_each_see_the_one_before_whether_in_its_group_or_committed() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Arc::new(NodeStore::open(&format!("sqlite://{}", dir.path().join("node.db").display())).await.unwrap());
        let write = |store: Arc<NodeStore>, n: usize| async move {
            let id = format!("w{n}");
            let (_, response) = store
                .accept(&id, "hash", Some("repairOrders/x"), |current| next_version("repairOrders/x", current))
                .await
                .unwrap();
            // Between writes, the other writers settle groups as the link does.
            if n.is_multiple_of(5) {
                store.checkpoint(n as i64, Utc::now()).await.unwrap();
            }
            pb::RepairOrder::decode(response.as_slice()).unwrap().version
        };
        let tasks: Vec<_> = (1..=40).map(|n| tokio::spawn(write(store.clone(), n))).collect();
        let mut versions = Vec::new();
        for task in tasks {
            versions.push(task.await.unwrap());
        }
        versions.sort_unstable();
        assert_eq!(versions, (1..=40).collect::<Vec<i64>>(), "no write decided on a stale read");
        let x = store.view("repairOrders/x").await.unwrap().unwrap();
        assert_eq!((x.record.version(), x.pending), (40, 40));
        // A repeat in a later group answers the first time's answer.
        let (_, again) =
            store.accept("w7", "hash", None, |_| Err(tonic::Status::internal("not rebuilt"))).await.unwrap();
        assert!(pb::RepairOrder::decode(again.as_slice()).unwrap().version >= 1);
    }

    #[tokio::test]
    async fn a_new_write_answers_its_record_as_a_read_after_it_would_show_it_and_a_repeat_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = NodeStore::open(&format!("sqlite://{}", dir.path().join("node.db").display())).await.unwrap();
        let refused = queue(&store, "r").await;
        store.rejected(refused, "ABORTED", "stale version").await.unwrap();
        let standing = |v: &View| (v.record.version(), v.pending, v.upstream, v.superseded, v.rejection.clone());
        let write = |id: &'static str| {
            let store = &store;
            async move {
                store
                    .accept_related(id, "hash", Some("repairOrders/r"), None, |current, _| {
                        next_version("repairOrders/r", current)
                    })
                    .await
                    .unwrap()
            }
        };
        for (id, pending) in [("r2", 1), ("r3", 2)] {
            let after = write(id).await.after.expect("a new write knows its record");
            let read = store.view("repairOrders/r").await.unwrap().unwrap();
            assert_eq!(standing(&after), standing(&read), "{id}");
            assert_eq!(after.pending, pending);
            assert_eq!(after.rejection.as_ref().map(|r| r.code.as_str()), Some("ABORTED"), "a refusal stays shown");
        }
        assert!(write("r3").await.after.is_none(), "a repeat is answered as stored, and read");
    }

    #[tokio::test]
    async fn events_from_the_feed_land_in_the_replica_and_move_the_cursor_in_one_statement_group() {
        let dir = tempfile::tempdir().unwrap();
        let store = NodeStore::open(&format!("sqlite://{}", dir.path().join("node.db").display())).await.unwrap();
        let report = |id: &str, version: i64, supersedes: &str| pb::AvailabilityReport {
            name: format!("availabilityReports/{id}"),
            version,
            supersedes: supersedes.into(),
            ..Default::default()
        };
        let event =
            |sequence: i64, subject: Option<pb::event::Subject>| pb::Event { sequence, subject, ..Default::default() };
        use pb::event::Subject;
        let events = [
            event(1, Some(Subject::AvailabilityReport(report("a", 1, "")))),
            event(2, None),
            event(3, Some(Subject::AvailabilityReport(report("b", 1, "a")))),
            // An older version after a newer one changes nothing.
            event(4, Some(Subject::AvailabilityReport(report("b", 2, "a")))),
            event(5, Some(Subject::AvailabilityReport(report("b", 1, "a")))),
        ];
        store.apply_events(&events).await.unwrap();
        // A repeated event is stored once.
        store.apply_events(&events[4..]).await.unwrap();
        assert_eq!(store.events_after(0, 10).await.unwrap(), events.to_vec());
        let a = store.view("availabilityReports/a").await.unwrap().unwrap();
        assert!(a.superseded && a.upstream && a.pending == 0);
        let b = store.view("availabilityReports/b").await.unwrap().unwrap();
        assert_eq!((b.record.version(), b.superseded), (2, false));
        assert_eq!(store.events_about("availabilityReports/b").await.unwrap().len(), 3);
        assert_eq!(store.sync_point().await.unwrap().cursor, 5);
    }

    #[tokio::test]
    async fn forgetting_takes_only_delivered_writes_older_than_the_cutoff_and_a_restart_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("node.db").display());
        let store = NodeStore::open(&url).await.unwrap();
        let old = queue(&store, "old").await;
        store.delivered(&[(old, vec![order("old")])]).await.unwrap();
        let refused = queue(&store, "refused").await;
        store.rejected(refused, "ABORTED", "stale version").await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let cutoff = Utc::now();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let recent = queue(&store, "recent").await;
        store.delivered(&[(recent, vec![order("recent")])]).await.unwrap();
        let pending = queue(&store, "pending").await;

        assert_eq!(store.forget_delivered(cutoff).await.unwrap(), 1);
        assert_eq!(store.forget_delivered(cutoff).await.unwrap(), 0, "forgetting twice forgets nothing more");
        let left: Vec<(String, WriteState)> =
            store.writes(None, 0, 10).await.unwrap().into_iter().map(|w| (w.request_id, w.state)).collect();
        assert_eq!(
            left,
            vec![
                ("pending".to_owned(), WriteState::Queued),
                ("recent".to_owned(), WriteState::Delivered),
                ("refused".to_owned(), WriteState::Rejected),
            ]
        );
        // The forgotten write's effect stays in the replica, as the
        // coordinator's version with nothing pending.
        let old = store.view("repairOrders/old").await.unwrap().unwrap();
        assert!(old.upstream && old.pending == 0 && old.rejection.is_none());
        // The refusal shows on its record.
        let refused = store.view("repairOrders/refused").await.unwrap().unwrap();
        assert_eq!(refused.rejection.map(|r| r.code), Some("ABORTED".to_owned()));
        store.close().await;

        // After a restart: the queued write is still queued, with its
        // request and its records, and its request id still answers.
        let store = NodeStore::open(&url).await.unwrap();
        let queued = store.queued(10).await.unwrap();
        assert_eq!(queued.len(), 1);
        let (write, subjects) = &queued[0];
        assert_eq!((write.sequence, write.request_id.as_str()), (pending, "pending"));
        assert_eq!(subjects, &vec!["repairOrders/pending".to_owned()]);
        let decoded = pb::CreateRepairOrderRequest::decode(write.request.as_slice()).unwrap();
        assert_eq!(decoded.request_id, "pending");
        assert_eq!(store.view("repairOrders/pending").await.unwrap().unwrap().pending, 1);
        let again = store.accept("pending", "hash", None, |_| Err(tonic::Status::internal("not rebuilt"))).await;
        assert_eq!(again.unwrap().0, Method::CreateRepairOrder);
        let clash = store.accept("pending", "other", None, |_| Err(tonic::Status::internal("not rebuilt"))).await;
        assert_eq!(clash.unwrap_err().code(), tonic::Code::AlreadyExists);
        let counts = store.counts().await.unwrap();
        assert_eq!((counts.queued, counts.delivered, counts.rejected), (1, 1, 1));
    }
}
