//! Test support: start a real coordinator on `127.0.0.1:0` with a fresh
//! exchange CA, a real SQLite file in a temporary folder and real mutual TLS,
//! and connect to it as any party — or as an impostor. When
//! `COSX_TEST_DATABASE_URL` is set, every exchange runs on a fresh PostgreSQL
//! database instead ([`database`]), so the whole suite runs on both backends.
//!
//! Kept in its own crate, as linkerd2-proxy does, because it is costly to
//! compile and every test file shares it.

pub mod database;
pub mod node;
pub mod raw;

use std::path::PathBuf;
use std::time::Duration;

use cosx_certs::{ExchangeCa, Issued, LeafSpec};
use cosx_client::files::examples;
use cosx_coordinator::config::{CoordinatorConfig, LogFormat, PartyConfig, TlsConfig};
use cosx_coordinator::server::{self, Running};
use cosx_proto::v1 as pb;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// Trust domain of test exchanges.
pub const TRUST_DOMAIN: &str = "rsf.example";

/// The parties every test exchange registers.
pub const PARTIES: &[(&str, &str, &str, Option<&str>)] = &[
    ("US-INDOPACOM-J4", "COORDINATOR", "USA", None),
    ("US-USAF-OOALC", "ORGANIC", "USA", Some("AIR_FORCE")),
    ("JPN-MHI-KOMAKI", "CONTRACTOR", "JPN", None),
    ("KOR-KAI-SACHEON", "CONTRACTOR", "KOR", None),
    ("AUS-RAAF-AMBERLEY", "PARTNER_GOVERNMENT", "AUS", None),
];

/// Short names for the parties above.
pub mod party {
    /// The coordinating office.
    pub const COORDINATOR: &str = "US-INDOPACOM-J4";
    /// A US Air Force organic depot, owner of orders in most tests.
    pub const USAF: &str = "US-USAF-OOALC";
    /// A Japanese contractor.
    pub const MHI: &str = "JPN-MHI-KOMAKI";
    /// A Korean contractor.
    pub const KAI: &str = "KOR-KAI-SACHEON";
    /// An Australian government depot.
    pub const RAAF: &str = "AUS-RAAF-AMBERLEY";
}

/// A running test exchange.
pub struct TestExchange {
    /// Temporary folder holding the database and PKI; removed on drop.
    pub dir: tempfile::TempDir,
    /// The exchange CA.
    pub ca: ExchangeCa,
    /// The coordinator's configuration.
    pub config: CoordinatorConfig,
    /// The running coordinator.
    pub running: Option<Running>,
    /// Its database (dropped from the PostgreSQL server when this is dropped).
    pub database: database::TestDatabase,
}

fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl TestExchange {
    /// Starts a coordinator with the standard parties.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(|_, _, _| Ok(())).await
    }

    /// Starts a coordinator with the standard parties after `tweak` has
    /// adjusted its configuration (limits, CRLs, ...); it gets the CA and
    /// the folder holding `ca.pem`, `server.pem` and `server.key`.
    pub async fn start_with(
        tweak: impl FnOnce(&mut CoordinatorConfig, &ExchangeCa, &std::path::Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<Self> {
        install_crypto();
        let dir = tempfile::tempdir()?;
        let ca = ExchangeCa::create(TRUST_DOMAIN)?;
        let pki = dir.path().join("pki");
        std::fs::create_dir_all(&pki)?;
        std::fs::write(pki.join("ca.pem"), ca.cert_pem())?;
        let server = ca.issue_server(&["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        std::fs::write(pki.join("server.pem"), &server.cert_pem)?;
        std::fs::write(pki.join("server.key"), &server.key_pem)?;
        let database = database::TestDatabase::from_env(dir.path()).await?;
        let mut config = CoordinatorConfig {
            listen: "127.0.0.1:0".parse()?,
            database: database.url.clone(),
            trust_domain: TRUST_DOMAIN.into(),
            log_format: LogFormat::Text,
            tls: TlsConfig::new(pki.join("server.pem"), pki.join("server.key"), pki.join("ca.pem")),
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
            limits: Default::default(),
            metrics_listen: None,
            shutdown_grace: cosx_coordinator::config::DEFAULT_SHUTDOWN_GRACE,
            signals: Default::default(),
            allocation: Default::default(),
            webhooks: Vec::new(),
            webhooks_identity: None,
        };
        tweak(&mut config, &ca, &pki)?;
        let running = server::start(&config).await?;
        Ok(TestExchange { dir, ca, config, running: Some(running), database })
    }

    /// The database backend this exchange runs on.
    pub fn backend(&self) -> database::Backend {
        self.database.backend
    }

    /// Starts another coordinator replica on the same database (PostgreSQL),
    /// listening on a port of its own; reach it with [`TestExchange::channel_at`].
    pub async fn start_replica(&self) -> anyhow::Result<Running> {
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".parse()?;
        server::start(&config).await
    }

    /// The coordinator's address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.running.as_ref().map(|r| r.addr).unwrap_or_else(|| self.config.listen)
    }

    /// Path of the SQLite database (on SQLite only; see [`TestExchange::backend`]).
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("coordinator.db")
    }

    /// Stops the coordinator and starts a new one on the same database and port.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        let addr = self.addr();
        if let Some(r) = self.running.take() {
            r.stop().await?;
        }
        self.config.listen = addr;
        let mut last = None;
        for _ in 0..50 {
            match server::start(&self.config).await {
                Ok(r) => {
                    self.running = Some(r);
                    return Ok(());
                }
                Err(e) => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("restart failed")))
    }

    /// Stops the coordinator.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(r) = self.running.take() {
            r.stop().await?;
        }
        Ok(())
    }

    /// A channel presenting `party`'s certificate.
    pub async fn channel(&self, party: &str) -> anyhow::Result<Channel> {
        let issued = self.ca.issue_party(party)?;
        self.channel_with(Some(&issued), self.ca.cert_pem()).await
    }

    /// A channel presenting `identity` (or none), trusting `ca_pem` for the server.
    pub async fn channel_with(&self, identity: Option<&Issued>, ca_pem: &str) -> anyhow::Result<Channel> {
        self.channel_to(self.addr(), identity, ca_pem).await
    }

    /// A channel to the coordinator (or replica) at `addr`, presenting `party`'s certificate.
    pub async fn channel_at(&self, addr: std::net::SocketAddr, party: &str) -> anyhow::Result<Channel> {
        let issued = self.ca.issue_party(party)?;
        self.channel_to(addr, Some(&issued), self.ca.cert_pem()).await
    }

    /// A channel to `addr` presenting `identity` (or none), trusting `ca_pem` for the server.
    pub async fn channel_to(
        &self,
        addr: std::net::SocketAddr,
        identity: Option<&Issued>,
        ca_pem: &str,
    ) -> anyhow::Result<Channel> {
        install_crypto();
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca_pem)).domain_name("localhost");
        if let Some(id) = identity {
            tls = tls.identity(Identity::from_pem(&id.cert_pem, &id.key_pem));
        }
        let channel = Channel::from_shared(format!("https://127.0.0.1:{}", addr.port()))?
            .tls_config(tls)?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .connect_lazy();
        Ok(channel)
    }

    /// Issues a leaf certificate as the spec says (for refusals).
    pub fn issue(&self, spec: &LeafSpec) -> anyhow::Result<Issued> {
        Ok(self.ca.issue(spec)?)
    }

    /// An Exchange client as `party`.
    pub async fn exchange(&self, party: &str) -> anyhow::Result<pb::exchange_client::ExchangeClient<Channel>> {
        Ok(pb::exchange_client::ExchangeClient::new(self.channel(party).await?))
    }

    /// A Registry client as `party`.
    pub async fn registry(&self, party: &str) -> anyhow::Result<pb::registry_client::RegistryClient<Channel>> {
        Ok(pb::registry_client::RegistryClient::new(self.channel(party).await?))
    }

    /// A Feed client as `party`.
    pub async fn feed(&self, party: &str) -> anyhow::Result<pb::feed_client::FeedClient<Channel>> {
        Ok(pb::feed_client::FeedClient::new(self.channel(party).await?))
    }

    /// The names of the repair orders on `who`'s feed from the start, read
    /// until it has been quiet for 400 ms.
    pub async fn feed_order_names(&self, who: &str) -> anyhow::Result<Vec<String>> {
        let mut stream = self.feed(who).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
        let mut names = Vec::new();
        while let Ok(next) = tokio::time::timeout(Duration::from_millis(400), stream.message()).await {
            let Some(event) = next? else { break };
            if let Some(pb::event::Subject::RepairOrder(o)) = event.subject {
                names.push(o.name);
            }
        }
        Ok(names)
    }

    /// The repair orders `who` lists (one page of up to 1,000).
    pub async fn listed_orders(&self, who: &str) -> anyhow::Result<Vec<pb::RepairOrder>> {
        let request = pb::ListRepairOrdersRequest { page_size: 1000, ..Default::default() };
        Ok(self.exchange(who).await?.list_repair_orders(request).await?.into_inner().repair_orders)
    }

    /// Creates a one-item order for `tms` as `who`, required by `required_by`.
    pub async fn order_as(&self, who: &str, tms: &str, required_by: &str) -> anyhow::Result<pb::RepairOrder> {
        let mut o = repair_order(who);
        o.tms = tms.into();
        o.required_by = required_by.into();
        o.quantity = 1;
        self.create_order(who, o).await
    }

    /// Creates `order` as `who` (no request id) and returns it as stored.
    pub async fn create_order(&self, who: &str, order: pb::RepairOrder) -> anyhow::Result<pb::RepairOrder> {
        let request = pb::CreateRepairOrderRequest { repair_order: Some(order), ..Default::default() };
        Ok(self.exchange(who).await?.create_repair_order(request).await?.into_inner())
    }

    /// Sets, as the coordinator, the Air Force's depot work outside the
    /// exchange in fiscal year `fy` (dollars only).
    pub async fn set_air_force_baseline(&self, fy: i32, organic_cents: i64, contract_cents: i64) -> anyhow::Result<()> {
        let baseline = pb::DepotBaseline {
            department: pb::MilitaryDepartment::AirForce as i32,
            fiscal_year: fy,
            work: Some(pb::WorkSplit { organic_cents, contract_cents, organic_hours: 0.0, contract_hours: 0.0 }),
            ..Default::default()
        };
        pb::signals_client::SignalsClient::new(self.channel(party::COORDINATOR).await?)
            .set_depot_baseline(pb::SetDepotBaselineRequest { baseline: Some(baseline), request_id: String::new() })
            .await?;
        Ok(())
    }

    /// Proposes `order` (at the version it has) to `provider`, as the
    /// coordinator, and returns the order as proposed.
    pub async fn propose(&self, order: &pb::RepairOrder, provider: &str) -> anyhow::Result<pb::RepairOrder> {
        let request = pb::TransitionRepairOrderRequest {
            name: order.name.clone(),
            version: order.version,
            action: pb::RepairOrderAction::Propose as i32,
            provider: provider.into(),
            ..Default::default()
        };
        Ok(self.exchange(party::COORDINATOR).await?.transition_repair_order(request).await?.into_inner())
    }

    /// Order `name`'s lifecycle history as `who` sees it, oldest first.
    pub async fn history(&self, who: &str, name: &str) -> anyhow::Result<Vec<pb::RepairOrderTransition>> {
        let request = pb::GetRepairOrderHistoryRequest { name: name.into() };
        Ok(self.exchange(who).await?.get_repair_order_history(request).await?.into_inner().transitions)
    }

    /// Creates `offer` as its provider (no request id) and returns it as stored.
    pub async fn create_offer(&self, offer: pb::CapacityOffer) -> anyhow::Result<pb::CapacityOffer> {
        let provider = offer.provider.clone();
        let request = pb::CreateCapacityOfferRequest { capacity_offer: Some(offer), ..Default::default() };
        Ok(self.exchange(&provider).await?.create_capacity_offer(request).await?.into_inner())
    }
}

