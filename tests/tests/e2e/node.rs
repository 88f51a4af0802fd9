//! Party nodes (store and forward): a node keeps accepting its party's work
//! while the coordinator is unreachable, delivers every write exactly once
//! when the link is back, reports what the coordinator refused, and serves
//! reads from its replica saying how fresh they are. Real nodes, real
//! coordinator, real mTLS on loopback; a TCP proxy in between cuts the link.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use cosx_proto::v1 as pb;
use cosx_tests::node::{LinkProxy, TestNode};
use cosx_tests::{TestExchange, availability_report, capacity_offer, party, repair_order};
use tonic::transport::Channel;

type Exchange = pb::exchange_client::ExchangeClient<Channel>;

fn head(ex: &TestExchange) -> i64 {
    *ex.running.as_ref().expect("coordinator running").core.watch_head().borrow()
}

/// Waits until `node` has nothing queued and has caught up with the coordinator.
async fn settle(_ex: &TestExchange, node: &TestNode) -> anyhow::Result<pb::NodeStatus> {
    node.settled(Duration::from_secs(90)).await
}

async fn all_orders(client: &mut Exchange, originator: &str) -> anyhow::Result<Vec<pb::RepairOrder>> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_repair_orders(pb::ListRepairOrdersRequest {
                page_size: 1000,
                page_token: token,
                originator: originator.into(),
                ..Default::default()
            })
            .await?
            .into_inner();
        out.extend(page.repair_orders);
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        token = page.next_page_token;
    }
}

fn sync_state(order: &pb::RepairOrder) -> pb::SyncState {
    order.sync.as_ref().map_or(pb::SyncState::Unspecified, |s| s.state())
}

async fn create(client: &mut Exchange, request_id: String) -> anyhow::Result<pb::RepairOrder> {
    Ok(client
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(repair_order(party::USAF)),
            request_id,
            ..Default::default()
        })
        .await?
        .into_inner())
}

async fn cancel(client: &mut Exchange, order: &pb::RepairOrder, request_id: String) -> anyhow::Result<pb::RepairOrder> {
    Ok(client
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: order.name.clone(),
            version: order.version,
            action: pb::RepairOrderAction::Cancel as i32,
            reason: "no longer needed".into(),
            request_id,
            ..Default::default()
        })
        .await?
        .into_inner())
}

/// One party's writes of mixed kinds: per group of five, two orders, the
/// cancellation of the first, a report, and an offer or another report.
async fn mixed_writes(mut client: Exchange, task: usize, groups: usize) -> anyhow::Result<Vec<String>> {
    let mut orders = Vec::new();
    for g in 0..groups {
        let id = |k: usize| format!("w-{task}-{g}-{k}");
        let a = create(&mut client, id(0)).await?;
        let b = create(&mut client, id(1)).await?;
        let cancelled = cancel(&mut client, &a, id(2)).await?;
        assert_eq!(cancelled.state(), pb::RepairOrderState::Cancelled);
        client
            .submit_availability_report(pb::SubmitAvailabilityReportRequest {
                availability_report: Some(availability_report(party::USAF)),
                request_id: id(3),
                ..Default::default()
            })
            .await?;
        if g % 2 == 0 {
            client
                .create_capacity_offer(pb::CreateCapacityOfferRequest {
                    capacity_offer: Some(capacity_offer(party::USAF)),
                    request_id: id(4),
                    ..Default::default()
                })
                .await?;
        } else {
            client
                .submit_availability_report(pb::SubmitAvailabilityReportRequest {
                    availability_report: Some(availability_report(party::USAF)),
                    request_id: id(4),
                    ..Default::default()
                })
                .await?;
        }
        orders.extend([a.name, b.name]);
    }
    Ok(orders)
}

#[tokio::test]
async fn a_node_takes_1000_writes_while_the_coordinator_is_down_and_delivers_each_exactly_once() -> anyhow::Result<()> {
    let mut ex = TestExchange::start().await?;
    let addr = ex.addr();
    ex.stop().await?;
    ex.config.listen = addr;
    let node = ex.start_node(party::USAF).await?;
    let channel = ex.node_channel(&node).await?;

    // 8 systems × 25 groups × 5 = 1,000 writes, every one answered by the node alone.
    let accepting = Instant::now();
    let tasks: Vec<_> = (0..8).map(|t| tokio::spawn(mixed_writes(Exchange::new(channel.clone()), t, 25))).collect();
    let mut answered = BTreeSet::new();
    for t in tasks {
        answered.extend(t.await??);
    }
    assert_eq!(answered.len(), 400);
    eprintln!("1000 writes accepted by the node in {:?}", accepting.elapsed());
    let status = node.status().await?;
    assert_eq!(status.queued_writes, 1000, "{status:?}");
    assert!(!status.upstream_connected);
    assert!(status.oldest_queued_age_seconds > 0.0);

    // Local reads work and say the link is down.
    let mut local = Exchange::new(channel.clone());
    let first = answered.iter().next().unwrap().clone();
    let read = local.get_repair_order(pb::GetRepairOrderRequest { name: first.clone() }).await?;
    assert_eq!(read.metadata().get("cosx-upstream").unwrap(), "disconnected");
    assert_eq!(sync_state(read.get_ref()), pb::SyncState::Pending);

    ex.restart().await?;
    let reconnected = Instant::now();
    let status = settle(&ex, &node).await?;
    eprintln!("1000 queued writes delivered and replica caught up in {:?}", reconnected.elapsed());
    assert_eq!((status.delivered_writes, status.rejected_writes), (1000, 0), "{status:?}");

    let mut coordinator = ex.exchange(party::USAF).await?;
    let stored = all_orders(&mut coordinator, party::USAF).await?;
    let names: BTreeSet<String> = stored.iter().map(|o| o.name.clone()).collect();
    assert_eq!(names, answered, "the coordinator holds exactly the orders the node answered with");
    let cancelled = stored.iter().filter(|o| o.state() == pb::RepairOrderState::Cancelled).count();
    assert_eq!(cancelled, 200);
    let reports = coordinator
        .list_availability_reports(pb::ListAvailabilityReportsRequest {
            page_size: 1000,
            include_superseded: true,
            reporter: party::USAF.into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    // Per system: 25 reports, plus one in each of the 12 odd groups; offers in the 13 even ones.
    assert_eq!(reports.availability_reports.len(), 8 * (25 + 12));
    let offers = coordinator
        .list_capacity_offers(pb::ListCapacityOffersRequest {
            page_size: 1000,
            provider: party::USAF.into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(offers.capacity_offers.len(), 8 * 13);

    // The node's replica now holds the coordinator's versions.
    let read = local.get_repair_order(pb::GetRepairOrderRequest { name: first }).await?;
    assert_eq!(read.metadata().get("cosx-upstream").unwrap(), "connected");
    assert_eq!(sync_state(read.get_ref()), pb::SyncState::Synced);
    assert_eq!(read.get_ref().state(), pb::RepairOrderState::Cancelled);
    Ok(())
}

#[tokio::test]
async fn local_reads_during_an_outage_return_the_last_synced_state_and_say_so() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let proxy = LinkProxy::start(ex.addr(), 7).await?;
    let node = ex.start_node_via(party::USAF, proxy.addr).await?;
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let order = create(&mut local, "before-outage".into()).await?;
    settle(&ex, &node).await?;

    // The coordinator moves on while the link is down: the node cannot know.
    proxy.down();
    let mut coordinator = ex.exchange(party::COORDINATOR).await?;
    coordinator
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: order.name.clone(),
            version: 1,
            action: pb::RepairOrderAction::Propose as i32,
            provider: party::MHI.into(),
            ..Default::default()
        })
        .await?;
    let synced_before = node.status().await?.synced_sequence;
    let read = local.get_repair_order(pb::GetRepairOrderRequest { name: order.name.clone() }).await?;
    let meta = read.metadata();
    assert_eq!(meta.get("cosx-synced-sequence").unwrap().to_str()?, synced_before.to_string());
    assert!(meta.get("cosx-synced-at").is_some());
    let deadline = Instant::now() + Duration::from_secs(30);
    while node.status().await?.upstream_connected {
        anyhow::ensure!(Instant::now() < deadline, "node never noticed the link was down");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let read = local.get_repair_order(pb::GetRepairOrderRequest { name: order.name.clone() }).await?;
    assert_eq!(read.metadata().get("cosx-upstream").unwrap(), "disconnected");
    assert_eq!(read.get_ref().state(), pb::RepairOrderState::Submitted, "last synced state");
    assert_eq!(sync_state(read.get_ref()), pb::SyncState::Synced);
    let list = local.list_repair_orders(pb::ListRepairOrdersRequest::default()).await?;
    assert_eq!(list.get_ref().repair_orders.len(), 1);
    assert_eq!(list.metadata().get("cosx-upstream").unwrap(), "disconnected");

    proxy.up();
    settle(&ex, &node).await?;
    let read = local.get_repair_order(pb::GetRepairOrderRequest { name: order.name }).await?;
    assert_eq!(read.get_ref().state(), pb::RepairOrderState::Proposed);
    Ok(())
}

#[tokio::test]
async fn a_conflicting_transition_made_at_a_node_is_reported_back_as_rejected() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let proxy = LinkProxy::start(ex.addr(), 11).await?;
    let node = ex.start_node_via(party::USAF, proxy.addr).await?;
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let order = create(&mut local, "conflict-order".into()).await?;
    settle(&ex, &node).await?;

    proxy.down();
    // Elsewhere: the coordinating office proposes the order to MHI (version 1 → 2).
    let mut coordinator = ex.exchange(party::COORDINATOR).await?;
    coordinator
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: order.name.clone(),
            version: 1,
            action: pb::RepairOrderAction::Propose as i32,
            provider: party::MHI.into(),
            ..Default::default()
        })
        .await?;
    // At the node, cut off: the depot cancels the version it last saw. The node accepts.
    let cancelled = cancel(&mut local, &order, "conflict-cancel".into()).await?;
    assert_eq!(cancelled.state(), pb::RepairOrderState::Cancelled);
    assert_eq!(sync_state(&cancelled), pb::SyncState::Pending);

    proxy.up();
    let status = settle(&ex, &node).await?;
    assert_eq!(status.rejected_writes, 1, "{status:?}");

    // Both sides end in the coordinator's state, and the node says why.
    let at_coordinator =
        coordinator.get_repair_order(pb::GetRepairOrderRequest { name: order.name.clone() }).await?.into_inner();
    assert_eq!(at_coordinator.state(), pb::RepairOrderState::Proposed);
    let at_node = local.get_repair_order(pb::GetRepairOrderRequest { name: order.name.clone() }).await?.into_inner();
    assert_eq!((at_node.state(), at_node.version), (pb::RepairOrderState::Proposed, 2));
    let sync = at_node.sync.unwrap();
    assert_eq!(sync.state(), pb::SyncState::Rejected);
    assert_eq!(sync.rejection_code, "ABORTED");
    assert_eq!(sync.rejected_request_id, "conflict-cancel");
    assert!(sync.rejection_message.contains("version"), "{}", sync.rejection_message);

    let mut status_client = pb::node_client::NodeClient::new(ex.node_channel(&node).await?);
    let rejected = status_client
        .list_writes(pb::ListWritesRequest { state: pb::WriteState::Rejected as i32, ..Default::default() })
        .await?
        .into_inner()
        .writes;
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        (rejected[0].method.as_str(), rejected[0].request_id.as_str()),
        ("TransitionRepairOrder", "conflict-cancel")
    );
    Ok(())
}

