//! Streaming ingest over `Exchange.Ingest`, and its ceiling: the same rows
//! the coordinator wrote, inserted straight into a fresh database of the
//! same backend with multi-row statements inside large transactions (no
//! gRPC, no JSON, no hashing) — for SQLite under the coordinator's own
//! pragmas (WAL, `synchronous=FULL`), for PostgreSQL on the same server
//! with the coordinator's schema and the server's own settings.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cosx_proto::v1 as pb;
use futures::StreamExt;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteRow, SqliteSynchronous};
use sqlx::{Column, ConnectOptions, Connection, Row, TypeInfo, ValueRef};
use tonic::transport::Channel;

/// The coordinator's PostgreSQL schema, for the PostgreSQL ceiling.
const POSTGRES_SCHEMA: &str = include_str!("../../coordinator/migrations/postgres/0001_init.sql");

/// A database of the run: an SQLite file, or a database created on a
/// PostgreSQL server for this run (dropped by [`Db::remove`]).
pub(crate) enum Db {
    Sqlite(PathBuf),
    Postgres { server: String, name: String },
}

impl Db {
    /// A fresh database called `name`: a file in `dir`, or a new database
    /// on the PostgreSQL server `server` (a URL to any database on it).
    pub(crate) async fn create(server: Option<&str>, dir: &Path, name: &str) -> anyhow::Result<Db> {
        let Some(server) = server else {
            return Ok(Db::Sqlite(dir.join(format!("{name}.db"))));
        };
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "cosx_bench_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        let mut admin = PgConnection::connect(server).await?;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&mut admin).await?;
        Ok(Db::Postgres { server: server.to_owned(), name })
    }

    /// The URL a coordinator opens.
    pub(crate) fn url(&self) -> String {
        match self {
            Db::Sqlite(path) => format!("sqlite://{}", path.display()),
            Db::Postgres { server, name } => {
                let (base, query) = server.split_once('?').map_or((server.as_str(), None), |(b, q)| (b, Some(q)));
                let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
                match query {
                    Some(q) => format!("{base}/{name}?{q}"),
                    None => format!("{base}/{name}"),
                }
            }
        }
    }

    /// Drops a PostgreSQL database, or deletes an SQLite file with its WAL
    /// and shared-memory files: a step's database goes when the step ends,
    /// not with the run (a 1,000,000-order step leaves ~18 GB).
    pub(crate) async fn remove(&self) -> anyhow::Result<()> {
        match self {
            Db::Postgres { server, name } => {
                let mut admin = PgConnection::connect(server).await?;
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await?;
            }
            Db::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    match std::fs::remove_file(&file) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// What the ceiling is called in the report.
    pub(crate) fn ceiling_name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "raw batched SQLite insert",
            Db::Postgres { .. } => "raw batched PostgreSQL insert",
        }
    }
}

/// What one stream achieved.
pub(crate) struct Streamed {
    /// Wall time from the first send to the last result.
    pub(crate) elapsed: Duration,
    /// Records stored.
    pub(crate) accepted: usize,
    /// Records refused, and the first refusal.
    pub(crate) refused: usize,
    pub(crate) first_refusal: Option<String>,
    /// The names of the stored records, if asked for.
    pub(crate) names: Vec<String>,
}

/// Streams `records` through one `Ingest` call and waits for every result.
pub(crate) async fn stream(channel: Channel, records: Vec<pb::IngestRequest>) -> anyhow::Result<Streamed> {
    stream_keeping(channel, records, false).await
}

/// [`stream`], keeping the names of the stored records when `keep_names`.
pub(crate) async fn stream_keeping(
    channel: Channel,
    records: Vec<pb::IngestRequest>,
    keep_names: bool,
) -> anyhow::Result<Streamed> {
    let mut client = pb::exchange_client::ExchangeClient::new(channel).max_decoding_message_size(64 << 20);
    let started = Instant::now();
    let mut results = client.ingest(tokio_stream::iter(records)).await?.into_inner();
    let (mut accepted, mut refused, mut first_refusal, mut names) = (0, 0, None, Vec::new());
    while let Some(result) = results.next().await {
        let result = result?;
        if result.code == 0 {
            accepted += 1;
            if keep_names {
                names.push(result.name);
            }
        } else {
            refused += 1;
            if first_refusal.is_none() {
                first_refusal = Some(format!("{} {:?}", result.message, result.field_violations));
            }
        }
    }
    Ok(Streamed { elapsed: started.elapsed(), accepted, refused, first_refusal, names })
}