/// A valid repair order from `originator`: the import template's example
/// (`cosx import template orders`), due earlier and for more units.
pub fn repair_order(originator: &str) -> pb::RepairOrder {
    let mut order = examples::repair_order(originator);
    order.component_family.clear();
    order.quantity = 4;
    order.required_by = "2027-03-31".into();
    // Not export-controlled: a manual PROPOSE applies the export rule as Allocation does, and
    // tests propose this order to a Japanese contractor that holds no licence. Tests of the
    // export rule set `usml_category` themselves.
    order.controls = Some(pb::Controls::default());
    order
}

/// A valid capacity offer from `provider`: the template's example, licensed
/// for third-country transfer of the F-35A work to the US.
pub fn capacity_offer(provider: &str) -> pb::CapacityOffer {
    let mut offer = examples::capacity_offer(provider);
    offer.certifications.clear();
    offer.authorizations = vec![pb::ProviderAuthorization {
        kind: pb::provider_authorization::Kind::ThirdCountryTransfer as i32,
        tms: "F-35A".into(),
        reference: "DSP-5 050-123456".into(),
        nations: vec!["USA".into()],
        ..Default::default()
    }];
    offer
}

/// A valid fleet-level availability report from `reporter` (the template's example).
pub fn availability_report(reporter: &str) -> pb::AvailabilityReport {
    examples::availability_report(reporter)
}

