//! `cosx-server demo`: a regional co-sustainment exchange in one command.
//!
//! It makes a development PKI, starts a coordinator and one party node per
//! depot or contractor (each its own SQLite database, real mutual TLS both
//! ways), and drives a seeded scenario over simulated months through the
//! real API: fleets report availability, failures raise repair orders,
//! providers offer capacity, the coordinating office allocates, providers
//! accept or decline through their nodes and carry the work to completion,
//! owners close it. One node is cut off from the coordinator for part of the
//! run, keeps taking its party's work, and catches up. The coordinating
//! office's view is printed as it goes; then everything keeps serving until
//! Ctrl-C (or stops with `--exit`).
//!
//! Simulated time lives in the data (report timeframes, required-by dates,
//! progress dates, the allocation's planning date); the server stamps real
//! times, so a month takes as long as its calls, not a month.
//!
//! It is a client of the exchange like any party: it starts the programs
//! (`cosx-coordinator`, `cosx-node`) and then speaks to them only through
//! `cosx-client` (and a node's own status page, as its party would). Must
//! never reach into the coordinator's core to read or change state: what
//! it shows, a party with the same certificate could see.

mod conversation;
pub mod dashboard;
pub mod link;
pub mod scenario;
mod setup;
pub mod world;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use cosx_client::Client;
use cosx_proto::v1 as pb;

use self::dashboard::OrderIndex;
use self::link::LinkRelay;
use self::scenario::{COORDINATOR, CUT_OFF, FLEETS, Month, OFFERS, PARTIES, Rng};
use cosx_coordinator::server;
use cosx_node as node;

/// Options of `cosx-server demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Working directory for the PKI, configuration and databases.
    #[arg(long, default_value = "cosx-demo")]
    pub dir: PathBuf,
    /// Address for the coordinator (port 0 picks a free one); nodes take
    /// the ports after it (or free ones).
    #[arg(long, default_value = "127.0.0.1:7443")]
    pub listen: SocketAddr,
    /// Stop after the scenario instead of serving until Ctrl-C.
    #[arg(long)]
    pub exit: bool,
    /// Simulated months, from the first October after today (a new US fiscal year).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=24))]
    pub months: u32,
    /// Seed of the scenario: the same seed plays the same exchange.
    #[arg(long, default_value_t = 2027)]
    pub seed: u64,
}

/// A party's node and a client of it holding the party's certificate.
struct PartyNode {
    party: &'static str,
    running: node::Running,
    client: Client,
    endpoint: String,
}

/// The running exchange.
struct Demo {
    coordinator: server::Running,
    endpoint: String,
    nodes: Vec<PartyNode>,
    relay: LinkRelay,
    j4: Client,
    dir: PathBuf,
}

/// Which months the cut-off node spends cut off: the second and third (or
/// as many of them as the run has).
fn cut_months(months: u32) -> Option<(u32, u32)> {
    (months >= 2).then(|| (2, 3.min(months)))
}

impl Demo {
    fn node(&self, party: &str) -> anyhow::Result<&PartyNode> {
        self.nodes.iter().find(|n| n.party == party).with_context(|| format!("no node for {party}"))
    }

    fn exchange(&self, party: &str) -> anyhow::Result<pb::exchange_client::ExchangeClient<tonic::transport::Channel>> {
        Ok(self.node(party)?.client.exchange())
    }

    fn head(&self) -> i64 {
        *self.coordinator.core.watch_head().borrow()
    }

