//! Worked examples computed by hand from the definitions of DoDI 3110.05,
//! in days and in hours: A_M, A_O, C/DA, UPNR reconciliation, validation,
//! corrections, roll-ups, fiscal years and both flags at their boundaries.
#![allow(clippy::unwrap_used, clippy::float_cmp)]

use chrono::NaiveDate;
use cosx_availability::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn month(y: i32, m: u32) -> Timeframe {
    Timeframe::month_of(d(y, m, 1)).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn times(available: f64, nmcm: f64, nmcs: f64, depot: f64, upnr: f64) -> CategoryTimes {
    CategoryTimes { available, nmcm, nmcs, depot, upnr }
}

fn cost(element: &str, cents: i64) -> CostLine {
    CostLine { element: element.to_string(), cents }
}

fn scaled(t: CategoryTimes, by: f64) -> CategoryTimes {
    times(t.available * by, t.nmcm * by, t.nmcs * by, t.depot * by, t.upnr * by)
}

/// F-16C, April 2026 (30 days): TAI 12 (PAI 10, BAI 1, PWR 0, AR 1), PMAI 8.
fn f16_april(unit: TimeUnit) -> AvailabilityReport {
    let per = unit.per_day();
    AvailabilityReport {
        owner: "US-USAF".into(),
        tms: "F-16C".into(),
        category: SystemCategory::Aircraft,
        timeframe: month(2026, 4),
        unit,
        inventory: Inventory {
            tai: Some(12),
            pai: Some(10),
            bai: Some(1),
            pwr: Some(0),
            ar: Some(1),
            pmai: Some(8),
            ..Inventory::default()
        },
        detail: ReportDetail::Fleet(FleetTimes {
            tai_time: scaled(times(270.0, 30.0, 20.0, 25.0, 5.0), per),
            pmai_time: scaled(times(192.0, 20.0, 10.0, 10.0, 0.0), per),
        }),
        costs: vec![cost("1.2", 1_000_000), cost("3.1", 500_000), cost("3.2", 420_000), cost("3.4", 9_000_000)],
        version: 1,
    }
}

#[test]
fn fleet_report_in_days_gives_a_m_a_o_and_cda_by_the_definitions() {
    let a = assess(&f16_april(TimeUnit::Days)).unwrap();
    // Possible = TAI × days in T_F = 12 × 30; PMAI 8 × 30.
    assert_eq!(a.tai_time.possible.get(), 360.0);
    assert_eq!(a.pmai_time.possible.get(), 240.0);
    // 270 + 30 + 20 + 25 + 5 = 350 reported, so 10 days of UPNR are reconciled.
    assert_eq!(a.tai_time.upnr_unaccounted.get(), 10.0);
    assert_eq!(a.tai_time.upnr_missing_assets.get(), 0.0);
    assert_eq!(a.tai_time.upnr().get(), 15.0);
    assert_eq!(a.tai_time.not_available().get(), 90.0);
    assert_eq!(a.pmai_time.upnr_unaccounted.get(), 8.0);
    assert_eq!(a.a_m, Some(0.75)); // 270 / 360
    assert_eq!(a.a_o, Some(0.8)); // 192 / 240
    // C/DA: (1.2 + 3.1 + 3.2) = 1,920,000 cents over 192 PMAI available days; 3.4 excluded.
    assert_eq!(a.costs.cda_cents, 1_920_000);
    assert_eq!(a.costs.excluded_cents, 9_000_000);
    assert_eq!(a.cost_per_day_of_availability, Some(10_000.0));
    assert_eq!((a.tai, a.pmai, a.timeframe_days), (12, 8, 30));
}

#[test]
fn the_same_fleet_report_in_hours_gives_the_same_results_in_days() {
    let days = assess(&f16_april(TimeUnit::Days)).unwrap();
    let hours = assess(&f16_april(TimeUnit::Hours)).unwrap();
    assert_eq!(hours.reported_unit, TimeUnit::Hours);
    assert_eq!(hours.tai_time, days.tai_time);
    assert_eq!(hours.pmai_time, days.pmai_time);
    assert_eq!((hours.a_m, hours.a_o), (days.a_m, days.a_o));
    assert_eq!(hours.cost_per_day_of_availability, days.cost_per_day_of_availability);
}

/// C-130J, March 2026 (31 days = 744 hours), reported per asset in hours.
/// Inventory says TAI 4, PMAI 3, but only three assets are reported, one of
/// them (A3) for half the month.
fn c130_march_by_asset() -> AvailabilityReport {
    let asset = |serial: &str, pmai: bool, possible: f64, time: CategoryTimes| AssetReport {
        serial: serial.into(),
        pmai,
        possible,
        time,
    };
    AvailabilityReport {
        owner: "AUS-RAAF".into(),
        tms: "C-130J".into(),
        category: SystemCategory::Aircraft,
        timeframe: month(2026, 3),
        unit: TimeUnit::Hours,
        inventory: Inventory { tai: Some(4), pmai: Some(3), ..Inventory::default() },
        detail: ReportDetail::Assets(vec![
            asset("A1", true, 744.0, times(600.0, 100.0, 44.0, 0.0, 0.0)),
            asset("A2", true, 744.0, times(500.0, 0.0, 0.0, 0.0, 20.0)),
            asset("A3", false, 372.0, times(300.0, 0.0, 0.0, 48.0, 0.0)),
        ]),
        costs: vec![cost("3.2", 930_000), cost("4.4", 55)],
        version: 1,
    }
}

#[test]
fn asset_level_report_in_hours_reconciles_unaccounted_and_missing_time_as_upnr() {
    let a = assess(&c130_march_by_asset()).unwrap();
    let h = |hours: f64| hours / 24.0;
    // TAI possible: 4 × 31 days = 2976 h. Reported assets cover 1860 h.
    assert_eq!(a.tai_time.possible.get(), 124.0);
    assert!(close(a.tai_time.upnr_missing_assets.get(), h(2976.0 - 1860.0))); // 46.5 days
    // Unaccounted: A2 744 - 520 = 224 h, A3 372 - 348 = 24 h.
    assert!(close(a.tai_time.upnr_unaccounted.get(), h(248.0)));
    assert!(close(a.tai_time.upnr_reported.get(), h(20.0)));
    assert!(close(a.tai_time.upnr_from_reconciliation().get(), h(248.0 + 1116.0)));
    assert!(close(a.tai_time.available.get(), h(1400.0)));
    assert!(close(a.a_m.unwrap(), 1400.0 / 2976.0));
    // PMAI: 3 × 744 = 2232 h possible, A1 + A2 cover 1488 h, 1100 h available.
    assert_eq!(a.pmai_time.possible.get(), 93.0);
    assert!(close(a.pmai_time.upnr_missing_assets.get(), h(744.0)));
    assert!(close(a.pmai_time.upnr_unaccounted.get(), h(224.0)));
    assert!(close(a.a_o.unwrap(), 1100.0 / 2232.0));
    // C/DA: 930,000 cents (3.2 only; 4.4 excluded) / (1100/24) days.
    assert_eq!(a.costs.cda_cents, 930_000);
    assert_eq!(a.costs.excluded_cents, 55);
    assert!(close(a.cost_per_day_of_availability.unwrap(), 930_000.0 * 24.0 / 1100.0));
    // Available + not available == possible, for the fleet and each asset.
    for t in [&a.tai_time, &a.pmai_time] {
        assert!(close(t.available.get() + t.not_available().get(), t.possible.get()));
    }
    for asset in &a.assets {
        let t = &asset.time;
        assert!(close(t.available.get() + t.not_available().get(), t.possible.get()));
    }
    let a2 = &a.assets[1];
    assert_eq!(a2.serial, "A2");
    assert_eq!(a2.time.possible.get(), 31.0);
    assert!(close(a2.time.upnr().get(), h(244.0)));
}

#[test]
fn asset_level_report_in_days_matches_the_hours_report() {
    let hours = c130_march_by_asset();
    let mut days = hours.clone();
    days.unit = TimeUnit::Days;
    if let ReportDetail::Assets(assets) = &mut days.detail {
        for asset in assets {
            asset.possible /= 24.0;
            asset.time = scaled(asset.time, 1.0 / 24.0);
        }
    }
    let (h, d) = (assess(&hours).unwrap(), assess(&days).unwrap());
    assert!(close(h.a_m.unwrap(), d.a_m.unwrap()));
    assert!(close(h.a_o.unwrap(), d.a_o.unwrap()));
    assert!(close(h.tai_time.upnr().get(), d.tai_time.upnr().get()));
    assert!(close(h.cost_per_day_of_availability.unwrap(), d.cost_per_day_of_availability.unwrap()));
}

#[test]
fn serials_in_the_authoritative_inventory_but_not_reported_are_named() {
    let report = c130_march_by_asset();
    let authoritative: Vec<String> = ["A1", "A2", "A3", "A4"].map(String::from).to_vec();
    assert_eq!(missing_serials(&report, &authoritative), ["A4"]);
}

fn violations(report: &AvailabilityReport) -> Vec<String> {
    match report.validate() {
        Err(AvailabilityError::Invalid(v)) => v.into_iter().map(|f| f.field).collect(),
        other => panic!("expected violations, got {other:?}"),
    }
}

#[test]
fn validation_returns_every_bad_field_of_an_asset_report() {
    let mut r = c130_march_by_asset();
    if let ReportDetail::Assets(assets) = &mut r.detail {
        assets[0].possible = 745.0; // more than the 744 h of March
        assets[1].time.nmcm = -1.0;
        assets[2].time.depot = f64::NAN;
        let mut dup = assets[0].clone();
        dup.possible = 100.0;
        dup.time = times(50.0, 60.0, 0.0, 0.0, 0.0); // 110 > 100
        assets.push(dup);
    }
    r.costs.push(cost("3.1", -5));
    assert_eq!(
        violations(&r),
        [
            "assets[0].possible",
            "assets[1].time.nmcm",
            "assets[2].time.depot",
            "assets[3].serial",
            "assets[3].time",
            "costs[2].cents",
        ]
    );
}

#[test]
fn validation_refuses_fleet_times_beyond_possible_time() {
    let mut r = f16_april(TimeUnit::Days);
    if let ReportDetail::Fleet(f) = &mut r.detail {
        f.tai_time.available = 361.0; // possible is 360
        f.pmai_time.nmcs = f64::INFINITY;
    }
    assert_eq!(violations(&r), ["tai_time.available", "tai_time", "pmai_time.nmcs"]);
}

#[test]
fn validation_allows_float_rounding_at_exactly_possible_time() {
    let mut r = f16_april(TimeUnit::Days);
    if let ReportDetail::Fleet(f) = &mut r.detail {
        // Decimal figures that fill the 360 days exactly sum to 360 + 1 ulp in floats.
        f.tai_time = times(300.3, 59.6, 0.1, 0.0, 0.0);
        f.pmai_time = times(192.0, 48.0, 0.0, 0.0, 0.0);
    }
    let (available, nmcm, nmcs) = (300.3, 59.6, 0.1);
    assert!(available + nmcm + nmcs > 360.0);
    assert!(r.validate().is_ok());
    let a = assess(&r).unwrap();
    assert_eq!(a.tai_time.upnr_unaccounted.get(), 0.0);
}

#[test]
fn validation_names_broken_inventory_identities_and_missing_counts() {
    let mut r = f16_april(TimeUnit::Days);
    r.inventory.tai = Some(13);
    assert_eq!(violations(&r), ["inventory.tai"]);
    r.inventory = Inventory { pai: Some(10), ..Inventory::default() };
    assert_eq!(violations(&r), ["inventory.tai", "inventory.pmai"]);
}

#[test]
fn more_reported_assets_than_the_inventory_holds_is_refused() {
    let mut r = c130_march_by_asset();
    r.inventory = Inventory { tai: Some(2), pmai: Some(2), ..Inventory::default() }; // 1488 h < 1860 h reported
    assert_eq!(violations(&r), ["assets"]);
}

#[test]
fn zero_possible_time_gives_no_ratio_rather_than_nan() {
    let mut r = f16_april(TimeUnit::Days);
    r.inventory = Inventory { tai: Some(0), pmai: Some(0), ..Inventory::default() };
    r.detail = ReportDetail::Fleet(FleetTimes::default());
    let a = assess(&r).unwrap();
    assert_eq!((a.a_m, a.a_o, a.cost_per_day_of_availability), (None, None, None));
}

#[test]
fn the_newest_version_of_a_report_counts() {
    let v1 = f16_april(TimeUnit::Days);
    let mut v3 = v1.clone();
    v3.version = 3;
    let mut v2 = v1.clone();
    v2.version = 2;
    let mut other_owner = v1.clone();
    other_owner.owner = "US-ANG".into();
    let reports = [v1.clone(), v3, v2, other_owner];
    let effective = effective_reports(&reports).unwrap();
    let picked: Vec<(&str, i64)> = effective.iter().map(|r| (r.owner.as_str(), r.version)).collect();
    assert_eq!(picked, [("US-ANG", 1), ("US-USAF", 3)]);

    let err = effective_reports(&[v1.clone(), v1]).unwrap_err();
    assert!(matches!(&err, AvailabilityError::Invalid(v) if v[0].field == "reports[1].version"));
}

#[test]
fn roll_ups_sum_times_and_do_not_average_ratios() {
    // Owner A: 10 aircraft, all available all month. Owner B: 30, half available.
    let fleet = |owner: &str, tai: u32, available: f64| AvailabilityReport {
        owner: owner.into(),
        inventory: Inventory { tai: Some(tai), pmai: Some(tai), ..Inventory::default() },
        detail: ReportDetail::Fleet(FleetTimes {
            tai_time: times(available, 0.0, 0.0, 0.0, 0.0),
            pmai_time: times(available, 0.0, 0.0, 0.0, 0.0),
        }),
        costs: vec![cost("3.1", 1_000)],
        ..f16_april(TimeUnit::Days)
    };
    let assessments: Vec<ReportAssessment> =
        [fleet("JPN-JASDF", 10, 300.0), fleet("KOR-ROKAF", 30, 450.0)].iter().map(|r| assess(r).unwrap()).collect();
    // A_M of the group: (300 + 450) / (300 + 900) = 0.625, not (1.0 + 0.5) / 2.
    let by_region = roll_up(&assessments, |_| "INDOPACOM").unwrap();
    assert_eq!(by_region.len(), 1);
    assert_eq!(by_region[0].a_m, Some(0.625));
    assert_eq!(by_region[0].tai_inventory, 40);
    assert_eq!(by_region[0].costs.cda_cents, 2_000);
    assert_eq!(by_region[0].cost_per_day_of_availability, Some(2_000.0 / 750.0));
    let by_nation = roll_up(&assessments, |a| a.owner[..3].to_string()).unwrap();
    assert_eq!(by_nation.iter().map(|r| r.a_m).collect::<Vec<_>>(), [Some(1.0), Some(0.5)]);

    let per_tms = by_tms_and_timeframe(&assessments).unwrap();
    let rows = export::tms_rows(&per_tms);
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].tms.as_str(), rows[0].tai_possible_days, rows[0].a_m), ("F-16C", 1200.0, Some(0.625)));
}

