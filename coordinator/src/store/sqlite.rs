//! The embedded SQLite store: WAL mode, `synchronous=FULL`, foreign keys on.
//!
//! SQLite has one writer at a time. Commits go through a group-commit queue
//! (`store::group`) to one writer task that owns the one write connection
//! and applies everything queued, in order, inside one `BEGIN IMMEDIATE`
//! transaction: one fsync per batch instead of one per commit, and callers
//! hear back only after `COMMIT`. A batch is first decided in memory and
//! written in bulk (the fast path below); if the database disagrees, it is
//! redone commit by commit, each in its own `SAVEPOINT` (a refused commit is
//! rolled back alone). Either way the log head is read once per batch and
//! each event's hash chains on the previous one, within the batch too.
//! Reads use a separate pool and see committed data only.
//!
//! Must never: acknowledge a commit before its transaction has committed,
//! or write from anywhere but the writer task (the head read at the start of
//! a batch is only right because `BEGIN IMMEDIATE` holds the write lock).

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use cosx_domain::audit::GENESIS;
use futures::future::BoxFuture;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Sqlite, SqlitePool};

use super::group::{BatchWriter, GroupCommit, Outcome, batch_failed};
use super::plan::{Decider, Known, Plan};
use super::rows::{Dialect, Rows, SqlStore, Statement, run_statements_on};
use super::*;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../../migrations/sqlite/0002_current_reports.sql")),
];

/// A coordinator store in one SQLite file.
pub struct SqliteStore {
    /// Readers.
    pool: SqlitePool,
    /// The queue in front of the one writer.
    writer: GroupCommit,
    /// The background checkpointer, stopped with the store.
    checkpointer: tokio::task::AbortHandle,
}

impl SqliteStore {
    /// Opens (creating if missing) the database and runs migrations. Refuses
    /// a database that is not in WAL mode with `synchronous=FULL` afterwards.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("database {url:?}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // The writer never checkpoints on COMMIT (SQLite's default once the
        // WAL passes 1,000 pages): a checkpoint writes pages into the main
        // file and fsyncs it, and on the commit path every caller in the
        // batch would wait for it. The checkpointer task does it instead.
        // It also keeps a larger page cache than SQLite's 2 MiB default, so
        // the index pages every batch touches stay in memory between batches.
        let mut conn =
            options.clone().pragma("wal_autocheckpoint", "0").pragma("cache_size", WRITER_CACHE_KIB).connect().await?;
        check_durability(&mut conn).await?;
        migrate(&mut conn).await?;
        let checkpointer = tokio::spawn(checkpoint_forever(options.clone().connect().await?)).abort_handle();
        // No ping before each use: a connection to a local file does not go
        // stale, and the ping is one more hop to SQLite's worker thread on
        // every read (every request's idempotency check among them).
        let pool = SqlitePoolOptions::new().max_connections(8).test_before_acquire(false).connect_with(options).await?;
        check_durability(&mut *pool.acquire().await?).await?;
        Ok(SqliteStore { pool, writer: GroupCommit::spawn(SqliteWriter { conn }), checkpointer })
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.checkpointer.abort();
    }
}

/// The writer's page cache, as SQLite's `cache_size` (negative: KiB).
pub const WRITER_CACHE_KIB: &str = "-65536";

/// How often the checkpointer copies committed WAL frames into the main file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// Checkpoints the WAL in the background, on its own connection, without
/// blocking the writer or readers (`PASSIVE`): frames are copied into the
/// main file and it is fsynced, and once all are, the next write transaction
/// starts the WAL over, so it stays small. Durability does not depend on
/// it: a commit is durable once its WAL frames are synced.
async fn checkpoint_forever(mut conn: SqliteConnection) {
    loop {
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&mut conn).await {
            tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
        }
    }
}

async fn check_durability(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *conn).await?;
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *conn).await?;
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&mut *conn).await?;
    if !mode.eq_ignore_ascii_case("wal") || sync != 2 || fk != 1 {
        return Err(StoreError::Config(format!(
            "SQLite must run with journal_mode=WAL, synchronous=FULL, foreign_keys=ON; found {mode}, {sync}, {fk}"
        )));
    }
    Ok(())
}

async fn migrate(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)")
        .execute(&mut *conn)
        .await?;
    // Read inside the write lock, so two stores opening one file at once
    // cannot both apply a migration.
    sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let applied = async {
        let current: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetch_one(&mut *conn).await?;
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            sqlx::raw_sql(sql).execute(&mut *conn).await?;
            sqlx::query("INSERT INTO schema_version (version) VALUES (?)").bind(version).execute(&mut *conn).await?;
        }
        Ok::<_, sqlx::Error>(())
    }
    .await;
    match applied {
        Ok(()) => sqlx::raw_sql("COMMIT").execute(&mut *conn).await?,
        Err(e) => {
            sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await?;
            return Err(e.into());
        }
    };
    Ok(())
}

/// The one write connection, owned by the group-commit writer task.
struct SqliteWriter {
    conn: SqliteConnection,
}

