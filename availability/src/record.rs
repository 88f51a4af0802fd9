//! The bridge from the exchange's stored availability reports
//! (`cosx_domain::AvailabilityReport`) to this crate's own report, and the
//! instruction's checks run on a report as submitted, naming each bad field
//! under the request's path. Every face that takes a report (the
//! coordinator, a party node) validates it here, so all refuse alike.
//!
//! Pure: no I/O; it never rounds or judges, only converts and checks.

use cosx_domain::records::{AvailabilityReport as StoredReport, TimeByCategory};
use cosx_domain::{SystemCategory as StoredCategory, TimeUnit as StoredUnit, Violations};

use crate::{
    AssetReport, AvailabilityError, AvailabilityReport, CategoryTimes, CostLine, FleetTimes, Inventory, ReportDetail,
    SystemCategory, TimeUnit, Timeframe,
};

/// Converts a stored report into the core's form.
pub fn to_core(r: &StoredReport) -> AvailabilityReport {
    let d = &r.draft;
    let times = |t: &TimeByCategory| CategoryTimes {
        available: t.available,
        nmcm: t.nmcm,
        nmcs: t.nmcs,
        depot: t.depot,
        upnr: t.upnr,
    };
    let detail = if d.assets.is_empty() {
        ReportDetail::Fleet(FleetTimes {
            tai_time: d.tai_time.as_ref().map(times).unwrap_or_default(),
            pmai_time: d.pmai_time.as_ref().map(times).unwrap_or_default(),
        })
    } else {
        ReportDetail::Assets(
            d.assets
                .iter()
                .map(|a| AssetReport {
                    serial: a.serial.clone(),
                    pmai: a.pmai,
                    possible: a.possible,
                    time: times(&a.time),
                })
                .collect(),
        )
    };
    let i = &d.inventory;
    AvailabilityReport {
        owner: d.reporter.to_string(),
        tms: d.tms.to_string(),
        category: category(d.system_category),
        timeframe: Timeframe { first: d.timeframe_start, last: d.timeframe_end },
        unit: match d.time_unit {
            StoredUnit::Days => TimeUnit::Days,
            StoredUnit::Hours => TimeUnit::Hours,
        },
        inventory: Inventory {
            toai: i.toai,
            tai: Some(i.tai),
            tii: i.tii,
            epsli: i.epsli,
            pai: i.pai,
            bai: i.bai,
            pwr: i.pwr,
            ar: i.ar,
            pmai: Some(i.pmai),
        },
        detail,
        costs: d
            .costs
            .iter()
            .map(|(element, m)| CostLine { element: element.clone(), cents: m.amount_minor })
            .collect(),
        version: r.version,
    }
}

/// The instruction's category of a stored system category.
pub fn category(c: StoredCategory) -> SystemCategory {
    match c {
        StoredCategory::Aircraft => SystemCategory::Aircraft,
        StoredCategory::Ship => SystemCategory::Ship,
        StoredCategory::Submarine => SystemCategory::Submarine,
        StoredCategory::GroundVehicle => SystemCategory::GroundVehicle,
    }
}

/// Runs the instruction's own checks on a report, naming fields under `prefix`.
pub fn validate(r: &StoredReport, prefix: &str, v: &mut Violations) {
    if let Err(AvailabilityError::Invalid(found)) = to_core(r).validate() {
        for f in found {
            // The core names fleet times `detail...`/`tai_time...`; keep its path under the request's prefix.
            v.add(format!("{prefix}.{}", f.field), f.description);
        }
    }
}
