//! The `cosx` command-line tool: argument parsing and dispatch.
//!
//! Connection settings are layered: `--endpoint/--ca/--cert/--key/--domain`
//! flags override the `COSX_ENDPOINT/COSX_CA/COSX_CERT/COSX_KEY/COSX_DOMAIN`
//! environment, which overrides the profile named by `--profile` (or
//! `COSX_PROFILE`) in `$COSX_CONFIG` or `~/.config/cosx/profiles.toml`.
//!
//! Output is an aligned table by default. With `--json` every command prints
//! JSON Lines: one proto3-JSON object per line (a `get` prints one line, a
//! list or stream one line per record or event, `submit` one `IngestResult`
//! per record), so output can be piped into `jq` or back into
//! `cosx submit --file`. Errors go to standard error.
//!
//! Exit codes: 0 success; 1 a call failed or a submitted record was refused;
//! 2 bad usage; `cosx import`: 3 some rows refused (see the reject file),
//! 4 the file cannot be imported at all (nothing was sent). This module owns process concerns (exit codes, stdout); the
//! command modules return errors and never exit.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use cosx_proto::v1::{
    CapacityOfferState, EventKind, MilitaryDepartment, PartyKind, Region, RepairOrderState, WriteState,
};

use crate::enums;
use crate::error::ClientError;

mod certs;
pub mod comment;
pub mod disruption;
pub mod exception;
mod export;
mod feed;
pub mod import;
mod ingest;
pub mod metrics;
mod node;
mod order;
mod output;
mod party;
mod profile;
pub mod quote;
mod read;
pub mod signals;
mod submit;

use output::Printer;

