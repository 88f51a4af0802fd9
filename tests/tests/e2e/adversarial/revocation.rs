//! Revocation and suspension: a party cut off must stop writing at once,
//! on streams it already holds open as much as on new calls.

use std::time::Duration;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, repair_order};
use tonic::Code;

#[tokio::test]
async fn a_suspended_partys_open_ingest_stream_writes_nothing_more() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::IngestRequest>(4);
    let record = |n: u32| pb::IngestRequest {
        request_id: format!("erp-{n}"),
        record: Some(pb::ingest_request::Record::RepairOrder(repair_order(party::KAI))),
        ..Default::default()
    };
    let mut results =
        ex.exchange(party::KAI).await?.ingest(tokio_stream::wrappers::ReceiverStream::new(rx)).await?.into_inner();
    tx.send(record(1)).await?;
    let first = results.message().await?.ok_or_else(|| anyhow::anyhow!("no answer"))?;
    assert_eq!(first.code, 0, "{first:?}");

    ex.registry(party::COORDINATOR)
        .await?
        .suspend_party(pb::SuspendPartyRequest { name: format!("parties/{}", party::KAI), ..Default::default() })
        .await?;
    tx.send(record(2)).await?;
    let second = tokio::time::timeout(Duration::from_secs(5), results.message()).await?;
    match second {
        Ok(Some(r)) => assert_eq!(r.code, Code::PermissionDenied as i32, "{r:?}"),
        Ok(None) => {}
        Err(status) => assert_eq!(status.code(), Code::PermissionDenied, "{status:?}"),
    }
    // Only the first record is stored.
    let listed = ex
        .exchange(party::COORDINATOR)
        .await?
        .list_repair_orders(pb::ListRepairOrdersRequest { originator: party::KAI.into(), ..Default::default() })
        .await?
        .into_inner();
    assert_eq!(listed.repair_orders.len(), 1, "{listed:?}");
    Ok(())
}

const DAYS_30: Duration = Duration::from_secs(30 * 86_400);

fn write_crl(
    ca: &cosx_certs::ExchangeCa,
    path: &std::path::Path,
    list: &cosx_certs::RevocationList,
    validity: Duration,
) -> anyhow::Result<()> {
    let pem = ca.revocation_list(&list.revoked, list.number + 1, validity)?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, pem)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

async fn wait_for_generation(current: impl Fn() -> u64, after: u64) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while current() == after {
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "the CRL change was not picked up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

#[tokio::test]
async fn a_revoked_certificate_loses_the_connection_and_the_stream_it_already_holds() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|config, ca, pki| {
        write_crl(ca, &pki.join("crl.pem"), &cosx_certs::RevocationList::default(), DAYS_30)?;
        config.tls.crls = vec![pki.join("crl.pem")];
        config.tls.reload_interval = Duration::from_millis(100);
        Ok(())
    })
    .await?;
    let stolen = ex.ca.issue_party(party::KAI)?;
    let channel = ex.channel_with(Some(&stolen), ex.ca.cert_pem()).await?;
    let mut registry = pb::registry_client::RegistryClient::new(channel.clone());
    registry.list_parties(pb::ListPartiesRequest::default()).await?;
    let mut feed = pb::feed_client::FeedClient::new(channel.clone())
        .subscribe(pb::SubscribeRequest { checkpoints: true, ..Default::default() })
        .await?
        .into_inner();

    let crl = ex.dir.path().join("pki").join("crl.pem");
    let mut list = ex.ca.read_revocation_list(&std::fs::read_to_string(&crl)?)?;
    list.revoke(&cosx_certs::serial_of(&stolen.cert_pem)?);
    let running = ex.running.as_ref().ok_or_else(|| anyhow::anyhow!("not running"))?;
    let generation = running.tls_generation();
    write_crl(&ex.ca, &crl, &list, DAYS_30)?;
    wait_for_generation(|| running.tls_generation(), generation).await?;

    // The open stream ends...
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match feed.message().await {
                Ok(Some(_)) => continue,
                other => return other.map(|_| ()),
            }
        }
    })
    .await?;
    assert!(ended.is_err(), "the feed ended with an error, not cleanly");
    // ... and the connection serves nothing more, on the same channel.
    let refused = registry.list_parties(pb::ListPartiesRequest::default()).await;
    assert!(refused.is_err(), "served after revocation on an open connection");
    // Everyone else is unaffected.
    pb::registry_client::RegistryClient::new(ex.channel(party::USAF).await?)
        .list_parties(pb::ListPartiesRequest::default())
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_crl_past_its_next_update_refuses_every_certificate_it_covers() -> anyhow::Result<()> {
    for enforce in [true, false] {
        let ex = TestExchange::start_with(|config, ca, pki| {
            // Valid from five minutes ago until now: stale by the first call.
            write_crl(ca, &pki.join("crl.pem"), &cosx_certs::RevocationList::default(), Duration::ZERO)?;
            config.tls.crls = vec![pki.join("crl.pem")];
            config.tls.enforce_crl_next_update = enforce;
            Ok(())
        })
        .await?;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let served = pb::registry_client::RegistryClient::new(ex.channel(party::USAF).await?)
            .list_parties(pb::ListPartiesRequest::default())
            .await;
        assert_eq!(served.is_ok(), !enforce, "enforce_crl_next_update = {enforce}: {served:?}");
    }
    Ok(())
}

#[tokio::test]
async fn a_node_reloads_its_crl_like_the_coordinator() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let pki = ex.dir.path().join("pki");
    let crl = pki.join("node-crl.pem");
    write_crl(&ex.ca, &crl, &cosx_certs::RevocationList::default(), DAYS_30)?;
    let mut config = ex.node_config(party::USAF, ex.addr())?;
    config.tls.crls = vec![crl.clone()];
    config.tls.reload_interval = Duration::from_millis(100);
    let node = cosx_node::start(&config).await?;
    let local = ex.ca.issue_party(party::USAF)?;
    let channel = ex.channel_to(node.addr, Some(&local), ex.ca.cert_pem()).await?;
    let mut status = pb::node_client::NodeClient::new(channel);
    status.get_status(pb::GetNodeStatusRequest {}).await?;

    let mut list = ex.ca.read_revocation_list(&std::fs::read_to_string(&crl)?)?;
    list.revoke(&cosx_certs::serial_of(&local.cert_pem)?);
    let generation = node.tls_generation();
    write_crl(&ex.ca, &crl, &list, DAYS_30)?;
    wait_for_generation(|| node.tls_generation(), generation).await?;
    assert!(status.get_status(pb::GetNodeStatusRequest {}).await.is_err(), "the revoked certificate still works");
    let fresh = ex.ca.issue_party(party::USAF)?;
    let channel = ex.channel_to(node.addr, Some(&fresh), ex.ca.cert_pem()).await?;
    pb::node_client::NodeClient::new(channel).get_status(pb::GetNodeStatusRequest {}).await?;
    node.stop().await?;
    Ok(())
}
