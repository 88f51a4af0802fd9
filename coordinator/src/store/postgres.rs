//! The PostgreSQL store: the scale-out backend, shared by several coordinator
//! replicas.
//!
//! Commits go through a group-commit queue (`store::group`): one writer
//! task per replica applies everything queued in one transaction. The batch
//! is decided in memory (`store::plan`) from a few reads and written with one
//! `INSERT ... SELECT FROM UNNEST(arrays)` per table; if the database
//! disagrees, the transaction is rolled back and the batch redone with each
//! commit inside its own `SAVEPOINT` (a refused commit is rolled back
//! alone). Either transaction first locks the one row of `log_head`
//! (`SELECT ... FOR UPDATE`), so appends from all replicas are serialized:
//! the batch that appends sequence n+1 cannot read the head until the one
//! that appended n has committed. Sequences are
//! therefore gap-free *as readers see them* — no reader can see n+1 before
//! n, so a feed that pulls "after my cursor" never skips an entry committed
//! late by another replica. The same lock makes idempotency keys and
//! `version` checks behave exactly as on SQLite: each commit reads them
//! after the previous commit is visible. A row lock (not an advisory lock)
//! also works on PostgreSQL-compatible distributed SQL engines.
//!
//! After appending, a batch sends `NOTIFY cosx_events, '<sequence> <kind>'`
//! for each stored commit inside the same transaction (delivered only if it commits, in commit
//! order); [`Store::follow`] turns those into [`LogNotice`]s so that every
//! replica wakes its feed subscribers and refreshes its party registry. The
//! notification only wakes; the database stays the source of truth.
//!
//! Must never: hold the head lock across anything but this transaction's
//! own statements, or notify for a commit that did not happen.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres};

use super::group::{BatchWriter, GroupCommit, Outcome, batch_failed};
use super::plan::{Decider, Known, Plan};
use super::rows::{Dialect, Rows, SqlStore, Statement, run_statements_on};
use super::*;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (2, include_str!("../../migrations/postgres/0002_current_reports.sql")),
];

/// The channel commits are announced on (notification channels are per database).
pub const CHANNEL: &str = "cosx_events";

/// Key of the advisory lock that lets one replica at a time run migrations.
const MIGRATION_LOCK: i64 = 0x636f_7378_6d69_6772; // "cosxmigr"

/// Connections per replica.
const POOL_SIZE: u32 = 16;

/// A coordinator store in a PostgreSQL database, shareable by several replicas.
pub struct PostgresStore {
    pool: PgPool,
    url: String,
    /// The queue in front of this replica's writer.
    writer: GroupCommit,
}

impl PostgresStore {
    /// Connects and runs migrations (one replica at a time).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("database {}: {e}", redact(url))))?
            .application_name("cosx-coordinator");
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Config(format!("database {}: cannot connect: {e}", redact(url))))?;
        migrate(&pool).await?;
        let writer = GroupCommit::spawn(PgWriter { pool: pool.clone() });
        Ok(PostgresStore { pool, url: url.to_owned(), writer })
    }
}

async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    // DDL is transactional in PostgreSQL: all pending migrations apply
    // together or not at all, and the advisory lock makes replicas that
    // start at once wait for the first instead of racing it.
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIGRATION_LOCK).execute(&mut *tx).await?;
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY)").execute(&mut *tx).await?;
    let current: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetch_one(&mut *tx).await?;
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO schema_version (version) VALUES ($1)").bind(version).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// This replica's writer: takes a pooled connection per batch (so a lost
/// connection is replaced), holds the head lock for the batch's transaction.
struct PgWriter {
    pool: PgPool,
}

#[async_trait]
impl BatchWriter for PgWriter {
    async fn write(&mut self, batch: &[Commit]) -> Vec<Outcome> {
        match transaction(&self.pool, batch).await {
            Ok(outcomes) => outcomes,
            Err(e) => {
                // The transaction is rolled back when dropped.
                tracing::error!(error = %e, commits = batch.len(), "group commit failed");
                batch_failed(batch.len(), &e.to_string())
            }
        }
    }
}

