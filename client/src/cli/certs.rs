//! `cosx certs`: create the exchange CA, issue party and server
//! certificates, and revoke them through a certificate revocation list
//! (CRL), into files, with no server involved.
//!
//! Private keys are written with mode 0600 through a temporary file and a
//! rename, so a key is never readable by others even for a moment, and the
//! CA key is never overwritten without `--force`. Key material is never
//! printed: output names the files written.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use cosx_certs::{ExchangeCa, Issued, RevocationList};

use super::CertsCommand;
use super::output::Printer;
use crate::error::ClientError;

pub(crate) fn run(cmd: CertsCommand, printer: &Printer) -> Result<(), ClientError> {
    match cmd {
        CertsCommand::Init { trust_domain, out, force } => {
            let key_path = out.join("ca.key");
            if key_path.exists() && !force {
                return Err(ClientError::Usage(format!(
                    "{} exists; refusing to overwrite the exchange CA key (use --force to replace it)",
                    key_path.display()
                )));
            }
            let ca = ExchangeCa::create(&trust_domain)?;
            create_dir(&out)?;
            let cert_path = out.join("ca.pem");
            write_public(&cert_path, ca.cert_pem())?;
            write_private(&key_path, ca.key_pem())?;
            report(printer, &cert_path, &key_path, &format!("exchange CA for trust domain {trust_domain}"))
        }
        CertsCommand::Issue { ca, party, out, p12, p12_passphrase } => {
            // Checked before anything is written: a refused run leaves no files.
            let p12 = match (p12, p12_passphrase) {
                (Some(path), Some(pass)) if !pass.is_empty() => Some((path, pass)),
                (Some(_), _) => {
                    return Err(ClientError::Usage(
                        "--p12-passphrase: required with --p12 (or set COSX_P12_PASSPHRASE), and not empty".into(),
                    ));
                }
                (None, _) => None,
            };
            let ca = load_ca(&ca)?;
            let issued = ca.issue_party(&party)?;
            let (cert, key) = write_issued(&out, &party, &issued)?;
            report(printer, &cert, &key, &format!("party {party} in trust domain {}", ca.trust_domain()))?;
            if let Some((path, pass)) = p12 {
                let bytes = cosx_certs::pkcs12(&issued, ca.cert_pem(), &party, &pass)?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    create_dir(dir)?;
                }
                write_private(&path, &bytes)?;
                if printer.is_json() {
                    printer.json_line(&serde_json::json!({ "pkcs12": path.display().to_string() }))?;
                } else {
                    printer.line(&format!("  PKCS#12     {} (mode 0600; import it into a browser)", path.display()))?;
                }
            }
            Ok(())
        }
        CertsCommand::Server { ca, names, out } => {
            let ca = load_ca(&ca)?;
            let issued = ca.issue_server(&names)?;
            let (cert, key) = write_issued(&out, "server", &issued)?;
            report(printer, &cert, &key, &format!("server {}", names.join(", ")))
        }
        CertsCommand::Revoke { ca: ca_dir, cert, crl } => {
            let ca = load_ca(&ca_dir)?;
            let crl = crl.unwrap_or_else(|| ca_dir.join("crl.pem"));
            let pem = std::fs::read_to_string(&cert).map_err(|source| ClientError::ReadFile {
                what: "--cert".into(),
                path: cert.clone(),
                source,
            })?;
            let serial = cosx_certs::serial_of(&pem)?;
            let mut list = read_crl(&ca, &crl)?;
            let added = list.revoke(&serial);
            let number = write_crl(&ca, &crl, &list)?;
            let serial: String = serial.iter().map(|b| format!("{b:02x}")).collect();
            if printer.is_json() {
                printer.json_line(&serde_json::json!({
                    "crl": crl.display().to_string(), "serial": serial, "crlNumber": number,
                    "revoked": list.revoked.len(), "added": added,
                }))
            } else {
                let already = if added { "" } else { " (already listed)" };
                printer.line(&format!(
                    "revoked serial {serial}{already}: {} lists {} certificate(s), CRL number {number}",
                    crl.display(),
                    list.revoked.len()
                ))
            }
        }
        CertsCommand::Crl { ca, out } => {
            let ca = load_ca(&ca)?;
            let list = read_crl(&ca, &out)?;
            let number = write_crl(&ca, &out, &list)?;
            if printer.is_json() {
                printer.json_line(&serde_json::json!({
                    "crl": out.display().to_string(), "crlNumber": number, "revoked": list.revoked.len(),
                }))
            } else {
                printer.line(&format!(
                    "revocation list {}: {} certificate(s), CRL number {number}, valid {CRL_VALID_DAYS} days",
                    out.display(),
                    list.revoked.len()
                ))
            }
        }
    }
}

