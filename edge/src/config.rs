//! The configuration every listener shares, coordinator and node alike:
//! TLS files, the limits that protect a listener, the log format, the
//! party identity a program calls a server as, and the duration syntax
//! (`"500ms"`, `"10s"`, `"2m"`, `"1h"`). The TOML keys are the ones
//! `[tls]` and `[limits]` take in either program's file (and a node's
//! `[upstream]`, a `webhooks_identity`).
//!
//! Also what both programs do alike to a loaded file: the `COSX_*`
//! variables of these sections, and paths taken relative to the file.
//!
//! Never reads a file or the environment itself: the programs' own config
//! modules load the TOML, embed these sections, and pass the variables in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown keys.
    #[error("config file {path}: {message}")]
    Parse {
        /// File.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value is invalid.
    #[error("config: {0}")]
    Invalid(String),
}

/// How logs are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The format a `COSX_LOG_FORMAT` value names.
    pub fn from_env(v: &str) -> Result<Self, ConfigError> {
        match v {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(ConfigError::Invalid(format!("COSX_LOG_FORMAT {v:?}: expected text or json"))),
        }
    }
}

/// Makes each relative path in `paths` relative to `base` (the config file's folder).
pub fn resolve_relative<'a>(base: &Path, paths: impl IntoIterator<Item = &'a mut PathBuf>) {
    for p in paths {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    }
}

/// Makes a `sqlite://FILE[?options]` URL with a relative `FILE` relative to
/// `base`; other URLs and in-memory databases (`sqlite://:memory:`) are kept.
pub fn resolve_sqlite_url(base: &Path, database: &mut String) {
    if let Some(rest) = database.strip_prefix("sqlite://") {
        let file = Path::new(rest.split('?').next().unwrap_or(rest));
        if file.is_relative() && !rest.starts_with(':') {
            *database = format!("sqlite://{}", base.join(rest).display());
        }
    }
}

/// TLS files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Server certificate chain, PEM.
    pub cert: PathBuf,
    /// Server private key, PEM.
    pub key: PathBuf,
    /// Exchange CA bundle that client certificates must chain to, PEM.
    pub client_ca: PathBuf,
    /// Certificate revocation lists (PEM, from `cosx certs crl|revoke`).
    /// When any are given, a client certificate whose issuer no list
    /// covers is refused: revocation status must be known.
    #[serde(default)]
    pub crls: Vec<PathBuf>,
    /// How often the certificate, key, CA bundle and CRL files are checked
    /// for changes (SIGHUP reloads at once); `"0s"` turns polling off.
    #[serde(default = "default_reload_interval", with = "duration")]
    pub reload_interval: Duration,
    /// Refuse every client certificate a CRL covers once that CRL is past
    /// its `nextUpdate` (fail closed: an operator who forgot to refresh the
    /// list learns at once, rather than revocations silently going stale).
    /// On by default; `false` keeps using an expired list.
    #[serde(default = "enforce_by_default")]
    pub enforce_crl_next_update: bool,
}

fn enforce_by_default() -> bool {
    true
}

impl TlsConfig {
    /// TLS files with no CRLs and the default reload interval.
    pub fn new(cert: PathBuf, key: PathBuf, client_ca: PathBuf) -> Self {
        TlsConfig {
            cert,
            key,
            client_ca,
            crls: Vec::new(),
            reload_interval: default_reload_interval(),
            enforce_crl_next_update: true,
        }
    }

    /// Overrides the files from `COSX_TLS_CERT`, `COSX_TLS_KEY`,
    /// `COSX_TLS_CLIENT_CA` and `COSX_TLS_CRLS` (comma-separated).
    pub fn apply_env(&mut self, var: &impl Fn(&str) -> Option<String>) {
        if let Some(v) = var("COSX_TLS_CERT") {
            self.cert = v.into();
        }
        if let Some(v) = var("COSX_TLS_KEY") {
            self.key = v.into();
        }
        if let Some(v) = var("COSX_TLS_CLIENT_CA") {
            self.client_ca = v.into();
        }
        if let Some(v) = var("COSX_TLS_CRLS") {
            self.crls = v.split(',').map(str::trim).filter(|p| !p.is_empty()).map(PathBuf::from).collect();
        }
    }

    /// The files this section names, to resolve against the config's folder.
    pub fn paths_mut(&mut self) -> impl Iterator<Item = &mut PathBuf> {
        [&mut self.cert, &mut self.key, &mut self.client_ca].into_iter().chain(self.crls.iter_mut())
    }
}

fn default_reload_interval() -> Duration {
    Duration::from_secs(2)
}

/// The party identity a program calls a cosx server as (a node its
/// coordinator, a webhook deliverer the feed it delivers): the server's
/// endpoint and the CA that issued its certificate, and the party's own
/// certificate and key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyIdentity {
    /// The server's URL, `https://host:port`.
    pub endpoint: String,
    /// Exchange CA that issued the server's certificate, PEM.
    pub ca: PathBuf,
    /// The party's certificate, PEM: the identity it acts as there.
    pub cert: PathBuf,
    /// Its private key, PEM.
    pub key: PathBuf,
    /// Name to check the server's certificate against, when not the
    /// endpoint's host.
    #[serde(default)]
    pub server_name: Option<String>,
}

