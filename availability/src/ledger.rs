//! The incremental form of the availability metrics: a [`Ledger`] holds the
//! effective (newest) assessment of every report and the C/DA of each
//! fleet's fiscal years, and is kept up to date one report at a time — a
//! report added, superseded by a higher version, or withdrawn — so a query
//! no longer re-assesses every current report. Its answers are those of the
//! full recomputation ([`effective_reports`](crate::effective_reports),
//! [`assess`], [`fleet_health`](crate::fleet_health), [`roll_up`](crate::roll_up)) to the last bit:
//! it keeps each fleet's assessments in timeframe order and recomputes the
//! one fiscal year a change touches from that year's reports, so every sum
//! is taken in the same order as the full recomputation takes it.
//!
//! Supersession is the rule of [`crate::corrections`]: per owner, TMS and
//! timeframe the highest version counts; a lower version arriving late is
//! ignored, the same version again is a no-op when identical and refused
//! when different.
//!
//! Pure in-memory state; never does I/O and never reads a clock. The caller
//! feeds it from its event log and may attach attributes `A` of its own to
//! each report (department, nation, region) for filtering and grouping.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::assessment::{ReportAssessment, assess};
use crate::error::{AvailabilityError, FieldViolation};
use crate::fiscal::{self, FiscalYear};
use crate::health::{FleetHealth, judge};
use crate::report::{AvailabilityReport, SystemCategory};
use crate::rolling::latest_six_month_rolling;
use crate::rollup::{FiscalYearCda, cda_by_fiscal_year};
use crate::target::Target;
use crate::time::Timeframe;

/// One owner's weapon system (TMS, or ship class).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FleetKey {
    /// Reporting owner.
    pub owner: String,
    /// TMS (class for ships).
    pub tms: String,
}

/// What [`Ledger::apply`] did with a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    /// The first report of its owner, TMS and timeframe.
    Added,
    /// It replaced a lower version, which no longer counts.
    Superseded {
        /// The version replaced.
        previous_version: i64,
    },
    /// A higher version is held; the report was ignored (a late event).
    Stale {
        /// The version that keeps counting.
        held_version: i64,
    },
    /// The same version with the same content was already held (a replay).
    Unchanged,
}

#[derive(Debug, Clone)]
struct FleetBook<A> {
    /// Effective assessments in timeframe order.
    assessments: Vec<ReportAssessment>,
    /// The caller's attributes, parallel to `assessments`.
    attributes: Vec<A>,
    /// C/DA per fiscal year of the reports lying inside one fiscal year.
    cda: BTreeMap<FiscalYear, FiscalYearCda>,
}

impl<A> FleetBook<A> {
    fn new() -> Self {
        FleetBook { assessments: Vec::new(), attributes: Vec::new(), cda: BTreeMap::new() }
    }

    fn position(&self, timeframe: &Timeframe) -> Result<usize, usize> {
        self.assessments.binary_search_by(|a| a.timeframe.cmp(timeframe))
    }

    /// Recomputes the C/DA of the fiscal year `timeframe` lies in, if it lies in one.
    fn refresh_cda(&mut self, timeframe: &Timeframe) -> Result<(), AvailabilityError> {
        let Some(fy) = fiscal::of_timeframe(timeframe) else { return Ok(()) };
        let year = fiscal::timeframe(fy)?;
        let lo = self.assessments.partition_point(|a| a.timeframe.first < year.first);
        let hi = self.assessments.partition_point(|a| a.timeframe.first <= year.last);
        let members = self.assessments[lo..hi].iter().filter(|a| fiscal::of_timeframe(&a.timeframe) == Some(fy));
        match cda_by_fiscal_year(members)?.pop() {
            Some(cda) => self.cda.insert(fy, cda),
            None => self.cda.remove(&fy),
        };
        Ok(())
    }

    /// The category of the report with the latest timeframe end.
    fn category(&self) -> Option<SystemCategory> {
        self.assessments.iter().max_by_key(|a| (a.timeframe.last, a.timeframe.first)).map(|a| a.category)
    }
}

/// The effective assessments of every fleet, kept up to date report by report.
#[derive(Debug, Clone)]
pub struct Ledger<A = ()> {
    fleets: BTreeMap<FleetKey, FleetBook<A>>,
    reports: usize,
}

impl<A> Default for Ledger<A> {
    fn default() -> Self {
        Ledger { fleets: BTreeMap::new(), reports: 0 }
    }
}

impl<A> Ledger<A> {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Assesses `report` and applies it: see [`Ledger::apply_assessed`].
    /// An invalid report is refused and changes nothing.
    pub fn apply(&mut self, report: &AvailabilityReport, attributes: A) -> Result<Applied, AvailabilityError> {
        self.apply_assessed(assess(report)?, attributes)
    }