    /// Waits until every node that can reach the coordinator has delivered
    /// its writes and its replica holds everything up to the coordinator's
    /// head: what a party reads next includes what the others just did.
    async fn settle(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        // When every reachable node's queue was last seen empty: all their
        // writes were committed before then, so a checkpoint as of then or
        // later means a replica holds everything it may see of them.
        let mut empty_since = None;
        loop {
            let now = chrono::Utc::now();
            let mut queued = None;
            let mut behind = None;
            for n in &self.nodes {
                if n.party == CUT_OFF && !self.relay.is_up() {
                    continue;
                }
                let s = node::api::status(&n.running.node).await?;
                if s.queued_writes > 0 {
                    queued = Some(s);
                    break;
                }
                let synced = s
                    .last_sync_time
                    .as_ref()
                    .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)));
                if empty_since.is_none_or(|since| synced.is_none_or(|t| t < since)) {
                    behind = Some(s);
                }
            }
            match (queued, behind) {
                (Some(status), _) => {
                    empty_since = None;
                    anyhow::ensure!(Instant::now() < deadline, "a node did not deliver its writes: {status:?}");
                }
                (None, Some(status)) => {
                    empty_since.get_or_insert(now);
                    anyhow::ensure!(Instant::now() < deadline, "a node did not catch up: {status:?}");
                }
                (None, None) => return Ok(()),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The cut-off node's status through its own `Node.GetStatus`.
    async fn cut_off_status(&self) -> anyhow::Result<pb::NodeStatus> {
        let n = self.node(CUT_OFF)?;
        Ok(pb::node_client::NodeClient::new(n.client.channel())
            .get_status(pb::GetNodeStatusRequest {})
            .await?
            .into_inner())
    }

    /// The orders `party`'s node shows with it as provider (or else as
    /// originator), in name order.
    async fn orders_at(&self, party: &str, provider: bool) -> anyhow::Result<Vec<pb::RepairOrder>> {
        let mut exchange = self.exchange(party)?;
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = exchange
                .list_repair_orders(pb::ListRepairOrdersRequest {
                    page_size: 1000,
                    page_token: token,
                    provider: if provider { party.into() } else { String::new() },
                    originator: if provider { String::new() } else { party.into() },
                    ..Default::default()
                })
                .await?
                .into_inner();
            out.extend(page.repair_orders);
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// One lifecycle step through `party`'s node.
    async fn step(
        &self,
        party: &str,
        order: &pb::RepairOrder,
        action: pb::RepairOrderAction,
        reason: &str,
        progress: Option<pb::WorkProgress>,
    ) -> anyhow::Result<pb::RepairOrder> {
        let request_id =
            format!("{}-{}-v{}", scenario_id(&order.name), action.as_str_name().to_lowercase(), order.version);
        Ok(self
            .exchange(party)?
            .transition_repair_order(pb::TransitionRepairOrderRequest {
                name: order.name.clone(),
                version: order.version,
                action: action as i32,
                reason: reason.into(),
                progress,
                request_id,
                ..Default::default()
            })
            .await
            .with_context(|| format!("{party}: {} {}", action.as_str_name(), order.name))?
            .into_inner())
    }
}

fn scenario_id(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

fn date(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// What happened in a month, counted.
#[derive(Default)]
struct Tally {
    reports: usize,
    orders: usize,
    accepted: usize,
    declined: usize,
    inducted: usize,
    awaiting_parts: usize,
    completed: usize,
    shipped: usize,
    closed: usize,
    cancelled: usize,
    hours: f64,
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut rng = Rng::new(args.seed);
    let start = scenario::start_after(chrono::Utc::now().date_naive());
    let (config, mut demo) = setup::start(&args).await?;
    println!(
        "cosx demo: {} simulated months from {} (FY{}), seed {}; coordinator on {} (SQLite {})",
        args.months,
        Month::nth(start, 1).label(),
        Month::nth(start, 1).fiscal_year(),
        args.seed,
        demo.endpoint,
        config.database
    );
    println!("  PKI, configuration and databases in {}", args.dir.display());
    let rows: Vec<Vec<String>> = demo
        .nodes
        .iter()
        .map(|n| {
            let p = PARTIES.iter().find(|p| p.id == n.party);
            vec![
                n.party.to_owned(),
                p.map_or("", |p| p.kind).to_owned(),
                p.map_or("", |p| p.nation).to_owned(),
                n.endpoint.clone(),
                p.map_or("", |p| p.name).to_owned(),
            ]
        })
        .collect();
    println!("  {} party nodes, each with its own SQLite outbox and replica, mTLS both ways:", rows.len());
    print!("{}", dashboard::table(&["party", "kind", "nation", "node", "name"], &rows));
    println!("  {COORDINATOR} (coordinating office) talks to the coordinator directly.");
    print!("{}", console_help(&demo));

    // The coordinating office records depot work done outside the exchange,
    // so the 50/50 share starts where the departments' books stand.
    let first_fy = Month::nth(start, 1).fiscal_year();
    let last_fy = Month::nth(start, args.months).fiscal_year();
    // (department, organic, contract in cents, organic h, contract h) per FY.
    const MILLION: i64 = 100_000_000;
    let books = [
        (pb::MilitaryDepartment::AirForce, 1_180 * MILLION, 1_020 * MILLION, 8_100_000.0, 6_300_000.0),
        // The Navy starts near the limit: its contract ship work runs into it.
        (pb::MilitaryDepartment::Navy, 640 * MILLION, 622 * MILLION, 4_400_000.0, 4_050_000.0),
        (pb::MilitaryDepartment::Army, 520 * MILLION, 310 * MILLION, 3_900_000.0, 2_100_000.0),
    ];
    // Work counts in the fiscal year it is done; orders raised late in a
    // year fall due in the next.
    for fy in first_fy..=last_fy + 1 {
        for (dept, organic, contract, organic_h, contract_h) in books {
            demo.j4
                .signals()
                .set_depot_baseline(pb::SetDepotBaselineRequest {
                    baseline: Some(pb::DepotBaseline {
                        department: dept as i32,
                        fiscal_year: fy,
                        work: Some(pb::WorkSplit {
                            organic_cents: organic,
                            contract_cents: contract,
                            organic_hours: organic_h,
                            contract_hours: contract_h,
                        }),
                        ..Default::default()
                    }),
                    request_id: format!("baseline-{}-{fy}", dept.as_str_name().to_lowercase()),
                })
                .await?;
        }
    }
    let shares: Vec<String> = books
        .iter()
        .map(|(d, organic, contract, ..)| {
            format!(
                "{} {:.1} %",
                dashboard::department(*d as i32),
                *contract as f64 * 100.0 / (organic + contract) as f64
            )
        })
        .collect();
    println!(
        "  {COORDINATOR} recorded FY{first_fy}-FY{} depot work done outside the exchange (contract shares: {})",
        last_fy + 1,
        shares.join(", ")
    );

    // Providers offer capacity, owners set their availability targets.
    for (i, spec) in OFFERS.iter().enumerate() {
        let offer = scenario::capacity_offer(spec, start, args.months);
        let id = format!("co-{:02}-{}", i + 1, spec.provider.to_lowercase());
        demo.exchange(spec.provider)?
            .create_capacity_offer(pb::CreateCapacityOfferRequest {
                capacity_offer: Some(offer),
                request_id: format!("demo-{id}"),
                capacity_offer_id: id,
            })
            .await
            .with_context(|| format!("{}: offer", spec.provider))?;
    }
    let offered: f64 = OFFERS.iter().map(|o| o.hours_per_month).sum();
    let in_region = |r: pb::Region| {
        let hours: f64 = OFFERS.iter().filter(|o| o.site.region == r).map(|o| o.hours_per_month).sum();
        format!("{} {}", r.as_str_name().trim_start_matches("REGION_"), dashboard::thousands(hours))
    };
    println!(
        "  {} capacity offers from {} providers: {} depot labor hours a month (in theater: {}, {}, {})",
        OFFERS.len(),
        OFFERS.iter().map(|o| o.provider).collect::<std::collections::BTreeSet<_>>().len(),
        dashboard::thousands(offered),
        in_region(pb::Region::Indopacom),
        in_region(pb::Region::Eucom),
        in_region(pb::Region::Southcom),
    );
    for (i, fleet) in FLEETS.iter().enumerate() {
        demo.exchange(fleet.owner)?
            .set_availability_target(pb::SetAvailabilityTargetRequest {
                target: Some(scenario::target(fleet)),
                request_id: format!("demo-target-{i}"),
                availability_target_id: format!("target-{:02}", i + 1),
            })
            .await?;
    }
    println!("  fleet owners set A_M / A_O targets for {} fleets", FLEETS.len());
    for (owner, tms, growth) in scenario::CDA_HISTORY {
        let Some(fleet) = FLEETS.iter().find(|f| f.owner == *owner && f.tms == *tms) else { continue };
        let reports = scenario::history_reports(&mut rng, fleet, start, *growth);
        let years = reports.len();
        for (i, report) in reports.into_iter().enumerate() {
            let id = format!("ar-history-{}-{}", tms.to_lowercase().replace('/', ""), i + 1);
            demo.exchange(owner)?
                .submit_availability_report(pb::SubmitAvailabilityReportRequest {
                    availability_report: Some(report),
                    request_id: format!("demo-{id}"),
                    availability_report_id: id,
                })
                .await?;
        }
        println!(
            "  {owner} backfilled {years} fiscal years of {tms} availability and cost (FY{}-FY{})",
            Month::nth(start, 1).fiscal_year() - years as i32,
            Month::nth(start, 1).fiscal_year() - 1
        );
    }
    demo.settle().await?;

    let cut = cut_months(args.months);
    let mut index = OrderIndex::new();
    let mut last_step: BTreeMap<String, u32> = BTreeMap::new();
    let mut serial = 0u32;
    let mut total = Tally::default();
    let mut typhoon = None;
    for m in 1..=args.months {
        let month = Month::nth(start, m);
        println!("\n== Month {m}: {} (FY{} Q{}) ==", month.label(), month.fiscal_year(), month.fiscal_quarter());
        if cut.is_some_and(|(from, _)| from == m) {
            demo.relay.down();
            println!("  !! {CUT_OFF} node cut off from the coordinator (link down); it keeps serving its depot");
        }
        let mut tally = Tally::default();

        // Fleets report last month's availability and raise repairs.
        for (f, fleet) in FLEETS.iter().enumerate() {
            let report = scenario::availability_report(&mut rng, fleet, &month);
            let id = format!("ar-{}-{:02}", month.code(), f + 1);
            demo.exchange(fleet.owner)?
                .submit_availability_report(pb::SubmitAvailabilityReportRequest {
                    availability_report: Some(report),
                    request_id: format!("demo-{id}"),
                    availability_report_id: id,
                })
                .await
                .with_context(|| format!("{}: report {}", fleet.owner, fleet.tms))?;
            tally.reports += 1;
            for _ in 0..rng.poisson(fleet.failures) {
                serial += 1;
                let order = scenario::repair_order(&mut rng, fleet, &month, serial);
                let id = format!("ro-{}-{:04}", month.code(), serial);
                let what = order.item.as_ref().map(|i| i.nomenclature.clone()).unwrap_or_default();
                let created = demo
                    .exchange(fleet.owner)?
                    .create_repair_order(pb::CreateRepairOrderRequest {
                        repair_order: Some(order),
                        request_id: format!("demo-{id}"),
                        repair_order_id: id,
                    })
                    .await
                    .with_context(|| format!("{}: order {}", fleet.owner, fleet.tms))?
                    .into_inner();
                index.insert(created.name.clone(), (fleet.tms.to_owned(), what));
                tally.orders += 1;
            }
        }
        demo.settle().await?;
        if m == 1 {
            // Quotes before an order: the owner picks the provider on price.
            conversation::quotes_before_an_order(&demo, "US-PACAF-A4", "C-130J", &month).await?;
            demo.settle().await?;
        }
        if m == 3
            && let Some(t) = typhoon.take()
        {
            conversation::the_typhoon_passes(&demo, &t).await?;
            demo.settle().await?;
        }

        // The coordinating office allocates the open orders and commits the plan.
        let mut allocation = pb::allocation_client::AllocationClient::new(demo.j4.channel());
        let plan = allocation.propose(pb::ProposeAllocationRequest { as_of: date(month.first) }).await?.into_inner();
        let committed =
            match allocation.commit(pb::CommitAllocationRequest { assignments: plan.assignments.clone() }).await {
                Ok(done) => done.into_inner().results,
                // The statute is a hard limit: the whole commit is refused.
                Err(status) if status.code() == tonic::Code::FailedPrecondition => {
                    println!("  !! commit refused whole: {}", status.message());
                    Vec::new()
                }
                Err(status) => return Err(status.into()),
            };
        print!("{}", dashboard::allocation(&plan, &committed, &index));
        demo.settle().await?;
        if m == 2 {
            // A typhoon hits a depot for the month: the office re-plans what it strands.
            typhoon = Some(conversation::a_typhoon_strands_work(&demo, &month).await?);
            demo.settle().await?;
        }

        // Providers answer proposals and move their work on, through their nodes.
        work_month(&demo, &mut rng, &month, &mut last_step, &mut tally).await?;
        demo.settle().await?;
        if m == 2 {
            // Work turns out dearer than estimated: a repair exception, answered by the owner.
            conversation::an_exception_on_work_in_progress(&demo).await?;
            demo.settle().await?;
        }
        close_shipped(&demo, &month, &mut tally).await?;
        demo.settle().await?;
        println!(
            "  month {m}: {} availability reports, {} repair orders raised; providers accepted {}, declined {}; \
             inducted {}, awaiting parts {}, completed {} ({} actual labor h), shipped {}; owners closed {}{}",
            tally.reports,
            tally.orders,
            tally.accepted,
            tally.declined,
            tally.inducted,
            tally.awaiting_parts,
            tally.completed,
            dashboard::thousands(tally.hours),
            tally.shipped,
            tally.closed,
            if tally.cancelled > 0 { format!(", cancelled {} overdue", tally.cancelled) } else { String::new() }
        );
        total.add(&tally);

        if let Some((from, to)) = cut
            && (from..=to).contains(&m)
        {
            let s = demo.cut_off_status().await?;
            println!("  {CUT_OFF} node while cut off: {}", dashboard::node_status(&s));
            println!(
                "    (the coordinator is at #{}: the node cannot know it; {} writes wait in its outbox)",
                demo.head(),
                s.queued_writes
            );
            if m == to {
                demo.relay.up();
                println!("  !! {CUT_OFF} link restored; its node forwards its outbox and follows the feed again");
                let begun = Instant::now();
                demo.settle().await?;
                let s = demo.cut_off_status().await?;
                println!(
                    "  {CUT_OFF} node caught up in {:.1}s: {}",
                    begun.elapsed().as_secs_f64(),
                    dashboard::node_status(&s)
                );
                println!(
                    "  {CUT_OFF} node caught up: queued writes {}, feed lag {} events, rejected {}",
                    s.queued_writes, s.feed_lag_events, s.rejected_writes
                );
                // What it shipped while cut off can be closed now.
                let mut late = Tally::default();
                close_shipped(&demo, &month, &mut late).await?;
                demo.settle().await?;
                if late.closed > 0 {
                    println!("  owners closed {} order(s) the cut-off node had shipped", late.closed);
                }
                total.add(&late);
            }
        }

        if m % 3 == 0 || m == args.months {
            dashboard_now(&demo, &month).await?;
        }
    }

    println!(
        "\nscenario done in {:.1}s: {} repair orders, {} reports; accepted {}, declined {}, completed {}, closed {}, cancelled {}",
        started.elapsed().as_secs_f64(),
        total.orders,
        total.reports,
        total.accepted,
        total.declined,
        total.completed,
        total.closed,
        total.cancelled
    );
    let mut rejected = 0;
    for n in &demo.nodes {
        rejected += node::api::status(&n.running.node).await?.rejected_writes;
    }
    println!("  writes the coordinator refused from any node: {rejected}; audit log head #{}", demo.head());

    let dir = demo.dir.display().to_string();
    let usaf = demo.node("US-PACAF-A4")?.endpoint.clone();
    let phl = demo.node(CUT_OFF)?.endpoint.clone();
    println!(
        "\nQuery it with the CLI (cargo run -q -p cosx-client --bin cosx -- ...).\n\
         As the coordinating office, at the coordinator:\n\
         \x20 export COSX_ENDPOINT={ep} COSX_CA={dir}/pki/ca.pem COSX_CERT={dir}/pki/{COORDINATOR}.pem COSX_KEY={dir}/pki/{COORDINATOR}.key\n\
         \x20 cosx demand --forecast 3; cosx capacity-gap; cosx balance; cosx metrics availability\n\
         \x20 cosx allocate propose --as-of {asof}; cosx feed --after 0\n\
         As Pacific Air Forces (a fleet owner), through its own node:\n\
         \x20 export COSX_ENDPOINT={usaf} COSX_CA={dir}/pki/ca.pem COSX_CERT={dir}/pki/US-PACAF-A4.pem COSX_KEY={dir}/pki/US-PACAF-A4.key\n\
         \x20 cosx list orders; cosx order history repairOrders/US-PACAF-A4.ro-{code}-0001\n\
         As the Philippine Air Force depot, through its node{cut_note}:\n\
         \x20 cosx --endpoint {phl} --ca {dir}/pki/ca.pem --cert {dir}/pki/{CUT_OFF}.pem --key {dir}/pki/{CUT_OFF}.key node status\n\
         Audit: cosx-server audit verify --config {dir}/coordinator.toml\n\
         Run them again later: cosx-server coordinator --config {dir}/coordinator.toml; cosx-server node --config {dir}/nodes/PARTY.toml",
        ep = demo.endpoint,
        asof = date(Month::nth(start, args.months).first),
        code = Month::nth(start, 1).code(),
        cut_note = if cut.is_some() { " (the one that was cut off)" } else { "" },
    );

    print!("{}", console_help(&demo));
    if !args.exit {
        println!("\nServing until Ctrl-C.");
        let _ = tokio::signal::ctrl_c().await;
    }
    for n in demo.nodes.drain(..) {
        n.running.stop().await?;
    }
    demo.coordinator.trigger_stop();
    demo.coordinator.wait().await
}

/// Where the web console is and which files open it in a browser.
fn console_help(demo: &Demo) -> String {
    let dir = demo.dir.display();
    let files: Vec<String> = setup::CONSOLE_PARTIES.iter().map(|p| format!("  {dir}/pki/{p}.p12")).collect();
    format!(
        "\nWeb console: {}/console (each node serves its own at /console too)\n\
         Import a client certificate into the browser (PKCS#12, passphrase {:?}), and trust {dir}/pki/ca.pem:\n\
         {}\n",
        demo.endpoint,
        setup::p12_passphrase(),
        files.join("\n")
    )
}

impl Tally {
    fn add(&mut self, t: &Tally) {
        self.reports += t.reports;
        self.orders += t.orders;
        self.accepted += t.accepted;
        self.declined += t.declined;
        self.inducted += t.inducted;
        self.awaiting_parts += t.awaiting_parts;
        self.completed += t.completed;
        self.shipped += t.shipped;
        self.closed += t.closed;
        self.cancelled += t.cancelled;
        self.hours += t.hours;
    }
}

/// Every provider, through its node: accepts or declines what was proposed
/// to it, inducts what it accepted last month, finishes and ships what it
/// started, resumes work whose parts came.
async fn work_month(
    demo: &Demo,
    rng: &mut Rng,
    month: &Month,
    last_step: &mut BTreeMap<String, u32>,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    use pb::RepairOrderAction as A;
    use pb::RepairOrderState as S;
    let m = month.index;
    let providers: std::collections::BTreeSet<&str> = OFFERS.iter().map(|o| o.provider).collect();
    for provider in providers {
        // Organic depots are tasked: they do not decline their department's work.
        let organic = PARTIES.iter().any(|p| p.id == provider && p.kind == "ORGANIC");
        for order in demo.orders_at(provider, true).await? {
            let since = last_step.get(&order.name).copied().unwrap_or(0);
            let progressed = match order.state() {
                S::Proposed => {
                    if rng.chance(if organic { 0.0 } else { 0.14 }) {
                        let reason = rng.pick(scenario::DECLINE_REASONS);
                        demo.step(provider, &order, A::Decline, reason, None).await?;
                        tally.declined += 1;
                    } else {
                        demo.step(provider, &order, A::Accept, "capacity confirmed", None).await?;
                        tally.accepted += 1;
                    }
                    true
                }
                S::Accepted if since < m => {
                    let inducted = month.day(rng.int(2, 10));
                    let progress = pb::WorkProgress {
                        induction_date: date(inducted),
                        estimated_completion_date: date(inducted + chrono::Days::new(u64::from(rng.int(25, 50)))),
                        ..Default::default()
                    };
                    let o = demo.step(provider, &order, A::Induct, "received and inducted", Some(progress)).await?;
                    demo.step(provider, &o, A::StartWork, "work started", None).await?;
                    tally.inducted += 1;
                    true
                }
                S::InWork if since < m => {
                    if rng.chance(0.15) {
                        demo.step(provider, &order, A::AwaitParts, "awaiting a DLR from supply", None).await?;
                        tally.awaiting_parts += 1;
                    } else {
                        let factor = scenario::actual_factor(rng);
                        let hours = (order.estimated_labor_hours * factor * 10.0).round() / 10.0;
                        // Contract depot work is firm fixed price: it costs what was
                        // estimated. Organic work costs what it costs.
                        let cost_factor = if organic { factor } else { 1.0 };
                        let estimate = order
                            .funding
                            .as_ref()
                            .and_then(|f| f.estimated_cost.as_ref())
                            .map_or(0, |c| c.amount_minor);
                        let done = month.day(rng.int(8, 24));
                        let progress = pb::WorkProgress {
                            actual_completion_date: date(done),
                            actual_labor_hours: hours,
                            actual_cost: Some(pb::Money {
                                currency_code: "USD".into(),
                                amount_minor: (estimate as f64 * cost_factor).round() as i64,
                            }),
                            ..Default::default()
                        };
                        let o = demo.step(provider, &order, A::Complete, "repaired and tested", Some(progress)).await?;
                        let shipped = pb::WorkProgress {
                            ship_date: date(done + chrono::Days::new(u64::from(rng.int(1, 4)))),
                            ..Default::default()
                        };
                        demo.step(provider, &o, A::Ship, "shipped serviceable", Some(shipped)).await?;
                        tally.completed += 1;
                        tally.shipped += 1;
                        tally.hours += hours;
                    }
                    true
                }
                S::AwaitingParts if since < m => {
                    demo.step(provider, &order, A::StartWork, "parts received", None).await?;
                    true
                }
                _ => false,
            };
            if progressed {
                last_step.insert(order.name.clone(), m);
            }
        }
    }
    Ok(())
}

/// Owners close what has come back to them, through their nodes.
async fn close_shipped(demo: &Demo, month: &Month, tally: &mut Tally) -> anyhow::Result<()> {
    let owners: std::collections::BTreeSet<&str> = FLEETS.iter().map(|f| f.owner).collect();
    for owner in owners {
        if owner == CUT_OFF && !demo.relay.is_up() {
            // Its own orders come back through the coordinator; it sees them later.
            continue;
        }
        for order in demo.orders_at(owner, false).await? {
            let overdue = chrono::NaiveDate::parse_from_str(&order.required_by, "%Y-%m-%d")
                .is_ok_and(|due| due + chrono::Days::new(30) < month.last);
            match order.state() {
                pb::RepairOrderState::Shipped => {
                    let reason = format!("received serviceable {}", date(month.last));
                    demo.step(owner, &order, pb::RepairOrderAction::Close, &reason, None).await?;
                    tally.closed += 1;
                }
                // Nobody could take it in time: the owner sources it elsewhere.
                pb::RepairOrderState::Submitted | pb::RepairOrderState::Declined if overdue => {
                    let reason = "a month past required-by; sourced from war reserve";
                    demo.step(owner, &order, pb::RepairOrderAction::Cancel, reason, None).await?;
                    tally.cancelled += 1;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The coordinating office's dashboard, from the coordinator's Signals.
async fn dashboard_now(demo: &Demo, month: &Month) -> anyhow::Result<()> {
    println!("\n-- {COORDINATOR} dashboard, end of {} --", month.label());
    let mut signals = demo.j4.signals();
    let demand = signals
        .get_demand_signal(pb::GetDemandSignalRequest {
            basis: pb::DateBasis::RequiredBy as i32,
            granularity: pb::Granularity::Month as i32,
            forecast_periods: 3,
            forecast_measure: pb::DemandMeasure::LaborHours as i32,
            ..Default::default()
        })
        .await?
        .into_inner();
    print!("{}", dashboard::demand(&demand));
    let capacity = signals
        .get_capacity_comparison(pb::GetCapacityComparisonRequest {
            granularity: pb::Granularity::Month as i32,
            unit: pb::CapacityUnit::LaborHours as i32,
            alert_absolute: 100.0,
            alert_relative: 0.1,
            // In-theater capacity: what the Regional Sustainment Framework is about.
            filter: Some(pb::DemandFilter { regions: vec![pb::Region::Indopacom as i32], ..Default::default() }),
            ..Default::default()
        })
        .await?
        .into_inner();
    print!("{}", dashboard::capacity(&capacity));
    let balance = signals.get_workload_balance(pb::GetWorkloadBalanceRequest::default()).await?.into_inner();
    print!("{}", dashboard::balance(&balance));
    // Simulated time: C/DA is reviewed for the scenario's fiscal year, not the real clock's.
    let review_year = cosx_domain::FiscalYear::containing(month.first).year();
    let latest = signals
        .get_availability_metrics(pb::GetAvailabilityMetricsRequest {
            from_date: date(month.first),
            to_date: date(month.last),
            review_fiscal_year: Some(review_year),
            ..Default::default()
        })
        .await?
        .into_inner();
    let all = signals
        .get_availability_metrics(pb::GetAvailabilityMetricsRequest {
            review_fiscal_year: Some(review_year),
            ..Default::default()
        })
        .await?
        .into_inner();
    print!("{}", dashboard::availability(&latest, &all));
    Ok(())
}
