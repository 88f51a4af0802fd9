//! The edge every cosx listener shares, coordinator and party node alike:
//! mutual TLS with reloadable certificates and CRLs (file poll and SIGHUP),
//! admission control in front of every service, the same message-size limit
//! on every service, health and reflection (`v1` and `v1alpha`), the
//! HTTP/JSON face ([`crate::json`]) and any web pages on the same port
//! (HTTP/1.1 and HTTP/2), and a
//! shutdown that stops accepting at once and drains calls in flight within
//! a grace period.
//!
//! It is the one place a listener is assembled, so limits, message sizes,
//! revocation and shutdown behave the same on every port cosx opens. It
//! knows nothing of records, stores or what a service does; the program
//! hands it its services and who is admitted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::service::{Routes, RoutesBuilder};
use tonic::transport::Server;

use crate::config::{Limits, TlsConfig};
use crate::json::{JsonApi, Local};
use crate::limits::{AdmissionLayer, Admit};
use crate::tls::{self, HandshakeLimits, TlsError, TlsReloader};

/// What a listener is built from.
pub struct Edge<'a> {
    /// Certificate, key, client CA bundle and CRLs.
    pub tls: &'a TlsConfig,
    /// Admission and handshake limits.
    pub limits: &'a Limits,
    /// Trust domain of party certificates.
    pub trust_domain: &'a str,
    /// How long calls in flight may run once a stop is asked.
    pub shutdown_grace: Duration,
    /// Which parties may be served at all: checked before a call takes a
    /// slot, so an unregistered or suspended certificate holds nothing.
    pub admit: Admit,
}

/// What the services are built with.
pub struct Context {
    /// The largest request message any method accepts; services' own
    /// decoders must allow it, so that admission's per-method limit is the
    /// one a caller meets.
    pub max_message: usize,
    /// Turns true when the listener begins to stop (long streams end then).
    pub closing: watch::Receiver<bool>,
}

/// The services of a listener, and the names health reports as serving.
/// Built with [`Services::add`], so a service's name comes from the service
/// itself and health can never report a list that differs from the routes.
pub struct Services {
    routes: RoutesBuilder,
    names: Vec<&'static str>,
    web: Option<WebFace>,
}

impl Services {
    /// No services yet; `web` are the pages served beside the API (the web
    /// console), built over the same services called in process.
    pub fn new(web: Option<WebFace>) -> Self {
        Services { routes: RoutesBuilder::default(), names: Vec::new(), web }
    }

    /// Adds a gRPC service; health reports it serving under its full name
    /// (`cosx.v1.Exchange`).
    pub fn add<S>(&mut self, service: S) -> &mut Self
    where
        S: tower::Service<http::Request<tonic::body::Body>, Error = std::convert::Infallible>
            + tonic::server::NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes.add_service(service);
        self
    }
}

/// Builds a listener's web pages from its services, called in process.
pub type WebFace = Box<dyn FnOnce(Local) -> axum::Router + Send>;

/// A listener that is serving.
pub struct Serving {
    /// The address it listens on.
    pub addr: SocketAddr,
    closing: watch::Sender<bool>,
    grace: Duration,
    tls: Arc<TlsReloader>,
    poll: Option<tokio::task::JoinHandle<()>>,
    task: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
}

impl Serving {
    /// Stops accepting, lets calls in flight finish, and waits at most the
    /// grace period.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.trigger_stop();
        self.wait().await
    }

    /// Waits until the listener ends: by itself, or once a stop is asked,
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

    /// Asks the listener to stop without waiting: it stops accepting at once.
    pub fn trigger_stop(&mut self) {
        self.closing.send_replace(true);
    }

    /// Rebuilds the TLS config from its files now (SIGHUP does this). New
    /// handshakes use it; open connections whose certificate it no longer
    /// accepts (a CRL now lists it) are closed. On error the previous
    /// config stays in force.
    pub fn reload_tls(&self) -> Result<(), TlsError> {
        self.tls.reload()
    }

    /// How many TLS configs have been loaded (1 at start).
    pub fn tls_generation(&self) -> u64 {
        self.tls.generation()
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(poll) = self.poll.take() {
            poll.abort();
        }
    }
}

/// A task that ends when this is dropped (a side listener, say).
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves the services `build` makes on `listener`, behind the edge.
pub async fn serve(
    listener: TcpListener,
    edge: Edge<'_>,
    build: impl FnOnce(&Context) -> Services,
) -> anyhow::Result<Serving> {
    let tls = TlsReloader::new(edge.tls)?;
    let addr = listener.local_addr()?;
    let (closing, closing_rx) = watch::channel(false);
    let admission = AdmissionLayer::new(edge.limits, edge.trust_domain, edge.admit);
    let context = Context { max_message: admission.largest_message_limit(), closing: closing_rx.clone() };
    let Services { routes, names, web } = build(&context);

    let (health_reporter, health) = tonic_health::server::health_reporter();
    for name in names {
        health_reporter.set_service_status(name, tonic_health::ServingStatus::Serving).await;
    }
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(cosx_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(cosx_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let mut routes = routes;
    routes.add_service(health).add_service(reflection_v1).add_service(reflection_v1alpha);
    let grpc: Routes = routes.routes();
    // HTTP/JSON and the pages reach the same services in process; what the
    // gRPC routes do not take (no gRPC path) goes to the JSON face.
    let local = Local::new(grpc.clone());
    let json = JsonApi::new(local.clone())?;
    let mut router = grpc.into_axum_router().fallback(move |request: axum::extract::Request| {
        let json = json.clone();
        async move { json.handle(request).await }
    });
    if let Some(web) = web {
        router = router.merge(web(local));
    }
    let routes = Routes::from(router);

    let router = Server::builder()
        .accept_http1(true)
        .trace_fn(|req| tracing::info_span!("rpc", method = %req.uri().path(), party = tracing::field::Empty))
        .layer(admission)
        .add_routes(routes);
    let handshakes = HandshakeLimits {
        timeout: edge.limits.handshake_timeout,
        max_pending: edge.limits.max_pending_handshakes,
        max_pending_per_source: edge.limits.max_pending_handshakes_per_source,
    };
    let incoming = tls::incoming(listener, tls.clone(), handshakes);
    let mut stop = closing_rx;
    let task = tokio::spawn(router.serve_with_incoming_shutdown(incoming, async move {
        let _ = stop.wait_for(|c| *c).await;
    }));
    let poll = (!edge.tls.reload_interval.is_zero()).then(|| tls.spawn_poll(edge.tls.reload_interval));
    Ok(Serving { addr, closing, grace: edge.shutdown_grace, tls, poll, task })
}
