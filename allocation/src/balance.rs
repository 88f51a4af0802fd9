//! Workload balance under 10 U.S.C. § 2466 ("50/50"): depot-level work per
//! Military Department and fiscal year, split organic / contract, in dollars
//! (integer cents) and labor hours; plus per-provider utilization of offered
//! capacity and shares by nation and by region.
//!
//! The statute limits the share of the funds *made available in a fiscal
//! year*, so work counts in the fiscal year of its funds; the fiscal year of
//! the work's date stands in only when the funds' year is unknown, and every
//! balance says how much of it each rule attributed ([`attributed_fiscal_year`]).
//! Shares by nation and region count where the work is performed (the
//! provider's site), never where the item is (DESIGN §2, workload balance).
//!
//! Sources are kept apart: completed work (actuals), accepted and in-progress
//! work (estimates), proposed work (estimates, reported but left out of the
//! projection unless asked), and baseline work done outside the exchange.
//! The statutory status is decided on dollars with exact integer arithmetic;
//! the hours share is reported beside it with its own status.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::{Department, FiscalYear, MaintenanceLevel, Nation, ProviderKind, Region};
use crate::error::{InputError, invalid};
use crate::model::{CapacityOffer, CapacityUnit};

/// Statutory limit on the contract share: 50.00 %, in basis points.
pub const STATUTORY_LIMIT_BP: u32 = 5_000;

/// Where a piece of work stands, which decides how it is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WorkSource {
    /// Completed work: actual cost and hours.
    Completed,
    /// Accepted by the provider, not yet started: estimate.
    Accepted,
    /// Inducted / in work: estimate.
    InProgress,
    /// Proposed to a provider, not yet accepted: estimate, shown separately.
    Proposed,
}

/// Which rule chose the fiscal year a piece of work counts in for 50/50.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FiscalYearBasis {
    /// The fiscal year of the funds paying for the work (10 U.S.C. 2466:
    /// "funds made available in a fiscal year").
    Funds,
    /// The funds' year was unknown: the fiscal year of the work's date.
    WorkDate,
}

/// The fiscal year work counts in for 50/50: the fiscal year of its funds
/// when known, else the fiscal year containing `work_date` (DESIGN §2,
/// workload balance; 10 U.S.C. 2466). The one place this rule lives.
pub fn attributed_fiscal_year(funds: Option<FiscalYear>, work_date: NaiveDate) -> (FiscalYear, FiscalYearBasis) {
    match funds {
        Some(fy) => (fy, FiscalYearBasis::Funds),
        None => (FiscalYear::containing(work_date), FiscalYearBasis::WorkDate),
    }
}

/// One order's work as seen by balance accounting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkRecord {
    /// Repair order id.
    pub order_id: String,
    /// Performing provider.
    pub provider_id: String,
    /// Kind of the performing provider.
    pub provider_kind: ProviderKind,
    /// Nation of the site where the work is performed (the offer's site),
    /// not of the item's location: counts in [`shares_by_nation`].
    pub site_nation: Nation,
    /// Region (combatant command area) of the site where the work is
    /// performed, not of the item's location: counts in [`shares_by_region`].
    pub site_region: Region,
    /// Department paying for US-owned work; `None` for partner-owned work.
    pub department: Option<Department>,
    /// Fiscal year of the funds paying for the work (the US appropriation's
    /// fiscal year), when known; decides the 50/50 fiscal year.
    #[serde(default)]
    pub funds_fiscal_year: Option<FiscalYear>,
    /// Maintenance level; only `DEPOT` counts toward 50/50.
    pub maintenance_level: MaintenanceLevel,
    /// Completed, accepted, in progress or proposed.
    pub source: WorkSource,
    /// Date the work is counted on: decides the utilization period, and the
    /// 50/50 fiscal year only when `funds_fiscal_year` is unknown.
    pub performed_on: NaiveDate,
    /// Actual (completed) or estimated cost, cents.
    pub cost_cents: i64,
    /// Actual or estimated labor hours.
    pub labor_hours: f64,
    /// Number of items (induction slots).
    pub quantity: u32,
}

