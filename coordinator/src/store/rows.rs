//! What the SQLite and PostgreSQL stores share, written once: the
//! statement-by-statement (reference) path of a commit, the reads behind
//! [`Store`], and the mapping between rows and domain values. Statements
//! whose text is the same in both dialects live here, with `$n` placeholders
//! (both accept them); a backend supplies only what differs — the few
//! fragments of [`Dialect`] and the primitives that run a statement on its
//! own connection and pool types (concrete per backend, like sqlx's own
//! `Migrate`, so no future here is generic over an executor).
//!
//! Must never: hold SQL that only one backend understands, or decide a
//! commit differently from `store::plan` (the fast path both try first).

use std::marker::PhantomData;

use async_trait::async_trait;
use cosx_domain::Party;
use cosx_domain::audit::AuditEntry;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, Pool, Row, Type};

use super::group::{GroupCommit, Outcome};
use super::plan::{Final, Plan, chain, replay};
use super::*;

/// A statement with its bound values, in one backend's types.
pub(crate) type Statement<'q, DB> = Query<'q, DB, <DB as Database>::Arguments<'q>>;

/// What differs between the two backends' SQL, and how each runs a statement.
pub(crate) trait Dialect: Database {
    /// Marks record `$1` superseded if it is current (SQLite keeps booleans
    /// as integers and its partial index says `superseded = 0`).
    const SUPERSEDE: &'static str;
    /// `domain::visibility::may_see` in SQL, for a viewer bound at `$1`–`$4`
    /// by [`bind_viewer`]: release entries are matched as exact substrings,
    /// never `LIKE`. `tests/tests/store_conformance.rs` holds it equal to `may_see`.
    const VISIBLE: &'static str;
    /// A listing's optional filters: state `$7`, TMS `$8`, owner `$9`,
    /// provider `$10`, region `$11`, include superseded `$12`, id range
    /// `[$14, $15)` compared bytewise.
    const LIST_FILTERS: &'static str;
    /// A record is current (not superseded), written as the partial index
    /// `records_current_reports` says it, so the planner can match the two.
    const CURRENT: &'static str;
    /// The current report for natural key `$1`.
    const CURRENT_REPORT: &'static str;
    /// The highest sequence in the log.
    const HEAD: &'static str;

    /// Runs a statement on a connection; how many rows it changed.
    fn run<'a>(conn: &'a mut Self::Connection, q: Statement<'a, Self>) -> BoxFuture<'a, Result<u64, sqlx::Error>>;
    /// Runs a query on a connection; its first row, if any.
    fn find<'a>(
        conn: &'a mut Self::Connection,
        q: Statement<'a, Self>,
    ) -> BoxFuture<'a, Result<Option<Self::Row>, sqlx::Error>>;
    /// Runs a query on the read pool; its first row, if any.
    fn read_one<'a>(
        pool: &'a Pool<Self>,
        q: Statement<'a, Self>,
    ) -> BoxFuture<'a, Result<Option<Self::Row>, sqlx::Error>>;
    /// Runs a query on the read pool; all its rows.
    fn read_all<'a>(pool: &'a Pool<Self>, q: Statement<'a, Self>)
    -> BoxFuture<'a, Result<Vec<Self::Row>, sqlx::Error>>;
}

/// The [`Dialect`] primitives of one backend, from its connection, row and
/// pool types: the same four lines for each, concrete (see the module doc).
macro_rules! run_statements_on {
    ($conn:ty, $row:ty, $pool:ty) => {
        fn run<'a>(conn: &'a mut $conn, q: Statement<'a, Self>) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
            Box::pin(async move { Ok(q.execute(conn).await?.rows_affected()) })
        }
        fn find<'a>(conn: &'a mut $conn, q: Statement<'a, Self>) -> BoxFuture<'a, Result<Option<$row>, sqlx::Error>> {
            Box::pin(q.fetch_optional(conn))
        }
        fn read_one<'a>(pool: &'a $pool, q: Statement<'a, Self>) -> BoxFuture<'a, Result<Option<$row>, sqlx::Error>> {
            Box::pin(q.fetch_optional(pool))
        }
        fn read_all<'a>(pool: &'a $pool, q: Statement<'a, Self>) -> BoxFuture<'a, Result<Vec<$row>, sqlx::Error>> {
            Box::pin(q.fetch_all(pool))
        }
    };
}
pub(crate) use run_statements_on;

