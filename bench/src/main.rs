//! `cosx-bench`: how fast cosx is, against same-run ceilings, in one run.
//!
//! Starts real coordinators (and a store-nothing stub) on loopback with
//! real mutual TLS and measures, at each size given: streaming ingest of
//! repair orders and availability reports against a raw batched insert of
//! the same rows into the same backend (SQLite, or PostgreSQL with
//! `--database-url`); unary durable submits from N concurrent clients
//! against the stub; query latencies over what was loaded; and allocation
//! (pure, and `Propose` through the API over the stored open orders), with
//! the peak resident memory at each size (of the coordinator alone when
//! `--coordinator-process` runs it as the `cosx-server` binary in its own
//! process). Prints a Markdown table
//! and, with `--json-out`, writes the figures as JSON. Run it in release
//! mode; `--smoke` checks the harness in seconds and asserts nothing.

mod alloc;
mod console;
mod exchange;
mod fanout;
mod files;
mod fixtures;
mod ingest;
mod measure;
mod node;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use cosx_proto::v1 as pb;
use pb::ingest_request::Record;
use serde_json::json;
use tonic::transport::Channel;

use crate::exchange::{COORDINATOR, Coordinator, MHI, Pki, USAF};
use crate::measure::Latencies;

/// Benchmark cosx against same-run baselines.
#[derive(Parser, Debug)]
#[command(name = "cosx-bench", version)]
struct Args {
    /// Repair orders stored at each growth step (ascending), e.g. 10000,100000,1000000.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000usize, 5_000, 20_000])]
    sizes: Vec<usize>,
    /// Availability reports loaded per repair order (0.1: one report per ten orders).
    #[arg(long, default_value_t = 0.1)]
    reports_per_order: f64,
    /// Capacity offers loaded at each step (for the capacity comparison and Propose).
    #[arg(long, default_value_t = 40)]
    offers: usize,
    /// Concurrent unary clients, each on its own mTLS connection.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Unary CreateRepairOrder calls at each step (to the coordinator and to the stub).
    #[arg(long, default_value_t = 2_000)]
    unary_calls: usize,
    /// Timed repetitions of each query.
    #[arg(long, default_value_t = 20)]
    query_reps: usize,
    /// Largest step at which Propose is timed through the API.
    #[arg(long, default_value_t = 1_000_000)]
    propose_max_orders: usize,
    /// Capacity offers in place when Propose is timed (the step's `--offers`
    /// and as many more as it takes, loaded after the queries).
    #[arg(long, default_value_t = 5_000)]
    propose_offers: usize,
    /// Before Propose, cancel streamed orders (through the API, 16 at a
    /// time) until at most this many of them are open; the rest stay stored.
    #[arg(long)]
    open_orders: Option<usize>,
    /// Run each step's coordinator as the `cosx-server` binary in its own
    /// process (found beside this binary unless `--server-bin`), and report
    /// its peak resident memory apart from the bench's.
    #[arg(long)]
    coordinator_process: bool,
    /// The `cosx-server` binary for `--coordinator-process`.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// The `cosx` binary for the bulk-file figures (default: beside this binary).
    #[arg(long)]
    cli_bin: Option<PathBuf>,
    /// Largest step at which the bulk-file figures run (`cosx import` of the
    /// step's size in orders from CSV against the same orders through
    /// `Ingest` from JSON lines, then `cosx export`); 0: never.
    #[arg(long, default_value_t = 1_000_000)]
    files_max_orders: usize,
    /// Largest step at which `cosx import` of the JSON-lines file also runs
    /// (the CLI's own JSON-lines path, beside its CSV path).
    #[arg(long, default_value_t = 100_000)]
    import_jsonl_max_orders: usize,
    /// Rounds of the export figure (each an export and a paged list; the
    /// median is reported).
    #[arg(long, default_value_t = 3)]
    export_rounds: usize,
    /// Skip the ingest ceilings (the raw inserts beside the ingest figures),
    /// to save time in a long run; the ingest figures then have no ratio.
    #[arg(long)]
    no_ceiling: bool,
    /// Timed rounds of the console's pages (each round GETs every page once).
    #[arg(long, default_value_t = 200)]
    console_reps: usize,
    /// Pure allocation instances, ORDERSxOFFERS.
    #[arg(long, value_delimiter = ',', default_values_t = ["10000x1000".to_owned(), "10000x5000".to_owned(), "100000x1000".to_owned(), "100000x5000".to_owned()])]
    alloc: Vec<String>,
    /// Run the coordinators on PostgreSQL: a URL to any database on the
    /// server (e.g. postgres://postgres@127.0.0.1:5432/postgres); each step
    /// creates its own databases there (coordinator, ceilings) and drops them.
    /// Without it, SQLite files.
    #[arg(long)]
    database_url: Option<String>,
    /// Rows per multi-row INSERT in the ceiling.
    #[arg(long, default_value_t = 500)]
    rows_per_statement: usize,
    /// Rows per transaction in the ceiling.
    #[arg(long, default_value_t = 50_000)]
    rows_per_transaction: usize,
    /// Tiny sizes, for CI: checks the harness works in seconds; asserts nothing about speed.
    #[arg(long)]
    smoke: bool,
    /// Feed subscribers following live in the fan-out figure (0: skip it).
    #[arg(long, default_value_t = 1_000)]
    fanout_subscribers: usize,
    /// Events per second committed while they follow.
    #[arg(long, default_value_t = 1_000.0)]
    fanout_rate: f64,
    /// How long the writers commit, in seconds.
    #[arg(long, default_value_t = 10.0)]
    fanout_seconds: f64,
    /// Only the fan-out figure: no growth steps, no pure allocation.
    #[arg(long)]
    fanout_only: bool,
    /// Only the party-node forwarding comparison (bench/src/node.rs): this
    /// many creates straight to a coordinator, then through a node.
    #[arg(long)]
    node_forwarding: Option<usize>,
    /// The node's outbox retention in `--node-forwarding`, e.g. 10s.
    #[arg(long, default_value = "10s", value_parser = cosx_edge::config::duration::parse)]
    node_retention: std::time::Duration,
    /// Also write every figure here as JSON.
    #[arg(long)]
    json_out: Option<PathBuf>,
}

