//! Durability settings at startup: the coordinator runs SQLite only in WAL
//! mode with `synchronous=FULL` and foreign keys on. A database created in
//! rollback-journal mode is converted to WAL when opened (SQLite does this
//! atomically, and keeps it); one that cannot be put in WAL mode is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};

#[tokio::test]
async fn a_rollback_journal_database_is_converted_to_wal_on_open() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let mut conn = SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Delete)
        .connect()
        .await?;
    sqlx::raw_sql("CREATE TABLE kept (x INTEGER); INSERT INTO kept VALUES (7);").execute(&mut conn).await?;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut conn).await?;
    assert_eq!(mode, "delete");
    drop(conn);

    let store = cosx_coordinator::store::connect(&url).await?;
    drop(store);
    // The file itself is now in WAL mode, seen from a plain connection, and nothing was lost.
    let mut conn = SqliteConnectOptions::from_str(&url)?.connect().await?;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut conn).await?;
    assert_eq!(mode, "wal");
    let kept: i64 = sqlx::query_scalar("SELECT x FROM kept").fetch_one(&mut conn).await?;
    assert_eq!(kept, 7);
    Ok(())
}

#[tokio::test]
async fn a_database_that_cannot_run_in_wal_mode_is_refused() {
    let err =
        cosx_coordinator::store::connect("sqlite::memory:").await.err().expect("an in-memory database was accepted");
    let message = err.to_string();
    assert!(message.contains("journal_mode=WAL, synchronous=FULL, foreign_keys=ON"), "{message}");
}
