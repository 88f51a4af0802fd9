//! 50/50 balance accounting, utilization and shares, computed by hand.
#![allow(clippy::unwrap_used)]

mod common;

use common::{date, nation};
use cosx_allocation::{
    BalanceConfig, BalanceStatus, BaselineWork, CapacityOffer, CapacityPeriod, CapacityUnit, Department, FiscalYear,
    FundsBalance, GeoPoint, MaintenanceLevel, ProviderKind, Region, Split, WorkRecord, WorkSource,
    balance::dollar_status, department_balances, provider_utilization, shares_by_nation, shares_by_region,
};

fn work(kind: ProviderKind, source: WorkSource, on: chrono::NaiveDate, cents: i64, hours: f64) -> WorkRecord {
    let (provider_id, nat, region) = match kind {
        ProviderKind::Organic => ("US-USAF-OOALC", "USA", Region::Northcom),
        ProviderKind::Contractor => ("JPN-MHI-KOMAKI", "JPN", Region::Indopacom),
        ProviderKind::PartnerGovernment => ("AUS-RAAF-AMBERLEY", "AUS", Region::Indopacom),
    };
    WorkRecord {
        order_id: format!("RO-{cents}"),
        provider_id: provider_id.into(),
        provider_kind: kind,
        site_nation: nation(nat),
        site_region: region,
        department: Some(Department::AirForce),
        funds_fiscal_year: None,
        maintenance_level: MaintenanceLevel::Depot,
        source,
        performed_on: on,
        cost_cents: cents,
        labor_hours: hours,
        quantity: 1,
    }
}

fn split(organic_cents: i64, contract_cents: i64) -> Split {
    Split { organic_cents, contract_cents, ..Split::default() }
}

#[test]
fn status_warns_at_exactly_the_threshold_and_violates_only_above_fifty_percent() {
    let s = |o, c| dollar_status(&split(o, c), 4_500);
    assert_eq!(s(5_501, 4_499), BalanceStatus::Ok); // 44.99 %
    assert_eq!(s(5_500, 4_500), BalanceStatus::Warning); // exactly 45 %
    assert_eq!(s(5_000, 5_000), BalanceStatus::Warning); // exactly 50 %
    assert_eq!(s(4_999, 5_001), BalanceStatus::Violation); // 50.01 %
    assert_eq!(s(0, 0), BalanceStatus::Ok);
    assert_eq!(s(0, 1), BalanceStatus::Violation);
    // A configurable threshold.
    assert_eq!(dollar_status(&split(6_000, 4_000), 4_000), BalanceStatus::Warning);
    assert_eq!(dollar_status(&split(6_001, 3_999), 4_000), BalanceStatus::Ok);
}

#[test]
fn sources_are_kept_apart_and_proposed_work_stays_out_of_the_projection_unless_asked() {
    let fy27 = date(2026, 10, 15);
    let records = vec![
        work(ProviderKind::Organic, WorkSource::Completed, fy27, 300_000, 30.0),
        work(ProviderKind::Contractor, WorkSource::Completed, fy27, 100_000, 10.0),
        work(ProviderKind::Organic, WorkSource::Accepted, fy27, 50_000, 5.0),
        work(ProviderKind::Contractor, WorkSource::InProgress, fy27, 150_000, 20.0),
        work(ProviderKind::Contractor, WorkSource::Proposed, fy27, 400_000, 40.0),
        // Not counted: field level, and partner-owned (no department).
        WorkRecord {
            maintenance_level: MaintenanceLevel::Intermediate,
            ..work(ProviderKind::Contractor, WorkSource::Completed, fy27, 9_999, 1.0)
        },
        WorkRecord { department: None, ..work(ProviderKind::Contractor, WorkSource::Completed, fy27, 8_888, 1.0) },
    ];
    let baseline = vec![BaselineWork {
        department: Department::AirForce,
        fiscal_year: FiscalYear(2027),
        organic_cents: 200_000,
        contract_cents: 100_000,
        organic_hours: 20.0,
        contract_hours: 5.0,
    }];
    let b = department_balances(&records, &baseline, &BalanceConfig::default()).unwrap();
    assert_eq!(b.len(), 1);
    let b = &b[0];
    assert_eq!((b.department, b.fiscal_year), (Department::AirForce, FiscalYear(2027)));
    assert_eq!((b.actual.organic_cents, b.actual.contract_cents), (300_000, 100_000));
    assert_eq!((b.estimated.organic_cents, b.estimated.contract_cents), (50_000, 150_000));
    assert_eq!((b.proposed.organic_cents, b.proposed.contract_cents), (0, 400_000));
    assert_eq!((b.baseline.organic_cents, b.baseline.contract_cents), (200_000, 100_000));
    // Projected: organic 550,000, contract 350,000 -> 350/900 = 38.9 %.
    assert_eq!((b.projected.organic_cents, b.projected.contract_cents), (550_000, 350_000));
    assert!((b.contract_share.unwrap() - 350.0 / 900.0).abs() < 1e-12);
    assert_eq!(b.status, BalanceStatus::Ok);
    // Hours: organic 30+5+20 = 55, contract 10+20+5 = 35.
    assert_eq!((b.projected.organic_hours, b.projected.contract_hours), (55.0, 35.0));
    assert!((b.contract_share_hours.unwrap() - 35.0 / 90.0).abs() < 1e-12);

    // With the proposal: contract 750,000 of 1,300,000 = 57.7 % -> violation.
    let with = BalanceConfig { include_proposed: true, ..BalanceConfig::default() };
    let b = &department_balances(&records, &baseline, &with).unwrap()[0];
    assert_eq!(b.projected.contract_cents, 750_000);
    assert_eq!(b.status, BalanceStatus::Violation);
    assert_eq!(b.hours_status, BalanceStatus::Violation); // 75 of 130 hours
}

