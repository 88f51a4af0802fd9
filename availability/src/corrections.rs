//! Corrections: a Service may resend a report for the same owner, weapon
//! system and timeframe; the newest version is the one that counts, and
//! older versions are kept by the caller as history, never merged.
//!
//! Pure selection over values; no I/O, no clock (version numbers decide).

use std::collections::BTreeMap;

use crate::error::{AvailabilityError, Violations};
use crate::report::AvailabilityReport;
use crate::time::Timeframe;

/// The reports that count: for each (owner, TMS, timeframe) the one with the
/// highest `version`, in (owner, TMS, timeframe) order.
///
/// Two reports with the same key and the same version are ambiguous and
/// refused, naming both positions (`reports[4].version`).
pub fn effective_reports(reports: &[AvailabilityReport]) -> Result<Vec<&AvailabilityReport>, AvailabilityError> {
    let mut newest: BTreeMap<(&str, &str, Timeframe), (usize, &AvailabilityReport)> = BTreeMap::new();
    let mut v = Violations::default();
    for (i, report) in reports.iter().enumerate() {
        let key = (report.owner.as_str(), report.tms.as_str(), report.timeframe);
        match newest.get(&key) {
            Some((j, held)) if held.version == report.version => v.add(
                format!("reports[{i}].version"),
                format!(
                    "version {} of {} {} {} is also reports[{j}]; a correction needs a higher version",
                    report.version, report.owner, report.tms, report.timeframe
                ),
            ),
            Some((_, held)) if held.version > report.version => {}
            _ => {
                newest.insert(key, (i, report));
            }
        }
    }
    v.into_result()?;
    Ok(newest.into_values().map(|(_, r)| r).collect())
}
