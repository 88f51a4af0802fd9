//! `cosx-server demo`: a development exchange in one command. It makes a
//! fresh PKI, starts a coordinator on the embedded SQLite default with
//! registered demo parties, plays a short exchange through the real mTLS
//! API (an offer, orders, a proposal, an acceptance, a report), prints what
//! happened and the CLI commands to look further, and keeps serving until
//! Ctrl-C (or stops at once with `--exit`).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cosx_certs::ExchangeCa;
use cosx_client::Client;
use cosx_proto::v1 as pb;

use crate::config::{CoordinatorConfig, LogFormat, PartyConfig, TlsConfig};
use crate::server;

/// Options of `cosx-server demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Working directory for the PKI, configuration and database.
    #[arg(long, default_value = "cosx-demo")]
    pub dir: PathBuf,
    /// Address for the coordinator (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:7443")]
    pub listen: SocketAddr,
    /// Stop after the scenario instead of serving until Ctrl-C.
    #[arg(long)]
    pub exit: bool,
}

const TRUST_DOMAIN: &str = "rsf.example";

/// The demo's parties: (id, kind, nation, department, name).
const PARTIES: &[(&str, &str, &str, Option<&str>, &str)] = &[
    ("US-INDOPACOM-J4", "COORDINATOR", "USA", None, "INDOPACOM J4 sustainment coordination"),
    ("US-USAF-OOALC", "ORGANIC", "USA", Some("AIR_FORCE"), "Ogden Air Logistics Complex"),
    ("US-USN-FRCW", "ORGANIC", "USA", Some("NAVY"), "Fleet Readiness Center West"),
    ("JPN-MHI-KOMAKI", "CONTRACTOR", "JPN", None, "Mitsubishi Heavy Industries, Komaki South"),
    ("KOR-KAI-SACHEON", "CONTRACTOR", "KOR", None, "Korea Aerospace Industries, Sacheon"),
    ("AUS-RAAF-AMBERLEY", "PARTNER_GOVERNMENT", "AUS", None, "RAAF Base Amberley depot"),
];

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

