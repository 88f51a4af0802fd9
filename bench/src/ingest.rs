//! Streaming ingest over `Exchange.Ingest`, and its ceiling: the same rows
//! the coordinator wrote, inserted straight into a fresh SQLite file with
//! multi-row statements inside large transactions (no gRPC, no JSON, no
//! hashing) under the coordinator's own pragmas (WAL, `synchronous=FULL`).

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use cosx_proto::v1 as pb;
use futures::StreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteRow, SqliteSynchronous};
use sqlx::{Column, ConnectOptions, Connection, Row, TypeInfo, ValueRef};
use tonic::transport::Channel;

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
pub(crate) async fn last_sequence(db: &Path) -> anyhow::Result<i64> {
    let mut conn = open(db, false).await?;
    Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(sequence) FROM events")
        .fetch_one(&mut conn)
        .await?
        .unwrap_or(0))
}

/// Every row the coordinator wrote for records of `kind` whose request ids
/// start with `prefix`, between event sequences `after` and `upto`:
/// records, lifecycle transitions, events and idempotency keys.
pub(crate) async fn rows_written(
    db: &Path,
    kind: &str,
    prefix: &str,
    after: i64,
    upto: i64,
) -> anyhow::Result<Vec<Table>> {
    let mut conn = open(db, false).await?;
    let kind = kind.replace('\'', "");
    let prefix = prefix.replace('\'', "");
    Ok(vec![
        read(&mut conn, "records", &format!("SELECT * FROM records WHERE kind = '{kind}'")).await?,
        read(
            &mut conn,
            "transitions",
            &format!("SELECT t.* FROM transitions t JOIN records r ON r.id = t.order_id WHERE r.kind = '{kind}'"),
        )
        .await?,
        read(&mut conn, "events", &format!("SELECT * FROM events WHERE sequence > {after} AND sequence <= {upto}"))
            .await?,
        read(&mut conn, "idempotency", &format!("SELECT * FROM idempotency WHERE request_id LIKE '{prefix}%'")).await?,
    ])
}

/// A fresh SQLite file with the coordinator's schema (copied from its
/// `sqlite_master`: tables, indexes, triggers), ready for the ceiling.
pub(crate) async fn fresh_copy_of_schema(from: &Path, to: &Path) -> anyhow::Result<SqliteConnection> {
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
pub(crate) async fn ceiling(
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
