//! Coordinator configuration: a TOML file, then `COSX_*` environment
//! variables over it (`COSX_LISTEN`, `COSX_DATABASE`, `COSX_TRUST_DOMAIN`,
//! `COSX_TLS_CERT`, `COSX_TLS_KEY`, `COSX_TLS_CLIENT_CA`, `COSX_LOG_FORMAT`,
//! `COSX_TLS_CRLS` (comma-separated), `COSX_SHUTDOWN_GRACE`, and for the
//! `[signals]` section `COSX_SIGNALS_<KEY>` with the key in capitals, e.g.
//! `COSX_SIGNALS_MIN_CELL_ORDERS`).
//!
//! Durations are strings with a unit: `"500ms"`, `"10s"`, `"2m"`.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use cosx_domain::{MilitaryDepartment, Nation, Party, PartyId, PartyKind, Violations};
use serde::Deserialize;

pub use cosx_edge::config::{ConfigError, DEFAULT_SHUTDOWN_GRACE, Limits, LogFormat, TlsConfig, duration};

fn default_shutdown_grace() -> Duration {
    DEFAULT_SHUTDOWN_GRACE
}

/// Demand signals, workload balance and the alerts the coordinator raises
/// on the feed (`[signals]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignalsConfig {
    /// *k*: the fewest originators, besides the party asking, whose orders a
    /// demand cell shown to a non-coordinator may be built from; smaller
    /// cells (and cells protecting them) are withheld. (The key keeps its
    /// historical name.)
    pub min_cell_orders: u64,
    /// A bottleneck needs a shortfall of at least this many labor hours
    /// (cells compared in labor hours) ...
    pub bottleneck_absolute_hours: f64,
    /// ... or induction slots (cells whose capacity is offered in slots) ...
    pub bottleneck_absolute_slots: f64,
    /// ... and at least this fraction of the capacity offered (0.1 = 10 %).
    pub bottleneck_relative: f64,
    /// Periods (months) of forecast demand each cell is judged on beyond its
    /// last month of orders; 0 judges actual demand only.
    pub bottleneck_forecast_periods: u32,
    /// Also judge cells where no capacity is offered at all (every month with
    /// demand at or above the absolute threshold is then a bottleneck). Off
    /// by default: such cells are better found with `cosx capacity-gap`
    /// than announced one month at a time.
    pub bottleneck_cells_without_capacity: bool,
    /// 50/50 warning threshold, percent of projected contract share.
    pub balance_warning_percent: f64,
    /// Raise `BOTTLENECK_*` and `BALANCE_*` events on the feed.
    pub alerts: bool,
    /// Forecast parameters (`[signals.forecast]`); a request may override each.
    pub forecast: ForecastSettings,
    /// Days after a month ends before the coordinator asks a party for its
    /// missing availability report of that month (a request for update).
    pub missing_report_after_days: u32,
    /// How often the coordinator looks for missing reports (requests for
    /// update are also closed when their newer version arrives, after each commit).
    #[serde(with = "duration")]
    pub update_request_sweep_every: Duration,
}

/// Smoothing parameters and band of the demand forecasts
/// (`[signals.forecast]`); defaults are statsforecast's where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForecastSettings {
    /// α of simple exponential smoothing.
    pub ses_alpha: f64,
    /// α of both Croston methods.
    pub croston_alpha: f64,
    /// TSB α of the demand size.
    pub tsb_alpha_demand: f64,
    /// TSB α of the probability of demand.
    pub tsb_alpha_probability: f64,
    /// Fixed α of ADIDA and IMAPA; unset fits it on [0.1, 0.3].
    pub aggregation_alpha: Option<f64>,
    /// Share of a period's demand the band covers, in (0, 1).
    pub band_coverage: f64,
}

impl Default for ForecastSettings {
    fn default() -> Self {
        let p = cosx_demand::ForecastParams::default();
        ForecastSettings {
            ses_alpha: p.ses_alpha,
            croston_alpha: p.croston_alpha,
            tsb_alpha_demand: p.tsb_alpha_demand,
            tsb_alpha_probability: p.tsb_alpha_probability,
            aggregation_alpha: p.aggregation_alpha,
            band_coverage: cosx_demand::ForecastConfig::default().band_coverage,
        }
    }
}

impl ForecastSettings {
    /// The forecast configuration for `horizon` periods with these settings.
    pub fn config(&self, horizon: usize) -> cosx_demand::ForecastConfig {
        cosx_demand::ForecastConfig {
            horizon,
            params: cosx_demand::ForecastParams {
                ses_alpha: self.ses_alpha,
                croston_alpha: self.croston_alpha,
                tsb_alpha_demand: self.tsb_alpha_demand,
                tsb_alpha_probability: self.tsb_alpha_probability,
                aggregation_alpha: self.aggregation_alpha,
            },
            band_coverage: self.band_coverage,
            ..cosx_demand::ForecastConfig::default()
        }
    }
}