/// One reported figure.
struct Figure {
    section: &'static str,
    name: String,
    size: String,
    value: f64,
    unit: &'static str,
    baseline: Option<f64>,
    baseline_name: &'static str,
    /// value / baseline.
    ratio: Option<f64>,
    note: String,
}

impl Figure {
    fn new(
        section: &'static str,
        name: impl Into<String>,
        size: impl ToString,
        value: f64,
        unit: &'static str,
    ) -> Self {
        Figure {
            section,
            name: name.into(),
            size: size.to_string(),
            value,
            unit,
            baseline: None,
            baseline_name: "",
            ratio: None,
            note: String::new(),
        }
    }

    fn against(mut self, baseline_name: &'static str, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self.baseline_name = baseline_name;
        self.ratio = (baseline > 0.0 && baseline.is_finite()).then(|| self.value / baseline);
        self
    }

    fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    fn json(&self) -> serde_json::Value {
        let num = |x: f64| if x.is_finite() { json!(x) } else { serde_json::Value::Null };
        json!({
            "section": self.section, "figure": self.name, "size": self.size,
            "value": num(self.value), "unit": self.unit,
            "baseline": self.baseline.map(num), "baseline_name": self.baseline_name,
            "ratio": self.ratio.map(num), "note": self.note,
        })
    }
}

fn fmt(x: f64) -> String {
    if !x.is_finite() {
        "-".to_owned()
    } else if x.abs() >= 1000.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    }
}

fn table(figures: &[Figure]) -> String {
    let mut out =
        String::from("| section | figure | size | cosx | baseline | ratio | note |\n|---|---|---|---:|---|---:|---|\n");
    for f in figures {
        let baseline = f.baseline.map(|b| format!("{} {} ({})", fmt(b), f.unit, f.baseline_name)).unwrap_or_default();
        let ratio = f.ratio.map(|r| format!("{r:.3}")).unwrap_or_default();
        out.push_str(&format!(
            "| {} | {} | {} | {} {} | {} | {} | {} |\n",
            f.section,
            f.name,
            f.size,
            fmt(f.value),
            f.unit,
            baseline,
            ratio,
            f.note
        ));
    }
    out
}

/// One channel to `addr` for `party` per concurrent client.
async fn client_channels(pki: &Pki, addr: SocketAddr, party: &str, clients: usize) -> anyhow::Result<Vec<Channel>> {
    let mut channels = Vec::with_capacity(clients);
    for _ in 0..clients {
        channels.push(pki.channel(addr, party).await?);
    }
    Ok(channels)
}

/// A figure's note, saying also how many of the calls `l` measured failed
/// and the first failure, if any did.
fn with_failures(mut note: String, l: &Latencies) -> String {
    if l.errors > 0 {
        note.push_str(&format!("; {} failed, first: {:?}", l.errors, l.first_error));
    }
    note
}

fn latency_figures(
    figures: &mut Vec<Figure>,
    section: &'static str,
    name: &str,
    size: usize,
    l: &Latencies,
    floor: &Latencies,
    floor_name: &'static str,
) {
    for (q, label) in [(0.5, "p50"), (0.99, "p99")] {
        figures.push(
            Figure::new(section, format!("{name} {label}"), size, l.quantile_ms(q), "ms")
                .against(floor_name, floor.quantile_ms(q))
                .note(format!("{} calls", l.samples.len())),
        );
    }
}

fn ingest_requests(n: usize, prefix: &str, record: impl Fn(usize) -> Record) -> Vec<pb::IngestRequest> {
    (0..n)
        .map(|i| pb::IngestRequest {
            request_id: format!("{prefix}{i}"),
            record: Some(record(i)),
            record_id: String::new(),
        })
        .collect()
}

/// Streams records into the coordinator, then inserts the rows it wrote
/// into a fresh SQLite file as fast as SQLite goes, and reports both.
/// Returns the names of the stored records when `keep_names`.
#[allow(clippy::too_many_arguments)]
async fn ingest_vs_ceiling(
    args: &Args,
    pki: &Pki,
    running: &Coordinator,
    db: &ingest::Db,
    figures: &mut Vec<Figure>,
    size: usize,
    what: &'static str,
    kind: &str,
    prefix: &str,
    records: Vec<pb::IngestRequest>,
    keep_names: bool,
) -> anyhow::Result<Vec<String>> {
    let n = records.len();
    let party = if kind == "capacity_offer" { MHI } else { USAF };
    let before = ingest::last_sequence(db).await?;
    let mut streamed = ingest::stream_keeping(pki.channel(running.addr(), party).await?, records, keep_names).await?;
    // What the coordinator still owes for these records counts against it:
    // its WAL checkpoint (SQLite checkpoints in the background), timed and
    // added. Its views then catch up (a query waits for that), untimed but
    // before the ceiling, so that nothing of the coordinator's runs beside it.
    let checkpoint = ingest::checkpoint(db).await?;
    streamed.elapsed += checkpoint;
    settle_views(pki, running).await?;
    let after = ingest::last_sequence(db).await?;
    if streamed.accepted == 0 && n > 0 {
        anyhow::bail!("{what}: every record refused, first: {:?}", streamed.first_refusal);
    }
    let rate = streamed.accepted as f64 / streamed.elapsed.as_secs_f64().max(1e-9);
    if args.no_ceiling {
        figures.push(Figure::new("1 ingest", format!("Ingest stream, {what}"), size, rate, "rec/s").note(format!(
            "{} stored in {:.2} s (incl. {:.2} s to checkpoint the WAL); ceiling not run (--no-ceiling)",
            streamed.accepted,
            streamed.elapsed.as_secs_f64(),
            checkpoint.as_secs_f64()
        )));
        return Ok(streamed.names);
    }
    let sources = ingest::rows_written(kind, prefix, before, after);
    let ceiling_db =
        ingest::Db::create(args.database_url.as_deref(), pki.dir.path(), &format!("ceiling-{kind}-{size}")).await?;
    let measured =
        ingest::ceiling_into(db, &ceiling_db, &sources, args.rows_per_statement, args.rows_per_transaction).await;
    ceiling_db.remove().await?;
    let (took, inserted) = measured?;
    let rows = inserted;
    let ceiling = streamed.accepted as f64 / took.as_secs_f64().max(1e-9);
    let mut note = format!(
        "{} stored in {:.2} s (incl. {:.2} s to checkpoint the WAL); ceiling inserted the same {inserted} rows ({:.1} per record) in {:.3} s = {:.0} rows/s",
        streamed.accepted,
        streamed.elapsed.as_secs_f64(),
        checkpoint.as_secs_f64(),
        rows as f64 / streamed.accepted.max(1) as f64,
        took.as_secs_f64(),
        inserted as f64 / took.as_secs_f64().max(1e-9)
    );
    if streamed.refused > 0 {
        note.push_str(&format!("; {} refused, first: {:?}", streamed.refused, streamed.first_refusal));
    }
    figures.push(
        Figure::new("1 ingest", format!("Ingest stream, {what}"), size, rate, "rec/s")
            .against(db.ceiling_name(), ceiling)
            .note(note),
    );
    Ok(streamed.names)
}

