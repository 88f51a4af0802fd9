//! The fleet size the DoDI 3110.05 flag thresholds are judged on: "TAI or
//! PMAI is 10 or greater for an aircraft, 5 or greater for a ship or
//! submarine, and 50 or greater for a ground vehicle" (para 2.2.d.(1)(a) and
//! (2)(a)). The threshold itself is
//! [`SystemCategory::flag_inventory_threshold`](crate::SystemCategory::flag_inventory_threshold);
//! this module says which reported inventory it is applied to.
//!
//! The rule: the fleet's size in a month is, for each owner's weapon system,
//! the TAI and PMAI of the report that covers that month most closely — of
//! the reports whose timeframe overlaps the month, the one with the shortest
//! timeframe (a monthly report before a quarterly one before a whole-year
//! one; among equal lengths the one ending latest) — summed over owners. The
//! size is a count of assets, so it does not depend on how long a report's
//! timeframe is: a fleet of 12 aircraft reporting monthly, quarterly or once
//! a year is a fleet of 12, and one that sends both a monthly and a quarterly
//! report is still 12, not 24.
//!
//! Pure selection over assessments; never reads a clock (the caller names the month).

use std::borrow::Borrow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::assessment::ReportAssessment;
use crate::time::Timeframe;

/// The report one owner's inventory was taken from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventorySource {
    /// Reporting owner.
    pub owner: String,
    /// TMS (class for ships).
    pub tms: String,
    /// The report's timeframe.
    pub timeframe: Timeframe,
    /// TAI of that report.
    pub tai: u32,
    /// PMAI of that report.
    pub pmai: u32,
}

/// A fleet's inventory in one period, with the reports it was taken from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetSize {
    /// The period (normally a calendar month) the size is taken in.
    pub period: Timeframe,
    /// Σ TAI over owners.
    pub tai: u64,
    /// Σ PMAI over owners.
    pub pmai: u64,
    /// One report per owner and TMS, in (owner, TMS) order; empty when no
    /// report overlaps the period (the size is then 0).
    pub from_reports: Vec<InventorySource>,
}

/// The fleet's size in `period`: per owner and TMS the report overlapping
/// `period` with the shortest timeframe (ties: the one ending latest), summed.
/// Pass the effective assessments of one weapon system (owned or borrowed).
pub fn fleet_size<A: Borrow<ReportAssessment>>(assessments: &[A], period: Timeframe) -> FleetSize {
    let mut closest: BTreeMap<(&str, &str), &ReportAssessment> = BTreeMap::new();
    for a in assessments.iter().map(Borrow::borrow).filter(|a: &&ReportAssessment| a.timeframe.overlaps(&period)) {
        let held = closest.entry((a.owner.as_str(), a.tms.as_str())).or_insert(a);
        if covers_more_closely(a, held) {
            *held = a;
        }
    }
    let from_reports: Vec<InventorySource> = closest
        .into_values()
        .map(|a| InventorySource {
            owner: a.owner.clone(),
            tms: a.tms.clone(),
            timeframe: a.timeframe,
            tai: a.tai,
            pmai: a.pmai,
        })
        .collect();
    FleetSize {
        period,
        tai: from_reports.iter().map(|s| u64::from(s.tai)).sum(),
        pmai: from_reports.iter().map(|s| u64::from(s.pmai)).sum(),
        from_reports,
    }
}

/// Shorter timeframe first, then the later end, then the later start.
fn covers_more_closely(candidate: &ReportAssessment, held: &ReportAssessment) -> bool {
    let rank = |a: &ReportAssessment| (std::cmp::Reverse(a.timeframe.day_count()), a.timeframe.last, a.timeframe.first);
    rank(candidate) > rank(held)
}
