//! DoD Instruction 3110.05 metrics over stored availability reports: adapts
//! domain reports to `cosx-availability`, groups them as asked, and judges
//! each owner's TMS against its targets. Pure; rounding never happens here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::NaiveDate;
use cosx_availability as core;
use cosx_domain::records::{AvailabilityReport, AvailabilityTarget};
use cosx_domain::{MilitaryDepartment, Nation, Region, SystemCategory};

pub use core::record::{category, to_core, validate};

/// How to group metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    /// Per TMS and timeframe.
    #[default]
    TmsTimeframe,
    /// Per fleet owner.
    Owner,
    /// Per Military Department.
    Department,
    /// Per nation of the owner.
    Nation,
    /// Per region.
    Region,
}

/// Which reports to count.
#[derive(Debug, Clone, Default)]
pub struct MetricsQuery {
    /// Only this TMS.
    pub tms: Option<String>,
    /// Only this owner.
    pub owner: Option<String>,
    /// Only this department.
    pub department: Option<MilitaryDepartment>,
    /// Only owners of this nation.
    pub nation: Option<String>,
    /// Only this region.
    pub region: Option<Region>,
    /// Only timeframes starting on or after.
    pub from: Option<NaiveDate>,
    /// Only timeframes ending on or before.
    pub to: Option<NaiveDate>,
    /// Grouping of the metrics.
    pub group_by: Grouping,
    /// Return per-asset rows too.
    pub include_assets: bool,
    /// The fiscal year excessive C/DA is reviewed for; `None`: the fiscal
    /// year of the caller's current date.
    pub review_fiscal_year: Option<core::FiscalYear>,
}

impl MetricsQuery {
    /// Whether this is the default grouping over every report (a TMS may be
    /// named): the groups the view keeps can answer it.
    fn asks_every_group(&self) -> bool {
        self.group_by == Grouping::TmsTimeframe
            && self.owner.is_none()
            && self.department.is_none()
            && self.nation.is_none()
            && self.region.is_none()
            && self.from.is_none()
            && self.to.is_none()
    }
}

/// The group a metric belongs to; fields the grouping does not use are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupKey {
    /// TMS.
    pub tms: Option<String>,
    /// Timeframe.
    pub timeframe: Option<(NaiveDate, NaiveDate)>,
    /// Owner.
    pub owner: Option<String>,
    /// Department.
    pub department: Option<MilitaryDepartment>,
    /// Nation.
    pub nation: Option<String>,
    /// Region.
    pub region: Option<Region>,
}

/// Health of one owner's TMS.
#[derive(Debug, Clone)]
pub struct TmsHealth {
    /// Owner.
    pub owner: String,
    /// TMS.
    pub tms: String,
    /// Category.
    pub category: SystemCategory,
    /// Six-month rolling averages.
    pub rolling: core::RollingAvailability,
    /// Target, if set.
    pub target: Option<core::Target>,
    /// High non-availability judgement.
    pub high_non_availability: core::HighNonAvailability,
    /// C/DA per fiscal year.
    pub cda_by_fiscal_year: Vec<core::FiscalYearCda>,
    /// Excessive C/DA judgement.
    pub excessive_cda: core::ExcessiveCda,
}

impl TmsHealth {
    /// Fleet `owner` × `tms` judged on the reports asked for; C/DA and its
    /// flag from `of_whole` when the whole fleet judges differently.
    fn new(
        (owner, tms): (&String, &String),
        category: SystemCategory,
        target: Option<core::Target>,
        asked: core::FleetHealth,
        of_whole: Option<(Vec<core::FiscalYearCda>, core::ExcessiveCda)>,
    ) -> TmsHealth {
        let (cda_by_fiscal_year, excessive_cda) = of_whole.unwrap_or((asked.cda_by_fiscal_year, asked.excessive_cda));
        TmsHealth {
            owner: owner.clone(),
            tms: tms.clone(),
            category,
            rolling: asked.rolling,
            target,
            high_non_availability: asked.high_non_availability,
            cda_by_fiscal_year,
            excessive_cda,
        }
    }
}

/// One group's metrics.
pub type Metric = (GroupKey, Arc<core::Rollup<()>>);