/// One transaction for the whole batch. An `Err` means the transaction
/// itself failed (nothing of the batch is stored); a commit's own refusal is
/// its `Outcome`.
fn transaction<'a>(pool: &'a PgPool, batch: &'a [Commit]) -> BoxFuture<'a, Result<Vec<Outcome>, sqlx::Error>> {
    Box::pin(async move {
        let mut tx = pool.begin().await?;
        let mut first = lock_head(&mut tx).await?;
        // The fast path (see `store::plan`): decide in memory, write in bulk.
        if let Some(plan) = plan(&mut tx, batch, first.clone()).await? {
            match write_plan(&mut tx, &plan).await {
                Ok(true) => {
                    let notices = plan.events.iter().map(|(sequence, e, _, _)| format!("{sequence} {}", e.kind));
                    finish(&mut tx, first.0, &plan.head, notices.collect()).await?;
                    tx.commit().await?;
                    return Ok(plan.outcomes);
                }
                Ok(false) => tracing::debug!("group commit: the database disagreed with the plan; redoing the batch"),
                Err(e) => tracing::debug!(error = %e, "group commit: a bulk write failed; redoing the batch"),
            }
            tx.rollback().await?;
            tx = pool.begin().await?;
            first = lock_head(&mut tx).await?;
        }
        // The reference path: each commit in its own savepoint.
        let mut head = first.clone();
        let mut notices = Vec::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        for commit in batch {
            let outcome = Rows::<Postgres>::apply_in_savepoint(&mut tx, commit, &mut head).await?;
            if let Ok(Committed::New { sequence }) = &outcome {
                notices.extend(commit.events().zip(*sequence..).map(|(e, at)| format!("{at} {}", e.kind)));
            }
            outcomes.push(outcome);
        }
        finish(&mut tx, first.0, &head, notices).await?;
        tx.commit().await?;
        Ok(outcomes)
    })
}

/// First, always: the head lock. Everything after it in the transaction
/// reads what the previous batch (from any replica) wrote.
fn lock_head(conn: &mut sqlx::PgConnection) -> BoxFuture<'_, Result<(i64, String), sqlx::Error>> {
    Box::pin(async move {
        sqlx::query_as("SELECT sequence, hash FROM log_head WHERE singleton FOR UPDATE")
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| sqlx::Error::Protocol("log_head has no row".into()))
    })
}

/// Moves the head row to `head` (if the batch stored anything after
/// `first`) and queues one notification per stored commit: delivered to
/// every listener, in this order, when and only if the transaction commits.
fn finish<'a>(
    conn: &'a mut sqlx::PgConnection,
    first: i64,
    head: &'a (i64, String),
    notices: Vec<String>,
) -> BoxFuture<'a, Result<(), sqlx::Error>> {
    Box::pin(async move {
        if head.0 > first {
            sqlx::query("UPDATE log_head SET sequence = $1, hash = $2 WHERE singleton")
                .bind(head.0)
                .bind(&head.1)
                .execute(&mut *conn)
                .await?;
            sqlx::query("SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n")
                .bind(CHANNEL)
                .bind(&notices)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    })
}

/// Reads what the batch's checks need (the head lock is held) and decides
/// it in memory; `None` for a batch with registry changes (the savepoint
/// path handles those).
fn plan<'f, 'b: 'f>(
    conn: &'f mut sqlx::PgConnection,
    batch: &'b [Commit],
    head: (i64, String),
) -> BoxFuture<'f, Result<Option<Plan<'b>>, sqlx::Error>> {
    Box::pin(async move {
        if batch.iter().any(|c| c.party.is_some()) {
            return Ok(None);
        }
        let mut decider = Decider::default();
        let (callers, request_ids): (Vec<&str>, Vec<&str>) = batch
            .iter()
            .filter_map(|c| c.idempotency.as_ref())
            .map(|k| (k.caller.as_str(), k.request_id.as_str()))
            .unzip();
        if !callers.is_empty() {
            let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                "SELECT i.caller, i.request_id, i.request_hash, i.response
                 FROM idempotency i JOIN UNNEST($1::text[], $2::text[]) AS k (caller, request_id)
                   ON i.caller = k.caller AND i.request_id = k.request_id",
            )
            .bind(&callers)
            .bind(&request_ids)
            .fetch_all(&mut *conn)
            .await?;
            for (caller, request_id, hash, response) in rows {
                decider.keys.insert((caller, request_id), (hash, response));
            }
        }
        let (ids, natural) = decider.expect(batch);
        if !ids.is_empty() {
            let rows: Vec<(String, String, i64, bool, Option<String>)> =
                sqlx::query_as("SELECT id, kind, version, superseded, natural_key FROM records WHERE id = ANY($1)")
                    .bind(&ids)
                    .fetch_all(&mut *conn)
                    .await?;
            for (id, kind, version, superseded, natural_key) in rows {
                decider.records.insert(id, Some(Known { kind, version, superseded, natural_key }));
            }
        }
        if !natural.is_empty() {
            let rows: Vec<(String, String)> =
                sqlx::query_as("SELECT natural_key, id FROM records WHERE NOT superseded AND natural_key = ANY($1)")
                    .bind(&natural)
                    .fetch_all(&mut *conn)
                    .await?;
            for (key, id) in rows {
                decider.current.insert(key, Some(id));
            }
        }
        Ok(Some(decider.decide_batch(batch, head)))
    })
}

