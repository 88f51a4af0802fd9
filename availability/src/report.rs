//! What a Military Service reports each month for one weapon system (TMS, or
//! ship class): inventory counts, possible / available / not available time
//! (DoDI 3110.05 Table 1 and para 5.3.a) either as fleet totals or per
//! individual asset, and maintenance cost by cost element (para 5.3.b).
//!
//! These are stored as received (serde) and checked whole by
//! [`AvailabilityReport::validate`]; nothing here computes a metric, and
//! nothing here does I/O.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{AvailabilityError, Violations};
use crate::inventory::Inventory;
use crate::time::{TimeUnit, Timeframe};

/// Kind of weapon system; decides the inventory thresholds of the flags
/// (DoDI 3110.05 para 2.2.d).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SystemCategory {
    /// Aircraft: flags need an inventory of 10 or more.
    Aircraft,
    /// Ship: flags need an inventory of 5 or more; targets are per class.
    Ship,
    /// Submarine: flags need an inventory of 5 or more; targets are per class.
    Submarine,
    /// Ground vehicle: flags need an inventory of 50 or more.
    GroundVehicle,
}

impl SystemCategory {
    /// Smallest TAI / PMAI for which the high non-availability and excessive
    /// C/DA flags apply: 10 aircraft, 5 ships or submarines, 50 ground vehicles.
    pub fn flag_inventory_threshold(self) -> u32 {
        match self {
            SystemCategory::Aircraft => 10,
            SystemCategory::Ship | SystemCategory::Submarine => 5,
            SystemCategory::GroundVehicle => 50,
        }
    }
}

/// Time of a population (the TAI, the PMAI, or one asset) split into
/// available time and the four not-available categories, in the report's unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CategoryTimes {
    /// Time available to perform assigned missions.
    pub available: f64,
    /// Not mission capable, maintenance (field level).
    pub nmcm: f64,
    /// Not mission capable, supply (waiting for parts or consumables).
    pub nmcs: f64,
    /// Depot not available time (from induction at the depot).
    pub depot: f64,
    /// Unit possessed not reported, as reported (in transit, awaiting disposition...).
    pub upnr: f64,
}

impl CategoryTimes {
    fn named(&self) -> [(&'static str, f64); 5] {
        [
            ("available", self.available),
            ("nmcm", self.nmcm),
            ("nmcs", self.nmcs),
            ("depot", self.depot),
            ("upnr", self.upnr),
        ]
    }

    /// Sum of available time and every not-available category.
    pub fn accounted(&self) -> f64 {
        self.available + self.nmcm + self.nmcs + self.depot + self.upnr
    }
}

/// Fleet-level totals: possible time is not reported but computed as
/// inventory × length of the timeframe (Figures 1 and 2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct FleetTimes {
    /// Totals over the TAI.
    pub tai_time: CategoryTimes,
    /// Totals over the PMAI (a subset of the TAI).
    pub pmai_time: CategoryTimes,
}

/// One individual asset (serial, tail, hull, bureau number).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetReport {
    /// The unique weapon system identifier.
    pub serial: String,
    /// True when the asset is part of the PMAI.
    pub pmai: bool,
    /// The asset's possible time in the timeframe (less than the timeframe's
    /// length when it joined or left the TAI during it).
    pub possible: f64,
    /// How that possible time was spent.
    pub time: CategoryTimes,
}

/// The time data of a report: fleet totals or one line per asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportDetail {
    /// Totals for the TAI and the PMAI.
    Fleet(FleetTimes),
    /// One line per individual asset of the TAI.
    Assets(Vec<AssetReport>),
}

/// One expended maintenance cost, by CAPE O&S cost element (e.g. `3.1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostLine {
    /// CAPE O&S cost element number, e.g. `1.2`, `3.1`, `3.4`.
    pub element: String,
    /// Amount expended, in cents.
    pub cents: i64,
}

/// One report of one owner for one weapon system and one timeframe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailabilityReport {
    /// Who reports (party or Military Service), e.g. `US-USAF`.
    pub owner: String,
    /// Type model series, e.g. `F-16C`; for ships and submarines the class, e.g. `DDG-51`.
    pub tms: String,
    /// Kind of weapon system.
    pub category: SystemCategory,
    /// The timeframe T_F reported on (normally one calendar month).
    pub timeframe: Timeframe,
    /// Unit of every time figure in this report.
    pub unit: TimeUnit,
    /// Inventory counts for the timeframe.
    pub inventory: Inventory,
    /// Fleet totals or per-asset lines.
    pub detail: ReportDetail,
    /// Maintenance cost of the PMAI in the timeframe, by cost element.
    pub costs: Vec<CostLine>,
    /// Version of this report; a correction has a higher version and replaces it.
    pub version: i64,
}

/// Slack allowed when comparing sums of reported float times with possible
/// time, so that figures converted or summed by the sender still pass: one
/// part in 10^9 of the possible time (at least 10^-9 of a unit).
pub(crate) fn tolerance(possible: f64) -> f64 {
    1e-9 * possible.abs().max(1.0)
}

