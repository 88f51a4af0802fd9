//! Turns one validated report into days and metrics: possible time, available
//! time, the four not-available categories, UPNR reconciliation (DoDI
//! 3110.05 para 5.3.a.(1)(g) and 6.1), A_M, A_O and C/DA (para 5.1).
//!
//! Every output carries the figures it was computed from so a reader can
//! redo the arithmetic. Nothing is rounded; nothing here does I/O.

use serde::{Deserialize, Serialize};

use crate::cost::CostBreakdown;
use crate::error::AvailabilityError;
use crate::inventory::Inventory;
use crate::report::{AssetReport, AvailabilityReport, CategoryTimes, ReportDetail, SystemCategory};
use crate::time::{Days, TimeUnit, Timeframe};

/// Where the possible time of a population (TAI, PMAI, or one asset) went, in days.
///
/// After reconciliation `available + not_available() == possible` (up to
/// float rounding of the sums).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeAccount {
    /// Possible time: inventory × days in T_F (an asset: its own possible time).
    pub possible: Days,
    /// Available time.
    pub available: Days,
    /// NMCM time.
    pub nmcm: Days,
    /// NMCS time.
    pub nmcs: Days,
    /// Depot not available time.
    pub depot: Days,
    /// UPNR time as reported.
    pub upnr_reported: Days,
    /// UPNR from reconciliation: possible time of reported assets (or of the
    /// fleet) not accounted for in any category (para 6.1).
    pub upnr_unaccounted: Days,
    /// UPNR from reconciliation: possible time of inventory not in the
    /// asset-level report at all (difference between authoritative inventory
    /// and availability data, para 5.3.a.(1)(g)).
    pub upnr_missing_assets: Days,
}

impl TimeAccount {
    /// All UPNR: reported plus reconciled.
    pub fn upnr(&self) -> Days {
        self.upnr_reported + self.upnr_from_reconciliation()
    }

    /// UPNR that reconciliation added (unaccounted + missing assets).
    pub fn upnr_from_reconciliation(&self) -> Days {
        self.upnr_unaccounted + self.upnr_missing_assets
    }

    /// Not available time: NMCM + NMCS + depot + UPNR (all of it).
    pub fn not_available(&self) -> Days {
        self.nmcm + self.nmcs + self.depot + self.upnr()
    }

    /// Available time / possible time; `None` when there is no possible time.
    ///
    /// Validation lets a sum exceed possible time by a float-rounding
    /// tolerance, so the ratio is capped at 1.
    pub fn availability(&self) -> Option<f64> {
        let possible = self.possible.get();
        (possible > 0.0).then(|| (self.available.get() / possible).min(1.0))
    }

    /// Adds another account into this one: times are summed, never ratios.
    pub fn absorb(&mut self, other: &TimeAccount) {
        self.possible += other.possible;
        self.available += other.available;
        self.nmcm += other.nmcm;
        self.nmcs += other.nmcs;
        self.depot += other.depot;
        self.upnr_reported += other.upnr_reported;
        self.upnr_unaccounted += other.upnr_unaccounted;
        self.upnr_missing_assets += other.upnr_missing_assets;
    }

    /// Account of reported times against a possible time, both in `unit`;
    /// whatever the categories leave of `possible` is unaccounted UPNR.
    fn reconcile(possible_days: Days, times: &CategoryTimes, unit: TimeUnit) -> TimeAccount {
        let mut account = TimeAccount {
            possible: possible_days,
            available: unit.to_days(times.available),
            nmcm: unit.to_days(times.nmcm),
            nmcs: unit.to_days(times.nmcs),
            depot: unit.to_days(times.depot),
            upnr_reported: unit.to_days(times.upnr),
            ..TimeAccount::default()
        };
        let accounted = account.available + account.nmcm + account.nmcs + account.depot + account.upnr_reported;
        account.upnr_unaccounted = possible_days.saturating_sub(accounted);
        account
    }
}

/// One individual asset's account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetAccount {
    /// The unique weapon system identifier.
    pub serial: String,
    /// True when the asset is part of the PMAI.
    pub pmai: bool,
    /// Its time, in days, reconciled.
    pub time: TimeAccount,
}

/// The metrics of one report, with everything they were computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportAssessment {
    /// Reporting owner.
    pub owner: String,
    /// TMS (class for ships).
    pub tms: String,
    /// Kind of weapon system.
    pub category: SystemCategory,
    /// Timeframe T_F.
    pub timeframe: Timeframe,
    /// Report version the figures come from.
    pub version: i64,
    /// Unit the report used (results are in days regardless).
    pub reported_unit: TimeUnit,
    /// Inventory as reported.
    pub inventory: Inventory,
    /// TAI used for possible time (as given or derived).
    pub tai: u32,
    /// PMAI used for possible time.
    pub pmai: u32,
    /// Days in T_F.
    pub timeframe_days: u32,
    /// Account of the TAI: the A_M population.
    pub tai_time: TimeAccount,
    /// Account of the PMAI: the A_O and C/DA population.
    pub pmai_time: TimeAccount,
    /// Per-asset accounts; empty for a fleet-level report.
    pub assets: Vec<AssetAccount>,
    /// Maintenance cost by element; `cda_cents` is the C/DA numerator.
    pub costs: CostBreakdown,
    /// A_M = TAI available / TAI possible; `None` when TAI possible time is zero.
    pub a_m: Option<f64>,
    /// A_O = PMAI available / PMAI possible; `None` when PMAI possible time is zero.
    pub a_o: Option<f64>,
    /// C/DA in cents per day of PMAI availability; `None` when the PMAI had no available days.
    pub cost_per_day_of_availability: Option<f64>,
}

