//! No identity, no service: every refusal the security model promises.

use cosx_certs::{ExchangeCa, LeafSpec, party_uri};
use cosx_proto::v1 as pb;
use cosx_tests::{TRUST_DOMAIN, TestExchange, capacity_offer, party, repair_order};
use tonic::Code;

async fn list_as(
    ex: &TestExchange,
    channel: tonic::transport::Channel,
) -> Result<pb::ListRepairOrdersResponse, tonic::Status> {
    let _ = ex;
    pb::exchange_client::ExchangeClient::new(channel)
        .list_repair_orders(pb::ListRepairOrdersRequest::default())
        .await
        .map(|r| r.into_inner())
}

/// A refusal either ends the handshake (no status at all) or answers with `code`.
fn refused(result: Result<pb::ListRepairOrdersResponse, tonic::Status>, code: Code) {
    match result {
        Ok(_) => panic!("the call was served"),
        Err(status) => assert!(
            status.code() == code || status.code() == Code::Unavailable || status.code() == Code::Unknown,
            "unexpected {status:?}"
        ),
    }
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let channel = ex.channel_with(None, ex.ca.cert_pem()).await?;
    refused(list_as(&ex, channel).await, Code::Unauthenticated);
    Ok(())
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let rogue = ExchangeCa::create(TRUST_DOMAIN)?.issue_party(party::USAF)?;
    let channel = ex.channel_with(Some(&rogue), ex.ca.cert_pem()).await?;
    refused(list_as(&ex, channel).await, Code::Unauthenticated);
    Ok(())
}

#[tokio::test]
async fn an_expired_certificate_is_refused() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let now = time::OffsetDateTime::now_utc();
    let expired = ex.issue(&LeafSpec {
        uris: vec![party_uri(TRUST_DOMAIN, party::USAF)],
        not_before: now - time::Duration::days(30),
        not_after: now - time::Duration::days(1),
        ..LeafSpec::default()
    })?;
    let channel = ex.channel_with(Some(&expired), ex.ca.cert_pem()).await?;
    refused(list_as(&ex, channel).await, Code::Unauthenticated);
    Ok(())
}

#[tokio::test]
async fn a_certificate_with_two_uri_sans_is_refused() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let two = ex.issue(&LeafSpec {
        uris: vec![party_uri(TRUST_DOMAIN, party::USAF), party_uri(TRUST_DOMAIN, party::MHI)],
        ..LeafSpec::default()
    })?;
    let channel = ex.channel_with(Some(&two), ex.ca.cert_pem()).await?;
    let status = list_as(&ex, channel).await.expect_err("served");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains("2 URI SANs"), "{}", status.message());
    Ok(())
}

#[tokio::test]
async fn a_certificate_for_another_trust_domain_is_refused() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let foreign = ex.issue(&LeafSpec { uris: vec![party_uri("other.example", party::USAF)], ..LeafSpec::default() })?;
    let channel = ex.channel_with(Some(&foreign), ex.ca.cert_pem()).await?;
    let status = list_as(&ex, channel).await.expect_err("served");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    Ok(())
}

#[tokio::test]
async fn the_ca_certificate_presented_as_a_client_certificate_is_refused() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let ca_as_client = cosx_certs::Issued { cert_pem: ex.ca.cert_pem().to_owned(), key_pem: ex.ca.key_pem() };
    let channel = ex.channel_with(Some(&ca_as_client), ex.ca.cert_pem()).await?;
    refused(list_as(&ex, channel).await, Code::Unauthenticated);
    Ok(())
}

#[tokio::test]
async fn an_unregistered_party_is_denied() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let channel = ex.channel("SGP-STE-PAYALEBAR").await?;
    let status = list_as(&ex, channel).await.expect_err("served");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("not registered"));
    Ok(())
}

#[tokio::test]
async fn a_registered_party_cannot_write_as_another_party() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut kai = ex.exchange(party::KAI).await?;
    let status = kai
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(repair_order(party::USAF)),
            request_id: "x".into(),
            ..Default::default()
        })
        .await
        .expect_err("wrote as another party");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = kai
        .create_capacity_offer(pb::CreateCapacityOfferRequest {
            capacity_offer: Some(capacity_offer(party::MHI)),
            request_id: "y".into(),
            ..Default::default()
        })
        .await
        .expect_err("offered as another party");
    assert_eq!(status.code(), Code::PermissionDenied);
    // And nothing was stored.
    let coordinator_view = ex
        .exchange(party::COORDINATOR)
        .await?
        .list_repair_orders(pb::ListRepairOrdersRequest::default())
        .await?
        .into_inner();
    assert!(coordinator_view.repair_orders.is_empty());
    Ok(())
}

#[tokio::test]
async fn only_a_coordinator_registers_and_suspends_parties_and_suspension_takes_effect_at_once() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let newcomer = pb::Party {
        party_id: "SGP-STE-PAYALEBAR".into(),
        kind: pb::PartyKind::Contractor as i32,
        nation: "SGP".into(),
        ..Default::default()
    };
    let status = ex
        .registry(party::MHI)
        .await?
        .register_party(pb::RegisterPartyRequest { party: Some(newcomer.clone()), request_id: "r".into() })
        .await
        .expect_err("a contractor registered a party");
    assert_eq!(status.code(), Code::PermissionDenied);

    let mut registry = ex.registry(party::COORDINATOR).await?;
    let registered = registry
        .register_party(pb::RegisterPartyRequest { party: Some(newcomer), request_id: "r".into() })
        .await?
        .into_inner();
    assert_eq!(registered.name, "parties/SGP-STE-PAYALEBAR");
    let mut ste = ex.exchange("SGP-STE-PAYALEBAR").await?;
    ste.list_repair_orders(pb::ListRepairOrdersRequest::default()).await?;

    registry
        .suspend_party(pb::SuspendPartyRequest {
            name: registered.name,
            reason: "key compromise".into(),
            etag: String::new(),
        })
        .await?;
    let status =
        ste.list_repair_orders(pb::ListRepairOrdersRequest::default()).await.expect_err("a suspended party was served");
    assert_eq!(status.code(), Code::PermissionDenied);
    Ok(())
}