#[async_trait]
impl BatchWriter for SqliteWriter {
    async fn write(&mut self, batch: &[Commit]) -> Vec<Outcome> {
        match self.transaction(batch).await {
            Ok(outcomes) => outcomes,
            Err(e) => {
                tracing::error!(error = %e, commits = batch.len(), "group commit failed; rolling back");
                // Fails harmlessly if SQLite already rolled back.
                let _ = sqlx::query("ROLLBACK").execute(&mut self.conn).await;
                batch_failed(batch.len(), &e.to_string())
            }
        }
    }
}

impl SqliteWriter {
    /// One transaction for the whole batch. An `Err` means the transaction
    /// itself failed (nothing of the batch is stored); a commit's own
    /// refusal is its `Outcome`.
    async fn transaction(&mut self, batch: &[Commit]) -> Result<Vec<Outcome>, sqlx::Error> {
        let conn = &mut self.conn;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let mut head = read_head(conn).await?;
        if let Some(plan) = plan(conn, batch, head.clone()).await? {
            match write_plan(conn, &plan).await {
                Ok(true) => {
                    sqlx::query("COMMIT").execute(&mut *conn).await?;
                    return Ok(plan.outcomes);
                }
                Ok(false) => tracing::debug!("group commit: the database disagreed with the plan; redoing the batch"),
                Err(e) => tracing::debug!(error = %e, "group commit: a bulk write failed; redoing the batch"),
            }
            sqlx::query("ROLLBACK").execute(&mut *conn).await?;
            sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
            head = read_head(conn).await?;
        }
        // The reference path: each commit in its own savepoint.
        let mut outcomes = Vec::with_capacity(batch.len());
        for commit in batch {
            outcomes.push(Rows::<Sqlite>::apply_in_savepoint(conn, commit, &mut head).await?);
        }
        sqlx::query("COMMIT").execute(&mut *conn).await?;
        Ok(outcomes)
    }
}

/// The last event's sequence and hash (GENESIS for an empty log).
fn read_head(conn: &mut SqliteConnection) -> BoxFuture<'_, Result<(i64, String), sqlx::Error>> {
    Box::pin(async move {
        let head: Option<(i64, String)> =
            sqlx::query_as("SELECT sequence, hash FROM events ORDER BY sequence DESC LIMIT 1")
                .fetch_optional(&mut *conn)
                .await?;
        Ok(head.unwrap_or_else(|| (0, GENESIS.to_owned())))
    })
}

// ----- the fast path: a batch decided in memory, written in bulk ------------
//
// Statement by statement, a commit costs ~7 round trips to sqlx's SQLite
// worker thread (each a channel send and a thread wake-up), which is most of
// its cost once the fsync is shared. So a batch is first decided in memory:
// under the write lock, the store reads what the batch's checks need (its
// idempotency keys, the records it names, the current reports for its
// natural keys) in a few queries, replays the commits in order against that
// (replays, idempotency mismatches and version/existence/natural-key
// conflicts exactly as the statements would decide them), then writes what
// the stored commits leave behind with a few multi-row statements. The
// database still checks everything: if any statement fails or an update does
// not find the row it expects, the batch is rolled back and redone by the
// savepoint path, which is the reference behaviour.

/// `?, ?, ...` for `n` values.
fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Rows per multi-row statement (SQLite allows 32,766 bound values).
const ROWS_PER_STATEMENT: usize = 500;

/// Reads what the batch's checks need and decides every commit in order.
/// `None` if the batch holds something the fast path does not decide
/// (registry changes).
fn plan<'f, 'b: 'f>(
    conn: &'f mut SqliteConnection,
    batch: &'b [Commit],
    head: (i64, String),
) -> BoxFuture<'f, Result<Option<Plan<'b>>, sqlx::Error>> {
    Box::pin(async move {
        if batch.iter().any(|c| c.party.is_some()) {
            return Ok(None);
        }
        let mut decider = Decider::default();

        let mut by_caller: HashMap<&str, Vec<&str>> = HashMap::new();
        for key in batch.iter().filter_map(|c| c.idempotency.as_ref()) {
            by_caller.entry(&key.caller).or_default().push(&key.request_id);
        }
        for (caller, ids) in by_caller {
            for ids in ids.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "SELECT request_id, request_hash, response FROM idempotency WHERE caller = ? AND request_id IN ({})",
                    marks(ids.len())
                );
                let mut q = sqlx::query_as::<_, (String, String, String)>(&sql).persistent(false).bind(caller);
                for id in ids {
                    q = q.bind(*id);
                }
                for (id, hash, response) in q.fetch_all(&mut *conn).await? {
                    decider.keys.insert((caller.to_owned(), id), (hash, response));
                }
            }
        }

        let (ids, natural) = decider.expect(batch);
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT id, kind, version, superseded, natural_key FROM records WHERE id IN ({})",
                marks(chunk.len())
            );
            let mut q = sqlx::query_as::<_, (String, String, i64, bool, Option<String>)>(&sql).persistent(false);
            for id in chunk {
                q = q.bind(*id);
            }
            for (id, kind, version, superseded, natural_key) in q.fetch_all(&mut *conn).await? {
                decider.records.insert(id, Some(Known { kind, version, superseded, natural_key }));
            }
        }
        for chunk in natural.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT natural_key, id FROM records WHERE superseded = 0 AND natural_key IN ({})",
                marks(chunk.len())
            );
            let mut q = sqlx::query_as::<_, (String, String)>(&sql).persistent(false);
            for key in chunk {
                q = q.bind(*key);
            }
            for (key, id) in q.fetch_all(&mut *conn).await? {
                decider.current.insert(key, Some(id));
            }
        }
        Ok(Some(decider.decide_batch(batch, head)))
    })
}

