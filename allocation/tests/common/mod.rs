//! Seeded generator of small allocation instances shared by the tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use chrono::{Duration, NaiveDate};
use cosx_allocation::{
    AllocationConfig, Authorizations, Capability, CapacityOffer, CapacityPeriod, CapacityUnit, Department, FiscalYear,
    FundsBalance, GeoPoint, MaintenanceLevel, Nation, OpenOrder, Priority, ProviderKind, RepairType,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One allocation problem.
pub struct Instance {
    pub orders: Vec<OpenOrder>,
    pub offers: Vec<CapacityOffer>,
    pub balances: Vec<FundsBalance>,
    pub config: AllocationConfig,
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn nation(code: &str) -> Nation {
    Nation::parse(code).unwrap()
}

const TMS: [&str; 2] = ["F-16C", "C-130J"];
const TYPES: [RepairType; 2] = [RepairType::RepairAndReturn, RepairType::Overhaul];
pub const PRIORITIES: [u8; 5] = [1, 3, 5, 8, 12];

/// A small, contended instance: capacity is short, eligibility and 50/50 bite.
pub fn small_instance(seed: u64, n_orders: usize, n_offers: usize) -> Instance {
    let mut rng = StdRng::seed_from_u64(seed);
    // The fields added for issue 18 (site nations, funds' fiscal year, FMF,
    // security assistance) draw from their own stream, so the draws above
    // stay the same instance for instance.
    let mut extra = StdRng::seed_from_u64(seed ^ 0x18_18_18_18);
    let as_of = date(2026, 9, 1);
    let level = |rng: &mut StdRng| {
        if rng.random_bool(0.8) { MaintenanceLevel::Depot } else { MaintenanceLevel::Intermediate }
    };
    let offers = (0..n_offers)
        .map(|i| {
            let (kind, nat) = match rng.random_range(0..4) {
                0 => (ProviderKind::Organic, "USA"),
                1 => (ProviderKind::PartnerGovernment, if rng.random_bool(0.5) { "JPN" } else { "KOR" }),
                _ => (ProviderKind::Contractor, if rng.random_bool(0.5) { "USA" } else { "JPN" }),
            };
            let unit = if rng.random_bool(0.7) { CapacityUnit::LaborHours } else { CapacityUnit::InductionSlots };
            let mut capabilities = Vec::new();
            for tms in TMS {
                if rng.random_bool(0.75) {
                    let mut repair_types: Vec<RepairType> =
                        TYPES.iter().copied().filter(|_| rng.random_bool(0.7)).collect();
                    if repair_types.is_empty() {
                        repair_types.push(TYPES[0]);
                    }
                    capabilities.push(Capability { tms: tms.into(), level: level(&mut rng), repair_types });
                }
            }
            let periods = (0..3)
                .map(|m| {
                    let start = as_of + Duration::days(30 * m);
                    let capacity = match unit {
                        CapacityUnit::LaborHours => f64::from(rng.random_range(0..8u32) * 10),
                        CapacityUnit::InductionSlots => f64::from(rng.random_range(0..4u32)),
                    };
                    CapacityPeriod { start, end: start + Duration::days(29), capacity }
                })
                .collect();
            CapacityOffer {
                id: format!("OFF-{i}"),
                provider_id: format!("P-{nat}-{i}"),
                provider_kind: kind,
                provider_nation: nation(nat),
                site: GeoPoint { lat: rng.random_range(-10.0..50.0), lon: rng.random_range(100.0..160.0) },
                // Now and then a site abroad (a US company in Japan, a Japanese one in Korea...).
                site_nation: extra.random_bool(0.2).then(|| nation(["USA", "JPN", "KOR"][extra.random_range(0..3)])),
                capabilities,
                unit,
                periods,
                lead_time_days: rng.random_range(0..20),
                rate_cents_per_unit: match unit {
                    CapacityUnit::LaborHours => rng.random_range(5_000..15_000),
                    CapacityUnit::InductionSlots => rng.random_range(100_000..400_000),
                },
                authorizations: Authorizations {
                    export_licences: if rng.random_bool(0.5) { vec!["USML VIII".into()] } else { vec![] },
                    transfer_approvals: ["USA", "JPN", "KOR"]
                        .iter()
                        .filter(|_| rng.random_bool(0.6))
                        .map(|n| nation(n))
                        .collect(),
                    prime_facility_approvals: TMS
                        .iter()
                        .filter(|_| rng.random_bool(0.6))
                        .map(|t| (*t).to_owned())
                        .collect(),
                },
            }
        })
        .collect();
    let orders = (0..n_orders)
        .map(|i| {
            let us = rng.random_bool(0.7);
            let hours = f64::from(rng.random_range(1..9u32) * 5);
            OpenOrder {
                id: format!("RO-{i}"),
                tms: TMS[rng.random_range(0..2)].into(),
                level: level(&mut rng),
                repair_type: TYPES[rng.random_range(0..2)],
                quantity: rng.random_range(1..4),
                estimated_hours: hours,
                priority: Priority::new(PRIORITIES[rng.random_range(0..PRIORITIES.len())]).unwrap(),
                required_by: as_of + Duration::days(rng.random_range(-5..100)),
                location: GeoPoint { lat: rng.random_range(-10.0..50.0), lon: rng.random_range(100.0..160.0) },
                owner_nation: nation(if us { "USA" } else { "JPN" }),
                department: us.then(|| if rng.random_bool(0.5) { Department::AirForce } else { Department::Navy }),
                estimated_cost_cents: (hours * 10_000.0) as i64,
                organic_only: us && rng.random_bool(0.15),
                export_classification: rng.random_bool(0.25).then(|| "USML VIII".to_owned()),
                originator: None,
                funds_fiscal_year: (us && extra.random_bool(0.5)).then(|| FiscalYear(extra.random_range(2026..=2027))),
                fmf_funded: !us && extra.random_bool(0.4),
                dsca_waiver: extra.random_bool(0.5),
            }
        })
        .collect();
    let mut balances = Vec::new();
    for d in [Department::AirForce, Department::Navy] {
        for fy in [2026, 2027] {
            let organic = rng.random_range(0..1_000_000i64);
            let contract = organic - rng.random_range(0..=organic.min(400_000));
            balances.push(FundsBalance {
                department: d,
                fiscal_year: FiscalYear(fy),
                organic_cents: organic,
                contract_cents: contract,
            });
        }
    }
    let mut config = AllocationConfig::new(as_of);
    config.security_assistance_nations =
        ["JPN", "KOR"].iter().filter(|_| extra.random_bool(0.6)).map(|n| nation(n)).collect();
    Instance { orders, offers, balances, config }
}

// ----- the hand-built cases' fixture ----------------------------------------
// One order, one offer, one balance that the hand-built tests (reasons,
// quotes, bands, eligibility) start from and change field by field with
// struct update syntax, so each test shows only what it is about.

/// Planning on 2026-10-01, the first day of FY2027.
pub fn config() -> AllocationConfig {
    AllocationConfig::new(date(2026, 10, 1))
}

/// A US Air Force depot order for 40 hours of F-16C repair (repair and
/// return, priority 5) due (to start by) 2026-11-15, at Kadena.
pub fn f16_order(id: &str) -> OpenOrder {
    OpenOrder {
        id: id.into(),
        tms: "F-16C".into(),
        level: MaintenanceLevel::Depot,
        repair_type: RepairType::RepairAndReturn,
        quantity: 1,
        estimated_hours: 40.0,
        priority: Priority::new(5).unwrap(),
        required_by: date(2026, 11, 15),
        location: GeoPoint { lat: 26.35, lon: 127.77 },
        owner_nation: nation("USA"),
        department: Some(Department::AirForce),
        estimated_cost_cents: 1_000_000,
        organic_only: false,
        export_classification: None,
        originator: None,
        funds_fiscal_year: None,
        fmf_funded: false,
        dsca_waiver: false,
    }
}

/// `provider`'s offer `id` of F-16C depot repair (repair and return) at
/// Nagoya, 100 hours in each of October, November and December 2026, at
/// 100 USD an hour, no lead time.
pub fn f16_offer(id: &str, provider: &str, kind: ProviderKind, nat: &str) -> CapacityOffer {
    let month =
        |m: u32, last: u32| CapacityPeriod { start: date(2026, m, 1), end: date(2026, m, last), capacity: 100.0 };
    CapacityOffer {
        id: id.into(),
        provider_id: provider.into(),
        provider_kind: kind,
        provider_nation: nation(nat),
        site: GeoPoint { lat: 35.25, lon: 136.92 },
        site_nation: None,
        capabilities: vec![Capability {
            tms: "F-16C".into(),
            level: MaintenanceLevel::Depot,
            repair_types: vec![RepairType::RepairAndReturn],
        }],
        unit: CapacityUnit::LaborHours,
        periods: vec![month(10, 31), month(11, 30), month(12, 31)],
        lead_time_days: 0,
        rate_cents_per_unit: 10_000,
        authorizations: Authorizations::default(),
    }
}

/// The Air Force's FY2027 funds with `organic_cents` of organic work and
/// no contract work yet.
pub fn air_force_funds(organic_cents: i64) -> Vec<FundsBalance> {
    vec![FundsBalance {
        department: Department::AirForce,
        fiscal_year: FiscalYear(2027),
        organic_cents,
        contract_cents: 0,
    }]
}

/// Plenty of organic dollars: contract work is not limited.
pub fn roomy() -> Vec<FundsBalance> {
    air_force_funds(1_000_000_000)
}