/// Waits until the coordinator's views have caught up with its log (a
/// coordinator's signals query catches them up before it answers).
async fn settle_views(pki: &Pki, running: &Coordinator) -> anyhow::Result<()> {
    let mut signals = pb::signals_client::SignalsClient::new(pki.channel(running.addr(), COORDINATOR).await?);
    signals
        .get_workload_balance(pb::GetWorkloadBalanceRequest {
            department: pb::MilitaryDepartment::AirForce as i32,
            fiscal_year: 2027,
            ..Default::default()
        })
        .await?;
    Ok(())
}

async fn step(args: &Args, pki: &Pki, size: usize, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    measure::reset_peak();
    let db = ingest::Db::create(args.database_url.as_deref(), pki.dir.path(), &format!("coordinator-{size}")).await?;
    let stepped = step_on(args, pki, size, &db, figures).await;
    db.remove().await?;
    stepped
}

async fn step_on(
    args: &Args,
    pki: &Pki,
    size: usize,
    db: &ingest::Db,
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    let running = if args.coordinator_process {
        let bin = match &args.server_bin {
            Some(bin) => bin.clone(),
            None => exchange::server_beside_bench()?,
        };
        pki.start_process(db, &bin, &format!("coordinator-{size}")).await?
    } else {
        Coordinator::InProcess(pki.start_coordinator(db).await?)
    };
    eprintln!("step {size}: ingest");

    // 1. Streaming ingest against the raw insert of the same rows.
    let orders = ingest_requests(size, "io-", |i| Record::RepairOrder(fixtures::repair_order(USAF, i)));
    let keep_names = args.open_orders.is_some_and(|open| open < size);
    let order_names = ingest_vs_ceiling(
        args,
        pki,
        &running,
        db,
        figures,
        size,
        "repair orders",
        "repair_order",
        "io-",
        orders,
        keep_names,
    )
    .await?;
    let n_reports = ((size as f64) * args.reports_per_order).ceil() as usize;
    let reports =
        ingest_requests(n_reports, "ir-", |i| Record::AvailabilityReport(fixtures::availability_report(USAF, i)));
    ingest_vs_ceiling(
        args,
        pki,
        &running,
        db,
        figures,
        size,
        "availability reports",
        "availability_report",
        "ir-",
        reports,
        false,
    )
    .await?;
    let offers = ingest_requests(args.offers, "if-", |i| Record::CapacityOffer(fixtures::capacity_offer(MHI, i)));
    let streamed = ingest::stream(pki.channel(running.addr(), MHI).await?, offers).await?;
    if streamed.refused > 0 {
        eprintln!("offers: {} refused, first: {:?}", streamed.refused, streamed.first_refusal);
    }

    // 2. Unary durable submit against the stub.
    eprintln!("step {size}: unary");
    let channels = client_channels(pki, running.addr(), USAF, args.clients).await?;
    let durable = measure::unary_creates(channels, args.unary_calls, &format!("u{size}")).await?;
    let stub = pki.start_stub().await?;
    let channels = client_channels(pki, stub.addr, USAF, args.clients).await?;
    let nothing = measure::unary_creates(channels, args.unary_calls, &format!("s{size}")).await?;
    drop(stub);
    let note = with_failures(format!("{} clients, {} calls", args.clients, durable.samples.len()), &durable);
    figures.push(
        Figure::new("2 unary", "CreateRepairOrder throughput", size, durable.rate(), "calls/s")
            .against("stub that stores nothing", nothing.rate())
            .note(note),
    );
    latency_figures(figures, "2 unary", "CreateRepairOrder latency", size, &durable, &nothing, "stub");

    // 2b. The same creates over HTTP/JSON, against gRPC in the same step.
    let channels = client_channels(pki, running.addr(), USAF, args.clients).await?;
    let json = measure::http_creates(channels, args.unary_calls, &format!("h{size}")).await?;
    let note =
        with_failures(format!("{} clients, {} calls, POST /v1/repairOrders", args.clients, json.samples.len()), &json);
    figures.push(
        Figure::new("2 unary", "HTTP/JSON create throughput", size, json.rate(), "calls/s")
            .against("gRPC CreateRepairOrder", durable.rate())
            .note(note),
    );

    // 3. Queries over what was loaded, against a no-op mTLS round trip.
    eprintln!("step {size}: queries");
    let channel = pki.channel(running.addr(), COORDINATOR).await?;
    let signals = pb::signals_client::SignalsClient::new(channel.clone()).max_decoding_message_size(256 << 20);
    let reps = args.query_reps;
    let demand = pb::GetDemandSignalRequest {
        basis: pb::DateBasis::RequiredBy as i32,
        granularity: pb::Granularity::Month as i32,
        forecast_periods: 12,
        ..Default::default()
    };
    let l = measure::repeat(reps, || {
        let (mut c, r) = (signals.clone(), demand.clone());
        async move { c.get_demand_signal(r).await }
    })
    .await?;
    let floor_name = "no-op mTLS call to the stub";
    latency_figures(figures, "3 queries", "GetDemandSignal", size, &l, &nothing, floor_name);
    let comparison = pb::GetCapacityComparisonRequest {
        granularity: pb::Granularity::Month as i32,
        alert_absolute: 100.0,
        alert_relative: 0.1,
        ..Default::default()
    };
    let l = measure::repeat(reps, || {
        let (mut c, r) = (signals.clone(), comparison.clone());
        async move { c.get_capacity_comparison(r).await }
    })
    .await?;
    latency_figures(figures, "3 queries", "GetCapacityComparison", size, &l, &nothing, floor_name);
    let l = measure::repeat(reps, || {
        let mut c = signals.clone();
        async move { c.get_availability_metrics(pb::GetAvailabilityMetricsRequest::default()).await }
    })
    .await?;
    latency_figures(figures, "3 queries", "GetAvailabilityMetrics", size, &l, &nothing, floor_name);
    // The same call when no kept answer can serve it: a revised report (of
    // one already counted, so the answer keeps its size) lands before each.
    let reporter = pb::exchange_client::ExchangeClient::new(pki.channel(running.addr(), USAF).await?);
    let revise = |i: usize| {
        let mut c = reporter.clone();
        async move {
            let availability_report = Some(fixtures::availability_report(USAF, i));
            let request_id = format!("metrics-after-{size}-{i}");
            c.submit_availability_report(pb::SubmitAvailabilityReportRequest {
                availability_report,
                request_id,
                ..Default::default()
            })
            .await?;
            Ok(())
        }
    };
    let l = measure::repeat_after(reps, revise, || {
        let mut c = signals.clone();
        async move { c.get_availability_metrics(pb::GetAvailabilityMetricsRequest::default()).await }
    })
    .await?;
    let name = "GetAvailabilityMetrics after a new report";
    latency_figures(figures, "3 queries", name, size, &l, &nothing, floor_name);
    let l = measure::repeat(reps, || {
        let mut c = signals.clone();
        async move {
            c.get_workload_balance(pb::GetWorkloadBalanceRequest {
                department: pb::MilitaryDepartment::AirForce as i32,
                fiscal_year: 2027,
                include_proposed: false,
                warning_percent: None,
                ..Default::default()
            })
            .await
        }
    })
    .await?;
    latency_figures(figures, "3 queries", "GetWorkloadBalance", size, &l, &nothing, floor_name);
    let l = measure::repeat(reps, || {
        let mut c = signals.clone();
        async move { c.get_order_counts(pb::GetOrderCountsRequest {}).await }
    })
    .await?;
    latency_figures(figures, "3 queries", "GetOrderCounts", size, &l, &nothing, floor_name);

    // 3c. Every page of the web console, over HTTPS as the coordinating
    // office, against the console's static stylesheet in the same rounds.
    eprintln!("step {size}: console");
    let first = pb::exchange_client::ExchangeClient::new(channel.clone())
        .list_repair_orders(pb::ListRepairOrdersRequest { page_size: 1, ..Default::default() })
        .await?
        .into_inner();
    let order_id = first.repair_orders.first().map(|o| o.name.trim_start_matches("repairOrders/").to_owned());
    let pages = console::pages(&order_id.unwrap_or_default());
    let (asset, timed) = console::measure(channel.clone(), &pages, args.console_reps).await?;
    for ((name, path), l) in pages.iter().zip(&timed) {
        for (q, label) in [(0.5, "p50"), (0.99, "p99")] {
            figures.push(
                Figure::new("3 console", format!("{name} {label}"), size, l.quantile_ms(q), "ms")
                    .against("GET of the static stylesheet, same rounds", asset.quantile_ms(q))
                    .note(format!("GET {path}, {} rounds; goal p99 < 50 ms", l.samples.len())),
            );
        }
    }

    // 3b. A record the caller may not see answers as one that does not exist,
    // in time too: MHI asks for a USAF order (hidden) and for no order (missing).
    let mut usaf = pb::exchange_client::ExchangeClient::new(pki.channel(running.addr(), USAF).await?);
    let hidden = usaf
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(fixtures::repair_order(USAF, 0)),
            ..Default::default()
        })
        .await?
        .into_inner()
        .name;
    let exchange = pb::exchange_client::ExchangeClient::new(pki.channel(running.addr(), MHI).await?);
    let not_found = |name: String| {
        let mut c = exchange.clone();
        async move {
            match c.get_repair_order(pb::GetRepairOrderRequest { name }).await {
                Err(s) if s.code() == tonic::Code::NotFound => Ok(()),
                Err(s) => Err(s),
                Ok(_) => Err(tonic::Status::internal("a hidden order was served")),
            }
        }
    };
    let mut missing_l = None;
    let mut hidden_l = None;
    // Interleaved rounds, so that drift on a shared machine hits both alike.
    for _ in 0..5 {
        let m = measure::repeat(reps * 4, || not_found("repairOrders/US-USAF-OOALC.no-such-order".into())).await?;
        let h = measure::repeat(reps * 4, || not_found(hidden.clone())).await?;
        missing_l = Some(match missing_l.take() {
            Some(a) => measure::Latencies::merged(a, m),
            None => m,
        });
        hidden_l = Some(match hidden_l.take() {
            Some(a) => measure::Latencies::merged(a, h),
            None => h,
        });
    }
    if let (Some(h), Some(m)) = (hidden_l, missing_l) {
        latency_figures(figures, "3 queries", "GetRepairOrder hidden NOT_FOUND", size, &h, &m, "missing NOT_FOUND");
    }

    // 4b. Propose through the API over the stored open orders.
    if size <= args.propose_max_orders {
        // Orders no longer open: cancelled by their originator, through the API.
        if let Some(open) = args.open_orders.filter(|open| *open < order_names.len()) {
            eprintln!("step {size}: cancel {} orders", order_names.len() - open);
            let channels = client_channels(pki, running.addr(), USAF, args.clients).await?;
            let cancelled = measure::cancel_orders(channels, order_names[open..].to_vec()).await?;
            let note = with_failures(
                format!("{} clients; {} orders left open of {}", args.clients, open, order_names.len()),
                &cancelled,
            );
            figures.push(
                Figure::new("4 allocation", "CancelRepairOrder throughput (setup)", size, cancelled.rate(), "calls/s")
                    .note(note),
            );
        }
        drop(order_names);
        if args.propose_offers > args.offers {
            let more = ingest_requests(args.propose_offers - args.offers, "ipf-", |i| {
                Record::CapacityOffer(fixtures::capacity_offer(MHI, args.offers + i))
            });
            let streamed = ingest::stream(pki.channel(running.addr(), MHI).await?, more).await?;
            if streamed.refused > 0 {
                eprintln!("offers: {} refused, first: {:?}", streamed.refused, streamed.first_refusal);
            }
        }
        eprintln!("step {size}: propose");
        // The Air Force's organic depot work outside the exchange, as a
        // coordinating office records it: twice what every stored order
        // would cost, so the 50/50 rule leaves contract room and the plan
        // places orders (without it every contract placement is BLOCKED_BY_5050).
        let mut signals_writer = pb::signals_client::SignalsClient::new(channel.clone());
        let organic_cents = i64::try_from(size).unwrap_or(i64::MAX / 2).saturating_mul(2 * 18_000_000);
        for fiscal_year in [2027, 2028, 2029] {
            signals_writer
                .set_depot_baseline(pb::SetDepotBaselineRequest {
                    baseline: Some(pb::DepotBaseline {
                        department: pb::MilitaryDepartment::AirForce as i32,
                        fiscal_year,
                        work: Some(pb::WorkSplit {
                            organic_cents,
                            contract_cents: 0,
                            organic_hours: size as f64 * 480.0,
                            contract_hours: 0.0,
                        }),
                        ..Default::default()
                    }),
                    request_id: format!("bench-baseline-{size}-{fiscal_year}"),
                })
                .await?;
        }
        let allocation =
            pb::allocation_client::AllocationClient::new(channel.clone()).max_decoding_message_size(256 << 20);
        let l = measure::repeat(reps.clamp(1, 5), || {
            let mut c = allocation.clone();
            async move { c.propose(pb::ProposeAllocationRequest { as_of: "2026-12-01".into() }).await }
        })
        .await?;
        if let Ok(plan) = allocation.clone().propose(pb::ProposeAllocationRequest { as_of: "2026-12-01".into() }).await
        {
            let plan = plan.into_inner();
            // Why orders were left unplaced, most frequent first, with the blocking rules.
            let mut reasons: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
            for u in &plan.unplaced {
                let key = if u.blocked_by.is_empty() {
                    u.reason.clone()
                } else {
                    format!("{} [{}]", u.reason, u.blocked_by.join(","))
                };
                *reasons.entry(key).or_default() += 1;
            }
            let mut reasons: Vec<(String, usize)> = reasons.into_iter().collect();
            reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
            let why: Vec<String> = reasons.iter().take(3).map(|(r, n)| format!("{n} {r}")).collect();
            figures.push(
                Figure::new("4 allocation", "Propose (API) p50", size, l.quantile_ms(0.5) / 1e3, "s")
                    .against("DESIGN target, not a same-run baseline", 10.0)
                    .note(format!(
                        "{} calls, min {} max {} s; {} open orders x {} offers; {} placed, {} unplaced{}",
                        l.samples.len(),
                        fmt(l.quantile_ms(0.0) / 1e3),
                        fmt(l.quantile_ms(1.0) / 1e3),
                        plan.open_orders,
                        plan.offers,
                        plan.assignments.len(),
                        plan.unplaced.len(),
                        if why.is_empty() { String::new() } else { format!(" ({})", why.join("; ")) }
                    )),
            );
        }
    }

    // 4c. Bulk export: every stored order streamed through ExportRepairOrders
    // against paging the same orders through ListRepairOrders (1,000 a page),
    // three runs each, interleaved; the coordinator's resident memory sampled
    // throughout (when it has its own process).
    eprintln!("step {size}: export");
    let pid = running.pid().map(|p| p.to_string());
    let rss_before = pid.as_deref().and_then(|p| measure::memory_mib_of(p).1);
    let sampler = pid.as_deref().map(measure::RssSampler::start);
    let exchange = pb::exchange_client::ExchangeClient::new(channel.clone()).max_decoding_message_size(256 << 20);
    let export = pb::export_client::ExportClient::new(channel).max_decoding_message_size(256 << 20);
    let (mut exported, mut listed) = (Vec::new(), Vec::new());
    let mut rows = 0usize;
    for _ in 0..args.export_rounds.max(1) {
        let started = std::time::Instant::now();
        let mut stream =
            export.clone().export_repair_orders(pb::ListRepairOrdersRequest::default()).await?.into_inner();
        rows = 0;
        while stream.message().await?.is_some() {
            rows += 1;
        }
        exported.push(started.elapsed().as_secs_f64());
        let started = std::time::Instant::now();
        let mut token = String::new();
        loop {
            let req = pb::ListRepairOrdersRequest { page_size: 1000, page_token: token, ..Default::default() };
            let page = exchange.clone().list_repair_orders(req).await?.into_inner();
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        listed.push(started.elapsed().as_secs_f64());
    }
    let rss_during = match sampler {
        Some(s) => s.stop().await,
        None => None,
    };
    exported.sort_by(f64::total_cmp);
    listed.sort_by(f64::total_cmp);
    let (export_median, list_median) = (exported[exported.len() / 2], listed[listed.len() / 2]);
    figures.push(
        Figure::new(
            "3 queries",
            format!("ExportRepairOrders, every order (median of {})", exported.len()),
            size,
            export_median,
            "s",
        )
        .against("ListRepairOrders paged 1,000, same rounds (median)", list_median)
        .note(format!(
            "{rows} rows; export min {} max {} s, {} rows/s; goal < 30 s at 1,000,000",
            fmt(exported[0]),
            fmt(exported[exported.len() - 1]),
            fmt(rows as f64 / export_median.max(1e-9))
        )),
    );
    if let (Some(before), Some(during)) = (rss_before, rss_during) {
        figures.push(
            Figure::new("3 queries", "coordinator RSS peak during export (VmRSS)", size, during, "MiB")
                .against("its RSS just before", before)
                .note(format!("sampled every 20 ms over 3 exports and 3 paged lists of {rows} orders")),
        );
    }

    // 5. Peak resident memory during this step: of the coordinator's own
    // process when it has one (it started with this step), and of the bench's
    // (the coordinator too when it runs inside, and the clients and the
    // ceiling's SQLite). Read before the bulk files, which store the step's
    // orders twice more.
    if let Some(pid) = running.pid() {
        let (hwm, rss) = measure::memory_mib_of(&pid.to_string());
        if let Some(hwm) = hwm {
            figures.push(
                Figure::new("5 growth", COORDINATOR_PEAK, size, hwm, "MiB")
                    .note(format!("cosx-server pid {pid}; RSS at end of step {}", rss.map(fmt).unwrap_or_default())),
            );
        }
    }
    let (hwm, rss) = measure::memory_mib();
    if let Some(hwm) = hwm {
        let whose = if running.pid().is_some() { "bench process alone" } else { "process" };
        figures.push(
            Figure::new("5 growth", format!("peak RSS of the {whose} (VmHWM)"), size, hwm, "MiB")
                .note(format!("RSS at end of step {}", rss.map(fmt).unwrap_or_default())),
        );
    }

    // 4d. Bulk files through the `cosx` binary.
    if size <= args.files_max_orders {
        let bin = match &args.cli_bin {
            Some(bin) => Some(bin.clone()),
            None => Some(files::cli_beside_bench()?),
        }
        .filter(|bin| bin.exists() || !args.smoke);
        match bin {
            Some(bin) => bulk_files(args, pki, &running, db, figures, size, &bin, export_median).await?,
            None => eprintln!("step {size}: no cosx binary beside the bench: bulk files skipped (smoke)"),
        }
    }
    running.stop().await?;
    Ok(())
}

