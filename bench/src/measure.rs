//! Latency measurement: concurrent unary submits, repeated queries,
//! percentiles, and the process's resident memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cosx_proto::v1 as pb;
use tonic::transport::Channel;

use crate::fixtures;

/// Latencies of a batch of calls.
pub(crate) struct Latencies {
    /// Wall time of the whole batch.
    pub(crate) elapsed: Duration,
    /// One per successful call, sorted.
    pub(crate) samples: Vec<Duration>,
    /// Calls that failed, and the first failure.
    pub(crate) errors: usize,
    pub(crate) first_error: Option<String>,
}

impl Latencies {
    /// Two batches as one (samples pooled and sorted).
    pub(crate) fn merged(mut self, other: Latencies) -> Latencies {
        self.elapsed += other.elapsed;
        self.samples.extend(other.samples);
        self.samples.sort();
        self.errors += other.errors;
        self.first_error = self.first_error.or(other.first_error);
        self
    }

    /// Successful calls per second over the batch.
    pub(crate) fn rate(&self) -> f64 {
        self.samples.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q` quantile (0..=1) in milliseconds (nearest rank).
    pub(crate) fn quantile_ms(&self, q: f64) -> f64 {
        if self.samples.is_empty() {
            return f64::NAN;
        }
        let rank = ((q * self.samples.len() as f64).ceil() as usize).clamp(1, self.samples.len());
        self.samples[rank - 1].as_secs_f64() * 1e3
    }
}

/// `calls` CreateRepairOrder calls spread over `channels` (one client each,
/// each on its own mTLS connection), each client one call at a time.
/// Every client makes one untimed call first so handshakes are not counted.
pub(crate) async fn unary_creates(channels: Vec<Channel>, calls: usize, prefix: &str) -> anyhow::Result<Latencies> {
    spread(channels, calls, prefix, |channel, request| async move {
        let mut client = pb::exchange_client::ExchangeClient::new(channel);
        client.create_repair_order(request).await.map(drop).map_err(|s| s.to_string())
    })
    .await
}

/// The same calls as [`unary_creates`], as HTTP/JSON `POST /v1/repairOrders`
/// with `Idempotency-Key`, over the same kind of mTLS HTTP/2 connection.
pub(crate) async fn http_creates(channels: Vec<Channel>, calls: usize, prefix: &str) -> anyhow::Result<Latencies> {
    spread(channels, calls, prefix, |mut channel, request| async move {
        let body = serde_json::to_vec(&request.repair_order).map_err(|e| e.to_string())?;
        let http = http::Request::post("/v1/repairOrders")
            .header("content-type", "application/json")
            .header("idempotency-key", request.request_id)
            .body(tonic::body::Body::new(http_body_util::Full::new(bytes::Bytes::from(body))))
            .map_err(|e| e.to_string())?;
        use tower::{Service as _, ServiceExt as _};
        let response = channel.ready().await.map_err(|e| e.to_string())?.call(http).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body = http_body_util::BodyExt::collect(response.into_body()).await.map_err(|e| e.to_string())?.to_bytes();
        if status.is_success() { Ok(()) } else { Err(format!("{status}: {}", String::from_utf8_lossy(&body))) }
    })
    .await
}

/// One GET of `path` over `channel` (the listener's HTTP faces), read to
/// the end; an error unless it answers 200.
pub(crate) async fn http_get(mut channel: Channel, path: &str) -> Result<(), String> {
    let request = http::Request::get(path)
        .body(tonic::body::Body::new(http_body_util::Empty::<bytes::Bytes>::new()))
        .map_err(|e| e.to_string())?;
    use tower::{Service as _, ServiceExt as _};
    let response = channel.ready().await.map_err(|e| e.to_string())?.call(request).await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = http_body_util::BodyExt::collect(response.into_body()).await.map_err(|e| e.to_string())?.to_bytes();
    if status.is_success() { Ok(()) } else { Err(format!("{status}: {}", String::from_utf8_lossy(&body))) }
}

/// Runs `calls` creates over `channels`, one client per channel making one
/// call at a time, after one untimed call per client.
async fn spread<F, Fut>(channels: Vec<Channel>, calls: usize, prefix: &str, call: F) -> anyhow::Result<Latencies>
where
    F: Fn(Channel, pb::CreateRepairOrderRequest) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let request = |i: usize, id: String| pb::CreateRepairOrderRequest {
        repair_order: Some(fixtures::repair_order(crate::exchange::USAF, i)),
        request_id: id,
        repair_order_id: String::new(),
    };
    for (c, channel) in channels.iter().enumerate() {
        call(channel.clone(), request(c, format!("{prefix}-warm-{c}"))).await.map_err(anyhow::Error::msg)?;
    }
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for channel in channels {
        let next = next.clone();
        let prefix = prefix.to_owned();
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let (mut samples, mut errors, mut first_error) = (Vec::new(), 0usize, None);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= calls {
                    break;
                }
                let t = Instant::now();
                match call(channel.clone(), request(i, format!("{prefix}-{i}"))).await {
                    Ok(()) => samples.push(t.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (samples, errors, first_error)
        }));
    }
    let mut all = Latencies { elapsed: Duration::ZERO, samples: Vec::new(), errors: 0, first_error: None };
    for task in tasks {
        let (samples, errors, first_error) = task.await?;
        all.samples.extend(samples);
        all.errors += errors;
        if all.first_error.is_none() {
            all.first_error = first_error;
        }
    }
    all.elapsed = started.elapsed();
    all.samples.sort();
    Ok(all)
}

/// Cancels the orders named (each at version 1, as the originator) over
/// `channels`, one client per channel making one call at a time.
pub(crate) async fn cancel_orders(channels: Vec<Channel>, names: Vec<String>) -> anyhow::Result<Latencies> {
    let names = Arc::new(names);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for channel in channels {
        let (next, names) = (next.clone(), names.clone());
        tasks.push(tokio::spawn(async move {
            let mut client = pb::exchange_client::ExchangeClient::new(channel);
            let (mut samples, mut errors, mut first_error) = (Vec::new(), 0usize, None);
            while let Some(name) = names.get(next.fetch_add(1, Ordering::Relaxed)) {
                let t = Instant::now();
                let step = pb::TransitionRepairOrderRequest {
                    name: name.clone(),
                    version: 1,
                    action: pb::RepairOrderAction::Cancel as i32,
                    reason: "bench: no longer needed".into(),
                    request_id: format!("cancel-{name}"),
                    ..Default::default()
                };
                match client.transition_repair_order(step).await {
                    Ok(_) => samples.push(t.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e.to_string());
                    }
                }
            }
            (samples, errors, first_error)
        }));
    }
    let mut all = Latencies { elapsed: Duration::ZERO, samples: Vec::new(), errors: 0, first_error: None };
    for task in tasks {
        let (samples, errors, first_error) = task.await?;
        all.samples.extend(samples);
        all.errors += errors;
        all.first_error = all.first_error.or(first_error);
    }
    all.elapsed = started.elapsed();
    all.samples.sort();
    Ok(all)
}

/// Runs `call` once untimed, then `reps` times one after another.
pub(crate) async fn repeat<F, Fut, T>(reps: usize, mut call: F) -> anyhow::Result<Latencies>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    call().await?;
    let started = Instant::now();
    let mut samples = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        call().await?;
        samples.push(t.elapsed());
    }
    samples.sort();
    Ok(Latencies { elapsed: started.elapsed(), samples, errors: 0, first_error: None })
}

/// As [`repeat`], with `before(i)` run untimed ahead of each timed call
/// (e.g. a write that changes what the call must answer).
pub(crate) async fn repeat_after<B, BFut, F, Fut, T>(
    reps: usize,
    mut before: B,
    mut call: F,
) -> anyhow::Result<Latencies>
where
    B: FnMut(usize) -> BFut,
    BFut: std::future::Future<Output = anyhow::Result<()>>,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let started = Instant::now();
    let mut samples = Vec::with_capacity(reps);
    for i in 0..reps {
        before(i).await?;
        let t = Instant::now();
        call().await?;
        samples.push(t.elapsed());
    }
    samples.sort();
    Ok(Latencies { elapsed: started.elapsed(), samples, errors: 0, first_error: None })
}

/// `(VmHWM, VmRSS)` of this process in MiB, when `/proc` has them.
pub(crate) fn memory_mib() -> (Option<f64>, Option<f64>) {
    memory_mib_of("self")
}

/// `(VmHWM, VmRSS)` in MiB of the process `pid` (a number, or `self`).
pub(crate) fn memory_mib_of(pid: &str) -> (Option<f64>, Option<f64>) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Samples the resident memory (`VmRSS`) of a process every 20 ms until
/// stopped, keeping the highest reading: the peak over a window of its life.
pub(crate) struct RssSampler {
    stop: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<Option<f64>>,
}

impl RssSampler {
    /// Starts sampling `pid` (a number, or `self`).
    pub(crate) fn start(pid: &str) -> RssSampler {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (flag, pid) = (stop.clone(), pid.to_owned());
        let task = tokio::spawn(async move {
            let mut peak: Option<f64> = None;
            loop {
                if let (_, Some(rss)) = memory_mib_of(&pid) {
                    peak = Some(peak.map_or(rss, |p| p.max(rss)));
                }
                if flag.load(Ordering::Relaxed) {
                    return peak;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        RssSampler { stop, task }
    }

    /// Stops and returns the highest `VmRSS` seen, MiB.
    pub(crate) async fn stop(self) -> Option<f64> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.ok().flatten()
    }
}

/// Resets the peak resident size (Linux `clear_refs` 5), so the next
/// reading of VmHWM is the peak since now. Best effort.
pub(crate) fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