#[tokio::test]
async fn a_link_that_drops_connections_at_random_loses_and_duplicates_nothing_either_way() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let proxy = LinkProxy::start(ex.addr(), 23).await?;
    let node = ex.start_node_via(party::USAF, proxy.addr).await?;
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    proxy.flaky(true);

    // Node → coordinator: the depot's orders. Coordinator → node: the office
    // proposes some of them, and the feed must bring each step back.
    let mut coordinator = ex.exchange(party::COORDINATOR).await?;
    let mut names = Vec::new();
    for i in 0..150 {
        names.push(create(&mut local, format!("flaky-{i}")).await?.name);
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut proposed = BTreeSet::new();
    while proposed.len() < 50 {
        if Instant::now() > deadline {
            let writes = pb::node_client::NodeClient::new(ex.node_channel(&node).await?)
                .list_writes(pb::ListWritesRequest { page_size: 5, ..Default::default() })
                .await?
                .into_inner()
                .writes;
            anyhow::bail!("orders never reached the coordinator: {:?}\n{writes:#?}", node.status().await?);
        }
        for name in &names[..50] {
            if proposed.contains(name) {
                continue;
            }
            let done = coordinator
                .transition_repair_order(pb::TransitionRepairOrderRequest {
                    name: name.clone(),
                    version: 1,
                    action: pb::RepairOrderAction::Propose as i32,
                    provider: party::MHI.into(),
                    request_id: format!("propose-{name}"),
                    ..Default::default()
                })
                .await;
            if done.is_ok() {
                proposed.insert(name.clone());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    settle(&ex, &node).await?;
    proxy.flaky(false);
    assert!(proxy.cut_count.load(std::sync::atomic::Ordering::Relaxed) > 0, "the proxy never cut a connection");

    let stored = all_orders(&mut coordinator, party::USAF).await?;
    assert_eq!(stored.len(), 150, "every order exactly once at the coordinator");
    let at_node = all_orders(&mut local, party::USAF).await?;
    assert_eq!(at_node.len(), 150);
    for order in &at_node {
        let expect = if proposed.contains(&order.name) {
            pb::RepairOrderState::Proposed
        } else {
            pb::RepairOrderState::Submitted
        };
        assert_eq!(order.state(), expect, "{}", order.name);
        assert_eq!(sync_state(order), pb::SyncState::Synced);
    }

    // The node's copy of the feed is the coordinator's feed for this party: each event once, none missing.
    let theirs = feed_sequences(pb::feed_client::FeedClient::new(ex.channel(party::USAF).await?), head(&ex)).await?;
    let ours = feed_sequences(pb::feed_client::FeedClient::new(ex.node_channel(&node).await?), head(&ex)).await?;
    assert_eq!(ours, theirs);
    assert!(ours.len() >= 150 + 50);
    Ok(())
}

/// Sequences of every event a feed sends, up to the first at or past `until`
/// (or until it goes quiet).
async fn feed_sequences(mut feed: pb::feed_client::FeedClient<Channel>, until: i64) -> anyhow::Result<Vec<i64>> {
    let mut stream = feed.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    let mut out = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(2), stream.message()).await {
            Ok(Ok(Some(event))) => {
                out.push(event.sequence);
                if event.sequence >= until {
                    break;
                }
            }
            Ok(Ok(None)) | Err(_) => break,
            Ok(Err(status)) => return Err(status.into()),
        }
    }
    Ok(out)
}

#[tokio::test]
async fn a_node_serves_only_its_own_party() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let node = ex.start_node(party::USAF).await?;
    let other = ex.ca.issue_party(party::MHI)?;
    let mut stranger = Exchange::new(ex.channel_to(node.addr(), Some(&other), ex.ca.cert_pem()).await?);
    let refused = stranger.list_repair_orders(pb::ListRepairOrdersRequest::default()).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    assert!(refused.message().contains(party::USAF), "{}", refused.message());

    // And a write as another party is refused before it reaches the outbox.
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let refused = local
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(repair_order(party::MHI)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    // Bad input gets the coordinator's own field errors, and nothing is queued.
    let mut bad = repair_order(party::USAF);
    bad.quantity = 0;
    let refused = local
        .create_repair_order(pb::CreateRepairOrderRequest { repair_order: Some(bad), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(cosx_tests::violated_fields(&refused).contains(&"repair_order.quantity".to_owned()));
    assert_eq!(node.status().await?.queued_writes, 0);
    Ok(())
}

#[tokio::test]
async fn a_repeated_request_id_at_a_node_is_answered_once_and_forwarded_once() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let node = ex.start_node(party::USAF).await?;
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let first = create(&mut local, "same-key".into()).await?;
    let again = create(&mut local, "same-key".into()).await?;
    assert_eq!(first.name, again.name);
    let mut other = repair_order(party::USAF);
    other.quantity = 7;
    let clash = local
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(other),
            request_id: "same-key".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(clash.code(), tonic::Code::AlreadyExists);
    settle(&ex, &node).await?;
    let mut coordinator = ex.exchange(party::USAF).await?;
    assert_eq!(all_orders(&mut coordinator, party::USAF).await?.len(), 1);

    // A split made at the node names its parts as the coordinator does.
    let split = local
        .split_repair_order(pb::SplitRepairOrderRequest {
            name: first.name.clone(),
            version: 1,
            quantities: vec![1, first.quantity - 1],
            request_id: "split-1".into(),
        })
        .await?
        .into_inner();
    settle(&ex, &node).await?;
    for part in &split.parts {
        let there = coordinator.get_repair_order(pb::GetRepairOrderRequest { name: part.name.clone() }).await?;
        assert_eq!(there.get_ref().quantity, part.quantity);
    }
    Ok(())
}

#[tokio::test]
async fn a_node_forgets_delivered_writes_past_its_outbox_retention_and_keeps_their_effect() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut config = ex.node_config(party::USAF, ex.addr())?;
    config.outbox_retention = Duration::from_secs(1);
    let node = ex.start_node_from(party::USAF, config).await?;
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let mut status = pb::node_client::NodeClient::new(ex.node_channel(&node).await?);
    let order = create(&mut local, "forgotten-later".into()).await?;
    settle(&ex, &node).await?;
    let writes = |state: pb::WriteState| pb::ListWritesRequest { state: state as i32, ..Default::default() };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !status.list_writes(writes(pb::WriteState::Delivered)).await?.into_inner().writes.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the delivered write is still in the outbox");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The record stays, as the coordinator has it.
    let kept = local.get_repair_order(pb::GetRepairOrderRequest { name: order.name.clone() }).await?.into_inner();
    assert_eq!((kept.version, kept.state), (order.version, order.state));
    assert_eq!(sync_state(&kept), pb::SyncState::Synced);
    // Later writes are forwarded as before.
    let later = create(&mut local, "after-the-window".into()).await?;
    settle(&ex, &node).await?;
    let mut coordinator = ex.exchange(party::USAF).await?;
    let names: Vec<String> = all_orders(&mut coordinator, party::USAF).await?.into_iter().map(|o| o.name).collect();
    assert_eq!(names, vec![order.name.clone(), later.name]);
    // A request id repeated after the window is new to the node, but not to
    // the coordinator, which keeps request ids for good: it is refused there
    // (and shown refused at the node), never stored twice.
    create(&mut local, "forgotten-later".into()).await?;
    settle(&ex, &node).await?;
    let refused = status.list_writes(writes(pb::WriteState::Rejected)).await?.into_inner().writes;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].error_code, "ALREADY_EXISTS", "{refused:?}");
    assert_eq!(all_orders(&mut coordinator, party::USAF).await?.len(), 2);
    Ok(())
}

