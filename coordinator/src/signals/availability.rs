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

/// The current version of every report, kept from the log: a report
/// replaces the one it supersedes. Queries read it instead of the store.
#[derive(Debug, Default)]
pub struct CurrentReports {
    by_id: std::collections::HashMap<String, KeptReport>,
}

impl CurrentReports {
    /// Takes a stored report (from its log event).
    pub fn apply(&mut self, report: &AvailabilityReport, nation: Nation) {
        if let Some(old) = &report.supersedes {
            self.by_id.remove(old);
        }
        self.by_id.insert(report.id.clone(), KeptReport::new(report.clone(), nation));
    }

    /// Every current report.
    pub fn iter(&self) -> impl Iterator<Item = &KeptReport> {
        self.by_id.values()
    }

    /// How many are current.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

struct Assessed {
    assessment: core::ReportAssessment,
    category: SystemCategory,
    department: Option<MilitaryDepartment>,
    nation: Nation,
    region: Region,
}

/// Computes the metrics over `reports` (current versions, each with its
/// owner's nation) and `targets`; excessive C/DA is reviewed for
/// `q.review_fiscal_year`, else the fiscal year containing `today`.
pub fn metrics<'a>(
    reports: impl IntoIterator<Item = &'a KeptReport>,
    targets: &[AvailabilityTarget],
    q: &MetricsQuery,
    today: NaiveDate,
) -> Result<AvailabilityMetrics, core::AvailabilityError> {
    let mut assessed = Vec::new();
    // Every report of the selected fleets, whatever the dates asked: C/DA
    // growth is judged on the fiscal years before the review year, which a
    // date range must not silently cut away.
    let mut whole_fleets: BTreeMap<(String, String), Vec<core::ReportAssessment>> = BTreeMap::new();
    for kept in reports {
        let (r, nation) = (&kept.report, &kept.nation);
        let d = &r.draft;
        let keep = q.tms.as_ref().is_none_or(|t| d.tms.as_str() == t)
            && q.owner.as_ref().is_none_or(|o| d.reporter.as_str() == o)
            && q.department.is_none_or(|dep| d.department == Some(dep))
            && q.nation.as_ref().is_none_or(|n| nation.as_str() == n)
            && q.region.is_none_or(|reg| d.region == reg);
        if !keep {
            continue;
        }
        let in_dates = q.from.is_none_or(|f| d.timeframe_start >= f) && q.to.is_none_or(|t| d.timeframe_end <= t);
        match kept.assessment.clone() {
            Ok(assessment) if !in_dates => {
                whole_fleets.entry((assessment.owner.clone(), assessment.tms.clone())).or_default().push(assessment);
            }
            Ok(assessment) => assessed.push(Assessed {
                assessment,
                category: d.system_category,
                department: d.department,
                nation: nation.clone(),
                region: d.region,
            }),
            // Reports are validated on submission; one that no longer passes is left out loudly.
            Err(e) => tracing::warn!(report = %r.id, error = %e, "availability report left out of metrics"),
        }
    }

    let mut groups: BTreeMap<GroupKey, Vec<core::ReportAssessment>> = BTreeMap::new();
    for a in &assessed {
        let s = &a.assessment;
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
        groups.entry(key).or_default().push(s.clone());
    }
    let mut metrics = Vec::new();
    for (key, members) in groups {
        if let Some(rollup) = core::roll_up(&members, |_| ())?.into_iter().next() {
            metrics.push((key, rollup));
        }
    }

    let mut fleets: BTreeMap<(String, String), (SystemCategory, Vec<core::ReportAssessment>)> = BTreeMap::new();
    for a in &assessed {
        let s = &a.assessment;
        fleets.entry((s.owner.clone(), s.tms.clone())).or_insert_with(|| (a.category, Vec::new())).1.push(s.clone());
        whole_fleets.entry((s.owner.clone(), s.tms.clone())).or_default().push(s.clone());
    }
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
    let mut health = Vec::new();
    for ((owner, tms), (category, mut members)) in fleets {
        let target = core::find_target(&core_targets, &owner, &tms).cloned();
        members.sort_by_key(|a| (a.timeframe.first, a.timeframe.last));
        let core_category = self::category(category);
        // The rolling averages and high non-availability of the reports asked for ...
        let Some(asked) = core::fleet_health(core_category, &members, target.as_ref(), review_year)? else { continue };
        // ... and C/DA, with its flag, of every report of the fleet.
        let mut whole = whole_fleets.remove(&(owner.clone(), tms.clone())).unwrap_or_default();
        whole.sort_by_key(|a| (a.timeframe.first, a.timeframe.last));
        let whole = core::fleet_health(core_category, &whole, target.as_ref(), review_year)?;
        let (cda_by_fiscal_year, excessive_cda) = match whole {
            Some(w) => (w.cda_by_fiscal_year, w.excessive_cda),
            None => (asked.cda_by_fiscal_year, asked.excessive_cda),
        };
        health.push(TmsHealth {
            owner,
            tms,
            category,
            rolling: asked.rolling,
            target,
            high_non_availability: asked.high_non_availability,
            cda_by_fiscal_year,
            excessive_cda,
        });
    }

    let reports_considered = assessed.len();
    let assets = if q.include_assets { assessed.into_iter().map(|a| a.assessment).collect() } else { Vec::new() };
    Ok(AvailabilityMetrics { metrics, health, assets, reports_considered })
}
