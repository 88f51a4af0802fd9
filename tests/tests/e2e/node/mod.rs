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
use cosx_tests::{TestExchange, all_orders, availability_report, capacity_offer, party, repair_order};
use tonic::transport::Channel;

type Exchange = pb::exchange_client::ExchangeClient<Channel>;

fn head(ex: &TestExchange) -> i64 {
    *ex.running.as_ref().expect("coordinator running").core.watch_head().borrow()
}

/// Waits until `node` has nothing queued and has caught up with the coordinator.
async fn settle(_ex: &TestExchange, node: &TestNode) -> anyhow::Result<pb::NodeStatus> {
    node.settled(Duration::from_secs(90)).await
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

/// A node behind a link proxy, one order of its party's created there and
/// synced, then the link cut and the coordinating office proposing the
/// order to MHI (version 1 → 2) where the node cannot see it.
struct CutOff {
    proxy: LinkProxy,
    node: TestNode,
    local: Exchange,
    order: pb::RepairOrder,
}

async fn proposed_while_cut_off(ex: &TestExchange, seed: u64, name: &str) -> anyhow::Result<CutOff> {
    let proxy = LinkProxy::start(ex.addr(), seed).await?;
    let node = ex.start_node_via(party::USAF, proxy.addr).await?;
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let order = create(&mut local, name.into()).await?;
    settle(ex, &node).await?;
    proxy.down();
    ex.exchange(party::COORDINATOR)
        .await?
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: order.name.clone(),
            version: 1,
            action: pb::RepairOrderAction::Propose as i32,
            provider: party::MHI.into(),
            ..Default::default()
        })
        .await?;
    Ok(CutOff { proxy, node, local, order })
}

#[tokio::test]
async fn local_reads_during_an_outage_return_the_last_synced_state_and_say_so() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    // The coordinator moves on while the link is down: the node cannot know.
    let CutOff { proxy, node, mut local, order } = proposed_while_cut_off(&ex, 7, "before-outage").await?;
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
    // Elsewhere: the coordinating office proposes the order to MHI (version 1 → 2).
    let CutOff { proxy, node, mut local, order } = proposed_while_cut_off(&ex, 11, "conflict-order").await?;
    // At the node, cut off: the depot cancels the version it last saw. The node accepts.
    let cancelled = cancel(&mut local, &order, "conflict-cancel".into()).await?;
    assert_eq!(cancelled.state(), pb::RepairOrderState::Cancelled);
    assert_eq!(sync_state(&cancelled), pb::SyncState::Pending);

    proxy.up();
    let status = settle(&ex, &node).await?;
    assert_eq!(status.rejected_writes, 1, "{status:?}");

    // Both sides end in the coordinator's state, and the node says why.
    let mut coordinator = ex.exchange(party::COORDINATOR).await?;
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

    let rejected = ex.rejected_writes(&node).await?;
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

/// US dollars, in minor units.
fn usd(amount_minor: i64) -> pb::Money {
    pb::Money { currency_code: "USD".into(), amount_minor }
}

/// The code and message of a call that must have been refused.
fn refusal(r: Result<impl std::fmt::Debug, tonic::Status>) -> (tonic::Code, String) {
    let status = r.expect_err("refused");
    (status.code(), status.message().to_owned())
}

mod conversation;
mod exceptions;
