//! Process metrics in the Prometheus text format, served on a plain-HTTP
//! listener of its own (`metrics_listen`): calls by method and code, call
//! latency, handshakes and calls refused by reason, the group-commit
//! writer's batch sizes and queue, and feed subscribers and their lag.
//!
//! Everything here is a count or a time: never a record, a key or a party's
//! data, so the page can go to a monitoring system that is not cleared for
//! the exchange's contents. Keep the listener on loopback or a management
//! network anyway. Counters are process-wide (one server per process);
//! nothing here may block or fail a call.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BOUNDS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];
/// Upper bounds of the commit batch-size buckets.
const BATCH_BOUNDS: [f64; 8] = [1.0, 2.0, 4.0, 16.0, 64.0, 128.0, 256.0, 512.0];

#[derive(Default)]
struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], value: f64) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; bounds.len()];
        }
        for (b, bound) in self.buckets.iter_mut().zip(bounds) {
            if value <= *bound {
                *b += 1;
            }
        }
        self.count += 1;
        self.sum += value;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str, bounds: &[f64]) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, bound) in bounds.iter().enumerate() {
            let n = self.buckets.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Default)]
struct Registry {
    calls: Mutex<BTreeMap<(String, &'static str), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    handshakes_refused: Mutex<BTreeMap<&'static str, u64>>,
    calls_refused: Mutex<BTreeMap<&'static str, u64>>,
    batches: Mutex<Histogram>,
    writer_queue: AtomicI64,
    commits: AtomicU64,
    feed_subscribers: AtomicI64,
}

static METRICS: LazyLock<Registry> = LazyLock::new(Registry::default);

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    *map.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_insert(0) += 1;
}

/// A call answered: its method, the gRPC code at the head of the response,
/// and how long it took to get there.
pub fn call_answered(method: &str, code: tonic::Code, took: Duration) {
    let code = crate::json::errors::code_name(code);
    // Unknown paths are one series, so a scanner cannot grow the page.
    let method = if method.starts_with("/cosx.v1.") || method.starts_with("/grpc.") { method } else { "other" };
    bump(&METRICS.calls, (method.to_owned(), code));
    METRICS
        .latency
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(method.to_owned())
        .or_default()
        .observe(&LATENCY_BOUNDS, took.as_secs_f64());
}

/// A call refused before it ran, by which limit.
pub fn call_refused(limit: &'static str) {
    bump(&METRICS.calls_refused, limit);
}

/// A connection closed before or during its handshake, and why.
pub fn handshake_refused(reason: &'static str) {
    bump(&METRICS.handshakes_refused, reason);
}

/// The group-commit writer applied a batch of `commits` in one transaction.
pub fn batch_committed(commits: usize) {
    METRICS.batches.lock().unwrap_or_else(|e| e.into_inner()).observe(&BATCH_BOUNDS, commits as f64);
    METRICS.commits.fetch_add(commits as u64, Ordering::Relaxed);
}

/// Commits waiting for the writer went up (or down, negative).
pub fn writer_queue(change: i64) {
    METRICS.writer_queue.fetch_add(change, Ordering::Relaxed);
}

/// A feed subscription opened (or, negative, closed).
pub fn feed_subscribers(change: i64) {
    METRICS.feed_subscribers.fetch_add(change, Ordering::Relaxed);
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// What every listener reports (coordinator and node alike): calls,
/// latency, refusals and handshakes.
pub fn render_edge() -> String {
    let m = &*METRICS;
    let mut out = String::new();
    header(&mut out, "cosx_calls_total", "counter", "Calls answered, by method and the code at the response head.");
    for ((method, code), n) in m.calls.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = writeln!(out, "cosx_calls_total{{method=\"{method}\",code=\"{code}\"}} {n}");
    }
    header(&mut out, "cosx_call_duration_seconds", "histogram", "Time to the response head, by method.");
    for (method, h) in m.latency.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        h.render(&mut out, "cosx_call_duration_seconds", &format!("method=\"{method}\""), &LATENCY_BOUNDS);
    }
    header(&mut out, "cosx_calls_refused_total", "counter", "Calls refused before they ran, by limit.");
    for (limit, n) in m.calls_refused.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = writeln!(out, "cosx_calls_refused_total{{limit=\"{limit}\"}} {n}");
    }
    header(&mut out, "cosx_handshakes_refused_total", "counter", "Connections closed before serving, by reason.");
    for (reason, n) in m.handshakes_refused.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = writeln!(out, "cosx_handshakes_refused_total{{reason=\"{reason}\"}} {n}");
    }
    out
}

/// The coordinator's metrics page: [`render_edge`], the writer and the
/// feed; `feed_lag` is the furthest-behind subscriber's lag, in entries.
pub fn render(feed_lag: i64, head: i64) -> String {
    let m = &*METRICS;
    let mut out = render_edge();
    header(&mut out, "cosx_commit_batch_size", "histogram", "Commits applied per store transaction.");
    m.batches.lock().unwrap_or_else(|e| e.into_inner()).render(&mut out, "cosx_commit_batch_size", "", &BATCH_BOUNDS);
    let gauges = [
        ("cosx_commits_total", "counter", "Commits the writer applied.", m.commits.load(Ordering::Relaxed) as f64),
        (
            "cosx_writer_queue_depth",
            "gauge",
            "Commits waiting for the writer.",
            m.writer_queue.load(Ordering::Relaxed) as f64,
        ),
        (
            "cosx_feed_subscribers",
            "gauge",
            "Feed subscriptions open.",
            m.feed_subscribers.load(Ordering::Relaxed) as f64,
        ),
        (
            "cosx_feed_lag_events",
            "gauge",
            "Log entries the furthest-behind subscriber has yet to pass.",
            feed_lag as f64,
        ),
        ("cosx_log_head", "gauge", "Sequence of the last log entry.", head as f64),
    ];
    for (name, kind, help, value) in gauges {
        header(&mut out, name, kind, help);
        let _ = writeln!(out, "{name} {value}");
    }
    out
}

/// Serves `GET /metrics` with the page `page` makes, one short-lived plain
/// HTTP/1.1 exchange per connection.
pub async fn serve_with<F, Fut>(listener: TcpListener, page: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<String, String>> + Send,
{
    let page = Arc::new(page);
    while let Ok((mut socket, _)) = listener.accept().await {
        let page = page.clone();
        tokio::spawn(async move {
            let mut request = [0u8; 1024];
            let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut request)).await else {
                return;
            };
            let wanted = request[..n].starts_with(b"GET /metrics ");
            let (code, body) = match (wanted, if wanted { Some(page().await) } else { None }) {
                (true, Some(Ok(body))) => ("200 OK", body),
                (true, Some(Err(e))) => ("500 Internal Server Error", format!("{e}\n")),
                _ => ("404 Not Found", "only GET /metrics is served here\n".to_owned()),
            };
            let response = format!(
                "HTTP/1.1 {code}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        });
    }
}