/// A backend store: its read pool, its writer queue, and (PostgreSQL) how
/// it hears about other replicas' commits. Every such store is a [`Store`].
#[async_trait]
pub(crate) trait SqlStore: Send + Sync + 'static {
    /// The backend's database.
    type Db: Dialect;
    /// Readers.
    fn pool(&self) -> &Pool<Self::Db>;
    /// The queue in front of the one writer.
    fn writer(&self) -> &GroupCommit;
    /// See [`Store::follow`].
    async fn follow(&self) -> Result<Option<BoxStream<'static, LogNotice>>, StoreError> {
        Ok(None)
    }
}

/// The one place that binds a viewer for [`Dialect::VISIBLE`].
pub(crate) fn bind_viewer<'q, DB>(q: Statement<'q, DB>, viewer: &'q Viewer) -> Statement<'q, DB>
where
    DB: Database,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Type<DB>,
{
    let [party, nation] = viewer.release_needles();
    q.bind(viewer.coordinator).bind(viewer.party.as_str()).bind(party).bind(nation)
}

const INSERT_PARTY: &str = "INSERT INTO parties (id, body, etag) VALUES ($1, $2, 1) ON CONFLICT (id) DO NOTHING";
const UPDATE_PARTY: &str = "UPDATE parties SET body = $1, etag = etag + 1 WHERE id = $2 AND etag = $3";
const INSERT_RECORD: &str = "INSERT INTO records (kind, id, owner, provider, release_to, state, tms, region,
                                                  natural_key, version, position, body)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING";
const UPDATE_RECORD: &str = "UPDATE records SET provider = $1, release_to = $2, state = $3, tms = $4, region = $5,
                                                version = $6, body = $7
                             WHERE id = $8 AND kind = $9 AND version = $10";
const INSERT_TRANSITION: &str = "INSERT INTO transitions (order_id, version, sequence, body) VALUES ($1, $2, $3, $4)";
const INSERT_EVENT: &str = "INSERT INTO events (sequence, time, kind, actor, actor_cert, subject, owner, provider,
                                                release_to, content, prev_hash, hash)
                            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
const INSERT_KEY: &str = "INSERT INTO idempotency (caller, request_id, request_hash, response) VALUES ($1, $2, $3, $4)";
const SELECT_KEY: &str = "SELECT request_hash, response FROM idempotency WHERE caller = $1 AND request_id = $2";
/// The columns of an [`AuditEntry`], in [`Rows::entry`]'s order.
const ENTRY_COLUMNS: &str = "sequence, time, kind, actor, actor_cert, content, prev_hash, hash";

/// The shared statements over one backend's types (a namespace: the bounds
/// say once which values both backends can bind and read).
pub(crate) struct Rows<DB>(PhantomData<DB>);

