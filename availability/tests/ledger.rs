//! The incremental [`Ledger`] answers exactly what the full recomputation
//! answers — `effective_reports`, then `assess`, `fleet_health` and
//! `roll_up` over every current report — after any sequence of reports
//! added, superseded (DoDI 3110.05 reports are corrected by resending,
//! crate::corrections), replayed, arriving late, or withdrawn.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use cosx_availability::*;
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

const OWNERS: [&str; 2] = ["US-USAF", "US-ANG"];
const TMS: [&str; 2] = ["F-16C", "C-130J"];

/// Monthly, quarterly and whole-year timeframes across FY2024..FY2028, and
/// one straddling 1 October (left out of C/DA).
fn timeframes() -> Vec<Timeframe> {
    let mut out = Vec::new();
    for fy in 2024..=2028 {
        let year = fiscal::timeframe(FiscalYear(fy)).unwrap();
        out.push(year);
        for m in [10, 1, 4, 7] {
            let y = if m >= 10 { fy - 1 } else { fy };
            out.push(Timeframe::new(d(y, m, 1), Timeframe::month_of(d(y, m + 2, 1)).unwrap().last).unwrap());
        }
        for m in [10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9] {
            let y = if m >= 10 { fy - 1 } else { fy };
            out.push(Timeframe::month_of(d(y, m, 1)).unwrap());
        }
    }
    out.push(Timeframe::new(d(2026, 9, 15), d(2026, 10, 14)).unwrap());
    out
}

/// The report of one key and version: its figures depend only on them, so
/// the same version resent is the same report.
fn report(owner: usize, tms: usize, timeframe: Timeframe, version: i64, salt: u32) -> AvailabilityReport {
    let h = (owner as u32 * 7 + tms as u32 * 5 + timeframe.day_count() * 3 + version as u32 * 11 + salt) % 97;
    let tai = 3 + h % 13;
    let pmai = tai - h % 3;
    let days = f64::from(timeframe.day_count());
    let fill = f64::from(h % 10) / 10.0;
    let times = |n: u32| {
        let possible = f64::from(n) * days;
        CategoryTimes { available: possible * fill, nmcm: possible * (1.0 - fill) / 2.0, ..CategoryTimes::default() }
    };
    AvailabilityReport {
        owner: OWNERS[owner].into(),
        tms: TMS[tms].into(),
        category: if tms == 0 { SystemCategory::Aircraft } else { SystemCategory::Ship },
        timeframe,
        unit: TimeUnit::Days,
        inventory: Inventory { tai: Some(tai), pmai: Some(pmai), ..Inventory::default() },
        detail: ReportDetail::Fleet(FleetTimes { tai_time: times(tai), pmai_time: times(pmai) }),
        costs: vec![
            CostLine { element: "3.1".into(), cents: i64::from(h) * 10_007 * i64::from(timeframe.day_count()) },
            CostLine { element: "4.4".into(), cents: 5 },
        ],
        version,
    }
}

#[derive(Debug, Clone)]
enum Event {
    Submit { owner: usize, tms: usize, timeframe: usize, version: i64 },
    Withdraw { owner: usize, tms: usize, timeframe: usize },
}

fn event(n_timeframes: usize) -> impl Strategy<Value = Event> {
    prop_oneof![
        6 => (0..2usize, 0..2usize, 0..n_timeframes, 1..4i64)
            .prop_map(|(owner, tms, timeframe, version)| Event::Submit { owner, tms, timeframe, version }),
        1 => (0..2usize, 0..2usize, 0..n_timeframes)
            .prop_map(|(owner, tms, timeframe)| Event::Withdraw { owner, tms, timeframe }),
    ]
}

fn target(owner: &str, tms: &str) -> Target {
    Target { owner: owner.into(), tms: tms.into(), a_m: Some(0.8), a_o: Some(0.75) }
}

