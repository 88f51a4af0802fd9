//! Feed fan-out: many subscribers following the log live while writers
//! commit at a steady rate (issue 19, goal 7: 1,000 subscribers, 1,000
//! events/s, p99 delivery latency < 100 ms, the coordinator's CPU reported).
//!
//! A delivery's latency is the time a subscriber receives an event minus
//! the event's commit time (`Event.time`, stamped by the coordinator just
//! before the commit): the writer's batch wait and the fsync are in it. The
//! bench and the coordinator share one clock. Measures only; asserts nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cosx_proto::v1 as pb;
use tokio::sync::watch;

use crate::exchange::{COORDINATOR, Coordinator, Pki, USAF};
use crate::fixtures;

/// Subscriptions carried by one mTLS connection (HTTP/2 streams).
const PER_CONNECTION: usize = 50;
/// Concurrent writers sharing the commit rate.
const WRITERS: usize = 16;

/// What one fan-out run measured.
pub(crate) struct Fanout {
    /// Delivery latencies of every event to every subscriber, sorted.
    pub(crate) latencies: Vec<Duration>,
    /// Events the writers committed.
    pub(crate) committed: usize,
    /// Deliveries expected (`committed × subscribers`) and made.
    pub(crate) expected: usize,
    pub(crate) delivered: usize,
    /// Commits per second the writers reached.
    pub(crate) commit_rate: f64,
    /// CPU time of the coordinator (or, in process, of the whole bench)
    /// over the writing phase, in cores (CPU seconds per second).
    pub(crate) cpu_cores: Option<f64>,
}

impl Fanout {
    /// The `q` quantile (0..=1) of the delivery latency in milliseconds.
    pub(crate) fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((q * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[rank - 1].as_secs_f64() * 1e3
    }
}

/// User + system CPU seconds of process `pid` (`self` for this one), from
/// `/proc/<pid>/stat` (fields 14 and 15, in clock ticks of 1/100 s).
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields after it follow ")".
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// `subscribers` coordinator-party subscriptions follow the feed of
/// `coordinator` while [`WRITERS`] clients create repair orders at `rate`
/// per second in total for `seconds`; then waits (at most 30 s) for every
/// subscriber to receive every created order.
pub(crate) async fn run(
    pki: &Pki,
    coordinator: &Coordinator,
    subscribers: usize,
    rate: f64,
    seconds: f64,
    prefix: &str,
) -> anyhow::Result<Fanout> {
    let addr = coordinator.addr();
    // How many events each subscriber waits for: unknown (all) until the
    // writers are done.
    let (goal, goal_rx) = watch::channel(usize::MAX);
    let ready = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(subscribers);
    let mut channel = None;
    for s in 0..subscribers {
        if s % PER_CONNECTION == 0 {
            channel = Some(pki.channel(addr, COORDINATOR).await?);
        }
        let mut client = pb::feed_client::FeedClient::new(channel.clone().expect("opened above"));
        let ready = ready.clone();
        let mut goal = goal_rx.clone();
        tasks.push(tokio::spawn(async move {
            let request = pb::SubscribeRequest {
                after_sequence: 0,
                kinds: vec![pb::EventKind::RepairOrderCreated as i32],
                // The first checkpoint says the replay is done: from then on
                // the subscriber follows live.
                checkpoints: true,
            };
            let mut stream = client.subscribe(request).await?.into_inner();
            let mut caught_up = false;
            let mut latencies = Vec::new();
            loop {
                if latencies.len() >= *goal.borrow_and_update() {
                    break;
                }
                tokio::select! {
                    message = stream.message() => match message? {
                        Some(event) if event.kind == pb::EventKind::Checkpoint as i32 => {
                            if !caught_up {
                                caught_up = true;
                                ready.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        Some(event) => {
                            let now = chrono::Utc::now();
                            let time = event.time.unwrap_or_default();
                            let committed = chrono::DateTime::from_timestamp(time.seconds, time.nanos.max(0) as u32)
                                .unwrap_or(now);
                            latencies.push((now - committed).to_std().unwrap_or_default());
                        }
                        None => break,
                    },
                    changed = goal.changed() => if changed.is_err() { break },
                }
            }
            anyhow::Ok(latencies)
        }));
    }
    let catching_up = Instant::now();
    while ready.load(Ordering::SeqCst) < subscribers {
        if catching_up.elapsed() > Duration::from_secs(120) || tasks.iter().any(|t| t.is_finished()) {
            anyhow::bail!(
                "{} of {subscribers} subscribers caught up; one failed or 120 s passed",
                ready.load(Ordering::SeqCst)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Writers, each paced at its share of the rate.
    let pid = coordinator.pid().map_or_else(|| "self".to_owned(), |p| p.to_string());
    let cpu_before = cpu_seconds(&pid);
    let started = Instant::now();
    let per_writer = Duration::from_secs_f64(WRITERS as f64 / rate.max(1e-3));
    let calls_per_writer = ((rate * seconds) / WRITERS as f64).ceil() as usize;
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let mut client = pb::exchange_client::ExchangeClient::new(pki.channel(addr, USAF).await?);
        let prefix = prefix.to_owned();
        writers.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(per_writer);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut made = 0usize;
            for c in 0..calls_per_writer {
                tick.tick().await;
                let i = w * calls_per_writer + c;
                let request = pb::CreateRepairOrderRequest {
                    repair_order: Some(fixtures::repair_order(USAF, i)),
                    request_id: format!("{prefix}-{i}"),
                    repair_order_id: String::new(),
                };
                if client.create_repair_order(request).await.is_ok() {
                    made += 1;
                }
            }
            made
        }));
    }
    let mut committed = 0;
    for writer in writers {
        committed += writer.await?;
    }
    let writing = started.elapsed();
    let cpu_cores = match (cpu_before, cpu_seconds(&pid)) {
        (Some(before), Some(after)) => Some((after - before) / writing.as_secs_f64().max(1e-9)),
        _ => None,
    };

    // Every subscriber drains what was committed (at most 30 s more).
    let expected = committed * subscribers;
    let _ = goal.send(committed);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut latencies = Vec::with_capacity(expected);
    for task in tasks {
        if let Ok(joined) = tokio::time::timeout_at(deadline, task).await {
            latencies.append(&mut joined??);
        }
    }
    latencies.sort();
    let delivered = latencies.len();
    Ok(Fanout {
        latencies,
        committed,
        expected,
        delivered,
        commit_rate: committed as f64 / writing.as_secs_f64().max(1e-9),
        cpu_cores,
    })
}