/// Writes a decided batch: updates of records that existed, then every new
/// row with one `INSERT ... SELECT FROM UNNEST(arrays)` per table. `Ok(false)`
/// if the database disagreed with the plan (an update found no row at the
/// version the batch read).
fn write_plan<'a>(conn: &'a mut sqlx::PgConnection, plan: &'a Plan<'_>) -> BoxFuture<'a, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        if !Rows::<Postgres>::update_existing(conn, plan).await? {
            return Ok(false);
        }
        let new = plan.new_rows();
        if !new.is_empty() {
            sqlx::query(
                "INSERT INTO records (kind, id, owner, provider, release_to, state, tms, region, natural_key,
                                      superseded, version, position, body)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                                      $7::text[], $8::text[], $9::text[], $10::bool[], $11::int8[], $12::int8[],
                                      $13::text[])",
            )
            .bind(new.iter().map(|(i, ..)| i.kind.as_str()).collect::<Vec<_>>())
            .bind(new.iter().map(|(i, ..)| i.id.as_str()).collect::<Vec<_>>())
            .bind(new.iter().map(|(i, ..)| i.audience.owner.as_str()).collect::<Vec<_>>())
            .bind(new.iter().map(|(_, l, ..)| l.audience.provider.as_deref()).collect::<Vec<_>>())
            .bind(new.iter().map(|(_, l, ..)| l.audience.release_column()).collect::<Vec<_>>())
            .bind(new.iter().map(|(_, l, ..)| l.state.as_deref()).collect::<Vec<_>>())
            .bind(new.iter().map(|(_, l, ..)| l.tms.as_deref()).collect::<Vec<_>>())
            .bind(new.iter().map(|(_, l, ..)| l.region.as_deref()).collect::<Vec<_>>())
            .bind(new.iter().map(|(i, ..)| i.natural_key.as_deref()).collect::<Vec<_>>())
            .bind(new.iter().map(|(.., superseded)| *superseded).collect::<Vec<_>>())
            .bind(new.iter().map(|(_, l, ..)| l.version).collect::<Vec<_>>())
            .bind(new.iter().map(|(_, _, position, _)| *position).collect::<Vec<_>>())
            .bind(new.iter().map(|(_, l, ..)| l.body.as_str()).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }
        let t = &plan.transitions;
        if !t.is_empty() {
            sqlx::query(
                "INSERT INTO transitions (order_id, version, sequence, body)
                 SELECT * FROM UNNEST($1::text[], $2::int8[], $3::int8[], $4::text[])",
            )
            .bind(t.iter().map(|(t, _)| t.order_id.as_str()).collect::<Vec<_>>())
            .bind(t.iter().map(|(t, _)| t.version).collect::<Vec<_>>())
            .bind(t.iter().map(|(_, sequence)| *sequence).collect::<Vec<_>>())
            .bind(t.iter().map(|(t, _)| t.body.as_str()).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }
        let e = &plan.events;
        if !e.is_empty() {
            sqlx::query(
                "INSERT INTO events (sequence, time, kind, actor, actor_cert, subject, owner, provider, release_to,
                                     content, prev_hash, hash)
                 SELECT * FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                                      $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])",
            )
            .bind(e.iter().map(|(sequence, ..)| *sequence).collect::<Vec<_>>())
            .bind(e.iter().map(|(_, e, ..)| e.time.as_str()).collect::<Vec<_>>())
            .bind(e.iter().map(|(_, e, ..)| e.kind.as_str()).collect::<Vec<_>>())
            .bind(e.iter().map(|(_, e, ..)| e.actor.as_str()).collect::<Vec<_>>())
            .bind(e.iter().map(|(_, e, ..)| e.actor_cert.as_str()).collect::<Vec<_>>())
            .bind(e.iter().map(|(_, e, ..)| e.subject.as_str()).collect::<Vec<_>>())
            .bind(e.iter().map(|(_, e, ..)| e.audience.owner.as_str()).collect::<Vec<_>>())
            .bind(e.iter().map(|(_, e, ..)| e.audience.provider.as_deref()).collect::<Vec<_>>())
            .bind(e.iter().map(|(_, e, ..)| e.audience.release_column()).collect::<Vec<_>>())
            .bind(e.iter().map(|(_, e, ..)| e.content.as_str()).collect::<Vec<_>>())
            .bind(e.iter().map(|(_, _, prev, _)| prev.as_str()).collect::<Vec<_>>())
            .bind(e.iter().map(|(.., hash)| hash.as_str()).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }
        let k = &plan.keys;
        if !k.is_empty() {
            sqlx::query(
                "INSERT INTO idempotency (caller, request_id, request_hash, response)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[])",
            )
            .bind(k.iter().map(|(k, _)| k.caller.as_str()).collect::<Vec<_>>())
            .bind(k.iter().map(|(k, _)| k.request_id.as_str()).collect::<Vec<_>>())
            .bind(k.iter().map(|(k, _)| k.request_hash.as_str()).collect::<Vec<_>>())
            .bind(k.iter().map(|(_, response)| *response).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }
        Ok(true)
    })
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some((userinfo, host)) = rest[..end].rsplit_once('@')
            && let Some((user, _password)) = userinfo.split_once(':')
        {
            return format!("{scheme}://{user}:***@{host}{}", &rest[end..]);
        }
    }
    url.to_owned()
}

