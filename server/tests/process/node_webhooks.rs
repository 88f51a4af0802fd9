//! A party node's webhooks when the node process is SIGKILLed mid-delivery,
//! again and again, and restarted on the same files: the real
//! `cosx-server node` delivers its party's feed to a real HTTP receiver
//! (which also fails some requests with 500), and in the end every event
//! the party may see has arrived, in sequence order, signed, none lost or
//! reordered; a kill repeats at most the one event in flight.
//!
//! `COSX_KILL_ITERATIONS` sets the number of kills (default 4);
//! `COSX_KILL_SEED` replays a run's timings.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use cosx_coordinator::config::CoordinatorConfig;
use cosx_proto::v1 as pb;

use super::harness::*;
use super::node_crash::{node_status, ready, setup, spawn_node, write};

#[path = "../../../webhooks/tests/support/mod.rs"]
mod support;
use support::{Answer, Receiver, Server};

/// The sequences the depot sees on the coordinator's feed, read until quiet.
async fn depot_feed(pki: &Pki, port: u16) -> anyhow::Result<Vec<i64>> {
    let mut feed = pb::feed_client::FeedClient::new(channel(pki, port)?);
    let mut stream = feed.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    let mut seqs = Vec::new();
    while let Ok(next) = tokio::time::timeout(Duration::from_millis(500), stream.message()).await {
        let Some(event) = next? else { break };
        seqs.push(event.sequence);
    }
    Ok(seqs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_resumes_its_webhook_deliveries_in_order_losing_none() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (iterations, seed) = kill_schedule(4);
    let mut rng = seed;
    let dir = tempfile::tempdir()?;
    let receiver = Receiver::default();
    // Every third request fails with a 500, so kills also land between retries.
    for _ in 0..2000 {
        receiver.plan("erp", &[Answer::Accept, Answer::Accept, Answer::Fail500]);
    }
    let server = Server::start("127.0.0.1:0".parse()?, receiver.clone()).await;
    std::fs::write(dir.path().join("webhook.hmac"), format!("{}\n", support::SECRET))?;
    let hook = format!(
        "[[webhooks]]\nname = \"erp\"\nurl = \"{}\"\nsecret_file = \"webhook.hmac\"\nmax_attempts = 1000\n\
         initial_backoff = \"10ms\"\nmax_backoff = \"100ms\"\nrequest_timeout = \"2s\"\nretry_poll = \"100ms\"\n",
        server.url()
    );
    let (coordinator_port, node_port) = (free_port()?, free_port()?);
    let pki = setup(dir.path(), coordinator_port, node_port, &hook)?;
    let coordinator =
        cosx_coordinator::server::start(&CoordinatorConfig::load(&dir.path().join("coordinator.toml"))?).await?;

    let started = Instant::now();
    let mut next = 0usize;
    let mut acked = 0usize;
    let mut killed_mid_delivery = 0;
    // Kill `iterations` times; if no kill has yet landed while events were
    // waiting (a fast machine delivers quickly), go on killing right after
    // the writes, up to four times as often.
    let mut kills = 0;
    while kills < iterations || (killed_mid_delivery == 0 && kills < 4 * iterations) {
        let pause = if kills < iterations { rng % 200 } else { 0 };
        kills += 1;
        let mut node = spawn_node(dir.path())?;
        ready(&pki, node_port).await?;
        let (got, stopped) = write(&pki, node_port, next, next + 60).await;
        (acked, next) = (acked + got.len(), stopped);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        tokio::time::sleep(Duration::from_millis(pause)).await;
        node.kill()?; // SIGKILL: the deliverer gets no chance to finish or save anything
        let delivered = receiver.delivered("erp").len();
        node.wait()?;
        // What the coordinator has now is what it had at the kill (only the node wrote).
        if delivered < depot_feed(&pki, coordinator_port).await?.len() {
            killed_mid_delivery += 1;
        }
    }

    // Restart once more; once its outbox is at the coordinator, let it catch up.
    let mut node = spawn_node(dir.path())?;
    ready(&pki, node_port).await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while node_status(&pki, node_port).await?.queued_writes > 0 {
        anyhow::ensure!(Instant::now() < deadline, "seed {seed}: the node's outbox never drained");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let expected = depot_feed(&pki, coordinator_port).await?;
    anyhow::ensure!(expected.len() >= acked, "the depot sees its {acked} orders: {}", expected.len());
    while receiver.delivered("erp") != expected {
        anyhow::ensure!(
            Instant::now() < deadline,
            "seed {seed}: delivered {} of {} events",
            receiver.delivered("erp").len(),
            expected.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Command::new("kill").args(["-TERM", &node.id().to_string()]).status()?;
    node.wait()?;
    server.stop().await;
    coordinator.stop().await?;

    // In order: an arrival never goes back before the one before it (a
    // repeat is the event that was in flight), and every one is signed.
    let arrivals = receiver.arrivals("erp");
    let mut repeats = 0;
    for pair in arrivals.windows(2) {
        assert!(
            pair[1].sequence >= pair[0].sequence,
            "seed {seed}: {} arrived after {}",
            pair[1].sequence,
            pair[0].sequence
        );
        if pair[1].sequence == pair[0].sequence && pair[0].accepted {
            repeats += 1;
        }
    }
    for a in &arrivals {
        assert!(a.verified, "seed {seed}: sequence {} does not verify", a.sequence);
        let event: pb::Event = serde_json::from_slice(&a.body)?;
        assert_eq!(event.sequence, a.sequence, "Cosx-Event-Sequence is the body's sequence");
    }
    assert!(killed_mid_delivery > 0, "seed {seed}: no kill landed while events were waiting to be delivered");
    assert!(repeats <= kills, "seed {seed}: {repeats} repeats of a delivered event for {kills} kills");
    println!(
        "node webhook kill loop: seed {seed}, {kills} SIGKILLs ({killed_mid_delivery} mid-delivery) in {:.1}s, \
         {} events delivered in order from {} requests ({repeats} repeated after a kill); 0 lost, 0 reordered",
        started.elapsed().as_secs_f64(),
        expected.len(),
        arrivals.len(),
    );
    Ok(())
}