fn check_times(prefix: &str, times: &CategoryTimes, possible: f64, possible_name: &str, v: &mut Violations) {
    for (name, value) in times.named() {
        if !value.is_finite() || value < 0.0 {
            v.add(format!("{prefix}.{name}"), format!("must be a finite, non-negative time, got {value}"));
        } else if value > possible + tolerance(possible) {
            v.add(format!("{prefix}.{name}"), format!("{value} exceeds {possible_name} {possible}"));
        }
    }
    let total = times.accounted();
    if total.is_finite() && total > possible + tolerance(possible) {
        v.add(
            prefix.to_string(),
            format!("available + NMCM + NMCS + depot + UPNR = {total} exceeds {possible_name} {possible}"),
        );
    }
}

impl AvailabilityReport {
    /// Length of the timeframe in the report's unit.
    pub fn timeframe_length_in_unit(&self) -> f64 {
        f64::from(self.timeframe.day_count()) * self.unit.per_day()
    }

    /// Checks the whole report and returns every violation, each naming its
    /// field relative to the report (`inventory.tai`, `tai_time.available`,
    /// `assets[3].time.nmcm`, `costs[0].cents`).
    pub fn validate(&self) -> Result<(), AvailabilityError> {
        let mut v = Violations::default();
        if self.owner.trim().is_empty() {
            v.add("owner", "must not be empty");
        }
        if self.tms.trim().is_empty() {
            v.add("tms", "must not be empty");
        }
        if self.timeframe.last < self.timeframe.first {
            v.add(
                "timeframe",
                format!("last day {} is before first day {}", self.timeframe.last, self.timeframe.first),
            );
        }
        self.inventory.check("inventory", &mut v);
        let tai = self.inventory.resolved_tai();
        if tai.is_none() {
            v.add("inventory.tai", "required: give TAI, or all of PAI, BAI, PWR and AR, or TOAI, TII and EPSLI");
        }
        if self.inventory.pmai.is_none() {
            v.add("inventory.pmai", "required for A_O and C/DA");
        }
        let length = self.timeframe_length_in_unit();
        let tai_possible = tai.map(|n| f64::from(n) * length);
        let pmai_possible = self.inventory.pmai.map(|n| f64::from(n) * length);
        match &self.detail {
            ReportDetail::Fleet(fleet) => {
                if let Some(possible) = tai_possible {
                    check_times("tai_time", &fleet.tai_time, possible, "TAI possible time", &mut v);
                }
                if let Some(possible) = pmai_possible {
                    check_times("pmai_time", &fleet.pmai_time, possible, "PMAI possible time", &mut v);
                }
                // PMAI is part of the TAI, so none of its times can exceed the TAI's.
                for ((name, pmai), (_, tai)) in fleet.pmai_time.named().into_iter().zip(fleet.tai_time.named()) {
                    if pmai.is_finite() && tai.is_finite() && pmai > tai + tolerance(tai) {
                        v.add(
                            format!("pmai_time.{name}"),
                            format!("{pmai} exceeds tai_time.{name} {tai}: PMAI is part of TAI"),
                        );
                    }
                }
            }
            ReportDetail::Assets(assets) => self.check_assets(assets, length, tai_possible, pmai_possible, &mut v),
        }
        for (i, line) in self.costs.iter().enumerate() {
            if line.element.trim().is_empty() {
                v.add(format!("costs[{i}].element"), "must name a CAPE O&S cost element, e.g. 3.1");
            }
            if line.cents < 0 {
                v.add(format!("costs[{i}].cents"), format!("expended cost cannot be negative, got {}", line.cents));
            }
        }
        if self.costs.iter().try_fold(0i64, |acc, line| acc.checked_add(line.cents)).is_none() {
            v.add("costs", "total overflows 64-bit cents");
        }
        v.into_result()
    }

    fn check_assets(
        &self,
        assets: &[AssetReport],
        length: f64,
        tai_possible: Option<f64>,
        pmai_possible: Option<f64>,
        v: &mut Violations,
    ) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let (mut all, mut pmai) = (0.0, 0.0);
        for (i, asset) in assets.iter().enumerate() {
            let serial = asset.serial.trim();
            if serial.is_empty() {
                v.add(format!("assets[{i}].serial"), "must not be empty");
            } else if let Some(first) = seen.insert(serial, i) {
                v.add(format!("assets[{i}].serial"), format!("duplicate of assets[{first}].serial {serial:?}"));
            }
            let possible = asset.possible;
            if !possible.is_finite() || possible < 0.0 {
                v.add(format!("assets[{i}].possible"), format!("must be a finite, non-negative time, got {possible}"));
                continue;
            }
            if possible > length + tolerance(length) {
                v.add(format!("assets[{i}].possible"), format!("{possible} exceeds the timeframe's length {length}"));
            }
            check_times(&format!("assets[{i}].time"), &asset.time, possible, "the asset's possible time", v);
            all += possible;
            if asset.pmai {
                pmai += possible;
            }
        }
        // Reported assets cannot hold more possible time than the inventory has;
        // less is fine: the difference is UPNR (para 6.1).
        if let Some(tai_possible) = tai_possible
            && all > tai_possible + tolerance(tai_possible)
        {
            v.add(
                "assets",
                format!(
                    "assets' possible time {all} exceeds TAI possible time {tai_possible} (inventory.tai × timeframe)"
                ),
            );
        }
        if let Some(pmai_possible) = pmai_possible
            && pmai > pmai_possible + tolerance(pmai_possible)
        {
            v.add("assets", format!("PMAI assets' possible time {pmai} exceeds PMAI possible time {pmai_possible} (inventory.pmai × timeframe)"));
        }
    }
}
