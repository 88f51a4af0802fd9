//! Webhook delivery against a real coordinator (mTLS, SQLite) and a real HTTP
//! receiver that fails, hangs, goes away and comes back on the same port.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party};
use cosx_webhooks::signature::{DEFAULT_TOLERANCE, VerifyError, verify};
use cosx_webhooks::{CursorStore, WebhookConfig, list_parked, retry_parked};
use support::{Answer, Receiver, Server, eventually, feed_sequences, identity, secret_file};
use tokio::sync::watch;

fn webhook(name: &str, url: &str, secret: &std::path::Path) -> WebhookConfig {
    WebhookConfig {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(400),
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        retry_poll: Duration::from_millis(100),
        max_attempts: 1000,
        ..WebhookConfig::new(name, url, secret)
    }
}

struct Running {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), cosx_webhooks::WebhookError>>,
}

async fn start(hooks: Vec<WebhookConfig>, id: cosx_webhooks::FeedIdentity, db: &std::path::Path) -> Running {
    let store = CursorStore::open(db).await.unwrap();
    let (stop, shutdown) = watch::channel(false);
    Running { stop, task: tokio::spawn(cosx_webhooks::run(hooks, id, store, shutdown)) }
}

impl Running {
    async fn stop(self) {
        self.stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.task).await.unwrap().unwrap().unwrap();
    }
}

