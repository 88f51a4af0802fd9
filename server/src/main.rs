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
            shutdown_signal(|| running.reload_tls()).await;
            tracing::info!(grace = ?config.shutdown_grace, "shutting down: finishing calls in flight");
            running.trigger_stop();
            running.wait().await?;
            tracing::info!("coordinator stopped");
            Ok(ExitCode::SUCCESS)
        }
        Command::Node { config } => {
            let config = NodeConfig::load(&config)?;
            telemetry::init(config.log_format);
            let running = node::start(&config).await?;
            shutdown_signal(|| running.reload_tls()).await;
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
