//! What can stop a webhook from starting or a store call from completing.
//! Failed deliveries are not errors: they are retried, then parked.

/// Why the deliverer or its store refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// A `[[webhooks]]` value is wrong; `field` names it.
    #[error("webhooks[{webhook}].{field}: {reason}")]
    Config {
        /// The webhook's name (or its index when the name itself is wrong).
        webhook: String,
        /// The key, e.g. `url`.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The feed identity cannot be read.
    #[error("webhook feed identity: {0}")]
    Identity(String),
    /// The cursor store failed.
    #[error("webhook store: {0}")]
    Store(String),
    /// `retry` named a webhook that has nothing parked.
    #[error("webhook {0:?} has no parked delivery")]
    NothingParked(String),
}

impl From<sqlx::Error> for WebhookError {
    fn from(e: sqlx::Error) -> Self {
        WebhookError::Store(e.to_string())
    }
}