impl<DB> Rows<DB>
where
    DB: Dialect,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
    for<'a> String: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a str>: Encode<'a, DB>,
    usize: ColumnIndex<DB::Row>,
{
    /// Binds the columns an update of a record sets, then `id`, kind and the version it replaces.
    fn update_record<'q>(r: &'q RecordWrite, id: &'q str, before: i64) -> Statement<'q, DB> {
        sqlx::query(UPDATE_RECORD)
            .bind(r.audience.provider.as_deref())
            .bind(r.audience.release_column())
            .bind(r.state.as_deref())
            .bind(r.tms.as_deref())
            .bind(r.region.as_deref())
            .bind(r.version)
            .bind(r.body.as_str())
            .bind(id)
            .bind(r.kind.as_str())
            .bind(before)
    }

    /// The request id's stored hash and response, if it was seen.
    fn key(row: Option<DB::Row>) -> Option<(String, String)> {
        row.map(|r| (r.get(0), r.get(1)))
    }

    /// Applies one commit of a batch after `head` (sequence, hash), in its own
    /// savepoint, advancing `head` if it is stored. Within the batch's
    /// transaction, so it sees the commits before it (a repeated request id
    /// replays an earlier one).
    pub(crate) fn apply_in_savepoint<'a>(
        conn: &'a mut DB::Connection,
        commit: &'a Commit,
        head: &'a mut (i64, String),
    ) -> BoxFuture<'a, Result<Outcome, sqlx::Error>> {
        Box::pin(async move {
            if let Some(key) = &commit.idempotency {
                let q = sqlx::query(SELECT_KEY).bind(key.caller.as_str()).bind(key.request_id.as_str());
                if let Some((hash, response)) = Self::key(DB::find(conn, q).await?) {
                    return Ok(replay(key, &hash, response));
                }
            }
            let sequence = head.0 + 1;
            let mut after = head.clone();
            DB::run(conn, sqlx::query("SAVEPOINT one_commit")).await?;
            match Self::write(conn, commit, &mut after).await {
                Ok(()) => {
                    DB::run(conn, sqlx::query("RELEASE SAVEPOINT one_commit")).await?;
                    *head = after;
                    Ok(Ok(Committed::New { sequence }))
                }
                Err(refused) => {
                    // The refusal aborted only the savepoint. If the database
                    // rolled back the whole transaction (I/O error, disk
                    // full, connection lost), this fails and so does the batch.
                    DB::run(conn, sqlx::query("ROLLBACK TO SAVEPOINT one_commit")).await?;
                    DB::run(conn, sqlx::query("RELEASE SAVEPOINT one_commit")).await?;
                    Ok(Err(refused))
                }
            }
        })
    }

    /// The rows of one commit as the events after `head`, chained on it;
    /// advances `head` to the commit's last event.
    fn write<'a>(
        conn: &'a mut DB::Connection,
        commit: &'a Commit,
        head: &'a mut (i64, String),
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let sequence = head.0 + 1;
            if let Some((party, expected)) = &commit.party {
                let body = serde_json::to_string(party).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let q = match expected {
                    None => sqlx::query(INSERT_PARTY).bind(party.id.as_str()).bind(body),
                    Some(etag) => sqlx::query(UPDATE_PARTY).bind(body).bind(party.id.as_str()).bind(*etag),
                };
                if DB::run(conn, q).await? != 1 {
                    return Err(StoreError::Conflict(format!("parties/{}", party.id)));
                }
            }

            for r in &commit.records {
                if let Some(old) = &r.supersedes
                    && DB::run(conn, sqlx::query(DB::SUPERSEDE).bind(old.as_str())).await? != 1
                {
                    return Err(StoreError::Conflict(old.clone()));
                }
                let q = match r.expected_version {
                    None => sqlx::query(INSERT_RECORD)
                        .bind(r.kind.as_str())
                        .bind(r.id.as_str())
                        .bind(r.audience.owner.as_str())
                        .bind(r.audience.provider.as_deref())
                        .bind(r.audience.release_column())
                        .bind(r.state.as_deref())
                        .bind(r.tms.as_deref())
                        .bind(r.region.as_deref())
                        .bind(r.natural_key.as_deref())
                        .bind(r.version)
                        .bind(sequence)
                        .bind(r.body.as_str()),
                    Some(expected) => Self::update_record(r, &r.id, expected),
                };
                if DB::run(conn, q).await? != 1 {
                    return Err(StoreError::Conflict(r.id.clone()));
                }
            }

            for t in &commit.transitions {
                let q = sqlx::query(INSERT_TRANSITION)
                    .bind(t.order_id.as_str())
                    .bind(t.version)
                    .bind(sequence)
                    .bind(t.body.as_str());
                DB::run(conn, q).await?;
            }

            for (at, e, prev_hash, hash) in chain(commit, head) {
                let q = sqlx::query(INSERT_EVENT)
                    .bind(at)
                    .bind(e.time.as_str())
                    .bind(e.kind.as_str())
                    .bind(e.actor.as_str())
                    .bind(e.actor_cert.as_str())
                    .bind(e.subject.as_str())
                    .bind(e.audience.owner.as_str())
                    .bind(e.audience.provider.as_deref())
                    .bind(e.audience.release_column())
                    .bind(e.content.as_str())
                    .bind(prev_hash)
                    .bind(hash);
                DB::run(conn, q).await?;
            }
            if let Some(key) = &commit.idempotency {
                let q = sqlx::query(INSERT_KEY)
                    .bind(key.caller.as_str())
                    .bind(key.request_id.as_str())
                    .bind(key.request_hash.as_str())
                    .bind(commit.response.as_str());
                DB::run(conn, q).await?;
            }
            Ok(())
        })
    }

    /// The fast path's updates of records that existed before the batch.
    /// `Ok(false)` if the database disagreed with the plan (an update found
    /// no row at the version the batch read).
    pub(crate) fn update_existing<'a>(
        conn: &'a mut DB::Connection,
        plan: &'a Plan<'_>,
    ) -> BoxFuture<'a, Result<bool, sqlx::Error>> {
        Box::pin(async move {
            for (id, row) in &plan.finals {
                let Final::Old { before, latest, supersede } = row else { continue };
                if *supersede && DB::run(conn, sqlx::query(DB::SUPERSEDE).bind(id.as_str())).await? != 1 {
                    return Ok(false);
                }
                if let Some(r) = latest
                    && DB::run(conn, Self::update_record(r, id, *before)).await? != 1
                {
                    return Ok(false);
                }
            }
            Ok(true)
        })
    }

    /// An audit entry from a row that starts with [`ENTRY_COLUMNS`].
    fn entry(r: &DB::Row) -> AuditEntry {
        AuditEntry {
            sequence: r.get(0),
            time: r.get(1),
            kind: r.get(2),
            actor: r.get(3),
            actor_cert: r.get(4),
            content: r.get(5),
            prev_hash: r.get(6),
            hash: r.get(7),
        }
    }
}

