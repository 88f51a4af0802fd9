//! A party node: the store-and-forward gateway a party runs next to its own
//! systems (depot MIS, ERP, the `cosx` CLI).
//!
//! It serves the same `cosx.v1` API as the coordinator, plus `cosx.v1.Node`
//! (and `cosx.v1.Webhooks` for the parked deliveries of its webhooks),
//! to clients whose certificates are issued for the node's party (the party
//! named in its upstream certificate); any other party is refused. A write
//! is checked, stored in the node's SQLite outbox and replica, and answered;
//! [`upstream::forward`] then delivers it to the coordinator in order, with
//! backoff, carrying its request id so a repeat is harmless; what the
//! coordinator refuses is kept with the reason and shown on the record.
//! [`upstream::follow`] keeps the replica in step with the coordinator's feed
//! from a stored cursor, so reads work while the link is down, and say how
//! fresh they are.
//!
//! It applies the same write and visibility rules as the coordinator, from
//! `cosx-domain`, and parses and answers through the same edge
//! (`cosx-edge`). Must never: decide differently from the coordinator (the
//! differential test in the e2e suite holds the two to the same answers),
//! or reach into the coordinator's crate — it is a party's program, and
//! speaks to the coordinator only over the exchange's own API.

pub mod api;
pub mod config;
pub mod local;
pub mod metrics;
pub mod store;
pub mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;

use cosx_domain::PartyId;
use cosx_proto::v1::allocation_server::AllocationServer;
use cosx_proto::v1::comments_server::CommentsServer;
use cosx_proto::v1::disruptions_server::DisruptionsServer;
use cosx_proto::v1::exchange_server::ExchangeServer;
use cosx_proto::v1::export_server::ExportServer;
use cosx_proto::v1::feed_server::FeedServer;
use cosx_proto::v1::node_server::NodeServer;
use cosx_proto::v1::quotes_server::QuotesServer;
use cosx_proto::v1::registry_server::RegistryServer;
use cosx_proto::v1::repair_exceptions_server::RepairExceptionsServer;
use cosx_proto::v1::signals_server::SignalsServer;
use cosx_proto::v1::update_requests_server::UpdateRequestsServer;
use cosx_proto::v1::webhooks_server::WebhooksServer;
use tokio::net::TcpListener;

use self::api::{
    Node, NodeAllocation, NodeComments, NodeDisruptions, NodeExceptions, NodeExchange, NodeExport, NodeFeed,
    NodeQuotes, NodeRegistry, NodeSignals, NodeStatusService, NodeUpdateRequests,
};
use self::config::NodeConfig;
use self::store::NodeStore;
use self::upstream::Upstream;
use cosx_edge::listener::{self as edge, Edge, Services, Serving};
use cosx_edge::tls::TlsError;

/// A running node.
pub struct Running {
    /// The address its party's systems connect to.
    pub addr: SocketAddr,
    /// Its state, for in-process inspection.
    pub node: Arc<Node>,
    /// Where it serves metrics, if it does.
    pub metrics_addr: Option<SocketAddr>,
    serving: Serving,
    links: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops serving (calls in flight get the shutdown grace) and
    /// forwarding. Nothing is lost: queued writes stay in the outbox for the
    /// next start.
    pub async fn stop(self) -> anyhow::Result<()> {
        for link in &self.links {
            link.abort();
        }
        self.serving.stop().await?;
        self.node.store.close().await;
        Ok(())
    }

    /// Rebuilds the TLS config from its files now (SIGHUP does this), as
    /// the coordinator does: new handshakes use it, open connections whose
    /// certificate it now refuses are closed.
    pub fn reload_tls(&self) -> Result<(), TlsError> {
        self.serving.reload_tls()
    }