#[test]
fn export_rows_carry_per_asset_inputs_and_cost_elements() {
    let a = assess(&c130_march_by_asset()).unwrap();
    let rows = export::asset_rows(&a);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2].serial, "A3");
    assert_eq!(rows[2].possible_days, 15.5);
    assert_eq!(rows[2].depot_days, 2.0);
    assert_eq!(rows[2].upnr_reconciled_days, 1.0);
    let costs = export::cost_rows(&a);
    let flags: Vec<(&str, bool)> = costs.iter().map(|c| (c.element.as_str(), c.counts_toward_cda)).collect();
    assert_eq!(flags, [("3.2", true), ("4.4", false)]);
}

// ---- Fiscal years and C/DA ----

/// A fleet report with `cda_cents` of element 3.1 and `available` PMAI days.
fn costed(timeframe: Timeframe, pmai: u32, cda_cents: i64, available: f64) -> ReportAssessment {
    let r = AvailabilityReport {
        timeframe,
        inventory: Inventory { tai: Some(pmai), pmai: Some(pmai), ..Inventory::default() },
        detail: ReportDetail::Fleet(FleetTimes {
            tai_time: times(available, 0.0, 0.0, 0.0, 0.0),
            pmai_time: times(available, 0.0, 0.0, 0.0, 0.0),
        }),
        costs: vec![cost("3.1", cda_cents), cost("5.1", 99)],
        ..f16_april(TimeUnit::Days)
    };
    assess(&r).unwrap()
}