impl PartyIdentity {
    /// Takes relative file paths relative to `base` (the config file's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        resolve_relative(base, [&mut self.ca, &mut self.cert, &mut self.key]);
    }
}

/// How long calls in flight may run after SIGTERM, unless configured.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Limits that keep one client, or many, from exhausting the coordinator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Calls handled at once across the process; a call beyond it is
    /// refused at once with `RESOURCE_EXHAUSTED` (no queue).
    pub max_concurrent_calls: usize,
    /// Sustained calls per second each party may make.
    pub calls_per_second_per_party: f64,
    /// Calls a party may make in a burst above the sustained rate.
    pub burst_per_party: u32,
    /// Largest request message, in bytes, for methods not listed below.
    pub max_message_bytes: usize,
    /// Per-method overrides, keyed by gRPC path (`/cosx.v1.Exchange/Ingest`)
    /// or by service (`/cosx.v1.Registry/`).
    pub max_message_bytes_per_method: BTreeMap<String, usize>,
    /// Time a client has to complete the TLS handshake.
    #[serde(with = "duration")]
    pub handshake_timeout: Duration,
    /// TLS handshakes in progress at once; connections beyond are closed.
    /// A quarter of them is kept for addresses that completed a handshake
    /// before, so a flood from new addresses cannot lock out known peers.
    pub max_pending_handshakes: usize,
    /// TLS handshakes in progress at once from one source address.
    pub max_pending_handshakes_per_source: usize,
    /// Calls one party may have in flight at once (of `max_concurrent_calls`).
    pub max_concurrent_calls_per_party: usize,
    /// Time a request message may take to arrive: from the start of a call,
    /// then between messages of a stream; `"0s"` for no limit.
    #[serde(with = "duration")]
    pub request_message_timeout: Duration,
    /// Feed subscriptions one party may hold open at once.
    pub max_subscriptions_per_party: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_concurrent_calls: 512,
            calls_per_second_per_party: 200.0,
            burst_per_party: 400,
            max_message_bytes: 1024 * 1024,
            max_message_bytes_per_method: BTreeMap::new(),
            handshake_timeout: Duration::from_secs(10),
            max_pending_handshakes: 1024,
            max_pending_handshakes_per_source: 64,
            max_concurrent_calls_per_party: 128,
            request_message_timeout: Duration::from_secs(30),
            max_subscriptions_per_party: 32,
        }
    }
}

/// Serde for durations written with a unit: `"250ms"`, `"10s"`, `"5m"`, `"1h"`.
pub mod duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    /// Parses `"<number><unit>"`, unit one of ms, s, m, h, d.
    pub fn parse(text: &str) -> Result<Duration, String> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let n: u64 = number.parse().map_err(|_| format!("{text:?}: expected a whole number and a unit, e.g. 10s"))?;
        match unit {
            "ms" => Ok(Duration::from_millis(n)),
            "s" => Ok(Duration::from_secs(n)),
            "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
            "h" => Ok(Duration::from_secs(n.saturating_mul(3600))),
            "d" => Ok(Duration::from_secs(n.saturating_mul(86_400))),
            _ => Err(format!("{text:?}: unit must be ms, s, m, h or d")),
        }
    }

    /// Deserializes a duration string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_files_and_sqlite_urls_are_taken_from_the_config_folder() {
        let base = Path::new("/etc/cosx");
        let mut tls = TlsConfig::new("server.pem".into(), "/abs/server.key".into(), "ca.pem".into());
        tls.crls.push("crl/a.pem".into());
        resolve_relative(base, tls.paths_mut());
        assert_eq!(tls.cert, Path::new("/etc/cosx/server.pem"));
        assert_eq!(tls.key, Path::new("/abs/server.key"));
        assert_eq!(tls.crls, [PathBuf::from("/etc/cosx/crl/a.pem")]);
        for (given, resolved) in [
            ("sqlite://cosx.db?mode=rwc", "sqlite:///etc/cosx/cosx.db?mode=rwc"),
            ("sqlite:///var/lib/cosx.db", "sqlite:///var/lib/cosx.db"),
            ("sqlite://:memory:", "sqlite://:memory:"),
            ("postgres://db/cosx", "postgres://db/cosx"),
        ] {
            let mut url = given.to_owned();
            resolve_sqlite_url(base, &mut url);
            assert_eq!(url, resolved, "{given}");
        }
    }

    #[test]
    fn tls_files_and_the_log_format_come_from_the_environment() {
        let mut tls = TlsConfig::new("a".into(), "b".into(), "c".into());
        tls.apply_env(&|k: &str| match k {
            "COSX_TLS_CERT" => Some("/x/cert.pem".to_owned()),
            "COSX_TLS_CRLS" => Some(" one.pem, ,two.pem".to_owned()),
            _ => None,
        });
        assert_eq!(tls.cert, Path::new("/x/cert.pem"));
        assert_eq!(tls.key, Path::new("b"));
        assert_eq!(tls.crls, [PathBuf::from("one.pem"), PathBuf::from("two.pem")]);
        assert_eq!(LogFormat::from_env("json").ok(), Some(LogFormat::Json));
        let refused = LogFormat::from_env("yaml").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refused.contains("COSX_LOG_FORMAT \"yaml\""), "{refused}");
    }
}