/// How long a signed CRL is valid; `cosx certs crl` refreshes it.
const CRL_VALID_DAYS: u64 = 30;

/// The revocation list at `path`, empty if the file does not exist yet.
fn read_crl(ca: &ExchangeCa, path: &Path) -> Result<RevocationList, ClientError> {
    match std::fs::read_to_string(path) {
        Ok(pem) => Ok(ca.read_revocation_list(&pem)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RevocationList::default()),
        Err(source) => Err(ClientError::ReadFile { what: "CRL".into(), path: path.to_owned(), source }),
    }
}

/// Re-signs `list` with the next CRL number and replaces `path` atomically
/// (a server polling the file never reads half of it); the number written.
fn write_crl(ca: &ExchangeCa, path: &Path, list: &RevocationList) -> Result<u64, ClientError> {
    let number = list.number + 1;
    let pem = ca.revocation_list(&list.revoked, number, std::time::Duration::from_secs(CRL_VALID_DAYS * 86_400))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir(dir)?;
    }
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, pem)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|source| ClientError::WriteFile { path: path.to_owned(), source })?;
    Ok(number)
}

fn report(printer: &Printer, cert: &Path, key: &Path, what: &str) -> Result<(), ClientError> {
    if printer.is_json() {
        printer.json_line(&serde_json::json!({
            "certificate": cert.display().to_string(),
            "key": key.display().to_string(),
        }))
    } else {
        printer.line(&format!("{what}:\n  certificate {}\n  key         {} (mode 0600)", cert.display(), key.display()))
    }
}

fn load_ca(dir: &Path) -> Result<ExchangeCa, ClientError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|source| ClientError::ReadFile { what: "--ca".into(), path, source })
    };
    Ok(ExchangeCa::load(&read("ca.pem")?, &read("ca.key")?)?)
}

fn write_issued(out: &Path, stem: &str, issued: &Issued) -> Result<(PathBuf, PathBuf), ClientError> {
    create_dir(out)?;
    let cert = out.join(format!("{stem}.pem"));
    let key = out.join(format!("{stem}.key"));
    write_public(&cert, &issued.cert_pem)?;
    write_private(&key, &issued.key_pem)?;
    Ok((cert, key))
}

fn create_dir(dir: &Path) -> Result<(), ClientError> {
    std::fs::create_dir_all(dir).map_err(|source| ClientError::WriteFile { path: dir.to_owned(), source })
}

fn write_public(path: &Path, contents: &str) -> Result<(), ClientError> {
    std::fs::write(path, contents).map_err(|source| ClientError::WriteFile { path: path.to_owned(), source })
}