#[test]
fn cda_is_totalled_per_fiscal_year_from_quarterly_reports() {
    let q = |first: NaiveDate, last: NaiveDate| Timeframe::new(first, last).unwrap();
    let assessments = [
        costed(q(d(2026, 7, 1), d(2026, 9, 30)), 10, 400_000, 100.0), // FY2026 Q4
        costed(q(d(2026, 10, 1), d(2026, 12, 31)), 10, 300_000, 200.0), // FY2027 Q1
        costed(q(d(2027, 1, 1), d(2027, 3, 31)), 10, 500_000, 200.0), // FY2027 Q2
    ];
    let by_fy = cda_by_fiscal_year(&assessments).unwrap();
    assert_eq!(by_fy.len(), 2);
    assert_eq!(by_fy[0].fiscal_year, FiscalYear(2026));
    assert_eq!(by_fy[0].cost_per_day_of_availability, Some(4_000.0));
    assert_eq!(by_fy[1].fiscal_year, FiscalYear(2027));
    assert_eq!((by_fy[1].cda_cents, by_fy[1].excluded_cents), (800_000, 198));
    assert_eq!(by_fy[1].cost_per_day_of_availability, Some(2_000.0)); // 800,000 / 400

    let straddling = [costed(q(d(2026, 9, 1), d(2026, 10, 31)), 10, 1, 1.0)];
    assert!(matches!(
        cda_by_fiscal_year(&straddling),
        Err(AvailabilityError::Invalid(v)) if v[0].field == "assessments[0].timeframe"
    ));
}