/// Depot-level work done outside the exchange, entered per department and FY.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineWork {
    /// Department.
    pub department: Department,
    /// Fiscal year.
    pub fiscal_year: FiscalYear,
    /// Organic (federal) performance, cents.
    pub organic_cents: i64,
    /// Contract (non-federal) performance, cents.
    pub contract_cents: i64,
    /// Organic labor hours.
    pub organic_hours: f64,
    /// Contract labor hours.
    pub contract_hours: f64,
}

/// How balances are computed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BalanceConfig {
    /// Warning threshold in basis points (4500 = 45.00 %); warns when share >= threshold.
    pub warning_threshold_bp: u32,
    /// Count partner-government depots as organic (default: they are contract).
    pub partner_government_is_organic: bool,
    /// Include proposed work in the projected share (default: no).
    pub include_proposed: bool,
}

impl Default for BalanceConfig {
    fn default() -> Self {
        BalanceConfig { warning_threshold_bp: 4_500, partner_government_is_organic: false, include_proposed: false }
    }
}

/// Organic / contract split in dollars and hours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// Organic cents.
    pub organic_cents: i64,
    /// Contract cents.
    pub contract_cents: i64,
    /// Organic labor hours.
    pub organic_hours: f64,
    /// Contract labor hours.
    pub contract_hours: f64,
}

impl Split {
    fn add(&mut self, other: &Split) {
        self.organic_cents += other.organic_cents;
        self.contract_cents += other.contract_cents;
        self.organic_hours += other.organic_hours;
        self.contract_hours += other.contract_hours;
    }

    fn add_work(&mut self, contract: bool, cents: i64, hours: f64) {
        if contract {
            self.contract_cents += cents;
            self.contract_hours += hours;
        } else {
            self.organic_cents += cents;
            self.organic_hours += hours;
        }
    }

    /// Contract share of dollars, `None` when there is no work.
    pub fn contract_share_dollars(&self) -> Option<f64> {
        let total = self.organic_cents + self.contract_cents;
        (total > 0).then(|| self.contract_cents as f64 / total as f64)
    }

    /// Contract share of labor hours, `None` when there are no hours.
    pub fn contract_share_hours(&self) -> Option<f64> {
        let total = self.organic_hours + self.contract_hours;
        (total > 0.0).then(|| self.contract_hours / total)
    }
}

/// Standing against the 50/50 limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BalanceStatus {
    /// Below the warning threshold.
    Ok,
    /// At or above the warning threshold, not above 50 %.
    Warning,
    /// Contract share above 50 %.
    Violation,
}

/// Status of a dollar split, exact in integers: violation when
/// `contract / total > 50 %`, warning when `contract / total >= threshold`.
pub fn dollar_status(split: &Split, warning_threshold_bp: u32) -> BalanceStatus {
    let c = i128::from(split.contract_cents);
    let t = i128::from(split.organic_cents) + c;
    if t <= 0 {
        BalanceStatus::Ok
    } else if c * 10_000 > i128::from(STATUTORY_LIMIT_BP) * t {
        BalanceStatus::Violation
    } else if c * 10_000 >= i128::from(warning_threshold_bp) * t {
        BalanceStatus::Warning
    } else {
        BalanceStatus::Ok
    }
}

fn hours_status(split: &Split, warning_threshold_bp: u32) -> BalanceStatus {
    let c = split.contract_hours;
    let t = split.organic_hours + c;
    if t <= 0.0 {
        BalanceStatus::Ok
    } else if c * 10_000.0 > f64::from(STATUTORY_LIMIT_BP) * t {
        BalanceStatus::Violation
    } else if c * 10_000.0 >= f64::from(warning_threshold_bp) * t {
        BalanceStatus::Warning
    } else {
        BalanceStatus::Ok
    }
}

impl WorkRecord {
    /// The fiscal year this work counts in for 50/50, and which rule chose it.
    pub fn fiscal_year_counted(&self) -> (FiscalYear, FiscalYearBasis) {
        attributed_fiscal_year(self.funds_fiscal_year, self.performed_on)
    }
}

