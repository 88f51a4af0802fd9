//! A party node: the store-and-forward gateway a party runs next to its own
//! systems (depot MIS, ERP, the `cosx` CLI).
//!
//! It serves the same `cosx.v1` API as the coordinator, plus `cosx.v1.Node`,
//! to clients whose certificates are issued for the node's party (the party
//! named in its upstream certificate); any other party is refused. A write
//! is checked, stored in the node's SQLite outbox and replica, and answered;
//! [`upstream::forward`] then delivers it to the coordinator in order, with
//! backoff, carrying its request id so a repeat is harmless; what the
//! coordinator refuses is kept with the reason and shown on the record.
//! [`upstream::follow`] keeps the replica in step with the coordinator's feed
//! from a stored cursor, so reads work while the link is down, and say how
//! fresh they are.

pub mod api;
pub mod config;
pub mod local;
pub mod metrics;
pub mod store;
pub mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;

use cosx_domain::PartyId;
use cosx_proto::v1 as pb;
use tokio::net::TcpListener;
use tonic::transport::Server;

use self::api::{Node, NodeAllocation, NodeExchange, NodeFeed, NodeRegistry, NodeSignals, NodeStatusService};
use self::config::NodeConfig;
use self::store::NodeStore;
use self::upstream::Upstream;
use crate::limits::AdmissionLayer;
use crate::tls::{self, HandshakeLimits, TlsReloader};

/// A running node.
pub struct Running {
    /// The address its party's systems connect to.
    pub addr: SocketAddr,
    /// Its state, for in-process inspection.
    pub node: Arc<Node>,
    /// Where it serves metrics, if it does.
    pub metrics_addr: Option<SocketAddr>,
    closing: tokio::sync::watch::Sender<bool>,
    links: Vec<tokio::task::JoinHandle<()>>,
    task: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
}

impl Running {
    /// Stops serving and forwarding. Nothing is lost: queued writes stay in
    /// the outbox for the next start.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.closing.send_replace(true);
        for link in &self.links {
            link.abort();
        }
        self.task.await??;
        self.node.store.close().await;
        Ok(())
    }
}

/// The party a PEM certificate names.
fn party_of(cert_pem: &str, trust_domain: &str) -> anyhow::Result<PartyId> {
    let der =
        cosx_certs::pem_to_der(cert_pem).ok_or_else(|| anyhow::anyhow!("upstream.cert is not a PEM certificate"))?;
    let id = cosx_certs::party_id_from_cert(&der, trust_domain)
        .map_err(|e| anyhow::anyhow!("upstream.cert does not name a party of {trust_domain}: {e}"))?;
    PartyId::parse(&id).map_err(|e| anyhow::anyhow!("upstream.cert: {e}"))
}

/// Opens the node's database, starts the link to the coordinator (which may
/// be down: the node serves regardless) and serves its party's systems.
pub async fn start(config: &NodeConfig) -> anyhow::Result<Running> {
    let party = party_of(&upstream::read_pem("upstream.cert", &config.upstream.cert)?, &config.trust_domain)?;
    let tls = TlsReloader::new(&config.tls)?;
    let store = Arc::new(NodeStore::open(&config.database).await?);
    let upstream = Arc::new(Upstream::new(&config.upstream, &config.retry)?);
    let node = Arc::new(Node {
        store: store.clone(),
        upstream: upstream.clone(),
        party,
        trust_domain: config.trust_domain.clone(),
    });
    let mut links = vec![
        tokio::spawn(upstream::forward(store.clone(), upstream.clone())),
        tokio::spawn(upstream::follow(store, upstream)),
    ];
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let mut metrics_addr = None;
    if let Some(at) = config.metrics_listen {
        let metrics = TcpListener::bind(at).await?;
        metrics_addr = Some(metrics.local_addr()?);
        links.push(tokio::spawn(metrics::serve(metrics, node.clone())));
    }

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter.set_serving::<pb::exchange_server::ExchangeServer<NodeExchange>>().await;
    health_reporter.set_serving::<pb::node_server::NodeServer<NodeStatusService>>().await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(cosx_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let admission = AdmissionLayer::new(&config.limits, &config.trust_domain);
    let max_message = admission.largest_message_limit();
    let router = Server::builder()
        .trace_fn(|req| tracing::info_span!("rpc", method = %req.uri().path(), party = tracing::field::Empty))
        .layer(admission)
        .add_service(health)
        .add_service(reflection)
        .add_service(pb::registry_server::RegistryServer::new(NodeRegistry(node.clone())))
        .add_service(
            pb::exchange_server::ExchangeServer::new(NodeExchange(node.clone())).max_decoding_message_size(max_message),
        )
        .add_service(pb::feed_server::FeedServer::new(NodeFeed(node.clone())))
        .add_service(pb::signals_server::SignalsServer::new(NodeSignals(node.clone())))
        .add_service(pb::allocation_server::AllocationServer::new(NodeAllocation(node.clone())))
        .add_service(pb::node_server::NodeServer::new(NodeStatusService(node.clone())));
    let handshakes =
        HandshakeLimits { timeout: config.limits.handshake_timeout, max_pending: config.limits.max_pending_handshakes };
    let incoming = tls::incoming(listener, tls, handshakes);
    let (closing, mut stop) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(router.serve_with_incoming_shutdown(incoming, async move {
        let _ = stop.wait_for(|c| *c).await;
    }));
    tracing::info!(%addr, party = %node.party, upstream = %config.upstream.endpoint, "node serving cosx.v1 over mutual TLS");
    Ok(Running { addr, node, metrics_addr, closing, links, task })
}
