//! A node's webhooks: the deliverer follows the node's own `Feed.Subscribe`
//! as the node's party, and resumes when the node stops and comes back.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party};
use cosx_webhooks::{CursorStore, WebhookConfig};
use support::{Answer, Receiver, Server, eventually, identity, secret_file};
use tokio::sync::watch;

/// The sequences on the node's feed as its party, read until quiet.
async fn node_feed(ex: &TestExchange, node: &cosx_tests::node::TestNode) -> Vec<i64> {
    let channel = ex.node_channel(node).await.unwrap();
    let mut stream = pb::feed_client::FeedClient::new(channel)
        .subscribe(pb::SubscribeRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut seqs = Vec::new();
    while let Ok(next) = tokio::time::timeout(Duration::from_millis(400), stream.message()).await {
        let Some(event) = next.unwrap() else { break };
        seqs.push(event.sequence);
    }
    seqs
}

async fn start(
    hooks: Vec<WebhookConfig>,
    id: cosx_webhooks::FeedIdentity,
    db: &std::path::Path,
) -> (watch::Sender<bool>, tokio::task::JoinHandle<Result<(), cosx_webhooks::WebhookError>>) {
    let store = CursorStore::open(db).await.unwrap();
    let (stop, shutdown) = watch::channel(false);
    (stop, tokio::spawn(cosx_webhooks::run(hooks, id, store, shutdown)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nodes_webhook_follows_its_feed_and_resumes_after_the_node_restarts() {
    let ex = TestExchange::start().await.unwrap();
    let mut node = ex.start_node(party::USAF).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut id = identity(&ex, party::USAF, dir.path());
    id.endpoint = format!("https://127.0.0.1:{}", node.addr().port());
    let secret = secret_file(dir.path());
    let receiver = Receiver::default();
    receiver.plan("erp", &[Answer::Fail500]);
    let server = Server::start("127.0.0.1:0".parse().unwrap(), receiver.clone()).await;
    let hook = WebhookConfig {
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        request_timeout: Duration::from_millis(500),
        ..WebhookConfig::new("erp", server.url(), &secret)
    };
    let db = dir.path().join("webhooks.db");
    let (stop, task) = start(vec![hook.clone()], id.clone(), &db).await;
    let mut orders = pb::exchange_client::ExchangeClient::new(ex.node_channel(&node).await.unwrap());
    for _ in 0..2 {
        let o = cosx_tests::repair_order(party::USAF);
        orders
            .create_repair_order(pb::CreateRepairOrderRequest { repair_order: Some(o), ..Default::default() })
            .await
            .unwrap();
    }
    node.settled(Duration::from_secs(20)).await.unwrap();
    let expected = node_feed(&ex, &node).await;
    assert!(expected.len() >= 2, "{expected:?}");
    eventually("the node's events are delivered", || receiver.delivered("erp") == expected).await;

    // The node goes away, and its deliverer with it (they share a process);
    // meanwhile the party writes at the coordinator.
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap().unwrap();
    node.stop().await.unwrap();
    let before = receiver.arrivals("erp").len();
    let last = *receiver.delivered("erp").last().unwrap();
    for _ in 0..2 {
        ex.order_as(party::USAF, "F-35A", "2027-03-31").await.unwrap();
    }
    node.restart().await.unwrap();
    let (stop, task) = start(vec![hook], id, &db).await;
    node.settled(Duration::from_secs(20)).await.unwrap();
    let expected = node_feed(&ex, &node).await;
    eventually("deliveries resume after the node restarts", || receiver.delivered("erp") == expected).await;
    let resumed = &receiver.arrivals("erp")[before..];
    assert!(resumed[0].sequence > last, "resumed at {} after {last}: nothing resent", resumed[0].sequence);
    let created = expected.len();
    assert!(created >= 4, "{expected:?}");

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap().unwrap();
    server.stop().await;
    let arrivals = receiver.arrivals("erp");
    for pair in arrivals.windows(2) {
        assert!(pair[1].sequence >= pair[0].sequence, "reordered: {} after {}", pair[1].sequence, pair[0].sequence);
    }
    assert!(arrivals.iter().all(|a| a.verified));
}
