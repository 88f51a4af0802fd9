//! Times the full recomputation of fleet health over every current report
//! against keeping a `Ledger` up to date (issue 19): `cargo run --release
//! -p cosx-availability --example ledger_timing [fleets] [months]`.
//! Measures only; prints the timings and writes nothing.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use chrono::{Months, NaiveDate};
use cosx_availability::*;

fn report(fleet: usize, month: u32, version: i64) -> AvailabilityReport {
    let first = NaiveDate::from_ymd_opt(2020, 10, 1).unwrap().checked_add_months(Months::new(month)).unwrap();
    let timeframe = Timeframe::month_of(first).unwrap();
    let days = f64::from(timeframe.day_count());
    let tai = 10 + (fleet % 7) as u32;
    let t = |n: u32| CategoryTimes {
        available: f64::from(n) * days * 0.7,
        nmcm: f64::from(n) * days * 0.2,
        ..CategoryTimes::default()
    };
    AvailabilityReport {
        owner: format!("OWNER-{}", fleet % 10),
        tms: format!("TMS-{}", fleet / 10),
        category: SystemCategory::Aircraft,
        timeframe,
        unit: TimeUnit::Days,
        inventory: Inventory { tai: Some(tai), pmai: Some(tai - 2), ..Inventory::default() },
        detail: ReportDetail::Fleet(FleetTimes { tai_time: t(tai), pmai_time: t(tai - 2) }),
        costs: vec![CostLine { element: "3.1".into(), cents: 1_000_000 + i64::from(month) * 1_000 + version }],
        version,
    }
}

fn full(reports: &[AvailabilityReport], review: FiscalYear) -> usize {
    let assessed: Vec<ReportAssessment> =
        effective_reports(reports).unwrap().into_iter().map(|r| assess(r).unwrap()).collect();
    let mut flags = 0;
    for chunk in assessed.chunk_by(|a, b| a.owner == b.owner && a.tms == b.tms) {
        let h = fleet_health(SystemCategory::Aircraft, chunk, None, review).unwrap().unwrap();
        flags += usize::from(h.excessive_cda.fires);
    }
    flags + by_tms_and_timeframe(&assessed).unwrap().len()
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().unwrap()).collect();
    let (fleets, months) = (args.first().copied().unwrap_or(100), args.get(1).copied().unwrap_or(100) as u32);
    let reports: Vec<AvailabilityReport> =
        (0..fleets).flat_map(|f| (0..months).map(move |m| report(f, m, 1))).collect();
    let review = FiscalYear(2029);

    let start = Instant::now();
    let runs = 5;
    for _ in 0..runs {
        std::hint::black_box(full(&reports, review));
    }
    let full_ms = start.elapsed().as_secs_f64() * 1e3 / f64::from(runs);

    let start = Instant::now();
    let mut ledger = Ledger::new();
    for r in &reports {
        ledger.apply(r, ()).unwrap();
    }
    let build_ms = start.elapsed().as_secs_f64() * 1e3;

    // One correction arrives; the ledger absorbs it and answers that fleet's health and the roll-ups.
    let n = 1000;
    let start = Instant::now();
    for i in 0..n {
        let r = report(i % fleets, (i as u32 * 7) % months, 2 + i as i64);
        ledger.apply(&r, ()).unwrap();
        std::hint::black_box(ledger.health(&r.owner, &r.tms, None, review).unwrap());
    }
    let apply_us = start.elapsed().as_secs_f64() * 1e6 / n as f64;

    let start = Instant::now();
    let mut all_health = 0;
    for (key, _) in ledger.fleets() {
        all_health +=
            usize::from(ledger.health(&key.owner, &key.tms, None, review).unwrap().unwrap().excessive_cda.fires);
    }
    let rollups = roll_up(ledger.assessments().map(|(a, _)| a), |a| (a.tms.clone(), a.timeframe)).unwrap().len();
    let answer_ms = start.elapsed().as_secs_f64() * 1e3;

    println!("reports {}  fleets {fleets}  months {months}", reports.len());
    println!("full recomputation (assess all, health of every fleet, TMS x timeframe roll-ups): {full_ms:.2} ms");
    println!("ledger built from scratch: {build_ms:.2} ms");
    println!("ledger: apply one correction + that fleet's health: {apply_us:.1} us");
    println!(
        "ledger: health of every fleet + roll-ups from held assessments: {answer_ms:.2} ms ({all_health} flags, {rollups} groups)"
    );
}
