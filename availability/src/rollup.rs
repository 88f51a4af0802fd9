//! Roll-ups: metrics per TMS and timeframe, per fiscal year, or per any group
//! the caller names (owner, Military Department, nation, region). Times and
//! costs are summed and the ratios recomputed from the sums — averaging
//! ratios would weigh a 2-aircraft fleet like a 200-aircraft one. Ships roll
//! up into class-level metrics the same way (DoDI 3110.05 para 3.4.b).
//!
//! Pure arithmetic over assessments; no I/O, no rounding.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::assessment::{ReportAssessment, TimeAccount, cost_per_day_of_availability};
use crate::cost::CostBreakdown;
use crate::error::{AvailabilityError, Violations};
use crate::fiscal::FiscalYear;
use crate::time::{Days, Timeframe};

/// Sums of a group of assessments and the metrics recomputed from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollup<K> {
    /// The group.
    pub key: K,
    /// How many reports were summed.
    pub reports: usize,
    /// Sum of the reports' TAI. A count of assets only when every report
    /// covers a different owner in the same timeframe; across timeframes it
    /// is asset-timeframes.
    pub tai_inventory: u64,
    /// Sum of the reports' PMAI (same caveat).
    pub pmai_inventory: u64,
    /// Summed TAI account.
    pub tai_time: TimeAccount,
    /// Summed PMAI account.
    pub pmai_time: TimeAccount,
    /// Summed costs.
    pub costs: CostBreakdown,
    /// A_M of the sums.
    pub a_m: Option<f64>,
    /// A_O of the sums.
    pub a_o: Option<f64>,
    /// C/DA of the sums, cents per PMAI available day.
    pub cost_per_day_of_availability: Option<f64>,
}

impl<K> Rollup<K> {
    fn empty(key: K) -> Self {
        Rollup {
            key,
            reports: 0,
            tai_inventory: 0,
            pmai_inventory: 0,
            tai_time: TimeAccount::default(),
            pmai_time: TimeAccount::default(),
            costs: CostBreakdown::default(),
            a_m: None,
            a_o: None,
            cost_per_day_of_availability: None,
        }
    }

    fn absorb(&mut self, a: &ReportAssessment) -> Result<(), AvailabilityError> {
        self.reports += 1;
        self.tai_inventory += u64::from(a.tai);
        self.pmai_inventory += u64::from(a.pmai);
        self.tai_time.absorb(&a.tai_time);
        self.pmai_time.absorb(&a.pmai_time);
        self.costs.absorb(&a.costs)
    }

    fn finish(mut self) -> Self {
        self.a_m = self.tai_time.availability();
        self.a_o = self.pmai_time.availability();
        self.cost_per_day_of_availability =
            cost_per_day_of_availability(self.costs.cda_cents, self.pmai_time.available);
        self
    }
}

/// Rolls assessments up by any key the caller computes, e.g.
/// `|a| (a.tms.clone(), a.timeframe)` or `|a| region_of(&a.owner)`.
/// Pass the assessments of [`effective_reports`](crate::effective_reports)
/// only, or corrections will be counted twice.
/// Takes any sequence of assessment references (`&vec`, `&slice[..]`, an iterator).
pub fn roll_up<'a, K, F, I>(assessments: I, key: F) -> Result<Vec<Rollup<K>>, AvailabilityError>
where
    K: Ord + Clone,
    F: Fn(&ReportAssessment) -> K,
    I: IntoIterator<Item = &'a ReportAssessment>,
{
    let mut groups: BTreeMap<K, Rollup<K>> = BTreeMap::new();
    for a in assessments {
        let k = key(a);
        groups.entry(k.clone()).or_insert_with(|| Rollup::empty(k)).absorb(a)?;
    }
    Ok(groups.into_values().map(Rollup::finish).collect())
}

/// Key of the standard per-TMS roll-up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TmsTimeframe {
    /// TMS (class for ships).
    pub tms: String,
    /// Timeframe.
    pub timeframe: Timeframe,
}

/// Metrics per TMS and timeframe, all owners summed.
pub fn by_tms_and_timeframe(assessments: &[ReportAssessment]) -> Result<Vec<Rollup<TmsTimeframe>>, AvailabilityError> {
    roll_up(assessments, |a| TmsTimeframe { tms: a.tms.clone(), timeframe: a.timeframe })
}

/// C/DA of one fiscal year: C/DA cost of the year over PMAI available days of the year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiscalYearCda {
    /// The fiscal year.
    pub fiscal_year: FiscalYear,
    /// Reports summed.
    pub reports: usize,
    /// Cost elements 1.2 + 3.1 + 3.2, cents.
    pub cda_cents: i64,
    /// Other elements, cents (not in C/DA).
    pub excluded_cents: i64,
    /// PMAI available days.
    pub pmai_available: Days,
    /// C/DA in cents per day; `None` with no available days.
    pub cost_per_day_of_availability: Option<f64>,
}

/// C/DA per fiscal year of the given assessments (normally one owner's one
/// TMS; filter first). Every timeframe must lie inside one fiscal year;
/// one straddling 1 October is refused (`assessments[2].timeframe`).
/// Takes any sequence of assessment references, like [`roll_up`].
pub fn cda_by_fiscal_year<'a, I>(assessments: I) -> Result<Vec<FiscalYearCda>, AvailabilityError>
where
    I: IntoIterator<Item = &'a ReportAssessment>,
{
    let assessments: Vec<&ReportAssessment> = assessments.into_iter().collect();
    let mut v = Violations::default();
    for (i, a) in assessments.iter().enumerate() {
        if crate::fiscal::of_timeframe(&a.timeframe).is_none() {
            v.add(format!("assessments[{i}].timeframe"), format!("{} straddles 1 October", a.timeframe));
        }
    }
    v.into_result()?;
    let rollups = roll_up(assessments.iter().copied(), |a| FiscalYear::containing(a.timeframe.first))?;
    Ok(rollups
        .into_iter()
        .map(|r| FiscalYearCda {
            fiscal_year: r.key,
            reports: r.reports,
            cda_cents: r.costs.cda_cents,
            excluded_cents: r.costs.excluded_cents,
            pmai_available: r.pmai_time.available,
            cost_per_day_of_availability: r.cost_per_day_of_availability,
        })
        .collect())
}
