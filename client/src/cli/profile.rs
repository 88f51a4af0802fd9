//! Layered connection settings: flags, then environment, then a named
//! profile from a TOML file.
//!
//! ```toml
//! [profile.komaki]
//! endpoint = "https://coordinator.example:7443"
//! ca = "certs/ca.pem"          # relative paths are relative to this file
//! cert = "certs/JPN-MHI-KOMAKI.pem"
//! key = "certs/JPN-MHI-KOMAKI.key"
//! domain = "coordinator.example"   # optional
//! ```
//!
//! The environment is passed in as a lookup function so the layering can be
//! tested without touching the process environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::GlobalArgs;
use crate::connection::ConnectionSettings;
use crate::error::ClientError;

/// One `[profile.NAME]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Profile {
    endpoint: Option<String>,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    domain: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    #[serde(default)]
    profile: BTreeMap<String, Profile>,
}

/// Reads the real process environment.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Where the profile file is: `$COSX_CONFIG`, else `$HOME/.config/cosx/profiles.toml`.
fn profile_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    env("COSX_CONFIG")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| Path::new(&home).join(".config/cosx/profiles.toml")))
}

/// Loads profile `name` from `path`, making its relative paths relative to
/// the file's directory.
pub(crate) fn load_profile(path: &Path, name: &str) -> Result<Profile, ClientError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClientError::ReadFile {
        what: "profile".into(),
        path: path.to_owned(),
        source,
    })?;
    let file: ProfileFile =
        toml::from_str(&text).map_err(|e| ClientError::Profile(format!("{}: {}", path.display(), e.message())))?;
    let mut profile = file.profile.get(name).cloned().ok_or_else(|| {
        let known: Vec<&str> = file.profile.keys().map(String::as_str).collect();
        ClientError::Profile(format!(
            "no [profile.{name}] in {}; profiles there: {}",
            path.display(),
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        ))
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    for p in [&mut profile.ca, &mut profile.cert, &mut profile.key].into_iter().flatten() {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    }
    Ok(profile)
}

/// Resolves connection settings: each of endpoint, CA, certificate, key and
/// domain is taken from the flag if given, else from `COSX_*` in `env`, else
/// from the profile named by `--profile` / `COSX_PROFILE`.
pub(crate) fn resolve(
    flags: &GlobalArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ConnectionSettings, ClientError> {
    let profile = match flags.profile.clone().or_else(|| env("COSX_PROFILE")) {
        None => Profile::default(),
        Some(name) => {
            let path = profile_path(env)
                .ok_or_else(|| ClientError::Profile("cannot find the profile file: set COSX_CONFIG or HOME".into()))?;
            load_profile(&path, &name)?
        }
    };
    let endpoint = flags.endpoint.clone().or_else(|| env("COSX_ENDPOINT")).or(profile.endpoint);
    let path = |flag: &Option<PathBuf>, var: &str, from_profile: Option<PathBuf>| {
        flag.clone().or_else(|| env(var).map(PathBuf::from)).or(from_profile)
    };
    let ca = path(&flags.ca, "COSX_CA", profile.ca);
    let cert = path(&flags.cert, "COSX_CERT", profile.cert);
    let key = path(&flags.key, "COSX_KEY", profile.key);
    let domain = flags.domain.clone().or_else(|| env("COSX_DOMAIN")).or(profile.domain);
    let missing = |flag: &str, var: &str| {
        ClientError::Usage(format!("no {flag} given: pass {flag}, set {var} or use --profile NAME"))
    };
    Ok(ConnectionSettings {
        endpoint: endpoint.ok_or_else(|| missing("--endpoint", "COSX_ENDPOINT"))?,
        ca_pem_path: ca.ok_or_else(|| missing("--ca", "COSX_CA"))?,
        cert_path: cert.ok_or_else(|| missing("--cert", "COSX_CERT"))?,
        key_path: key.ok_or_else(|| missing("--key", "COSX_KEY"))?,
        domain_override: domain,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const PROFILES: &str = r#"
[profile.komaki]
endpoint = "https://profile:7443"
ca = "certs/ca.pem"
cert = "/abs/komaki.pem"
key = "certs/komaki.key"
domain = "coordinator.example"

[profile.gifu]
endpoint = "https://gifu:7443"
"#;

    struct Fixture {
        _dir: tempfile::TempDir,
        vars: HashMap<String, String>,
        config_dir: PathBuf,
    }

    fn fixture(extra: &[(&str, &str)]) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("profiles.toml");
        std::fs::write(&config, PROFILES).expect("write profiles");
        let mut vars: HashMap<String, String> = extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        vars.insert("COSX_CONFIG".into(), config.display().to_string());
        let config_dir = dir.path().to_owned();
        Fixture { _dir: dir, vars, config_dir }
    }

    impl Fixture {
        fn resolve(&self, flags: &GlobalArgs) -> Result<ConnectionSettings, ClientError> {
            resolve(flags, &|name| self.vars.get(name).cloned())
        }
    }

    fn profile_flag(name: &str) -> GlobalArgs {
        GlobalArgs { profile: Some(name.into()), ..GlobalArgs::default() }
    }

    #[test]
    fn a_profile_supplies_everything_with_paths_relative_to_its_file() {
        let f = fixture(&[]);
        let s = f.resolve(&profile_flag("komaki")).expect("resolves");
        assert_eq!(s.endpoint, "https://profile:7443");
        assert_eq!(s.ca_pem_path, f.config_dir.join("certs/ca.pem"));
        assert_eq!(s.cert_path, PathBuf::from("/abs/komaki.pem"));
        assert_eq!(s.key_path, f.config_dir.join("certs/komaki.key"));
        assert_eq!(s.domain_override.as_deref(), Some("coordinator.example"));
    }

    #[test]
    fn environment_overrides_profile() {
        let f = fixture(&[("COSX_ENDPOINT", "https://env:1"), ("COSX_KEY", "env.key")]);
        let s = f.resolve(&profile_flag("komaki")).expect("resolves");
        assert_eq!(s.endpoint, "https://env:1");
        assert_eq!(s.key_path, PathBuf::from("env.key"));
        assert_eq!(s.ca_pem_path, f.config_dir.join("certs/ca.pem"));
    }

    #[test]
    fn flags_override_environment_and_profile() {
        let f = fixture(&[("COSX_ENDPOINT", "https://env:1"), ("COSX_CA", "env-ca.pem")]);
        let flags = GlobalArgs {
            endpoint: Some("https://flag:2".into()),
            ca: Some("flag-ca.pem".into()),
            ..profile_flag("komaki")
        };
        let s = f.resolve(&flags).expect("resolves");
        assert_eq!(s.endpoint, "https://flag:2");
        assert_eq!(s.ca_pem_path, PathBuf::from("flag-ca.pem"));
        assert_eq!(s.cert_path, PathBuf::from("/abs/komaki.pem"));
    }

    #[test]
    fn the_profile_can_come_from_the_environment() {
        let f = fixture(&[("COSX_PROFILE", "komaki")]);
        let s = f.resolve(&GlobalArgs::default()).expect("resolves");
        assert_eq!(s.endpoint, "https://profile:7443");
    }

    #[test]
    fn environment_alone_is_enough() {
        let f = fixture(&[
            ("COSX_ENDPOINT", "https://env:1"),
            ("COSX_CA", "ca.pem"),
            ("COSX_CERT", "p.pem"),
            ("COSX_KEY", "p.key"),
        ]);
        let s = f.resolve(&GlobalArgs::default()).expect("resolves");
        assert_eq!(s.cert_path, PathBuf::from("p.pem"));
        assert_eq!(s.domain_override, None);
    }

    #[test]
    fn a_missing_setting_says_how_to_give_it() {
        let f = fixture(&[]);
        let err = f.resolve(&profile_flag("gifu")).expect_err("no ca");
        assert_eq!(err.to_string(), "no --ca given: pass --ca, set COSX_CA or use --profile NAME");
    }

    #[test]
    fn an_unknown_profile_lists_the_known_ones() {
        let f = fixture(&[]);
        let err = f.resolve(&profile_flag("ohio")).expect_err("unknown");
        assert!(err.to_string().contains("no [profile.ohio]"), "{err}");
        assert!(err.to_string().ends_with("profiles there: gifu, komaki"), "{err}");
    }

    #[test]
    fn the_default_profile_file_is_under_home() {
        let vars: HashMap<&str, &str> = HashMap::from([("HOME", "/home/op")]);
        let path = profile_path(&|n| vars.get(n).map(|v| (*v).to_owned()));
        assert_eq!(path, Some(PathBuf::from("/home/op/.config/cosx/profiles.toml")));
    }

    #[test]
    fn unknown_keys_in_a_profile_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "[profile.x]\nendpont = \"https://typo\"\n").expect("write");
        let err = load_profile(&path, "x").expect_err("typo");
        assert!(err.to_string().contains("endpont"), "{err}");
    }
}