/// Allocation and eligibility settings (`[allocation]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AllocationSettings {
    /// ISO 3166-1 alpha-3 nations with which the US Government has a
    /// security-assistance relationship (a registry fact): third-country
    /// support may come only from these. Empty: none recorded.
    pub security_assistance_nations: Vec<String>,
}

impl AllocationSettings {
    /// The nations, parsed; the error names the entry.
    pub fn nations(&self) -> Result<Vec<cosx_allocation::Nation>, ConfigError> {
        self.security_assistance_nations
            .iter()
            .enumerate()
            .map(|(i, n)| {
                cosx_allocation::Nation::parse(n).map_err(|e| {
                    ConfigError::Invalid(format!("allocation.security_assistance_nations[{i}] {n:?}: {e}"))
                })
            })
            .collect()
    }
}

impl Default for SignalsConfig {
    fn default() -> Self {
        SignalsConfig {
            min_cell_orders: 3,
            bottleneck_absolute_hours: 100.0,
            bottleneck_absolute_slots: 1.0,
            bottleneck_relative: 0.1,
            bottleneck_forecast_periods: 3,
            bottleneck_cells_without_capacity: false,
            balance_warning_percent: 45.0,
            alerts: true,
            forecast: ForecastSettings::default(),
            missing_report_after_days: cosx_domain::update_requests::DEFAULT_MISSING_REPORT_AFTER_DAYS,
            update_request_sweep_every: Duration::from_secs(3600),
        }
    }
}

