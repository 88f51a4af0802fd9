//! Assembles the coordinator: store, core, services, health and reflection,
//! behind mutual TLS (with reloadable certificates and CRLs) and admission
//! control; serves until told to stop, then drains within a grace period.

use std::net::SocketAddr;
use std::sync::Arc;

use cosx_proto::v1::allocation_server::AllocationServer;
use cosx_proto::v1::comments_server::CommentsServer;
use cosx_proto::v1::disruptions_server::DisruptionsServer;
use cosx_proto::v1::exchange_server::ExchangeServer;
use cosx_proto::v1::export_server::ExportServer;
use cosx_proto::v1::quotes_server::QuotesServer;
use cosx_proto::v1::registry_server::RegistryServer;
use cosx_proto::v1::repair_exceptions_server::RepairExceptionsServer;
use cosx_proto::v1::update_requests_server::UpdateRequestsServer;
use cosx_proto::v1::webhooks_server::WebhooksServer;
use tokio::net::TcpListener;

use crate::api::{
    AllocationService, CommentsService, DisruptionsService, ExceptionsService, ExchangeService, ExportService,
    FeedRoutes, FeedService, QuotesService, RegistryService, SignalsRoutes, SignalsService, UpdateRequestsService,
};
use crate::config::CoordinatorConfig;
use crate::coordinator::Coordinator;
use crate::store;
use cosx_edge::listener::{AbortOnDrop, Edge, Services, Serving};
use cosx_edge::tls::TlsError;

/// A running coordinator.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The core, for in-process inspection.
    pub core: Arc<Coordinator>,
    serving: Serving,
    metrics_addr: Option<SocketAddr>,
    _metrics: Option<AbortOnDrop>,
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
    pub async fn wait(self) -> anyhow::Result<()> {
        self.serving.wait().await
    }

    /// Asks the server to stop without waiting: it stops accepting at once.
    pub fn trigger_stop(&mut self) {
        self.serving.trigger_stop();
    }

    /// Rebuilds the TLS config from its files now (SIGHUP does this). New
    /// handshakes use it; open connections whose certificate it now refuses
    /// are closed. On error the previous config stays in force.
    pub fn reload_tls(&self) -> Result<(), TlsError> {
        self.serving.reload_tls()
    }

    /// How many TLS configs have been loaded (1 at start), for watching
    /// the file poll take effect.
    pub fn tls_generation(&self) -> u64 {
        self.serving.tls_generation()
    }

    /// Where Prometheus metrics are served, if they are.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }
}

