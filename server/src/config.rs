//! Coordinator configuration: a TOML file, then `COSX_*` environment
//! variables over it (`COSX_LISTEN`, `COSX_DATABASE`, `COSX_TRUST_DOMAIN`,
//! `COSX_TLS_CERT`, `COSX_TLS_KEY`, `COSX_TLS_CLIENT_CA`, `COSX_LOG_FORMAT`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use cosx_domain::{MilitaryDepartment, Nation, Party, PartyId, PartyKind, Violations};
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
}

/// A party registered from the configuration at start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyConfig {
    /// Party id.
    pub id: String,
    /// ORGANIC | PARTNER_GOVERNMENT | CONTRACTOR | COORDINATOR.
    pub kind: String,
    /// ISO 3166-1 alpha-3 nation.
    pub nation: String,
    /// ARMY | NAVY | AIR_FORCE, for US organic parties.
    #[serde(default)]
    pub department: Option<String>,
    /// Human-readable name.
    #[serde(default)]
    pub display_name: Option<String>,
}

impl PartyConfig {
    /// Parses into a domain party; errors name `parties[i].field`.
    pub fn to_party(&self, index: usize) -> Result<Party, Violations> {
        let mut v = Violations::new();
        let at = |f: &str| format!("parties[{index}].{f}");
        let id = v.check(&at("id"), PartyId::parse(&self.id));
        let kind = v.check(&at("kind"), self.kind.parse::<PartyKind>());
        let nation = v.check(&at("nation"), Nation::parse(&self.nation));
        let department = match &self.department {
            Some(d) => v.check(&at("department"), d.parse::<MilitaryDepartment>()).map(Some),
            None => Some(None),
        };
        if let (Some(id), Some(kind), Some(nation), Some(department)) = (id, kind, nation, department) {
            let party = Party {
                display_name: self.display_name.clone().unwrap_or_else(|| id.to_string()),
                id,
                kind,
                nation,
                department,
                suspended: false,
            };
            if let Err((field, why)) = party.check() {
                v.add(at(field), why);
            }
            return v.into_result(|| party);
        }
        Err(v)
    }
}

/// The coordinator's whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoordinatorConfig {
    /// Address to listen on, e.g. `127.0.0.1:7443`.
    pub listen: SocketAddr,
    /// Database URL: `sqlite://coordinator.db`.
    pub database: String,
    /// SPIFFE trust domain of party identities.
    pub trust_domain: String,
    /// Log format.
    #[serde(default)]
    pub log_format: LogFormat,
    /// TLS files.
    pub tls: TlsConfig,
    /// Parties registered at start (kept if already registered).
    #[serde(default)]
    pub parties: Vec<PartyConfig>,
}

impl CoordinatorConfig {
    /// Reads the file, applies environment overrides, and checks the result.
    /// Relative paths in the file are taken relative to the file's folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        let mut config: CoordinatorConfig =
            toml::from_str(&text).map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })?;
        config.apply_env(|k| std::env::var(k).ok())?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
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
        if let Some(v) = var("COSX_TRUST_DOMAIN") {
            self.trust_domain = v;
        }
        if let Some(v) = var("COSX_TLS_CERT") {
            self.tls.cert = v.into();
        }
        if let Some(v) = var("COSX_TLS_KEY") {
            self.tls.key = v.into();
        }
        if let Some(v) = var("COSX_TLS_CLIENT_CA") {
            self.tls.client_ca = v.into();
        }
        if let Some(v) = var("COSX_LOG_FORMAT") {
            self.log_format = match v.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => {
                    return Err(ConfigError::Invalid(format!("COSX_LOG_FORMAT {v:?}: expected text or json")));
                }
            };
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        for p in [&mut self.tls.cert, &mut self.tls.key, &mut self.tls.client_ca] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        if let Some(rest) = self.database.strip_prefix("sqlite://") {
            let file = Path::new(rest.split('?').next().unwrap_or(rest));
            if file.is_relative() && !rest.starts_with(':') {
                self.database = format!("sqlite://{}", base.join(rest).display());
            }
        }
    }

    /// Checks values that TOML types cannot.
    pub fn check(&self) -> Result<(), ConfigError> {
        cosx_certs::check_trust_domain(&self.trust_domain).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        for (i, p) in self.parties.iter().enumerate() {
            p.to_party(i).map_err(|v| ConfigError::Invalid(v.to_string()))?;
        }
        Ok(())
    }

    /// The parties the file registers.
    pub fn parties(&self) -> Result<Vec<Party>, ConfigError> {
        self.parties
            .iter()
            .enumerate()
            .map(|(i, p)| p.to_party(i).map_err(|v| ConfigError::Invalid(v.to_string())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FILE: &str = r#"
listen = "127.0.0.1:7443"
database = "sqlite://coordinator.db"
trust_domain = "rsf.example"
[tls]
cert = "pki/server.pem"
key = "pki/server.key"
client_ca = "pki/ca.pem"
[[parties]]
id = "JPN-MHI-KOMAKI"
kind = "CONTRACTOR"
nation = "JPN"
"#;

    #[test]
    fn the_documented_example_parses_and_environment_overrides_it() {
        let mut c: CoordinatorConfig = toml::from_str(FILE).unwrap();
        c.apply_env(|k| (k == "COSX_LISTEN").then(|| "0.0.0.0:9000".to_owned())).unwrap();
        assert_eq!(c.listen.port(), 9000);
        c.resolve_paths(Path::new("/etc/cosx"));
        assert_eq!(c.tls.cert, PathBuf::from("/etc/cosx/pki/server.pem"));
        assert_eq!(c.database, "sqlite:///etc/cosx/coordinator.db");
        assert_eq!(c.parties().unwrap()[0].kind, PartyKind::Contractor);
    }

    #[test]
    fn a_bad_party_names_its_field() {
        let bad = FILE.replace("nation = \"JPN\"", "nation = \"JP\"");
        let c: CoordinatorConfig = toml::from_str(&bad).unwrap();
        let err = c.check().unwrap_err().to_string();
        assert!(err.contains("parties[0].nation"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<CoordinatorConfig>(&format!("{FILE}\nlisten_port = 1")).is_err());
    }
}