/// Balance of one department in one fiscal year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartmentBalance {
    /// Department.
    pub department: Department,
    /// Fiscal year.
    pub fiscal_year: FiscalYear,
    /// Completed work (actuals).
    pub actual: Split,
    /// Accepted and in-progress work (estimates).
    pub estimated: Split,
    /// Proposed work (estimates), shown separately.
    pub proposed: Split,
    /// Baseline work outside the exchange.
    pub baseline: Split,
    /// actual + estimated + baseline (+ proposed when configured).
    pub projected: Split,
    /// The part of `projected` (exchange work, not baseline) counted in this
    /// FY because its funds are of this FY ([`FiscalYearBasis::Funds`]).
    pub by_funds_year: Split,
    /// The part of `projected` (exchange work, not baseline) counted in this
    /// FY by its work date, its funds' year being unknown
    /// ([`FiscalYearBasis::WorkDate`]). `by_funds_year + by_work_date +
    /// baseline = projected`.
    pub by_work_date: Split,
    /// The exchange work of `projected` (not the baseline, which is entered
    /// per fiscal year) by the calendar month of its work date, oldest
    /// first, so a chart can follow the share through the year. The months'
    /// sum is `by_funds_year + by_work_date`.
    pub by_month: Vec<MonthlyWork>,
    /// Projected contract share of dollars.
    pub contract_share: Option<f64>,
    /// Projected contract share of labor hours.
    pub contract_share_hours: Option<f64>,
    /// Statutory status, decided on dollars.
    pub status: BalanceStatus,
    /// The same test applied to labor hours (informative).
    pub hours_status: BalanceStatus,
}

fn check_config(config: &BalanceConfig) -> Result<(), InputError> {
    if config.warning_threshold_bp > 10_000 {
        return Err(invalid(
            "config.warning_threshold_bp",
            format!("expected 0..=10000 basis points, got {}", config.warning_threshold_bp),
        ));
    }
    Ok(())
}

fn check_record(i: usize, r: &WorkRecord) -> Result<(), InputError> {
    if r.cost_cents < 0 {
        return Err(invalid(format!("work[{i}].cost_cents"), format!("must not be negative, got {}", r.cost_cents)));
    }
    if !(r.labor_hours.is_finite() && r.labor_hours >= 0.0) {
        return Err(invalid(
            format!("work[{i}].labor_hours"),
            format!("must be finite and >= 0, got {}", r.labor_hours),
        ));
    }
    Ok(())
}