/// Command line of the `cosx` tool.
#[derive(Debug, Parser)]
#[command(name = "cosx", version, about = "Client for the cosx co-sustainment exchange", long_about = None)]
pub struct Cli {
    /// Connection and output options, accepted before or after the subcommand.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Default, Clone, Args)]
#[command(next_help_heading = "Connection and output")]
pub struct GlobalArgs {
    /// Server URL, e.g. https://localhost:7443 [env: COSX_ENDPOINT]
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Exchange CA certificate, PEM [env: COSX_CA]
    #[arg(long, global = true, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// This party's certificate, PEM [env: COSX_CERT]
    #[arg(long, global = true, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// This party's private key, PEM [env: COSX_KEY]
    #[arg(long, global = true, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Name to check the server certificate against instead of the endpoint
    /// host [env: COSX_DOMAIN]
    #[arg(long, global = true, value_name = "NAME")]
    pub domain: Option<String>,
    /// Profile in $COSX_CONFIG or ~/.config/cosx/profiles.toml supplying
    /// settings not given otherwise [env: COSX_PROFILE]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Print proto3 JSON, one object per line, instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The `cosx` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the exchange CA and issue party and server certificates (offline).
    #[command(subcommand)]
    Certs(CertsCommand),
    /// Submit records from a proto3-JSON file.
    Submit(SubmitArgs),
    /// Import records from CSV, JSON lines or XLSX, or write a template file.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Export what this party may see as CSV or JSON lines, in the import columns.
    Export(export::ExportArgs),
    /// Show one record by name: repairOrders/ID, capacityOffers/ID,
    /// availabilityReports/ID or parties/ID.
    Get {
        /// Resource name.
        name: String,
    },
    /// List records.
    #[command(subcommand)]
    List(ListCommand),
    /// Move a repair order along its lifecycle, split it, or show its history.
    #[command(subcommand)]
    Order(OrderCommand),
    /// Ask for quotes on an order, answer them, list them, accept one.
    #[command(subcommand)]
    Quote(quote::QuoteCommand),
    /// Raise a repair exception on an order you hold, answer one, list an order's.
    #[command(subcommand)]
    Exception(exception::ExceptionCommand),
    /// Comment on a record you may see; edit, withdraw or list comments.
    #[command(subcommand)]
    Comment(comment::CommentCommand),
    /// Ask for a newer version of a record or a missing monthly report; answer or withdraw a request.
    #[command(subcommand)]
    UpdateRequest(comment::UpdateRequestCommand),
    /// Declare, update, resolve and list disruptions; re-plan the work they strand.
    #[command(subcommand)]
    Disruption(disruption::DisruptionCommand),
    /// Follow the event feed; Ctrl-C stops.
    Feed(FeedArgs),
    /// Register or suspend parties (coordinators only).
    #[command(subcommand)]
    Party(PartyCommand),
    /// Metrics computed by the coordinator (DoDI 3110.05 availability).
    #[command(subcommand)]
    Metrics(metrics::MetricsCommand),
    /// A_M / A_O targets per TMS.
    #[command(subcommand)]
    Target(metrics::TargetCommand),
    /// Regional repair demand by cell and period, with forecasts.
    Demand(signals::DemandArgs),
    /// Demand against offered capacity, with bottlenecks.
    CapacityGap(signals::GapArgs),
    /// The 50/50 depot workload balance per department and fiscal year.
    Balance(signals::BalanceArgs),
    /// What a party node holds for the coordinator (point --endpoint at the node).
    #[command(subcommand)]
    Node(NodeCommand),
    /// Allocation proposals of open orders to capacity (coordinators).
    #[command(subcommand)]
    Allocate(signals::AllocateCommand),
}

/// `cosx certs ...`
#[derive(Debug, Subcommand)]
pub enum CertsCommand {
    /// Create a new exchange CA: OUT/ca.pem and OUT/ca.key (mode 0600).
    Init {
        /// SPIFFE trust domain, e.g. cosx.example.
        #[arg(long, value_name = "DOMAIN")]
        trust_domain: String,
        /// Directory to write into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Overwrite an existing ca.key.
        #[arg(long)]
        force: bool,
    },
    /// Issue a party certificate: OUT/PARTY_ID.pem and OUT/PARTY_ID.key,
    /// and with --p12 also a PKCS#12 file a browser imports (the web console).
    Issue {
        /// Directory holding ca.pem and ca.key.
        #[arg(long, value_name = "DIR")]
        ca: PathBuf,
        /// Party id, e.g. JPN-MHI-KOMAKI.
        #[arg(long, value_name = "PARTY_ID")]
        party: String,
        /// Directory to write into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Also write certificate, key and CA as a PKCS#12 file here (mode 0600).
        #[arg(long, value_name = "FILE")]
        p12: Option<PathBuf>,
        /// Passphrase protecting the PKCS#12 file (required with --p12). Prefer
        /// the environment variable: a flag is visible to other local users.
        #[arg(long, value_name = "PASSPHRASE", env = "COSX_P12_PASSPHRASE", hide_env_values = true)]
        p12_passphrase: Option<String>,
    },
    /// Issue a server certificate: OUT/server.pem and OUT/server.key.
    Server {
        /// Directory holding ca.pem and ca.key.
        #[arg(long, value_name = "DIR")]
        ca: PathBuf,
        /// DNS name or IP address the server is reached by; repeatable.
        #[arg(long = "name", value_name = "NAME", required = true)]
        names: Vec<String>,
        /// Directory to write into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Revoke a certificate: add its serial to the CA's revocation list and
    /// re-sign it (CRL number + 1, valid 30 days). Servers pick it up
    /// without a restart.
    Revoke {
        /// Directory holding ca.pem and ca.key.
        #[arg(long, value_name = "DIR")]
        ca: PathBuf,
        /// The certificate to revoke, PEM.
        #[arg(long, value_name = "FILE")]
        cert: PathBuf,
        /// The revocation list to update (created if missing) [default: CA_DIR/crl.pem]
        #[arg(long, value_name = "FILE")]
        crl: Option<PathBuf>,
    },
    /// Write the CA's revocation list, re-signed and valid 30 days from now:
    /// creates an empty one, or refreshes OUT keeping its entries.
    Crl {
        /// Directory holding ca.pem and ca.key.
        #[arg(long, value_name = "DIR")]
        ca: PathBuf,
        /// The revocation list file to write (its entries are kept).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Which kind of record a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordKind {
    /// Repair orders (CreateRepairOrder).
    Order,
    /// Capacity offers (CreateCapacityOffer).
    Offer,
    /// Availability reports (SubmitAvailabilityReport).
    Report,
}

/// `cosx submit order|offer|report --file F`
#[derive(Debug, Args)]
#[command(after_help = "Each record's request id is <prefix>-<index> (prefix defaults to the file \
name without extension), so re-running the same file stores nothing twice. More than 50 records \
go through the Ingest stream.")]
pub struct SubmitArgs {
    /// What the file holds.
    #[arg(value_enum)]
    pub kind: RecordKind,
    /// proto3-JSON file: one object, an array of objects, or JSON Lines.
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
    /// Prefix of the per-record request ids (default: the file stem).
    #[arg(long, value_name = "P")]
    pub request_id_prefix: Option<String>,
}

/// Paging options shared by the list commands.
#[derive(Debug, Clone, Args)]
pub struct PageArgs {
    /// Records per page (server default 100, at most 1000).
    #[arg(long, value_name = "N")]
    pub page_size: Option<i32>,
    /// Start at this page token (printed after a partial listing).
    #[arg(long, value_name = "TOKEN")]
    pub page_token: Option<String>,
    /// Follow page tokens to the end.
    #[arg(long)]
    pub all: bool,
}

/// `cosx list ...`
#[derive(Debug, Subcommand)]
pub enum ListCommand {
    /// Repair orders.
    Orders {
        /// State, e.g. proposed, in-work.
        #[arg(long, value_parser = enums::parse::<RepairOrderState>)]
        state: Option<RepairOrderState>,
        /// Type-model-series, e.g. F-35A.
        #[arg(long)]
        tms: Option<String>,
        /// Originating party id.
        #[arg(long)]
        originator: Option<String>,
        /// Proposed or assigned provider party id.
        #[arg(long)]
        provider: Option<String>,
        /// Region of the item's location, e.g. indopacom.
        #[arg(long, value_parser = enums::parse::<Region>)]
        region: Option<Region>,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// Capacity offers.
    Offers {
        /// State: active, withdrawn, expired.
        #[arg(long, value_parser = enums::parse::<CapacityOfferState>)]
        state: Option<CapacityOfferState>,
        /// Offered TMS.
        #[arg(long)]
        tms: Option<String>,
        /// Providing party id.
        #[arg(long)]
        provider: Option<String>,
        /// Region of the site.
        #[arg(long, value_parser = enums::parse::<Region>)]
        region: Option<Region>,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// Availability reports.
    Reports {
        /// Reporting party id.
        #[arg(long)]
        reporter: Option<String>,
        /// Type-model-series.
        #[arg(long)]
        tms: Option<String>,
        /// Include superseded versions.
        #[arg(long)]
        include_superseded: bool,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// Registered parties.
    Parties {
        /// Kind: organic, partner-government, contractor, coordinator.
        #[arg(long, value_parser = enums::parse::<PartyKind>)]
        kind: Option<PartyKind>,
        /// ISO 3166-1 alpha-3 nation, e.g. JPN.
        #[arg(long)]
        nation: Option<String>,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
}

/// Options of a lifecycle step.
#[derive(Debug, Clone, Args)]
pub struct TransitionArgs {
    /// The order, repairOrders/ID or a bare id.
    pub name: String,
    /// The order version last seen (refused with ABORTED if stale).
    #[arg(long, value_name = "N")]
    pub version: i64,
    /// Provider party id (propose).
    #[arg(long, value_name = "PARTY_ID")]
    pub provider: Option<String>,
    /// Reason recorded with the step.
    #[arg(long)]
    pub reason: Option<String>,
    /// Induction date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub induction_date: Option<String>,
    /// Estimated completion date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub estimated_completion: Option<String>,
    /// Actual completion date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub actual_completion: Option<String>,
    /// Ship date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub ship_date: Option<String>,
    /// Actual labor hours.
    #[arg(long, value_name = "H")]
    pub labor_hours: Option<f64>,
    /// Actual cost in minor units (cents).
    #[arg(long, value_name = "C")]
    pub cost_cents: Option<i64>,
    /// ISO 4217 currency of --cost-cents.
    #[arg(long, default_value = "USD")]
    pub currency: String,
    /// Idempotency key; give the same one to retry a step safely (default: fresh).
    #[arg(long, value_name = "ID")]
    pub request_id: Option<String>,
}

/// `cosx order ...`
#[derive(Debug, Subcommand)]
pub enum OrderCommand {
    /// Coordinator: propose the order to --provider.
    Propose(TransitionArgs),
    /// Proposed provider: accept the work.
    Accept(TransitionArgs),
    /// Proposed provider: decline.
    Decline(TransitionArgs),
    /// Assigned provider: the item is inducted.
    Induct(TransitionArgs),
    /// Assigned provider: work starts or resumes.
    Start(TransitionArgs),
    /// Assigned provider: work waits for parts.
    AwaitParts(TransitionArgs),
    /// Assigned provider: work is complete.
    Complete(TransitionArgs),
    /// Assigned provider: the serviceable item is shipped.
    Ship(TransitionArgs),
    /// Originator: item received, order closed.
    Close(TransitionArgs),
    /// Originator: cancel before induction.
    Cancel(TransitionArgs),
    /// Split the order's quantity into new orders.
    Split {
        /// The order, repairOrders/ID or a bare id.
        name: String,
        /// The order version last seen.
        #[arg(long, value_name = "N")]
        version: i64,
        /// Quantities of the new orders, e.g. 2,3 (sum = the order's quantity).
        #[arg(long, value_delimiter = ',', required = true, value_name = "Q,Q,...")]
        quantities: Vec<u32>,
        /// Idempotency key (default: fresh).
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
    },
    /// Show the order's recorded transitions.
    History {
        /// The order, repairOrders/ID or a bare id.
        name: String,
    },
}

/// `cosx feed`
#[derive(Debug, Args)]
pub struct FeedArgs {
    /// Replay from the event after this sequence number (0: from the start).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub after: i64,
    /// Only these event kinds, e.g. repair-order-created; repeatable or comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = enums::parse::<EventKind>)]
    pub kind: Vec<EventKind>,
}

/// `cosx node ...`
#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Queued, rejected and delivered writes, sync time and feed lag.
    Status,
    /// The node's outbox, newest first.
    Writes {
        /// Only writes in this state: queued, delivered or rejected.
        #[arg(long, value_parser = enums::parse::<WriteState>)]
        state: Option<WriteState>,
        /// At most this many (default 100).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// The webhook deliveries parked after their last attempt (pointed at the
    /// coordinator: the coordinator's, for coordinating parties), or release one.
    Webhooks {
        /// Release this webhook's parked delivery: it is sent again, then the rest.
        #[arg(long, value_name = "WEBHOOK", conflicts_with = "retry_all")]
        retry: Option<String>,
        /// Release every webhook's parked delivery.
        #[arg(long)]
        retry_all: bool,
    },
}

/// `cosx party ...`
#[derive(Debug, Subcommand)]
pub enum PartyCommand {
    /// Register a party.
    Register {
        /// Party id, e.g. JPN-MHI-KOMAKI.
        #[arg(long)]
        id: String,
        /// organic, partner-government, contractor or coordinator.
        #[arg(long, value_parser = enums::parse::<PartyKind>)]
        kind: PartyKind,
        /// ISO 3166-1 alpha-3 nation, e.g. JPN.
        #[arg(long)]
        nation: String,
        /// Military Department of a US organic party: army, navy, air-force.
        #[arg(long, value_parser = enums::parse::<MilitaryDepartment>)]
        department: Option<MilitaryDepartment>,
        /// Human-readable name.
        #[arg(long)]
        display_name: Option<String>,
        /// Idempotency key (default: fresh).
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
    },
    /// Suspend a party: its calls are refused from then on.
    Suspend {
        /// Party id or parties/ID.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Only if the party's etag is still this.
        #[arg(long)]
        etag: Option<String>,
    },
}

/// Parses the process arguments, runs the command and turns the outcome
/// into an exit code. The whole of `main` for the `cosx` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cosx: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

/// Runs a parsed command line and returns the process exit code; errors are
/// printed to standard error.
pub async fn run(cli: Cli) -> ExitCode {
    match dispatch(cli).await {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::SomeRefused) => ExitCode::from(1),
        Ok(Outcome::RowsRefused) => ExitCode::from(3),
        Err(ClientError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cosx: {err}");
            match err {
                ClientError::Usage(_) | ClientError::Profile(_) => ExitCode::from(2),
                ClientError::BadFile { .. } => ExitCode::from(4),
                _ => ExitCode::from(1),
            }
        }
    }
}

/// How a command that ran to the end went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Everything succeeded.
    Success,
    /// The command ran but some records were refused (already reported).
    SomeRefused,
    /// An import ran but some rows were refused (in the reject file).
    RowsRefused,
}

async fn dispatch(cli: Cli) -> Result<Outcome, ClientError> {
    let printer = Printer::new(cli.global.json);
    let Cli { global, command } = cli;
    // Certificate commands work offline: resolve no connection settings.
    if let Command::Certs(cmd) = command {
        certs::run(cmd, &printer)?;
        return Ok(Outcome::Success);
    }
    // Imports check the file offline before connecting.
    if let Command::Import(cmd) = command {
        return import::run(cmd, &global).await;
    }
    // Refuse a malformed name before spending a TLS handshake on it.
    if let Command::Get { name } = &command {
        read::resource_of(name)?;
    }
    let settings = profile::resolve(&global, &profile::process_env)?;
    let client = crate::Client::connect(&settings).await?;
    match command {
        Command::Certs(_) | Command::Import(_) => Ok(Outcome::Success),
        Command::Submit(args) => submit::run(&client, args, &printer).await,
        Command::Export(args) => export::run(&client, args).await,
        Command::Get { name } => read::get(&client, &name, &printer).await.map(|()| Outcome::Success),
        Command::List(cmd) => read::list(&client, cmd, &printer).await.map(|()| Outcome::Success),
        Command::Order(cmd) => order::run(&client, cmd, &printer).await.map(|()| Outcome::Success),
        Command::Quote(cmd) => quote::run(&client, cmd, &printer).await.map(|()| Outcome::Success),
        Command::Exception(cmd) => exception::run(&client, cmd, &printer).await.map(|()| Outcome::Success),
        Command::Comment(cmd) => comment::run(&client, cmd, &printer).await.map(|()| Outcome::Success),
        Command::UpdateRequest(cmd) => {
            comment::run_update_request(&client, cmd, &printer).await.map(|()| Outcome::Success)
        }
        Command::Disruption(cmd) => disruption::run(&client, cmd, &printer).await.map(|()| Outcome::Success),
        Command::Feed(args) => feed::run(&client, args, &printer).await.map(|()| Outcome::Success),
        Command::Party(cmd) => party::run(&client, cmd, &printer).await.map(|()| Outcome::Success),
        Command::Metrics(cmd) => metrics::run(&client, cmd, &printer).await.map(|()| Outcome::Success),
        Command::Target(cmd) => metrics::target(&client, cmd, &printer).await.map(|()| Outcome::Success),
        Command::Demand(args) => signals::demand(&client, args, &printer).await.map(|()| Outcome::Success),
        Command::CapacityGap(args) => signals::gap(&client, args, &printer).await.map(|()| Outcome::Success),
        Command::Balance(args) => signals::balance(&client, args, &printer).await.map(|()| Outcome::Success),
        Command::Allocate(cmd) => signals::allocate(&client, cmd, &printer).await.map(|()| Outcome::Success),
        Command::Node(cmd) => node::run(&client, cmd, &printer).await.map(|()| Outcome::Success),
    }
}

/// A fresh idempotency key for a one-off call: time, process and a counter,
/// unique enough that two invocations never collide by accident.
pub(crate) fn fresh_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("cosx-cli-{nanos:x}-{:x}-{n}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Cli {
        let mut argv = vec!["cosx"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv) {
            Ok(cli) => cli,
            Err(e) => panic!("{args:?} should parse: {e}"),
        }
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_before_or_after_the_subcommand() {
        let before = parse(&["--endpoint", "https://a:1", "--json", "list", "orders"]);
        let after = parse(&["list", "orders", "--endpoint", "https://a:1", "--json"]);
        for cli in [before, after] {
            assert_eq!(cli.global.endpoint.as_deref(), Some("https://a:1"));
            assert!(cli.global.json);
        }
    }

    #[test]
    fn list_filters_take_short_enum_forms() {
        let cli = parse(&["list", "orders", "--state", "proposed", "--region", "INDOPACOM", "--all"]);
        let Command::List(ListCommand::Orders { state, region, page, .. }) = cli.command else {
            panic!("expected list orders");
        };
        assert_eq!(state, Some(RepairOrderState::Proposed));
        assert_eq!(region, Some(Region::Indopacom));
        assert!(page.all);
    }

    #[test]
    fn a_bad_enum_filter_is_a_usage_error_listing_choices() {
        let err = Cli::try_parse_from(["cosx", "list", "parties", "--kind", "vendor"]).expect_err("bad");
        let text = err.to_string();
        assert!(text.contains("expected one of: organic, partner-government"), "{text}");
    }

    #[test]
    fn certs_issue_takes_a_ca_directory() {
        let cli = parse(&["certs", "issue", "--ca", "ca-dir", "--party", "JPN-MHI-KOMAKI", "--out", "o"]);
        let Command::Certs(CertsCommand::Issue { ca, party, out, p12, .. }) = cli.command else {
            panic!("expected certs issue");
        };
        assert_eq!(ca, PathBuf::from("ca-dir"));
        assert_eq!(party, "JPN-MHI-KOMAKI");
        assert_eq!(out, PathBuf::from("o"));
        assert_eq!(p12, None);
    }

    #[test]
    fn certs_server_takes_several_names() {
        let cli = parse(&["certs", "server", "--ca", "d", "--name", "localhost", "--name", "127.0.0.1", "--out", "o"]);
        let Command::Certs(CertsCommand::Server { names, .. }) = cli.command else {
            panic!("expected certs server");
        };
        assert_eq!(names, ["localhost", "127.0.0.1"]);
    }

    #[test]
    fn submit_takes_the_kind_and_file() {
        let cli = parse(&["submit", "offer", "--file", "offers.json", "--request-id-prefix", "batch7"]);
        let Command::Submit(args) = cli.command else { panic!("expected submit") };
        assert_eq!(args.kind, RecordKind::Offer);
        assert_eq!(args.file, PathBuf::from("offers.json"));
        assert_eq!(args.request_id_prefix.as_deref(), Some("batch7"));
    }

    #[test]
    fn order_steps_take_progress_details() {
        let cli = parse(&[
            "order",
            "induct",
            "repairOrders/9",
            "--version",
            "4",
            "--induction-date",
            "2027-01-05",
            "--estimated-completion",
            "2027-02-01",
        ]);
        let Command::Order(OrderCommand::Induct(t)) = cli.command else { panic!("expected induct") };
        assert_eq!(t.name, "repairOrders/9");
        assert_eq!(t.version, 4);
        assert_eq!(t.induction_date.as_deref(), Some("2027-01-05"));
        assert_eq!(t.currency, "USD");
    }

    #[test]
    fn await_parts_is_spelled_with_a_dash() {
        let cli = parse(&["order", "await-parts", "repairOrders/9", "--version", "5"]);
        assert!(matches!(cli.command, Command::Order(OrderCommand::AwaitParts(_))));
    }

    #[test]
    fn split_quantities_are_comma_separated() {
        let cli = parse(&["order", "split", "repairOrders/9", "--version", "2", "--quantities", "2,3"]);
        let Command::Order(OrderCommand::Split { quantities, .. }) = cli.command else {
            panic!("expected split");
        };
        assert_eq!(quantities, [2, 3]);
    }

    #[test]
    fn feed_kinds_repeat_or_use_commas() {
        let cli = parse(&[
            "feed",
            "--after",
            "17",
            "--kind",
            "repair-order-created,party-registered",
            "--kind",
            "capacity_offer_withdrawn",
        ]);
        let Command::Feed(args) = cli.command else { panic!("expected feed") };
        assert_eq!(args.after, 17);
        assert_eq!(
            args.kind,
            [EventKind::RepairOrderCreated, EventKind::PartyRegistered, EventKind::CapacityOfferWithdrawn]
        );
    }

    #[test]
    fn party_register_parses_kind_and_department() {
        let cli = parse(&[
            "party",
            "register",
            "--id",
            "US-USAF-OOALC",
            "--kind",
            "organic",
            "--nation",
            "USA",
            "--department",
            "air-force",
        ]);
        let Command::Party(PartyCommand::Register { kind, department, .. }) = cli.command else {
            panic!("expected register");
        };
        assert_eq!(kind, PartyKind::Organic);
        assert_eq!(department, Some(MilitaryDepartment::AirForce));
    }

    #[test]
    fn fresh_request_ids_differ() {
        assert_ne!(fresh_request_id(), fresh_request_id());
    }
}
