//! Sets the demo exchange up: a fresh development PKI, the coordinator's
//! configuration and one node configuration per party (written as the TOML
//! files a real deployment would use), then the coordinator, the relay in
//! front of the cut-off node's link, and the nodes.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use cosx_certs::ExchangeCa;
use cosx_client::Client;

use super::link::LinkRelay;
use super::scenario::{COORDINATOR, CUT_OFF, PARTIES};
use super::{Demo, DemoArgs, PartyNode};
use cosx_coordinator::config::{CoordinatorConfig, Limits, LogFormat, PartyConfig, TlsConfig};
use cosx_coordinator::server;
use cosx_node as node;
use cosx_node::config::{NodeConfig, RetryConfig, UpstreamConfig};

const TRUST_DOMAIN: &str = "rsf.example";

/// The parties whose identities the demo also writes as PKCS#12 files
/// (pki/PARTY.p12) for a browser to open the web console with: the
/// coordinating office and one contractor.
pub(crate) const CONSOLE_PARTIES: [&str; 2] = [COORDINATOR, "JPN-MHI-KOMAKI"];

/// The passphrase of the demo's PKCS#12 files: `COSX_P12_PASSPHRASE`, else
/// `cosx-demo` (the demo's PKI is a throwaway one on this machine; its CA
/// key lies unencrypted next to it).
pub(crate) fn p12_passphrase() -> String {
    std::env::var("COSX_P12_PASSPHRASE").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "cosx-demo".to_owned())
}

fn write_file(path: &Path, contents: &str, secret: bool) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = secret;
    Ok(())
}