/// One command of the differential test, as a party sends it.
#[derive(Debug, Clone)]
enum Command {
    CreateOrder(usize),
    Propose(usize, &'static str),
    Step(&'static str, usize, pb::RepairOrderAction),
    CreateOffer(usize),
    UpdateOffer(&'static str, usize, i64),
    WithdrawOffer(&'static str, usize, i64),
    ListOrders(&'static str, i32),
    ListOffers(&'static str, i32),
}

/// An answer reduced to what must agree: the code, and for records their
/// name, version, state and provider.
type Answer = Result<Vec<(String, i64, i32, String)>, tonic::Code>;

fn order_answer(o: &pb::RepairOrder) -> (String, i64, i32, String) {
    (o.name.clone(), o.version, o.state, o.provider.clone())
}

fn offer_answer(o: &pb::CapacityOffer) -> (String, i64, i32, String) {
    (o.name.clone(), o.version, o.state, o.provider.clone())
}

/// Plays `command` on `client` (the coordinator, or the sender's node).
async fn play(client: &mut Exchange, command: &Command, versions: &std::collections::HashMap<String, i64>) -> Answer {
    let name = |kind: &str, owner: &str, n: usize| format!("{kind}/{owner}.x-{n}");
    let version_of = |name: &str| versions.get(name).copied().unwrap_or(1);
    let result = match command.clone() {
        Command::CreateOrder(n) => client
            .create_repair_order(pb::CreateRepairOrderRequest {
                repair_order: Some(repair_order(party::USAF)),
                request_id: String::new(),
                repair_order_id: format!("x-{n}"),
            })
            .await
            .map(|r| vec![order_answer(r.get_ref())]),
        Command::Propose(n, provider) => {
            let name = name("repairOrders", party::USAF, n);
            client
                .transition_repair_order(pb::TransitionRepairOrderRequest {
                    version: version_of(&name),
                    name,
                    action: pb::RepairOrderAction::Propose as i32,
                    provider: provider.into(),
                    ..Default::default()
                })
                .await
                .map(|r| vec![order_answer(r.get_ref())])
        }
        Command::Step(_, n, action) => {
            let name = name("repairOrders", party::USAF, n);
            client
                .transition_repair_order(pb::TransitionRepairOrderRequest {
                    version: version_of(&name),
                    name,
                    action: action as i32,
                    reason: "differential".into(),
                    ..Default::default()
                })
                .await
                .map(|r| vec![order_answer(r.get_ref())])
        }
        Command::CreateOffer(n) => {
            let mut offer = capacity_offer(party::MHI);
            offer.releasability = Some(pb::Releasability { party_ids: vec![party::KAI.into()], nations: vec![] });
            client
                .create_capacity_offer(pb::CreateCapacityOfferRequest {
                    capacity_offer: Some(offer),
                    request_id: String::new(),
                    capacity_offer_id: format!("x-{n}"),
                })
                .await
                .map(|r| vec![offer_answer(r.get_ref())])
        }
        Command::UpdateOffer(who, n, skew) => {
            let name = name("capacityOffers", party::MHI, n);
            let mut offer = capacity_offer(who);
            offer.name = name.clone();
            offer.version = version_of(&name) + skew;
            offer.lead_time_days = 21;
            client
                .update_capacity_offer(pb::UpdateCapacityOfferRequest {
                    capacity_offer: Some(offer),
                    request_id: String::new(),
                })
                .await
                .map(|r| vec![offer_answer(r.get_ref())])
        }
        Command::WithdrawOffer(_, n, skew) => {
            let name = name("capacityOffers", party::MHI, n);
            client
                .withdraw_capacity_offer(pb::WithdrawCapacityOfferRequest {
                    version: version_of(&name) + skew,
                    name,
                    request_id: String::new(),
                    ..Default::default()
                })
                .await
                .map(|r| vec![offer_answer(r.get_ref())])
        }
        Command::ListOrders(_, page_size) => client
            .list_repair_orders(pb::ListRepairOrdersRequest { page_size, ..Default::default() })
            .await
            .map(|r| r.get_ref().repair_orders.iter().map(order_answer).collect()),
        Command::ListOffers(_, page_size) => client
            .list_capacity_offers(pb::ListCapacityOffersRequest { page_size, ..Default::default() })
            .await
            .map(|r| r.get_ref().capacity_offers.iter().map(offer_answer).collect()),
    };
    result.map_err(|s| s.code())
}

fn sender(command: &Command) -> &'static str {
    match command {
        Command::CreateOrder(_) => party::USAF,
        Command::Propose(..) => party::COORDINATOR,
        Command::CreateOffer(_) => party::MHI,
        Command::Step(who, ..)
        | Command::UpdateOffer(who, ..)
        | Command::WithdrawOffer(who, ..)
        | Command::ListOrders(who, _)
        | Command::ListOffers(who, _) => who,
    }
}

/// The differential test: the same random commands, sent to a coordinator
/// directly and, on a second exchange, through each party's own node, get
/// the same answers: a node applies the coordinator's write rules, from the
/// same code, so it never accepts what the coordinator refuses (or the
/// reverse). `COSX_DIFF_SEED` replays a sequence.
#[tokio::test]
async fn a_node_and_the_coordinator_answer_the_same_commands_alike() -> anyhow::Result<()> {
    let seed: u64 = std::env::var("COSX_DIFF_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5EED_C05A);
    println!("COSX_DIFF_SEED={seed}");
    let direct = TestExchange::start().await?;
    let noded = TestExchange::start().await?;
    let mut nodes = Vec::new();
    for p in [party::USAF, party::MHI, party::KAI] {
        nodes.push(noded.start_node(p).await?);
    }
    let mut state = seed | 1;
    let mut next = move |below: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    };
    let providers = [party::MHI, party::KAI];
    let actions = [pb::RepairOrderAction::Accept, pb::RepairOrderAction::Decline, pb::RepairOrderAction::Induct];
    let mut commands = vec![Command::CreateOrder(0), Command::CreateOffer(0)];
    for _ in 0..34 {
        let (orders, offers) = (3, 2);
        let who = providers[next(2) as usize];
        commands.push(match next(8) {
            0 => Command::CreateOrder(next(orders) as usize),
            1 => Command::Propose(next(orders) as usize, who),
            2 => Command::Step(who, next(orders) as usize, actions[next(3) as usize]),
            3 => Command::CreateOffer(next(offers) as usize),
            4 => Command::UpdateOffer(who, next(offers) as usize, next(2) as i64),
            5 => Command::WithdrawOffer(who, next(offers) as usize, next(2) as i64),
            6 => Command::ListOrders(who, [-1, 0, 1, 2000][next(4) as usize]),
            _ => Command::ListOffers(who, [-1, 0, 1, 2000][next(4) as usize]),
        });
    }
    let mut versions = std::collections::HashMap::new();
    for (i, command) in commands.iter().enumerate() {
        let from = sender(command);
        let mut at_coordinator = direct.exchange(from).await?;
        let mut at_node = match nodes.iter().find(|n| n.party == from) {
            Some(node) => Exchange::new(noded.node_channel(node).await?),
            None => noded.exchange(from).await?,
        };
        let expected = play(&mut at_coordinator, command, &versions).await;
        let got = play(&mut at_node, command, &versions).await;
        assert_eq!(got, expected, "command {i} {command:?} (COSX_DIFF_SEED={seed})");
        if let Ok(records) = &expected
            && !matches!(command, Command::ListOrders(..) | Command::ListOffers(..))
        {
            for (name, version, ..) in records {
                versions.insert(name.clone(), *version);
            }
        }
        // Every node holds everything before the next command.
        for node in &nodes {
            let status = node.settled(Duration::from_secs(30)).await?;
            assert_eq!(status.rejected_writes, 0, "the coordinator refused what a node accepted: {command:?}");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Repair exceptions through a node: queued while the link is cut, forwarded
// once, refused ones kept as rejections, and the node's own lifecycle check
// knowing the open exceptions its replica holds.

type Exceptions = pb::repair_exceptions_client::RepairExceptionsClient<Channel>;

fn usd(amount_minor: i64) -> pb::Money {
    pb::Money { currency_code: "USD".into(), amount_minor }
}

/// An order of the Air Force's, proposed to MHI and in work there (straight
/// at the coordinator).
async fn in_work_with_mhi(ex: &TestExchange) -> anyhow::Result<pb::RepairOrder> {
    let mut usaf = ex.exchange(party::USAF).await?;
    let request = pb::CreateRepairOrderRequest { repair_order: Some(repair_order(party::USAF)), ..Default::default() };
    let mut order = usaf.create_repair_order(request).await?.into_inner();
    let steps = [
        (party::COORDINATOR, pb::RepairOrderAction::Propose),
        (party::MHI, pb::RepairOrderAction::Accept),
        (party::MHI, pb::RepairOrderAction::Induct),
        (party::MHI, pb::RepairOrderAction::StartWork),
    ];
    for (who, action) in steps {
        let provider = if action == pb::RepairOrderAction::Propose { party::MHI.into() } else { String::new() };
        order = ex
            .exchange(who)
            .await?
            .transition_repair_order(pb::TransitionRepairOrderRequest {
                name: order.name.clone(),
                version: order.version,
                action: action as i32,
                provider,
                ..Default::default()
            })
            .await?
            .into_inner();
    }
    Ok(order)
}

fn raise(order: &str, kind: pb::RepairExceptionKind, request_id: &str) -> pb::RaiseExceptionRequest {
    pb::RaiseExceptionRequest {
        parent: order.into(),
        kind: kind as i32,
        new_estimate: (kind == pb::RepairExceptionKind::CostOverEstimate).then(|| usd(21_000_000)),
        text: "Teardown found corrosion beyond limits on the trunnion.".into(),
        request_id: request_id.into(),
        ..Default::default()
    }
}

/// COMPLETE on `order` by `client`, at the version that client reads.
async fn complete(client: &mut Exchange, order: &str) -> Result<pb::RepairOrder, tonic::Status> {
    let version = client.get_repair_order(pb::GetRepairOrderRequest { name: order.into() }).await?.into_inner().version;
    client
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: order.into(),
            version,
            action: pb::RepairOrderAction::Complete as i32,
            progress: Some(pb::WorkProgress { actual_completion_date: "2027-02-18".into(), ..Default::default() }),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner())
}

fn refusal(r: Result<impl std::fmt::Debug, tonic::Status>) -> (tonic::Code, String) {
    let status = r.expect_err("refused");
    (status.code(), status.message().to_owned())
}

/// The coordinator's REPAIR_EXCEPTION_* events about `order`, as (kind, exception name), read until quiet.
async fn exception_events(ex: &TestExchange, order: &str) -> anyhow::Result<Vec<(i32, String)>> {
    let mut stream = ex.feed(party::COORDINATOR).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    let mut out = Vec::new();
    while let Ok(next) = tokio::time::timeout(Duration::from_millis(400), stream.message()).await {
        let Some(e) = next? else { break };
        if let Some(x) = e.repair_exception.as_ref().filter(|x| x.repair_order == order) {
            out.push((e.kind, x.name.clone()));
        }
    }
    Ok(out)
}

#[tokio::test]
async fn a_node_queues_an_exception_while_the_link_is_cut_and_refuses_to_complete_while_one_is_open()
-> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let order = in_work_with_mhi(&ex).await?;
    let proxy = LinkProxy::start(ex.addr(), 23).await?;
    let node = ex.start_node_via(party::MHI, proxy.addr).await?;
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let mut local_exceptions = Exceptions::new(ex.node_channel(&node).await?);
    let mut direct = ex.exchange(party::MHI).await?;
    let mut direct_exceptions = Exceptions::new(ex.channel(party::MHI).await?);

    // Raised straight at the coordinator: the node learns it from the feed,
    // and refuses COMPLETE as the coordinator does, with the same words.
    let first = direct_exceptions.raise_exception(raise(&order.name, pb::RepairExceptionKind::Scrap, "")).await?;
    assert_eq!(first.get_ref().name, format!("{}/exceptions/1", order.name));
    settle(&ex, &node).await?;
    let at_node = refusal(complete(&mut local, &order.name).await);
    assert_eq!(at_node.0, tonic::Code::FailedPrecondition, "{at_node:?}");
    assert!(at_node.1.contains("exceptions/1"), "{at_node:?}");
    assert_eq!(at_node, refusal(complete(&mut direct, &order.name).await));
    assert_eq!(node.status().await?.queued_writes, 0, "a refused step is not queued");

    proxy.down();
    // A bad field is refused at the node as the coordinator refuses it.
    let mut bad = raise(&order.name, pb::RepairExceptionKind::CostOverEstimate, "bad-raise");
    bad.new_estimate = Some(usd(-5));
    let at_node = refusal(local_exceptions.raise_exception(bad.clone()).await);
    assert_eq!(at_node.0, tonic::Code::InvalidArgument);
    assert!(at_node.1.contains("new_estimate"), "{at_node:?}");
    assert_eq!(at_node, refusal(direct_exceptions.raise_exception(bad).await));

    // Cut off, the provider raises a second one at its node: answered once
    // it is queued, named as the coordinator will number it.
    let second = raise(&order.name, pb::RepairExceptionKind::CostOverEstimate, "raise-at-node");
    let raised = local_exceptions.raise_exception(second.clone()).await?.into_inner();
    assert_eq!(raised.name, format!("{}/exceptions/2", order.name));
    assert_eq!(raised.state(), pb::RepairExceptionState::Open);
    assert_eq!(
        local_exceptions.raise_exception(second.clone()).await?.into_inner(),
        raised,
        "a repeat is answered alike"
    );
    let status = node.status().await?;
    assert_eq!(status.queued_writes, 1, "{status:?}");
    // The order moved one version at the node, and shows it pending.
    let pending = local.get_repair_order(pb::GetRepairOrderRequest { name: order.name.clone() }).await?.into_inner();
    assert_eq!((pending.version, sync_state(&pending)), (order.version + 2, pb::SyncState::Pending));
    // COMPLETE is still refused at the node, cut off.
    assert_eq!(refusal(complete(&mut local, &order.name).await).0, tonic::Code::FailedPrecondition);
    // Reads of exceptions pass through: UNAVAILABLE while the link is cut.
    let listed = local_exceptions
        .list_exceptions(pb::ListExceptionsRequest { parent: order.name.clone(), ..Default::default() })
        .await;
    assert_eq!(listed.unwrap_err().code(), tonic::Code::Unavailable);

    proxy.up();
    let status = settle(&ex, &node).await?;
    assert_eq!((status.rejected_writes, status.queued_writes), (0, 0), "{status:?}");
    // At the coordinator: exactly one more exception, the node's, once.
    let there = direct_exceptions
        .list_exceptions(pb::ListExceptionsRequest { parent: order.name.clone(), ..Default::default() })
        .await?
        .into_inner()
        .exceptions;
    assert_eq!(there.len(), 2, "{there:?}");
    assert_eq!((there[1].name.as_str(), there[1].kind), (raised.name.as_str(), raised.kind));
    let raised_kind = pb::EventKind::RepairExceptionRaised as i32;
    let events = exception_events(&ex, &order.name).await?;
    assert_eq!(
        events,
        vec![(raised_kind, first.get_ref().name.clone()), (raised_kind, raised.name.clone())],
        "each raise once"
    );
    let synced = local.get_repair_order(pb::GetRepairOrderRequest { name: order.name.clone() }).await?.into_inner();
    assert_eq!((synced.version, sync_state(&synced)), (order.version + 2, pb::SyncState::Synced));
    Ok(())
}

#[tokio::test]
async fn an_exception_answer_the_coordinator_refuses_later_is_kept_as_a_rejected_write() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let order = in_work_with_mhi(&ex).await?;
    let raised = Exceptions::new(ex.channel(party::MHI).await?)
        .raise_exception(raise(&order.name, pb::RepairExceptionKind::CostOverEstimate, ""))
        .await?
        .into_inner();
    let proxy = LinkProxy::start(ex.addr(), 29).await?;
    let node = ex.start_node_via(party::USAF, proxy.addr).await?;
    settle(&ex, &node).await?;
    let mut local = Exceptions::new(ex.node_channel(&node).await?);

    proxy.down();
    // The owner approves at its node, cut off; the node accepts (and would
    // refuse a second answer to the same exception itself).
    let approve = |request_id: &str| pb::AnswerExceptionRequest {
        name: raised.name.clone(),
        decision: pb::answer_exception_request::Decision::Approve as i32,
        reason: String::new(),
        request_id: request_id.into(),
    };
    let approved = local.answer_exception(approve("approve-at-node")).await?.into_inner();
    assert_eq!(approved.state(), pb::RepairExceptionState::Approved);
    let twice = refusal(local.answer_exception(approve("approve-again")).await);
    assert_eq!(twice.0, tonic::Code::FailedPrecondition, "{twice:?}");
    // Meanwhile the owner's other system rejects it straight at the coordinator.
    Exceptions::new(ex.channel(party::USAF).await?)
        .answer_exception(pb::AnswerExceptionRequest {
            name: raised.name.clone(),
            decision: pb::answer_exception_request::Decision::Reject as i32,
            reason: "not at that price".into(),
            request_id: "reject-direct".into(),
        })
        .await?;

    proxy.up();
    let status = settle(&ex, &node).await?;
    assert_eq!(status.rejected_writes, 1, "{status:?}");
    let mut status_client = pb::node_client::NodeClient::new(ex.node_channel(&node).await?);
    let rejected = status_client
        .list_writes(pb::ListWritesRequest { state: pb::WriteState::Rejected as i32, ..Default::default() })
        .await?
        .into_inner()
        .writes;
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(
        (rejected[0].method.as_str(), rejected[0].request_id.as_str(), rejected[0].error_code.as_str()),
        ("AnswerException", "approve-at-node", "FAILED_PRECONDITION")
    );
    assert!(rejected[0].error_message.contains("REJECTED"), "{rejected:?}");
    // The order shows the refusal, in the coordinator's version.
    let mut exchange = Exchange::new(ex.node_channel(&node).await?);
    let at_node = exchange.get_repair_order(pb::GetRepairOrderRequest { name: order.name.clone() }).await?.into_inner();
    let sync = at_node.sync.clone().unwrap_or_default();
    assert_eq!((sync.state(), sync.rejected_request_id.as_str()), (pb::SyncState::Rejected, "approve-at-node"));
    let there =
        ex.exchange(party::USAF).await?.get_repair_order(pb::GetRepairOrderRequest { name: order.name }).await?;
    assert_eq!(at_node.version, there.get_ref().version);
    // At the coordinator the exception stays rejected: the node's approval never landed.
    let events = exception_events(&ex, &raised.repair_order).await?;
    let kinds: Vec<i32> = events.iter().map(|e| e.0).collect();
    assert_eq!(kinds, vec![pb::EventKind::RepairExceptionRaised as i32, pb::EventKind::RepairExceptionRejected as i32]);
    Ok(())
}

#[tokio::test]
async fn a_node_restarted_after_forgetting_delivered_writes_still_delivers_what_was_queued() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let proxy = LinkProxy::start(ex.addr(), 31).await?;
    let mut config = ex.node_config(party::USAF, proxy.addr)?;
    config.outbox_retention = Duration::from_secs(1);
    let mut node = ex.start_node_from(party::USAF, config).await?;
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let delivered = create(&mut local, "delivered-then-forgotten".into()).await?;
    settle(&ex, &node).await?;

    proxy.down();
    let queued = create(&mut local, "queued-across-the-restart".into()).await?;
    // The delivered write is forgotten; the queued one is not, however old.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = node.status().await?;
        if status.delivered_writes == 0 {
            assert_eq!(status.queued_writes, 1, "{status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the delivered write was never forgotten: {status:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(node.status().await?.queued_writes, 1, "a queued write outlives the retention");

    node.restart().await?;
    let status = node.status().await?;
    assert_eq!((status.queued_writes, status.delivered_writes), (1, 0), "{status:?}");
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let kept = local.get_repair_order(pb::GetRepairOrderRequest { name: queued.name.clone() }).await?.into_inner();
    assert_eq!(sync_state(&kept), pb::SyncState::Pending);
    // Its request id is still the node's to answer (it keeps a queued write's answer).
    assert_eq!(create(&mut local, "queued-across-the-restart".into()).await?.name, queued.name);

    proxy.up();
    let status = settle(&ex, &node).await?;
    assert_eq!(status.rejected_writes, 0, "{status:?}");
    let mut coordinator = ex.exchange(party::USAF).await?;
    let names: Vec<String> = all_orders(&mut coordinator, party::USAF).await?.into_iter().map(|o| o.name).collect();
    assert_eq!(names, vec![delivered.name, queued.name], "each once");
    Ok(())
}

// ---------------------------------------------------------------------------
// The rest of the repair conversation through a node: quotes, comments and
// disruption notices queued while the link is cut and forwarded once;
// adversarial ones refused at the node, with nothing queued; and the order a
// provider is asked to quote on shown by its own node while the quote is open.

type Quotes = pb::quotes_client::QuotesClient<Channel>;
type Comments = pb::comments_client::CommentsClient<Channel>;
type Disruptions = pb::disruptions_client::DisruptionsClient<Channel>;
type Updates = pb::update_requests_client::UpdateRequestsClient<Channel>;

use super::quotes::fields;

fn final_terms(amount_minor: i64, valid_until: chrono::NaiveDate) -> pb::QuoteTerms {
    pb::QuoteTerms {
        kind: pb::QuoteKind::Final as i32,
        price: Some(usd(amount_minor)),
        turnaround_days: 30,
        process: pb::RepairProcess::Overhaul as i32,
        valid_until: valid_until.to_string(),
        conditions: String::new(),
    }
}

fn in_days(days: i64) -> chrono::NaiveDate {
    chrono::Utc::now().date_naive() + chrono::Duration::days(days)
}

fn comment(parent: &str, text: &str, request_id: &str) -> pb::AddCommentRequest {
    pb::AddCommentRequest {
        parent: parent.into(),
        content: Some(pb::CommentContent {
            comment_type: pb::CommentType::Information as i32,
            reference_dates: vec![],
            text: text.into(),
        }),
        request_id: request_id.into(),
        demand_cell: None,
    }
}

fn notice(site: &str, request_id: &str) -> pb::DeclareDisruptionRequest {
    pb::DeclareDisruptionRequest {
        disruption: Some(pb::Disruption {
            site: site.into(),
            cause: pb::DisruptionCause::NaturalDisaster as i32,
            capacity_reduction_percent: 50,
            start_date: in_days(1).to_string(),
            expected_end_date: in_days(20).to_string(),
            text: "Typhoon: hangar 3 roof lost".into(),
            ..Default::default()
        }),
        request_id: request_id.into(),
    }
}

/// The coordinator's events of `kind`, by subject name, read until quiet.
async fn events_of(ex: &TestExchange, kind: pb::EventKind) -> anyhow::Result<Vec<String>> {
    use pb::event::Subject;
    let mut stream = ex.feed(party::COORDINATOR).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    let mut out = Vec::new();
    while let Ok(next) = tokio::time::timeout(Duration::from_millis(400), stream.message()).await {
        let Some(e) = next? else { break };
        if e.kind != kind as i32 {
            continue;
        }
        out.push(match &e.subject {
            Some(Subject::Quote(q)) => q.name.clone(),
            Some(Subject::Comment(c)) => c.name.clone(),
            Some(Subject::Disruption(d)) => d.name.clone(),
            Some(Subject::UpdateRequest(u)) => u.name.clone(),
            _ => String::new(),
        });
    }
    Ok(out)
}

async fn order_at(client: &mut Exchange, name: &str) -> Result<pb::RepairOrder, tonic::Status> {
    client.get_repair_order(pb::GetRepairOrderRequest { name: name.into() }).await.map(|r| r.into_inner())
}

#[tokio::test]
async fn a_providers_node_queues_its_quote_a_comment_a_disruption_and_an_update_request_cut_off_each_arriving_once()
-> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let offer = ex
        .exchange(party::MHI)
        .await?
        .create_capacity_offer(pb::CreateCapacityOfferRequest {
            capacity_offer: Some(capacity_offer(party::MHI)),
            ..Default::default()
        })
        .await?
        .into_inner();
    let site = offer.site.clone().unwrap_or_default().name;
    let mut usaf = ex.exchange(party::USAF).await?;
    let asked_order = create(&mut usaf, String::new()).await?;
    let hidden = create(&mut usaf, String::new()).await?;
    let proxy = LinkProxy::start(ex.addr(), 37).await?;
    let node = ex.start_node_via(party::MHI, proxy.addr).await?;
    settle(&ex, &node).await?;
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let (mut local_quotes, mut local_comments, mut local_disruptions) = (
        Quotes::new(ex.node_channel(&node).await?),
        Comments::new(ex.node_channel(&node).await?),
        Disruptions::new(ex.node_channel(&node).await?),
    );
    let mut direct_quotes = Quotes::new(ex.channel(party::MHI).await?);
    let mut direct_comments = Comments::new(ex.channel(party::MHI).await?);
    let mut direct_disruptions = Disruptions::new(ex.channel(party::MHI).await?);
    assert_eq!(order_at(&mut local, &asked_order.name).await.unwrap_err().code(), tonic::Code::NotFound);

    // Asked to quote, MHI's own node shows the order, as the coordinator does.
    let asked = Quotes::new(ex.channel(party::USAF).await?)
        .request_quotes(pb::RequestQuotesRequest {
            name: asked_order.name.clone(),
            providers: vec![party::MHI.into()],
            ..Default::default()
        })
        .await?
        .into_inner()
        .quotes
        .remove(0);
    settle(&ex, &node).await?;
    let shown = order_at(&mut local, &asked_order.name).await?;
    assert_eq!(shown.version, order_at(&mut ex.exchange(party::MHI).await?, &asked_order.name).await?.version);
    let listed: Vec<String> = all_orders(&mut local, "").await?.into_iter().map(|o| o.name).collect();
    assert_eq!(listed, vec![asked_order.name.clone()], "only the order it was asked about");

    proxy.down();
    // Adversarial writes are refused at the node, as the coordinator refuses
    // them, and nothing is queued.
    let kai_quote = format!("{}/quotes/{}", asked_order.name, party::KAI);
    let forged = pb::SubmitQuoteRequest {
        name: kai_quote.clone(),
        terms: Some(final_terms(100_000, in_days(30))),
        version: 1,
        request_id: "forged-quote".into(),
    };
    let at_node = refusal(local_quotes.submit_quote(forged.clone()).await);
    assert_eq!(at_node.0, tonic::Code::NotFound, "a quote it was not asked for: {at_node:?}");
    assert!(at_node.1.contains(&kai_quote), "{at_node:?}");
    assert_eq!(at_node, refusal(direct_quotes.submit_quote(forged).await));
    let unasked = format!("{}/quotes/{}", hidden.name, party::MHI);
    let sneak = pb::SubmitQuoteRequest {
        name: unasked.clone(),
        terms: Some(final_terms(100_000, in_days(30))),
        version: 1,
        request_id: "unasked-quote".into(),
    };
    assert_eq!(refusal(local_quotes.submit_quote(sneak).await).0, tonic::Code::NotFound, "never asked");
    let stale = pb::SubmitQuoteRequest {
        name: asked.name.clone(),
        terms: Some(final_terms(100_000, in_days(-1))),
        version: asked.version,
        request_id: "lapsed-quote".into(),
    };
    let lapsed = local_quotes.submit_quote(stale).await.expect_err("refused");
    assert_eq!((lapsed.code(), fields(&lapsed)), (tonic::Code::InvalidArgument, vec!["terms.valid_until".into()]));
    let on_hidden = refusal(local_comments.add_comment(comment(&hidden.name, "Where is it?", "c-hidden")).await);
    assert_eq!(on_hidden.0, tonic::Code::NotFound, "a record it cannot see: {on_hidden:?}");
    assert!(on_hidden.1.contains(&hidden.name), "{on_hidden:?}");
    assert_eq!(on_hidden, refusal(direct_comments.add_comment(comment(&hidden.name, "Where is it?", "c-h2")).await));
    let blank = local_comments.add_comment(comment(&asked_order.name, "  ", "c-blank")).await.expect_err("refused");
    assert_eq!(fields(&blank), vec!["content.text".to_owned()], "{blank:?}");
    let elsewhere = local_disruptions.declare_disruption(notice("Sacheon Plant 2", "d-elsewhere")).await;
    let elsewhere = elsewhere.expect_err("not its site");
    assert_eq!((elsewhere.code(), fields(&elsewhere)), (tonic::Code::InvalidArgument, vec!["disruption.site".into()]));
    let others = pb::ResolveDisruptionRequest {
        name: format!("disruptions/{}.x", party::KAI),
        resolution: "fixed".into(),
        version: 1,
        request_id: "d-others".into(),
    };
    assert_eq!(refusal(local_disruptions.resolve_disruption(others).await).0, tonic::Code::NotFound);
    let ask_update = |record: &str, request_id: &str| pb::RequestUpdateRequest {
        record: record.into(),
        missing_report: None,
        text: "Is the serial right?".into(),
        request_id: request_id.into(),
    };
    let mut local_updates = Updates::new(ex.node_channel(&node).await?);
    let unseen = refusal(local_updates.request_update(ask_update(&hidden.name, "u-hidden")).await);
    assert_eq!(unseen.0, tonic::Code::NotFound, "{unseen:?}");
    let missing = pb::RequestUpdateRequest {
        record: String::new(),
        missing_report: Some(pb::MissingReport { party: party::USAF.into(), month: "2026-01".into(), tms: vec![] }),
        text: String::new(),
        request_id: "u-missing".into(),
    };
    let not_j4 = refusal(local_updates.request_update(missing).await);
    assert_eq!(not_j4.0, tonic::Code::PermissionDenied, "only a coordinator asks for a missing report: {not_j4:?}");
    assert_eq!(node.status().await?.queued_writes, 0, "nothing refused is queued");

    // Cut off, MHI quotes, comments and declares at its node: each answered once queued.
    let submit = pb::SubmitQuoteRequest {
        name: asked.name.clone(),
        terms: Some(final_terms(9_000_000, in_days(30))),
        version: asked.version,
        request_id: "quote-at-node".into(),
    };
    let quoted = local_quotes.submit_quote(submit.clone()).await?.into_inner();
    assert_eq!((quoted.state(), quoted.version), (pb::QuoteState::Quoted, asked.version + 1));
    assert_eq!(local_quotes.submit_quote(submit.clone()).await?.into_inner(), quoted, "a repeat is answered alike");
    let said = local_comments
        .add_comment(comment(&asked_order.name, "Slot free from the 3rd.", "comment-at-node"))
        .await?
        .into_inner();
    assert_eq!(said.author, party::MHI);
    let declared = local_disruptions.declare_disruption(notice(&site, "notice-at-node")).await?.into_inner();
    assert_eq!((declared.provider.as_str(), declared.state()), (party::MHI, pb::DisruptionState::Active));
    let update = local_updates.request_update(ask_update(&asked_order.name, "update-at-node")).await?.into_inner();
    assert_eq!((update.addressee.as_str(), update.record_version), (party::USAF, shown.version));
    assert_eq!(node.status().await?.queued_writes, 4);
    // The quote shows the order still to MHI's node, cut off.
    assert!(order_at(&mut local, &asked_order.name).await.is_ok());

    proxy.up();
    let status = settle(&ex, &node).await?;
    assert_eq!((status.rejected_writes, status.queued_writes), (0, 0), "{status:?}");
    // Retried at the node after delivery: still the node's first answer, nothing new upstream.
    assert_eq!(local_quotes.submit_quote(submit).await?.into_inner(), quoted);
    let there = direct_quotes.get_quote(pb::GetQuoteRequest { name: asked.name.clone() }).await?.into_inner();
    assert_eq!((there.state(), there.version, there.terms), (pb::QuoteState::Quoted, quoted.version, quoted.terms));
    let comments = direct_comments
        .list_comments(pb::ListCommentsRequest { parent: asked_order.name.clone(), ..Default::default() })
        .await?
        .into_inner()
        .comments;
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!(comments[0].name, said.name, "the node named it as the coordinator did");
    assert_eq!(comments[0].content.as_ref().map(|c| c.text.as_str()), Some("Slot free from the 3rd."));
    let notices = direct_disruptions.list_disruptions(pb::ListDisruptionsRequest::default()).await?.into_inner();
    assert_eq!(notices.disruptions.len(), 1, "{notices:?}");
    assert_eq!(
        (notices.disruptions[0].site.as_str(), notices.disruptions[0].name.as_str()),
        (site.as_str(), declared.name.as_str())
    );
    assert_eq!(events_of(&ex, pb::EventKind::QuoteSubmitted).await?, vec![asked.name.clone()], "once");
    assert_eq!(events_of(&ex, pb::EventKind::CommentAdded).await?, vec![comments[0].name.clone()], "once");
    let updates = Updates::new(ex.channel(party::USAF).await?)
        .list_update_requests(pb::ListUpdateRequestsRequest::default())
        .await?
        .into_inner()
        .update_requests;
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0].name, update.name);
    assert_eq!((updates[0].requester.as_str(), updates[0].record.as_str()), (party::MHI, asked_order.name.as_str()));
    assert_eq!(events_of(&ex, pb::EventKind::UpdateRequested).await?, vec![updates[0].name.clone()], "once");
    assert_eq!(
        events_of(&ex, pb::EventKind::DisruptionDeclared).await?,
        vec![notices.disruptions[0].name.clone()],
        "once"
    );

    // The owner cancels: the quote closes, and MHI's node hides the order again.
    let now = order_at(&mut usaf, &asked_order.name).await?;
    cancel(&mut usaf, &now, String::new()).await?;
    settle(&ex, &node).await?;
    assert_eq!(order_at(&mut local, &asked_order.name).await.unwrap_err().code(), tonic::Code::NotFound);
    assert!(all_orders(&mut local, "").await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn an_owners_node_asks_for_and_accepts_a_quote_cut_off_and_the_order_is_proposed_at_the_quoted_price()
-> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let order = create(&mut usaf, String::new()).await?;
    let proxy = LinkProxy::start(ex.addr(), 41).await?;
    let node = ex.start_node_via(party::USAF, proxy.addr).await?;
    settle(&ex, &node).await?;
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let mut local_quotes = Quotes::new(ex.node_channel(&node).await?);

    proxy.down();
    let ask = |providers: Vec<String>, request_id: &str| pb::RequestQuotesRequest {
        name: order.name.clone(),
        providers,
        all_eligible: false,
        request_id: request_id.into(),
    };
    // Its own order is no one's to quote on for itself; named twice is refused by field.
    let own = local_quotes.request_quotes(ask(vec![party::USAF.into()], "ask-self")).await.expect_err("refused");
    assert_eq!(fields(&own), vec!["providers[0]".to_owned()], "{own:?}");
    let twice =
        local_quotes.request_quotes(ask(vec![party::MHI.into(), party::MHI.into()], "ask-twice")).await.expect_err("x");
    assert_eq!(fields(&twice), vec!["providers[1]".to_owned()], "{twice:?}");
    assert_eq!(node.status().await?.queued_writes, 0);
    let asked = local_quotes.request_quotes(ask(vec![party::MHI.into()], "ask-at-node")).await?.into_inner().quotes;
    assert_eq!(asked.len(), 1);
    assert_eq!(
        (asked[0].name.clone(), asked[0].state()),
        (format!("{}/quotes/{}", order.name, party::MHI), pb::QuoteState::Requested)
    );
    // Not yet answered: the node refuses to accept it, as the coordinator would.
    let early = pb::AcceptQuoteRequest { name: asked[0].name.clone(), version: 1, request_id: "accept-early".into() };
    assert_eq!(refusal(local_quotes.accept_quote(early).await).0, tonic::Code::FailedPrecondition);

    proxy.up();
    settle(&ex, &node).await?;
    let mut mhi = Quotes::new(ex.channel(party::MHI).await?);
    let request = mhi.get_quote(pb::GetQuoteRequest { name: asked[0].name.clone() }).await?.into_inner();
    let quoted = mhi
        .submit_quote(pb::SubmitQuoteRequest {
            name: request.name.clone(),
            terms: Some(final_terms(7_500_000, in_days(30))),
            version: request.version,
            request_id: String::new(),
        })
        .await?
        .into_inner();
    settle(&ex, &node).await?;

    proxy.down();
    let accept = pb::AcceptQuoteRequest {
        name: quoted.name.clone(),
        version: quoted.version,
        request_id: "accept-at-node".into(),
    };
    let done = local_quotes.accept_quote(accept.clone()).await?.into_inner();
    let proposed = done.repair_order.clone().unwrap_or_default();
    assert_eq!((proposed.state(), proposed.provider.as_str()), (pb::RepairOrderState::Proposed, party::MHI));
    assert_eq!(proposed.funding.as_ref().and_then(|f| f.estimated_cost.clone()), Some(usd(7_500_000)));
    assert_eq!(sync_state(&order_at(&mut local, &order.name).await?), pb::SyncState::Pending);

    proxy.up();
    let status = settle(&ex, &node).await?;
    assert_eq!((status.rejected_writes, status.queued_writes), (0, 0), "{status:?}");
    let there = order_at(&mut usaf, &order.name).await?;
    assert_eq!((there.state(), there.provider.as_str()), (pb::RepairOrderState::Proposed, party::MHI));
    assert_eq!(there.funding.and_then(|f| f.estimated_cost), Some(usd(7_500_000)));
    assert_eq!(events_of(&ex, pb::EventKind::QuoteRequested).await?, vec![asked[0].name.clone()], "asked once");
    let accepted = events_of(&ex, pb::EventKind::QuoteAccepted).await?;
    assert_eq!(accepted.len(), 1, "accepted once: {accepted:?}");
    Ok(())
}

#[tokio::test]
async fn a_node_edits_withdraws_updates_resolves_and_answers_cut_off_by_the_same_rules_and_forwards_each_once()
-> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    // MHI's offer, released to the Air Force (which comments on it and asks for a newer version).
    let mut released = capacity_offer(party::MHI);
    released.releasability = Some(pb::Releasability { party_ids: vec![party::USAF.into()], nations: vec![] });
    let offer = ex
        .exchange(party::MHI)
        .await?
        .create_capacity_offer(pb::CreateCapacityOfferRequest { capacity_offer: Some(released), ..Default::default() })
        .await?
        .into_inner();
    let site = offer.site.clone().unwrap_or_default().name;
    let (mut mhi_comments, mut usaf_comments) =
        (Comments::new(ex.channel(party::MHI).await?), Comments::new(ex.channel(party::USAF).await?));
    let mine = mhi_comments.add_comment(comment(&offer.name, "Surge possible in May.", "")).await?.into_inner();
    let theirs = usaf_comments.add_comment(comment(&offer.name, "Is May firm?", "")).await?.into_inner();
    let mut mhi_disruptions = Disruptions::new(ex.channel(party::MHI).await?);
    let notice = mhi_disruptions.declare_disruption(notice(&site, "")).await?.into_inner();
    let asked = Updates::new(ex.channel(party::USAF).await?)
        .request_update(pb::RequestUpdateRequest {
            record: offer.name.clone(),
            missing_report: None,
            text: "Please extend the validity.".into(),
            request_id: String::new(),
        })
        .await?
        .into_inner();
    let proxy = LinkProxy::start(ex.addr(), 43).await?;
    let node = ex.start_node_via(party::MHI, proxy.addr).await?;
    settle(&ex, &node).await?;
    let mut local_comments = Comments::new(ex.node_channel(&node).await?);
    let mut local_disruptions = Disruptions::new(ex.node_channel(&node).await?);
    let mut local_updates = Updates::new(ex.node_channel(&node).await?);

    proxy.down();
    let content = |text: &str| {
        Some(pb::CommentContent {
            comment_type: pb::CommentType::Warning as i32,
            reference_dates: vec![],
            text: text.into(),
        })
    };
    // Another party's comment, a notice moved to another site, a request it did not make: refused, nothing queued.
    let edit_theirs = pb::EditCommentRequest {
        name: theirs.name.clone(),
        content: content("May is firm."),
        version: theirs.version,
        request_id: "edit-theirs".into(),
    };
    let at_node = refusal(local_comments.edit_comment(edit_theirs.clone()).await);
    assert_eq!(at_node.0, tonic::Code::PermissionDenied, "{at_node:?}");
    assert_eq!(at_node, refusal(mhi_comments.edit_comment(edit_theirs).await), "as the coordinator refuses it");
    let moved = pb::UpdateDisruptionRequest {
        disruption: Some(pb::Disruption { site: "Nagoya".into(), ..notice.clone() }),
        request_id: "moved".into(),
    };
    let err = local_disruptions.update_disruption(moved).await.expect_err("refused");
    assert_eq!(fields(&err), vec!["disruption.site".to_owned()], "{err:?}");
    let withdraw_theirs =
        pb::WithdrawUpdateRequestRequest { name: asked.name.clone(), version: asked.version, request_id: "w".into() };
    assert_eq!(refusal(local_updates.withdraw_update_request(withdraw_theirs).await).0, tonic::Code::PermissionDenied);
    assert_eq!(node.status().await?.queued_writes, 0, "nothing refused is queued");

    // Its own: edited then withdrawn, the notice updated then resolved, the request answered.
    let edited = local_comments
        .edit_comment(pb::EditCommentRequest {
            name: mine.name.clone(),
            content: content("Surge possible from mid-May."),
            version: mine.version,
            request_id: "edit-mine".into(),
        })
        .await?
        .into_inner();
    assert_eq!((edited.version, edited.earlier_versions.len()), (2, 1));
    let withdrawn = local_comments
        .withdraw_comment(pb::WithdrawCommentRequest {
            name: mine.name.clone(),
            version: edited.version,
            request_id: "withdraw-mine".into(),
        })
        .await?
        .into_inner();
    assert_eq!((withdrawn.state(), withdrawn.version), (pb::CommentState::Withdrawn, 3));
    let updated = local_disruptions
        .update_disruption(pb::UpdateDisruptionRequest {
            disruption: Some(pb::Disruption { capacity_reduction_percent: 80, ..notice.clone() }),
            request_id: "update-notice".into(),
        })
        .await?
        .into_inner();
    assert_eq!((updated.version, updated.capacity_reduction_percent), (2, 80));
    let resolved = local_disruptions
        .resolve_disruption(pb::ResolveDisruptionRequest {
            name: notice.name.clone(),
            resolution: "Roof repaired.".into(),
            version: updated.version,
            request_id: "resolve-notice".into(),
        })
        .await?
        .into_inner();
    assert_eq!((resolved.state(), resolved.version), (pb::DisruptionState::Resolved, 3));
    let answered = local_updates
        .answer_update_request(pb::AnswerUpdateRequestRequest {
            name: asked.name.clone(),
            answer: "A new version follows in June.".into(),
            version: asked.version,
            request_id: "answer-update".into(),
        })
        .await?
        .into_inner();
    assert_eq!(answered.state(), pb::UpdateRequestState::Answered);
    assert_eq!(node.status().await?.queued_writes, 5);

    proxy.up();
    let status = settle(&ex, &node).await?;
    assert_eq!((status.rejected_writes, status.queued_writes), (0, 0), "{status:?}");
    let there = mhi_comments.get_comment(pb::GetCommentRequest { name: mine.name.clone() }).await?.into_inner();
    assert_eq!((there.state(), there.version), (pb::CommentState::Withdrawn, 3));
    let there = mhi_disruptions.get_disruption(pb::GetDisruptionRequest { name: notice.name.clone() }).await?;
    let there = there.into_inner();
    assert_eq!(
        (there.state(), there.version, there.capacity_reduction_percent),
        (pb::DisruptionState::Resolved, 3, 80)
    );
    let there = Updates::new(ex.channel(party::USAF).await?)
        .get_update_request(pb::GetUpdateRequestRequest { name: asked.name.clone() })
        .await?
        .into_inner();
    assert_eq!(
        (there.state(), there.answer.as_str()),
        (pb::UpdateRequestState::Answered, "A new version follows in June.")
    );
    for (kind, name) in [
        (pb::EventKind::CommentEdited, &mine.name),
        (pb::EventKind::CommentWithdrawn, &mine.name),
        (pb::EventKind::DisruptionUpdated, &notice.name),
        (pb::EventKind::DisruptionResolved, &notice.name),
        (pb::EventKind::UpdateRequestAnswered, &asked.name),
    ] {
        assert_eq!(events_of(&ex, kind).await?, vec![name.clone()], "{kind:?} once");
    }
    Ok(())
}
