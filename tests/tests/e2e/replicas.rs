//! Several coordinator replicas on one PostgreSQL database behave as one
//! coordinator: one gap-free log that every subscriber on every replica
//! follows exactly once and in order, promptly; one record per request id;
//! one winner per version; a suspension through one replica refuses the
//! party on all; aggregates count writes made through any replica.
//!
//! Needs `COSX_TEST_DATABASE_URL`; without it each test says "PostgreSQL
//! skipped" and passes (one SQLite file has one coordinator).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use cosx_coordinator::server::Running;
use cosx_coordinator::store::Viewer;
use cosx_proto::v1 as pb;
use cosx_tests::database::postgres_url;
use cosx_tests::{TestExchange, capacity_offer, party, repair_order};
use tonic::Code;
use tonic::transport::Channel;

/// A coordinator (replica A, the test exchange's own) and replica B on the same database.
async fn two_replicas() -> anyhow::Result<Option<(TestExchange, Running)>> {
    if postgres_url().is_none() {
        println!("PostgreSQL skipped: {} not set", cosx_tests::database::DATABASE_URL_VAR);
        return Ok(None);
    }
    // Alerts are judged after commits, asynchronously; these tests count
    // the log exactly, so they run without them (tests/alerts.rs covers
    // alerts with replicas).
    let ex = TestExchange::start_with(|c, _, _| {
        c.signals.alerts = false;
        Ok(())
    })
    .await?;
    let b = ex.start_replica().await?;
    Ok(Some((ex, b)))
}

async fn exchange(
    ex: &TestExchange,
    at: SocketAddr,
    party: &str,
) -> anyhow::Result<pb::exchange_client::ExchangeClient<Channel>> {
    Ok(pb::exchange_client::ExchangeClient::new(ex.channel_at(at, party).await?))
}

async fn subscribe(
    ex: &TestExchange,
    at: SocketAddr,
    party: &str,
    after: i64,
) -> anyhow::Result<tonic::Streaming<pb::Event>> {
    let mut feed = pb::feed_client::FeedClient::new(ex.channel_at(at, party).await?);
    Ok(feed
        .subscribe(pb::SubscribeRequest { after_sequence: after, kinds: vec![], ..Default::default() })
        .await?
        .into_inner())
}

async fn next_event(stream: &mut tonic::Streaming<pb::Event>, within: Duration) -> anyhow::Result<pb::Event> {
    tokio::time::timeout(within, stream.message())
        .await
        .map_err(|_| anyhow::anyhow!("no event within {within:?}"))??
        .ok_or_else(|| anyhow::anyhow!("the feed ended"))
}

