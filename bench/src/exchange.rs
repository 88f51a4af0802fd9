//! Real coordinators, and a stub that stores nothing, on loopback with real
//! mutual TLS: one exchange CA per run, one fresh database per coordinator.
//! A coordinator runs in the bench's process, or as the `cosx-server`
//! binary in its own (so that its memory is measured apart from the bench's).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cosx_certs::ExchangeCa;
use cosx_coordinator::config::{CoordinatorConfig, Limits, LogFormat, PartyConfig, TlsConfig};
use cosx_coordinator::server::{self, Running};
use cosx_edge::tls::{HandshakeLimits, TlsReloader};
use cosx_proto::v1 as pb;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic::{Request, Response, Status};

use crate::ingest::Db;

/// Trust domain of the bench exchange.
pub(crate) const TRUST_DOMAIN: &str = "bench.example";
/// The coordinating office (sees every record; runs the queries).
pub(crate) const COORDINATOR: &str = "US-INDOPACOM-J4";
/// A US Air Force organic depot: originator of orders, reporter of availability.
pub(crate) const USAF: &str = "US-USAF-OOALC";
/// A Japanese contractor: provider of capacity offers.
pub(crate) const MHI: &str = "JPN-MHI-KOMAKI";

const PARTIES: &[(&str, &str, &str, Option<&str>)] = &[
    (COORDINATOR, "COORDINATOR", "USA", None),
    (USAF, "ORGANIC", "USA", Some("AIR_FORCE")),
    (MHI, "CONTRACTOR", "JPN", None),
];

/// A coordinator under test.
pub(crate) enum Coordinator {
    /// `cosx_coordinator::server::start` in the bench's process.
    InProcess(Running),
    /// `cosx-server coordinator` as its own process.
    Process {
        /// The process (killed if dropped).
        child: tokio::process::Child,
        /// Where it listens.
        addr: SocketAddr,
    },
}

impl Coordinator {
    /// Where it listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        match self {
            Coordinator::InProcess(running) => running.addr,
            Coordinator::Process { addr, .. } => *addr,
        }
    }

    /// Its process id, when it runs in its own process.
    pub(crate) fn pid(&self) -> Option<u32> {
        match self {
            Coordinator::InProcess(_) => None,
            Coordinator::Process { child, .. } => child.id(),
        }
    }

    /// Stops it (the process is killed: SQLite and PostgreSQL keep what
    /// they acknowledged, and the step's database is removed next anyway).
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        match self {
            Coordinator::InProcess(running) => running.stop().await,
            Coordinator::Process { mut child, .. } => {
                child.start_kill()?;
                child.wait().await?;
                Ok(())
            }
        }
    }
}

/// The rate limits lifted for the bench (one party calling as fast as it can on purpose).
fn bench_limits() -> Limits {
    Limits {
        calls_per_second_per_party: 1e9,
        burst_per_party: u32::MAX / 2,
        max_concurrent_calls: 4096,
        max_concurrent_calls_per_party: 4096,
        // The fan-out figure follows the feed with many subscriptions of one party.
        max_subscriptions_per_party: 100_000,
        ..Limits::default()
    }
}

/// The `cosx-server` binary beside the bench's own (both built into the
/// same target folder by `cargo build --release -p cosx-bench -p cosx-server`).
pub(crate) fn server_beside_bench() -> anyhow::Result<PathBuf> {
    Ok(std::env::current_exe()?.with_file_name("cosx-server"))
}

/// A run's PKI, in a temporary folder that also holds the databases.
pub(crate) struct Pki {
    /// Folder of the PKI and every database of the run; removed on drop.
    pub(crate) dir: tempfile::TempDir,
    ca: ExchangeCa,
    tls: TlsConfig,
}

