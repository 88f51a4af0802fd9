//! Node configuration: a TOML file, then `COSX_*` environment variables over
//! it (`COSX_LISTEN`, `COSX_DATABASE`, `COSX_UPSTREAM_ENDPOINT`,
//! `COSX_LOG_FORMAT`, and the `COSX_TLS_*` of the listener's files, as at
//! the coordinator). Relative paths are taken relative to the file.
//!
//! ```toml
//! listen = "127.0.0.1:7444"
//! # metrics_listen = "127.0.0.1:9464"   (top level: Prometheus text at GET /metrics)
//! database = "sqlite://node.db"
//! trust_domain = "cosx.example"
//! # outbox_retention = "30d"  (delivered writes kept this long; at least 1s)
//! [tls]                       # what the party's own systems connect to
//! cert = "pki/node.pem"
//! key = "pki/node.key"
//! client_ca = "pki/ca.pem"    # their certificates are issued for this node's party
//! [upstream]                  # the link to the coordinator
//! endpoint = "https://coordinator.cosx.example:7443"
//! ca = "pki/ca.pem"
//! cert = "pki/party.pem"      # the node's party certificate: it acts upstream as that party
//! key = "pki/party.key"
//! [retry]
//! initial_backoff = "200ms"
//! max_backoff = "30s"
//! max_attempts = 0            # 0: keep retrying while the link is down
//! ```

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use cosx_edge::config::{ConfigError, Limits, LogFormat, TlsConfig, duration};

/// The link to the coordinator: its endpoint and CA, and the node's party
/// certificate and key, the identity the node acts as upstream.
pub type UpstreamConfig = cosx_edge::config::PartyIdentity;

/// How forwarding retries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// First wait after a failed attempt; doubles each time (with jitter).
    #[serde(with = "duration")]
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    #[serde(with = "duration")]
    pub max_backoff: Duration,
    /// After this many failed attempts a write is marked rejected (0: never,
    /// keep it queued until the coordinator answers).
    pub max_attempts: u32,
    /// How long one forwarded call may take.
    #[serde(with = "duration")]
    pub call_timeout: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            max_attempts: 0,
            call_timeout: Duration::from_secs(15),
        }
    }
}

/// A party node's whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Address the party's systems connect to.
    pub listen: SocketAddr,
    /// The node's own database: `sqlite://node.db`.
    pub database: String,
    /// SPIFFE trust domain of party identities.
    pub trust_domain: String,
    /// Log format.
    #[serde(default)]
    pub log_format: LogFormat,
    /// TLS for the party's systems.
    pub tls: TlsConfig,
    /// The coordinator link.
    pub upstream: UpstreamConfig,
    /// Retries of forwarded writes.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Resource limits for local clients.
    #[serde(default)]
    pub limits: Limits,
    /// On SIGTERM, how long calls in flight may take to finish before the
    /// node stops anyway (as the coordinator's `shutdown_grace`).
    #[serde(default = "default_shutdown_grace", with = "cosx_edge::config::duration")]
    pub shutdown_grace: std::time::Duration,
    /// Where to serve Prometheus metrics over plain HTTP (`GET /metrics`);
    /// none if unset. Keep it on loopback or a management network.
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
    /// How long a delivered write stays in the outbox (default 30 days):
    /// its effect is in the replica and the coordinator keeps its request
    /// id for good, so this is only how long the node itself answers a
    /// repeated request id from its own record (its idempotency window);
    /// queued and refused writes stay until they are settled or seen to.
    #[serde(default = "default_outbox_retention", with = "cosx_edge::config::duration")]
    pub outbox_retention: std::time::Duration,
    /// `[[webhooks]]`: the party's feed delivered to HTTP endpoints, as the
    /// node's party (see `cosx_webhooks`); cursors in `<database>.webhooks`.
    #[serde(default)]
    pub webhooks: Vec<cosx_webhooks::WebhookConfig>,
}

/// Thirty days.
pub const DEFAULT_OUTBOX_RETENTION: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

fn default_outbox_retention() -> std::time::Duration {
    DEFAULT_OUTBOX_RETENTION
}

fn default_shutdown_grace() -> std::time::Duration {
    cosx_edge::config::DEFAULT_SHUTDOWN_GRACE
}