/// Writes a decided batch: updates of records that existed, then every new
/// row with multi-row statements. `Ok(false)` if the database disagreed with
/// the plan (an update found no row at the version the batch read).
fn write_plan<'a>(conn: &'a mut SqliteConnection, plan: &'a Plan<'_>) -> BoxFuture<'a, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        if !Rows::<Sqlite>::update_existing(conn, plan).await? {
            return Ok(false);
        }
        let new = plan.new_rows();
        for rows in new.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO records (kind, id, owner, provider, release_to, state, tms, region, natural_key, superseded, version, position, body) VALUES {}",
                vec![format!("({})", marks(13)); rows.len()].join(", ")
            );
            let mut q = sqlx::query(&sql).persistent(false);
            for (insert, latest, position, superseded) in rows {
                q = q
                    .bind(insert.kind.as_str())
                    .bind(&insert.id)
                    .bind(&insert.audience.owner)
                    .bind(&latest.audience.provider)
                    .bind(latest.audience.release_column())
                    .bind(&latest.state)
                    .bind(&latest.tms)
                    .bind(&latest.region)
                    .bind(&insert.natural_key)
                    .bind(*superseded)
                    .bind(latest.version)
                    .bind(*position)
                    .bind(&latest.body);
            }
            q.execute(&mut *conn).await?;
        }
        for rows in plan.transitions.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO transitions (order_id, version, sequence, body) VALUES {}",
                vec![format!("({})", marks(4)); rows.len()].join(", ")
            );
            let mut q = sqlx::query(&sql).persistent(false);
            for (t, sequence) in rows {
                q = q.bind(&t.order_id).bind(t.version).bind(*sequence).bind(&t.body);
            }
            q.execute(&mut *conn).await?;
        }
        for rows in plan.events.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO events (sequence, time, kind, actor, actor_cert, subject, owner, provider, release_to, content, prev_hash, hash) VALUES {}",
                vec![format!("({})", marks(12)); rows.len()].join(", ")
            );
            let mut q = sqlx::query(&sql).persistent(false);
            for (sequence, e, prev_hash, hash) in rows {
                q = q
                    .bind(*sequence)
                    .bind(&e.time)
                    .bind(&e.kind)
                    .bind(&e.actor)
                    .bind(&e.actor_cert)
                    .bind(&e.subject)
                    .bind(&e.audience.owner)
                    .bind(&e.audience.provider)
                    .bind(e.audience.release_column())
                    .bind(&e.content)
                    .bind(prev_hash)
                    .bind(hash);
            }
            q.execute(&mut *conn).await?;
        }
        for rows in plan.keys.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO idempotency (caller, request_id, request_hash, response) VALUES {}",
                vec![format!("({})", marks(4)); rows.len()].join(", ")
            );
            let mut q = sqlx::query(&sql).persistent(false);
            for (key, response) in rows {
                q = q.bind(&key.caller).bind(&key.request_id).bind(&key.request_hash).bind(*response);
            }
            q.execute(&mut *conn).await?;
        }
        Ok(true)
    })
}

impl Dialect for Sqlite {
    const SUPERSEDE: &'static str = "UPDATE records SET superseded = 1 WHERE id = $1 AND superseded = 0";
    const VISIBLE: &'static str = "($1 OR owner = $2 OR provider = $2 OR instr(release_to, $3) > 0 \
         OR instr(release_to, $4) > 0 OR instr(release_to, ',*,') > 0)";
    const LIST_FILTERS: &'static str = "AND ($7 IS NULL OR state = $7) AND ($8 IS NULL OR tms = $8)
         AND ($9 IS NULL OR owner = $9) AND ($10 IS NULL OR provider = $10) AND ($11 IS NULL OR region = $11)
         AND ($12 OR superseded = 0) AND ($14 IS NULL OR (id >= $14 AND id < $15))";
    const CURRENT: &'static str = "superseded = 0";
    const CURRENT_REPORT: &'static str = "SELECT body FROM records WHERE natural_key = $1 AND superseded = 0";
    const HEAD: &'static str = "SELECT COALESCE(MAX(sequence), 0) FROM events";

    run_statements_on!(SqliteConnection, SqliteRow, SqlitePool);
}

impl SqlStore for SqliteStore {
    type Db = Sqlite;
    fn pool(&self) -> &SqlitePool {
        &self.pool
    }
    fn writer(&self) -> &GroupCommit {
        &self.writer
    }
}
