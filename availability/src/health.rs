//! The health of one owner's weapon system as `GetAvailabilityMetrics`
//! answers it: the latest six-month rolling availability, the high
//! non-availability flag against the owner's target, C/DA per fiscal year,
//! and the excessive C/DA flag for a review year (DoDI 3110.05 para 2.2.d).
//! One function, so the full recomputation and the incremental
//! [`Ledger`](crate::Ledger) judge a fleet by the same steps.
//!
//! Pure; no I/O, no clock (the caller names the review year).

use std::borrow::Borrow;

use serde::{Deserialize, Serialize};

use crate::assessment::ReportAssessment;
use crate::error::AvailabilityError;
use crate::fiscal::{self, FiscalYear};
use crate::flags::{ExcessiveCda, HighNonAvailability, excessive_cda, high_non_availability};
use crate::report::SystemCategory;
use crate::rolling::{RollingAvailability, latest_six_month_rolling};
use crate::rollup::{FiscalYearCda, cda_by_fiscal_year};
use crate::target::Target;

/// Rolling availability, C/DA by fiscal year and both flags of one fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetHealth {
    /// Six months ending with the latest reported month, and the fleet's size in it.
    pub rolling: RollingAvailability,
    /// High non-availability, judged against the target (none set: never fires).
    pub high_non_availability: HighNonAvailability,
    /// C/DA per fiscal year, oldest first; reports straddling 1 October are left out.
    pub cda_by_fiscal_year: Vec<FiscalYearCda>,
    /// Excessive C/DA for the review year, on the fleet's latest PMAI.
    pub excessive_cda: ExcessiveCda,
}

/// Judges one owner's weapon system from its effective assessments (any
/// order gives the same flags; pass them in timeframe order for sums that
/// agree to the last bit with [`Ledger`](crate::Ledger)). `None` when there
/// are no assessments. Takes owned or borrowed assessments.
pub fn fleet_health<A: Borrow<ReportAssessment>>(
    category: SystemCategory,
    assessments: &[A],
    target: Option<&Target>,
    review_year: FiscalYear,
) -> Result<Option<FleetHealth>, AvailabilityError> {
    let Some(rolling) = latest_six_month_rolling(assessments)? else { return Ok(None) };
    let within_fiscal_year: Vec<&ReportAssessment> =
        assessments.iter().map(Borrow::borrow).filter(|a| fiscal::of_timeframe(&a.timeframe).is_some()).collect();
    let cda = cda_by_fiscal_year(within_fiscal_year)?;
    Ok(Some(judge(category, rolling, target, cda, review_year)))
}

/// The flags from already computed rolling availability and C/DA per
/// fiscal year (as [`fleet_health`] computes them, or as a view keeps them).
pub fn judge(
    category: SystemCategory,
    rolling: RollingAvailability,
    target: Option<&Target>,
    cda_by_fiscal_year: Vec<FiscalYearCda>,
    review_year: FiscalYear,
) -> FleetHealth {
    let unset = Target { owner: String::new(), tms: String::new(), a_m: None, a_o: None };
    let high_non_availability = high_non_availability(category, &rolling, target.unwrap_or(&unset));
    let excessive_cda = excessive_cda(category, rolling.latest_pmai, &cda_by_fiscal_year, review_year);
    FleetHealth { rolling, high_non_availability, cda_by_fiscal_year, excessive_cda }
}