/// One year of C/DA per FY: `cents` over 100 PMAI available days in October.
fn fy_series(cents_by_year: &[(i32, i64)], pmai: u32) -> Vec<FiscalYearCda> {
    let assessments: Vec<ReportAssessment> =
        cents_by_year.iter().map(|&(fy, cents)| costed(month(fy - 1, 10), pmai, cents, 100.0)).collect();
    cda_by_fiscal_year(&assessments).unwrap()
}

#[test]
fn excessive_cda_fires_when_each_of_the_three_previous_years_grew_more_than_ten_percent() {
    // C/DA 1000, 1110 (+11 %), 1233 (+11.08 %), 1370 (+11.11 %) cents/day in FY2022..FY2025.
    let series = fy_series(&[(2022, 100_000), (2023, 111_000), (2024, 123_300), (2025, 137_000)], 10);
    let flag = excessive_cda(SystemCategory::Aircraft, 10, &series, FiscalYear(2026));
    assert!(flag.fires);
    let judged: Vec<i32> = flag.years.iter().map(|y| y.fiscal_year.year()).collect();
    assert_eq!(judged, [2023, 2024, 2025]);
    assert!(close(flag.years[0].growth.unwrap(), 0.11));
}

#[test]
fn excessive_cda_does_not_fire_on_exactly_ten_percent() {
    // 1000 → 1200 → 1320 (exactly +10 %) → 1600.
    let series = fy_series(&[(2022, 100_000), (2023, 120_000), (2024, 132_000), (2025, 160_000)], 10);
    let flag = excessive_cda(SystemCategory::Aircraft, 10, &series, FiscalYear(2026));
    assert!(!flag.fires);
    assert!(!flag.years[1].more_than_ten_percent);
    assert!(flag.years[0].more_than_ten_percent && flag.years[2].more_than_ten_percent);
    // Every year exactly +10 %: 1000, 1100, 1210, 1331.
    let series = fy_series(&[(2022, 100_000), (2023, 110_000), (2024, 121_000), (2025, 133_100)], 10);
    assert!(!excessive_cda(SystemCategory::Aircraft, 10, &series, FiscalYear(2026)).fires);
}