/// Everything `GetAvailabilityMetrics` answers.
#[derive(Debug, Clone, Default)]
pub struct AvailabilityMetrics {
    /// Metrics per group (shared with the view when it keeps them).
    pub metrics: Vec<Metric>,
    /// Health per owner and TMS.
    pub health: Vec<TmsHealth>,
    /// Per-asset rows, when asked.
    pub assets: Vec<core::ReportAssessment>,
    /// Reports counted.
    pub reports_considered: usize,
}

/// A current report as the view keeps it: the record, its owner's nation,
/// and its assessment, made once when the report arrives.
#[derive(Debug, Clone)]
pub struct KeptReport {
    /// The report.
    pub report: AvailabilityReport,
    /// The reporter's nation.
    pub nation: Nation,
    /// Its DoDI 3110.05 assessment, or why it could not be assessed.
    pub assessment: Result<core::ReportAssessment, String>,
}

impl KeptReport {
    /// Assesses `report` once.
    pub fn new(report: AvailabilityReport, nation: Nation) -> KeptReport {
        let assessment = core::assess(&to_core(&report)).map_err(|e| e.to_string());
        KeptReport { report, nation, assessment }
    }
}

/// One fleet's current reports, and their C/DA per fiscal year kept as they change.
#[derive(Debug, Default)]
struct FleetReports {
    /// In timeframe order.
    reports: BTreeMap<Slot, KeptReport>,
    /// C/DA per fiscal year of the reports lying inside one, re-summed for
    /// the year a report changes, in the order `cda_by_fiscal_year` sums
    /// the whole fleet.
    cda: BTreeMap<core::FiscalYear, core::FiscalYearCda>,
    /// Years whose sum failed (it overflows): while any is, the fleet's
    /// health is computed afresh, so the failure is answered as it would be.
    failed: BTreeSet<core::FiscalYear>,
    /// What a query asking for the whole fleet needs, made by the first
    /// query after the fleet changes (so a report costs one pass over its
    /// own fleet, not every query a pass over every fleet).
    summary: std::sync::OnceLock<FleetSummary>,
}

/// One fleet's reports as a whole.
#[derive(Debug)]
struct FleetSummary {
    /// One report of each distinct releasability: a caller who may see
    /// these may see every report of the fleet (the reporter is the fleet's
    /// owner, so releasability is all the visibility rule can differ on).
    samples: Vec<Slot>,
    /// Whether every report was assessed.
    all_assessed: bool,
    /// The latest six-month rolling availability over every report.
    rolling: Result<Option<core::RollingAvailability>, core::AvailabilityError>,
}

impl FleetReports {
    /// The fleet's summary, made now if the fleet changed since the last one.
    fn summary(&self) -> &FleetSummary {
        self.summary.get_or_init(|| {
            let mut samples: Vec<(&Slot, &cosx_domain::Releasability)> = Vec::new();
            for (slot, kept) in &self.reports {
                let releasability = &kept.report.draft.releasability;
                if !samples.iter().any(|(_, r)| *r == releasability) {
                    samples.push((slot, releasability));
                }
            }
            let assessed: Vec<&core::ReportAssessment> =
                self.reports.values().filter_map(|kept| kept.assessment.as_ref().ok()).collect();
            FleetSummary {
                samples: samples.into_iter().map(|(slot, _)| slot.clone()).collect(),
                all_assessed: assessed.len() == self.reports.len(),
                rolling: core::latest_six_month_rolling(&assessed),
            }
        })
    }

    /// Whether `visible` lets the caller see every report of the fleet.
    fn all_visible(&self, visible: &impl Fn(&AvailabilityReport) -> bool) -> bool {
        self.summary().samples.iter().all(|slot| self.reports.get(slot).is_some_and(|kept| visible(&kept.report)))
    }

