//! Party-node forwarding (issue 19 goal 6): the same `CreateRepairOrder`
//! calls, from the same clients in the same run, sent straight to a
//! coordinator and sent through a party node in front of it. The node
//! answers each call once it is durably queued; its figure is the rate at
//! which the writes *reach the coordinator* (first call to an empty
//! outbox), beside the rate the coordinator takes them directly. Then the
//! node's database on disk after those forwarded writes, with a short
//! outbox retention so delivered writes are forgotten as the node runs.

use std::time::{Duration, Instant};

use cosx_node::config::{NodeConfig, RetryConfig, UpstreamConfig};
use cosx_proto::v1 as pb;

use crate::exchange::{Pki, USAF};
use crate::ingest::Db;
use crate::{Figure, measure};

/// How the node under test is set up.
pub(crate) struct NodeRun {
    /// Writes sent each way.
    pub(crate) writes: usize,
    /// Concurrent clients (each on its own mTLS connection), both ways.
    pub(crate) clients: usize,
    /// The node's outbox retention.
    pub(crate) retention: Duration,
}

fn node_config(pki: &Pki, upstream: std::net::SocketAddr, retention: Duration) -> anyhow::Result<NodeConfig> {
    let dir = pki.dir.path();
    let issued = pki.ca().issue_party(USAF)?;
    let (cert, key) = (dir.join("pki/node-party.pem"), dir.join("pki/node-party.key"));
    std::fs::write(&cert, &issued.cert_pem)?;
    std::fs::write(&key, &issued.key_pem)?;
    let tls = pki.tls().clone();
    Ok(NodeConfig {
        listen: "127.0.0.1:0".parse()?,
        database: format!("sqlite://{}", dir.join("node.db").display()),
        trust_domain: crate::exchange::TRUST_DOMAIN.into(),
        log_format: cosx_edge::config::LogFormat::Text,
        upstream: UpstreamConfig {
            endpoint: format!("https://127.0.0.1:{}", upstream.port()),
            ca: tls.client_ca.clone(),
            cert,
            key,
            server_name: Some("localhost".into()),
        },
        tls,
        retry: RetryConfig::default(),
        limits: cosx_edge::config::Limits {
            calls_per_second_per_party: 1e9,
            burst_per_party: u32::MAX / 2,
            max_concurrent_calls: 4096,
            max_concurrent_calls_per_party: 4096,
            ..Default::default()
        },
        shutdown_grace: Duration::from_secs(5),
        metrics_listen: None,
        outbox_retention: retention,
        webhooks: Vec::new(),
    })
}

/// Bytes on disk of the SQLite database at `path` (with its WAL and shared memory files).
fn size_on_disk(path: &std::path::Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok())
        .map(|m| m.len())
        .sum()
}

/// Runs the comparison and appends its figures.
pub(crate) async fn forwarding(pki: &Pki, run: &NodeRun, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let db = Db::create(None, pki.dir.path(), "node-forwarding-coordinator").await?;
    let coordinator = pki.start_coordinator(&db).await?;
    let addr = coordinator.addr;
    let size = run.writes.to_string();

    // Straight to the coordinator.
    let mut channels = Vec::new();
    for _ in 0..run.clients {
        channels.push(pki.channel(addr, USAF).await?);
    }
    eprintln!("node forwarding: {} creates straight to the coordinator", run.writes);
    let direct = measure::unary_creates(channels, run.writes, "direct").await?;
    anyhow::ensure!(direct.errors == 0, "direct creates failed: {:?}", direct.first_error);

    // Through a node: answered once queued, timed until the coordinator has them all.
    let config = node_config(pki, addr, run.retention)?;
    let node = cosx_node::start(&config).await?;
    let mut channels = Vec::new();
    for _ in 0..run.clients {
        channels.push(pki.channel(node.addr, USAF).await?);
    }
    // The warm-up calls are forwarded too: wait for them before timing.
    let warm = measure::unary_creates(channels.clone(), 0, "warm").await?;
    anyhow::ensure!(warm.errors == 0, "warm-up through the node failed: {:?}", warm.first_error);
    drained(&node, Duration::from_secs(60)).await?;
    eprintln!("node forwarding: {} creates through the node", run.writes);
    let started = Instant::now();
    let accepted = measure::unary_creates(channels, run.writes, "via-node").await?;
    anyhow::ensure!(accepted.errors == 0, "creates through the node failed: {:?}", accepted.first_error);
    let status = drained(&node, Duration::from_secs(3600)).await?;
    let forwarded = started.elapsed();
    anyhow::ensure!(status.rejected_writes == 0, "the coordinator refused forwarded writes: {status:?}");
    // Each client's untimed first call is forwarded inside the timed span too.
    let forwarded_rate = (run.writes + run.clients) as f64 / forwarded.as_secs_f64().max(1e-9);
    figures.push(
        Figure::new("6 party node", "creates forwarded through a node", &size, forwarded_rate, "writes/s")
            .against("straight to the coordinator, same clients", direct.rate())
            .note(format!(
                "{} clients; node answered at {:.0}/s (p50 {:.2} ms, p99 {:.2} ms); forwarded = first call to empty \
                 outbox ({:.1} s)",
                run.clients,
                accepted.rate(),
                accepted.quantile_ms(0.5),
                accepted.quantile_ms(0.99),
                forwarded.as_secs_f64(),
            )),
    );

    // The outbox after the writes: delivered entries go after the retention.
    let path = config.database.trim_start_matches("sqlite://").to_owned();
    let path = std::path::Path::new(&path);
    let before = size_on_disk(path);
    let deadline = Instant::now() + run.retention * 3 + Duration::from_secs(120);
    let status = loop {
        let status = cosx_node::api::status(&node.node).await?;
        if status.delivered_writes == 0 || Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let after = size_on_disk(path);
    figures.push(
        Figure::new("6 party node", "node database after forwarded writes", &size, after as f64 / 1e6, "MB").note(
            format!(
                "outbox retention {:?}: {} delivered writes kept (of {}), {} queued; {:.1} MB before forgetting; the \
                 replica and event log keep every record the party may see",
                run.retention,
                status.delivered_writes,
                run.writes + 2 * run.clients,
                status.queued_writes,
                before as f64 / 1e6,
            ),
        ),
    );
    node.stop().await?;
    coordinator.stop().await?;
    db.remove().await?;
    Ok(())
}

/// Waits until the node's outbox has nothing queued.
async fn drained(node: &cosx_node::Running, limit: Duration) -> anyhow::Result<pb::NodeStatus> {
    let deadline = Instant::now() + limit;
    loop {
        let status = cosx_node::api::status(&node.node).await?;
        if status.queued_writes == 0 {
            return Ok(status);
        }
        anyhow::ensure!(Instant::now() < deadline, "the node's outbox did not drain within {limit:?}: {status:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