impl SignalsConfig {
    fn apply_env(&mut self, var: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parsed<T: std::str::FromStr>(
            var: &impl Fn(&str) -> Option<String>,
            name: &str,
            into: &mut T,
        ) -> Result<(), ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            if let Some(v) = var(name) {
                *into = v.trim().parse().map_err(|e| ConfigError::Invalid(format!("{name} {v:?}: {e}")))?;
            }
            Ok(())
        }
        parsed(var, "COSX_SIGNALS_MIN_CELL_ORDERS", &mut self.min_cell_orders)?;
        parsed(var, "COSX_SIGNALS_BOTTLENECK_ABSOLUTE_HOURS", &mut self.bottleneck_absolute_hours)?;
        parsed(var, "COSX_SIGNALS_BOTTLENECK_ABSOLUTE_SLOTS", &mut self.bottleneck_absolute_slots)?;
        parsed(var, "COSX_SIGNALS_BOTTLENECK_RELATIVE", &mut self.bottleneck_relative)?;
        parsed(var, "COSX_SIGNALS_BOTTLENECK_FORECAST_PERIODS", &mut self.bottleneck_forecast_periods)?;
        parsed(var, "COSX_SIGNALS_BOTTLENECK_CELLS_WITHOUT_CAPACITY", &mut self.bottleneck_cells_without_capacity)?;
        parsed(var, "COSX_SIGNALS_BALANCE_WARNING_PERCENT", &mut self.balance_warning_percent)?;
        parsed(var, "COSX_SIGNALS_ALERTS", &mut self.alerts)?;
        parsed(var, "COSX_SIGNALS_MISSING_REPORT_AFTER_DAYS", &mut self.missing_report_after_days)?;
        Ok(())
    }

    /// Checks the values.
    pub fn check(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if self.min_cell_orders == 0 {
            return invalid("signals.min_cell_orders must be at least 1".into());
        }
        for (name, v) in [
            ("bottleneck_absolute_hours", self.bottleneck_absolute_hours),
            ("bottleneck_absolute_slots", self.bottleneck_absolute_slots),
            ("bottleneck_relative", self.bottleneck_relative),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return invalid(format!("signals.{name} {v}: expected a finite number >= 0"));
            }
        }
        if self.missing_report_after_days > 366 {
            return invalid("signals.missing_report_after_days: at most 366".into());
        }
        if self.update_request_sweep_every.is_zero() {
            return invalid("signals.update_request_sweep_every must be more than 0s".into());
        }
        if self.bottleneck_forecast_periods > 120 {
            return invalid("signals.bottleneck_forecast_periods: at most 120".into());
        }
        if !(0.0..=100.0).contains(&self.balance_warning_percent) {
            return invalid(format!(
                "signals.balance_warning_percent {}: expected 0 to 100",
                self.balance_warning_percent
            ));
        }
        let c = self.forecast.band_coverage;
        if !(c > 0.0 && c < 1.0) {
            return invalid(format!("signals.forecast.band_coverage {c}: expected 0 < coverage < 1"));
        }
        // The core names `forecast_params.<field>`; here the field is `signals.forecast.<field>`.
        self.forecast.config(1).params.check().map_err(|e| {
            ConfigError::Invalid(format!("signals.{}", e.to_string().replacen("forecast_params", "forecast", 1)))
        })
    }
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
    /// Resource limits.
    #[serde(default)]
    pub limits: Limits,
    /// Where to serve Prometheus metrics as plain HTTP (`GET /metrics`), if
    /// anywhere: counts and times only. Bind it to loopback or a management
    /// network.
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
    /// On SIGTERM, how long calls in flight may take to finish before the
    /// process exits anyway.
    #[serde(default = "default_shutdown_grace", with = "duration")]
    pub shutdown_grace: Duration,
    /// Demand signals, workload balance and feed alerts.
    #[serde(default)]
    pub signals: SignalsConfig,
    /// Allocation and proposal eligibility.
    #[serde(default)]
    pub allocation: AllocationSettings,
    /// `[[webhooks]]`: the feed delivered to HTTP endpoints, subscribed as
    /// `webhooks_identity` (a coordinating party) — see `cosx_webhooks`.
    #[serde(default)]
    pub webhooks: Vec<cosx_webhooks::WebhookConfig>,
    /// The party the coordinator's webhooks subscribe to its feed as;
    /// required when `webhooks` are configured.
    #[serde(default)]
    pub webhooks_identity: Option<cosx_webhooks::FeedIdentity>,
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
        self.tls.apply_env(&var);
        if let Some(v) = var("COSX_SHUTDOWN_GRACE") {
            self.shutdown_grace =
                duration::parse(&v).map_err(|e| ConfigError::Invalid(format!("COSX_SHUTDOWN_GRACE {e}")))?;
        }
        if let Some(v) = var("COSX_LOG_FORMAT") {
            self.log_format = LogFormat::from_env(&v)?;
        }
        self.signals.apply_env(&var)?;
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        cosx_edge::config::resolve_relative(base, self.tls.paths_mut());
        cosx_edge::config::resolve_sqlite_url(base, &mut self.database);
        for w in &mut self.webhooks {
            w.resolve_paths(base);
        }
        if let Some(id) = &mut self.webhooks_identity {
            id.resolve_paths(base);
        }
    }

    /// Checks values that TOML types cannot.
    pub fn check(&self) -> Result<(), ConfigError> {
        cosx_certs::check_trust_domain(&self.trust_domain).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if !self.webhooks.is_empty() && self.webhooks_identity.is_none() {
            return Err(ConfigError::Invalid(
                "webhooks_identity: required with [[webhooks]] (the coordinating party's certificate they subscribe as)"
                    .into(),
            ));
        }
        for (i, p) in self.parties.iter().enumerate() {
            p.to_party(i).map_err(|v| ConfigError::Invalid(v.to_string()))?;
        }
        let l = &self.limits;
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if l.max_concurrent_calls == 0 || l.max_pending_handshakes == 0 {
            return invalid("limits.max_concurrent_calls and limits.max_pending_handshakes must be at least 1");
        }
        if l.max_pending_handshakes_per_source == 0
            || l.max_concurrent_calls_per_party == 0
            || l.max_subscriptions_per_party == 0
        {
            return invalid(
                "limits.max_pending_handshakes_per_source, limits.max_concurrent_calls_per_party and \
                 limits.max_subscriptions_per_party must be at least 1",
            );
        }
        if !(l.calls_per_second_per_party.is_finite() && l.calls_per_second_per_party > 0.0) || l.burst_per_party == 0 {
            return invalid("limits.calls_per_second_per_party must be > 0 and limits.burst_per_party at least 1");
        }
        if l.max_message_bytes == 0 || l.max_message_bytes_per_method.values().any(|&b| b == 0) {
            return invalid("limits.max_message_bytes (and each per-method value) must be at least 1");
        }
        if let Some(bad) = l.max_message_bytes_per_method.keys().find(|k| !k.starts_with('/')) {
            return Err(ConfigError::Invalid(format!(
                "limits.max_message_bytes_per_method key {bad:?}: expected a gRPC path like /cosx.v1.Exchange/Ingest"
            )));
        }
        if l.handshake_timeout.is_zero() {
            return invalid("limits.handshake_timeout must be more than 0s");
        }
        self.allocation.nations()?;
        self.signals.check()
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
    use std::path::PathBuf;

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
    fn webhooks_need_the_identity_they_subscribe_as() {
        let hooks = format!(
            "{FILE}\n[[webhooks]]\nname = \"erp\"\nurl = \"https://erp.example/h\"\nsecret_file = \"erp.hmac\"\n"
        );
        let c: CoordinatorConfig = toml::from_str(&hooks).unwrap();
        assert!(c.check().unwrap_err().to_string().contains("webhooks_identity: required"));
        let text = format!(
            "{hooks}\n[webhooks_identity]\nendpoint = \"https://127.0.0.1:7443\"\nca = \"pki/ca.pem\"\ncert = \"pki/j4.pem\"\nkey = \"pki/j4.key\"\n"
        );
        let mut c: CoordinatorConfig = toml::from_str(&text).unwrap();
        c.resolve_paths(Path::new("/etc/cosx"));
        c.check().unwrap();
        assert_eq!(c.webhooks[0].secret_file, PathBuf::from("/etc/cosx/erp.hmac"));
        assert_eq!(c.webhooks_identity.unwrap().cert, PathBuf::from("/etc/cosx/pki/j4.pem"));
    }

    #[test]
    fn a_bad_party_names_its_field() {
        let bad = FILE.replace("nation = \"JPN\"", "nation = \"JP\"");
        let c: CoordinatorConfig = toml::from_str(&bad).unwrap();
        let err = c.check().unwrap_err().to_string();
        assert!(err.contains("parties[0].nation"), "{err}");
    }

    #[test]
    fn limits_crls_and_durations_parse_with_their_units() {
        let text = FILE.replace(
            "client_ca = \"pki/ca.pem\"",
            "client_ca = \"pki/ca.pem\"\ncrls = [\"pki/crl.pem\"]\nreload_interval = \"500ms\"",
        );
        let text = format!(
            "shutdown_grace = \"3s\"\n{text}\n[limits]\nmax_concurrent_calls = 8\nhandshake_timeout = \"2s\"\n\
             [limits.max_message_bytes_per_method]\n\"/cosx.v1.Exchange/Ingest\" = 65536\n"
        );
        let mut c: CoordinatorConfig = toml::from_str(&text).unwrap();
        c.resolve_paths(Path::new("/etc/cosx"));
        c.check().unwrap();
        assert_eq!(c.tls.crls, vec![PathBuf::from("/etc/cosx/pki/crl.pem")]);
        assert_eq!(c.tls.reload_interval, Duration::from_millis(500));
        assert_eq!(c.shutdown_grace, Duration::from_secs(3));
        assert_eq!(c.limits.max_concurrent_calls, 8);
        assert_eq!(c.limits.handshake_timeout, Duration::from_secs(2));
        assert_eq!(c.limits.max_message_bytes_per_method["/cosx.v1.Exchange/Ingest"], 65536);
        assert!(duration::parse("10 parsecs").is_err());
        let defaults: CoordinatorConfig = toml::from_str(FILE).unwrap();
        assert_eq!(defaults.shutdown_grace, Duration::from_secs(10));
        assert!(defaults.tls.crls.is_empty());
    }

    #[test]
    fn the_signals_section_parses_and_environment_overrides_it() {
        let defaults: CoordinatorConfig = toml::from_str(FILE).unwrap();
        assert_eq!(defaults.signals, SignalsConfig::default());
        assert_eq!(defaults.signals.min_cell_orders, 3);
        let text = format!("{FILE}\n[signals]\nmin_cell_orders = 5\nbottleneck_relative = 0.25\n");
        let mut c: CoordinatorConfig = toml::from_str(&text).unwrap();
        assert_eq!((c.signals.min_cell_orders, c.signals.bottleneck_relative), (5, 0.25));
        c.apply_env(|k| match k {
            "COSX_SIGNALS_MIN_CELL_ORDERS" => Some("7".into()),
            "COSX_SIGNALS_BALANCE_WARNING_PERCENT" => Some("40".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!((c.signals.min_cell_orders, c.signals.balance_warning_percent), (7, 40.0));
        assert!(c.apply_env(|k| (k == "COSX_SIGNALS_MIN_CELL_ORDERS").then(|| "many".into())).is_err());
        c.signals.min_cell_orders = 0;
        assert!(c.check().unwrap_err().to_string().contains("signals.min_cell_orders"));
        assert!(toml::from_str::<CoordinatorConfig>(&format!("{FILE}\n[signals]\nk = 3\n")).is_err());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<CoordinatorConfig>(&format!("{FILE}\nlisten_port = 1")).is_err());
    }
}