/// Computes the 50/50 balance of every department and fiscal year that has
/// depot-level work or a baseline entry, sorted by department then FY.
///
/// Only records with a department and `DEPOT` level count. Baseline entries
/// for the same department and FY are summed.
pub fn department_balances(
    work: &[WorkRecord],
    baseline: &[BaselineWork],
    config: &BalanceConfig,
) -> Result<Vec<DepartmentBalance>, InputError> {
    check_config(config)?;
    // Per key: [completed, estimated, proposed] × [by funds year, by work date],
    // the baseline, and the projected exchange work per [completed,
    // estimated, proposed] by month of its work date.
    type BySourceAndBasis = [[Split; 2]; 3];
    type ByMonth = BTreeMap<NaiveDate, [Split; 3]>;
    let mut acc: BTreeMap<(Department, FiscalYear), (BySourceAndBasis, Split, ByMonth)> = BTreeMap::new();
    for (i, r) in work.iter().enumerate() {
        check_record(i, r)?;
        let Some(dept) = r.department else { continue };
        if r.maintenance_level != MaintenanceLevel::Depot {
            continue;
        }
        let slot = match r.source {
            WorkSource::Completed => 0,
            WorkSource::Accepted | WorkSource::InProgress => 1,
            WorkSource::Proposed => 2,
        };
        let (fy, basis) = r.fiscal_year_counted();
        let basis = match basis {
            FiscalYearBasis::Funds => 0,
            FiscalYearBasis::WorkDate => 1,
        };
        let contract = r.provider_kind.counts_as_contract(config.partner_government_is_organic);
        let entry = acc.entry((dept, fy)).or_default();
        entry.0[slot][basis].add_work(contract, r.cost_cents, r.labor_hours);
        let month = r.performed_on.with_day(1).unwrap_or(r.performed_on);
        entry.2.entry(month).or_default()[slot].add_work(contract, r.cost_cents, r.labor_hours);
    }
    for (i, b) in baseline.iter().enumerate() {
        for (name, v) in [("organic_cents", b.organic_cents), ("contract_cents", b.contract_cents)] {
            if v < 0 {
                return Err(invalid(format!("baseline[{i}].{name}"), format!("must not be negative, got {v}")));
            }
        }
        for (name, v) in [("organic_hours", b.organic_hours), ("contract_hours", b.contract_hours)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(invalid(format!("baseline[{i}].{name}"), format!("must be finite and >= 0, got {v}")));
            }
        }
        acc.entry((b.department, b.fiscal_year)).or_default().1.add(&Split {
            organic_cents: b.organic_cents,
            contract_cents: b.contract_cents,
            organic_hours: b.organic_hours,
            contract_hours: b.contract_hours,
        });
    }
    Ok(acc
        .into_iter()
        .map(|((department, fiscal_year), (sources, base, months))| {
            let total = |slot: &[Split; 2]| {
                let mut s = slot[0];
                s.add(&slot[1]);
                s
            };
            let [actual, estimated, proposed] = [total(&sources[0]), total(&sources[1]), total(&sources[2])];
            let projected_slots: &[usize] = if config.include_proposed { &[0, 1, 2] } else { &[0, 1] };
            let (mut by_funds_year, mut by_work_date) = (Split::default(), Split::default());
            for &slot in projected_slots {
                by_funds_year.add(&sources[slot][0]);
                by_work_date.add(&sources[slot][1]);
            }
            let mut projected = base;
            projected.add(&by_funds_year);
            projected.add(&by_work_date);
            let mut so_far = Split::default();
            let by_month = months
                .into_iter()
                .filter_map(|(month, slots)| {
                    let mut work = Split::default();
                    for &slot in projected_slots {
                        work.add(&slots[slot]);
                    }
                    so_far.add(&work);
                    (work != Split::default()).then(|| MonthlyWork {
                        month,
                        work,
                        cumulative_contract_share: so_far.contract_share_dollars(),
                    })
                })
                .collect();
            DepartmentBalance {
                department,
                fiscal_year,
                actual,
                estimated,
                proposed,
                baseline: base,
                projected,
                by_funds_year,
                by_work_date,
                by_month,
                contract_share: projected.contract_share_dollars(),
                contract_share_hours: projected.contract_share_hours(),
                status: dollar_status(&projected, config.warning_threshold_bp),
                hours_status: hours_status(&projected, config.warning_threshold_bp),
            }
        })
        .collect())
}

/// Exchange work counted in a department's fiscal year, in one calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MonthlyWork {
    /// First day of the month.
    pub month: NaiveDate,
    /// Organic and contract work in the month.
    pub work: Split,
    /// Contract share of the dollars of the exchange work in this and the
    /// earlier months (the baseline, not dated, left out).
    pub cumulative_contract_share: Option<f64>,
}

/// Use of one provider's offered capacity in one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderUtilization {
    /// Provider.
    pub provider_id: String,
    /// Period start (inclusive).
    pub period_start: NaiveDate,
    /// Period end (inclusive).
    pub period_end: NaiveDate,
    /// Unit of `offered` and `used`.
    pub unit: CapacityUnit,
    /// Capacity offered in the period (summed over the provider's offers).
    pub offered: f64,
    /// Work counted in the period: hours, or quantity for slots.
    pub used: f64,
    /// `used / offered`, `None` when nothing is offered.
    pub utilization: Option<f64>,
}

