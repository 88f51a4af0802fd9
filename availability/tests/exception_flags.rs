//! The two exception flags of DoDI 3110.05 para 2.2.d
//! (shared/reference/dodi-3110-05-excerpts.md) for every reporting cadence
//! a Service uses — monthly (A_M, A_O, Table 1), quarterly (C/DA, Table 1)
//! and once a year — and the excessive C/DA review year.
#![allow(clippy::unwrap_used)]

use chrono::{Months, NaiveDate};
use cosx_availability::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[derive(Debug, Clone, Copy)]
enum Cadence {
    Monthly,
    Quarterly,
    Annual,
}

const CADENCES: [Cadence; 3] = [Cadence::Monthly, Cadence::Quarterly, Cadence::Annual];

/// The timeframes a Service reporting at `cadence` sends for fiscal year `fy`.
fn timeframes(cadence: Cadence, fy: FiscalYear) -> Vec<Timeframe> {
    let start = fy.first_day().unwrap();
    let span = |months: u32, k: u32| {
        let first = start.checked_add_months(Months::new(months * k)).unwrap();
        let last = first.checked_add_months(Months::new(months)).unwrap().pred_opt().unwrap();
        Timeframe::new(first, last).unwrap()
    };
    match cadence {
        Cadence::Monthly => (0..12).map(|k| span(1, k)).collect(),
        Cadence::Quarterly => (0..4).map(|k| span(3, k)).collect(),
        Cadence::Annual => vec![fiscal::timeframe(fy).unwrap()],
    }
}

/// A fleet-level report in days: `tai` assets of which `pmai` in the PMAI,
/// `available` of possible time available, and C/DA cost (element 3.1) worth
/// `cda_per_day` cents per PMAI available day.
struct Fleet {
    owner: &'static str,
    category: SystemCategory,
    tai: u32,
    pmai: u32,
    available: f64,
}

impl Fleet {
    fn aircraft(tai: u32, pmai: u32) -> Fleet {
        Fleet { owner: "US-USAF", category: SystemCategory::Aircraft, tai, pmai, available: 1.0 }
    }

    fn report(&self, timeframe: Timeframe, cda_per_day: f64) -> ReportAssessment {
        let days = f64::from(timeframe.day_count());
        let split = |n: u32| {
            let possible = f64::from(n) * days;
            CategoryTimes {
                available: possible * self.available,
                nmcm: possible * (1.0 - self.available),
                ..CategoryTimes::default()
            }
        };
        let pmai_available = f64::from(self.pmai) * days * self.available;
        let report = AvailabilityReport {
            owner: self.owner.into(),
            tms: "F-16C".into(),
            category: self.category,
            timeframe,
            unit: TimeUnit::Days,
            inventory: Inventory { tai: Some(self.tai), pmai: Some(self.pmai), ..Inventory::default() },
            detail: ReportDetail::Fleet(FleetTimes { tai_time: split(self.tai), pmai_time: split(self.pmai) }),
            costs: vec![CostLine { element: "3.1".into(), cents: (cda_per_day * pmai_available).round() as i64 }],
            version: 1,
        };
        assess(&report).unwrap()
    }

    /// Every report of `cadence` over the given fiscal years, each year at its own C/DA.
    fn years(&self, cadence: Cadence, cda_by_year: &[(i32, f64)]) -> Vec<ReportAssessment> {
        cda_by_year
            .iter()
            .flat_map(|&(fy, cda)| timeframes(cadence, FiscalYear(fy)).into_iter().map(move |tf| self.report(tf, cda)))
            .collect()
    }
}

/// C/DA of FY2024..FY2027 growing 12 %, 12.5 % and 12.7 %: more than 10 % in each year.
const GROWING: [(i32, f64); 4] = [(2024, 1000.0), (2025, 1120.0), (2026, 1260.0), (2027, 1420.0)];

// ---- The fleet size the thresholds are judged on (para 2.2.d.(1)(a), (2)(a)) ----

/// "TAI or PMAI is 10 or greater for an aircraft": a fleet of 12 aircraft
/// (PMAI 10) is a fleet of 12 whether its Service reports monthly,
/// quarterly or once a year.
#[test]
fn the_fleet_size_is_the_same_for_monthly_quarterly_and_annual_reporting() {
    for cadence in CADENCES {
        let reports = Fleet::aircraft(12, 10).years(cadence, &GROWING);
        let rolling = latest_six_month_rolling(&reports).unwrap().unwrap();
        assert_eq!(rolling.latest_month, Timeframe::month_of(d(2027, 9, 1)).unwrap(), "{cadence:?}");
        assert_eq!((rolling.latest_tai, rolling.latest_pmai), (12, 10), "{cadence:?}");
        let from = &rolling.inventory_from;
        assert_eq!(from.len(), 1, "{cadence:?}");
        assert_eq!(from[0].timeframe, *timeframes(cadence, FiscalYear(2027)).last().unwrap(), "{cadence:?}");
    }
}

