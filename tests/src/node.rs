//! Party nodes for tests: a real node (its own SQLite file, real mTLS both
//! ways) in front of a [`TestExchange`], optionally through a [`LinkProxy`]
//! that can cut the link to the coordinator, or cut it at random.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cosx_coordinator::config::{LogFormat, TlsConfig};
use cosx_node::config::{NodeConfig, RetryConfig, UpstreamConfig};
use cosx_node::{self as node, Running};
use cosx_proto::v1 as pb;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tonic::transport::Channel;

use crate::{TRUST_DOMAIN, TestExchange};

/// A running test node.
pub struct TestNode {
    /// Its configuration (database, upstream, ...).
    pub config: NodeConfig,
    /// The node, while it runs.
    pub running: Option<Running>,
    /// The party it acts for.
    pub party: String,
}

impl TestExchange {
    /// A node for `party` whose upstream is `upstream` (the coordinator, or
    /// a proxy in front of it).
    pub fn node_config(&self, party: &str, upstream: SocketAddr) -> anyhow::Result<NodeConfig> {
        let pki = self.dir.path().join("pki");
        let issued = self.ca.issue_party(party)?;
        let (cert, key) = (pki.join(format!("{party}.pem")), pki.join(format!("{party}.key")));
        std::fs::write(&cert, &issued.cert_pem)?;
        std::fs::write(&key, &issued.key_pem)?;
        Ok(NodeConfig {
            listen: "127.0.0.1:0".parse()?,
            database: format!("sqlite://{}", self.dir.path().join(format!("node-{party}.db")).display()),
            trust_domain: TRUST_DOMAIN.into(),
            log_format: LogFormat::Text,
            tls: TlsConfig::new(pki.join("server.pem"), pki.join("server.key"), pki.join("ca.pem")),
            upstream: UpstreamConfig {
                endpoint: format!("https://127.0.0.1:{}", upstream.port()),
                ca: pki.join("ca.pem"),
                cert,
                key,
                server_name: Some("localhost".into()),
            },
            retry: RetryConfig {
                initial_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_millis(500),
                max_attempts: 0,
                call_timeout: Duration::from_secs(5),
            },
            limits: cosx_coordinator::config::Limits {
                calls_per_second_per_party: 100_000.0,
                burst_per_party: 100_000,
                ..Default::default()
            },
            shutdown_grace: cosx_coordinator::config::DEFAULT_SHUTDOWN_GRACE,
            metrics_listen: Some("127.0.0.1:0".parse()?),
            outbox_retention: cosx_node::config::DEFAULT_OUTBOX_RETENTION,
            webhooks: Vec::new(),
        })
    }

    /// Starts a node for `party` in front of this exchange's coordinator.
    pub async fn start_node(&self, party: &str) -> anyhow::Result<TestNode> {
        self.start_node_via(party, self.addr()).await
    }

    /// Starts a node for `party` whose upstream is `upstream`.
    pub async fn start_node_via(&self, party: &str, upstream: SocketAddr) -> anyhow::Result<TestNode> {
        self.start_node_from(party, self.node_config(party, upstream)?).await
    }

    /// Starts a node for `party` from `config` (e.g. [`Self::node_config`] changed).
    pub async fn start_node_from(&self, party: &str, config: NodeConfig) -> anyhow::Result<TestNode> {
        let running = node::start(&config).await?;
        Ok(TestNode { config, running: Some(running), party: party.to_owned() })
    }

    /// A channel to `node`, presenting its party's certificate.
    pub async fn node_channel(&self, node: &TestNode) -> anyhow::Result<Channel> {
        let issued = self.ca.issue_party(&node.party)?;
        self.channel_to(node.addr(), Some(&issued), self.ca.cert_pem()).await
    }

    /// The writes `node` says the coordinator refused, through its `Node` API.
    pub async fn rejected_writes(&self, node: &TestNode) -> anyhow::Result<Vec<pb::Write>> {
        let mut client = pb::node_client::NodeClient::new(self.node_channel(node).await?);
        let request = pb::ListWritesRequest { state: pb::WriteState::Rejected as i32, ..Default::default() };
        Ok(client.list_writes(request).await?.into_inner().writes)
    }
}