/// A value read back from the coordinator's database.
#[derive(Clone)]
enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(String),
}

/// One table the coordinator wrote for the streamed records: which of its
/// rows belong to them, and the key they are paged by.
pub(crate) struct Source {
    name: &'static str,
    filter: String,
    key: &'static [&'static str],
}

/// The rows the coordinator wrote for records of `kind` whose request ids
/// start with `prefix`, between event sequences `after` and `upto`: records,
/// lifecycle transitions, events and idempotency keys (in this order, so
/// that foreign keys hold as they are inserted).
pub(crate) fn rows_written(kind: &str, prefix: &str, after: i64, upto: i64) -> Vec<Source> {
    let kind = kind.replace('\'', "");
    let prefix = prefix.replace('\'', "");
    vec![
        Source { name: "records", filter: format!("kind = '{kind}'"), key: &["id"] },
        Source {
            name: "transitions",
            filter: format!("order_id IN (SELECT id FROM records WHERE kind = '{kind}')"),
            key: &["order_id", "version"],
        },
        Source { name: "events", filter: format!("sequence > {after} AND sequence <= {upto}"), key: &["sequence"] },
        Source { name: "idempotency", filter: format!("request_id LIKE '{prefix}%'"), key: &["caller", "request_id"] },
    ]
}

/// A page of one table's rows, read back from the coordinator's database.
struct Page {
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
}

impl Page {
    /// The paging key of the last row.
    fn last_key(&self, source: &Source) -> anyhow::Result<Vec<Value>> {
        let last = self.rows.last().ok_or_else(|| anyhow::anyhow!("empty page"))?;
        source
            .key
            .iter()
            .map(|k| {
                let at = self.columns.iter().position(|c| c == k);
                at.map(|i| last[i].clone()).ok_or_else(|| anyhow::anyhow!("{} has no column {k}", source.name))
            })
            .collect()
    }
}

/// `SELECT` of the page after `after` (keyset paging: `(k1, k2) > (?, ?)`),
/// with `placeholder(i)` for the i-th bound value (1-based).
fn page_sql(source: &Source, after: bool, limit: usize, placeholder: impl Fn(usize) -> String) -> String {
    let key = source.key.join(", ");
    let resume = if after {
        let marks: Vec<String> = (1..=source.key.len()).map(placeholder).collect();
        format!(" AND ({key}) > ({})", marks.join(", "))
    } else {
        String::new()
    };
    format!("SELECT * FROM {} WHERE {}{resume} ORDER BY {key} LIMIT {limit}", source.name, source.filter)
}

fn value(row: &SqliteRow, i: usize) -> anyhow::Result<Value> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let kind = raw.type_info().name().to_owned();
    Ok(match kind.as_str() {
        "INTEGER" => Value::Int(row.try_get(i)?),
        "REAL" => Value::Real(row.try_get(i)?),
        _ => Value::Text(row.try_get(i)?),
    })
}

fn pg_value(row: &PgRow, i: usize) -> anyhow::Result<Value> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let kind = raw.type_info().name().to_owned();
    Ok(match kind.as_str() {
        "BOOL" => Value::Bool(row.try_get(i)?),
        "INT8" => Value::Int(row.try_get(i)?),
        "INT4" => Value::Int(i64::from(row.try_get::<i32, _>(i)?)),
        "FLOAT8" => Value::Real(row.try_get(i)?),
        _ => Value::Text(row.try_get(i)?),
    })
}

fn bind<'q>(
    q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    v: &'q Value,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Bool(b) => q.bind(*b),
        Value::Int(n) => q.bind(*n),
        Value::Real(x) => q.bind(*x),
        Value::Text(s) => q.bind(s.as_str()),
    }
}

fn pg_bind<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    v: &'q Value,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Bool(b) => q.bind(*b),
        Value::Int(n) => q.bind(*n),
        Value::Real(x) => q.bind(*x),
        Value::Text(s) => q.bind(s.as_str()),
    }
}

