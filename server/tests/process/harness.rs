//! What every process test needs: a fresh PKI and a coordinator
//! configuration in a folder, the real binary spawned on it, an mTLS
//! channel as the one depot, and a sample order. Tests only: nothing here
//! is a rule of the exchange.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cosx_certs::ExchangeCa;
use cosx_proto::v1 as pb;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// The one party of every process test.
pub(crate) const DEPOT: &str = "US-USAF-OOALC";

/// The exchange CA and the depot's certificate.
pub(crate) struct Pki {
    /// The CA certificate, PEM.
    pub(crate) ca: String,
    /// The depot's certificate and key.
    pub(crate) depot: cosx_certs::Issued,
}

/// How many kills a kill test makes (`COSX_KILL_ITERATIONS`, else
/// `default`) and the seed of its timings (`COSX_KILL_SEED` replays a run;
/// else one from the clock), odd so that a xorshift never sticks at zero.
pub(crate) fn kill_schedule(default: usize) -> (usize, u64) {
    let iterations = std::env::var("COSX_KILL_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let seed: u64 = std::env::var("COSX_KILL_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    }) | 1;
    (iterations, seed)
}

/// A port nothing listens on yet.
pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Writes a fresh PKI (`ca.pem`, `server.*`, `depot.*`) and
/// `coordinator.toml` (listening on `port`, database `coordinator.db`, the
/// depot registered, `extra` appended) into `dir`.
pub(crate) fn coordinator_dir(dir: &Path, port: u16, extra: &str) -> anyhow::Result<Pki> {
    let ca = ExchangeCa::create("rsf.example")?;
    let server = ca.issue_server(&["localhost".into(), "127.0.0.1".into()])?;
    let depot = ca.issue_party(DEPOT)?;
    for (file, text) in [
        ("ca.pem", ca.cert_pem()),
        ("server.pem", server.cert_pem.as_str()),
        ("server.key", server.key_pem.as_str()),
        ("depot.pem", depot.cert_pem.as_str()),
        ("depot.key", depot.key_pem.as_str()),
    ] {
        std::fs::write(dir.join(file), text)?;
    }
    std::fs::write(
        dir.join("coordinator.toml"),
        format!(
            "listen = \"127.0.0.1:{port}\"\ndatabase = \"sqlite://coordinator.db\"\ntrust_domain = \"rsf.example\"\n\
             {extra}\n[tls]\ncert = \"server.pem\"\nkey = \"server.key\"\nclient_ca = \"ca.pem\"\n\
             [[parties]]\nid = \"{DEPOT}\"\nkind = \"ORGANIC\"\nnation = \"USA\"\ndepartment = \"AIR_FORCE\"\n"
        ),
    )?;
    Ok(Pki { ca: ca.cert_pem().to_owned(), depot })
}

/// Spawns `cosx-server <program> --config <dir>/<config>` with its output
/// discarded and `RUST_LOG` at `log`.
pub(crate) fn spawn(program: &str, config: &Path, log: &str) -> anyhow::Result<Child> {
    Ok(Command::new(env!("CARGO_BIN_EXE_cosx-server"))
        .args([program, "--config"])
        .arg(config)
        .env("RUST_LOG", log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?)
}

/// An mTLS channel to `127.0.0.1:port` as the depot.
pub(crate) fn channel(pki: &Pki, port: u16) -> anyhow::Result<Channel> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&pki.ca))
        .domain_name("localhost")
        .identity(Identity::from_pem(&pki.depot.cert_pem, &pki.depot.key_pem));
    Ok(Channel::from_shared(format!("https://127.0.0.1:{port}"))?
        .tls_config(tls)?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10))
        .connect_lazy())
}

/// Waits until the coordinator on `port` answers.
pub(crate) async fn coordinator_ready(pki: &Pki, port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut client = pb::registry_client::RegistryClient::new(channel(pki, port)?);
        match client.list_parties(pb::ListPartiesRequest::default()).await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() > deadline => anyhow::bail!("coordinator never came up: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// The kit's sample order, raised by the depot: `quantity` items with
/// serial `serial`, at Hill AFB, without export controls.
pub(crate) fn order(serial: &str, quantity: u32) -> pb::RepairOrder {
    let mut order = cosx_tests::repair_order(DEPOT);
    if let Some(item) = order.item.as_mut() {
        item.serial_number = serial.into();
    }
    order.quantity = quantity;
    order.location = Some(pb::Site {
        name: "Hill AFB".into(),
        nation: "USA".into(),
        region: pb::Region::Northcom as i32,
        latitude: 41.12,
        longitude: -111.97,
    });
    order.controls = None;
    order
}
