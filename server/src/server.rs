//! Assembles the coordinator: store, core, services, health and reflection,
//! behind mutual TLS (with reloadable certificates and CRLs) and admission
//! control; serves until told to stop, then drains within a grace period.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cosx_proto::v1 as pb;
use tokio::net::TcpListener;
use tonic::transport::Server;

use crate::api::{AllocationService, ExchangeService, FeedService, RegistryService, SignalsService};
use crate::config::CoordinatorConfig;
use crate::coordinator::Coordinator;
use crate::limits::AdmissionLayer;
use crate::tls::{HandshakeLimits, TlsError, TlsReloader};
use crate::{store, tls};

/// A running coordinator.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The core, for in-process inspection.
    pub core: Arc<Coordinator>,
    closing: tokio::sync::watch::Sender<bool>,
    grace: Duration,
    tls: Arc<TlsReloader>,
    poll: Option<tokio::task::JoinHandle<()>>,
    task: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
}

impl Running {
    /// Stops accepting, lets in-flight calls finish (feeds end with a
    /// resumable `UNAVAILABLE`), and waits for the end, at most the grace
    /// period.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.trigger_stop();
        self.wait().await
    }

    /// Waits until the server ends: by itself, or once a stop is triggered,
    /// when the last call finishes or the grace period runs out, whichever
    /// comes first. Calls still running then are abandoned.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let mut closing = self.closing.subscribe();
        let grace = self.grace;
        let deadline = async move {
            let _ = closing.wait_for(|c| *c).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            ended = &mut self.task => ended??,
            () = deadline => {
                tracing::warn!(?grace, "calls still in flight after the shutdown grace period; abandoning them");
                self.task.abort();
            }
        }
        Ok(())
    }

    /// Asks the server to stop without waiting: it stops accepting at once.
    pub fn trigger_stop(&mut self) {
        self.closing.send_replace(true);
    }

    /// Rebuilds the TLS config from its files now (SIGHUP does this). New
    /// handshakes use it; open connections keep theirs. On error the
    /// previous config stays in force.
    pub fn reload_tls(&self) -> Result<(), TlsError> {
        self.tls.reload()
    }

    /// How many TLS configs have been loaded (1 at start), for watching
    /// the file poll take effect.
    pub fn tls_generation(&self) -> u64 {
        self.tls.generation()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(poll) = self.poll.take() {
            poll.abort();
        }
    }
}

/// Opens the store, registers configured parties, binds `config.listen`
/// (port 0 picks a free one) and starts serving.
pub async fn start(config: &CoordinatorConfig) -> anyhow::Result<Running> {
    let tls = TlsReloader::new(&config.tls)?;
    let store = store::connect(&config.database).await?;
    let core = Arc::new(Coordinator::new(store, &config.trust_domain).await?);
    core.follow_store().await?;
    core.bootstrap_parties(config.parties()?).await?;
    // One set of views kept from the log, shared by queries and the alert task.
    let views = Arc::new(tokio::sync::Mutex::new(crate::signals::views::LogViews::default()));
    if config.signals.alerts {
        crate::signals::alerts::spawn(&core, views.clone(), (&config.signals).into());
    }
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter.set_serving::<pb::exchange_server::ExchangeServer<ExchangeService>>().await;
    health_reporter.set_serving::<pb::registry_server::RegistryServer<RegistryService>>().await;
    health_reporter.set_serving::<pb::feed_server::FeedServer<FeedService>>().await;
    health_reporter.set_serving::<pb::signals_server::SignalsServer<SignalsService>>().await;
    health_reporter.set_serving::<pb::allocation_server::AllocationServer<AllocationService>>().await;
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(cosx_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(cosx_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let (closing, closing_rx) = tokio::sync::watch::channel(false);
    let admission = AdmissionLayer::new(&config.limits, &config.trust_domain);
    let max_message = admission.largest_message_limit();
    let router = Server::builder()
        .trace_fn(|req| tracing::info_span!("rpc", method = %req.uri().path(), party = tracing::field::Empty))
        .layer(admission)
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(
            pb::registry_server::RegistryServer::new(RegistryService(core.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            pb::exchange_server::ExchangeServer::new(ExchangeService(core.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            pb::feed_server::FeedServer::new(FeedService(core.clone(), closing_rx.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(pb::signals_server::SignalsServer::new(SignalsService::new(
            core.clone(),
            views,
            config.signals.clone(),
        )))
        .add_service(pb::allocation_server::AllocationServer::new(AllocationService(core.clone())));
    let handshakes =
        HandshakeLimits { timeout: config.limits.handshake_timeout, max_pending: config.limits.max_pending_handshakes };
    let incoming = tls::incoming(listener, tls.clone(), handshakes);
    let mut stop = closing_rx;
    let task = tokio::spawn(router.serve_with_incoming_shutdown(incoming, async move {
        let _ = stop.wait_for(|c| *c).await;
    }));
    let poll = (!config.tls.reload_interval.is_zero()).then(|| tls.spawn_poll(config.tls.reload_interval));
    tracing::info!(%addr, database = %config.database, "coordinator serving cosx.v1 over mutual TLS");
    Ok(Running { addr, core, closing, grace: config.shutdown_grace, tls, poll, task })
}