#[test]
fn work_is_counted_in_the_fiscal_year_of_its_date_per_department() {
    let records = vec![
        work(ProviderKind::Organic, WorkSource::Completed, date(2026, 9, 30), 100, 1.0),
        work(ProviderKind::Contractor, WorkSource::Completed, date(2026, 10, 1), 100, 1.0),
        WorkRecord {
            department: Some(Department::Navy),
            ..work(ProviderKind::Contractor, WorkSource::Completed, date(2026, 10, 1), 100, 1.0)
        },
    ];
    let b = department_balances(&records, &[], &BalanceConfig::default()).unwrap();
    let keys: Vec<_> = b.iter().map(|b| (b.department, b.fiscal_year, b.status)).collect();
    assert_eq!(
        keys,
        vec![
            (Department::Navy, FiscalYear(2027), BalanceStatus::Violation),
            (Department::AirForce, FiscalYear(2026), BalanceStatus::Ok),
            (Department::AirForce, FiscalYear(2027), BalanceStatus::Violation),
        ]
    );
    // The balance feeds allocation's 50/50 limit directly.
    let funds = FundsBalance::from(&b[2]);
    assert_eq!((funds.organic_cents, funds.contract_cents), (0, 100));
}

#[test]
fn partner_government_work_is_contract_unless_configured_organic() {
    let on = date(2027, 1, 10);
    let records = vec![
        work(ProviderKind::Organic, WorkSource::Completed, on, 5_500, 1.0),
        work(ProviderKind::PartnerGovernment, WorkSource::Completed, on, 4_500, 1.0),
    ];
    let b = &department_balances(&records, &[], &BalanceConfig::default()).unwrap()[0];
    assert_eq!(b.status, BalanceStatus::Warning);
    let cfg = BalanceConfig { partner_government_is_organic: true, ..BalanceConfig::default() };
    let b = &department_balances(&records, &[], &cfg).unwrap()[0];
    assert_eq!((b.projected.organic_cents, b.projected.contract_cents, b.status), (10_000, 0, BalanceStatus::Ok));
}

#[test]
fn utilization_is_work_over_offered_capacity_per_provider_and_period() {
    let offer = CapacityOffer {
        id: "OFF-1".into(),
        provider_id: "JPN-MHI-KOMAKI".into(),
        provider_kind: ProviderKind::Contractor,
        provider_nation: nation("JPN"),
        site: GeoPoint { lat: 35.25, lon: 136.92 },
        site_nation: None,
        capabilities: vec![],
        unit: CapacityUnit::LaborHours,
        periods: vec![
            CapacityPeriod { start: date(2026, 10, 1), end: date(2026, 10, 31), capacity: 200.0 },
            CapacityPeriod { start: date(2026, 11, 1), end: date(2026, 11, 30), capacity: 0.0 },
        ],
        lead_time_days: 0,
        rate_cents_per_unit: 0,
        authorizations: Default::default(),
    };
    let records = vec![
        work(ProviderKind::Contractor, WorkSource::Completed, date(2026, 10, 3), 1, 50.0),
        work(ProviderKind::Contractor, WorkSource::InProgress, date(2026, 10, 31), 1, 100.0),
        work(ProviderKind::Contractor, WorkSource::Proposed, date(2026, 10, 20), 1, 40.0),
        work(ProviderKind::Organic, WorkSource::Completed, date(2026, 10, 20), 1, 999.0),
    ];
    let u = provider_utilization(&[offer], &records, &BalanceConfig::default()).unwrap();
    assert_eq!(u.len(), 2);
    assert_eq!((u[0].offered, u[0].used, u[0].utilization), (200.0, 150.0, Some(0.75)));
    assert_eq!((u[1].offered, u[1].used, u[1].utilization), (0.0, 0.0, None));
}

