//! A real HTTP receiver for webhook tests (axum on 127.0.0.1), scripted to
//! answer 500, hang past the deliverer's timeout, refuse with 400 or accept,
//! that verifies every signature as the README tells receivers to; and the
//! files a deliverer needs to subscribe as a party of a test exchange.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use cosx_proto::v1 as pb;
use cosx_tests::TestExchange;
use cosx_webhooks::FeedIdentity;
use cosx_webhooks::signature::{DEFAULT_TOLERANCE, verify};
use tokio::sync::oneshot;

/// The receiver's shared secret.
pub const SECRET: &str = "whsec-test-0123456789abcdef";

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Fail500,
    /// Holds the request well past the deliverer's timeout, then says 200.
    Hang,
    Refuse400,
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub webhook: String,
    pub sequence: i64,
    pub attempt: u32,
    pub timestamp: String,
    pub signature: String,
    pub body: Bytes,
    pub verified: bool,
    /// The receiver answered 2xx (the deliverer may count it delivered).
    pub accepted: bool,
}

#[derive(Default)]
pub struct Script {
    /// Answers for the next requests of each webhook, then `default`.
    pub next: HashMap<String, VecDeque<Answer>>,
    pub default: Option<Answer>,
    pub arrivals: Vec<Arrival>,
}

/// The receiver's state; survives stopping and restarting its server.
#[derive(Clone, Default)]
pub struct Receiver(pub Arc<Mutex<Script>>);

impl Receiver {
    pub fn plan(&self, webhook: &str, answers: &[Answer]) {
        self.0.lock().unwrap().next.entry(webhook.into()).or_default().extend(answers);
    }

    pub fn set_default(&self, answer: Answer) {
        self.0.lock().unwrap().default = Some(answer);
    }

    pub fn arrivals(&self, webhook: &str) -> Vec<Arrival> {
        self.0.lock().unwrap().arrivals.iter().filter(|a| a.webhook == webhook).cloned().collect()
    }

    /// The sequences answered 2xx, duplicates removed as a receiver keyed
    /// on `Cosx-Event-Sequence` would.
    pub fn delivered(&self, webhook: &str) -> Vec<i64> {
        let mut seen = Vec::new();
        for a in self.arrivals(webhook).into_iter().filter(|a| a.accepted) {
            if !seen.contains(&a.sequence) {
                seen.push(a.sequence);
            }
        }
        seen
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> (StatusCode, &'static str) {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (timestamp, signature) = (h("cosx-timestamp"), h("cosx-signature"));
    let verified = verify(SECRET.as_bytes(), &timestamp, &signature, &body, now(), DEFAULT_TOLERANCE).is_ok();
    let webhook = h("cosx-webhook-id");
    let answer = {
        let mut script = receiver.0.lock().unwrap();
        let planned = script.next.get_mut(&webhook).and_then(VecDeque::pop_front);
        let answer = planned.or(script.default).unwrap_or(Answer::Accept);
        script.arrivals.push(Arrival {
            webhook,
            sequence: h("cosx-event-sequence").parse().unwrap_or(-1),
            attempt: h("cosx-delivery-attempt").parse().unwrap_or(0),
            timestamp,
            signature,
            body,
            verified,
            accepted: answer == Answer::Accept && verified,
        });
        answer
    };
    match answer {
        Answer::Accept if verified => (StatusCode::NO_CONTENT, ""),
        Answer::Accept => (StatusCode::UNAUTHORIZED, "bad signature"),
        Answer::Fail500 => (StatusCode::INTERNAL_SERVER_ERROR, "database is down"),
        Answer::Refuse400 => (StatusCode::BAD_REQUEST, "unknown order kind"),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            (StatusCode::OK, "too late")
        }
    }
}

/// The receiver's HTTP server, which can be stopped and started again on
/// the same port.
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub async fn start(addr: SocketAddr, receiver: Receiver) -> Server {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        let mut tries = 0;
        let listener = loop {
            match socket.bind(addr) {
                Ok(()) => break socket.listen(64).unwrap(),
                Err(e) if tries < 50 => {
                    tries += 1;
                    eprintln!("rebinding {addr}: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("bind {addr}: {e}"),
            }
        };
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route("/hooks/cosx", axum::routing::post(receive)).with_state(receiver);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Server { addr, stop: Some(stop), task }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/cosx", self.addr.port())
    }

    /// Stops accepting and closes its connections (waits for requests in flight).
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
    }
}

/// Writes `party`'s certificate, key and the exchange CA into `dir` and
/// returns the identity a deliverer subscribes as.
pub fn identity(ex: &TestExchange, party: &str, dir: &Path) -> FeedIdentity {
    let issued = ex.ca.issue_party(party).unwrap();
    let file = |name: &str, text: &str| -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    FeedIdentity {
        endpoint: format!("https://127.0.0.1:{}", ex.addr().port()),
        ca: file("ca.pem", ex.ca.cert_pem()),
        cert: file("party.pem", &issued.cert_pem),
        key: file("party.key", &issued.key_pem),
        server_name: Some("localhost".into()),
    }
}

/// Writes the shared secret into `dir`.
pub fn secret_file(dir: &Path) -> PathBuf {
    let p = dir.join("webhook.hmac");
    std::fs::write(&p, format!("{SECRET}\n")).unwrap();
    p
}

/// The sequences `party` sees on `Feed.Subscribe` (of `kinds`, if any),
/// read until the feed has been quiet for 400 ms.
pub async fn feed_sequences(ex: &TestExchange, party: &str, kinds: &[pb::EventKind]) -> Vec<i64> {
    let request = pb::SubscribeRequest { kinds: kinds.iter().map(|k| *k as i32).collect(), ..Default::default() };
    let mut stream = ex.feed(party).await.unwrap().subscribe(request).await.unwrap().into_inner();
    let mut seqs = Vec::new();
    while let Ok(next) = tokio::time::timeout(Duration::from_millis(400), stream.message()).await {
        let Some(event) = next.unwrap() else { break };
        seqs.push(event.sequence);
    }
    seqs
}

/// Waits (up to 60 s) until `check` holds.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
