//! `cosx.v1.Webhooks` over gRPC and HTTP/JSON, on a real node and a real
//! coordinator: the parked delivery a failing receiver caused is listed and
//! released by the party it belongs to, and only by it; another party can
//! neither see nor release it, and bad requests name the field and change
//! nothing.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use cosx_proto::v1 as pb;
use cosx_proto::v1::webhooks_client::WebhooksClient;
use cosx_tests::{TestExchange, http_json, party};
use cosx_webhooks::{CursorStore, FeedIdentity, WebhookConfig, list_parked, store_path_beside};
use http::Method;
use support::{Answer, Receiver, Server, eventually, identity, secret_file};
use tokio::sync::watch;
use tonic::Code;

fn webhook(url: &str, secret: &std::path::Path) -> WebhookConfig {
    WebhookConfig {
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        request_timeout: Duration::from_millis(500),
        retry_poll: Duration::from_millis(100),
        max_attempts: 2,
        ..WebhookConfig::new("erp", url, secret)
    }
}

type Deliverer = (watch::Sender<bool>, tokio::task::JoinHandle<Result<(), cosx_webhooks::WebhookError>>);

async fn deliver(hook: WebhookConfig, id: FeedIdentity, store: &std::path::Path) -> Deliverer {
    let store = CursorStore::open(store).await.unwrap();
    let (stop, shutdown) = watch::channel(false);
    (stop, tokio::spawn(cosx_webhooks::run(vec![hook], id, store, shutdown)))
}