/// Makes the PKI and configuration in `dir`, fresh each time.
fn prepare(dir: &Path, listen: SocketAddr) -> anyhow::Result<CoordinatorConfig> {
    let pki = dir.join("pki");
    std::fs::create_dir_all(&pki).with_context(|| format!("creating {}", pki.display()))?;
    let db = dir.join("coordinator.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let ca = ExchangeCa::create(TRUST_DOMAIN)?;
    write_file(&pki.join("ca.pem"), ca.cert_pem(), false)?;
    write_file(&pki.join("ca.key"), &ca.key_pem(), true)?;
    let server = ca.issue_server(&["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    write_file(&pki.join("server.pem"), &server.cert_pem, false)?;
    write_file(&pki.join("server.key"), &server.key_pem, true)?;
    for (id, ..) in PARTIES {
        let issued = ca.issue_party(id)?;
        write_file(&pki.join(format!("{id}.pem")), &issued.cert_pem, false)?;
        write_file(&pki.join(format!("{id}.key")), &issued.key_pem, true)?;
    }
    let parties: Vec<PartyConfig> = PARTIES
        .iter()
        .map(|(id, kind, nation, department, name)| PartyConfig {
            id: (*id).into(),
            kind: (*kind).into(),
            nation: (*nation).into(),
            department: department.map(Into::into),
            display_name: Some((*name).into()),
        })
        .collect();
    let mut toml = format!(
        "listen = \"{listen}\"\ndatabase = \"sqlite://coordinator.db\"\ntrust_domain = \"{TRUST_DOMAIN}\"\n\n[tls]\ncert = \"pki/server.pem\"\nkey = \"pki/server.key\"\nclient_ca = \"pki/ca.pem\"\n"
    );
    for p in &parties {
        let _ = write!(toml, "\n[[parties]]\nid = \"{}\"\nkind = \"{}\"\nnation = \"{}\"\n", p.id, p.kind, p.nation);
        if let Some(d) = &p.department {
            let _ = writeln!(toml, "department = \"{d}\"");
        }
    }
    write_file(&dir.join("coordinator.toml"), &toml, false)?;
    Ok(CoordinatorConfig {
        listen,
        database: format!("sqlite://{}", db.display()),
        trust_domain: TRUST_DOMAIN.into(),
        log_format: LogFormat::Text,
        tls: TlsConfig::new(pki.join("server.pem"), pki.join("server.key"), pki.join("ca.pem")),
        parties,
        limits: Default::default(),
        shutdown_grace: crate::config::DEFAULT_SHUTDOWN_GRACE,
        signals: Default::default(),
    })
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

fn site(name: &str, nation: &str, lat: f64, lon: f64) -> Option<pb::Site> {
    Some(pb::Site {
        name: name.into(),
        nation: nation.into(),
        region: pb::Region::Indopacom as i32,
        latitude: lat,
        longitude: lon,
    })
}

/// A demo repair order from the USAF depot.
pub fn sample_order(tms: &str, nsn: &str, nomenclature: &str, priority: u32, quantity: u32) -> pb::RepairOrder {
    pb::RepairOrder {
        originator: "US-USAF-OOALC".into(),
        tms: tms.into(),
        system_category: pb::SystemCategory::Aircraft as i32,
        item: Some(pb::Item { nsn: nsn.into(), nomenclature: nomenclature.into(), ..Default::default() }),
        quantity,
        maintenance_level: pb::MaintenanceLevel::Depot as i32,
        repair_type: pb::RepairType::RepairAndReturn as i32,
        priority,
        required_by: "2027-03-31".into(),
        location: site("Kadena AB", "JPN", 26.3516, 127.7692),
        department: pb::MilitaryDepartment::AirForce as i32,
        estimated_labor_hours: 120.0 * f64::from(quantity),
        funding: Some(pb::Funding {
            source: Some(pb::funding::Source::UsAppropriation(pb::funding::UsAppropriation {
                department: pb::MilitaryDepartment::AirForce as i32,
                appropriation: "3400 O&M, Air Force".into(),
                fiscal_year: 2027,
            })),
            estimated_cost: Some(pb::Money {
                currency_code: "USD".into(),
                amount_minor: 4_500_000 * i64::from(quantity),
            }),
            actual_cost: None,
        }),
        ..Default::default()
    }
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let config = prepare(&args.dir, args.listen)?;
    let mut running = server::start(&config).await?;
    let endpoint = format!("https://localhost:{}", running.addr.port());
    println!("cosx demo: coordinator serving on {endpoint} (SQLite: {})", config.database);

    let usaf = connect_as(&args.dir, &endpoint, "US-USAF-OOALC").await?;
    let mhi = connect_as(&args.dir, &endpoint, "JPN-MHI-KOMAKI").await?;
    let j4 = connect_as(&args.dir, &endpoint, "US-INDOPACOM-J4").await?;

    let offer = mhi
        .exchange()
        .create_capacity_offer(pb::CreateCapacityOfferRequest {
            capacity_offer_id: String::new(),
            request_id: "demo-offer-1".into(),
            capacity_offer: Some(pb::CapacityOffer {
                provider: "JPN-MHI-KOMAKI".into(),
                site: site("Komaki South", "JPN", 35.2553, 136.9244),
                capabilities: vec![pb::Capability {
                    tms: "F-35A".into(),
                    maintenance_level: pb::MaintenanceLevel::Depot as i32,
                    repair_types: vec![pb::RepairType::RepairAndReturn as i32, pb::RepairType::Overhaul as i32],
                    ..Default::default()
                }],
                unit: pb::CapacityUnit::LaborHours as i32,
                periods: vec![pb::CapacityPeriod {
                    start_date: "2027-01-01".into(),
                    end_date: "2027-03-31".into(),
                    capacity: 4000.0,
                    surge_capacity: 1500.0,
                }],
                valid_from: "2026-12-01".into(),
                valid_until: "2027-12-31".into(),
                lead_time_days: 14,
                rate: Some(pb::Money { currency_code: "USD".into(), amount_minor: 18_500 }),
                authorizations: vec![
                    pb::ProviderAuthorization {
                        kind: pb::provider_authorization::Kind::ThirdCountryTransfer as i32,
                        tms: "F-35A".into(),
                        reference: "DSP-5 050-123456".into(),
                        nations: vec!["USA".into()],
                        ..Default::default()
                    },
                    pb::ProviderAuthorization {
                        kind: pb::provider_authorization::Kind::PrimeFacilityApproval as i32,
                        tms: "F-35A".into(),
                        reference: "LM-FA-2026-014".into(),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
        })
        .await?
        .into_inner();
    println!("  JPN-MHI-KOMAKI offered 4,000 F-35A depot labor hours: {}", offer.name);

    let mut orders = Vec::new();
    for (i, (tms, nsn, what, priority, qty)) in [
        ("F-35A", "2840-01-602-2317", "MODULE, FAN, F135", 2, 1),
        ("F-35A", "1680-01-650-1182", "ACTUATOR, ELECTRO-HYDROSTATIC", 5, 3),
        ("F-16C", "2915-01-413-1870", "PUMP, FUEL, ENGINE DRIVEN", 8, 2),
    ]
    .into_iter()
    .enumerate()
    {
        let order = usaf
            .exchange()
            .create_repair_order(pb::CreateRepairOrderRequest {
                repair_order_id: String::new(),
                request_id: format!("demo-order-{i}"),
                repair_order: Some(sample_order(tms, nsn, what, priority, qty)),
            })
            .await?
            .into_inner();
        println!("  US-USAF-OOALC submitted {} {} x{} (priority {}): {}", tms, what, qty, priority, order.name);
        orders.push(order);
    }

    let proposed = j4
        .exchange()
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: orders[0].name.clone(),
            version: orders[0].version,
            action: pb::RepairOrderAction::Propose as i32,
            provider: "JPN-MHI-KOMAKI".into(),
            reason: "capable, nearest depot with capacity".into(),
            request_id: "demo-propose-1".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    println!("  US-INDOPACOM-J4 proposed {} to JPN-MHI-KOMAKI", proposed.name);
    let accepted = mhi
        .exchange()
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: proposed.name.clone(),
            version: proposed.version,
            action: pb::RepairOrderAction::Accept as i32,
            request_id: "demo-accept-1".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    println!("  JPN-MHI-KOMAKI accepted it (version {})", accepted.version);

    let report = usaf
        .exchange()
        .submit_availability_report(pb::SubmitAvailabilityReportRequest {
            availability_report_id: String::new(),
            request_id: "demo-report-1".into(),
            availability_report: Some(pb::AvailabilityReport {
                reporter: "US-USAF-OOALC".into(),
                tms: "F-35A".into(),
                system_category: pb::SystemCategory::Aircraft as i32,
                department: pb::MilitaryDepartment::AirForce as i32,
                region: pb::Region::Indopacom as i32,
                timeframe_start: "2026-10-01".into(),
                timeframe_end: "2026-10-31".into(),
                time_unit: pb::TimeUnit::Days as i32,
                inventory: Some(pb::Inventory { tai: 24, pmai: 20, ..Default::default() }),
                tai_time: Some(pb::TimeByCategory {
                    available: 520.0,
                    nmcm: 90.0,
                    nmcs: 60.0,
                    depot: 62.0,
                    upnr: 12.0,
                }),
                pmai_time: Some(pb::TimeByCategory {
                    available: 470.0,
                    nmcm: 70.0,
                    nmcs: 50.0,
                    depot: 20.0,
                    upnr: 10.0,
                }),
                ..Default::default()
            }),
        })
        .await?
        .into_inner();
    println!("  US-USAF-OOALC reported F-35A availability for October 2026: {}", report.name);

    let visible_to_kai = connect_as(&args.dir, &endpoint, "KOR-KAI-SACHEON")
        .await?
        .exchange()
        .list_repair_orders(pb::ListRepairOrdersRequest::default())
        .await?
        .into_inner()
        .repair_orders
        .len();
    println!("  KOR-KAI-SACHEON can see {visible_to_kai} of those orders (they were not released to it)");

    // What a coordinating office sees.
    let mut signals = j4.signals();
    signals
        .set_depot_baseline(pb::SetDepotBaselineRequest {
            baseline: Some(pb::DepotBaseline {
                department: pb::MilitaryDepartment::AirForce as i32,
                fiscal_year: 2027,
                work: Some(pb::WorkSplit {
                    organic_cents: 5_000_000_000,
                    contract_cents: 3_800_000_000,
                    organic_hours: 410_000.0,
                    contract_hours: 290_000.0,
                }),
                ..Default::default()
            }),
            request_id: "demo-baseline-af-2027".into(),
        })
        .await?;
    println!(
        "  US-INDOPACOM-J4 recorded Air Force FY2027 depot work outside the exchange: $50.0M organic, $38.0M contract"
    );
    let metrics = signals.get_availability_metrics(pb::GetAvailabilityMetricsRequest::default()).await?.into_inner();
    for m in &metrics.metrics {
        println!(
            "  availability {} {}..{}: A_M {:.1} %, A_O {:.1} % (DoDI 3110.05)",
            m.tms,
            m.timeframe_start,
            m.timeframe_end,
            m.a_m.unwrap_or(0.0) * 100.0,
            m.a_o.unwrap_or(0.0) * 100.0
        );
    }
    let demand = signals
        .get_demand_signal(pb::GetDemandSignalRequest { forecast_periods: 6, ..Default::default() })
        .await?
        .into_inner();
    println!(
        "  regional demand: {} orders in {} cells, {} forecast series",
        demand.orders_counted,
        demand.cells.len(),
        demand.forecasts.len()
    );
    let balance = signals
        .get_workload_balance(pb::GetWorkloadBalanceRequest { include_proposed: true, ..Default::default() })
        .await?
        .into_inner();
    for b in &balance.departments {
        println!(
            "  50/50 balance {} FY{}: contract share {:.1} %",
            pb::MilitaryDepartment::try_from(b.department).map(|d| d.as_str_name()).unwrap_or("?"),
            b.fiscal_year,
            b.contract_share.unwrap_or(0.0) * 100.0
        );
    }
    let plan = pb::allocation_client::AllocationClient::new(j4.channel())
        .propose(pb::ProposeAllocationRequest { as_of: "2026-12-01".into() })
        .await?
        .into_inner();
    println!("  allocation: {} of {} open orders placed", plan.assignments.len(), plan.open_orders);
    for u in &plan.unplaced {
        println!("    unplaced {}: {} ({})", u.repair_order, u.reason, u.detail);
    }

    let dir = args.dir.display();
    println!(
        "\nQuery it with the CLI (cargo run -p cosx-client --bin cosx -- ...), e.g. as the USAF depot:\n\
         \x20 export COSX_ENDPOINT={endpoint} COSX_CA={dir}/pki/ca.pem COSX_CERT={dir}/pki/US-USAF-OOALC.pem COSX_KEY={dir}/pki/US-USAF-OOALC.key\n\
         \x20 cosx list orders\n\
         \x20 cosx order history {}\n\
         \x20 cosx feed --after 0\n\
         \x20 cosx metrics availability; cosx demand; cosx capacity-gap; cosx balance  (all parties' data: use US-INDOPACOM-J4)\n\
         Run the same coordinator again later with: cosx-server coordinator --config {dir}/coordinator.toml",
        accepted.name
    );
    if args.exit {
        running.stop().await?;
        return Ok(());
    }
    println!("\nServing until Ctrl-C.");
    let _ = tokio::signal::ctrl_c().await;
    running.trigger_stop();
    running.wait().await
}
