//! Revocation: a certificate on the exchange CA's revocation list is refused
//! at the TLS handshake, and a new list on disk takes effect for new
//! connections without a restart. (Registry suspension, the other way to cut
//! a party off, is covered in `feed.rs` and `identity.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use cosx_certs::{ExchangeCa, Issued, RevocationList, serial_of};
use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party};
use tonic::Code;

const DAYS_30: Duration = Duration::from_secs(30 * 86_400);

fn write_crl(ca: &ExchangeCa, path: &Path, list: &RevocationList) -> anyhow::Result<()> {
    let pem = ca.revocation_list(&list.revoked, list.number + 1, DAYS_30)?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, pem)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Whether a call presenting `cert` is served.
async fn served(ex: &TestExchange, cert: &Issued) -> Result<(), tonic::Status> {
    let channel = ex.channel_with(Some(cert), ex.ca.cert_pem()).await.expect("channel");
    pb::registry_client::RegistryClient::new(channel).list_parties(pb::ListPartiesRequest::default()).await.map(|_| ())
}

fn refused_at_handshake(result: Result<(), tonic::Status>) {
    let status = result.expect_err("a revoked certificate was served");
    // Refused before any handler ran: a transport failure, not an answer
    // from the service about the party.
    assert!(
        !matches!(status.code(), Code::PermissionDenied | Code::Unauthenticated | Code::Ok),
        "expected a handshake failure, got {status:?}"
    );
}

#[tokio::test]
async fn a_revoked_certificate_is_refused_and_a_new_list_takes_effect_without_restart() -> anyhow::Result<()> {
    let mut revoked_at_start = None;
    let ex = TestExchange::start_with(|config, ca, pki| {
        let stolen = ca.issue_party(party::MHI)?;
        let mut list = RevocationList::default();
        list.revoke(&serial_of(&stolen.cert_pem)?);
        write_crl(ca, &pki.join("crl.pem"), &list)?;
        config.tls.crls = vec![pki.join("crl.pem")];
        config.tls.reload_interval = Duration::from_millis(100);
        revoked_at_start = Some(stolen);
        Ok(())
    })
    .await?;
    let stolen = revoked_at_start.expect("issued");
    let crl = ex.dir.path().join("pki").join("crl.pem");

    // The certificate listed at start is refused; a fresh one for the same party is not.
    refused_at_handshake(served(&ex, &stolen).await);
    let reissued = ex.ca.issue_party(party::MHI)?;
    served(&ex, &reissued).await.expect("a re-issued certificate is served");

    // Revoke KAI's certificate while the server runs.
    let kai = ex.ca.issue_party(party::KAI)?;
    let raaf = ex.ca.issue_party(party::RAAF)?;
    served(&ex, &kai).await.expect("KAI before revocation");
    let mut list = ex.ca.read_revocation_list(&std::fs::read_to_string(&crl)?)?;
    list.revoke(&serial_of(&kai.cert_pem)?);
    let generation = ex.running.as_ref().expect("running").tls_generation();
    write_crl(&ex.ca, &crl, &list)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while ex.running.as_ref().expect("running").tls_generation() == generation {
        assert!(tokio::time::Instant::now() < deadline, "the CRL change was not picked up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    refused_at_handshake(served(&ex, &kai).await);
    refused_at_handshake(served(&ex, &stolen).await);
    served(&ex, &raaf).await.expect("an unrevoked certificate still works");
    served(&ex, &reissued).await.expect("the re-issued certificate still works");
    Ok(())
}

#[tokio::test]
async fn a_broken_crl_on_disk_keeps_the_previous_list_in_force() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|config, ca, pki| {
        write_crl(ca, &pki.join("crl.pem"), &RevocationList::default())?;
        config.tls.crls = vec![pki.join("crl.pem")];
        config.tls.reload_interval = Duration::ZERO;
        Ok(())
    })
    .await?;
    let running = ex.running.as_ref().expect("running");
    std::fs::write(ex.dir.path().join("pki").join("crl.pem"), "-----BEGIN X509 CRL-----\nnot base64\n")?;
    let err = running.reload_tls().expect_err("a broken CRL was accepted");
    assert!(err.to_string().contains("crl.pem"), "the error names the file: {err}");
    assert_eq!(running.tls_generation(), 1);
    served(&ex, &ex.ca.issue_party(party::USAF)?).await.expect("still serving with the previous config");
    Ok(())
}

#[tokio::test]
async fn with_crls_configured_a_certificate_no_list_covers_is_refused() -> anyhow::Result<()> {
    // A second CA is trusted, but no CRL covers it: fail closed.
    let other = ExchangeCa::create(cosx_tests::TRUST_DOMAIN)?;
    let other_pem = other.cert_pem().to_owned();
    let ex = TestExchange::start_with(|config, ca, pki| {
        write_crl(ca, &pki.join("crl.pem"), &RevocationList::default())?;
        config.tls.crls = vec![pki.join("crl.pem")];
        std::fs::write(pki.join("bundle.pem"), format!("{}{}", ca.cert_pem(), other_pem))?;
        config.tls.client_ca = pki.join("bundle.pem");
        Ok(())
    })
    .await?;
    refused_at_handshake(served(&ex, &other.issue_party(party::USAF)?).await);
    served(&ex, &ex.ca.issue_party(party::USAF)?).await.expect("covered by the CRL and not revoked");
    Ok(())
}
