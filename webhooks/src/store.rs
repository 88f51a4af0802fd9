//! The deliverer's own small SQLite file: one cursor per webhook (the last
//! sequence its endpoint answered 2xx for) and the deliveries parked after
//! their last attempt.
//!
//! The cursor only moves forward, and only after a 2xx, so a restart resumes
//! with the first event not yet acknowledged (at least once). A parked row
//! stops its webhook: nothing after it is sent until [`CursorStore::retry_parked`]
//! removes it, so no event is skipped silently. This file holds no record
//! state: events come from the feed, never from here.

use std::path::Path;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::error::WebhookError;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS webhook_cursor (
        webhook TEXT PRIMARY KEY NOT NULL,
        after_sequence INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS webhook_parked (
        webhook TEXT PRIMARY KEY NOT NULL,
        sequence INTEGER NOT NULL,
        kind TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT NOT NULL,
        parked_at INTEGER NOT NULL,
        event_json TEXT NOT NULL
    )",
];

/// A delivery that failed its last attempt (or was refused for good) and
/// holds its webhook until retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedDelivery {
    /// The webhook's name.
    pub webhook: String,
    /// The event's sequence.
    pub sequence: i64,
    /// The event's kind, e.g. `EVENT_KIND_REPAIR_ORDER_CREATED`.
    pub kind: String,
    /// Attempts made.
    pub attempts: u32,
    /// What the last attempt got (status and start of the body, or the error).
    pub last_error: String,
    /// When it was parked, Unix seconds.
    pub parked_at: i64,
    /// The body that was sent (the event as proto3 JSON).
    pub event_json: String,
}

/// Cursors and parked deliveries, in one SQLite file.
#[derive(Debug, Clone)]
pub struct CursorStore {
    pool: SqlitePool,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl CursorStore {
    /// Opens (creating if needed) the store at `path`.
    pub async fn open(path: &Path) -> Result<Self, WebhookError> {
        let err = |e: sqlx::Error| WebhookError::Store(format!("{}: {e}", path.display()));
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(err)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new().max_connections(2).connect_with(options).await.map_err(err)?;
        for statement in SCHEMA {
            sqlx::query(statement).execute(&pool).await.map_err(err)?;
        }
        Ok(CursorStore { pool })
    }

    /// The last sequence `webhook`'s endpoint acknowledged; 0 before the first.
    pub async fn cursor(&self, webhook: &str) -> Result<i64, WebhookError> {
        let row = sqlx::query("SELECT after_sequence FROM webhook_cursor WHERE webhook = ?")
            .bind(webhook)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<i64, _>(0)).unwrap_or(0))
    }

    /// Records that `webhook`'s endpoint acknowledged `sequence`. A cursor
    /// never moves back.
    pub async fn advance(&self, webhook: &str, sequence: i64) -> Result<(), WebhookError> {
        sqlx::query(
            "INSERT INTO webhook_cursor (webhook, after_sequence, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (webhook) DO UPDATE SET after_sequence = excluded.after_sequence,
                 updated_at = excluded.updated_at
             WHERE excluded.after_sequence > webhook_cursor.after_sequence",
        )
        .bind(webhook)
        .bind(sequence)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Parks a delivery: its webhook sends nothing more until it is retried.
    pub async fn park(&self, parked: &ParkedDelivery) -> Result<(), WebhookError> {
        sqlx::query(
            "INSERT OR REPLACE INTO webhook_parked
                 (webhook, sequence, kind, attempts, last_error, parked_at, event_json)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&parked.webhook)
        .bind(parked.sequence)
        .bind(&parked.kind)
        .bind(i64::from(parked.attempts))
        .bind(&parked.last_error)
        .bind(parked.parked_at)
        .bind(&parked.event_json)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The parked delivery holding `webhook`, if any.
    pub async fn parked(&self, webhook: &str) -> Result<Option<ParkedDelivery>, WebhookError> {
        Ok(self.list_parked().await?.into_iter().find(|p| p.webhook == webhook))
    }

    /// Every parked delivery, by webhook name.
    pub async fn list_parked(&self) -> Result<Vec<ParkedDelivery>, WebhookError> {
        let rows = sqlx::query(
            "SELECT webhook, sequence, kind, attempts, last_error, parked_at, event_json
             FROM webhook_parked ORDER BY webhook",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ParkedDelivery {
                webhook: r.get(0),
                sequence: r.get(1),
                kind: r.get(2),
                attempts: u32::try_from(r.get::<i64, _>(3)).unwrap_or(u32::MAX),
                last_error: r.get(4),
                parked_at: r.get(5),
                event_json: r.get(6),
            })
            .collect())
    }

    /// Releases the parked delivery of `webhook` (or of every webhook when
    /// `None`): its deliverer sends that event again, with fresh attempts,
    /// then carries on. Returns how many were released; naming a webhook
    /// with nothing parked is an error.
    pub async fn retry_parked(&self, webhook: Option<&str>) -> Result<u64, WebhookError> {
        let done = match webhook {
            Some(name) => sqlx::query("DELETE FROM webhook_parked WHERE webhook = ?").bind(name),
            None => sqlx::query("DELETE FROM webhook_parked"),
        }
        .execute(&self.pool)
        .await?
        .rows_affected();
        match webhook {
            Some(name) if done == 0 => Err(WebhookError::NothingParked(name.to_owned())),
            _ => Ok(done),
        }
    }

    /// Closes the file.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parked(webhook: &str, sequence: i64) -> ParkedDelivery {
        ParkedDelivery {
            webhook: webhook.into(),
            sequence,
            kind: "EVENT_KIND_REPAIR_ORDER_CREATED".into(),
            attempts: 3,
            last_error: "HTTP 500".into(),
            parked_at: 1,
            event_json: "{}".into(),
        }
    }

    #[tokio::test]
    async fn a_cursor_survives_reopening_and_never_moves_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("webhooks.db");
        let store = CursorStore::open(&path).await.unwrap();
        assert_eq!(store.cursor("erp").await.unwrap(), 0);
        store.advance("erp", 7).await.unwrap();
        store.advance("erp", 5).await.unwrap();
        store.close().await;
        let store = CursorStore::open(&path).await.unwrap();
        assert_eq!(store.cursor("erp").await.unwrap(), 7);
        assert_eq!(store.cursor("other").await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_parked_delivery_is_listed_until_retried() {
        let dir = tempfile::tempdir().unwrap();
        let store = CursorStore::open(&dir.path().join("w.db")).await.unwrap();
        store.park(&parked("erp", 9)).await.unwrap();
        store.park(&parked("audit", 4)).await.unwrap();
        let names: Vec<_> = store.list_parked().await.unwrap().into_iter().map(|p| (p.webhook, p.sequence)).collect();
        assert_eq!(names, [("audit".to_owned(), 4), ("erp".to_owned(), 9)]);
        assert_eq!(store.retry_parked(Some("erp")).await.unwrap(), 1);
        assert!(store.parked("erp").await.unwrap().is_none());
        let err = store.retry_parked(Some("erp")).await.unwrap_err();
        assert_eq!(err.to_string(), "webhook \"erp\" has no parked delivery");
        assert_eq!(store.retry_parked(None).await.unwrap(), 1);
        assert!(store.list_parked().await.unwrap().is_empty());
    }
}
