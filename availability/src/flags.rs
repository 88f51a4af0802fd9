//! The two sustainment-health flags of DoDI 3110.05 para 2.2.d:
//!
//! * **High non-availability** — "(a) TAI or PMAI is 10 or greater for an
//!   aircraft, 5 or greater for a ship or submarine, and 50 or greater for a
//!   ground vehicle" and "(b) the latest 6 month rolling average A_M or A_O
//!   ... is 25 percent or more below the ... A_M or A_O target". We pair TAI
//!   with A_M and PMAI with A_O (A_M measures the TAI, A_O the PMAI, para
//!   3.1), and read "25 percent below target" relative to the target:
//!   fires when `average <= target × 0.75`. A_M and A_O are fractions, and
//!   "percent below a target" is a share of that target; the instruction
//!   says "percent", not "percentage points".
//! * **Excessive C/DA** — "(a) PMAI is 10 or greater ..." and "(b) the C/DA
//!   metric, calculated on a fiscal year (FY) basis, has increased by more
//!   than 10 percent for each of the 3 previous FYs": for review year Y,
//!   each of Y-3, Y-2 and Y-1 must exceed its own previous year by more than
//!   10 %, so four years of C/DA (Y-4 to Y-1) are needed. Exactly 10 % does
//!   not fire. The review year is the one the caller names, else the fiscal
//!   year of the caller's current date ([`review_fiscal_year`]) — not the
//!   year of the latest report, so on 1 October the three years just closed
//!   are judged without waiting for the new year's first report. The review
//!   year's own C/DA never enters the judgement.
//!
//! Both inventory conditions are judged on the fleet's size
//! ([`fleet_size`](crate::fleet_size)), whatever the reporting cadence.
//!
//! The glossary repeats both with "TAI" alone; we follow the operative text
//! of para 2.2.d. Float comparisons at the boundaries allow a relative slack
//! of 10^-9 so that a value computed to be exactly on the boundary is judged
//! as on it: exactly 25 % below fires, exactly 10 % growth does not.
//!
//! Pure judgements over computed metrics; no I/O.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::fiscal::FiscalYear;
use crate::report::SystemCategory;
use crate::rolling::RollingAvailability;
use crate::rollup::FiscalYearCda;
use crate::target::Target;

/// Fraction of the target at or below which availability is "25 percent or more below".
pub const HIGH_NON_AVAILABILITY_FRACTION_OF_TARGET: f64 = 0.75;
/// C/DA growth that must be exceeded in each of the 3 previous FYs.
pub const EXCESSIVE_CDA_GROWTH: f64 = 0.10;
/// Number of consecutive previous FYs whose growth must exceed 10 %.
pub const EXCESSIVE_CDA_YEARS: i32 = 3;

const SLACK: f64 = 1e-9;

/// One half (A_M or A_O) of the high non-availability check, with its inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NonAvailabilityCheck {
    /// TAI (for A_M) or PMAI (for A_O) of the latest month.
    pub inventory: u64,
    /// Inventory threshold for the category.
    pub threshold: u32,
    /// Latest six-month rolling average.
    pub rolling_average: Option<f64>,
    /// The Service's target.
    pub target: Option<f64>,
    /// target × 0.75: the average fires at or below this.
    pub trigger_at_or_below: Option<f64>,
    /// Inventory at or above threshold, and average at or below the trigger.
    pub fires: bool,
}

impl NonAvailabilityCheck {
    fn judge(inventory: u64, threshold: u32, rolling_average: Option<f64>, target: Option<f64>) -> Self {
        let trigger = target.map(|t| t * HIGH_NON_AVAILABILITY_FRACTION_OF_TARGET);
        let below = match (rolling_average, trigger) {
            (Some(avg), Some(trigger)) => avg <= trigger + SLACK * trigger.abs().max(1.0),
            _ => false,
        };
        NonAvailabilityCheck {
            inventory,
            threshold,
            rolling_average,
            target,
            trigger_at_or_below: trigger,
            fires: inventory >= u64::from(threshold) && below,
        }
    }
}

/// The high non-availability flag with both of its checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HighNonAvailability {
    /// TAI and A_M.
    pub a_m: NonAvailabilityCheck,
    /// PMAI and A_O.
    pub a_o: NonAvailabilityCheck,
}

impl HighNonAvailability {
    /// True when either A_M or A_O fires.
    pub fn fires(&self) -> bool {
        self.a_m.fires || self.a_o.fires
    }
}

/// Judges high non-availability from a weapon system's latest six-month
/// rolling availability and its target. A missing average or target never fires.
pub fn high_non_availability(
    category: SystemCategory,
    rolling: &RollingAvailability,
    target: &Target,
) -> HighNonAvailability {
    let threshold = category.flag_inventory_threshold();
    HighNonAvailability {
        a_m: NonAvailabilityCheck::judge(rolling.latest_tai, threshold, rolling.a_m, target.a_m),
        a_o: NonAvailabilityCheck::judge(rolling.latest_pmai, threshold, rolling.a_o, target.a_o),
    }
}

