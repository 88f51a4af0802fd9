//! Assembles the coordinator: store, core, services, health and reflection,
//! behind mutual TLS; serves until told to stop.

use std::net::SocketAddr;
use std::sync::Arc;

use cosx_proto::v1 as pb;
use tokio::net::TcpListener;
use tonic::transport::Server;

use crate::api::{ExchangeService, FeedService, RegistryService};
use crate::config::CoordinatorConfig;
use crate::coordinator::Coordinator;
use crate::{store, tls};

/// A running coordinator.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The core, for in-process inspection.
    pub core: Arc<Coordinator>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
}

impl Running {
    /// Stops accepting, lets in-flight calls finish, and waits for the end.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.await??;
        Ok(())
    }

    /// Waits until the server ends by itself.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await??;
        Ok(())
    }

    /// Asks the server to stop without waiting.
    pub fn trigger_stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Opens the store, registers configured parties, binds `config.listen`
/// (port 0 picks a free one) and starts serving.
pub async fn start(config: &CoordinatorConfig) -> anyhow::Result<Running> {
    let tls = tls::server_config(&config.tls.cert, &config.tls.key, &config.tls.client_ca)?;
    let store = store::connect(&config.database).await?;
    let core = Arc::new(Coordinator::new(store, &config.trust_domain).await?);
    core.bootstrap_parties(config.parties()?).await?;
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter.set_serving::<pb::exchange_server::ExchangeServer<ExchangeService>>().await;
    health_reporter.set_serving::<pb::registry_server::RegistryServer<RegistryService>>().await;
    health_reporter.set_serving::<pb::feed_server::FeedServer<FeedService>>().await;
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(cosx_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(cosx_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let router = Server::builder()
        .trace_fn(|req| tracing::info_span!("rpc", method = %req.uri().path(), party = tracing::field::Empty))
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(pb::registry_server::RegistryServer::new(RegistryService(core.clone())))
        .add_service(pb::exchange_server::ExchangeServer::new(ExchangeService(core.clone())))
        .add_service(pb::feed_server::FeedServer::new(FeedService(core.clone())));
    let incoming = tls::incoming(listener, tls);
    let task = tokio::spawn(router.serve_with_incoming_shutdown(incoming, async {
        let _ = shutdown_rx.await;
    }));
    tracing::info!(%addr, database = %config.database, "coordinator serving cosx.v1 over mutual TLS");
    Ok(Running { addr, core, shutdown: Some(shutdown), task })
}
