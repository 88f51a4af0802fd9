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
const POSTGRES_SCHEMA: &str = include_str!("../../server/migrations/postgres/0001_init.sql");

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

    /// Drops a PostgreSQL database (SQLite files go with the run's folder).
    pub(crate) async fn remove(&self) -> anyhow::Result<()> {
        if let Db::Postgres { server, name } = self {
            let mut admin = PgConnection::connect(server).await?;
            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await?;
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
}

/// Streams `records` through one `Ingest` call and waits for every result.
pub(crate) async fn stream(channel: Channel, records: Vec<pb::IngestRequest>) -> anyhow::Result<Streamed> {
    let mut client = pb::exchange_client::ExchangeClient::new(channel).max_decoding_message_size(64 << 20);
    let started = Instant::now();
    let mut results = client.ingest(tokio_stream::iter(records)).await?.into_inner();
    let (mut accepted, mut refused, mut first_refusal) = (0, 0, None);
    while let Some(result) = results.next().await {
        let result = result?;
        if result.code == 0 {
            accepted += 1;
        } else {
            refused += 1;
            if first_refusal.is_none() {
                first_refusal = Some(format!("{} {:?}", result.message, result.field_violations));
            }
        }
    }
    Ok(Streamed { elapsed: started.elapsed(), accepted, refused, first_refusal })
}

/// A value read back from SQLite.
#[derive(Clone)]
enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(String),
}

/// Rows of one table, read back from the coordinator's database.
pub(crate) struct Table {
    name: &'static str,
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
}

impl Table {
    /// Rows in this table.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }
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

async fn pg_read(conn: &mut PgConnection, name: &'static str, sql: &str) -> anyhow::Result<Table> {
    let rows = sqlx::query(sql).fetch_all(&mut *conn).await?;
    let columns = rows.first().map(|r| r.columns().iter().map(|c| c.name().to_owned()).collect()).unwrap_or_default();
    let rows = rows
        .iter()
        .map(|r| (0..r.columns().len()).map(|i| pg_value(r, i)).collect::<anyhow::Result<Vec<_>>>())
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Table { name, columns, rows })
}

async fn read(conn: &mut SqliteConnection, name: &'static str, sql: &str) -> anyhow::Result<Table> {
    let rows = sqlx::query(sql).fetch_all(&mut *conn).await?;
    let columns = rows.first().map(|r| r.columns().iter().map(|c| c.name().to_owned()).collect()).unwrap_or_default();
    let rows = rows
        .iter()
        .map(|r| (0..r.columns().len()).map(|i| value(r, i)).collect::<anyhow::Result<Vec<_>>>())
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Table { name, columns, rows })
}

async fn open(path: &Path, create: bool) -> anyhow::Result<SqliteConnection> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true);
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

/// Every row the coordinator wrote for records of `kind` whose request ids
/// start with `prefix`, between event sequences `after` and `upto`:
/// records, lifecycle transitions, events and idempotency keys.
pub(crate) async fn rows_written(
    db: &Db,
    kind: &str,
    prefix: &str,
    after: i64,
    upto: i64,
) -> anyhow::Result<Vec<Table>> {
    let kind = kind.replace('\'', "");
    let prefix = prefix.replace('\'', "");
    let queries = [
        ("records", format!("SELECT * FROM records WHERE kind = '{kind}' ORDER BY position")),
        (
            "transitions",
            format!("SELECT t.* FROM transitions t JOIN records r ON r.id = t.order_id WHERE r.kind = '{kind}'"),
        ),
        ("events", format!("SELECT * FROM events WHERE sequence > {after} AND sequence <= {upto} ORDER BY sequence")),
        ("idempotency", format!("SELECT * FROM idempotency WHERE request_id LIKE '{prefix}%'")),
    ];
    let mut tables = Vec::new();
    match db {
        Db::Sqlite(path) => {
            let mut conn = open(path, false).await?;
            for (name, sql) in &queries {
                tables.push(read(&mut conn, name, sql).await?);
            }
        }
        Db::Postgres { .. } => {
            let mut conn = PgConnection::connect(&db.url()).await?;
            for (name, sql) in &queries {
                tables.push(pg_read(&mut conn, name, sql).await?);
            }
        }
    }
    Ok(tables)
}