    /// Sums the fiscal year `timeframe` lies in again, if it lies in one.
    fn refresh_cda(&mut self, first: NaiveDate, last: NaiveDate) {
        let Some(fy) = core::fiscal::of_timeframe(&core::Timeframe { first, last }) else { return };
        let Ok(year) = core::fiscal::timeframe(fy) else { return };
        let members = self
            .reports
            .range((year.first, NaiveDate::MIN, String::new())..)
            .take_while(|((f, ..), _)| *f <= year.last)
            .filter_map(|(_, kept)| kept.assessment.as_ref().ok())
            .filter(|a| core::fiscal::of_timeframe(&a.timeframe) == Some(fy));
        match core::cda_by_fiscal_year(members) {
            Ok(mut years) => {
                self.failed.remove(&fy);
                match years.pop() {
                    Some(cda) => self.cda.insert(fy, cda),
                    None => self.cda.remove(&fy),
                };
            }
            Err(_) => {
                self.cda.remove(&fy);
                self.failed.insert(fy);
            }
        }
    }
}

/// One fleet's place in [`CurrentReports`]: owner and TMS.
type Fleet = (String, String);
/// A report's place within its fleet: timeframe, then id.
type Slot = (NaiveDate, NaiveDate, String);
/// A group of the default grouping: TMS and timeframe.
type TmsTimeframe = (String, NaiveDate, NaiveDate);

/// The current version of every report, kept from the log by fleet (owner
/// × TMS) and, within a fleet, in timeframe order: a report replaces the
/// one it supersedes. Queries read it instead of the store, and a query
/// that names a fleet reads only that fleet. It also keeps the metrics per
/// TMS and timeframe over every current report, re-summed for the one
/// group a report changes: the answer of the default query to a caller
/// who may see every report, without a pass over the reports.
#[derive(Debug, Default)]
pub struct CurrentReports {
    /// Where each current report is kept, by id.
    place: std::collections::HashMap<String, (Fleet, Slot)>,
    fleets: BTreeMap<Fleet, FleetReports>,
    /// The owners with a fleet of each TMS.
    owners: BTreeMap<String, BTreeSet<String>>,
    /// Metrics per TMS and timeframe over every current report.
    by_tms_timeframe: BTreeMap<TmsTimeframe, Arc<core::Rollup<()>>>,
}

impl CurrentReports {
    /// Takes a stored report (from its log event).
    pub fn apply(&mut self, report: &AvailabilityReport, nation: Nation) {
        let replaced: Vec<(Fleet, Slot)> =
            report.supersedes.iter().chain([&report.id]).filter_map(|id| self.detach(id)).collect();
        let d = &report.draft;
        let fleet = (d.reporter.to_string(), d.tms.to_string());
        let slot = (d.timeframe_start, d.timeframe_end, report.id.clone());
        self.place.insert(report.id.clone(), (fleet.clone(), slot.clone()));
        self.owners.entry(fleet.1.clone()).or_default().insert(fleet.0.clone());
        let book = self.fleets.entry(fleet.clone()).or_default();
        book.reports.insert(slot.clone(), KeptReport::new(report.clone(), nation));
        book.summary.take();
        // Each touched fiscal year and group is summed once (a correction
        // normally replaces a report of its own fleet and timeframe).
        let same = |(f, s): &(Fleet, Slot)| *f == fleet && (s.0, s.1) == (slot.0, slot.1);
        for (f, s) in replaced.iter().filter(|r| !same(r)) {
            self.resum(f, s);
        }
        self.resum(&fleet, &slot);
    }

    /// Takes report `id` out without re-summing anything; where it was.
    fn detach(&mut self, id: &str) -> Option<(Fleet, Slot)> {
        let (fleet, slot) = self.place.remove(id)?;
        if let Some(book) = self.fleets.get_mut(&fleet) {
            book.reports.remove(&slot);
            book.summary.take();
            if book.reports.is_empty() {
                self.fleets.remove(&fleet);
                if let Some(owners) = self.owners.get_mut(&fleet.1) {
                    owners.remove(&fleet.0);
                    if owners.is_empty() {
                        self.owners.remove(&fleet.1);
                    }
                }
            }
        }
        Some((fleet, slot))
    }

    /// Sums again what a report at `slot` of `fleet` counts in: the fleet's
    /// fiscal year and the TMS × timeframe group.
    fn resum(&mut self, fleet: &Fleet, slot: &Slot) {
        if let Some(book) = self.fleets.get_mut(fleet) {
            book.refresh_cda(slot.0, slot.1);
        }
        self.regroup(&fleet.1, slot.0, slot.1);
    }