/// Step 4d: `cosx export orders` to Parquet and CSV (as the coordinating
/// office, every stored order) against the step's `ExportRepairOrders`
/// stream; then `size` orders written in two halves, each as a CSV file and
/// as JSON lines: the JSON lines streamed through `Ingest` by the bench's
/// own client (the baseline: what the exchange takes from a client that
/// adds nothing) and `cosx import orders FILE.csv` as a child process, in
/// the order baseline, CSV, CSV, baseline; then, up to
/// `--import-jsonl-max-orders`, `cosx import orders FILE.jsonl` of both
/// halves. Each CLI run is timed from spawn to exit with its peak memory.
/// Between runs the coordinator's WAL is checkpointed and its views caught
/// up, untimed.
#[allow(clippy::too_many_arguments)]
async fn bulk_files(
    args: &Args,
    pki: &Pki,
    running: &Coordinator,
    db: &ingest::Db,
    figures: &mut Vec<Figure>,
    size: usize,
    bin: &std::path::Path,
    export_stream_s: f64,
) -> anyhow::Result<()> {
    use std::ffi::OsString;
    let dir = pki.dir.path().join(format!("files-{size}"));
    std::fs::create_dir_all(&dir)?;
    let pid = running.pid().map(|p| p.to_string());
    let coordinator_rss =
        |peak: Option<f64>| peak.map(|p| format!("; coordinator RSS peak {} MiB", fmt(p))).unwrap_or_default();

    eprintln!("step {size}: cosx export");
    let (cert, key) = pki.write_party(COORDINATOR)?;
    let as_coordinator = files::connection_args(running.addr(), &pki.ca_path(), &cert, &key);
    for format in ["parquet", "csv"] {
        let out = dir.join(format!("orders.{format}"));
        let mut argv = as_coordinator.clone();
        argv.extend(["export", "orders", "--format", format, "--out"].map(OsString::from));
        argv.push(out.clone().into());
        let sampler = pid.as_deref().map(measure::RssSampler::start);
        let run = files::run_cli(bin, &argv).await?;
        let peak = match sampler {
            Some(s) => s.stop().await,
            None => None,
        };
        let bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        let _ = std::fs::remove_file(&out);
        if run.code != Some(0) {
            anyhow::bail!("cosx export orders --format {format} exited {:?}: {}", run.code, run.summary);
        }
        figures.push(
            Figure::new(
                "4d files",
                format!("cosx export orders --format {format} (CLI)"),
                size,
                run.elapsed.as_secs_f64(),
                "s",
            )
            .against("ExportRepairOrders stream (median, same step)", export_stream_s)
            .note(format!(
                "{}; {:.1} MiB written; CLI peak RSS {} MiB{}",
                run.summary,
                bytes as f64 / (1024.0 * 1024.0),
                run.peak_mib.map(fmt).unwrap_or_default(),
                coordinator_rss(peak)
            )),
        );
    }

    // The two halves of the records, each written as CSV and as JSON lines.
    // The baseline and the CSV import take them ABBA (baseline a, CSV a,
    // CSV b, baseline b), so each runs once on the smaller store and once on
    // the larger: every import adds `size / 2` orders, and at 1M a store
    // that grows by a million orders between the two would bias the ratio.
    eprintln!("step {size}: write {size} orders as CSV and JSON lines, in two halves");
    let halves = [("a", 0..size / 2), ("b", size / 2..size)];
    let mut files = Vec::new();
    for (half, range) in halves {
        let (c, j) = (dir.join(format!("orders-{half}.csv")), dir.join(format!("orders-{half}.jsonl")));
        let (cw, jw, rows) = (c.clone(), j.clone(), range.len());
        tokio::task::spawn_blocking(move || files::write_orders(&cw, &jw, USAF, range)).await??;
        files.push((half, c, j, rows));
    }
    let settle = || async move {
        ingest::checkpoint(db).await?;
        settle_views(pki, running).await
    };
    settle().await?;

    let (cert, key) = pki.write_party(USAF)?;
    let as_usaf = files::connection_args(running.addr(), &pki.ca_path(), &cert, &key);
    let import = |format: &str, half: &str, path: &std::path::Path| {
        let mut argv = as_usaf.clone();
        argv.extend(["import", "orders"].map(OsString::from));
        argv.push(path.into());
        // A batch name per format: the two files of a half hold the same
        // records, whose content-derived request ids would otherwise be replays.
        argv.extend(["--progress", "never", "--batch"].map(OsString::from));
        argv.push(format!("bench-{format}").into());
        argv.push("--rejects".into());
        argv.push(dir.join(format!("rejects-{format}-{half}")).into());
        argv
    };
    /// What one format's runs added up to.
    #[derive(Default)]
    struct Runs {
        elapsed: f64,
        rows: usize,
        refused: usize,
        first_refusal: Option<String>,
        cli_peak: Option<f64>,
        coordinator_peak: Option<f64>,
        summaries: Vec<String>,
    }
    let max = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let (mut base, mut csv) = (Runs::default(), Runs::default());
    for (which, i) in [("baseline", 0), ("csv", 0), ("csv", 1), ("baseline", 1)] {
        let (half, csv_path, jsonl_path, rows) = &files[i];
        let sampler = pid.as_deref().map(measure::RssSampler::start);
        if which == "baseline" {
            eprintln!("step {size}: Ingest from JSON lines, half {half}");
            let run = files::ingest_jsonl(
                pki.channel(running.addr(), USAF).await?,
                jsonl_path,
                &format!("bench-baseline-{size}"),
            )
            .await?;
            base.elapsed += run.elapsed.as_secs_f64();
            base.rows += run.accepted;
            base.refused += run.refused;
            base.first_refusal = base.first_refusal.take().or(run.first_refusal);
            base.coordinator_peak = max(base.coordinator_peak, sampler_peak(sampler).await);
        } else {
            eprintln!("step {size}: cosx import orders csv, half {half}");
            let run = files::run_cli(bin, &import("csv", half, csv_path)).await?;
            if !matches!(run.code, Some(0 | 3)) {
                anyhow::bail!("cosx import orders {} exited {:?}: {}", csv_path.display(), run.code, run.summary);
            }
            csv.elapsed += run.elapsed.as_secs_f64();
            csv.rows += rows;
            csv.refused += usize::from(run.code == Some(3));
            csv.cli_peak = max(csv.cli_peak, run.peak_mib);
            csv.coordinator_peak = max(csv.coordinator_peak, sampler_peak(sampler).await);
            csv.summaries.push(run.summary);
        }
        settle().await?;
    }
    let base_rate = base.rows as f64 / base.elapsed.max(1e-9);
    let mut base_note = format!(
        "{} stored in {:.2} s (two halves, ABBA with the CSV import){}",
        base.rows,
        base.elapsed,
        coordinator_rss(base.coordinator_peak)
    );
    if base.refused > 0 {
        base_note.push_str(&format!("; {} refused, first: {:?}", base.refused, base.first_refusal));
    }
    figures.push(
        Figure::new("4d files", "Ingest from JSON lines (bench client, baseline)", size, base_rate, "rec/s")
            .note(base_note),
    );
    let refused = if csv.refused > 0 { " (SOME ROWS REFUSED)" } else { "" };
    figures.push(
        Figure::new("4d files", "cosx import orders csv (CLI)", size, csv.rows as f64 / csv.elapsed.max(1e-9), "rec/s")
            .against("Ingest from JSON lines (bench client)", base_rate)
            .note(format!(
                "{} rows in {:.2} s spawn to exit, two halves ABBA with the baseline{refused}; CLI: {}; goal >= 0.8{}",
                csv.rows,
                csv.elapsed,
                csv.summaries.join(" / "),
                coordinator_rss(csv.coordinator_peak)
            )),
    );
    if let Some(mib) = csv.cli_peak {
        figures.push(
            Figure::new("4d files", "cosx import orders csv: CLI peak RSS (VmHWM)", size, mib, "MiB")
                .against("goal (issue 22), not a same-run baseline", 100.0)
                .note("the higher of its two runs, polled every 5 ms from /proc/<pid>/status"),
        );
    }

    // The CLI's own JSON-lines path, beside its CSV path, on both halves.
    if size <= args.import_jsonl_max_orders {
        let mut jsonl = Runs::default();
        for (half, _, jsonl_path, _) in &files {
            eprintln!("step {size}: cosx import orders jsonl, half {half}");
            let run = files::run_cli(bin, &import("jsonl", half, jsonl_path)).await?;
            if !matches!(run.code, Some(0 | 3)) {
                anyhow::bail!("cosx import orders {} exited {:?}: {}", jsonl_path.display(), run.code, run.summary);
            }
            jsonl.elapsed += run.elapsed.as_secs_f64();
            jsonl.refused += usize::from(run.code == Some(3));
            jsonl.cli_peak = max(jsonl.cli_peak, run.peak_mib);
            jsonl.summaries.push(run.summary);
            settle().await?;
        }
        let refused = if jsonl.refused > 0 { " (SOME ROWS REFUSED)" } else { "" };
        figures.push(
            Figure::new(
                "4d files",
                "cosx import orders jsonl (CLI)",
                size,
                size as f64 / jsonl.elapsed.max(1e-9),
                "rec/s",
            )
            .against("Ingest from JSON lines (bench client)", base_rate)
            .note(format!(
                "{size} rows in {:.2} s spawn to exit, two halves, after the baseline and CSV{refused}; CLI: {}",
                jsonl.elapsed,
                jsonl.summaries.join(" / ")
            )),
        );
        if let Some(mib) = jsonl.cli_peak {
            figures.push(
                Figure::new("4d files", "cosx import orders jsonl: CLI peak RSS (VmHWM)", size, mib, "MiB")
                    .against("goal (issue 22), not a same-run baseline", 100.0)
                    .note("the higher of its two runs, polled every 5 ms from /proc/<pid>/status"),
            );
        }
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// The peak a sampler saw, once stopped.
async fn sampler_peak(sampler: Option<measure::RssSampler>) -> Option<f64> {
    match sampler {
        Some(s) => s.stop().await,
        None => None,
    }
}

/// The figure name of the coordinator process's peak memory.
const COORDINATOR_PEAK: &str = "peak RSS of the coordinator process (VmHWM)";

/// How the coordinator's peak memory grew from each step to the next.
fn growth(figures: &[Figure]) -> Vec<Figure> {
    let peaks: Vec<&Figure> = figures.iter().filter(|f| f.name == COORDINATOR_PEAK).collect();
    peaks
        .windows(2)
        .map(|w| {
            let orders = |f: &Figure| f.size.parse::<f64>().unwrap_or(f64::NAN);
            Figure::new(
                "5 growth",
                "coordinator peak RSS growth",
                format!("{}->{}", w[0].size, w[1].size),
                w[1].value / w[0].value,
                "x",
            )
            .note(format!(
                "{} -> {} MiB while stored orders grew {}x",
                fmt(w[0].value),
                fmt(w[1].value),
                fmt(orders(w[1]) / orders(w[0]))
            ))
        })
        .collect()
}

/// Feed fan-out (goal 7): the p99 delivery latency to
/// `--fanout-subscribers` live subscribers at `--fanout-rate` commits per
/// second, against one subscriber at the same rate in the same run, and the
/// coordinator's CPU while it serves them. Each run on a fresh coordinator.
async fn fanout_figures(args: &Args, pki: &Pki, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let mut runs = Vec::new();
    for (subscribers, label) in [(1, "one"), (args.fanout_subscribers, "many")] {
        eprintln!("fan-out: {subscribers} subscriber(s) at {} events/s", args.fanout_rate);
        let db = ingest::Db::create(args.database_url.as_deref(), pki.dir.path(), &format!("fanout-{label}")).await?;
        let coordinator = if args.coordinator_process {
            let bin = match &args.server_bin {
                Some(bin) => bin.clone(),
                None => exchange::server_beside_bench()?,
            };
            pki.start_process(&db, &bin, &format!("fanout-{label}")).await?
        } else {
            Coordinator::InProcess(pki.start_coordinator(&db).await?)
        };
        let run = fanout::run(pki, &coordinator, subscribers, args.fanout_rate, args.fanout_seconds, label).await;
        coordinator.stop().await?;
        db.remove().await?;
        runs.push(run?);
    }
    let (one, many) = (&runs[0], &runs[1]);
    let size = format!("{} subscribers", args.fanout_subscribers);
    let whose = if args.coordinator_process { "the coordinator's process" } else { "the whole bench process" };
    figures.push(
        Figure::new("7 feed", "Feed delivery latency p99", &size, many.quantile_ms(0.99), "ms")
            .against("one subscriber, same rate (p99)", one.quantile_ms(0.99))
            .note(format!(
                "{} events at {} /s; {} of {} deliveries; p50 {} ms, max {} ms; goal p99 < 100 ms",
                many.committed,
                fmt(many.commit_rate),
                many.delivered,
                many.expected,
                fmt(many.quantile_ms(0.5)),
                fmt(many.quantile_ms(1.0)),
            )),
    );
    if let (Some(cores), Some(alone)) = (many.cpu_cores, one.cpu_cores) {
        figures.push(
            Figure::new("7 feed", "CPU while fanning out", &size, cores, "cores")
                .against("one subscriber, same rate", alone)
                .note(format!("CPU seconds per second of {whose}")),
        );
    }
    Ok(())
}

fn parse_instance(s: &str) -> anyhow::Result<(usize, usize)> {
    let (o, f) = s.split_once('x').ok_or_else(|| anyhow::anyhow!("{s:?}: expected ORDERSxOFFERS"))?;
    Ok((o.trim().parse()?, f.trim().parse()?))
}

fn machine() -> serde_json::Value {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().map(str::to_owned))
        .unwrap_or_default();
    json!({ "cpus": cpus, "meminfo": mem })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.smoke {
        args.sizes = vec![30, 60, 120];
        args.offers = 4;
        args.clients = 4;
        args.unary_calls = 40;
        args.query_reps = 3;
        args.alloc = vec!["300x30".to_owned(), "600x60".to_owned()];
        args.propose_offers = 8;
        args.open_orders = Some(40);
        args.fanout_subscribers = 20;
        args.fanout_rate = 50.0;
        args.fanout_seconds = 1.0;
        args.console_reps = 3;
    }
    if args.fanout_only {
        args.sizes.clear();
        args.alloc.clear();
    }
    args.sizes.sort_unstable();
    let pki = Pki::create()?;
    let mut figures = Vec::new();
    if let Some(writes) = args.node_forwarding {
        let run = node::NodeRun { writes, clients: args.clients, retention: args.node_retention };
        node::forwarding(&pki, &run, &mut figures).await?;
        args.sizes.clear();
        args.alloc.clear();
    }
    for &size in &args.sizes {
        step(&args, &pki, size, &mut figures).await?;
    }
    let grown = growth(&figures);
    figures.extend(grown);
    if args.fanout_subscribers > 0 {
        fanout_figures(&args, &pki, &mut figures).await?;
    }
    for instance in &args.alloc {
        let (orders, offers) = parse_instance(instance)?;
        eprintln!("allocate {orders} x {offers}");
        let a = tokio::task::spawn_blocking(move || alloc::time_allocate(orders, offers)).await??;
        figures.push(
            Figure::new("4 allocation", "allocate (pure)", instance, a.elapsed.as_secs_f64(), "s")
                .against("DESIGN target, not a same-run baseline", 10.0)
                .note(format!("{} placed, {} unplaced", a.placed, a.unplaced)),
        );
    }
    let markdown = table(&figures);
    println!("{markdown}");
    println!(
        "ratio = cosx / baseline: for rates higher is better (target >= 0.5 for ingest and unary); \
         for latencies and times it is how many times the baseline it takes."
    );
    if let Some(path) = &args.json_out {
        let doc = json!({
            "machine": machine(),
            "args": format!("{args:?}"),
            "figures": figures.iter().map(Figure::json).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)?;
        eprintln!("wrote {}", path.display());
    }
    drop(pki);
    Ok(())
}