/// Growth of C/DA in one fiscal year over the year before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdaGrowth {
    /// The year judged.
    pub fiscal_year: FiscalYear,
    /// C/DA of the year before; `None` if unknown.
    pub previous: Option<f64>,
    /// C/DA of the year; `None` if unknown.
    pub current: Option<f64>,
    /// current / previous - 1; `None` if either is unknown or previous is zero.
    pub growth: Option<f64>,
    /// current > previous × 1.10.
    pub more_than_ten_percent: bool,
}

/// The fiscal year an excessive C/DA review judges: `named` when the caller
/// names one, else the fiscal year containing `today` (the caller's current
/// date; this crate never reads a clock).
pub fn review_fiscal_year(named: Option<FiscalYear>, today: NaiveDate) -> FiscalYear {
    named.unwrap_or_else(|| FiscalYear::containing(today))
}

/// The excessive C/DA flag with its inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExcessiveCda {
    /// The review fiscal year Y; its 3 previous years' growth is judged.
    pub assessed: FiscalYear,
    /// The fiscal years whose C/DA the judgement was made from, oldest
    /// first: Y-4 to Y-1. A year among them without C/DA (no report, or no
    /// PMAI available days) shows as `None` in `years` and stops the flag.
    pub cda_fiscal_years: Vec<FiscalYear>,
    /// PMAI the threshold was applied to.
    pub pmai: u64,
    /// Inventory threshold for the category.
    pub threshold: u32,
    /// Growth of Y-3, Y-2, Y-1, oldest first.
    pub years: Vec<CdaGrowth>,
    /// PMAI at or above threshold and all three years grew by more than 10 %.
    pub fires: bool,
}

/// Judges excessive C/DA for the review year `assessed` (see
/// [`review_fiscal_year`]) from fiscal-year C/DA (as
/// [`cda_by_fiscal_year`](crate::cda_by_fiscal_year) returns it) and the
/// fleet's PMAI ([`fleet_size`](crate::fleet_size), e.g.
/// [`RollingAvailability::latest_pmai`]). A year without C/DA never counts as growth.
pub fn excessive_cda(
    category: SystemCategory,
    pmai: u64,
    by_fiscal_year: &[FiscalYearCda],
    assessed: FiscalYear,
) -> ExcessiveCda {
    let cda_of = |fy: FiscalYear| {
        by_fiscal_year.iter().find(|c| c.fiscal_year == fy).and_then(|c| c.cost_per_day_of_availability)
    };
    let years: Vec<CdaGrowth> = (1..=EXCESSIVE_CDA_YEARS)
        .rev()
        .map(|back| {
            let fiscal_year = FiscalYear(assessed.year() - back);
            let previous = cda_of(fiscal_year.previous());
            let current = cda_of(fiscal_year);
            let (growth, more) = match (previous, current) {
                (Some(p), Some(c)) => {
                    let bar = p * (1.0 + EXCESSIVE_CDA_GROWTH);
                    let growth = (p > 0.0).then(|| c / p - 1.0);
                    (growth, c > bar + SLACK * bar.abs().max(1.0))
                }
                _ => (None, false),
            };
            CdaGrowth { fiscal_year, previous, current, growth, more_than_ten_percent: more }
        })
        .collect();
    let threshold = category.flag_inventory_threshold();
    let fires = pmai >= u64::from(threshold) && years.iter().all(|y| y.more_than_ten_percent);
    let cda_fiscal_years = (0..=EXCESSIVE_CDA_YEARS).rev().map(|back| FiscalYear(assessed.year() - 1 - back)).collect();
    ExcessiveCda { assessed, cda_fiscal_years, pmai, threshold, years, fires }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_five_percent_below_target_is_relative_to_the_target_and_inclusive() {
        // Exactly 25 % below a 0.8 target is 0.6: it fires ("25 percent or more").
        let at = NonAvailabilityCheck::judge(10, 10, Some(0.6), Some(0.8));
        assert!(at.fires);
        let just_above = NonAvailabilityCheck::judge(10, 10, Some(0.600_001), Some(0.8));
        assert!(!just_above.fires);
        // Relative, not percentage points: 0.8 - 0.25 = 0.55 would not be the bar.
        let between = NonAvailabilityCheck::judge(10, 10, Some(0.58), Some(0.8));
        assert!(between.fires);
        let below_threshold = NonAvailabilityCheck::judge(9, 10, Some(0.1), Some(0.8));
        assert!(!below_threshold.fires);
    }
}