impl NodeConfig {
    /// Reads the file, applies environment overrides, and checks the result.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        let mut config: NodeConfig =
            toml::from_str(&text).map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })?;
        config.apply_env(|k| std::env::var(k).ok())?;
        config.resolve_paths(path.parent().unwrap_or(Path::new(".")));
        config.check()?;
        Ok(config)
    }

    /// Overrides values from `COSX_*` variables.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = var("COSX_LISTEN") {
            self.listen = v.parse().map_err(|e| ConfigError::Invalid(format!("COSX_LISTEN {v:?}: {e}")))?;
        }
        if let Some(v) = var("COSX_DATABASE") {
            self.database = v;
        }
        if let Some(v) = var("COSX_UPSTREAM_ENDPOINT") {
            self.upstream.endpoint = v;
        }
        if let Some(v) = var("COSX_LOG_FORMAT") {
            self.log_format = LogFormat::from_env(&v)?;
        }
        self.tls.apply_env(&var);
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        cosx_edge::config::resolve_relative(base, self.tls.paths_mut());
        self.upstream.resolve_paths(base);
        cosx_edge::config::resolve_sqlite_url(base, &mut self.database);
        for w in &mut self.webhooks {
            w.resolve_paths(base);
        }
    }

    /// Checks values that TOML types cannot.
    pub fn check(&self) -> Result<(), ConfigError> {
        cosx_certs::check_trust_domain(&self.trust_domain).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if !self.database.starts_with("sqlite:") {
            return Err(ConfigError::Invalid(format!(
                "database {:?}: a node keeps its outbox and replica in SQLite (sqlite://FILE)",
                self.database
            )));
        }
        if !self.upstream.endpoint.starts_with("https://") {
            return Err(ConfigError::Invalid(format!(
                "upstream.endpoint {:?}: expected https://host:port",
                self.upstream.endpoint
            )));
        }
        if self.outbox_retention < Duration::from_secs(1) {
            return Err(ConfigError::Invalid(format!(
                "outbox_retention {:?}: must be at least 1s (a delivered write is kept this long so that a repeated \
                 request id is answered from the node's own record)",
                self.outbox_retention
            )));
        }
        let r = &self.retry;
        if r.initial_backoff.is_zero() || r.max_backoff < r.initial_backoff || r.call_timeout.is_zero() {
            return Err(ConfigError::Invalid(
                "retry: initial_backoff and call_timeout must be more than 0s, max_backoff at least initial_backoff"
                    .into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::path::PathBuf;

    const FILE: &str = r#"
listen = "127.0.0.1:7444"
database = "sqlite://node.db"
trust_domain = "cosx.example"
[tls]
cert = "pki/node.pem"
key = "pki/node.key"
client_ca = "pki/ca.pem"
[upstream]
endpoint = "https://127.0.0.1:7443"
ca = "pki/ca.pem"
cert = "pki/party.pem"
key = "pki/party.key"
[retry]
max_backoff = "5s"
"#;

    #[test]
    fn the_documented_example_parses_with_paths_resolved() {
        let mut c: NodeConfig = toml::from_str(FILE).unwrap();
        c.apply_env(|k| (k == "COSX_UPSTREAM_ENDPOINT").then(|| "https://10.0.0.1:7443".to_owned())).unwrap();
        c.resolve_paths(Path::new("/etc/cosx"));
        c.check().unwrap();
        assert_eq!(c.upstream.cert, PathBuf::from("/etc/cosx/pki/party.pem"));
        assert_eq!(c.database, "sqlite:///etc/cosx/node.db");
        assert_eq!(c.upstream.endpoint, "https://10.0.0.1:7443");
        assert_eq!(c.retry.max_backoff, Duration::from_secs(5));
        assert_eq!(c.retry.initial_backoff, Duration::from_millis(200));
    }

    #[test]
    fn the_outbox_retention_is_a_duration_of_at_least_a_second() {
        let c: NodeConfig = toml::from_str(FILE).unwrap();
        assert_eq!(c.outbox_retention, DEFAULT_OUTBOX_RETENTION);
        let c: NodeConfig = toml::from_str(&format!("outbox_retention = \"7d\"\n{FILE}")).unwrap();
        c.check().unwrap();
        assert_eq!(c.outbox_retention, Duration::from_secs(7 * 86_400));
        let c: NodeConfig = toml::from_str(&format!("outbox_retention = \"500ms\"\n{FILE}")).unwrap();
        assert!(c.check().unwrap_err().to_string().contains("outbox_retention"));
        let bad = toml::from_str::<NodeConfig>(&format!("outbox_retention = \"7 days\"\n{FILE}")).unwrap_err();
        assert!(bad.to_string().contains("unit"), "{bad}");
    }

    #[test]
    fn a_plaintext_upstream_is_refused() {
        let c: NodeConfig = toml::from_str(&FILE.replace("https://", "http://")).unwrap();
        assert!(c.check().unwrap_err().to_string().contains("upstream.endpoint"));
    }
}