    /// Sums group `tms` × `first`–`last` again from its members, owner by
    /// owner, as [`metrics`] sums it.
    fn regroup(&mut self, tms: &str, first: NaiveDate, last: NaiveDate) {
        let key = (tms.to_owned(), first, last);
        let from = (first, last, String::new());
        let members: Vec<&core::ReportAssessment> = self
            .owners
            .get(tms)
            .into_iter()
            .flatten()
            .filter_map(|owner| self.fleets.get(&(owner.clone(), key.0.clone())))
            .flat_map(|book| book.reports.range(&from..).take_while(|((f, l, _), _)| (*f, *l) == (first, last)))
            .filter_map(|(_, kept)| kept.assessment.as_ref().ok())
            .collect();
        match core::roll_up(members, |_| ()).map(|mut r| r.pop()) {
            Ok(Some(rollup)) => {
                self.by_tms_timeframe.insert(key, Arc::new(rollup));
            }
            Ok(None) => {
                self.by_tms_timeframe.remove(&key);
            }
            // Sums that overflow cannot be kept: the group is left to the full computation.
            Err(e) => {
                tracing::warn!(tms, %first, %last, error = %e, "availability group not kept");
                self.by_tms_timeframe.remove(&key);
            }
        }
    }

    /// The TMS × timeframe groups kept over every current report (of the
    /// TMS `q` names), if they count `counted` reports: a group whose sum
    /// failed is not kept, and then the reports must be summed.
    fn kept_groups(&self, q: &MetricsQuery, counted: usize) -> Option<Vec<Metric>> {
        let kept: Vec<Metric> = self
            .by_tms_timeframe
            .iter()
            .filter(|((tms, ..), _)| q.tms.as_ref().is_none_or(|t| t == tms))
            .map(|((tms, first, last), r)| {
                (
                    GroupKey { tms: Some(tms.clone()), timeframe: Some((*first, *last)), ..GroupKey::default() },
                    r.clone(),
                )
            })
            .collect();
        (kept.iter().map(|(_, r)| r.reports).sum::<usize>() == counted).then_some(kept)
    }

    /// Every current report, by fleet and timeframe.
    pub fn iter(&self) -> impl Iterator<Item = &KeptReport> {
        self.fleets.values().flat_map(|book| book.reports.values())
    }

    /// The fleets `q` can match (by its owner and TMS), each with its
    /// reports in timeframe order.
    fn fleets<'a>(&'a self, q: &'a MetricsQuery) -> impl Iterator<Item = (&'a Fleet, &'a FleetReports)> {
        let owned = q.owner.as_ref().map(|o| (o.clone(), String::new()));
        let from = owned.as_ref().map_or(std::ops::Bound::Unbounded, std::ops::Bound::Included);
        self.fleets
            .range::<Fleet, _>((from, std::ops::Bound::Unbounded))
            .take_while(move |((owner, _), _)| q.owner.as_ref().is_none_or(|o| owner == o))
            .filter(move |((_, tms), _)| q.tms.as_ref().is_none_or(|t| tms == t))
    }

    /// How many are current.
    pub fn len(&self) -> usize {
        self.place.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.place.is_empty()
    }
}

struct Assessed<'a> {
    assessment: &'a core::ReportAssessment,
    department: Option<MilitaryDepartment>,
    nation: &'a Nation,
    region: Region,
}

/// Computes the metrics over the current reports `visible` lets the caller
/// see (each with its owner's nation) and `targets`; `visible` judges a
/// report by its reporter and releasability only, as
/// `Coordinator::may_see_report` does (a fleet is answered whole when one
/// report of each releasability is visible); excessive C/DA is
/// reviewed for `q.review_fiscal_year`, else the fiscal year containing
/// `today`. Reads only the fleets `q` names; clones nothing it does not answer.
pub fn metrics(
    current: &CurrentReports,
    visible: impl Fn(&AvailabilityReport) -> bool,
    targets: &[AvailabilityTarget],
    q: &MetricsQuery,
    today: NaiveDate,
) -> Result<AvailabilityMetrics, core::AvailabilityError> {
    let review_year = core::review_fiscal_year(q.review_fiscal_year, today);
    let core_targets: Vec<core::Target> = targets
        .iter()
        .map(|t| core::Target {
            owner: t.draft.owner.to_string(),
            tms: t.draft.tms.to_string(),
            a_m: t.draft.a_m,
            a_o: t.draft.a_o,
        })
        .collect();
    match whole_fleets(current, &visible, &core_targets, q, review_year) {
        Some(answer) => Ok(answer),
        None => report_by_report(current, visible, &core_targets, q, review_year),
    }
}

