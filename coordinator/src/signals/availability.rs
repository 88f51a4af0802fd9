//! DoD Instruction 3110.05 metrics over stored availability reports: adapts
//! domain reports to `cosx-availability`, groups them as asked, and judges
//! each owner's TMS against its targets. Pure; rounding never happens here.

use std::collections::BTreeMap;

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

/// Everything `GetAvailabilityMetrics` answers.
#[derive(Debug, Clone, Default)]
pub struct AvailabilityMetrics {
    /// Metrics per group.
    pub metrics: Vec<(GroupKey, core::Rollup<()>)>,
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

/// One fleet's place in [`CurrentReports`]: owner and TMS.
type Fleet = (String, String);
/// A report's place within its fleet: timeframe, then id.
type Slot = (NaiveDate, NaiveDate, String);

/// The current version of every report, kept from the log by fleet (owner
/// × TMS) and, within a fleet, in timeframe order: a report replaces the
/// one it supersedes. Queries read it instead of the store, and a query
/// that names a fleet reads only that fleet.
#[derive(Debug, Default)]
pub struct CurrentReports {
    /// Where each current report is kept, by id.
    place: std::collections::HashMap<String, (Fleet, Slot)>,
    fleets: BTreeMap<Fleet, BTreeMap<Slot, KeptReport>>,
}

impl CurrentReports {
    /// Takes a stored report (from its log event).
    pub fn apply(&mut self, report: &AvailabilityReport, nation: Nation) {
        if let Some(old) = &report.supersedes {
            self.remove(old);
        }
        self.remove(&report.id);
        let d = &report.draft;
        let fleet = (d.reporter.to_string(), d.tms.to_string());
        let slot = (d.timeframe_start, d.timeframe_end, report.id.clone());
        self.place.insert(report.id.clone(), (fleet.clone(), slot.clone()));
        self.fleets.entry(fleet).or_default().insert(slot, KeptReport::new(report.clone(), nation));
    }

    fn remove(&mut self, id: &str) {
        let Some((fleet, slot)) = self.place.remove(id) else { return };
        if let Some(reports) = self.fleets.get_mut(&fleet) {
            reports.remove(&slot);
            if reports.is_empty() {
                self.fleets.remove(&fleet);
            }
        }
    }

    /// Every current report, by fleet and timeframe.
    pub fn iter(&self) -> impl Iterator<Item = &KeptReport> {
        self.fleets.values().flat_map(|r| r.values())
    }

    /// The fleets `q` can match (by its owner and TMS), each with its
    /// reports in timeframe order.
    fn fleets<'a>(&'a self, q: &'a MetricsQuery) -> impl Iterator<Item = (&'a Fleet, &'a BTreeMap<Slot, KeptReport>)> {
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
/// see (each with its owner's nation) and `targets`; excessive C/DA is
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
    let mut assessed: Vec<Assessed<'_>> = Vec::new();
    let mut health = Vec::new();
    for ((owner, tms), reports) in current.fleets(q) {
        let first = assessed.len();
        // Every report of the fleet, whatever the dates asked: C/DA growth
        // is judged on the fiscal years before the review year, which a
        // date range must not silently cut away.
        let mut whole: Vec<&core::ReportAssessment> = Vec::new();
        let mut category = None;
        for kept in reports.values() {
            let (r, nation) = (&kept.report, &kept.nation);
            let d = &r.draft;
            let keep = visible(r)
                && q.department.is_none_or(|dep| d.department == Some(dep))
                && q.nation.as_ref().is_none_or(|n| nation.as_str() == n)
                && q.region.is_none_or(|reg| d.region == reg);
            if !keep {
                continue;
            }
            let assessment = match &kept.assessment {
                Ok(a) => a,
                // Reports are validated on submission; one that no longer passes is left out loudly.
                Err(e) => {
                    tracing::warn!(report = %r.id, error = %e, "availability report left out of metrics");
                    continue;
                }
            };
            whole.push(assessment);
            if q.from.is_none_or(|f| d.timeframe_start >= f) && q.to.is_none_or(|t| d.timeframe_end <= t) {
                category.get_or_insert(d.system_category);
                assessed.push(Assessed { assessment, department: d.department, nation, region: d.region });
            }
        }
        let Some(category) = category else { continue };
        let members: Vec<&core::ReportAssessment> = assessed[first..].iter().map(|a| a.assessment).collect();
        let target = core::find_target(&core_targets, owner, tms).cloned();
        let core_category = self::category(category);
        // The rolling averages and high non-availability of the reports asked for ...
        let Some(asked) = core::fleet_health(core_category, &members, target.as_ref(), review_year)? else { continue };
        // ... and C/DA, with its flag, of every report of the fleet.
        let (cda_by_fiscal_year, excessive_cda) = if whole.len() == members.len() {
            (asked.cda_by_fiscal_year, asked.excessive_cda)
        } else {
            match core::fleet_health(core_category, &whole, target.as_ref(), review_year)? {
                Some(w) => (w.cda_by_fiscal_year, w.excessive_cda),
                None => (asked.cda_by_fiscal_year, asked.excessive_cda),
            }
        };
        health.push(TmsHealth {
            owner: owner.clone(),
            tms: tms.clone(),
            category,
            rolling: asked.rolling,
            target,
            high_non_availability: asked.high_non_availability,
            cda_by_fiscal_year,
            excessive_cda,
        });
    }

    let mut groups: BTreeMap<GroupKey, Vec<&core::ReportAssessment>> = BTreeMap::new();
    for a in &assessed {
        let s = a.assessment;
        let key = match q.group_by {
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
            metrics.push((key, rollup));
        }
    }

    let reports_considered = assessed.len();
    let assets =
        if q.include_assets { assessed.into_iter().map(|a| a.assessment.clone()).collect() } else { Vec::new() };
    Ok(AvailabilityMetrics { metrics, health, assets, reports_considered })
}
