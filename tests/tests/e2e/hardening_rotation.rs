//! Rotation: a new server certificate and a new CA bundle written to disk
//! take effect for the next handshake without a restart, while a feed
//! stream opened before keeps streaming.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use cosx_certs::ExchangeCa;
use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, repair_order};
use tokio_stream::StreamExt;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// A channel that checks the server certificate against `server_name`.
fn channel_for(ex: &TestExchange, server_name: &str, ca_pem: &str, id: &cosx_certs::Issued) -> anyhow::Result<Channel> {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name(server_name)
        .identity(Identity::from_pem(&id.cert_pem, &id.key_pem));
    Ok(Channel::from_shared(format!("https://127.0.0.1:{}", ex.addr().port()))?
        .tls_config(tls)?
        .connect_timeout(Duration::from_secs(5))
        .connect_lazy())
}

async fn wait_for_reload(ex: &TestExchange, before: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while ex.running.as_ref().expect("running").tls_generation() == before {
        assert!(tokio::time::Instant::now() < deadline, "the TLS files were not reloaded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_rotated_server_certificate_serves_new_connections_and_open_feeds_keep_streaming() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|config, _, _| {
        config.tls.reload_interval = Duration::from_millis(100);
        Ok(())
    })
    .await?;
    let pki = ex.dir.path().join("pki");
    let usaf = ex.ca.issue_party(party::USAF)?;

    // A feed opened on the first certificate.
    let mut feed = pb::feed_client::FeedClient::new(channel_for(&ex, "localhost", ex.ca.cert_pem(), &usaf)?)
        .subscribe(pb::SubscribeRequest::default())
        .await?
        .into_inner();
    let mut exchange = ex.exchange(party::USAF).await?;
    exchange
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(repair_order(party::USAF)),
            request_id: "before-rotation".into(),
            ..Default::default()
        })
        .await?;
    let before = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let e = feed.next().await.expect("feed open")?;
            if matches!(e.subject, Some(pb::event::Subject::RepairOrder(_))) {
                return Ok::<_, tonic::Status>(e.sequence);
            }
        }
    })
    .await??;

    // Nobody can reach the server as "rotated.localhost" yet.
    let rotated_name = "rotated.localhost";
    let early = pb::registry_client::RegistryClient::new(channel_for(&ex, rotated_name, ex.ca.cert_pem(), &usaf)?)
        .list_parties(pb::ListPartiesRequest::default())
        .await;
    assert!(early.is_err(), "the old certificate does not name rotated.localhost");

    // Rotate: key first, then certificate, each replaced atomically.
    let generation = ex.running.as_ref().expect("running").tls_generation();
    let next = ex.ca.issue_server(&[rotated_name.to_owned(), "127.0.0.1".to_owned()])?;
    for (file, contents) in [("server.key", &next.key_pem), ("server.pem", &next.cert_pem)] {
        std::fs::write(pki.join(format!("{file}.tmp")), contents)?;
        std::fs::rename(pki.join(format!("{file}.tmp")), pki.join(file))?;
    }
    wait_for_reload(&ex, generation).await;

    pb::registry_client::RegistryClient::new(channel_for(&ex, rotated_name, ex.ca.cert_pem(), &usaf)?)
        .list_parties(pb::ListPartiesRequest::default())
        .await
        .expect("the next connection sees the new certificate");

    // The feed opened before the rotation still streams.
    exchange
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(repair_order(party::USAF)),
            request_id: "after-rotation".into(),
            ..Default::default()
        })
        .await?;
    let after = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let e = feed.next().await.expect("feed still open")?;
            if matches!(e.subject, Some(pb::event::Subject::RepairOrder(_))) {
                return Ok::<_, tonic::Status>(e.sequence);
            }
        }
    })
    .await??;
    assert!(after > before);
    Ok(())
}

#[tokio::test]
async fn a_ca_added_to_the_bundle_is_trusted_for_the_next_handshake() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|config, _, _| {
        config.tls.reload_interval = Duration::ZERO; // reload by hand, as SIGHUP does
        Ok(())
    })
    .await?;
    let running = ex.running.as_ref().expect("running");
    let next_ca = ExchangeCa::create(cosx_tests::TRUST_DOMAIN)?;
    let from_next = next_ca.issue_party(party::RAAF)?;
    let call = || async {
        pb::registry_client::RegistryClient::new(ex.channel_with(Some(&from_next), ex.ca.cert_pem()).await?)
            .list_parties(pb::ListPartiesRequest::default())
            .await
            .map_err(anyhow::Error::from)
    };
    assert!(call().await.is_err(), "a certificate from an untrusted CA was served");

    let bundle = format!("{}{}", ex.ca.cert_pem(), next_ca.cert_pem());
    std::fs::write(&ex.config.tls.client_ca, bundle)?;
    running.reload_tls()?;
    call().await.expect("the new CA's party is served after the reload");
    ex.registry(party::USAF).await?.list_parties(pb::ListPartiesRequest::default()).await?;
    Ok(())
}