/// The default query (by TMS and timeframe, no filter but owner or TMS,
/// no assets) by a caller who may see every report of each fleet it reads:
/// answered from what the view keeps per fleet and per group, so the cost
/// is the fleets and groups, not the reports. `None` whenever anything
/// else is asked or anything would differ from [`report_by_report`] (a
/// report hidden from the caller or unassessed, a sum that failed): that
/// path then answers, errors included.
fn whole_fleets(
    current: &CurrentReports,
    visible: &impl Fn(&AvailabilityReport) -> bool,
    core_targets: &[core::Target],
    q: &MetricsQuery,
    review_year: core::FiscalYear,
) -> Option<AvailabilityMetrics> {
    if !q.asks_every_group() || q.include_assets {
        return None;
    }
    let mut health = Vec::new();
    let mut considered = 0;
    for ((owner, tms), book) in current.fleets(q) {
        let summary = book.summary();
        if !summary.all_assessed || !book.failed.is_empty() || !book.all_visible(visible) {
            return None;
        }
        considered += book.reports.len();
        let Some(first) = book.reports.values().next() else { continue };
        let category = first.report.draft.system_category;
        let Some(rolling) = summary.rolling.clone().ok()? else { continue };
        let target = core::find_target(core_targets, owner, tms).cloned();
        let cda = book.cda.values().cloned().collect();
        let asked = core::judge(self::category(category), rolling, target.as_ref(), cda, review_year);
        health.push(TmsHealth::new((owner, tms), category, target, asked, None));
    }
    let metrics = current.kept_groups(q, considered)?;
    Some(AvailabilityMetrics { metrics, health, assets: Vec::new(), reports_considered: considered })
}

