//! Exhaustion: no party, and no holder of a certificate from the exchange
//! CA, can take the call slots, handshake places or feed capacity the
//! registered parties need.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use cosx_proto::v1 as pb;
use cosx_tests::raw::{RawConnection, head_status, tcp_from};
use cosx_tests::{TestExchange, party};
use tokio::io::AsyncReadExt;
use tonic::Code;

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

async fn list_parties(ex: &TestExchange, who: &str) -> Result<(), tonic::Status> {
    let mut registry = ex.registry(who).await.map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    registry.list_parties(pb::ListPartiesRequest::default()).await.map(|_| ())
}

#[tokio::test]
async fn an_unregistered_certificate_holds_no_call_slot() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|config, _, _| {
        config.limits.max_concurrent_calls = 4;
        Ok(())
    })
    .await?;
    // A certificate the CA issued, for a party nobody registered.
    let stranger = ex.ca.issue_party("SGP-NOBODY")?;
    let mut raw = RawConnection::connect(LOCAL, ex.addr(), ex.ca.cert_pem(), &stranger).await?;
    for _ in 0..20 {
        let answer = raw.call_without_body("/cosx.v1.Registry/ListParties").await?;
        let code = tokio::time::timeout(Duration::from_secs(2), head_status(answer)).await??;
        assert_eq!(code, Code::PermissionDenied as i32, "refused before it could wait for a body");
    }
    list_parties(&ex, party::USAF).await?;
    Ok(())
}

#[tokio::test]
async fn a_call_whose_body_never_comes_frees_its_slot_and_one_party_cannot_take_them_all() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|config, _, _| {
        config.limits.max_concurrent_calls = 4;
        config.limits.max_concurrent_calls_per_party = 2;
        config.limits.request_message_timeout = Duration::from_millis(600);
        Ok(())
    })
    .await?;
    let kai = ex.ca.issue_party(party::KAI)?;
    let mut raw = RawConnection::connect(LOCAL, ex.addr(), ex.ca.cert_pem(), &kai).await?;
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(raw.call_without_body("/cosx.v1.Registry/ListParties").await?);
    }
    // KAI's third call finds its share taken; others are still served.
    let third = raw.call_without_body("/cosx.v1.Registry/ListParties").await?;
    let code = tokio::time::timeout(Duration::from_secs(2), head_status(third)).await??;
    assert_eq!(code, Code::ResourceExhausted as i32);
    list_parties(&ex, party::USAF).await?;
    list_parties(&ex, party::MHI).await?;
    // The calls that never sent a body are ended, and their slots freed.
    for call in held {
        let code = tokio::time::timeout(Duration::from_secs(5), head_status(call)).await??;
        assert_eq!(code, Code::DeadlineExceeded as i32);
    }
    list_parties(&ex, party::KAI).await?;
    Ok(())
}

#[tokio::test]
async fn silent_connections_from_one_address_cannot_lock_out_the_others() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|config, _, _| {
        config.limits.max_pending_handshakes = 8;
        config.limits.max_pending_handshakes_per_source = 3;
        config.limits.handshake_timeout = Duration::from_secs(30);
        Ok(())
    })
    .await?;
    // USAF has used the exchange before: its address is a known peer.
    list_parties(&ex, party::USAF).await?;
    // An attacker opens many silent connections from each of several addresses.
    let mut silent = Vec::new();
    let mut closed_at_once = 0;
    for host in 2..=6u8 {
        for _ in 0..6 {
            let mut tcp = tcp_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, host)), ex.addr()).await?;
            let mut byte = [0u8; 1];
            match tokio::time::timeout(Duration::from_millis(200), tcp.read(&mut byte)).await {
                Ok(Ok(0)) | Ok(Err(_)) => closed_at_once += 1,
                _ => silent.push(tcp),
            }
        }
    }
    assert!(silent.len() <= 6, "at most the shared pool stays pending: {}", silent.len());
    assert!(closed_at_once >= 24, "the rest were closed at once: {closed_at_once}");
    // The known peer still gets a handshake (its reserved share), and is served.
    list_parties(&ex, party::MHI).await?;
    drop(silent);
    Ok(())
}

#[tokio::test]
async fn one_party_cannot_hold_more_than_its_share_of_feed_subscriptions() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|config, _, _| {
        config.limits.max_subscriptions_per_party = 3;
        Ok(())
    })
    .await?;
    let mut feed = ex.feed(party::KAI).await?;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(feed.subscribe(pb::SubscribeRequest::default()).await?.into_inner());
    }
    let refused = feed.subscribe(pb::SubscribeRequest::default()).await.expect_err("a fourth subscription");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    // Another party is not affected.
    ex.feed(party::MHI).await?.subscribe(pb::SubscribeRequest::default()).await?;
    // Closing one frees its place.
    drop(open.pop());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match feed.subscribe(pb::SubscribeRequest::default()).await {
            Ok(_) => break,
            Err(e) if e.code() == Code::ResourceExhausted && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