fn remove_database(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// Makes the PKI and the coordinator's configuration in `dir`, fresh each
/// time (old databases are removed).
fn prepare(dir: &Path, listen: SocketAddr) -> anyhow::Result<CoordinatorConfig> {
    let pki = dir.join("pki");
    std::fs::create_dir_all(&pki).with_context(|| format!("creating {}", pki.display()))?;
    std::fs::create_dir_all(dir.join("nodes"))?;
    let db = dir.join("coordinator.db");
    remove_database(&db);
    for p in PARTIES {
        remove_database(&dir.join("nodes").join(format!("{}.db", p.id)));
    }
    let ca = ExchangeCa::create(TRUST_DOMAIN)?;
    write_file(&pki.join("ca.pem"), ca.cert_pem(), false)?;
    write_file(&pki.join("ca.key"), &ca.key_pem(), true)?;
    let server = ca.issue_server(&["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    write_file(&pki.join("server.pem"), &server.cert_pem, false)?;
    write_file(&pki.join("server.key"), &server.key_pem, true)?;
    for p in PARTIES {
        let issued = ca.issue_party(p.id)?;
        write_file(&pki.join(format!("{}.pem", p.id)), &issued.cert_pem, false)?;
        write_file(&pki.join(format!("{}.key", p.id)), &issued.key_pem, true)?;
        if CONSOLE_PARTIES.contains(&p.id) {
            let p12 = cosx_certs::pkcs12(&issued, ca.cert_pem(), p.id, &p12_passphrase())?;
            let path = pki.join(format!("{}.p12", p.id));
            std::fs::write(&path, p12).with_context(|| format!("writing {}", path.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    let parties: Vec<PartyConfig> = PARTIES
        .iter()
        .map(|p| PartyConfig {
            id: p.id.into(),
            kind: p.kind.into(),
            nation: p.nation.into(),
            department: p.department.map(Into::into),
            display_name: Some(p.name.into()),
        })
        .collect();
    Ok(CoordinatorConfig {
        listen,
        database: format!("sqlite://{}", db.display()),
        trust_domain: TRUST_DOMAIN.into(),
        log_format: LogFormat::Text,
        tls: TlsConfig::new(pki.join("server.pem"), pki.join("server.key"), pki.join("ca.pem")),
        parties,
        // Eleven nodes and a coordinating office on one machine: room for bursts.
        limits: Limits { calls_per_second_per_party: 2_000.0, burst_per_party: 4_000, ..Default::default() },
        metrics_listen: None,
        shutdown_grace: Duration::from_secs(2),
        signals: Default::default(),
        allocation: Default::default(),
        webhooks: Vec::new(),
        webhooks_identity: None,
    })
}

/// The coordinator's TOML, for `cosx-server coordinator --config` and
/// `cosx-server audit verify --config`.
fn coordinator_toml(addr: SocketAddr, config: &CoordinatorConfig) -> String {
    let mut toml = format!(
        "listen = \"{addr}\"\ndatabase = \"sqlite://coordinator.db\"\ntrust_domain = \"{TRUST_DOMAIN}\"\n\n\
         [tls]\ncert = \"pki/server.pem\"\nkey = \"pki/server.key\"\nclient_ca = \"pki/ca.pem\"\n"
    );
    for p in &config.parties {
        let _ = write!(toml, "\n[[parties]]\nid = \"{}\"\nkind = \"{}\"\nnation = \"{}\"\n", p.id, p.kind, p.nation);
        if let Some(d) = &p.department {
            let _ = writeln!(toml, "department = \"{d}\"");
        }
        if let Some(n) = &p.display_name {
            let _ = writeln!(toml, "display_name = \"{n}\"");
        }
    }
    toml
}

/// A node's TOML (see `cosx_node::config`), paths relative to `nodes/`.
fn node_toml(party: &str, listen: SocketAddr, coordinator: SocketAddr) -> String {
    format!(
        "listen = \"{listen}\"\ndatabase = \"sqlite://{party}.db\"\ntrust_domain = \"{TRUST_DOMAIN}\"\n\n\
         [tls]                                # what {party}'s own systems connect to\n\
         cert = \"../pki/server.pem\"\nkey = \"../pki/server.key\"\nclient_ca = \"../pki/ca.pem\"\n\n\
         [upstream]                           # the link to the coordinator\n\
         endpoint = \"https://127.0.0.1:{port}\"\nca = \"../pki/ca.pem\"\ncert = \"../pki/{party}.pem\"\n\
         key = \"../pki/{party}.key\"\nserver_name = \"localhost\"\n\n\
         [retry]\ninitial_backoff = \"50ms\"\nmax_backoff = \"1s\"\n",
        port = coordinator.port()
    )
}

fn node_config(dir: &Path, party: &str, listen: SocketAddr, upstream: SocketAddr) -> NodeConfig {
    let pki = dir.join("pki");
    NodeConfig {
        listen,
        database: format!("sqlite://{}", dir.join("nodes").join(format!("{party}.db")).display()),
        trust_domain: TRUST_DOMAIN.into(),
        log_format: LogFormat::Text,
        tls: TlsConfig::new(pki.join("server.pem"), pki.join("server.key"), pki.join("ca.pem")),
        upstream: UpstreamConfig {
            endpoint: format!("https://127.0.0.1:{}", upstream.port()),
            ca: pki.join("ca.pem"),
            cert: pki.join(format!("{party}.pem")),
            key: pki.join(format!("{party}.key")),
            server_name: Some("localhost".into()),
        },
        retry: RetryConfig {
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
            max_attempts: 0,
            call_timeout: Duration::from_secs(10),
        },
        limits: Limits { calls_per_second_per_party: 2_000.0, burst_per_party: 4_000, ..Default::default() },
        shutdown_grace: Duration::from_secs(2),
        metrics_listen: None,
        outbox_retention: cosx_node::config::DEFAULT_OUTBOX_RETENTION,
        webhooks: Vec::new(),
    }
}

async fn connect_as(dir: &Path, endpoint: &str, party: &str) -> anyhow::Result<Client> {
    let pki = dir.join("pki");
    let read = |name: String| std::fs::read_to_string(pki.join(&name)).with_context(|| format!("reading {name}"));
    Ok(Client::connect_pem(
        endpoint,
        &read("ca.pem".into())?,
        &read(format!("{party}.pem"))?,
        &read(format!("{party}.key"))?,
    )
    .await?)
}

/// Starts the coordinator, the relay and the nodes.
pub(super) async fn start(args: &DemoArgs) -> anyhow::Result<(CoordinatorConfig, Demo)> {
    let config = prepare(&args.dir, args.listen)?;
    let coordinator = server::start(&config).await?;
    let addr = coordinator.addr;
    write_file(&args.dir.join("coordinator.toml"), &coordinator_toml(addr, &config), false)?;
    let endpoint = format!("https://localhost:{}", addr.port());
    let relay = LinkRelay::start(addr).await?;

    let mut nodes = Vec::new();
    let mut next_port = if args.listen.port() == 0 { 0 } else { args.listen.port().saturating_add(1) };
    for p in PARTIES.iter().filter(|p| p.id != COORDINATOR) {
        let wanted = SocketAddr::new(args.listen.ip(), next_port);
        if next_port != 0 {
            next_port = next_port.saturating_add(1);
        }
        let upstream = if p.id == CUT_OFF { relay.addr } else { addr };
        let config = node_config(&args.dir, p.id, wanted, upstream);
        // A port already taken: any free one will do.
        let running = match node::start(&config).await {
            Ok(r) => r,
            Err(_) if wanted.port() != 0 => {
                node::start(&NodeConfig { listen: SocketAddr::new(wanted.ip(), 0), ..config }).await?
            }
            Err(e) => return Err(e),
        };
        write_file(
            &args.dir.join("nodes").join(format!("{}.toml", p.id)),
            &node_toml(p.id, running.addr, addr),
            false,
        )?;
        let node_endpoint = format!("https://localhost:{}", running.addr.port());
        let client = connect_as(&args.dir, &node_endpoint, p.id).await?;
        nodes.push(PartyNode { party: p.id, running, client, endpoint: node_endpoint });
    }
    let j4 = connect_as(&args.dir, &endpoint, COORDINATOR).await?;
    let dir = args.dir.clone();
    Ok((config, Demo { coordinator, endpoint, nodes, relay, j4, dir }))
}