/// The size is a count of assets: a Service that sends a monthly report and
/// a quarterly one covering the same month has 12 aircraft, not 24; the
/// monthly report, which covers the month most closely, gives the count.
#[test]
fn a_fleet_reported_both_monthly_and_quarterly_is_counted_once() {
    let september = Fleet::aircraft(12, 10).report(Timeframe::month_of(d(2027, 9, 1)).unwrap(), 1.0);
    let q4 = Fleet::aircraft(11, 9).report(Timeframe::new(d(2027, 7, 1), d(2027, 9, 30)).unwrap(), 1.0);
    let year = Fleet::aircraft(10, 8).report(fiscal::timeframe(FiscalYear(2027)).unwrap(), 1.0);
    let size = fleet_size(&[year, q4, september], Timeframe::month_of(d(2027, 9, 1)).unwrap());
    assert_eq!((size.tai, size.pmai), (12, 10));
    assert_eq!(size.from_reports[0].timeframe, Timeframe::month_of(d(2027, 9, 1)).unwrap());
}

/// Owners' fleets of one weapon system add up; a report that does not
/// overlap the month gives no inventory for it.
#[test]
fn owners_fleets_add_up_and_only_reports_covering_the_month_count() {
    let march = Timeframe::month_of(d(2027, 3, 1)).unwrap();
    let usaf = Fleet::aircraft(6, 5).report(march, 1.0);
    let ang = Fleet { owner: "US-ANG", ..Fleet::aircraft(4, 3) }.report(march, 1.0);
    let old =
        Fleet { owner: "US-AFRC", ..Fleet::aircraft(40, 40) }.report(Timeframe::month_of(d(2027, 2, 1)).unwrap(), 1.0);
    let size = fleet_size(&[usaf, ang, old], march);
    assert_eq!((size.tai, size.pmai), (10, 8));
    let owners: Vec<&str> = size.from_reports.iter().map(|s| s.owner.as_str()).collect();
    assert_eq!(owners, ["US-ANG", "US-USAF"]);
}

// ---- High non-availability (para 2.2.d.(1)) ----

/// "The latest 6 month rolling average A_M or A_O ... is 25 percent or more
/// below the ... target", for a fleet of 10 or more aircraft: monthly and
/// quarterly reports both give the average and the fleet size; 9 aircraft
/// never fire.
#[test]
fn high_non_availability_fires_for_monthly_and_quarterly_reporting_at_the_threshold() {
    let target = Target { owner: "US-USAF".into(), tms: "F-16C".into(), a_m: Some(0.8), a_o: Some(0.8) };
    for cadence in [Cadence::Monthly, Cadence::Quarterly] {
        for (tai, fires) in [(10, true), (9, false)] {
            let fleet = Fleet { available: 0.5, ..Fleet::aircraft(tai, tai) };
            let reports = fleet.years(cadence, &[(2027, 1.0)]);
            let rolling = latest_six_month_rolling(&reports).unwrap().unwrap();
            assert_eq!(rolling.a_m, Some(0.5), "{cadence:?}");
            assert_eq!(rolling.latest_tai, u64::from(tai), "{cadence:?}");
            let flag = high_non_availability(SystemCategory::Aircraft, &rolling, &target);
            assert_eq!((flag.a_m.fires, flag.a_o.fires), (fires, fires), "{cadence:?} with TAI {tai}");
        }
    }
}

/// A whole-year report is counted in the fleet's size but cannot give a
/// six-month average (A_M and A_O are monthly metrics, Table 1): the check
/// shows the fleet at the threshold, no average, and does not fire.
#[test]
fn a_whole_year_report_gives_the_fleet_size_but_no_six_month_average() {
    let fleet = Fleet { available: 0.5, ..Fleet::aircraft(12, 10) };
    let reports = fleet.years(Cadence::Annual, &[(2027, 1.0)]);
    let rolling = latest_six_month_rolling(&reports).unwrap().unwrap();
    assert_eq!((rolling.reports, rolling.reports_not_inside), (0, 1));
    assert_eq!((rolling.a_m, rolling.a_o), (None, None));
    let target = Target { owner: "US-USAF".into(), tms: "F-16C".into(), a_m: Some(0.8), a_o: Some(0.8) };
    let flag = high_non_availability(SystemCategory::Aircraft, &rolling, &target);
    assert_eq!((flag.a_m.inventory, flag.a_m.threshold), (12, 10));
    assert!(!flag.fires());
}

// ---- Excessive C/DA (para 2.2.d.(2), 5.1.c.(2)) ----