async fn create_order(
    c: &mut pb::exchange_client::ExchangeClient<Channel>,
    request_id: &str,
) -> Result<pb::RepairOrder, tonic::Status> {
    c.create_repair_order(pb::CreateRepairOrderRequest {
        repair_order: Some(repair_order(party::USAF)),
        request_id: request_id.into(),
        ..Default::default()
    })
    .await
    .map(tonic::Response::into_inner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscriber_on_every_replica_sees_every_event_once_in_order() -> anyhow::Result<()> {
    let Some((ex, b)) = two_replicas().await? else { return Ok(()) };
    let replicas = [ex.addr(), b.addr];

    // Subscribers on both replicas, before, during and after the writes.
    let mut subscribers = Vec::new();
    for at in replicas {
        for who in [party::COORDINATOR, party::USAF, party::MHI] {
            subscribers.push((at, who, subscribe(&ex, at, who, 0).await?));
        }
    }

    // Writers through both replicas at once: orders by the US depot, offers by the contractor.
    const EACH: usize = 12;
    let mut writers = Vec::new();
    for (i, at) in replicas.into_iter().enumerate() {
        let mut usaf = exchange(&ex, at, party::USAF).await?;
        writers.push(tokio::spawn(async move {
            for n in 0..EACH {
                create_order(&mut usaf, &format!("w{i}-{n}")).await?;
            }
            anyhow::Ok(())
        }));
        let mut mhi = exchange(&ex, at, party::MHI).await?;
        writers.push(tokio::spawn(async move {
            for n in 0..EACH / 2 {
                mhi.create_capacity_offer(pb::CreateCapacityOfferRequest {
                    capacity_offer: Some(capacity_offer(party::MHI)),
                    request_id: format!("o{i}-{n}"),
                    ..Default::default()
                })
                .await?;
            }
            anyhow::Ok(())
        }));
    }
    for w in writers {
        w.await??;
    }

    // What each party may see, read from the database itself.
    let store = b.core.store();
    let head = store.head().await?;
    assert_eq!(head, cosx_tests::PARTIES.len() as i64 + 2 * EACH as i64 + EACH as i64);
    let late = subscribe(&ex, replicas[1], party::COORDINATOR, 0).await?;
    subscribers.push((replicas[1], party::COORDINATOR, late));
    for (at, who, mut stream) in subscribers {
        let nation = cosx_tests::PARTIES.iter().find(|p| p.0 == who).map_or("USA", |p| p.2);
        let viewer = Viewer { party: who.into(), nation: nation.into(), coordinator: who == party::COORDINATOR };
        let expected: Vec<i64> = store.events(&viewer, 0, 10_000).await?.iter().map(|e| e.entry.sequence).collect();
        if who == party::COORDINATOR {
            assert_eq!(expected, (1..=head).collect::<Vec<_>>(), "the log is gap-free");
        }
        let mut got = Vec::new();
        while got.last() != expected.last() {
            got.push(next_event(&mut stream, Duration::from_secs(10)).await?.sequence);
        }
        assert_eq!(got, expected, "{who} subscribed at {at}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_on_one_replica_gets_events_committed_through_the_other_promptly() -> anyhow::Result<()> {
    let Some((ex, b)) = two_replicas().await? else { return Ok(()) };
    let head = b.core.store().head().await?;
    let mut feed_b = subscribe(&ex, b.addr, party::USAF, head).await?;
    let mut usaf_a = exchange(&ex, ex.addr(), party::USAF).await?;
    // Let the subscription catch up and settle into waiting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for round in 0..3 {
        let sent = Instant::now();
        let order = create_order(&mut usaf_a, &format!("p{round}")).await?;
        let event = next_event(&mut feed_b, Duration::from_secs(5)).await?;
        let latency = sent.elapsed();
        match event.subject {
            Some(pb::event::Subject::RepairOrder(o)) => assert_eq!(o.name, order.name),
            other => anyhow::bail!("unexpected event {other:?}"),
        }
        // The feed's fallback timer is 1 s: well under it means the notification woke it.
        assert!(latency < Duration::from_millis(500), "round {round}: event reached replica B after {latency:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_request_id_sent_to_both_replicas_at_once_stores_one_record() -> anyhow::Result<()> {
    let Some((ex, b)) = two_replicas().await? else { return Ok(()) };
    let (mut via_a, mut via_b) =
        (exchange(&ex, ex.addr(), party::USAF).await?, exchange(&ex, b.addr, party::USAF).await?);
    const ROUNDS: usize = 8;
    for round in 0..ROUNDS {
        let id = format!("twice-{round}");
        let (a, b) = tokio::join!(create_order(&mut via_a, &id), create_order(&mut via_b, &id));
        let (a, b) = (a?, b?);
        assert_eq!(a.name, b.name, "round {round}: both replicas answer with the one stored order");
    }
    let all = exchange(&ex, b.addr, party::COORDINATOR)
        .await?
        .list_repair_orders(pb::ListRepairOrdersRequest { page_size: 1000, ..Default::default() })
        .await?
        .into_inner()
        .repair_orders;
    assert_eq!(all.len(), ROUNDS);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_transitions_on_different_replicas_let_exactly_one_win() -> anyhow::Result<()> {
    let Some((ex, b)) = two_replicas().await? else { return Ok(()) };
    let mut usaf = exchange(&ex, ex.addr(), party::USAF).await?;
    let (mut coord_a, mut coord_b) =
        (exchange(&ex, ex.addr(), party::COORDINATOR).await?, exchange(&ex, b.addr, party::COORDINATOR).await?);
    for round in 0..8 {
        let order = create_order(&mut usaf, &format!("race-{round}")).await?;
        let propose = |provider: &str| pb::TransitionRepairOrderRequest {
            name: order.name.clone(),
            version: order.version,
            action: pb::RepairOrderAction::Propose as i32,
            provider: provider.into(),
            ..Default::default()
        };
        let (a, b) = tokio::join!(
            coord_a.transition_repair_order(propose(party::MHI)),
            coord_b.transition_repair_order(propose(party::KAI))
        );
        let codes: BTreeSet<String> =
            [&a, &b].iter().map(|r| format!("{:?}", r.as_ref().map_or_else(|s| s.code(), |_| Code::Ok))).collect();
        assert_eq!(codes, BTreeSet::from(["Aborted".to_owned(), "Ok".to_owned()]), "round {round}: {a:?} {b:?}");
        let history = usaf
            .get_repair_order_history(pb::GetRepairOrderHistoryRequest { name: order.name.clone() })
            .await?
            .into_inner();
        assert_eq!(history.transitions.len(), 2, "round {round}: created, then one proposal");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspension_through_one_replica_refuses_the_party_on_the_other() -> anyhow::Result<()> {
    let Some((ex, b)) = two_replicas().await? else { return Ok(()) };
    // A party registered through A is served by B.
    let mut registry_a = pb::registry_client::RegistryClient::new(ex.channel_at(ex.addr(), party::COORDINATOR).await?);
    let newcomer = pb::Party {
        party_id: "SGP-STE-PAYALEBAR".into(),
        kind: pb::PartyKind::Contractor as i32,
        nation: "SGP".into(),
        ..Default::default()
    };
    let registered = registry_a
        .register_party(pb::RegisterPartyRequest { party: Some(newcomer), request_id: "r".into() })
        .await?
        .into_inner();
    let mut ste_b = exchange(&ex, b.addr, "SGP-STE-PAYALEBAR").await?;
    let deadline = Instant::now() + Duration::from_secs(3);
    while let Err(status) = ste_b.list_repair_orders(pb::ListRepairOrdersRequest::default()).await {
        assert_eq!(status.code(), Code::PermissionDenied);
        assert!(Instant::now() < deadline, "replica B never learned of the registration");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Suspended through A: refused by B, and its open feed on B is cut off.
    let mut feed_b = subscribe(&ex, b.addr, "SGP-STE-PAYALEBAR", 0).await?;
    let suspended_at = Instant::now();
    registry_a
        .suspend_party(pb::SuspendPartyRequest {
            name: registered.name,
            reason: "key compromise".into(),
            etag: String::new(),
        })
        .await?;
    loop {
        match ste_b.list_repair_orders(pb::ListRepairOrdersRequest::default()).await {
            Err(status) if status.code() == Code::PermissionDenied => break,
            other => {
                assert!(
                    suspended_at.elapsed() < Duration::from_secs(3),
                    "replica B still serves a suspended party: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    assert!(suspended_at.elapsed() < Duration::from_secs(1), "took {:?}", suspended_at.elapsed());
    let cut = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match feed_b.message().await {
                Ok(Some(_)) => continue,
                Ok(None) => return Code::Ok,
                Err(status) => return status.code(),
            }
        }
    })
    .await?;
    assert_eq!(cut, Code::PermissionDenied);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demand_signals_count_writes_made_through_every_replica() -> anyhow::Result<()> {
    let Some((ex, b)) = two_replicas().await? else { return Ok(()) };
    let replicas = [ex.addr(), b.addr];
    let monthly = || pb::GetDemandSignalRequest {
        basis: pb::DateBasis::RequiredBy as i32,
        granularity: pb::Granularity::Month as i32,
        ..Default::default()
    };
    let mut signals = Vec::new();
    for at in replicas {
        let mut s = pb::signals_client::SignalsClient::new(ex.channel_at(at, party::COORDINATOR).await?);
        // Ask before the writes too, so each replica's aggregate must follow the other's writes.
        s.get_demand_signal(monthly()).await?;
        signals.push(s);
    }
    let mut made = Vec::new();
    for (i, at) in replicas.into_iter().enumerate() {
        let mut usaf = exchange(&ex, at, party::USAF).await?;
        for n in 0..6 {
            made.push(create_order(&mut usaf, &format!("d{i}-{n}")).await?);
        }
    }
    // Cancel two through the replica that did not create them.
    let mut usaf_b = exchange(&ex, b.addr, party::USAF).await?;
    for o in made.iter().take(2) {
        usaf_b
            .transition_repair_order(pb::TransitionRepairOrderRequest {
                name: o.name.clone(),
                version: o.version,
                action: pb::RepairOrderAction::Cancel as i32,
                ..Default::default()
            })
            .await?;
    }
    let mut answers = Vec::new();
    for s in &mut signals {
        answers.push(s.get_demand_signal(monthly()).await?.into_inner());
    }
    assert_eq!(answers[0].orders_counted, made.len() as u64 - 2);
    assert_eq!(answers[1].orders_counted, made.len() as u64 - 2);
    let cells = |a: &pb::GetDemandSignalResponse| a.cells.iter().map(|c| format!("{c:?}")).collect::<BTreeSet<_>>();
    assert_eq!(cells(&answers[0]), cells(&answers[1]), "both replicas give the same aggregate");
    let quantity: u64 = answers[0].cells.iter().map(|c| c.quantity).sum();
    assert_eq!(quantity, made.iter().skip(2).map(|o| u64::from(o.quantity)).sum::<u64>());
    Ok(())
}