/// Every repair order `client` lists from `originator` (any when empty),
/// page by page.
pub async fn all_orders(
    client: &mut pb::exchange_client::ExchangeClient<Channel>,
    originator: &str,
) -> anyhow::Result<Vec<pb::RepairOrder>> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_repair_orders(pb::ListRepairOrdersRequest {
                page_size: 1000,
                page_token: token,
                originator: originator.into(),
                ..Default::default()
            })
            .await?
            .into_inner();
        out.extend(page.repair_orders);
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        token = page.next_page_token;
    }
}

/// The demand signal by required-by month, with no filter.
pub fn monthly_demand() -> pb::GetDemandSignalRequest {
    pb::GetDemandSignalRequest {
        basis: pb::DateBasis::RequiredBy as i32,
        granularity: pb::Granularity::Month as i32,
        ..Default::default()
    }
}

/// The field paths of a status's `BadRequest` details.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|f| f.field).collect())
        .unwrap_or_default()
}

/// An HTTP/JSON answer: status, headers and the body as JSON (`Null` when
/// empty, a string when not JSON).
pub struct HttpAnswer {
    /// The HTTP status.
    pub status: http::StatusCode,
    /// The response headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: serde_json::Value,
}

/// Sends one HTTP/JSON request over `channel` (an mTLS HTTP/2 connection
/// presenting the channel's party certificate) and reads the whole answer.
pub async fn http_json(
    channel: &Channel,
    method: http::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<serde_json::Value>,
) -> anyhow::Result<HttpAnswer> {
    use tower::{Service as _, ServiceExt as _};
    let mut request = http::Request::builder().method(method).uri(path);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let bytes = match body {
        Some(b) => {
            request = request.header("content-type", "application/json");
            serde_json::to_vec(&b)?
        }
        None => Vec::new(),
    };
    let request = request.body(tonic::body::Body::new(http_body_util::Full::new(bytes::Bytes::from(bytes))))?;
    let mut channel = channel.clone();
    let response = channel.ready().await?.call(request).await?;
    let (parts, body) = response.into_parts();
    let bytes = http_body_util::BodyExt::collect(body).await?.to_bytes();
    let body = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Ok(HttpAnswer { status: parts.status, headers: parts.headers, body })
}
