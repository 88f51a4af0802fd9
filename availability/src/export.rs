//! Flat rows for enterprise analytics (DoDI 3110.05 para 4.2: metrics and
//! supporting data accessible per asset, C/DA per TMS): one struct per table,
//! primitive columns only, so a caller can write them as CSV or JSON lines.
//!
//! Builds values only; writing them anywhere is the caller's business.
//! Nothing is rounded: columns hold the unrounded days and ratios.

use chrono::NaiveDate;
use serde::Serialize;

use crate::assessment::{ReportAssessment, TimeAccount};
use crate::report::SystemCategory;
use crate::rollup::{Rollup, TmsTimeframe};

/// One individual asset in one report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetRow {
    /// Reporting owner.
    pub owner: String,
    /// TMS (class for ships).
    pub tms: String,
    /// Kind of weapon system.
    pub category: SystemCategory,
    /// First day of T_F.
    pub timeframe_first: NaiveDate,
    /// Last day of T_F.
    pub timeframe_last: NaiveDate,
    /// Report version.
    pub version: i64,
    /// Serial, tail, hull or bureau number.
    pub serial: String,
    /// Part of the PMAI.
    pub pmai: bool,
    /// Possible days.
    pub possible_days: f64,
    /// Available days.
    pub available_days: f64,
    /// NMCM days.
    pub nmcm_days: f64,
    /// NMCS days.
    pub nmcs_days: f64,
    /// Depot days.
    pub depot_days: f64,
    /// UPNR days as reported.
    pub upnr_reported_days: f64,
    /// UPNR days added by reconciliation (unaccounted possible time).
    pub upnr_reconciled_days: f64,
    /// All UPNR days.
    pub upnr_days: f64,
    /// Available / possible of this asset; empty with no possible time.
    pub availability: Option<f64>,
}

/// One TMS (or any group) in one timeframe: the A_M, A_O and C/DA table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TmsRow {
    /// TMS (class for ships).
    pub tms: String,
    /// First day of T_F.
    pub timeframe_first: NaiveDate,
    /// Last day of T_F.
    pub timeframe_last: NaiveDate,
    /// Reports summed.
    pub reports: usize,
    /// Summed TAI.
    pub tai: u64,
    /// Summed PMAI.
    pub pmai: u64,
    /// TAI possible days.
    pub tai_possible_days: f64,
    /// TAI available days.
    pub tai_available_days: f64,
    /// TAI NMCM days.
    pub tai_nmcm_days: f64,
    /// TAI NMCS days.
    pub tai_nmcs_days: f64,
    /// TAI depot days.
    pub tai_depot_days: f64,
    /// TAI UPNR days as reported.
    pub tai_upnr_reported_days: f64,
    /// TAI UPNR days from reconciliation (unaccounted + missing assets).
    pub tai_upnr_reconciled_days: f64,
    /// PMAI possible days.
    pub pmai_possible_days: f64,
    /// PMAI available days.
    pub pmai_available_days: f64,
    /// PMAI NMCM days.
    pub pmai_nmcm_days: f64,
    /// PMAI NMCS days.
    pub pmai_nmcs_days: f64,
    /// PMAI depot days.
    pub pmai_depot_days: f64,
    /// PMAI UPNR days as reported.
    pub pmai_upnr_reported_days: f64,
    /// PMAI UPNR days from reconciliation.
    pub pmai_upnr_reconciled_days: f64,
    /// A_M.
    pub a_m: Option<f64>,
    /// A_O.
    pub a_o: Option<f64>,
    /// Cost elements 1.2 + 3.1 + 3.2, cents.
    pub cda_cost_cents: i64,
    /// Other cost elements, cents (not in C/DA).
    pub excluded_cost_cents: i64,
    /// C/DA, cents per PMAI available day.
    pub cost_per_day_of_availability: Option<f64>,
}