#[test]
fn shares_by_nation_and_region_add_up_to_one() {
    let on = date(2027, 1, 10);
    let records = vec![
        work(ProviderKind::Organic, WorkSource::Completed, on, 600, 6.0),
        work(ProviderKind::Contractor, WorkSource::Accepted, on, 300, 3.0),
        work(ProviderKind::PartnerGovernment, WorkSource::InProgress, on, 100, 1.0),
        work(ProviderKind::Contractor, WorkSource::Proposed, on, 5_000, 50.0),
    ];
    let n = shares_by_nation(&records, &BalanceConfig::default()).unwrap();
    let got: Vec<(String, i64, Option<f64>)> =
        n.iter().map(|r| (r.key.to_string(), r.cents, r.share_of_cents)).collect();
    assert_eq!(
        got,
        vec![("AUS".into(), 100, Some(0.1)), ("JPN".into(), 300, Some(0.3)), ("USA".into(), 600, Some(0.6))]
    );
    let r = shares_by_region(&records, &BalanceConfig::default()).unwrap();
    assert_eq!(
        r.iter().map(|r| (r.key, r.cents)).collect::<Vec<_>>(),
        vec![(Region::Indopacom, 400), (Region::Northcom, 600)]
    );
    assert!((r.iter().filter_map(|r| r.share_of_hours).sum::<f64>() - 1.0).abs() < 1e-12);
}

#[test]
fn bad_balance_input_names_the_field() {
    let cfg = BalanceConfig { warning_threshold_bp: 10_001, ..BalanceConfig::default() };
    let e = department_balances(&[], &[], &cfg).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.starts_with("config.warning_threshold_bp:"), "{e}");
    let bad = work(ProviderKind::Organic, WorkSource::Completed, date(2027, 1, 1), -1, 1.0);
    let e =
        department_balances(&[bad], &[], &BalanceConfig::default()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.starts_with("work[0].cost_cents:"), "{e}");
}

/// 10 U.S.C. 2466 counts "funds made available in a fiscal year" (DESIGN §2,
/// workload balance): FY2027 funds for work done in October 2027 (FY2028 by
/// date) count in FY2027; work whose funds' year is unknown counts by its
/// date, and the balance says how much each rule attributed.
#[test]
fn work_counts_in_the_fiscal_year_of_its_funds_and_the_balance_says_which_rule_each_amount_used() {
    let october_2027 = date(2027, 10, 15); // FY2028 by date
    let fy27_funds = |r: WorkRecord| WorkRecord { funds_fiscal_year: Some(FiscalYear(2027)), ..r };
    let records = vec![
        fy27_funds(work(ProviderKind::Contractor, WorkSource::Completed, october_2027, 400_000, 40.0)),
        fy27_funds(work(ProviderKind::Organic, WorkSource::Accepted, date(2027, 3, 1), 100_000, 10.0)),
        // Funds' year unknown: the date (FY2028) decides.
        work(ProviderKind::Organic, WorkSource::Completed, october_2027, 700_000, 70.0),
        // FY2028 funds spent early (work dated in FY2027) still count in FY2028.
        WorkRecord {
            funds_fiscal_year: Some(FiscalYear(2028)),
            ..work(ProviderKind::Contractor, WorkSource::InProgress, date(2027, 9, 30), 50_000, 5.0)
        },
    ];
    let baseline = vec![BaselineWork {
        department: Department::AirForce,
        fiscal_year: FiscalYear(2027),
        organic_cents: 200_000,
        contract_cents: 0,
        organic_hours: 20.0,
        contract_hours: 0.0,
    }];
    let b = department_balances(&records, &baseline, &BalanceConfig::default()).unwrap();
    let years: Vec<FiscalYear> = b.iter().map(|b| b.fiscal_year).collect();
    assert_eq!(years, vec![FiscalYear(2027), FiscalYear(2028)]);
    let (fy27, fy28) = (&b[0], &b[1]);
    assert_eq!((fy27.projected.organic_cents, fy27.projected.contract_cents), (300_000, 400_000));
    assert_eq!((fy27.by_funds_year.organic_cents, fy27.by_funds_year.contract_cents), (100_000, 400_000));
    assert_eq!(fy27.by_work_date, Split::default());
    assert_eq!(fy27.status, BalanceStatus::Violation); // 400 / 700 > 50 %
    assert_eq!((fy28.by_funds_year.organic_cents, fy28.by_funds_year.contract_cents), (0, 50_000));
    assert_eq!((fy28.by_work_date.organic_cents, fy28.by_work_date.contract_cents), (700_000, 0));
    for d in &b {
        let mut sum = d.baseline;
        for part in [d.by_funds_year, d.by_work_date] {
            sum.organic_cents += part.organic_cents;
            sum.contract_cents += part.contract_cents;
            sum.organic_hours += part.organic_hours;
            sum.contract_hours += part.contract_hours;
        }
        assert_eq!(sum, d.projected, "by funds year + by work date + baseline = projected");
    }
    assert_eq!(
        cosx_allocation::attributed_fiscal_year(None, october_2027),
        (FiscalYear(2028), cosx_allocation::FiscalYearBasis::WorkDate)
    );
}