/// "PMAI is 10 or greater for an aircraft ... and the C/DA metric,
/// calculated on a fiscal year basis, has increased by more than 10 percent
/// for each of the 3 previous FYs": reviewing FY2028 from C/DA growing more
/// than 10 % in FY2025, FY2026 and FY2027 fires for a fleet of PMAI 10 under
/// every reporting cadence, and never for PMAI 9.
#[test]
fn excessive_cda_fires_for_monthly_quarterly_and_annual_reporting_at_the_threshold() {
    for cadence in CADENCES {
        for (pmai, fires) in [(10, true), (9, false)] {
            let reports = Fleet::aircraft(pmai, pmai).years(cadence, &GROWING);
            let rolling = latest_six_month_rolling(&reports).unwrap().unwrap();
            let by_fy = cda_by_fiscal_year(&reports).unwrap();
            let flag = excessive_cda(SystemCategory::Aircraft, rolling.latest_pmai, &by_fy, FiscalYear(2028));
            assert_eq!(flag.pmai, u64::from(pmai), "{cadence:?}");
            assert!(flag.years.iter().all(|y| y.more_than_ten_percent), "{cadence:?}");
            assert_eq!(flag.fires, fires, "{cadence:?} with PMAI {pmai}");
        }
    }
}

/// The review year defaults to the fiscal year of the caller's current date;
/// a year the caller names wins.
#[test]
fn the_review_year_is_the_named_one_else_the_fiscal_year_of_the_current_date() {
    assert_eq!(review_fiscal_year(None, d(2027, 9, 30)), FiscalYear(2027));
    assert_eq!(review_fiscal_year(None, d(2027, 10, 1)), FiscalYear(2028));
    assert_eq!(review_fiscal_year(Some(FiscalYear(2026)), d(2027, 10, 1)), FiscalYear(2026));
}

/// On 1 October 2027 (FY2028 begins) the three fiscal years just closed are
/// judged, although no report of FY2028 exists yet; the result names the
/// review year and the four years whose C/DA it used.
#[test]
fn on_the_first_day_of_a_fiscal_year_the_three_years_just_closed_are_judged() {
    let reports = Fleet::aircraft(12, 10).years(Cadence::Quarterly, &GROWING);
    let by_fy = cda_by_fiscal_year(&reports).unwrap();
    let rolling = latest_six_month_rolling(&reports).unwrap().unwrap();

    let review = review_fiscal_year(None, d(2027, 10, 1));
    let flag = excessive_cda(SystemCategory::Aircraft, rolling.latest_pmai, &by_fy, review);
    assert!(flag.fires);
    assert_eq!(flag.assessed, FiscalYear(2028));
    assert_eq!(flag.cda_fiscal_years, [2024, 2025, 2026, 2027].map(FiscalYear));
    let judged: Vec<FiscalYear> = flag.years.iter().map(|y| y.fiscal_year).collect();
    assert_eq!(judged, [2025, 2026, 2027].map(FiscalYear));

    // Judged instead as of the latest reported month (FY2027), FY2024's
    // growth over an unreported FY2023 is unknown and the flag stays down.
    let as_of_latest_report = FiscalYear::containing(rolling.latest_month.last);
    assert!(!excessive_cda(SystemCategory::Aircraft, rolling.latest_pmai, &by_fy, as_of_latest_report).fires);
}

/// The review year's own C/DA, however partial, never enters the judgement:
/// a costly first quarter of FY2028 changes nothing in the FY2028 review.
#[test]
fn the_review_years_own_cda_is_not_judged() {
    let fleet = Fleet::aircraft(12, 10);
    let mut reports = fleet.years(Cadence::Quarterly, &GROWING);
    let before = excessive_cda(SystemCategory::Aircraft, 10, &cda_by_fiscal_year(&reports).unwrap(), FiscalYear(2028));
    reports.push(fleet.report(timeframes(Cadence::Quarterly, FiscalYear(2028))[0], 1.0));
    let after = excessive_cda(SystemCategory::Aircraft, 10, &cda_by_fiscal_year(&reports).unwrap(), FiscalYear(2028));
    assert_eq!(before, after);
    assert!(after.fires);
}

/// A year without C/DA among the four stops the flag and is shown as unknown.
#[test]
fn a_missing_year_of_cda_stops_the_flag_and_is_shown_as_unknown() {
    let without_2025: Vec<(i32, f64)> = GROWING.iter().copied().filter(|&(fy, _)| fy != 2025).collect();
    let reports = Fleet::aircraft(12, 10).years(Cadence::Annual, &without_2025);
    let flag = excessive_cda(SystemCategory::Aircraft, 10, &cda_by_fiscal_year(&reports).unwrap(), FiscalYear(2028));
    assert!(!flag.fires);
    assert_eq!(flag.years[0].current, None); // FY2025 over FY2024
    assert_eq!(flag.years[1].previous, None); // FY2026 over FY2025
    assert!(flag.years[2].more_than_ten_percent); // FY2027 over FY2026
}