impl TestNode {
    /// Where the node listens.
    pub fn addr(&self) -> SocketAddr {
        self.running.as_ref().map_or(self.config.listen, |r| r.addr)
    }

    /// Stops the node (its outbox stays on disk).
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(r) = self.running.take() {
            self.config.listen = r.addr;
            r.stop().await?;
        }
        Ok(())
    }

    /// Starts it again on the same database and port.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await?;
        self.running = Some(node::start(&self.config).await?);
        Ok(())
    }

    /// Its status, read in process.
    pub async fn status(&self) -> anyhow::Result<pb::NodeStatus> {
        let running = self.running.as_ref().ok_or_else(|| anyhow::anyhow!("node not running"))?;
        Ok(node::api::status(&running.node).await?)
    }

    /// Waits until nothing is queued and the replica has caught up with
    /// everything the coordinator had when the queue emptied (a checkpoint
    /// as of then or later), or fails after `limit`.
    pub async fn settled(&self, limit: Duration) -> anyhow::Result<pb::NodeStatus> {
        let deadline = Instant::now() + limit;
        let mut empty_since = None;
        loop {
            let now = chrono::Utc::now();
            let status = self.status().await?;
            if status.queued_writes == 0 {
                let since = *empty_since.get_or_insert(now);
                if synced_at(&status).is_some_and(|t| t >= since) {
                    return Ok(status);
                }
            } else {
                empty_since = None;
            }
            if Instant::now() > deadline {
                anyhow::bail!("node did not settle within {limit:?}: {status:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// When the node's replica was last known complete (its last checkpoint).
pub fn synced_at(status: &pb::NodeStatus) -> Option<chrono::DateTime<chrono::Utc>> {
    let t = status.last_sync_time.as_ref()?;
    chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)
}

/// A TCP proxy between a node and the coordinator that can refuse
/// connections (the link is down), cut the open ones, or cut each
/// connection after a random short life (a flaky link).
pub struct LinkProxy {
    /// Where the node should connect.
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    flaky: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
    /// Connections cut so far.
    pub cut_count: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LinkProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A small deterministic generator, so a failing run can be replayed.
fn next_random(state: &AtomicU64) -> u64 {
    let mut x = state.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl LinkProxy {
    /// Starts a proxy to `target`, link up.
    pub async fn start(target: SocketAddr, seed: u64) -> anyhow::Result<LinkProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (up, flaky) = (Arc::new(AtomicBool::new(true)), Arc::new(AtomicBool::new(false)));
        let (cuts, _) = watch::channel(0u64);
        let cut_count = Arc::new(AtomicU64::new(0));
        let random = Arc::new(AtomicU64::new(seed));
        let task = {
            let (up, flaky, cuts, cut_count) = (up.clone(), flaky.clone(), cuts.clone(), cut_count.clone());
            tokio::spawn(async move {
                while let Ok((inbound, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    let mut cut = cuts.subscribe();
                    let life =
                        flaky.load(Ordering::SeqCst).then(|| Duration::from_millis(20 + next_random(&random) % 300));
                    let cut_count = cut_count.clone();
                    tokio::spawn(async move {
                        let Ok(mut outbound) = TcpStream::connect(target).await else {
                            return;
                        };
                        let mut inbound = inbound;
                        let lifetime = async {
                            match life {
                                Some(d) => tokio::time::sleep(d).await,
                                None => std::future::pending().await,
                            }
                        };
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = cut.changed() => { cut_count.fetch_add(1, Ordering::Relaxed); }
                            () = lifetime => { cut_count.fetch_add(1, Ordering::Relaxed); }
                        }
                    });
                }
            })
        };
        Ok(LinkProxy { addr, up, flaky, cuts, cut_count, task })
    }

    /// Takes the link down: open connections are cut, new ones refused.
    pub fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    /// Brings the link back.
    pub fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// From now on every connection is cut after a random 20–320 ms.
    pub fn flaky(&self, on: bool) {
        self.flaky.store(on, Ordering::SeqCst);
        if !on {
            self.cuts.send_modify(|n| *n += 1);
        }
    }
}
