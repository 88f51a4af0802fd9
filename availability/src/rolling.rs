//! The "latest 6 month rolling average A_M or A_O" of the high
//! non-availability flag (DoDI 3110.05 para 2.2.d.(1)(b)).
//!
//! The instruction does not define the average. We take it time-weighted:
//! sum of available time / sum of possible time over the six calendar months
//! ending with the latest month — the formula of Figures 1 and 2 applied to a
//! six-month T_F. A mean of six monthly ratios would instead weigh a 28-day
//! February like a 31-day month and a month with half the fleet like a full
//! one, and is undefined when a month has no possible time.
//!
//! Only reports wholly inside the window enter the average: a report of a
//! quarter that begins before the window, or of a whole year, says nothing
//! about how its time divides between months, so it is counted in
//! `reports_not_inside` instead and a fleet that reports only once a year has
//! no six-month average (A_M and A_O are monthly metrics, Table 1). The
//! fleet's size, on the other hand, is a count of assets and is taken from
//! whatever report covers the latest month ([`fleet_size`]), so the
//! inventory thresholds are judged the same for every reporting cadence.
//!
//! Pure arithmetic; never reads the clock (the caller names the month).

use std::borrow::Borrow;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::assessment::{ReportAssessment, TimeAccount};
use crate::error::AvailabilityError;
use crate::fleet::{InventorySource, fleet_size};
use crate::time::{Timeframe, out_of_range};

/// Months in the rolling window.
pub const ROLLING_MONTHS: u32 = 6;

/// Six-month time-weighted availability of a group of assessments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollingAvailability {
    /// The six calendar months, first day of the first to last day of the last.
    pub window: Timeframe,
    /// The window's last calendar month.
    pub latest_month: Timeframe,
    /// Assessments whose timeframe lies inside the window.
    pub reports: usize,
    /// Distinct calendar months (of the timeframes' last days) with data;
    /// fewer than 6 means the average rests on part of the window.
    pub months_with_data: u32,
    /// Reports that overlap the window without lying inside it (a quarter
    /// reaching back before it, a whole year): left out of the average.
    pub reports_not_inside: usize,
    /// The fleet's TAI in the latest month ([`fleet_size`]), whatever the
    /// reporting cadence: the inventory the flag thresholds are applied to.
    pub latest_tai: u64,
    /// The fleet's PMAI in the latest month ([`fleet_size`]).
    pub latest_pmai: u64,
    /// The reports `latest_tai` and `latest_pmai` were taken from, one per owner and TMS.
    pub inventory_from: Vec<InventorySource>,
    /// Summed TAI account over the window.
    pub tai_time: TimeAccount,
    /// Summed PMAI account over the window.
    pub pmai_time: TimeAccount,
    /// Σ TAI available / Σ TAI possible; `None` with no possible time.
    pub a_m: Option<f64>,
    /// Σ PMAI available / Σ PMAI possible; `None` with no possible time.
    pub a_o: Option<f64>,
}

/// Six-month rolling availability for the window ending with the calendar
/// month containing `through`. Pass one weapon system's effective
/// assessments; those whose timeframe is not wholly inside the window are
/// left out of the average but still give the fleet's size. Takes owned
/// or borrowed assessments.
pub fn six_month_rolling<A: Borrow<ReportAssessment>>(
    assessments: &[A],
    through: NaiveDate,
) -> Result<RollingAvailability, AvailabilityError> {
    let latest_month = Timeframe::month_of(through)?;
    let first =
        latest_month.first.checked_sub_months(Months::new(ROLLING_MONTHS - 1)).ok_or_else(|| out_of_range(through))?;
    let window = Timeframe { first, last: latest_month.last };
    let fleet = fleet_size(assessments, latest_month);
    let mut out = RollingAvailability {
        window,
        latest_month,
        reports: 0,
        months_with_data: 0,
        reports_not_inside: 0,
        latest_tai: fleet.tai,
        latest_pmai: fleet.pmai,
        inventory_from: fleet.from_reports,
        tai_time: TimeAccount::default(),
        pmai_time: TimeAccount::default(),
        a_m: None,
        a_o: None,
    };
    let mut months = std::collections::BTreeSet::new();
    for a in assessments.iter().map(Borrow::borrow) {
        if !window.contains(&a.timeframe) {
            if a.timeframe.overlaps(&window) {
                out.reports_not_inside += 1;
            }
            continue;
        }
        out.reports += 1;
        months.insert((a.timeframe.last.year(), a.timeframe.last.month()));
        out.tai_time.absorb(&a.tai_time);
        out.pmai_time.absorb(&a.pmai_time);
    }
    out.months_with_data = u32::try_from(months.len()).unwrap_or(u32::MAX);
    out.a_m = out.tai_time.availability();
    out.a_o = out.pmai_time.availability();
    Ok(out)
}

/// [`six_month_rolling`] ending with the month of the latest timeframe end
/// among the assessments; `None` when there are none.
pub fn latest_six_month_rolling<A: Borrow<ReportAssessment>>(
    assessments: &[A],
) -> Result<Option<RollingAvailability>, AvailabilityError> {
    match assessments.iter().map(|a| a.borrow().timeframe.last).max() {
        Some(latest) => six_month_rolling(assessments, latest).map(Some),
        None => Ok(None),
    }
}