#[test]
fn excessive_cda_needs_four_years_of_data_and_the_pmai_threshold() {
    let series = fy_series(&[(2022, 100_000), (2023, 120_000), (2024, 150_000), (2025, 190_000)], 10);
    assert!(!excessive_cda(SystemCategory::Aircraft, 10, &series[1..], FiscalYear(2026)).fires);
    for (category, at) in [
        (SystemCategory::Aircraft, 10),
        (SystemCategory::Ship, 5),
        (SystemCategory::Submarine, 5),
        (SystemCategory::GroundVehicle, 50),
    ] {
        assert!(excessive_cda(category, at, &series, FiscalYear(2026)).fires, "{category:?} at {at}");
        assert!(!excessive_cda(category, at - 1, &series, FiscalYear(2026)).fires, "{category:?} at {}", at - 1);
    }
}

// ---- Six-month rolling average and high non-availability ----

/// Monthly fleet reports, `tai` assets, each month available `fraction` of possible.
fn months(category: SystemCategory, tai: u32, fraction: f64, unit: TimeUnit) -> Vec<ReportAssessment> {
    (1..=6)
        .map(|m| {
            let timeframe = month(2026, m);
            let possible = f64::from(tai * timeframe.day_count()) * unit.per_day();
            let t = times(possible * fraction, possible * (1.0 - fraction), 0.0, 0.0, 0.0);
            let r = AvailabilityReport {
                category,
                timeframe,
                unit,
                inventory: Inventory { tai: Some(tai), pmai: Some(tai), ..Inventory::default() },
                detail: ReportDetail::Fleet(FleetTimes { tai_time: t, pmai_time: t }),
                costs: vec![],
                ..f16_april(unit)
            };
            assess(&r).unwrap()
        })
        .collect()
}