    /// Applies an assessed report: it counts unless a version at least as
    /// high is held for its owner, TMS and timeframe. The same version with
    /// different figures is refused, as [`effective_reports`](crate::effective_reports)
    /// refuses it, and changes nothing.
    pub fn apply_assessed(&mut self, a: ReportAssessment, attributes: A) -> Result<Applied, AvailabilityError> {
        let key = FleetKey { owner: a.owner.clone(), tms: a.tms.clone() };
        let book = self.fleets.entry(key).or_insert_with(FleetBook::new);
        let timeframe = a.timeframe;
        let applied = match book.position(&timeframe) {
            Ok(i) => {
                let held = &book.assessments[i];
                if held.version > a.version {
                    return Ok(Applied::Stale { held_version: held.version });
                }
                if held.version == a.version {
                    if *held == a {
                        book.attributes[i] = attributes;
                        return Ok(Applied::Unchanged);
                    }
                    return Err(AvailabilityError::Invalid(vec![FieldViolation::new(
                        "version",
                        format!(
                            "version {} of {} {} {} is already held with other figures; a correction needs a higher version",
                            a.version, a.owner, a.tms, a.timeframe
                        ),
                    )]));
                }
                let previous_version = held.version;
                let held = std::mem::replace(&mut book.assessments[i], a);
                if let Err(e) = book.refresh_cda(&timeframe) {
                    // e.g. the year's cost overflows: the held version keeps counting.
                    book.assessments[i] = held;
                    book.refresh_cda(&timeframe)?;
                    return Err(e);
                }
                book.attributes[i] = attributes;
                Applied::Superseded { previous_version }
            }
            Err(i) => {
                book.assessments.insert(i, a);
                if let Err(e) = book.refresh_cda(&timeframe) {
                    book.assessments.remove(i);
                    book.refresh_cda(&timeframe)?;
                    return Err(e);
                }
                book.attributes.insert(i, attributes);
                self.reports += 1;
                Applied::Added
            }
        };
        Ok(applied)
    }

    /// Withdraws the report of `owner`, `tms` and `timeframe`; it no longer
    /// counts, and a later report of any version for the key counts again.
    pub fn remove(
        &mut self,
        owner: &str,
        tms: &str,
        timeframe: Timeframe,
    ) -> Result<Option<(ReportAssessment, A)>, AvailabilityError> {
        let key = FleetKey { owner: owner.to_string(), tms: tms.to_string() };
        let Some(book) = self.fleets.get_mut(&key) else { return Ok(None) };
        let Ok(i) = book.position(&timeframe) else { return Ok(None) };
        let removed = (book.assessments.remove(i), book.attributes.remove(i));
        self.reports -= 1;
        book.refresh_cda(&timeframe)?;
        if book.assessments.is_empty() {
            self.fleets.remove(&key);
        }
        Ok(Some(removed))
    }

    /// Number of effective reports held.
    pub fn len(&self) -> usize {
        self.reports
    }

    /// True when no report is held.
    pub fn is_empty(&self) -> bool {
        self.reports == 0
    }

    /// Every effective assessment with its attributes, in (owner, TMS,
    /// timeframe) order — the order of [`effective_reports`](crate::effective_reports).
    pub fn assessments(&self) -> impl Iterator<Item = (&ReportAssessment, &A)> {
        self.fleets.values().flat_map(|b| b.assessments.iter().zip(b.attributes.iter()))
    }

    /// The fleets held, each with its effective assessments in timeframe order.
    pub fn fleets(&self) -> impl Iterator<Item = (&FleetKey, &[ReportAssessment])> {
        self.fleets.iter().map(|(k, b)| (k, b.assessments.as_slice()))
    }

    /// One fleet's effective assessments in timeframe order.
    pub fn fleet(&self, owner: &str, tms: &str) -> Option<&[ReportAssessment]> {
        self.fleets.get(&FleetKey { owner: owner.to_string(), tms: tms.to_string() }).map(|b| b.assessments.as_slice())
    }

    /// One fleet's C/DA per fiscal year, oldest first, as kept: equal to
    /// [`cda_by_fiscal_year`] over its reports lying inside one fiscal year.
    pub fn cda_by_fiscal_year(&self, owner: &str, tms: &str) -> Vec<FiscalYearCda> {
        self.fleets
            .get(&FleetKey { owner: owner.to_string(), tms: tms.to_string() })
            .map(|b| b.cda.values().cloned().collect())
            .unwrap_or_default()
    }

    /// One fleet's health for `review_year`, as [`fleet_health`](crate::fleet_health) computes it
    /// over the fleet's assessments with the category of its latest report;
    /// `None` when the fleet has no report.
    pub fn health(
        &self,
        owner: &str,
        tms: &str,
        target: Option<&Target>,
        review_year: FiscalYear,
    ) -> Result<Option<FleetHealth>, AvailabilityError> {
        let Some(book) = self.fleets.get(&FleetKey { owner: owner.to_string(), tms: tms.to_string() }) else {
            return Ok(None);
        };
        let (Some(category), Some(rolling)) = (book.category(), latest_six_month_rolling(&book.assessments)?) else {
            return Ok(None);
        };
        Ok(Some(judge(category, rolling, target, book.cda.values().cloned().collect(), review_year)))
    }
}