/// The page the rows a query fetched make, each value read by `value`.
fn page_of<R: Row>(rows: &[R], value: fn(&R, usize) -> anyhow::Result<Value>) -> anyhow::Result<Page> {
    let columns = rows.first().map(|r| r.columns().iter().map(|c| c.name().to_owned()).collect()).unwrap_or_default();
    let rows = rows
        .iter()
        .map(|r| (0..r.columns().len()).map(|i| value(r, i)).collect::<anyhow::Result<Vec<_>>>())
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Page { columns, rows })
}

async fn read_page(
    conn: &mut SqliteConnection,
    source: &Source,
    after: &Option<Vec<Value>>,
    limit: usize,
) -> anyhow::Result<Page> {
    let sql = page_sql(source, after.is_some(), limit, |_| "?".to_owned());
    let mut q = sqlx::query(&sql);
    for v in after.iter().flatten() {
        q = bind(q, v);
    }
    page_of(&q.fetch_all(&mut *conn).await?, value)
}

async fn pg_read_page(
    conn: &mut PgConnection,
    source: &Source,
    after: &Option<Vec<Value>>,
    limit: usize,
) -> anyhow::Result<Page> {
    let sql = page_sql(source, after.is_some(), limit, |i| format!("${i}"));
    let mut q = sqlx::query(&sql);
    for v in after.iter().flatten() {
        q = pg_bind(q, v);
    }
    page_of(&q.fetch_all(&mut *conn).await?, pg_value)
}

async fn open(path: &Path, create: bool) -> anyhow::Result<SqliteConnection> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .pragma("cache_size", cosx_coordinator::store::sqlite::WRITER_CACHE_KIB);
    Ok(options.connect().await?)
}

/// The highest event sequence in the coordinator's database.
pub(crate) async fn last_sequence(db: &Db) -> anyhow::Result<i64> {
    let sql = "SELECT MAX(sequence) FROM events";
    Ok(match db {
        Db::Sqlite(path) => sqlx::query_scalar::<_, Option<i64>>(sql).fetch_one(&mut open(path, false).await?).await?,
        Db::Postgres { .. } => {
            sqlx::query_scalar::<_, Option<i64>>(sql).fetch_one(&mut PgConnection::connect(&db.url()).await?).await?
        }
    }
    .unwrap_or(0))
}