/// Reads a notification payload `"<sequence> <kind>"`.
fn parse_notice(payload: &str) -> Option<LogNotice> {
    let (sequence, kind) = payload.split_once(' ').unwrap_or((payload, ""));
    Some(LogNotice::Appended { sequence: sequence.parse().ok()?, party_changed: kind.starts_with("PARTY_") })
}

impl Dialect for Postgres {
    const SUPERSEDE: &'static str = "UPDATE records SET superseded = TRUE WHERE id = $1 AND NOT superseded";
    const VISIBLE: &'static str = "($1 OR owner = $2 OR provider = $2 OR strpos(release_to, $3) > 0 \
         OR strpos(release_to, $4) > 0 OR strpos(release_to, ',*,') > 0)";
    const LIST_FILTERS: &'static str = "AND ($7::text IS NULL OR state = $7) AND ($8::text IS NULL OR tms = $8)
         AND ($9::text IS NULL OR owner = $9) AND ($10::text IS NULL OR provider = $10)
         AND ($11::text IS NULL OR region = $11) AND ($12 OR NOT superseded)
         AND ($14::text IS NULL OR (id COLLATE \"C\" >= $14 AND id COLLATE \"C\" < $15))";
    const CURRENT: &'static str = "NOT superseded";
    const CURRENT_REPORT: &'static str = "SELECT body FROM records WHERE natural_key = $1 AND NOT superseded";
    const HEAD: &'static str = "SELECT sequence FROM log_head WHERE singleton";

    run_statements_on!(PgConnection, PgRow, PgPool);
}

#[async_trait]
impl SqlStore for PostgresStore {
    type Db = Postgres;
    fn pool(&self) -> &PgPool {
        &self.pool
    }
    fn writer(&self) -> &GroupCommit {
        &self.writer
    }

    async fn follow(&self) -> Result<Option<BoxStream<'static, LogNotice>>, StoreError> {
        // Its own connection (not one of the pool's): it stays in LISTEN for good.
        let mut listener = PgListener::connect(&self.url).await?;
        listener.listen(CHANNEL).await?;
        // The first notice is a resync: commits made between the caller's
        // initial read and this LISTEN were not announced to it.
        let notices = futures::stream::unfold((listener, true), |(mut listener, first)| async move {
            if first {
                return Some((LogNotice::Resync, (listener, false)));
            }
            let notice = loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => match parse_notice(n.payload()) {
                        Some(notice) => break notice,
                        None => tracing::warn!(payload = n.payload(), "ignoring a malformed {CHANNEL} notification"),
                    },
                    // The connection was lost and is re-established: what was
                    // announced meanwhile is gone, so the follower re-reads.
                    Ok(None) => break LogNotice::Resync,
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for {CHANNEL} failed; retrying in 1 s");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        break LogNotice::Resync;
                    }
                }
            };
            Some((notice, (listener, false)))
        });
        Ok(Some(Box::pin(notices)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_name_their_sequence_and_whether_the_registry_changed() {
        assert_eq!(parse_notice("42 PARTY_SUSPENDED"), Some(LogNotice::Appended { sequence: 42, party_changed: true }));
        assert_eq!(
            parse_notice("7 REPAIR_ORDER_CREATED"),
            Some(LogNotice::Appended { sequence: 7, party_changed: false })
        );
        assert_eq!(parse_notice("7"), Some(LogNotice::Appended { sequence: 7, party_changed: false }));
        assert_eq!(parse_notice("x PARTY_REGISTERED"), None);
    }

    #[test]
    fn passwords_stay_out_of_error_messages() {
        assert!(!redact("postgres://cosx:s3cret@db:5432/cosx").contains("s3cret"));
    }
}