/// Inserts `tables` into `ceiling`, a fresh database of the coordinator's
/// backend with its schema (SQLite: copied from the coordinator's
/// `sqlite_master`; PostgreSQL: its migration), as fast as that backend
/// goes: see [`ceiling`].
pub(crate) async fn ceiling_into(
    coordinator: &Db,
    ceiling_db: &Db,
    tables: &[Table],
    per_statement: usize,
    per_transaction: usize,
) -> anyhow::Result<(Duration, usize)> {
    match (coordinator, ceiling_db) {
        (Db::Sqlite(from), Db::Sqlite(to)) => {
            let mut conn = fresh_copy_of_schema(from, to).await?;
            ceiling(&mut conn, tables, per_statement, per_transaction).await
        }
        (Db::Postgres { .. }, Db::Postgres { .. }) => {
            let mut conn = PgConnection::connect(&ceiling_db.url()).await?;
            sqlx::raw_sql(POSTGRES_SCHEMA).execute(&mut conn).await?;
            pg_ceiling(&mut conn, tables, per_statement, per_transaction).await
        }
        _ => anyhow::bail!("the ceiling runs on the coordinator's backend"),
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

/// Inserts `tables` (in order, so foreign keys hold) with statements of up
/// to `per_statement` rows, committing every `per_transaction` rows.
/// Returns the time taken and the rows inserted.
async fn ceiling(
    conn: &mut SqliteConnection,
    tables: &[Table],
    per_statement: usize,
    per_transaction: usize,
) -> anyhow::Result<(Duration, usize)> {
    let started = Instant::now();
    let mut in_tx = 0usize;
    let mut total = 0usize;
    let mut tx = conn.begin().await?;
    for table in tables {
        if table.rows.is_empty() {
            continue;
        }
        let width = table.columns.len();
        // SQLite allows 32766 bound parameters per statement.
        let chunk = per_statement.clamp(1, 32_000 / width.max(1));
        let one = format!("({})", vec!["?"; width].join(","));
        for rows in table.rows.chunks(chunk) {
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {}",
                table.name,
                table.columns.join(","),
                vec![one.as_str(); rows.len()].join(",")
            );
            let mut q = sqlx::query(&sql);
            for row in rows {
                for v in row {
                    q = match v {
                        Value::Null => q.bind(None::<String>),
                        Value::Bool(b) => q.bind(*b),
                        Value::Int(n) => q.bind(*n),
                        Value::Real(x) => q.bind(*x),
                        Value::Text(s) => q.bind(s.as_str()),
                    };
                }
            }
            q.execute(&mut *tx).await?;
            in_tx += rows.len();
            total += rows.len();
            if in_tx >= per_transaction {
                tx.commit().await?;
                tx = conn.begin().await?;
                in_tx = 0;
            }
        }
    }
    tx.commit().await?;
    Ok((started.elapsed(), total))
}

/// [`ceiling`] on PostgreSQL: the same multi-row statements and
/// transactions (`$n` placeholders; at most 65,535 per statement).
async fn pg_ceiling(
    conn: &mut PgConnection,
    tables: &[Table],
    per_statement: usize,
    per_transaction: usize,
) -> anyhow::Result<(Duration, usize)> {
    let started = Instant::now();
    let mut in_tx = 0usize;
    let mut total = 0usize;
    let mut tx = conn.begin().await?;
    for table in tables {
        if table.rows.is_empty() {
            continue;
        }
        let width = table.columns.len();
        let chunk = per_statement.clamp(1, 65_000 / width.max(1));
        for rows in table.rows.chunks(chunk) {
            let values: Vec<String> = (0..rows.len())
                .map(|r| {
                    format!("({})", (1..=width).map(|c| format!("${}", r * width + c)).collect::<Vec<_>>().join(","))
                })
                .collect();
            let sql = format!("INSERT INTO {} ({}) VALUES {}", table.name, table.columns.join(","), values.join(","));
            let mut q = sqlx::query(&sql);
            for row in rows {
                for v in row {
                    q = match v {
                        Value::Null => q.bind(None::<String>),
                        Value::Bool(b) => q.bind(*b),
                        Value::Int(n) => q.bind(*n),
                        Value::Real(x) => q.bind(*x),
                        Value::Text(s) => q.bind(s.as_str()),
                    };
                }
            }
            q.execute(&mut *tx).await?;
            in_tx += rows.len();
            total += rows.len();
            if in_tx >= per_transaction {
                tx.commit().await?;
                tx = conn.begin().await?;
                in_tx = 0;
            }
        }
    }
    tx.commit().await?;
    Ok((started.elapsed(), total))
}
