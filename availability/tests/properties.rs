//! Properties that hold for every valid report: A_M and A_O lie in [0, 1];
//! after UPNR reconciliation available + not available == possible for the
//! TAI, the PMAI and each asset; and the same report in days or in hours
//! gives the same results in days.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use cosx_availability::*;
use proptest::prelude::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Splits `fill` × `possible` over the five categories in proportion to `weights`.
fn split(possible: f64, fill: f64, weights: [f64; 5]) -> CategoryTimes {
    let total: f64 = weights.iter().sum();
    let part = |w: f64| {
        if total > 0.0 { possible * fill * w / total } else { 0.0 }
    };
    CategoryTimes {
        available: part(weights[0]),
        nmcm: part(weights[1]),
        nmcs: part(weights[2]),
        depot: part(weights[3]),
        upnr: part(weights[4]),
    }
}

#[derive(Debug, Clone)]
struct AssetSpec {
    pmai: bool,
    share_of_month: f64,
    fill: f64,
    weights: [f64; 5],
}

fn asset_spec() -> impl Strategy<Value = AssetSpec> {
    (any::<bool>(), 0.0..=1.0f64, 0.0..=1.0f64, proptest::array::uniform5(0.0..=1.0f64))
        .prop_map(|(pmai, share_of_month, fill, weights)| AssetSpec { pmai, share_of_month, fill, weights })
}

/// An asset-level report in `unit`: the generated assets, plus `extra_tai`
/// unreported assets of which `extra_pmai` are PMAI.
fn asset_report(
    unit: TimeUnit,
    month: u32,
    specs: &[AssetSpec],
    extra_tai: u32,
    extra_pmai: u32,
    cents: i64,
) -> AvailabilityReport {
    let timeframe = Timeframe::month_of(NaiveDate::from_ymd_opt(2026, month, 1).unwrap()).unwrap();
    let length = f64::from(timeframe.day_count()) * unit.per_day();
    let assets: Vec<AssetReport> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let possible = length * s.share_of_month;
            AssetReport { serial: format!("SN{i}"), pmai: s.pmai, possible, time: split(possible, s.fill, s.weights) }
        })
        .collect();
    let reported = u32::try_from(specs.len()).unwrap();
    let reported_pmai = u32::try_from(specs.iter().filter(|s| s.pmai).count()).unwrap();
    AvailabilityReport {
        owner: "US-USA".into(),
        tms: "M1A2".into(),
        category: SystemCategory::GroundVehicle,
        timeframe,
        unit,
        inventory: Inventory {
            tai: Some(reported + extra_tai),
            pmai: Some(reported_pmai + extra_pmai.min(extra_tai)),
            ..Inventory::default()
        },
        detail: ReportDetail::Assets(assets),
        costs: vec![CostLine { element: "1.2".into(), cents }, CostLine { element: "3.3".into(), cents }],
        version: 1,
    }
}

fn fleet_report(
    unit: TimeUnit,
    tai: u32,
    pmai: u32,
    tai_fill: f64,
    tai_w: [f64; 5],
    pmai_share: f64,
) -> AvailabilityReport {
    let timeframe = Timeframe::month_of(NaiveDate::from_ymd_opt(2027, 2, 1).unwrap()).unwrap();
    let length = f64::from(timeframe.day_count()) * unit.per_day();
    let tai_time = split(f64::from(tai) * length, tai_fill, tai_w);
    // The PMAI's times are a share of the TAI's, scaled so they fit PMAI possible time.
    let scale = if tai > 0 { pmai_share * f64::from(pmai) / f64::from(tai) } else { 0.0 };
    let pmai_time = CategoryTimes {
        available: tai_time.available * scale,
        nmcm: tai_time.nmcm * scale,
        nmcs: tai_time.nmcs * scale,
        depot: tai_time.depot * scale,
        upnr: tai_time.upnr * scale,
    };
    AvailabilityReport {
        owner: "JPN-JMSDF".into(),
        tms: "DDG-173".into(),
        category: SystemCategory::Ship,
        timeframe,
        unit,
        inventory: Inventory { tai: Some(tai), pmai: Some(pmai), ..Inventory::default() },
        detail: ReportDetail::Fleet(FleetTimes { tai_time, pmai_time }),
        costs: vec![CostLine { element: "3.2".into(), cents: 12_345 }],
        version: 1,
    }
}