    /// How many TLS configs have been loaded (1 at start).
    pub fn tls_generation(&self) -> u64 {
        self.serving.tls_generation()
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

/// Forgets delivered writes once they are older than `retention`, checking
/// a few times per retention (at most hourly, at least every second), so the
/// outbox holds the writes of one retention and not the node's whole history.
async fn forget_delivered_forever(store: Arc<NodeStore>, retention: std::time::Duration) {
    let every = (retention / 4).clamp(std::time::Duration::from_secs(1), std::time::Duration::from_secs(3600));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(before) =
            chrono::TimeDelta::from_std(retention).ok().and_then(|r| chrono::Utc::now().checked_sub_signed(r))
        else {
            continue;
        };
        match store.forget_delivered(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(writes = n, "forgot delivered writes past the outbox retention"),
            Err(e) => tracing::warn!(error = %e, "could not forget delivered writes; will try again"),
        }
    }
}

/// Opens the node's database, starts the link to the coordinator (which may
/// be down: the node serves regardless) and serves its party's systems.
pub async fn start(config: &NodeConfig) -> anyhow::Result<Running> {
    let party = party_of(&upstream::read_pem("upstream.cert", &config.upstream.cert)?, &config.trust_domain)?;
    let store = Arc::new(NodeStore::open(&config.database).await?);
    let upstream = Arc::new(Upstream::new(&config.upstream, &config.retry)?);
    let node = Arc::new(Node {
        store: store.clone(),
        upstream: upstream.clone(),
        party,
        trust_domain: config.trust_domain.clone(),
        sight: std::sync::Mutex::new(None),
    });
    let mut links = vec![
        tokio::spawn(upstream::forward(store.clone(), upstream.clone())),
        tokio::spawn(upstream::follow(store.clone(), upstream)),
        tokio::spawn(forget_delivered_forever(store, config.outbox_retention)),
    ];
    let listener = TcpListener::bind(config.listen).await?;
    let mut metrics_addr = None;
    if let Some(at) = config.metrics_listen {
        let metrics = TcpListener::bind(at).await?;
        metrics_addr = Some(metrics.local_addr()?);
        links.push(tokio::spawn(metrics::serve(metrics, node.clone())));
    }
    let own = node.party.clone();
    let edge = Edge {
        tls: &config.tls,
        limits: &config.limits,
        trust_domain: &config.trust_domain,
        shutdown_grace: config.shutdown_grace,
        admit: Arc::new(move |party: &str| {
            if party == own.as_str() {
                Ok(())
            } else {
                Err(format!("this node serves party {own}; {party} must use its own node or the coordinator"))
            }
        }),
    };
    // The parked deliveries of the node's webhooks, for its own party only.
    let admitted = node.clone();
    let webhooks = Arc::new(cosx_webhooks::WebhooksService::new(
        cosx_webhooks::store_path_beside(&config.database),
        Arc::new(move |leaf: Option<&[u8]>| admitted.authenticate_leaf(leaf)),
    ));
    let serving = edge::serve(listener, edge, |cx| {
        let n = &node;
        let mut services = Services::new(Some(cosx_console::web_face()));
        services
            .add(RegistryServer::new(NodeRegistry(n.clone())).max_decoding_message_size(cx.max_message))
            .add(ExchangeServer::new(NodeExchange(n.clone())).max_decoding_message_size(cx.max_message))
            .add(FeedServer::new(NodeFeed(n.clone())).max_decoding_message_size(cx.max_message))
            .add(SignalsServer::new(NodeSignals(n.clone())).max_decoding_message_size(cx.max_message))
            .add(AllocationServer::new(NodeAllocation(n.clone())).max_decoding_message_size(cx.max_message))
            .add(ExportServer::new(NodeExport(n.clone())).max_decoding_message_size(cx.max_message))
            .add(QuotesServer::new(NodeQuotes(n.clone())).max_decoding_message_size(cx.max_message))
            .add(RepairExceptionsServer::new(NodeExceptions(n.clone())).max_decoding_message_size(cx.max_message))
            .add(CommentsServer::new(NodeComments(n.clone())).max_decoding_message_size(cx.max_message))
            .add(UpdateRequestsServer::new(NodeUpdateRequests(n.clone())).max_decoding_message_size(cx.max_message))
            .add(DisruptionsServer::new(NodeDisruptions(n.clone())).max_decoding_message_size(cx.max_message))
            .add(NodeServer::new(NodeStatusService(n.clone())).max_decoding_message_size(cx.max_message))
            .add(WebhooksServer::from_arc(webhooks.clone()).max_decoding_message_size(cx.max_message));
        services
    })
    .await?;
    let addr = serving.addr;
    tracing::info!(%addr, party = %node.party, upstream = %config.upstream.endpoint, "node serving cosx.v1 over mutual TLS");
    Ok(Running { addr, node, metrics_addr, serving, links })
}