async fn parked_now(store: &std::path::Path) -> Vec<cosx_webhooks::ParkedDelivery> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let parked = list_parked(store).await.unwrap();
        if !parked.is_empty() {
            return parked;
        }
        assert!(tokio::time::Instant::now() < deadline, "nothing was parked");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn violated(body: &serde_json::Value) -> Vec<String> {
    body["error"]["details"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| d["fieldViolations"].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v["field"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nodes_parked_delivery_is_listed_and_retried_by_its_party_only_over_grpc_and_http() {
    let ex = TestExchange::start().await.unwrap();
    let node = ex.start_node(party::USAF).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let id = identity(&ex, party::USAF, dir.path());
    let secret = secret_file(dir.path());
    let receiver = Receiver::default();
    receiver.set_default(Answer::Fail500);
    let server = Server::start("127.0.0.1:0".parse().unwrap(), receiver.clone()).await;
    // The node's cursor file, where `cosx-server node` keeps it.
    let store = store_path_beside(&node.config.database).unwrap();
    let channel = ex.node_channel(&node).await.unwrap();
    let mut usaf = WebhooksClient::new(channel.clone());

    // Before any webhook ran, nothing is parked, and listing creates no file.
    let listed = usaf.list_parked_deliveries(pb::ListParkedDeliveriesRequest {}).await.unwrap().into_inner();
    assert!(listed.parked_deliveries.is_empty());
    assert!(!store.exists(), "listing created the cursor file");

    let created_only = WebhookConfig { kinds: vec!["REPAIR_ORDER_CREATED".into()], ..webhook(&server.url(), &secret) };
    let (stop, task) = deliver(created_only, id, &store).await;
    let first = ex.order_as(party::USAF, "F-35A", "2027-03-31").await.unwrap();
    let parked = parked_now(&store).await;
    assert_eq!(parked.len(), 1);

    // The node's own party sees it, over gRPC and HTTP/JSON alike.
    let listed = usaf.list_parked_deliveries(pb::ListParkedDeliveriesRequest {}).await.unwrap().into_inner();
    assert_eq!(listed.parked_deliveries.len(), 1);
    let p = &listed.parked_deliveries[0];
    assert_eq!((p.webhook.as_str(), p.sequence, p.attempts), ("erp", parked[0].sequence, 2));
    assert_eq!(p.kind, pb::EventKind::RepairOrderCreated as i32);
    assert_eq!(p.last_error, "HTTP 500: database is down");
    match p.event.as_ref().and_then(|e| e.subject.as_ref()) {
        Some(pb::event::Subject::RepairOrder(o)) => assert_eq!(o.name, first.name),
        other => panic!("the parked event is not the order: {other:?}"),
    }
    let http = http_json(&channel, Method::GET, "/v1/webhooks/parkedDeliveries", &[], None).await.unwrap();
    assert_eq!(http.status, 200, "{:?}", http.body);
    assert_eq!(http.body["parkedDeliveries"][0]["webhook"], "erp");
    assert_eq!(http.body["parkedDeliveries"][0]["sequence"], p.sequence.to_string());
    assert_eq!(http.body["parkedDeliveries"][0]["event"]["repairOrder"]["name"], first.name.as_str());

    // Another party can neither list nor release it: the node serves USAF only.
    let raaf_cert = ex.ca.issue_party(party::RAAF).unwrap();
    let raaf_channel = ex.channel_to(node.addr(), Some(&raaf_cert), ex.ca.cert_pem()).await.unwrap();
    let mut raaf = WebhooksClient::new(raaf_channel.clone());
    let refused = raaf.list_parked_deliveries(pb::ListParkedDeliveriesRequest {}).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    for request in [
        pb::RetryParkedDeliveryRequest { webhook: "erp".into(), all: false },
        pb::RetryParkedDeliveryRequest { webhook: String::new(), all: true },
    ] {
        let refused = raaf.retry_parked_delivery(request).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    }
    let http = http_json(&raaf_channel, Method::GET, "/v1/webhooks/parkedDeliveries", &[], None).await.unwrap();
    assert_eq!(http.status, 403, "{:?}", http.body);
    let body = serde_json::json!({"all": true});
    let http =
        http_json(&raaf_channel, Method::POST, "/v1/webhooks/parkedDeliveries:retry", &[], Some(body)).await.unwrap();
    assert_eq!(http.status, 403, "{:?}", http.body);
    assert_eq!(list_parked(&store).await.unwrap(), parked, "a refused caller changed nothing");

    // Bad requests name the field and change nothing: none, both, a wildcard,
    // a huge name, an unknown field, a webhook with nothing parked.
    for (body, field) in [
        (serde_json::json!({}), "webhook"),
        (serde_json::json!({"webhook": "erp", "all": true}), "all"),
        (serde_json::json!({"webhook": "*"}), "webhook"),
        (serde_json::json!({"webhook": "x".repeat(100_000)}), "webhook"),
        (serde_json::json!({"webhook": "erp", "force": true}), "force"),
    ] {
        let http = http_json(&channel, Method::POST, "/v1/webhooks/parkedDeliveries:retry", &[], Some(body.clone()))
            .await
            .unwrap();
        assert_eq!(http.status, 400, "{body}: {:?}", http.body);
        assert_eq!(violated(&http.body), [field], "{:?}", http.body);
    }
    let missing =
        usaf.retry_parked_delivery(pb::RetryParkedDeliveryRequest { webhook: "payroll".into(), all: false }).await;
    let missing = missing.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(missing.message(), "a parked delivery of webhook \"payroll\" not found");
    assert_eq!(list_parked(&store).await.unwrap(), parked, "a refused request changed nothing");
    assert_eq!(receiver.arrivals("erp").len(), 2, "nothing was sent while parked");

    // The party releases it over HTTP; the event and those after it arrive in order.
    ex.order_as(party::USAF, "F-35A", "2027-03-31").await.unwrap();
    receiver.set_default(Answer::Accept);
    let body = serde_json::json!({"webhook": "erp"});
    let http = http_json(&channel, Method::POST, "/v1/webhooks/parkedDeliveries:retry", &[], Some(body)).await.unwrap();
    assert_eq!(http.status, 200, "{:?}", http.body);
    assert_eq!(http.body["released"], "1");
    let expected = support::feed_sequences(&ex, party::USAF, &[pb::EventKind::RepairOrderCreated]).await;
    assert_eq!(expected.len(), 2);
    eventually("everything is delivered after the retry", || receiver.delivered("erp") == expected).await;
    let listed = usaf.list_parked_deliveries(pb::ListParkedDeliveriesRequest {}).await.unwrap().into_inner();
    assert!(listed.parked_deliveries.is_empty());
    let released = usaf.retry_parked_delivery(pb::RetryParkedDeliveryRequest { webhook: String::new(), all: true });
    assert_eq!(released.await.unwrap().into_inner().released, 0, "all with nothing parked releases none");

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap().unwrap();
    server.stop().await;
    assert!(receiver.arrivals("erp").iter().all(|a| a.verified));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_coordinators_parked_deliveries_are_for_coordinating_parties_only() {
    let ex = TestExchange::start().await.unwrap();
    let Some(store) = store_path_beside(&ex.config.database) else {
        // A PostgreSQL run: the coordinator keeps no cursor file, so there is nothing to park.
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let id = identity(&ex, party::COORDINATOR, dir.path());
    let secret = secret_file(dir.path());
    let receiver = Receiver::default();
    receiver.set_default(Answer::Refuse400);
    let server = Server::start("127.0.0.1:0".parse().unwrap(), receiver.clone()).await;
    let (stop, task) = deliver(webhook(&server.url(), &secret), id, &store).await;
    ex.order_as(party::USAF, "F-35A", "2027-03-31").await.unwrap();
    let parked = parked_now(&store).await;
    assert_eq!(parked[0].attempts, 1, "a 400 is parked at once");

    let mut j4 = WebhooksClient::new(ex.channel(party::COORDINATOR).await.unwrap());
    let listed = j4.list_parked_deliveries(pb::ListParkedDeliveriesRequest {}).await.unwrap().into_inner();
    assert_eq!(listed.parked_deliveries.len(), 1);
    assert_eq!(listed.parked_deliveries[0].sequence, parked[0].sequence);
    assert_eq!(listed.parked_deliveries[0].last_error, "HTTP 400: unknown order kind");

    // The depot whose order it is may not see the coordinator's webhooks, nor release them.
    let usaf_channel = ex.channel(party::USAF).await.unwrap();
    let mut usaf = WebhooksClient::new(usaf_channel.clone());
    let refused = usaf.list_parked_deliveries(pb::ListParkedDeliveriesRequest {}).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(refused.message().contains("only a COORDINATOR party"), "{}", refused.message());
    let refused = usaf.retry_parked_delivery(pb::RetryParkedDeliveryRequest { webhook: "erp".into(), all: false });
    assert_eq!(refused.await.unwrap_err().code(), Code::PermissionDenied);
    let http = http_json(&usaf_channel, Method::POST, "/v1/webhooks/parkedDeliveries:retry", &[], None).await.unwrap();
    assert_eq!(http.status, 403, "{:?}", http.body);
    assert_eq!(list_parked(&store).await.unwrap(), parked);
    assert_eq!(receiver.arrivals("erp").len(), 1);

    receiver.set_default(Answer::Accept);
    let released = j4.retry_parked_delivery(pb::RetryParkedDeliveryRequest { webhook: "erp".into(), all: false });
    assert_eq!(released.await.unwrap().into_inner().released, 1);
    let expected = support::feed_sequences(&ex, party::COORDINATOR, &[]).await;
    eventually("the coordinator's webhook delivers after the retry", || receiver.delivered("erp") == expected).await;
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap().unwrap();
    server.stop().await;
}
