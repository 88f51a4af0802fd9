//! `cosx-server`: runs the coordinator or a party node, the demo, and the
//! audit tools over the coordinator's log.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cosx_coordinator::config::{CoordinatorConfig, LogFormat};
use cosx_coordinator::{audit, server, store};
use cosx_demo as demo;
use cosx_edge::telemetry;
use cosx_node as node;
use cosx_node::config::NodeConfig;
use cosx_webhooks::{FeedIdentity, WebhookConfig};

#[derive(Parser)]
#[command(name = "cosx-server", version, about = "The cosx co-sustainment exchange: coordinator and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a coordinator until Ctrl-C or SIGTERM; SIGHUP reloads its TLS
    /// certificate, key, CA bundle and CRLs.
    Coordinator {
        /// TOML configuration file (keys also settable as COSX_* variables).
        #[arg(long, env = "COSX_CONFIG")]
        config: PathBuf,
    },
    /// Runs a party node until Ctrl-C or SIGTERM: serves the party's own
    /// systems, keeps their writes until the coordinator has them, and keeps
    /// a replica of what the party may see.
    Node {
        /// TOML configuration file (see `cosx_node::config`).
        #[arg(long, env = "COSX_NODE_CONFIG")]
        config: PathBuf,
        /// Instead of running: manage the node's webhooks.
        #[command(subcommand)]
        command: Option<NodeCommand>,
    },
    /// Starts a development exchange on SQLite with a fresh PKI and demo parties.
    Demo(demo::DemoArgs),
    /// Verifies or exports the hash-chained audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum NodeCommand {
    /// Lists or retries parked webhook deliveries (the node may be running).
    Webhooks {
        #[command(subcommand)]
        command: WebhooksCommand,
    },
}