#[async_trait]
impl<S> Store for S
where
    S: SqlStore,
    for<'a> &'a str: Encode<'a, S::Db> + Type<S::Db>,
    for<'a> String: Encode<'a, S::Db> + Decode<'a, S::Db> + Type<S::Db>,
    for<'a> i64: Encode<'a, S::Db> + Decode<'a, S::Db> + Type<S::Db>,
    for<'a> bool: Encode<'a, S::Db> + Type<S::Db>,
    for<'a> Option<&'a str>: Encode<'a, S::Db>,
    for<'a> Option<String>: Encode<'a, S::Db>,
    usize: ColumnIndex<<S::Db as Database>::Row>,
{
    async fn commit(&self, commit: Commit) -> Result<Committed, StoreError> {
        self.writer().commit(commit).await
    }

    async fn idempotent_response(
        &self,
        caller: &str,
        request_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let q = sqlx::query(SELECT_KEY).bind(caller).bind(request_id);
        Ok(Rows::<S::Db>::key(S::Db::read_one(self.pool(), q).await?))
    }

    async fn parties(&self) -> Result<Vec<(Party, i64)>, StoreError> {
        let rows = S::Db::read_all(self.pool(), sqlx::query("SELECT body, etag FROM parties ORDER BY id")).await?;
        rows.iter()
            .map(|r| {
                let (body, etag): (String, i64) = (r.get(0), r.get(1));
                serde_json::from_str(&body).map(|p| (p, etag)).map_err(|e| StoreError::Corrupt(format!("party: {e}")))
            })
            .collect()
    }

    async fn record(&self, kind: RecordKind, id: &str) -> Result<Option<String>, StoreError> {
        let q = sqlx::query("SELECT body FROM records WHERE kind = $1 AND id = $2").bind(kind.as_str()).bind(id);
        Ok(S::Db::read_one(self.pool(), q).await?.map(|row| row.get(0)))
    }

    async fn visible_record(&self, kind: RecordKind, id: &str, viewer: &Viewer) -> Result<Option<String>, StoreError> {
        let sql = format!("SELECT body FROM records WHERE {} AND kind = $5 AND id = $6", S::Db::VISIBLE);
        let q = bind_viewer(sqlx::query(&sql), viewer).bind(kind.as_str()).bind(id);
        Ok(S::Db::read_one(self.pool(), q).await?.map(|row| row.get(0)))
    }

    async fn list_records(
        &self,
        kind: RecordKind,
        viewer: &Viewer,
        filter: &RecordFilter,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        // Current reports only (the default): the same condition once more,
        // in literals, so the partial index of current reports serves it.
        let current = match (kind, filter.include_superseded) {
            (RecordKind::AvailabilityReport, false) => format!("AND kind = '{}' AND {}", kind.as_str(), S::Db::CURRENT),
            _ => String::new(),
        };
        let sql = format!(
            "SELECT body, position FROM records WHERE {} AND kind = $5 AND position > $6 {} {current} ORDER BY position LIMIT $13",
            S::Db::VISIBLE,
            S::Db::LIST_FILTERS
        );
        let (from, to) = filter.id_range();
        let q = bind_viewer(sqlx::query(&sql), viewer)
            .bind(kind.as_str())
            .bind(after)
            .bind(filter.state.as_deref())
            .bind(filter.tms.as_deref())
            .bind(filter.owner.as_deref())
            .bind(filter.provider.as_deref())
            .bind(filter.region.as_deref())
            .bind(filter.include_superseded)
            .bind(i64::from(limit))
            .bind(from)
            .bind(to);
        let rows = S::Db::read_all(self.pool(), q).await?;
        Ok(rows.iter().map(|r| StoredRecord { body: r.get(0), position: r.get(1) }).collect())
    }

    async fn current_report(&self, natural_key: &str) -> Result<Option<String>, StoreError> {
        let q = sqlx::query(S::Db::CURRENT_REPORT).bind(natural_key);
        Ok(S::Db::read_one(self.pool(), q).await?.map(|row| row.get(0)))
    }

    async fn transitions(&self, order_id: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let q =
            sqlx::query("SELECT body, sequence FROM transitions WHERE order_id = $1 ORDER BY version").bind(order_id);
        Ok(S::Db::read_all(self.pool(), q).await?.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn events(&self, viewer: &Viewer, after: i64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS}, subject FROM events WHERE {} AND sequence > $5 ORDER BY sequence LIMIT $6",
            S::Db::VISIBLE
        );
        let q = bind_viewer(sqlx::query(&sql), viewer).bind(after).bind(i64::from(limit));
        let rows = S::Db::read_all(self.pool(), q).await?;
        Ok(rows.iter().map(|r| StoredEvent { entry: Rows::<S::Db>::entry(r), subject: r.get(8) }).collect())
    }

    async fn audit_entries(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM events WHERE sequence > $1 ORDER BY sequence LIMIT $2");
        let q = sqlx::query(&sql).bind(after).bind(i64::from(limit));
        Ok(S::Db::read_all(self.pool(), q).await?.iter().map(Rows::<S::Db>::entry).collect())
    }

    async fn head(&self) -> Result<i64, StoreError> {
        let row = S::Db::read_one(self.pool(), sqlx::query(S::Db::HEAD)).await?.ok_or(sqlx::Error::RowNotFound)?;
        Ok(row.get(0))
    }

    async fn follow(&self) -> Result<Option<BoxStream<'static, LogNotice>>, StoreError> {
        SqlStore::follow(self).await
    }
}