/// The full recomputation over the reports a store holds now.
fn recompute(store: &[AvailabilityReport]) -> Vec<ReportAssessment> {
    effective_reports(store).unwrap().into_iter().map(|r| assess(r).unwrap()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_ledger_answers_what_the_full_recomputation_answers(
        events in proptest::collection::vec(event(timeframes().len()), 1..120),
        review in 2025..2030i32,
        check_every in 1..20usize,
    ) {
        let tfs = timeframes();
        let mut ledger: Ledger<usize> = Ledger::new();
        let mut store: Vec<AvailabilityReport> = Vec::new();
        for (step, e) in events.iter().enumerate() {
            match *e {
                Event::Submit { owner, tms, timeframe, version } => {
                    let r = report(owner, tms, tfs[timeframe], version, 0);
                    let held = store.iter().filter(|s| s.owner == r.owner && s.tms == r.tms && s.timeframe == r.timeframe).map(|s| s.version).max();
                    let applied = ledger.apply(&r, step).unwrap();
                    let expected = match held {
                        None => Applied::Added,
                        Some(v) if v > version => Applied::Stale { held_version: v },
                        Some(v) if v == version => Applied::Unchanged,
                        Some(v) => Applied::Superseded { previous_version: v },
                    };
                    prop_assert_eq!(applied, expected);
                    if !store.contains(&r) {
                        store.push(r);
                    }
                }
                Event::Withdraw { owner, tms, timeframe } => {
                    let tf = tfs[timeframe];
                    let held = store.iter().any(|s| s.owner == OWNERS[owner] && s.tms == TMS[tms] && s.timeframe == tf);
                    let removed = ledger.remove(OWNERS[owner], TMS[tms], tf).unwrap();
                    prop_assert_eq!(removed.is_some(), held);
                    store.retain(|s| !(s.owner == OWNERS[owner] && s.tms == TMS[tms] && s.timeframe == tf));
                }
            }
            if step % check_every != 0 && step + 1 != events.len() {
                continue;
            }
            let full = recompute(&store);
            let held: Vec<ReportAssessment> = ledger.assessments().map(|(a, _)| a.clone()).collect();
            prop_assert_eq!(&held, &full);
            prop_assert_eq!(ledger.len(), full.len());

            // Roll-ups from the ledger, without cloning, equal those of the recomputation.
            let by_key = |a: &ReportAssessment| (a.tms.clone(), a.timeframe);
            prop_assert_eq!(roll_up(ledger.assessments().map(|(a, _)| a), by_key).unwrap(), roll_up(&full, by_key).unwrap());

            for owner in OWNERS {
                for tms in TMS {
                    let fleet: Vec<ReportAssessment> = full.iter().filter(|a| a.owner == owner && a.tms == tms).cloned().collect();
                    let category = fleet.iter().max_by_key(|a| (a.timeframe.last, a.timeframe.first)).map(|a| a.category);
                    let t = target(owner, tms);
                    let expected = match category {
                        Some(c) => fleet_health(c, &fleet, Some(&t), FiscalYear(review)).unwrap(),
                        None => None,
                    };
                    prop_assert_eq!(ledger.health(owner, tms, Some(&t), FiscalYear(review)).unwrap(), expected);
                    let within: Vec<&ReportAssessment> = fleet.iter().filter(|a| fiscal::of_timeframe(&a.timeframe).is_some()).collect();
                    prop_assert_eq!(ledger.cda_by_fiscal_year(owner, tms), cda_by_fiscal_year(within).unwrap());
                }
            }
        }
    }
}

/// A correction must carry a higher version: the same version with other
/// figures is refused, as `effective_reports` refuses it, and the held
/// report keeps counting.
#[test]
fn the_same_version_with_other_figures_is_refused_and_changes_nothing() {
    let tf = Timeframe::month_of(d(2027, 3, 1)).unwrap();
    let mut ledger = Ledger::new();
    let first = report(0, 0, tf, 1, 0);
    assert_eq!(ledger.apply(&first, ()).unwrap(), Applied::Added);
    let other = report(0, 0, tf, 1, 1);
    assert_ne!(assess(&first).unwrap(), assess(&other).unwrap());
    assert!(matches!(ledger.apply(&other, ()), Err(AvailabilityError::Invalid(v)) if v[0].field == "version"));
    assert!(effective_reports(&[first.clone(), other]).is_err());
    let held: Vec<&ReportAssessment> = ledger.assessments().map(|(a, _)| a).collect();
    assert_eq!(held, [&assess(&first).unwrap()]);
}

/// An invalid report is refused whole and leaves the ledger as it was.
#[test]
fn an_invalid_report_is_refused_and_changes_nothing() {
    let tf = Timeframe::month_of(d(2027, 3, 1)).unwrap();
    let mut ledger = Ledger::new();
    ledger.apply(&report(0, 0, tf, 1, 0), ()).unwrap();
    let mut bad = report(0, 0, tf, 2, 0);
    bad.inventory.pmai = Some(1000);
    assert!(ledger.apply(&bad, ()).is_err());
    assert_eq!(ledger.fleet("US-USAF", "F-16C").unwrap()[0].version, 1);
}