#[derive(Subcommand)]
enum WebhooksCommand {
    /// Lists the parked deliveries: webhook, sequence, kind, attempts, last error.
    List,
    /// Releases a webhook's parked delivery: it is sent again, then the rest.
    Retry {
        /// The webhook's name.
        #[arg(required_unless_present = "all")]
        name: Option<String>,
        /// Every webhook's.
        #[arg(long, conflicts_with = "name")]
        all: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walks the chain and reports the first broken link.
    Verify {
        /// Coordinator configuration (its database is verified).
        #[arg(long, conflicts_with_all = ["db", "file"])]
        config: Option<PathBuf>,
        /// Database URL, e.g. sqlite://coordinator.db.
        #[arg(long, conflicts_with = "file")]
        db: Option<String>,
        /// An exported log file (JSON lines), verified offline.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Writes the whole log as JSON lines.
    Export {
        /// Coordinator configuration.
        #[arg(long, conflicts_with = "db")]
        config: Option<PathBuf>,
        /// Database URL.
        #[arg(long)]
        db: Option<String>,
        /// Output file; standard output if absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn database(config: Option<PathBuf>, db: Option<String>) -> anyhow::Result<String> {
    match (config, db) {
        (Some(path), _) => Ok(CoordinatorConfig::load(&path)?.database),
        (None, Some(db)) => Ok(db),
        (None, None) => anyhow::bail!("give --config FILE or --db URL"),
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Coordinator { config } => {
            let config = CoordinatorConfig::load(&config)?;
            telemetry::init(config.log_format);
            let mut running = server::start(&config).await?;
            let webhooks =
                start_webhooks(config.webhooks.clone(), config.webhooks_identity.clone(), &config.database).await?;
            shutdown_signal(|| running.reload_tls()).await;
            stop_webhooks(webhooks).await;
            tracing::info!(grace = ?config.shutdown_grace, "shutting down: finishing calls in flight");
            running.trigger_stop();
            running.wait().await?;
            tracing::info!("coordinator stopped");
            Ok(ExitCode::SUCCESS)
        }
        Command::Node { config, command: Some(NodeCommand::Webhooks { command }) } => {
            let config = NodeConfig::load(&config)?;
            node_webhooks(&config.database, command).await
        }
        Command::Node { config, command: None } => {
            let config = NodeConfig::load(&config)?;
            telemetry::init(config.log_format);
            let running = node::start(&config).await?;
            // The node's webhooks follow the feed as the node's party, from the coordinator.
            let up = &config.upstream;
            let identity = FeedIdentity {
                endpoint: up.endpoint.clone(),
                ca: up.ca.clone(),
                cert: up.cert.clone(),
                key: up.key.clone(),
                server_name: up.server_name.clone(),
            };
            let webhooks = start_webhooks(config.webhooks.clone(), Some(identity), &config.database).await?;
            shutdown_signal(|| running.reload_tls()).await;
            stop_webhooks(webhooks).await;
            tracing::info!("node stopping; queued writes stay in its outbox");
            running.stop().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => {
            telemetry::init_with(LogFormat::Text, "warn");
            demo::run(args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command: AuditCommand::Verify { config, db, file } } => {
            let verdict = match file {
                Some(path) => {
                    let f = std::fs::File::open(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    audit::verify_export(std::io::BufReader::new(f))?
                }
                None => {
                    let url = database(config, db)?;
                    let store = store::connect(&url).await?;
                    audit::verify_store(store.as_ref()).await?
                }
            };
            match verdict {
                Ok(n) => {
                    println!("audit log verified: {n} entries, chain intact");
                    Ok(ExitCode::SUCCESS)
                }
                Err(broken) => {
                    println!("AUDIT LOG BROKEN at sequence {}: {}", broken.sequence, broken.reason);
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Audit { command: AuditCommand::Export { config, db, out } } => {
            let store = store::connect(&database(config, db)?).await?;
            let n = match out {
                Some(path) => {
                    let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
                    audit::export(store.as_ref(), &mut f).await?
                }
                None => audit::export(store.as_ref(), &mut std::io::stdout().lock()).await?,
            };
            eprintln!("exported {n} entries");
            Ok(ExitCode::SUCCESS)
        }
    }
}

type Webhooks = Option<(tokio::sync::watch::Sender<bool>, tokio::task::JoinHandle<()>)>;

/// Starts the webhook deliverer beside the server when webhooks are
/// configured; a bad webhook stops the start, naming its field.
async fn start_webhooks(
    hooks: Vec<WebhookConfig>,
    identity: Option<FeedIdentity>,
    database: &str,
) -> anyhow::Result<Webhooks> {
    if hooks.is_empty() {
        return Ok(None);
    }
    let identity = identity.ok_or_else(|| anyhow::anyhow!("webhooks_identity: required with [[webhooks]]"))?;
    for hook in &hooks {
        cosx_webhooks::Webhook::load(hook)?;
    }
    let path = cosx_webhooks::store_path_beside(database)
        .ok_or_else(|| anyhow::anyhow!("webhooks keep their cursors beside a sqlite:// database file"))?;
    let store = cosx_webhooks::CursorStore::open(&path).await?;
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        if let Err(e) = cosx_webhooks::run(hooks, identity, store, shutdown).await {
            tracing::error!(error = %e, "webhooks stopped");
        }
    });
    tracing::info!(cursors = %path.display(), "webhooks started");
    Ok(Some((stop, task)))
}

async fn stop_webhooks(webhooks: Webhooks) {
    if let Some((stop, task)) = webhooks {
        let _ = stop.send(true);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
    }
}

/// `cosx-server node --config FILE webhooks list|retry`.
async fn node_webhooks(database: &str, command: WebhooksCommand) -> anyhow::Result<ExitCode> {
    let path = cosx_webhooks::store_path_beside(database)
        .ok_or_else(|| anyhow::anyhow!("database {database:?}: no webhook cursor file beside it"))?;
    match command {
        WebhooksCommand::List => {
            let parked = cosx_webhooks::list_parked(&path).await?;
            if parked.is_empty() {
                println!("no parked deliveries");
            }
            for p in parked {
                println!("{}\t{}\t{}\t{} attempts\t{}", p.webhook, p.sequence, p.kind, p.attempts, p.last_error);
            }
        }
        WebhooksCommand::Retry { name, all } => {
            let n = cosx_webhooks::retry_parked(&path, if all { None } else { name.as_deref() }).await?;
            println!("released {n} parked deliver{}", if n == 1 { "y" } else { "ies" });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Returns on Ctrl-C or SIGTERM; reloads TLS on each SIGHUP meanwhile
/// (coordinator and node alike).
async fn shutdown_signal(reload_tls: impl Fn() -> Result<(), cosx_edge::tls::TlsError>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return,
                _ = term.recv() => return,
                _ = hup.recv() => match reload_tls() {
                    Ok(()) => tracing::info!("SIGHUP: TLS files reloaded"),
                    Err(e) => tracing::error!(error = %e, "SIGHUP: TLS files do not load; keeping the previous config"),
                },
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = reload_tls;
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cosx-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}
