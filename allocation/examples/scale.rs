//! Times `allocate` on the scale instance of DESIGN.md §5 (100,000 open
//! orders over 5,000 offers, under 10 s), generated exactly as the bench
//! generates it (`bench/src/alloc.rs`, seed 7). A measurement, not a test:
//! `cargo run --release -p cosx-allocation --example scale -- 100000 5000 3`.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use chrono::{Duration as Days, NaiveDate};
use cosx_allocation::{
    AllocationConfig, Authorizations, Capability, CapacityOffer, CapacityPeriod, CapacityUnit, Department, FiscalYear,
    FundsBalance, GeoPoint, MaintenanceLevel, Nation, OpenOrder, Priority, ProviderKind, RepairType, allocate,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const NATIONS: [(&str, f64, f64); 7] = [
    ("USA", 38.0, -97.0),
    ("JPN", 35.5, 138.0),
    ("KOR", 36.5, 127.8),
    ("AUS", -27.0, 145.0),
    ("SGP", 1.35, 103.8),
    ("PHL", 13.0, 122.0),
    ("GBR", 53.0, -1.5),
];
const REPAIR_TYPES: [RepairType; 6] = [
    RepairType::RepairAndReturn,
    RepairType::DirectExchange,
    RepairType::Overhaul,
    RepairType::Modification,
    RepairType::Inspection,
    RepairType::BattleDamageRepair,
];
const EXPORT: [&str; 3] = ["USML VIII", "USML XIX", "9A610"];
const TMS: usize = 40;

fn nation(code: &str) -> Nation {
    Nation::parse(code).unwrap_or_else(|_| Nation::usa())
}

fn point(rng: &mut StdRng, n: usize) -> GeoPoint {
    let (_, lat, lon) = NATIONS[n];
    GeoPoint { lat: (lat + rng.random_range(-4.0..4.0)).clamp(-89.0, 89.0), lon: lon + rng.random_range(-6.0..6.0) }
}

fn generate(
    orders: usize,
    offers: usize,
    seed: u64,
) -> (Vec<OpenOrder>, Vec<CapacityOffer>, Vec<FundsBalance>, AllocationConfig) {
    let mut rng = StdRng::seed_from_u64(seed);
    let as_of = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap_or_default();
    let level = |rng: &mut StdRng| {
        if rng.random_bool(0.6) { MaintenanceLevel::Depot } else { MaintenanceLevel::Intermediate }
    };
    // Capacity per offer-month scaled so that demand roughly matches supply.
    let hours_per_month = 100.0 * orders as f64 / (offers as f64 * 12.0) * 1.1;
    let offers: Vec<CapacityOffer> = (0..offers)
        .map(|i| {
            let kind = match rng.random_range(0..4) {
                0 => ProviderKind::Organic,
                1 => ProviderKind::PartnerGovernment,
                _ => ProviderKind::Contractor,
            };
            let n = if kind == ProviderKind::Organic {
                0
            } else if kind == ProviderKind::PartnerGovernment {
                rng.random_range(1..NATIONS.len())
            } else {
                rng.random_range(0..NATIONS.len())
            };
            let unit = if rng.random_bool(0.7) { CapacityUnit::LaborHours } else { CapacityUnit::InductionSlots };
            let capabilities = (0..rng.random_range(2..5))
                .map(|_| Capability {
                    tms: format!("TMS-{:02}", rng.random_range(0..TMS)),
                    level: level(&mut rng),
                    repair_types: REPAIR_TYPES.iter().copied().filter(|_| rng.random_bool(0.5)).collect(),
                })
                .collect();
            let periods = (0..12)
                .map(|m| {
                    let start = as_of + Days::days(30 * m);
                    let capacity = match unit {
                        CapacityUnit::LaborHours => (hours_per_month * rng.random_range(0.3..1.7)).round(),
                        CapacityUnit::InductionSlots => (hours_per_month / 40.0 * rng.random_range(0.3..1.7)).round(),
                    };
                    CapacityPeriod { start, end: start + Days::days(29), capacity }
                })
                .collect();
            CapacityOffer {
                id: format!("OFF-{i:05}"),
                provider_id: format!("P-{}-{:04}", NATIONS[n].0, i / 2),
                provider_kind: kind,
                provider_nation: nation(NATIONS[n].0),
                site: point(&mut rng, n),
                capabilities,
                unit,
                periods,
                lead_time_days: rng.random_range(0..30),
                rate_cents_per_unit: match unit {
                    CapacityUnit::LaborHours => rng.random_range(8_000..20_000),
                    CapacityUnit::InductionSlots => rng.random_range(500_000..2_000_000),
                },
                authorizations: Authorizations {
                    export_licences: EXPORT.iter().filter(|_| rng.random_bool(0.4)).map(|s| (*s).to_owned()).collect(),
                    transfer_approvals: NATIONS.iter().filter(|_| rng.random_bool(0.5)).map(|n| nation(n.0)).collect(),
                    prime_facility_approvals: (0..TMS)
                        .filter(|_| rng.random_bool(0.3))
                        .map(|t| format!("TMS-{t:02}"))
                        .collect(),
                },
            }
        })
        .collect();
    let depts = [Department::Army, Department::Navy, Department::AirForce];
    let orders: Vec<OpenOrder> = (0..orders)
        .map(|i| {
            let owner = if rng.random_bool(0.7) { 0 } else { rng.random_range(1..NATIONS.len()) };
            let hours: f64 = rng.random_range(10.0..190.0_f64).round();
            let at = rng.random_range(0..NATIONS.len());
            OpenOrder {
                id: format!("RO-{i:06}"),
                tms: format!("TMS-{:02}", rng.random_range(0..TMS)),
                level: level(&mut rng),
                repair_type: REPAIR_TYPES[rng.random_range(0..REPAIR_TYPES.len())],
                quantity: rng.random_range(1..5),
                estimated_hours: hours,
                priority: Priority::new(rng.random_range(1..16)).unwrap_or(Priority::LOWEST),
                required_by: as_of + Days::days(rng.random_range(10..365)),
                location: point(&mut rng, at),
                owner_nation: nation(NATIONS[owner].0),
                department: (owner == 0).then(|| depts[rng.random_range(0..3)]),
                estimated_cost_cents: (hours * 15_000.0) as i64,
                organic_only: owner == 0 && rng.random_bool(0.1),
                export_classification: rng
                    .random_bool(0.3)
                    .then(|| EXPORT[rng.random_range(0..EXPORT.len())].to_owned()),
                originator: None,
            }
        })
        .collect();
    let balances = depts
        .iter()
        .flat_map(|&d| {
            [2027, 2028].map(|fy| FundsBalance {
                department: d,
                fiscal_year: FiscalYear(fy),
                organic_cents: 5_000_000_000,
                contract_cents: 4_900_000_000,
            })
        })
        .collect();
    (orders, offers, balances, AllocationConfig::new(as_of))
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().unwrap()).collect();
    let (n_orders, n_offers, runs) = (
        args.first().copied().unwrap_or(100_000),
        args.get(1).copied().unwrap_or(5_000),
        args.get(2).copied().unwrap_or(3),
    );
    let (orders, offers, balances, config) = generate(n_orders, n_offers, 7);
    let mut times = Vec::new();
    for _ in 0..runs {
        let cpu0 = cpu_seconds();
        let started = Instant::now();
        let plan = allocate(&orders, &offers, &balances, &config).unwrap();
        let t = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu0;
        println!(
            "{n_orders} x {n_offers}: {t:.3} s wall, {cpu:.2} s CPU, placed {} unplaced {} weight {} cost {} optimality {:?}",
            plan.assignments.len(),
            plan.unplaced.len(),
            plan.served_priority_weight,
            plan.total_cost_cents,
            plan.optimality
        );
        times.push(t);
    }
    times.sort_by(f64::total_cmp);
    println!("min {:.3} s, median {:.3} s, max {:.3} s", times[0], times[times.len() / 2], times[times.len() - 1]);
}

/// User + system CPU seconds of this process (Linux `/proc/self/stat`, 100 ticks/s),
/// so that a figure taken on a shared machine says how much of the wall time was ours.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