/// Any query, report by report: each report the caller may see and the
/// query asks for is counted.
fn report_by_report(
    current: &CurrentReports,
    visible: impl Fn(&AvailabilityReport) -> bool,
    core_targets: &[core::Target],
    q: &MetricsQuery,
    review_year: core::FiscalYear,
) -> Result<AvailabilityMetrics, core::AvailabilityError> {
    let mut assessed: Vec<Assessed<'_>> = Vec::new();
    let mut health = Vec::new();
    // Whether every report of the fleets read was counted (none hidden from
    // the caller, filtered out or unassessable).
    let mut counted_all = true;
    for ((owner, tms), book) in current.fleets(q) {
        let first = assessed.len();
        // Every report of the fleet, whatever the dates asked: C/DA growth
        // is judged on the fiscal years before the review year, which a
        // date range must not silently cut away.
        let mut whole: Vec<&core::ReportAssessment> = Vec::new();
        let mut category = None;
        let mut fleet_counted_all = true;
        for kept in book.reports.values() {
            let (r, nation) = (&kept.report, &kept.nation);
            let d = &r.draft;
            let keep = visible(r)
                && q.department.is_none_or(|dep| d.department == Some(dep))
                && q.nation.as_ref().is_none_or(|n| nation.as_str() == n)
                && q.region.is_none_or(|reg| d.region == reg);
            if !keep {
                fleet_counted_all = false;
                continue;
            }
            let assessment = match &kept.assessment {
                Ok(a) => a,
                // Reports are validated on submission; one that no longer passes is left out loudly.
                Err(e) => {
                    tracing::warn!(report = %r.id, error = %e, "availability report left out of metrics");
                    fleet_counted_all = false;
                    continue;
                }
            };
            whole.push(assessment);
            if q.from.is_none_or(|f| d.timeframe_start >= f) && q.to.is_none_or(|t| d.timeframe_end <= t) {
                category.get_or_insert(d.system_category);
                assessed.push(Assessed { assessment, department: d.department, nation, region: d.region });
            }
        }
        counted_all &= fleet_counted_all;
        let Some(category) = category else { continue };
        let members: Vec<&core::ReportAssessment> = assessed[first..].iter().map(|a| a.assessment).collect();
        let target = core::find_target(core_targets, owner, tms).cloned();
        let core_category = self::category(category);
        // Every report of the fleet counted and no dates asked: the C/DA
        // the view keeps per fiscal year is this fleet's.
        let kept_cda = (fleet_counted_all && whole.len() == members.len() && book.failed.is_empty())
            .then(|| book.cda.values().cloned().collect::<Vec<_>>());
        // The rolling averages and high non-availability of the reports asked for ...
        let asked = match kept_cda {
            Some(cda) => match core::latest_six_month_rolling(&members)? {
                Some(rolling) => core::judge(core_category, rolling, target.as_ref(), cda, review_year),
                None => continue,
            },
            None => match core::fleet_health(core_category, &members, target.as_ref(), review_year)? {
                Some(h) => h,
                None => continue,
            },
        };
        // ... and C/DA, with its flag, of every report of the fleet.
        let of_whole = if whole.len() == members.len() {
            None
        } else {
            core::fleet_health(core_category, &whole, target.as_ref(), review_year)?
                .map(|w| (w.cda_by_fiscal_year, w.excessive_cda))
        };
        health.push(TmsHealth::new((owner, tms), category, target, asked, of_whole));
    }

    // The default query, by a caller who may see every report: the groups
    // the view keeps are the answer (an error summing a group leaves it out
    // of the view, so a missing group falls back to summing here).
    let kept = (q.asks_every_group() && counted_all).then(|| current.kept_groups(q, assessed.len())).flatten();
    let metrics = match kept {
        Some(kept) => kept,
        None => summed(&assessed, q.group_by)?,
    };
    let reports_considered = assessed.len();
    let assets =
        if q.include_assets { assessed.into_iter().map(|a| a.assessment.clone()).collect() } else { Vec::new() };
    Ok(AvailabilityMetrics { metrics, health, assets, reports_considered })
}