/// Writes a private key readable by the owner only: to a fresh temporary
/// file created 0600, then renamed over `path`.
fn write_private(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), ClientError> {
    let err = |source| ClientError::WriteFile { path: path.to_owned(), source };
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = options
        .open(&tmp)
        .and_then(|mut f| f.write_all(contents.as_ref()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init(out: &Path, force: bool) -> Result<(), ClientError> {
        run(CertsCommand::Init { trust_domain: "cosx.test".into(), out: out.to_owned(), force }, &Printer::new(true))
    }

    fn issue(ca: &Path, out: &Path) -> CertsCommand {
        issue_p12(ca, out, None, None)
    }

    fn issue_p12(ca: &Path, out: &Path, p12: Option<PathBuf>, p12_passphrase: Option<String>) -> CertsCommand {
        CertsCommand::Issue {
            ca: ca.to_owned(),
            party: "JPN-MHI-KOMAKI".into(),
            out: out.to_owned(),
            p12,
            p12_passphrase,
        }
    }

    #[test]
    fn issue_with_p12_writes_a_passphrase_protected_pkcs12_of_the_same_identity() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca_dir = dir.path().join("ca");
        init(&ca_dir, false).expect("init");
        let out = dir.path().join("issued");
        let p12 = dir.path().join("browser/JPN-MHI-KOMAKI.p12");
        let cmd = issue_p12(&ca_dir, &out, Some(p12.clone()), Some("s3cret phrase".into()));
        run(cmd, &Printer::new(true)).expect("issue --p12");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p12).expect("p12").permissions().mode() & 0o777, 0o600);
        }
        let bytes = std::fs::read(&p12).expect("read p12");
        let pem = std::fs::read_to_string(out.join("JPN-MHI-KOMAKI.pem")).expect("pem");
        let store = p12_keystore::KeyStore::from_pkcs12(&bytes, "s3cret phrase").expect("opens");
        let (_, chain) = store.private_key_chain().expect("key chain");
        assert_eq!(Some(chain.chain()[0].as_der().to_vec()), cosx_certs::pem_to_der(&pem));
        assert!(p12_keystore::KeyStore::from_pkcs12(&bytes, "guess").is_err());
    }

    #[test]
    fn p12_without_a_passphrase_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca_dir = dir.path().join("ca");
        init(&ca_dir, false).expect("init");
        let out = dir.path().join("issued");
        for pass in [None, Some(String::new())] {
            let cmd = issue_p12(&ca_dir, &out, Some(out.join("x.p12")), pass);
            let err = run(cmd, &Printer::new(true)).expect_err("no passphrase");
            assert!(err.to_string().contains("--p12-passphrase: required with --p12"), "{err}");
            assert!(!out.exists(), "nothing written");
        }
    }

    #[test]
    fn init_writes_the_ca_with_a_private_key_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        init(dir.path(), false).expect("init");
        let pem = std::fs::read_to_string(dir.path().join("ca.pem")).expect("ca.pem");
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("ca.key")).expect("ca.key").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn init_refuses_to_overwrite_the_ca_key_without_force() {
        let dir = tempfile::tempdir().expect("tempdir");
        init(dir.path(), false).expect("first init");
        let before = std::fs::read_to_string(dir.path().join("ca.key")).expect("key");
        let err = init(dir.path(), false).expect_err("second init");
        assert!(err.to_string().contains("refusing to overwrite"), "{err}");
        assert_eq!(std::fs::read_to_string(dir.path().join("ca.key")).expect("key"), before);
        init(dir.path(), true).expect("forced init");
        assert_ne!(std::fs::read_to_string(dir.path().join("ca.key")).expect("key"), before);
    }

    #[test]
    fn issued_certificates_come_from_the_ca_in_the_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca_dir = dir.path().join("ca");
        let out = dir.path().join("issued");
        init(&ca_dir, false).expect("init");
        let printer = Printer::new(true);
        run(issue(&ca_dir, &out), &printer).expect("issue");
        run(
            CertsCommand::Server { ca: ca_dir, names: vec!["localhost".into(), "127.0.0.1".into()], out: out.clone() },
            &printer,
        )
        .expect("server");
        for file in ["JPN-MHI-KOMAKI.pem", "JPN-MHI-KOMAKI.key", "server.pem", "server.key"] {
            assert!(out.join(file).is_file(), "{file} missing");
        }
        let der = cosx_certs::pem_to_der(&std::fs::read_to_string(out.join("JPN-MHI-KOMAKI.pem")).expect("pem"))
            .expect("der");
        assert_eq!(cosx_certs::party_id_from_cert(&der, "cosx.test"), Ok("JPN-MHI-KOMAKI".to_owned()));
    }

    #[test]
    fn revoking_adds_the_serial_once_and_numbers_each_list() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca_dir = dir.path().join("ca");
        init(&ca_dir, false).expect("init");
        let printer = Printer::new(true);
        let crl = dir.path().join("crl.pem");
        run(CertsCommand::Crl { ca: ca_dir.clone(), out: crl.clone() }, &printer).expect("empty crl");
        run(issue(&ca_dir, &ca_dir), &printer).expect("issue");
        let cert = ca_dir.join("JPN-MHI-KOMAKI.pem");
        for _ in 0..2 {
            run(CertsCommand::Revoke { ca: ca_dir.clone(), cert: cert.clone(), crl: Some(crl.clone()) }, &printer)
                .expect("revoke");
        }
        let ca = load_ca(&ca_dir).expect("ca");
        let list = ca.read_revocation_list(&std::fs::read_to_string(&crl).expect("crl")).expect("parse");
        assert_eq!(list.number, 3);
        assert_eq!(list.revoked.len(), 1);
        let serial = cosx_certs::serial_of(&std::fs::read_to_string(&cert).expect("cert")).expect("serial");
        assert_eq!(list.revoked[0].serial, serial);
    }

    #[test]
    fn issuing_without_a_ca_names_the_missing_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = run(issue(&dir.path().join("nope"), dir.path()), &Printer::new(true)).expect_err("no ca");
        assert!(err.to_string().starts_with("cannot read --ca file "), "{err}");
    }
}