/// C/DA = C/DA cost (cents) / PMAI available days; `None` when there were no available days.
pub fn cost_per_day_of_availability(cda_cents: i64, pmai_available: Days) -> Option<f64> {
    let days = pmai_available.get();
    (days > 0.0).then(|| cda_cents as f64 / days)
}

/// Validates a report and computes its metrics.
///
/// Possible time of the TAI and PMAI is always inventory × days in T_F
/// (Figures 1 and 2). In an asset-level report each asset's unaccounted time
/// is UPNR, and so is the inventory's possible time that no reported asset
/// covers — assets in the authoritative inventory but missing from the report.
pub fn assess(report: &AvailabilityReport) -> Result<ReportAssessment, AvailabilityError> {
    report.validate()?;
    // validate() refuses reports without a TAI or PMAI; this keeps that promise local.
    let (Some(tai), Some(pmai)) = (report.inventory.resolved_tai(), report.inventory.pmai) else {
        return Err(AvailabilityError::Invalid(vec![crate::error::FieldViolation::new(
            "inventory",
            "TAI and PMAI are required",
        )]));
    };
    let unit = report.unit;
    let length = report.timeframe.length();
    let tai_possible = Days::new(f64::from(tai) * length.get()).unwrap_or(Days::ZERO);
    let pmai_possible = Days::new(f64::from(pmai) * length.get()).unwrap_or(Days::ZERO);
    let (tai_time, pmai_time, assets) = match &report.detail {
        ReportDetail::Fleet(fleet) => (
            TimeAccount::reconcile(tai_possible, &fleet.tai_time, unit),
            TimeAccount::reconcile(pmai_possible, &fleet.pmai_time, unit),
            Vec::new(),
        ),
        ReportDetail::Assets(lines) => assess_assets(lines, unit, tai_possible, pmai_possible),
    };
    let costs = CostBreakdown::from_lines(&report.costs)?;
    Ok(ReportAssessment {
        owner: report.owner.clone(),
        tms: report.tms.clone(),
        category: report.category,
        timeframe: report.timeframe,
        version: report.version,
        reported_unit: unit,
        inventory: report.inventory,
        tai,
        pmai,
        timeframe_days: report.timeframe.day_count(),
        a_m: tai_time.availability(),
        a_o: pmai_time.availability(),
        cost_per_day_of_availability: cost_per_day_of_availability(costs.cda_cents, pmai_time.available),
        tai_time,
        pmai_time,
        assets,
        costs,
    })
}

fn assess_assets(
    lines: &[AssetReport],
    unit: TimeUnit,
    tai_possible: Days,
    pmai_possible: Days,
) -> (TimeAccount, TimeAccount, Vec<AssetAccount>) {
    let assets: Vec<AssetAccount> = lines
        .iter()
        .map(|line| AssetAccount {
            serial: line.serial.trim().to_string(),
            pmai: line.pmai,
            time: TimeAccount::reconcile(unit.to_days(line.possible), &line.time, unit),
        })
        .collect();
    let mut tai_time = TimeAccount::default();
    let mut pmai_time = TimeAccount::default();
    for asset in &assets {
        tai_time.absorb(&asset.time);
        if asset.pmai {
            pmai_time.absorb(&asset.time);
        }
    }
    // Inventory possible time no reported asset covers is UPNR (para 6.1).
    tai_time.upnr_missing_assets = tai_possible.saturating_sub(tai_time.possible);
    pmai_time.upnr_missing_assets = pmai_possible.saturating_sub(pmai_time.possible);
    tai_time.possible = tai_possible;
    pmai_time.possible = pmai_possible;
    (tai_time, pmai_time, assets)
}

/// Serials of an authoritative inventory list that an asset-level report
/// does not mention (exception reporting, para 6.1). Their possible time is
/// already counted as UPNR by [`assess`] through the inventory counts; this
/// names them. A fleet-level report names no asset, so all are returned.
pub fn missing_serials<'a>(report: &AvailabilityReport, authoritative: &'a [String]) -> Vec<&'a str> {
    let reported: std::collections::HashSet<&str> = match &report.detail {
        ReportDetail::Assets(lines) => lines.iter().map(|l| l.serial.trim()).collect(),
        ReportDetail::Fleet(_) => Default::default(),
    };
    authoritative.iter().map(|s| s.trim()).filter(|s| !reported.contains(s)).collect()
}
