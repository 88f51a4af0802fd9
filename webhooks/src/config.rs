//! The `[[webhooks]]` entries of a node's or coordinator's configuration,
//! and the feed identity a deliverer subscribes as.
//!
//! ```toml
//! [[webhooks]]
//! name = "erp"                          # Cosx-Webhook-Id; the cursor's key
//! url = "https://erp.example/cosx/events"
//! kinds = ["REPAIR_ORDER_CREATED", "REPAIR_ORDER_TRANSITIONED"]   # empty: every kind
//! secret_file = "secrets/erp.hmac"      # HMAC-SHA256 key, at least 16 bytes
//! # ca_file = "pki/erp-ca.pem"          # trust this CA instead of the public roots
//! # max_attempts = 10                   # then the delivery is parked until retried
//! # connect_timeout = "5s"
//! # request_timeout = "10s"
//! # initial_backoff = "500ms"           # doubles per attempt, full jitter
//! # max_backoff = "5m"
//! # retry_poll = "2s"                   # how often a parked webhook looks for a retry
//! ```
//!
//! Parsing only reads TOML; [`crate::Webhook::load`] reads the files and
//! refuses bad values naming `webhooks[<name>].<field>`. Nothing here opens a
//! socket.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cosx_edge::config::duration;
use serde::Deserialize;

/// One `[[webhooks]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Unique name: sent as `Cosx-Webhook-Id`, and the key of its cursor.
    pub name: String,
    /// Where events are POSTed: `https://...` (or `http://` for loopback tests
    /// and TLS-terminating sidecars).
    pub url: String,
    /// Event kinds to deliver (`REPAIR_ORDER_CREATED`, ...); empty: all.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// File holding the shared HMAC secret (trailing newline ignored).
    pub secret_file: PathBuf,
    /// PEM bundle of the CA(s) that issued the endpoint's certificate;
    /// without it the public web roots are trusted.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Attempts of one delivery before it is parked (at least 1).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Time allowed for the TCP connect and TLS handshake.
    #[serde(default = "default_connect_timeout", with = "duration")]
    pub connect_timeout: Duration,
    /// Time allowed for one POST, from sending to the end of the answer.
    #[serde(default = "default_request_timeout", with = "duration")]
    pub request_timeout: Duration,
    /// First wait after a failed attempt; doubles per attempt.
    #[serde(default = "default_initial_backoff", with = "duration")]
    pub initial_backoff: Duration,
    /// Longest wait between two attempts.
    #[serde(default = "default_max_backoff", with = "duration")]
    pub max_backoff: Duration,
    /// While a delivery is parked, how often to look whether it was retried.
    #[serde(default = "default_retry_poll", with = "duration")]
    pub retry_poll: Duration,
}

fn default_max_attempts() -> u32 {
    10
}
fn default_connect_timeout() -> Duration {
    Duration::from_secs(5)
}
fn default_request_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_initial_backoff() -> Duration {
    Duration::from_millis(500)
}
fn default_max_backoff() -> Duration {
    Duration::from_secs(300)
}
fn default_retry_poll() -> Duration {
    Duration::from_secs(2)
}

impl WebhookConfig {
    /// A webhook to `url` with every default, for programs and tests that
    /// build their configuration in code.
    pub fn new(name: impl Into<String>, url: impl Into<String>, secret_file: impl Into<PathBuf>) -> Self {
        WebhookConfig {
            name: name.into(),
            url: url.into(),
            kinds: Vec::new(),
            secret_file: secret_file.into(),
            ca_file: None,
            max_attempts: default_max_attempts(),
            connect_timeout: default_connect_timeout(),
            request_timeout: default_request_timeout(),
            initial_backoff: default_initial_backoff(),
            max_backoff: default_max_backoff(),
            retry_poll: default_retry_poll(),
        }
    }

    /// Takes relative file paths relative to `base` (the config file's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        for p in std::iter::once(&mut self.secret_file).chain(self.ca_file.as_mut()) {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }
}

/// The party identity a deliverer subscribes to `Feed.Subscribe` as: what
/// it delivers is exactly what this party may see. `endpoint` is the node
/// or coordinator serving the feed.
pub type FeedIdentity = cosx_edge::config::PartyIdentity;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Deserialize)]
    struct File {
        webhooks: Vec<WebhookConfig>,
    }

    #[test]
    fn an_entry_with_only_the_required_keys_takes_the_defaults() {
        let f: File = toml::from_str(
            r#"
[[webhooks]]
name = "erp"
url = "https://erp.example/hook"
secret_file = "erp.hmac"
"#,
        )
        .unwrap();
        assert_eq!(f.webhooks, vec![WebhookConfig::new("erp", "https://erp.example/hook", "erp.hmac")]);
    }

    #[test]
    fn durations_kinds_and_ca_are_read() {
        let f: File = toml::from_str(
            r#"
[[webhooks]]
name = "erp"
url = "https://erp.example/hook"
kinds = ["REPAIR_ORDER_CREATED"]
secret_file = "erp.hmac"
ca_file = "ca.pem"
max_attempts = 3
request_timeout = "250ms"
max_backoff = "1m"
"#,
        )
        .unwrap();
        let w = &f.webhooks[0];
        assert_eq!(w.kinds, ["REPAIR_ORDER_CREATED"]);
        assert_eq!(w.ca_file.as_deref(), Some(Path::new("ca.pem")));
        assert_eq!((w.max_attempts, w.request_timeout), (3, Duration::from_millis(250)));
        assert_eq!(w.max_backoff, Duration::from_secs(60));
    }

    #[test]
    fn an_unknown_key_is_refused_by_name() {
        let err = toml::from_str::<File>(
            r#"
[[webhooks]]
name = "erp"
url = "https://erp.example/hook"
secret = "inline secrets are not accepted"
secret_file = "erp.hmac"
"#,
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("unknown field `secret`"), "{err}");
    }

    #[test]
    fn relative_paths_are_taken_from_the_config_folder() {
        let mut w = WebhookConfig::new("erp", "https://x", "s/erp.hmac");
        w.ca_file = Some("/etc/ca.pem".into());
        w.resolve_paths(Path::new("/srv/node"));
        assert_eq!(w.secret_file, Path::new("/srv/node/s/erp.hmac"));
        assert_eq!(w.ca_file.as_deref(), Some(Path::new("/etc/ca.pem")));
    }
}
