//! A party node killed with SIGKILL in the middle of forwarding, again and
//! again, and restarted on the same database: every write it acknowledged
//! reaches the coordinator exactly once, and a write retried with the same
//! request id never makes a second order.
//!
//! `COSX_KILL_ITERATIONS` sets the number of kills (default 4);
//! `COSX_KILL_SEED` replays a run's timings.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use cosx_coordinator::config::CoordinatorConfig;
use cosx_proto::v1 as pb;

use super::harness::*;

/// Writes the PKI, `coordinator.toml` and `node.toml` (the depot's node on
/// `node`, its upstream on `coordinator`, `extra` appended) into `dir`.
pub(crate) fn setup(dir: &Path, coordinator: u16, node: u16, extra: &str) -> anyhow::Result<Pki> {
    let pki = coordinator_dir(dir, coordinator, "")?;
    std::fs::write(
        dir.join("node.toml"),
        format!(
            "listen = \"127.0.0.1:{node}\"\ndatabase = \"sqlite://node.db\"\ntrust_domain = \"rsf.example\"\n\
             [tls]\ncert = \"server.pem\"\nkey = \"server.key\"\nclient_ca = \"ca.pem\"\n\
             [upstream]\nendpoint = \"https://127.0.0.1:{coordinator}\"\nca = \"ca.pem\"\ncert = \"depot.pem\"\n\
             key = \"depot.key\"\nserver_name = \"localhost\"\n\
             [retry]\ninitial_backoff = \"50ms\"\nmax_backoff = \"500ms\"\n\
             [limits]\ncalls_per_second_per_party = 100000.0\nburst_per_party = 100000\n{extra}"
        ),
    )?;
    Ok(pki)
}

pub(crate) fn spawn_node(dir: &Path) -> anyhow::Result<Child> {
    spawn("node", &dir.join("node.toml"), "error")
}

pub(crate) async fn node_status(pki: &Pki, port: u16) -> Result<pb::NodeStatus, tonic::Status> {
    let channel = channel(pki, port).map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    Ok(pb::node_client::NodeClient::new(channel).get_status(pb::GetNodeStatusRequest {}).await?.into_inner())
}

/// Waits until the node answers.
pub(crate) async fn ready(pki: &Pki, port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match node_status(pki, port).await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() > deadline => anyhow::bail!("node never came up: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Writes `w{i}` for i in `from..to` to the node; returns what it
/// acknowledged (request id → order name) and where it stopped.
pub(crate) async fn write(pki: &Pki, port: u16, from: usize, to: usize) -> (BTreeMap<String, String>, usize) {
    let mut acked = BTreeMap::new();
    let Ok(ch) = channel(pki, port) else { return (acked, from) };
    let mut client = pb::exchange_client::ExchangeClient::new(ch);
    for i in from..to {
        let id = format!("w{i}");
        let created = client
            .create_repair_order(pb::CreateRepairOrderRequest {
                repair_order: Some(order(&id, 2)),
                request_id: id.clone(),
                ..Default::default()
            })
            .await;
        match created {
            Ok(o) => {
                acked.insert(id, o.into_inner().name);
            }
            Err(_) => return (acked, i),
        }
    }
    (acked, to)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_while_forwarding_delivers_every_acknowledged_write_exactly_once() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (iterations, seed) = kill_schedule(4);
    let mut rng = seed;
    let dir = tempfile::tempdir()?;
    let (coordinator_port, node_port) = (free_port()?, free_port()?);
    let pki = setup(dir.path(), coordinator_port, node_port, "")?;
    let coordinator =
        cosx_coordinator::server::start(&CoordinatorConfig::load(&dir.path().join("coordinator.toml"))?).await?;

    let mut acked: BTreeMap<String, String> = BTreeMap::new();
    let mut next = 0usize;
    let mut killed_mid_forward = 0;
    for _ in 0..iterations {
        let mut node = spawn_node(dir.path())?;
        ready(&pki, node_port).await?;
        // A burst of writes, and a kill in the middle of it: the node is
        // accepting and forwarding at once, with some writes delivered and
        // some still queued (each accept and each forward is its own commit
        // for one sequential writer, so a backlog is there at any moment).
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let delay = Duration::from_millis(60 + rng % 200);
        let kill = async {
            tokio::time::sleep(delay).await;
            let before = node_status(&pki, node_port).await?;
            node.kill()?; // SIGKILL
            node.wait()?;
            Ok::<_, anyhow::Error>(before)
        };
        let ((got, stopped), before) = tokio::join!(write(&pki, node_port, next, next + 300), kill);
        let before = before?;
        acked.extend(got);
        next = stopped;
        if before.queued_writes > 0 && before.delivered_writes > 0 {
            killed_mid_forward += 1;
        }
    }

    // Restart; retry anything never acknowledged with the same request ids
    // (up to and with the one in flight at the last kill, which the node
    // may or may not have stored); wait for the queue to drain.
    let mut node = spawn_node(dir.path())?;
    ready(&pki, node_port).await?;
    let (got, _) = write(&pki, node_port, 0, next + 1).await;
    for (id, name) in got {
        if let Some(before) = acked.insert(id.clone(), name.clone()) {
            assert_eq!(before, name, "request id {id} answered with two different orders (seed {seed})");
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let status = node_status(&pki, node_port).await?;
        if status.queued_writes == 0 {
            break status;
        }
        anyhow::ensure!(Instant::now() < deadline, "queue never drained (seed {seed}): {status:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.rejected_writes, 0, "seed {seed}: {status:?}");
    Command::new("kill").args(["-TERM", &node.id().to_string()]).status()?;
    node.wait()?;

    // The coordinator holds each acknowledged write once, under the name the node gave.
    let mut client = pb::exchange_client::ExchangeClient::new(channel(&pki, coordinator_port)?);
    let stored = cosx_tests::all_orders(&mut client, "").await?;
    coordinator.stop().await?;
    let serials: Vec<&str> = stored.iter().map(|o| o.item.as_ref().map_or("", |i| i.serial_number.as_str())).collect();
    let unique: BTreeSet<&str> = serials.iter().copied().collect();
    assert_eq!(unique.len(), serials.len(), "a write reached the coordinator twice (seed {seed})");
    let names: BTreeSet<&str> = stored.iter().map(|o| o.name.as_str()).collect();
    for (id, name) in &acked {
        assert!(names.contains(name.as_str()), "acknowledged {id} ({name}) is missing (seed {seed})");
    }
    assert_eq!(stored.len(), acked.len(), "seed {seed}");
    println!("seed {seed}: {killed_mid_forward} of {iterations} kills landed while the node was forwarding");
    assert!(killed_mid_forward > 0, "no kill landed while the node was forwarding (seed {seed})");
    Ok(())
}

/// SIGHUP reloads a node's certificates and CRLs, as it does the
/// coordinator's; it must not end the process.
#[tokio::test]
async fn sighup_reloads_a_node_and_does_not_stop_it() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (coordinator, port) = (free_port()?, free_port()?);
    let pki = setup(dir.path(), coordinator, port, "")?;
    let mut node = spawn_node(dir.path())?;
    ready(&pki, port).await?;
    for _ in 0..3 {
        let hup = Command::new("kill").args(["-HUP", &node.id().to_string()]).status()?;
        assert!(hup.success(), "kill -HUP failed");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(node.try_wait()?.is_none(), "the node exited on SIGHUP");
        node_status(&pki, port).await?;
    }
    node.kill()?;
    node.wait()?;
    Ok(())
}
