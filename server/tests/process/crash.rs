//! Crash safety: the real `cosx-server coordinator` process is SIGKILLed at
//! random moments while several clients write, then restarted on the same
//! database. Every write a client saw acknowledged must be there exactly
//! once, retried writes must not duplicate, no split may be half applied,
//! and the audit chain must verify.
//!
//! `COSX_KILL_ITERATIONS` sets the number of kills (default 3; the long run
//! uses 100). `COSX_KILL_SEED` replays a run's timings.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cosx_proto::v1 as pb;

use super::harness::*;
use tonic::transport::Channel;

const WRITERS: usize = 4;

/// What the clients saw: request id → the order name acknowledged, and
/// splits acknowledged (parent name → part quantities).
#[derive(Default)]
struct Seen {
    acked: BTreeMap<String, String>,
    attempted: BTreeSet<String>,
    splits: BTreeMap<String, Vec<u32>>,
}

/// One writer: creates orders with ids `w{k}-{i}`; every fourth one it also
/// splits. A write that fails is retried with the same id after a restart.
async fn writer(k: usize, ch: Channel, seen: Arc<Mutex<Seen>>, mut next: usize, stop: Instant) -> usize {
    let mut client = pb::exchange_client::ExchangeClient::new(ch);
    while Instant::now() < stop {
        let id = format!("w{k}-{next}");
        seen.lock().unwrap().attempted.insert(id.clone());
        let created = client
            .create_repair_order(pb::CreateRepairOrderRequest {
                repair_order: Some(order(&id, 4)),
                request_id: id.clone(),
                ..Default::default()
            })
            .await;
        let Ok(created) = created else { return next };
        let created = created.into_inner();
        {
            let mut s = seen.lock().unwrap();
            if let Some(before) = s.acked.insert(id.clone(), created.name.clone()) {
                assert_eq!(before, created.name, "a retried request id created a second order");
            }
        }
        if next.is_multiple_of(4) {
            let split = client
                .split_repair_order(pb::SplitRepairOrderRequest {
                    name: created.name.clone(),
                    version: created.version,
                    quantities: vec![1, 3],
                    request_id: format!("{id}-split"),
                })
                .await;
            match split {
                Ok(_) => {
                    seen.lock().unwrap().splits.insert(created.name.clone(), vec![1, 3]);
                }
                Err(_) => return next,
            }
        }
        next += 1;
    }
    next
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_and_duplicates_no_acknowledged_write() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (iterations, seed) = kill_schedule(3);
    let mut rng = seed;
    let dir = tempfile::tempdir()?;
    let port = free_port()?;
    let pki = coordinator_dir(dir.path(), port, "shutdown_grace = \"2s\"")?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut next = [0usize; WRITERS];
    let started = Instant::now();

    for _ in 0..iterations {
        let mut child = spawn("coordinator", &dir.path().join("coordinator.toml"), "error")?;
        coordinator_ready(&pki, port).await?;
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let kill_after = Duration::from_millis(50 + rng % 450);
        let stop = Instant::now() + Duration::from_secs(30);
        let tasks: Vec<_> = (0..WRITERS)
            .map(|k| tokio::spawn(writer(k, channel(&pki, port).unwrap(), seen.clone(), next[k], stop)))
            .collect();
        tokio::time::sleep(kill_after).await;
        child.kill()?; // SIGKILL
        child.wait()?;
        for (k, task) in tasks.into_iter().enumerate() {
            next[k] = task.await?;
        }
    }

    // Restart, retry every write that was never acknowledged (same ids), and look.
    let mut child = spawn("coordinator", &dir.path().join("coordinator.toml"), "error")?;
    coordinator_ready(&pki, port).await?;
    let mut client = pb::exchange_client::ExchangeClient::new(channel(&pki, port)?);
    let unacked: Vec<String> = {
        let s = seen.lock().unwrap();
        s.attempted.iter().filter(|id| !s.acked.contains_key(*id)).cloned().collect()
    };
    for id in &unacked {
        let created = client
            .create_repair_order(pb::CreateRepairOrderRequest {
                repair_order: Some(order(id, 4)),
                request_id: id.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        seen.lock().unwrap().acked.insert(id.clone(), created.name);
    }
    let all = cosx_tests::all_orders(&mut client, "").await?;
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status()?;
    child.wait()?;

    let s = std::mem::take(&mut *seen.lock().unwrap());
    let originals: Vec<&pb::RepairOrder> = all.iter().filter(|o| o.parent.is_empty()).collect();
    let mut by_request: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for o in &originals {
        let serial = o.item.as_ref().map_or("", |i| i.serial_number.as_str());
        by_request.entry(serial).or_default().push(&o.name);
    }
    for (id, name) in &s.acked {
        let found = by_request.get(id.as_str()).cloned().unwrap_or_default();
        assert_eq!(found, vec![name.as_str()], "request {id}: acknowledged as {name}, stored as {found:?}");
    }
    assert_eq!(originals.len(), s.acked.len(), "orders stored that no request accounts for");
    // No split half applied: a parent with parts is cancelled and its parts
    // add up; every acknowledged split is there in full.
    let mut parts: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for o in all.iter().filter(|o| !o.parent.is_empty()) {
        parts.entry(o.parent.as_str()).or_default().push(o.quantity);
    }
    for (parent, quantities) in &parts {
        let p = all.iter().find(|o| o.name == *parent).expect("a part's parent exists");
        assert_eq!(p.state, pb::RepairOrderState::Cancelled as i32, "{parent} has parts but is not cancelled");
        assert_eq!(quantities.iter().sum::<u32>(), p.quantity, "{parent}: parts {quantities:?}");
    }
    for (parent, expected) in &s.splits {
        let mut got = parts.get(parent.as_str()).cloned().unwrap_or_default();
        got.sort_unstable();
        assert_eq!(&got, expected, "acknowledged split of {parent}");
    }

    // The audit chain verifies.
    let url = format!("sqlite://{}", dir.path().join("coordinator.db").display());
    let store = cosx_coordinator::store::connect(&url).await?;
    let verified = cosx_coordinator::audit::verify_store(store.as_ref()).await?;
    let entries = verified.map_err(|b| anyhow::anyhow!("audit chain broken at {}: {}", b.sequence, b.reason))?;
    println!(
        "kill loop: seed {seed}, {iterations} SIGKILLs in {:.1}s, {} writes acknowledged ({} unacknowledged at the last kill, retried with their ids), \
         {} splits, {} audit entries verified; 0 lost, 0 duplicated",
        started.elapsed().as_secs_f64(),
        s.acked.len(),
        unacked.len(),
        s.splits.len(),
        entries
    );
    Ok(())
}