/// One cost element of one report, so the C/DA numerator can be checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostRow {
    /// Reporting owner.
    pub owner: String,
    /// TMS.
    pub tms: String,
    /// First day of T_F.
    pub timeframe_first: NaiveDate,
    /// Last day of T_F.
    pub timeframe_last: NaiveDate,
    /// Report version.
    pub version: i64,
    /// Cost element, e.g. `3.1`.
    pub element: String,
    /// Cents.
    pub cents: i64,
    /// True for elements 1.2, 3.1 and 3.2.
    pub counts_toward_cda: bool,
}

/// Per-asset rows of an asset-level assessment (none for a fleet-level one).
pub fn asset_rows(a: &ReportAssessment) -> Vec<AssetRow> {
    a.assets
        .iter()
        .map(|asset| {
            let t = &asset.time;
            AssetRow {
                owner: a.owner.clone(),
                tms: a.tms.clone(),
                category: a.category,
                timeframe_first: a.timeframe.first,
                timeframe_last: a.timeframe.last,
                version: a.version,
                serial: asset.serial.clone(),
                pmai: asset.pmai,
                possible_days: t.possible.get(),
                available_days: t.available.get(),
                nmcm_days: t.nmcm.get(),
                nmcs_days: t.nmcs.get(),
                depot_days: t.depot.get(),
                upnr_reported_days: t.upnr_reported.get(),
                upnr_reconciled_days: t.upnr_from_reconciliation().get(),
                upnr_days: t.upnr().get(),
                availability: t.availability(),
            }
        })
        .collect()
}

/// One row per TMS and timeframe, from [`by_tms_and_timeframe`](crate::by_tms_and_timeframe).
pub fn tms_rows(rollups: &[Rollup<TmsTimeframe>]) -> Vec<TmsRow> {
    rollups.iter().map(|r| tms_row(&r.key.tms, r.key.timeframe.first, r.key.timeframe.last, r)).collect()
}

/// The row of one rollup of any key, placed at `tms` and the timeframe
/// `first..=last` (for rollups grouped by TMS and timeframe elsewhere).
pub fn tms_row<K>(tms: &str, first: NaiveDate, last: NaiveDate, r: &Rollup<K>) -> TmsRow {
    let (t, p): (&TimeAccount, &TimeAccount) = (&r.tai_time, &r.pmai_time);
    TmsRow {
        tms: tms.to_owned(),
        timeframe_first: first,
        timeframe_last: last,
        reports: r.reports,
        tai: r.tai_inventory,
        pmai: r.pmai_inventory,
        tai_possible_days: t.possible.get(),
        tai_available_days: t.available.get(),
        tai_nmcm_days: t.nmcm.get(),
        tai_nmcs_days: t.nmcs.get(),
        tai_depot_days: t.depot.get(),
        tai_upnr_reported_days: t.upnr_reported.get(),
        tai_upnr_reconciled_days: t.upnr_from_reconciliation().get(),
        pmai_possible_days: p.possible.get(),
        pmai_available_days: p.available.get(),
        pmai_nmcm_days: p.nmcm.get(),
        pmai_nmcs_days: p.nmcs.get(),
        pmai_depot_days: p.depot.get(),
        pmai_upnr_reported_days: p.upnr_reported.get(),
        pmai_upnr_reconciled_days: p.upnr_from_reconciliation().get(),
        a_m: r.a_m,
        a_o: r.a_o,
        cda_cost_cents: r.costs.cda_cents,
        excluded_cost_cents: r.costs.excluded_cents,
        cost_per_day_of_availability: r.cost_per_day_of_availability,
    }
}

/// One row per cost element of an assessment.
pub fn cost_rows(a: &ReportAssessment) -> Vec<CostRow> {
    a.costs
        .by_element
        .iter()
        .map(|(element, &cents)| CostRow {
            owner: a.owner.clone(),
            tms: a.tms.clone(),
            timeframe_first: a.timeframe.first,
            timeframe_last: a.timeframe.last,
            version: a.version,
            element: element.clone(),
            cents,
            counts_toward_cda: crate::cost::counts_toward_cda(element),
        })
        .collect()
}