impl Pki {
    /// A fresh exchange CA and server certificate for `localhost` / `127.0.0.1`.
    pub(crate) fn create() -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::Builder::new().prefix("cosx-bench-").tempdir_in(std::env::temp_dir())?;
        let ca = ExchangeCa::create(TRUST_DOMAIN)?;
        let pki = dir.path().join("pki");
        std::fs::create_dir_all(&pki)?;
        std::fs::write(pki.join("ca.pem"), ca.cert_pem())?;
        let server = ca.issue_server(&["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        std::fs::write(pki.join("server.pem"), &server.cert_pem)?;
        std::fs::write(pki.join("server.key"), &server.key_pem)?;
        let tls = TlsConfig::new(pki.join("server.pem"), pki.join("server.key"), pki.join("ca.pem"));
        Ok(Pki { dir, ca, tls })
    }

    /// The exchange CA's certificate file (PEM).
    pub(crate) fn ca_path(&self) -> PathBuf {
        self.dir.path().join("pki").join("ca.pem")
    }

    /// A fresh certificate for `party`, written as `pki/<party>.pem` and
    /// `pki/<party>.key` (for the `cosx` binary); returns both paths.
    pub(crate) fn write_party(&self, party: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
        let issued = self.ca.issue_party(party)?;
        let dir = self.dir.path().join("pki");
        let (cert, key) = (dir.join(format!("{party}.pem")), dir.join(format!("{party}.key")));
        std::fs::write(&cert, &issued.cert_pem)?;
        std::fs::write(&key, &issued.key_pem)?;
        Ok((cert, key))
    }

    /// The run's exchange CA (a party node's upstream certificate is issued by it).
    pub(crate) fn ca(&self) -> &ExchangeCa {
        &self.ca
    }

    /// The server TLS settings (a party node serves with them too).
    pub(crate) fn tls(&self) -> &TlsConfig {
        &self.tls
    }

    /// A fresh mTLS channel (its own TCP connection) to `addr` as `party`.
    pub(crate) async fn channel(&self, addr: SocketAddr, party: &str) -> anyhow::Result<Channel> {
        let issued = self.ca.issue_party(party)?;
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(self.ca.cert_pem()))
            .domain_name("localhost")
            .identity(Identity::from_pem(&issued.cert_pem, &issued.key_pem));
        let channel = Channel::from_shared(format!("https://127.0.0.1:{}", addr.port()))?
            .tls_config(tls)?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(600))
            .connect()
            .await?;
        Ok(channel)
    }

    /// Starts a coordinator on `127.0.0.1:0` over `db` (a fresh database),
    /// with per-party rate limits lifted (the bench is one party making many
    /// calls on purpose).
    pub(crate) async fn start_coordinator(&self, db: &Db) -> anyhow::Result<Running> {
        let config = CoordinatorConfig {
            listen: "127.0.0.1:0".parse()?,
            database: db.url(),
            trust_domain: TRUST_DOMAIN.into(),
            log_format: LogFormat::Text,
            tls: self.tls.clone(),
            parties: PARTIES
                .iter()
                .map(|(id, kind, nation, dept)| PartyConfig {
                    id: (*id).into(),
                    kind: (*kind).into(),
                    nation: (*nation).into(),
                    department: dept.map(Into::into),
                    display_name: None,
                })
                .collect(),
            limits: bench_limits(),
            metrics_listen: None,
            shutdown_grace: Duration::from_secs(5),
            signals: Default::default(),
            allocation: Default::default(),
            webhooks: Vec::new(),
            webhooks_identity: None,
        };
        server::start(&config).await
    }

    /// Starts `server_bin coordinator` as its own process over `db`, with
    /// the configuration [`Pki::start_coordinator`] uses, written as its
    /// TOML file; waits until it accepts connections.
    pub(crate) async fn start_process(&self, db: &Db, server_bin: &Path, name: &str) -> anyhow::Result<Coordinator> {
        // A free port, given back just before the coordinator binds it.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let limits = bench_limits();
        let mut toml = format!(
            "listen = \"{addr}\"\ndatabase = {database:?}\ntrust_domain = \"{TRUST_DOMAIN}\"\nshutdown_grace = \"5s\"\n\n\
             [tls]\ncert = {cert:?}\nkey = {key:?}\nclient_ca = {ca:?}\n\n\
             [limits]\ncalls_per_second_per_party = {rate:e}\nburst_per_party = {burst}\n\
             max_concurrent_calls = {calls}\nmax_concurrent_calls_per_party = {per_party}\n\
             max_subscriptions_per_party = {subscriptions}\n",
            database = db.url(),
            cert = self.tls.cert.display().to_string(),
            key = self.tls.key.display().to_string(),
            ca = self.tls.client_ca.display().to_string(),
            rate = limits.calls_per_second_per_party,
            burst = limits.burst_per_party,
            calls = limits.max_concurrent_calls,
            per_party = limits.max_concurrent_calls_per_party,
            subscriptions = limits.max_subscriptions_per_party,
        );
        for (id, kind, nation, dept) in PARTIES {
            toml.push_str(&format!("\n[[parties]]\nid = \"{id}\"\nkind = \"{kind}\"\nnation = \"{nation}\"\n"));
            if let Some(dept) = dept {
                toml.push_str(&format!("department = \"{dept}\"\n"));
            }
        }
        let config = self.dir.path().join(format!("{name}.toml"));
        std::fs::write(&config, toml)?;
        let log = std::fs::File::create(self.dir.path().join(format!("{name}.log")))?;
        let mut child = tokio::process::Command::new(server_bin)
            .arg("coordinator")
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                anyhow::anyhow!("{}: {e} (build it: cargo build --release -p cosx-server)", server_bin.display())
            })?;
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                let log = std::fs::read_to_string(self.dir.path().join(format!("{name}.log"))).unwrap_or_default();
                anyhow::bail!("{} exited with {status} before serving: {log}", server_bin.display());
            }
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(Coordinator::Process { child, addr });
            }
            if started.elapsed() > Duration::from_secs(120) {
                anyhow::bail!("{} did not listen on {addr} within 120 s", server_bin.display());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Starts the store-nothing stub with the coordinator's own TLS acceptor
    /// (same rustls config, client certificate required) and tonic codec.
    pub(crate) async fn start_stub(&self) -> anyhow::Result<StubServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let tls = TlsReloader::new(&self.tls)?;
        let limits =
            HandshakeLimits { timeout: Duration::from_secs(10), max_pending: 1024, max_pending_per_source: 1024 };
        let incoming = cosx_edge::tls::incoming(listener, tls, limits);
        let (stop, stopped) = oneshot::channel::<()>();
        let router = tonic::transport::Server::builder().add_service(pb::exchange_server::ExchangeServer::new(Stub));
        tokio::spawn(router.serve_with_incoming_shutdown(incoming, async move {
            let _ = stopped.await;
        }));
        Ok(StubServer { addr, _stop: stop })
    }
}