/// The metrics of `assessed`, grouped as asked and summed.
fn summed(assessed: &[Assessed<'_>], group_by: Grouping) -> Result<Vec<Metric>, core::AvailabilityError> {
    let mut groups: BTreeMap<GroupKey, Vec<&core::ReportAssessment>> = BTreeMap::new();
    for a in assessed {
        let s = a.assessment;
        let key = match group_by {
            Grouping::TmsTimeframe => GroupKey {
                tms: Some(s.tms.clone()),
                timeframe: Some((s.timeframe.first, s.timeframe.last)),
                ..GroupKey::default()
            },
            Grouping::Owner => GroupKey { owner: Some(s.owner.clone()), ..GroupKey::default() },
            Grouping::Department => GroupKey { department: a.department, ..GroupKey::default() },
            Grouping::Nation => GroupKey { nation: Some(a.nation.to_string()), ..GroupKey::default() },
            Grouping::Region => GroupKey { region: Some(a.region), ..GroupKey::default() },
        };
        groups.entry(key).or_default().push(s);
    }
    let mut metrics = Vec::with_capacity(groups.len());
    for (key, members) in groups {
        if let Some(rollup) = core::roll_up(members, |_| ())?.into_iter().next() {
            metrics.push((key, Arc::new(rollup)));
        }
    }
    Ok(metrics)
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::{Datelike, TimeZone};
    use cosx_domain::records::{AvailabilityReportDraft, Inventory, TimeByCategory};
    use cosx_domain::{Money, PartyId, Releasability, TimeUnit, Tms};

    use super::*;

    fn report(
        i: u64,
        owner: &str,
        tms: &str,
        month: u32,
        available: f64,
        supersedes: Option<String>,
    ) -> AvailabilityReport {
        let start = NaiveDate::from_ymd_opt(2026, month, 1).unwrap();
        let end = start.checked_add_months(chrono::Months::new(1)).unwrap().pred_opt().unwrap();
        let days = f64::from(end.day());
        AvailabilityReport {
            id: format!("r{i}"),
            draft: AvailabilityReportDraft {
                reporter: PartyId::parse(owner).unwrap(),
                tms: Tms::parse(tms).unwrap(),
                system_category: SystemCategory::Aircraft,
                department: Some(MilitaryDepartment::AirForce),
                region: Region::Indopacom,
                timeframe_start: start,
                timeframe_end: end,
                time_unit: TimeUnit::Days,
                inventory: Inventory {
                    toai: None,
                    tai: 12,
                    pai: None,
                    bai: None,
                    pwr: None,
                    ar: None,
                    tii: None,
                    epsli: None,
                    pmai: 10,
                },
                tai_time: Some(TimeByCategory {
                    available: available.min(12.0 * days),
                    nmcm: 3.0,
                    nmcs: 2.0,
                    depot: 1.0,
                    upnr: 0.0,
                }),
                pmai_time: Some(TimeByCategory {
                    available: available.min(10.0 * days) * 0.8,
                    nmcm: 2.0,
                    nmcs: 1.0,
                    depot: 1.0,
                    upnr: 0.0,
                }),
                assets: Vec::new(),
                costs: vec![("3.2".into(), Money { currency: "USD".into(), amount_minor: (i as i64 + 1) * 1000 })],
                releasability: Releasability::default(),
            },
            version: 1,
            supersedes,
            create_time: chrono::Utc.timestamp_opt(0, 0).unwrap(),
        }
    }

    /// The next of a random sequence of reports over three owners, two TMS
    /// and twelve months, each superseding the last of its fleet and month.
    pub(crate) fn next_report(
        i: u64,
        seed: &mut u64,
        latest: &mut std::collections::HashMap<(usize, usize, u32), String>,
    ) -> AvailabilityReport {
        const OWNERS: [&str; 3] = ["US-USAF-OOALC", "JP-JASDF-AIR", "AU-RAAF-ALG"];
        const TMS: [&str; 2] = ["F-35A", "C-130J"];
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let (o, t, m) = ((*seed >> 33) as usize % 3, (*seed >> 40) as usize % 2, (*seed >> 45) as u32 % 12 + 1);
        let supersedes = latest.get(&(o, t, m)).cloned();
        let r = report(i, OWNERS[o], TMS[t], m, 200.0 + (*seed >> 50) as f64 % 100.0, supersedes);
        latest.insert((o, t, m), r.id.clone());
        r
    }

    /// The groups the view keeps, report by report, are what summing every
    /// current report answers, and the default query answers them.
    #[test]
    fn kept_groups_equal_a_full_recomputation_through_supersessions() {
        let mut current = CurrentReports::default();
        let mut latest = std::collections::HashMap::new();
        let mut seed = 7_u64;
        for i in 0..400_u64 {
            current.apply(&next_report(i, &mut seed, &mut latest), Nation::parse("USA").unwrap());
        }
        assert_eq!(current.len(), latest.len());
        let all: Vec<&core::ReportAssessment> = current.iter().filter_map(|k| k.assessment.as_ref().ok()).collect();
        let full = core::roll_up(all, |a| (a.tms.clone(), a.timeframe.first, a.timeframe.last)).unwrap();
        let kept: Vec<_> = current.by_tms_timeframe.iter().map(|(k, r)| (k.clone(), (**r).clone())).collect();
        assert_eq!(kept.len(), full.len());
        for ((key, rollup), expected) in kept.iter().zip(&full) {
            assert_eq!(key, &expected.key);
            assert_eq!(rollup.reports, expected.reports);
            assert_eq!(rollup.costs, expected.costs);
            assert_eq!(rollup.tai_time, expected.tai_time, "{key:?}");
            assert_eq!(rollup.a_m, expected.a_m);
        }
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let kept_answer = metrics(&current, |_| true, &[], &MetricsQuery::default(), today).unwrap();
        // A caller who may not see one report gets the groups summed afresh, without it.
        let hidden = current.iter().next().map(|k| k.report.id.clone()).unwrap();
        let summed = metrics(&current, |r| r.id != hidden, &[], &MetricsQuery::default(), today).unwrap();
        assert_eq!(kept_answer.metrics.len(), full.len());
        assert_eq!(kept_answer.reports_considered, current.len());
        assert_eq!(summed.reports_considered, current.len() - 1);
        let reports = |m: &AvailabilityMetrics| m.metrics.iter().map(|(_, r)| r.reports).sum::<usize>();
        assert_eq!((reports(&kept_answer), reports(&summed)), (current.len(), current.len() - 1));
        // Each fleet's health from the C/DA kept per fiscal year is what judging its reports afresh gives.
        let review = core::review_fiscal_year(None, today);
        for h in &kept_answer.health {
            let fleet: Vec<&core::ReportAssessment> = current
                .iter()
                .filter(|k| k.report.draft.reporter.as_str() == h.owner && k.report.draft.tms.as_str() == h.tms)
                .filter_map(|k| k.assessment.as_ref().ok())
                .collect();
            let fresh = core::fleet_health(core::SystemCategory::Aircraft, &fleet, None, review).unwrap().unwrap();
            assert_eq!(h.cda_by_fiscal_year, fresh.cda_by_fiscal_year, "{} {}", h.owner, h.tms);
            assert_eq!(h.excessive_cda, fresh.excessive_cda);
            assert_eq!(h.rolling, fresh.rolling);
        }
        // A TMS filter reads the kept groups of that TMS only.
        let f35 = MetricsQuery { tms: Some("F-35A".into()), ..MetricsQuery::default() };
        let only = metrics(&current, |_| true, &[], &f35, today).unwrap();
        assert!(only.metrics.iter().all(|(k, _)| k.tms.as_deref() == Some("F-35A")));
        assert_eq!(only.health.len(), 3);
    }

    /// The default query by a caller who may see whole fleets is answered
    /// from the fleets' summaries exactly as report by report; a caller who
    /// may not see one report, an unassessed report or a filter goes report
    /// by report.
    #[test]
    fn whole_fleets_answer_what_counting_report_by_report_answers() {
        let mut current = CurrentReports::default();
        let mut latest = std::collections::HashMap::new();
        let mut seed = 11_u64;
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let targets: Vec<AvailabilityTarget> = Vec::new();
        let core_targets: Vec<core::Target> = Vec::new();
        let review = core::review_fiscal_year(None, today);
        let q = MetricsQuery::default();
        for i in 0..300_u64 {
            let mut r = next_report(i, &mut seed, &mut latest);
            if i % 7 == 0 {
                r.draft.releasability.nations = vec![Nation::parse("JPN").unwrap()];
            }
            current.apply(&r, Nation::parse("USA").unwrap());
            if i % 50 == 49 {
                let fast = whole_fleets(&current, &|_: &AvailabilityReport| true, &core_targets, &q, review);
                let slow = report_by_report(&current, |_| true, &core_targets, &q, review).unwrap();
                assert_eq!(format!("{:?}", fast.expect("whole fleets")), format!("{slow:?}"), "after {i} reports");
            }
        }
        let by_tms = MetricsQuery { tms: Some("C-130J".into()), ..MetricsQuery::default() };
        let fast = whole_fleets(&current, &|_: &AvailabilityReport| true, &core_targets, &by_tms, review).unwrap();
        let slow = report_by_report(&current, |_| true, &core_targets, &by_tms, review).unwrap();
        assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
        // One report of a released class hidden: the caller goes report by report.
        let restricted = |r: &AvailabilityReport| r.draft.releasability.nations.is_empty();
        assert!(whole_fleets(&current, &restricted, &core_targets, &q, review).is_none());
        let answer = metrics(&current, restricted, &targets, &q, today).unwrap();
        assert!(answer.reports_considered < current.len());
        for asked in [
            MetricsQuery { include_assets: true, ..MetricsQuery::default() },
            MetricsQuery { owner: Some("US-USAF-OOALC".into()), ..MetricsQuery::default() },
            MetricsQuery { group_by: Grouping::Owner, ..MetricsQuery::default() },
        ] {
            assert!(whole_fleets(&current, &|_: &AvailabilityReport| true, &core_targets, &asked, review).is_none());
        }
    }
}