/// At least once, in order: arrivals never go back in sequence (a repeat
/// is only a retry of the one being delivered), and each is signed.
fn assert_ordered_and_signed(receiver: &Receiver, webhook: &str) {
    let arrivals = receiver.arrivals(webhook);
    for pair in arrivals.windows(2) {
        assert!(
            pair[1].sequence >= pair[0].sequence,
            "{webhook}: {} arrived after {}",
            pair[1].sequence,
            pair[0].sequence
        );
    }
    for a in &arrivals {
        assert!(a.verified, "{webhook}: sequence {} does not verify", a.sequence);
        let event: pb::Event = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(event.sequence, a.sequence, "Cosx-Event-Sequence is the body's sequence");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_visible_event_arrives_once_in_order_through_failures_timeouts_restarts_and_outages() {
    let ex = TestExchange::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let id = identity(&ex, party::USAF, dir.path());
    let secret = secret_file(dir.path());
    let db = dir.path().join("webhooks.db");

    let receiver = Receiver::default();
    receiver.plan("erp", &[Answer::Fail500, Answer::Fail500, Answer::Fail500, Answer::Hang, Answer::Hang]);
    let server = Server::start("127.0.0.1:0".parse().unwrap(), receiver.clone()).await;
    let addr = server.addr;
    let created_only =
        WebhookConfig { kinds: vec!["REPAIR_ORDER_CREATED".into()], ..webhook("created-only", &server.url(), &secret) };
    let hooks = vec![webhook("erp", &server.url(), &secret), created_only];
    let deliverer = start(hooks.clone(), id.clone(), &db).await;

    for _ in 0..3 {
        ex.order_as(party::USAF, "F-35A", "2027-03-31").await.unwrap();
    }
    // Another party's order is not USAF's to see, so not its webhook's to deliver.
    let foreign = ex.order_as(party::RAAF, "F-35A", "2027-03-31").await.unwrap();
    let expected = feed_sequences(&ex, party::USAF, &[]).await;
    assert!(expected.len() >= 3, "{expected:?}");
    eventually("the first events are delivered past 500s and timeouts", || receiver.delivered("erp") == expected).await;
    let failed_first = receiver.arrivals("erp").iter().take_while(|a| !a.accepted).count();
    assert_eq!(failed_first, 5, "three 500s and two timeouts, then a 2xx");

    // The receiver goes away: deliveries wait, then resume on the same port.
    server.stop().await;
    let before_outage = receiver.arrivals("erp").len();
    for _ in 0..2 {
        ex.order_as(party::USAF, "F-35A", "2027-03-31").await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(receiver.arrivals("erp").len(), before_outage, "nothing reached a stopped receiver");
    let server = Server::start(addr, receiver.clone()).await;
    let expected = feed_sequences(&ex, party::USAF, &[]).await;
    eventually("the events of the outage are delivered", || receiver.delivered("erp") == expected).await;

    // The deliverer restarts on the same cursor file: it resumes after the last 2xx.
    deliverer.stop().await;
    let last = *receiver.delivered("erp").last().unwrap();
    let seen = receiver.arrivals("erp").len();
    for _ in 0..2 {
        ex.order_as(party::USAF, "F-35A", "2027-03-31").await.unwrap();
    }
    let deliverer = start(hooks, id, &db).await;
    let expected = feed_sequences(&ex, party::USAF, &[]).await;
    eventually("events after the restart are delivered", || receiver.delivered("erp") == expected).await;
    let after_restart = &receiver.arrivals("erp")[seen..];
    assert!(after_restart[0].sequence > last, "resumed at {} after {last}: nothing resent", after_restart[0].sequence);

    let created = feed_sequences(&ex, party::USAF, &[pb::EventKind::RepairOrderCreated]).await;
    assert_eq!(created.len(), 7);
    eventually("the created-only webhook has its kind", || receiver.delivered("created-only") == created).await;
    deliverer.stop().await;
    server.stop().await;

    for name in ["erp", "created-only"] {
        assert_ordered_and_signed(&receiver, name);
    }
    for a in receiver.arrivals("erp") {
        let event: pb::Event = serde_json::from_slice(&a.body).unwrap();
        if let Some(pb::event::Subject::RepairOrder(o)) = event.subject {
            assert_ne!(o.name, foreign.name, "another party's order reached USAF's webhook");
        }
    }
    for a in receiver.arrivals("created-only") {
        let event: pb::Event = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(event.kind, pb::EventKind::RepairOrderCreated as i32);
    }

    // A forger without the secret, or a replayer of a captured request, is refused.
    let captured = receiver.arrivals("erp").into_iter().find(|a| a.accepted).unwrap();
    let ts: i64 = captured.timestamp.parse().unwrap();
    let key = support::SECRET.as_bytes();
    assert_eq!(verify(key, &captured.timestamp, &captured.signature, &captured.body, ts, DEFAULT_TOLERANCE), Ok(ts));
    let mut forged = captured.body.to_vec();
    let at = forged.iter().position(|b| b.is_ascii_digit()).unwrap();
    forged[at] = if forged[at] == b'9' { b'1' } else { forged[at] + 1 };
    assert_eq!(
        verify(key, &captured.timestamp, &captured.signature, &forged, ts, DEFAULT_TOLERANCE),
        Err(VerifyError::Mismatch)
    );
    let moved = (ts + 600).to_string();
    assert_eq!(
        verify(key, &moved, &captured.signature, &captured.body, ts + 600, DEFAULT_TOLERANCE),
        Err(VerifyError::Mismatch)
    );
    assert!(matches!(
        verify(key, &captured.timestamp, &captured.signature, &captured.body, ts + 600, DEFAULT_TOLERANCE),
        Err(VerifyError::OutsideTolerance { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_that_keeps_failing_is_parked_holds_its_webhook_and_is_delivered_after_retry() {
    let ex = TestExchange::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let id = identity(&ex, party::USAF, dir.path());
    let secret = secret_file(dir.path());
    let db = dir.path().join("webhooks.db");
    let receiver = Receiver::default();
    receiver.set_default(Answer::Fail500);
    let server = Server::start("127.0.0.1:0".parse().unwrap(), receiver.clone()).await;
    let hook = WebhookConfig { max_attempts: 3, ..webhook("erp", &server.url(), &secret) };
    let deliverer = start(vec![hook], id, &db).await;

    ex.order_as(party::USAF, "F-35A", "2027-03-31").await.unwrap();
    let expected = feed_sequences(&ex, party::USAF, &[]).await;
    let first = expected[0];
    let parked = loop {
        let parked = list_parked(&db).await.unwrap();
        if !parked.is_empty() {
            break parked;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(parked.len(), 1);
    assert_eq!((parked[0].webhook.as_str(), parked[0].sequence, parked[0].attempts), ("erp", first, 3));
    assert_eq!(parked[0].last_error, "HTTP 500: database is down");
    let event: pb::Event = serde_json::from_str(&parked[0].event_json).unwrap();
    assert_eq!(event.sequence, first);

    // Parked means held: later events wait behind it, nothing is skipped.
    ex.order_as(party::USAF, "F-35A", "2027-03-31").await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let arrivals = receiver.arrivals("erp");
    assert_eq!(arrivals.len(), 3, "three attempts, then nothing while parked");
    assert!(arrivals.iter().all(|a| a.sequence == first));

    // Retried, it is refused outright (400): parked again after one attempt.
    receiver.plan("erp", &[Answer::Refuse400]);
    receiver.set_default(Answer::Accept);
    assert_eq!(retry_parked(&db, Some("erp")).await.unwrap(), 1);
    eventually("the refusal is parked", || receiver.arrivals("erp").len() == 4).await;
    let parked = loop {
        let parked = list_parked(&db).await.unwrap();
        if !parked.is_empty() {
            break parked;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((parked[0].sequence, parked[0].attempts), (first, 1));
    assert_eq!(parked[0].last_error, "HTTP 400: unknown order kind");

    // Retrying a webhook that does not exist or has nothing parked says so.
    let err = retry_parked(&db, Some("payroll")).await.unwrap_err();
    assert_eq!(err.to_string(), "webhook \"payroll\" has no parked delivery");

    assert_eq!(retry_parked(&db, None).await.unwrap(), 1);
    let expected = feed_sequences(&ex, party::USAF, &[]).await;
    eventually("everything is delivered after the retry", || receiver.delivered("erp") == expected).await;
    assert!(list_parked(&db).await.unwrap().is_empty());
    deliverer.stop().await;
    server.stop().await;
    assert_ordered_and_signed(&receiver, "erp");
}

#[tokio::test]
async fn a_deliverer_with_a_bad_webhook_does_not_start_and_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let secret = secret_file(dir.path());
    let store = CursorStore::open(&dir.path().join("w.db")).await.unwrap();
    let id = cosx_webhooks::FeedIdentity {
        endpoint: "https://127.0.0.1:1".into(),
        ca: dir.path().join("missing-ca.pem"),
        cert: dir.path().join("missing.pem"),
        key: dir.path().join("missing.key"),
        server_name: None,
    };
    let (_stop, shutdown) = watch::channel(false);
    let twice = vec![webhook("erp", "http://127.0.0.1:9/h", &secret), webhook("erp", "http://127.0.0.1:9/i", &secret)];
    let err = cosx_webhooks::run(twice, id.clone(), store.clone(), shutdown.clone()).await.unwrap_err();
    assert_eq!(err.to_string(), "webhooks[erp].name: used by another webhook");
    let err = cosx_webhooks::run(vec![webhook("erp", "http://127.0.0.1:9/h", &secret)], id, store, shutdown)
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("webhook feed identity: ca "), "{err}");
}