/// The running stub; stops when dropped.
pub(crate) struct StubServer {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

/// An Exchange that stores nothing: `CreateRepairOrder` answers with the
/// request's order, everything else is `UNIMPLEMENTED`. A baseline only.
struct Stub;

fn no<T>() -> Result<Response<T>, Status> {
    Err(Status::unimplemented("the bench stub answers only CreateRepairOrder"))
}

#[tonic::async_trait]
impl pb::exchange_server::Exchange for Stub {
    async fn create_repair_order(
        &self,
        request: Request<pb::CreateRepairOrderRequest>,
    ) -> Result<Response<pb::RepairOrder>, Status> {
        let r = request.into_inner();
        let mut order = r.repair_order.unwrap_or_default();
        order.name = format!("repairOrders/{}", r.request_id);
        Ok(Response::new(order))
    }
    async fn get_repair_order(
        &self,
        _: Request<pb::GetRepairOrderRequest>,
    ) -> Result<Response<pb::RepairOrder>, Status> {
        no()
    }
    async fn list_repair_orders(
        &self,
        _: Request<pb::ListRepairOrdersRequest>,
    ) -> Result<Response<pb::ListRepairOrdersResponse>, Status> {
        no()
    }
    async fn transition_repair_order(
        &self,
        _: Request<pb::TransitionRepairOrderRequest>,
    ) -> Result<Response<pb::RepairOrder>, Status> {
        no()
    }
    async fn split_repair_order(
        &self,
        _: Request<pb::SplitRepairOrderRequest>,
    ) -> Result<Response<pb::SplitRepairOrderResponse>, Status> {
        no()
    }
    async fn get_repair_order_history(
        &self,
        _: Request<pb::GetRepairOrderHistoryRequest>,
    ) -> Result<Response<pb::GetRepairOrderHistoryResponse>, Status> {
        no()
    }
    async fn create_capacity_offer(
        &self,
        _: Request<pb::CreateCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        no()
    }
    async fn get_capacity_offer(
        &self,
        _: Request<pb::GetCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        no()
    }
    async fn list_capacity_offers(
        &self,
        _: Request<pb::ListCapacityOffersRequest>,
    ) -> Result<Response<pb::ListCapacityOffersResponse>, Status> {
        no()
    }
    async fn update_capacity_offer(
        &self,
        _: Request<pb::UpdateCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        no()
    }
    async fn withdraw_capacity_offer(
        &self,
        _: Request<pb::WithdrawCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        no()
    }
    async fn submit_availability_report(
        &self,
        _: Request<pb::SubmitAvailabilityReportRequest>,
    ) -> Result<Response<pb::AvailabilityReport>, Status> {
        no()
    }
    async fn get_availability_report(
        &self,
        _: Request<pb::GetAvailabilityReportRequest>,
    ) -> Result<Response<pb::AvailabilityReport>, Status> {
        no()
    }
    async fn list_availability_reports(
        &self,
        _: Request<pb::ListAvailabilityReportsRequest>,
    ) -> Result<Response<pb::ListAvailabilityReportsResponse>, Status> {
        no()
    }
    async fn set_availability_target(
        &self,
        _: Request<pb::SetAvailabilityTargetRequest>,
    ) -> Result<Response<pb::AvailabilityTarget>, Status> {
        no()
    }
    async fn list_availability_targets(
        &self,
        _: Request<pb::ListAvailabilityTargetsRequest>,
    ) -> Result<Response<pb::ListAvailabilityTargetsResponse>, Status> {
        no()
    }

    type IngestStream = tokio_stream::Empty<Result<pb::IngestResult, Status>>;

    async fn ingest(
        &self,
        _: Request<tonic::Streaming<pb::IngestRequest>>,
    ) -> Result<Response<Self::IngestStream>, Status> {
        no()
    }
}