fn in_hours(report: &AvailabilityReport) -> AvailabilityReport {
    let h = |t: CategoryTimes| CategoryTimes {
        available: t.available * 24.0,
        nmcm: t.nmcm * 24.0,
        nmcs: t.nmcs * 24.0,
        depot: t.depot * 24.0,
        upnr: t.upnr * 24.0,
    };
    let mut out = report.clone();
    out.unit = TimeUnit::Hours;
    out.detail = match &report.detail {
        ReportDetail::Fleet(f) => {
            ReportDetail::Fleet(FleetTimes { tai_time: h(f.tai_time), pmai_time: h(f.pmai_time) })
        }
        ReportDetail::Assets(assets) => ReportDetail::Assets(
            assets.iter().map(|a| AssetReport { possible: a.possible * 24.0, time: h(a.time), ..a.clone() }).collect(),
        ),
    };
    out
}

fn balances(t: &TimeAccount) -> bool {
    close(t.available.get() + t.not_available().get(), t.possible.get())
}

fn in_unit_interval(x: Option<f64>) -> bool {
    x.is_none_or(|x| (0.0..=1.0).contains(&x))
}

fn same_account(a: &TimeAccount, b: &TimeAccount) -> bool {
    [
        (a.possible, b.possible),
        (a.available, b.available),
        (a.nmcm, b.nmcm),
        (a.nmcs, b.nmcs),
        (a.depot, b.depot),
        (a.upnr_reported, b.upnr_reported),
        (a.upnr_from_reconciliation(), b.upnr_from_reconciliation()),
    ]
    .iter()
    .all(|(x, y)| close(x.get(), y.get()))
}

fn same_option(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => close(a, b),
        (None, None) => true,
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn asset_reports_balance_stay_in_range_and_agree_in_days_and_hours(
        specs in proptest::collection::vec(asset_spec(), 0..8),
        extra_tai in 0u32..3,
        extra_pmai in 0u32..3,
        month in 1u32..=12,
        cents in 0i64..1_000_000_000,
    ) {
        let days = asset_report(TimeUnit::Days, month, &specs, extra_tai, extra_pmai, cents);
        let a = assess(&days).unwrap();
        prop_assert!(in_unit_interval(a.a_m), "A_M {:?}", a.a_m);
        prop_assert!(in_unit_interval(a.a_o), "A_O {:?}", a.a_o);
        prop_assert!(balances(&a.tai_time), "{:?}", a.tai_time);
        prop_assert!(balances(&a.pmai_time), "{:?}", a.pmai_time);
        for asset in &a.assets {
            prop_assert!(balances(&asset.time), "{:?}", asset);
        }
        prop_assert_eq!(a.costs.cda_cents, cents);

        let h = assess(&in_hours(&days)).unwrap();
        prop_assert!(same_account(&a.tai_time, &h.tai_time));
        prop_assert!(same_account(&a.pmai_time, &h.pmai_time));
        prop_assert!(same_option(a.a_m, h.a_m));
        prop_assert!(same_option(a.a_o, h.a_o));
        prop_assert!(same_option(a.cost_per_day_of_availability, h.cost_per_day_of_availability));
    }

    #[test]
    fn fleet_reports_balance_stay_in_range_and_agree_in_days_and_hours(
        tai in 0u32..40,
        pmai_share_of_tai in 0.0..=1.0f64,
        fill in 0.0..=1.0f64,
        weights in proptest::array::uniform5(0.0..=1.0f64),
        pmai_share in 0.0..=1.0f64,
    ) {
        let pmai = (f64::from(tai) * pmai_share_of_tai).floor() as u32;
        let days = fleet_report(TimeUnit::Days, tai, pmai, fill, weights, pmai_share);
        let a = assess(&days).unwrap();
        prop_assert!(in_unit_interval(a.a_m));
        prop_assert!(in_unit_interval(a.a_o));
        prop_assert!(balances(&a.tai_time));
        prop_assert!(balances(&a.pmai_time));
        let h = assess(&in_hours(&days)).unwrap();
        prop_assert!(same_account(&a.tai_time, &h.tai_time));
        prop_assert!(same_account(&a.pmai_time, &h.pmai_time));
        prop_assert!(same_option(a.a_m, h.a_m));
        prop_assert!(same_option(a.a_o, h.a_o));
    }

    #[test]
    fn roll_ups_and_rolling_averages_stay_in_range(
        specs in proptest::collection::vec(asset_spec(), 1..6),
        extra in 0u32..3,
    ) {
        let assessments: Vec<ReportAssessment> =
            (1..=6).map(|m| assess(&asset_report(TimeUnit::Hours, m, &specs, extra, extra, 100)).unwrap()).collect();
        let rolling = latest_six_month_rolling(&assessments).unwrap().unwrap();
        prop_assert!(in_unit_interval(rolling.a_m) && in_unit_interval(rolling.a_o));
        prop_assert!(balances(&rolling.tai_time));
        for r in roll_up(&assessments, |a| a.owner.clone()).unwrap() {
            prop_assert!(in_unit_interval(r.a_m) && in_unit_interval(r.a_o));
            prop_assert!(balances(&r.tai_time) && balances(&r.pmai_time));
        }
    }
}