fn target(a_m: f64, a_o: f64) -> Target {
    Target { owner: "US-USAF".into(), tms: "F-16C".into(), a_m: Some(a_m), a_o: Some(a_o) }
}

#[test]
fn rolling_average_is_time_weighted_over_six_calendar_months() {
    // Jan: 10 aircraft × 31 days all available; Feb: 30 × 28, none available.
    let mut series = months(SystemCategory::Aircraft, 10, 1.0, TimeUnit::Days);
    series.truncate(1);
    let feb = months(SystemCategory::Aircraft, 30, 0.0, TimeUnit::Days).remove(1);
    series.push(feb);
    let rolling = six_month_rolling(&series, d(2026, 2, 14)).unwrap();
    assert_eq!(rolling.window, Timeframe::new(d(2025, 9, 1), d(2026, 2, 28)).unwrap());
    assert_eq!(rolling.a_m, Some(310.0 / (310.0 + 840.0)));
    assert_eq!((rolling.months_with_data, rolling.latest_tai), (2, 30));
    // Six months later January has left the window: only Feb..Jul count.
    let later = six_month_rolling(&series, d(2026, 7, 31)).unwrap();
    assert_eq!((later.reports, later.a_m), (1, Some(0.0)));
}

#[test]
fn high_non_availability_fires_exactly_at_twenty_five_percent_below_target() {
    for unit in [TimeUnit::Days, TimeUnit::Hours] {
        // Target 0.80; 25 % below it is 0.60.
        let at = months(SystemCategory::Aircraft, 10, 0.6, unit);
        let rolling = latest_six_month_rolling(&at).unwrap().unwrap();
        assert_eq!(rolling.months_with_data, 6);
        assert!(close(rolling.a_m.unwrap(), 0.6));
        let flag = high_non_availability(SystemCategory::Aircraft, &rolling, &target(0.8, 0.8));
        assert!(flag.a_m.fires && flag.a_o.fires && flag.fires(), "{unit:?}");

        let above = months(SystemCategory::Aircraft, 10, 0.6001, unit);
        let rolling = latest_six_month_rolling(&above).unwrap().unwrap();
        assert!(!high_non_availability(SystemCategory::Aircraft, &rolling, &target(0.8, 0.8)).fires());
    }
}

#[test]
fn high_non_availability_judges_a_m_and_a_o_against_their_own_targets() {
    let series = months(SystemCategory::Aircraft, 10, 0.6, TimeUnit::Days);
    let rolling = latest_six_month_rolling(&series).unwrap().unwrap();
    let flag = high_non_availability(SystemCategory::Aircraft, &rolling, &target(0.8, 0.7));
    assert!(flag.a_m.fires);
    assert!(!flag.a_o.fires); // 0.6 > 0.7 × 0.75 = 0.525
    let no_target = Target { a_m: None, a_o: None, ..target(0.8, 0.8) };
    assert!(!high_non_availability(SystemCategory::Aircraft, &rolling, &no_target).fires());
}

#[test]
fn high_non_availability_needs_the_inventory_threshold() {
    for (category, at) in [
        (SystemCategory::Aircraft, 10),
        (SystemCategory::Ship, 5),
        (SystemCategory::Submarine, 5),
        (SystemCategory::GroundVehicle, 50),
    ] {
        for (tai, fires) in [(at, true), (at - 1, false)] {
            let series = months(category, tai, 0.5, TimeUnit::Days);
            let rolling = latest_six_month_rolling(&series).unwrap().unwrap();
            let flag = high_non_availability(category, &rolling, &target(0.8, 0.8));
            assert_eq!(flag.fires(), fires, "{category:?} with TAI {tai}");
            assert_eq!(flag.a_m.threshold, at);
        }
    }
}

#[test]
fn targets_are_fractions_and_found_per_owner_and_tms() {
    assert!(target(0.8, 0.7).validate().is_ok());
    let bad = Target { a_m: Some(80.0), a_o: Some(0.0), ..target(0.8, 0.7) };
    assert!(matches!(bad.validate(), Err(AvailabilityError::Invalid(v)) if v.len() == 2 && v[0].field == "a_m"));
    let targets = [target(0.8, 0.7), Target { tms: "DDG-51".into(), ..target(0.6, 0.5) }];
    assert_eq!(find_target(&targets, "US-USAF", "DDG-51").and_then(|t| t.a_m), Some(0.6));
    assert!(find_target(&targets, "US-USN", "DDG-51").is_none());
}