/// Utilization per provider and offered period. A record counts in every
/// period of its provider (and unit) whose dates contain `performed_on`;
/// proposed work counts only when `config.include_proposed`. Work on dates
/// outside all offered periods is not shown (nothing was offered there).
pub fn provider_utilization(
    offers: &[CapacityOffer],
    work: &[WorkRecord],
    config: &BalanceConfig,
) -> Result<Vec<ProviderUtilization>, InputError> {
    check_config(config)?;
    let mut rows: BTreeMap<(String, NaiveDate, NaiveDate, CapacityUnit), f64> = BTreeMap::new();
    for o in offers {
        for p in &o.periods {
            *rows.entry((o.provider_id.clone(), p.start, p.end, o.unit)).or_default() += p.capacity;
        }
    }
    let mut used: BTreeMap<(String, NaiveDate, NaiveDate, CapacityUnit), f64> = BTreeMap::new();
    for (i, r) in work.iter().enumerate() {
        check_record(i, r)?;
        if r.source == WorkSource::Proposed && !config.include_proposed {
            continue;
        }
        for ((pid, start, end, unit), _) in
            rows.range((r.provider_id.clone(), NaiveDate::MIN, NaiveDate::MIN, CapacityUnit::LaborHours)..)
        {
            if *pid != r.provider_id {
                break;
            }
            if *start <= r.performed_on && r.performed_on <= *end {
                let amount = match unit {
                    CapacityUnit::LaborHours => r.labor_hours,
                    CapacityUnit::InductionSlots => f64::from(r.quantity),
                };
                *used.entry((pid.clone(), *start, *end, *unit)).or_default() += amount;
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|(key, offered)| {
            let u = used.get(&key).copied().unwrap_or(0.0);
            let (provider_id, period_start, period_end, unit) = key;
            ProviderUtilization {
                provider_id,
                period_start,
                period_end,
                unit,
                offered,
                used: u,
                utilization: (offered > 0.0).then(|| u / offered),
            }
        })
        .collect())
}

/// Share of counted work held by one nation or region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareRow<K> {
    /// Nation or region.
    pub key: K,
    /// Cents of work.
    pub cents: i64,
    /// Labor hours of work.
    pub hours: f64,
    /// Share of all counted cents.
    pub share_of_cents: Option<f64>,
    /// Share of all counted hours.
    pub share_of_hours: Option<f64>,
}

fn shares<K: Ord + Clone>(
    work: &[WorkRecord],
    config: &BalanceConfig,
    key: impl Fn(&WorkRecord) -> K,
) -> Result<Vec<ShareRow<K>>, InputError> {
    let mut acc: BTreeMap<K, (i64, f64)> = BTreeMap::new();
    let (mut tc, mut th) = (0i64, 0.0f64);
    for (i, r) in work.iter().enumerate() {
        check_record(i, r)?;
        if r.source == WorkSource::Proposed && !config.include_proposed {
            continue;
        }
        let e = acc.entry(key(r)).or_default();
        e.0 += r.cost_cents;
        e.1 += r.labor_hours;
        tc += r.cost_cents;
        th += r.labor_hours;
    }
    Ok(acc
        .into_iter()
        .map(|(key, (cents, hours))| ShareRow {
            key,
            cents,
            hours,
            share_of_cents: (tc > 0).then(|| cents as f64 / tc as f64),
            share_of_hours: (th > 0.0).then(|| hours / th),
        })
        .collect())
}

/// Share of all work (every level and owner, proposed only when configured)
/// by the nation of the site where it is performed.
pub fn shares_by_nation(work: &[WorkRecord], config: &BalanceConfig) -> Result<Vec<ShareRow<Nation>>, InputError> {
    shares(work, config, |r| r.site_nation.clone())
}

/// Share of all work (every level and owner, proposed only when configured)
/// by region of the site where it is performed.
pub fn shares_by_region(work: &[WorkRecord], config: &BalanceConfig) -> Result<Vec<ShareRow<Region>>, InputError> {
    shares(work, config, |r| r.site_region)
}