/// Opens the store, registers configured parties, binds `config.listen`
/// (port 0 picks a free one) and starts serving.
pub async fn start(config: &CoordinatorConfig) -> anyhow::Result<Running> {
    let store = store::connect(&config.database).await?;
    let core = Arc::new(
        Coordinator::new(store, &config.trust_domain)
            .await?
            .with_security_assistance_nations(config.allocation.nations()?),
    );
    core.follow_store().await?;
    core.bootstrap_parties(config.parties()?).await?;
    // One set of views kept from the log, shared by queries and the alert task.
    let views = Arc::new(tokio::sync::Mutex::new(crate::signals::views::LogViews::default()));
    if config.signals.alerts {
        crate::signals::alerts::spawn(&core, views.clone(), (&config.signals).into());
    }
    spawn_update_request_sweep(&core, &config.signals);
    let listener = TcpListener::bind(config.listen).await?;
    let admitted = core.clone();
    let edge = Edge {
        tls: &config.tls,
        limits: &config.limits,
        trust_domain: &config.trust_domain,
        shutdown_grace: config.shutdown_grace,
        admit: Arc::new(move |party: &str| admitted.admits(party)),
    };
    // The parked deliveries of the coordinator's webhooks (which follow the
    // feed as a coordinating party), for coordinating parties only.
    let managers = core.clone();
    let webhooks = Arc::new(cosx_webhooks::WebhooksService::new(
        cosx_webhooks::store_path_beside(&config.database),
        Arc::new(move |leaf: Option<&[u8]>| {
            let caller = managers.authenticate(leaf)?;
            tracing::Span::current().record("party", caller.id().as_str());
            if caller.is_coordinator() {
                Ok(())
            } else {
                Err(tonic::Status::permission_denied(
                    "only a COORDINATOR party may see or retry the coordinator's parked webhook deliveries",
                ))
            }
        }),
    ));
    let serving = cosx_edge::listener::serve(listener, edge, |cx| {
        let signals = Arc::new(SignalsService::new(core.clone(), views.clone(), config.signals.clone()));
        let mut services = Services::new(Some(cosx_console::web_face()));
        services
            .add(RegistryServer::new(RegistryService(core.clone())).max_decoding_message_size(cx.max_message))
            .add(ExchangeServer::new(ExchangeService(core.clone())).max_decoding_message_size(cx.max_message))
            .add(QuotesServer::new(QuotesService(core.clone())).max_decoding_message_size(cx.max_message))
            .add(CommentsServer::new(CommentsService(core.clone())).max_decoding_message_size(cx.max_message))
            .add(
                UpdateRequestsServer::new(UpdateRequestsService(core.clone()))
                    .max_decoding_message_size(cx.max_message),
            )
            .add(RepairExceptionsServer::new(ExceptionsService(core.clone())).max_decoding_message_size(cx.max_message))
            .add(DisruptionsServer::new(DisruptionsService(core.clone())).max_decoding_message_size(cx.max_message))
            .add(FeedRoutes::new(
                FeedService::new(core.clone(), cx.closing.clone(), config.limits.max_subscriptions_per_party),
                cx.max_message,
            ))
            .add(SignalsRoutes::new(signals.clone(), cx.max_message))
            .add(ExportServer::new(ExportService::new(core.clone(), signals)).max_decoding_message_size(cx.max_message))
            .add(
                AllocationServer::new(AllocationService::new(core.clone(), views.clone()))
                    .max_decoding_message_size(cx.max_message),
            )
            .add(WebhooksServer::from_arc(webhooks.clone()).max_decoding_message_size(cx.max_message));
        services
    })
    .await?;
    let (metrics_addr, metrics) = match config.metrics_listen {
        Some(at) => {
            let metrics = TcpListener::bind(at).await?;
            let metrics_addr = metrics.local_addr()?;
            (Some(metrics_addr), Some(AbortOnDrop(tokio::spawn(serve_metrics(metrics, core.clone())))))
        }
        None => (None, None),
    };
    let addr = serving.addr;
    tracing::info!(%addr, database = %config.database, "coordinator serving cosx.v1 over mutual TLS");
    Ok(Running { addr, core, serving, metrics_addr, _metrics: metrics })
}

/// The coordinator's own requests for update: every
/// `update_request_sweep_every` a full sweep (missing monthly reports on
/// today's date, then satisfied requests), and after commits (at most once
/// a second) the satisfied requests only, so a request closes soon after
/// its newer version is written. The rules are `cosx_domain::update_requests`.
fn spawn_update_request_sweep(core: &Arc<Coordinator>, signals: &crate::config::SignalsConfig) {
    let weak = Arc::downgrade(core);
    let mut head = core.watch_head();
    let (every, after_days) = (signals.update_request_sweep_every, signals.missing_report_after_days);
    tokio::spawn(async move {
        // The first full sweep waits one period: a restart does not ask at once.
        let mut full = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            let whole = tokio::select! {
                _ = full.tick() => true,
                changed = head.changed() => if changed.is_err() { return } else { false },
            };
            let Some(core) = weak.upgrade() else { return };
            let done = if whole {
                core.sweep_update_requests(chrono::Utc::now().date_naive(), after_days).await.map(|_| ())
            } else {
                core.close_satisfied_update_requests().await.map(|_| ())
            };
            if let Err(e) = done {
                tracing::warn!(error = %e, "the requests-for-update sweep failed; retrying later");
            }
            drop(core);
            // Commits meanwhile are seen by `changed` on the next turn.
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });
}

/// Serves `GET /metrics` for the coordinator on `listener` until the task
/// is dropped.
async fn serve_metrics(listener: TcpListener, core: Arc<Coordinator>) {
    cosx_edge::metrics::serve_with(listener, move || {
        let core = core.clone();
        async move {
            let head = *core.watch_head().borrow();
            Ok(cosx_edge::metrics::render(core.feed_lag(head), head))
        }
    })
    .await;
}