/// Checkpoints the coordinator's SQLite WAL into its main file, as its
/// background checkpointer would, and returns how long that took
/// (PostgreSQL: nothing to do, zero).
pub(crate) async fn checkpoint(db: &Db) -> anyhow::Result<Duration> {
    let Db::Sqlite(path) = db else { return Ok(Duration::ZERO) };
    let mut conn = open(path, false).await?;
    sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut conn).await?;
    let started = Instant::now();
    // BUSY while the coordinator's own checkpointer is at work: wait for it.
    while started.elapsed() < Duration::from_secs(60) {
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(FULL)").fetch_one(&mut conn).await?;
        if busy == 0 {
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    anyhow::bail!("the coordinator's WAL could not be checkpointed in 60 s")
}

/// Inserts the rows of `sources` into `ceiling_db`, a fresh database of the
/// coordinator's backend with its schema (SQLite: copied from the
/// coordinator's `sqlite_master`, with its pragmas; PostgreSQL: its
/// migration, the server's own settings), as fast as that backend goes:
/// statements of up to `per_statement` rows, one transaction per
/// `per_transaction` rows. The rows are read back from the coordinator a
/// transaction's worth at a time, untimed, so memory stays bounded at any
/// size. Returns the time the inserts took and the rows inserted.
pub(crate) async fn ceiling_into(
    coordinator: &Db,
    ceiling_db: &Db,
    sources: &[Source],
    per_statement: usize,
    per_transaction: usize,
) -> anyhow::Result<(Duration, usize)> {
    let per_transaction = per_transaction.max(1);
    let mut pair = match (coordinator, ceiling_db) {
        (Db::Sqlite(from), Db::Sqlite(to)) => {
            Ceiling::Sqlite { source: open(from, false).await?, target: fresh_copy_of_schema(from, to).await? }
        }
        (Db::Postgres { .. }, Db::Postgres { .. }) => {
            let mut target = PgConnection::connect(&ceiling_db.url()).await?;
            sqlx::raw_sql(POSTGRES_SCHEMA).execute(&mut target).await?;
            Ceiling::Postgres { source: PgConnection::connect(&coordinator.url()).await?, target }
        }
        _ => anyhow::bail!("the ceiling runs on the coordinator's backend"),
    };
    let (mut took, mut total) = (Duration::ZERO, 0usize);
    for s in sources {
        let mut after = None;
        loop {
            let page = pair.read_page(s, &after, per_transaction).await?;
            if page.rows.is_empty() {
                break;
            }
            after = Some(page.last_key(s)?);
            let started = Instant::now();
            pair.insert(s.name, &page, per_statement).await?;
            took += started.elapsed();
            total += page.rows.len();
        }
    }
    Ok((took, total))
}

/// The coordinator's database (read back) and the ceiling's (inserted
/// into), on one backend.
enum Ceiling {
    Sqlite { source: SqliteConnection, target: SqliteConnection },
    Postgres { source: PgConnection, target: PgConnection },
}

impl Ceiling {
    async fn read_page(&mut self, source: &Source, after: &Option<Vec<Value>>, limit: usize) -> anyhow::Result<Page> {
        match self {
            Ceiling::Sqlite { source: conn, .. } => read_page(conn, source, after, limit).await,
            Ceiling::Postgres { source: conn, .. } => pg_read_page(conn, source, after, limit).await,
        }
    }

    async fn insert(&mut self, name: &str, page: &Page, per_statement: usize) -> anyhow::Result<()> {
        match self {
            Ceiling::Sqlite { target, .. } => insert(target, name, page, per_statement).await,
            Ceiling::Postgres { target, .. } => pg_insert(target, name, page, per_statement).await,
        }
    }
}

/// A fresh SQLite file with the coordinator's schema (copied from its
/// `sqlite_master`: tables, indexes, triggers), ready for the ceiling.
async fn fresh_copy_of_schema(from: &Path, to: &Path) -> anyhow::Result<SqliteConnection> {
    let mut source = open(from, false).await?;
    let schema: Vec<(String, String)> = sqlx::query_as(
        "SELECT type, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
         ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid",
    )
    .fetch_all(&mut source)
    .await?;
    let mut conn = open(to, true).await?;
    for (_, sql) in schema {
        sqlx::query(&sql).execute(&mut conn).await?;
    }
    Ok(conn)
}

/// Inserts one page into table `name` in one transaction, with statements
/// of up to `per_statement` rows.
async fn insert(conn: &mut SqliteConnection, name: &str, page: &Page, per_statement: usize) -> anyhow::Result<()> {
    let width = page.columns.len();
    // SQLite allows 32766 bound parameters per statement.
    let chunk = per_statement.clamp(1, 32_000 / width.max(1));
    let one = format!("({})", vec!["?"; width].join(","));
    let mut tx = conn.begin().await?;
    for rows in page.rows.chunks(chunk) {
        let sql = format!(
            "INSERT INTO {name} ({}) VALUES {}",
            page.columns.join(","),
            vec![one.as_str(); rows.len()].join(",")
        );
        let mut q = sqlx::query(&sql);
        for v in rows.iter().flatten() {
            q = bind(q, v);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// [`insert`] on PostgreSQL: the same multi-row statements (`$n`
/// placeholders; at most 65,535 per statement).
async fn pg_insert(conn: &mut PgConnection, name: &str, page: &Page, per_statement: usize) -> anyhow::Result<()> {
    let width = page.columns.len();
    let chunk = per_statement.clamp(1, 65_000 / width.max(1));
    let mut tx = conn.begin().await?;
    for rows in page.rows.chunks(chunk) {
        let values: Vec<String> = (0..rows.len())
            .map(|r| format!("({})", (1..=width).map(|c| format!("${}", r * width + c)).collect::<Vec<_>>().join(",")))
            .collect();
        let sql = format!("INSERT INTO {name} ({}) VALUES {}", page.columns.join(","), values.join(","));
        let mut q = sqlx::query(&sql);
        for v in rows.iter().flatten() {
            q = pg_bind(q, v);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