/// Shares by region and nation count where the MRO capacity is used — the
/// performing provider's site — not where the item is (DESIGN §2, balance
/// views; issue 18 item 2). A record carries only the site of the work.
#[test]
fn work_performed_at_ogden_on_an_item_located_in_japan_counts_for_the_us_and_northcom() {
    // An F-16C component at Misawa (Japan, INDOPACOM) sent to Ogden ALC (USA, NORTHCOM):
    // the adapter fills the site fields from the performing offer's site.
    let ogden = work(ProviderKind::Organic, WorkSource::InProgress, date(2027, 1, 10), 900, 9.0);
    assert_eq!((ogden.site_nation.as_str(), ogden.site_region), ("USA", Region::Northcom));
    let komaki = work(ProviderKind::Contractor, WorkSource::InProgress, date(2027, 1, 10), 100, 1.0);
    let n = shares_by_nation(&[ogden.clone(), komaki.clone()], &BalanceConfig::default()).unwrap();
    assert_eq!(
        n.iter().map(|r| (r.key.to_string(), r.cents)).collect::<Vec<_>>(),
        vec![("JPN".into(), 100), ("USA".into(), 900)]
    );
    let r = shares_by_region(&[ogden, komaki], &BalanceConfig::default()).unwrap();
    assert_eq!(
        r.iter().map(|r| (r.key, r.cents)).collect::<Vec<_>>(),
        vec![(Region::Indopacom, 100), (Region::Northcom, 900)]
    );
}

#[test]
fn by_month_follows_the_projected_exchange_work_through_the_year_and_sums_to_it() {
    let records = vec![
        work(ProviderKind::Organic, WorkSource::Completed, date(2026, 10, 3), 300_000, 30.0),
        work(ProviderKind::Contractor, WorkSource::Completed, date(2026, 10, 28), 100_000, 10.0),
        work(ProviderKind::Contractor, WorkSource::InProgress, date(2027, 2, 14), 150_000, 20.0),
        // Funds of FY2027 spent on work dated in FY2028: counted in FY2027, in its own month.
        WorkRecord {
            funds_fiscal_year: Some(FiscalYear(2027)),
            ..work(ProviderKind::Organic, WorkSource::Accepted, date(2027, 10, 9), 50_000, 5.0)
        },
        work(ProviderKind::Contractor, WorkSource::Proposed, date(2027, 2, 1), 400_000, 40.0),
    ];
    let baseline = vec![BaselineWork {
        department: Department::AirForce,
        fiscal_year: FiscalYear(2027),
        organic_cents: 200_000,
        contract_cents: 100_000,
        organic_hours: 20.0,
        contract_hours: 5.0,
    }];
    let months = |config: &BalanceConfig| {
        let b = department_balances(&records, &baseline, config).unwrap().remove(0);
        let mut sum = Split::default();
        for m in &b.by_month {
            sum.organic_cents += m.work.organic_cents;
            sum.contract_cents += m.work.contract_cents;
        }
        // The months hold the exchange work of the projection, never the baseline.
        assert_eq!(
            (sum.organic_cents + b.baseline.organic_cents, sum.contract_cents + b.baseline.contract_cents),
            (b.projected.organic_cents, b.projected.contract_cents)
        );
        b.by_month.iter().map(|m| (m.month, m.work.organic_cents, m.work.contract_cents)).collect::<Vec<_>>()
    };
    assert_eq!(
        months(&BalanceConfig::default()),
        vec![(date(2026, 10, 1), 300_000, 100_000), (date(2027, 2, 1), 0, 150_000), (date(2027, 10, 1), 50_000, 0),]
    );
    let b = department_balances(&records, &baseline, &BalanceConfig::default()).unwrap().remove(0);
    let cumulative: Vec<Option<f64>> = b.by_month.iter().map(|m| m.cumulative_contract_share).collect();
    assert_eq!(cumulative, [Some(0.25), Some(250_000.0 / 550_000.0), Some(250_000.0 / 600_000.0)]);
    // Proposed work joins its month only when the projection counts it.
    let with = BalanceConfig { include_proposed: true, ..BalanceConfig::default() };
    assert_eq!(months(&with)[1], (date(2027, 2, 1), 0, 550_000));
}
