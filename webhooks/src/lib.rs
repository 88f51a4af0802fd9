//! Webhooks: deliver a party's cosx feed to HTTP endpoints, signed, in
//! sequence order, at least once.
//!
//! A node (for its own party) or the coordinator (for a coordinating
//! party) runs [`run`] with its `[[webhooks]]` entries ([`WebhookConfig`]),
//! the party identity to subscribe as ([`FeedIdentity`]) and a small SQLite
//! file of cursors ([`CursorStore`]). Each webhook follows `Feed.Subscribe`
//! over the real gRPC API — so it delivers exactly what that party may see —
//! and POSTs each event as proto3 JSON with `Cosx-Webhook-Id`,
//! `Cosx-Event-Sequence`, `Cosx-Timestamp` and `Cosx-Signature` headers
//! ([`signature`]). Its cursor moves only after a 2xx; failed attempts are
//! retried with backoff, then parked ([`CursorStore::list_parked`],
//! [`CursorStore::retry_parked`]) and the webhook waits; the CLI and
//! `cosx.v1.Webhooks` ([`api`]) list and release them.
//!
//! This crate must never read the exchange's records from a store, decide
//! who may see an event, or skip one: visibility is the feed's, and an event
//! that cannot be delivered holds its webhook until someone retries it.

pub mod api;
pub mod config;
mod deliver;
mod error;
mod http;
pub mod signature;
mod store;

pub use api::WebhooksService;
pub use config::{FeedIdentity, WebhookConfig};
pub use deliver::{Webhook, parse_kind, run};
pub use error::WebhookError;
pub use store::{CursorStore, ParkedDelivery};

/// Every parked delivery in the store at `path` (for `cosx-server node webhooks list`).
pub async fn list_parked(path: &std::path::Path) -> Result<Vec<ParkedDelivery>, WebhookError> {
    let store = CursorStore::open(path).await?;
    let parked = store.list_parked().await;
    store.close().await;
    parked
}

/// Releases the parked delivery of `webhook` (every webhook when `None`) in
/// the store at `path`; a running deliverer sends it again within its
/// `retry_poll`. Returns how many were released.
pub async fn retry_parked(path: &std::path::Path, webhook: Option<&str>) -> Result<u64, WebhookError> {
    let store = CursorStore::open(path).await?;
    let done = store.retry_parked(webhook).await;
    store.close().await;
    done
}

/// Where a program whose database is `database` (`sqlite://FILE`) keeps its
/// webhook cursors: `FILE.webhooks`, beside it. `None` for in-memory or
/// non-SQLite databases.
pub fn store_path_beside(database: &str) -> Option<std::path::PathBuf> {
    let rest = database.strip_prefix("sqlite://").or_else(|| database.strip_prefix("sqlite:"))?;
    let file = rest.split('?').next().unwrap_or(rest);
    if file.is_empty() || file.starts_with(':') {
        return None;
    }
    Some(std::path::PathBuf::from(format!("{file}.webhooks")))
}

#[cfg(test)]
mod tests {
    use super::store_path_beside;

    #[test]
    fn cursors_live_beside_a_sqlite_database_file() {
        assert_eq!(store_path_beside("sqlite:///srv/node.db?mode=rwc"), Some("/srv/node.db.webhooks".into()));
        assert_eq!(store_path_beside("sqlite:node.db"), Some("node.db.webhooks".into()));
        assert_eq!(store_path_beside("sqlite::memory:"), None);
        assert_eq!(store_path_beside("postgres://db/cosx"), None);
    }
}
