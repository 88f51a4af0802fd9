//! The 50/50 workload balance kept up to date from the event log, so that
//! `GetWorkloadBalance` and the balance alerts never re-read every order.
//!
//! Each order's current work record (by lifecycle state, see
//! [`super::balance::work_records`]) is remembered so a later change can
//! take it back out; the sums are kept per department × fiscal year ×
//! source × provider kind, per provider nation × region × source, and per
//! provider × day × source. A query turns each sum into one synthetic
//! [`core::WorkRecord`] and hands those to the same pure functions a full
//! recomputation uses, so both answer alike (integer cents exactly, hours
//! up to floating-point summation order). Pure: no I/O.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use cosx_allocation as core;
use cosx_domain::records::{CapacityOffer, DepotBaseline, OfferState, RepairOrder};
use cosx_domain::{MilitaryDepartment, Party, PartyId};

use super::balance as adapt;
use crate::coordinator::EventContent;

#[derive(Debug, Clone, Copy, Default)]
struct Sum {
    cents: i64,
    hours: f64,
    quantity: u64,
    records: u64,
}

impl Sum {
    fn add(&mut self, r: &core::WorkRecord) {
        self.cents += r.cost_cents;
        self.hours += r.labor_hours;
        self.quantity += u64::from(r.quantity);
        self.records += 1;
    }

    /// Takes `r` back out; false once nothing is left (the entry should go,
    /// so that no floating-point residue of removed hours stays behind).
    fn remove(&mut self, r: &core::WorkRecord) -> bool {
        self.cents -= r.cost_cents;
        self.hours -= r.labor_hours;
        self.quantity = self.quantity.saturating_sub(u64::from(r.quantity));
        self.records = self.records.saturating_sub(1);
        self.records > 0
    }
}

type DepartmentKey = (core::Department, core::FiscalYear, core::WorkSource, core::ProviderKind);
type PlaceKey = (core::Nation, core::Region, core::WorkSource);
type ProviderDayKey = (String, NaiveDate, core::WorkSource);

fn add<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Sum>, key: K, r: &core::WorkRecord) {
    map.entry(key).or_default().add(r);
}

fn remove<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Sum>, key: K, r: &core::WorkRecord) {
    if let Some(sum) = map.get_mut(&key)
        && !sum.remove(r)
    {
        map.remove(&key);
    }
}

/// Everything `GetWorkloadBalance` answers.
#[derive(Debug, Clone, Default)]
pub struct WorkloadAnswer {
    /// Per department and fiscal year.
    pub departments: Vec<core::DepartmentBalance>,
    /// Share of work by performing provider's nation.
    pub by_nation: Vec<core::ShareRow<core::Nation>>,
    /// Share of work by region.
    pub by_region: Vec<core::ShareRow<core::Region>>,
    /// Utilization per provider and offered period.
    pub utilization: Vec<core::ProviderUtilization>,
}

/// The balance view: sums of work records, the current baselines and the
/// registry, as of the last event applied.
#[derive(Debug, Default)]
pub struct WorkloadView {
    parties: HashMap<PartyId, Party>,
    work: HashMap<String, core::WorkRecord>,
    by_department: HashMap<DepartmentKey, Sum>,
    by_place: HashMap<PlaceKey, Sum>,
    by_provider_day: HashMap<ProviderDayKey, Sum>,
    baselines: BTreeMap<(MilitaryDepartment, i32), DepotBaseline>,
}

impl WorkloadView {
    /// Applies one event's content.
    pub fn apply(&mut self, content: &EventContent) {
        match content {
            EventContent::Party { party } => {
                self.parties.insert(party.id.clone(), party.clone());
            }
            EventContent::RepairOrder { order, .. } => self.order(order),
            EventContent::Split { parent, parts } => {
                self.order(parent);
                for part in parts {
                    self.order(part);
                }
            }
            EventContent::DepotBaseline { baseline } => {
                self.baselines.insert((baseline.department, baseline.fiscal_year), baseline.clone());
            }
            _ => {}
        }
    }

    fn order(&mut self, order: &RepairOrder) {
        if let Some(old) = self.work.remove(&order.id) {
            self.account(&old, false);
        }
        let registry = &self.parties;
        if let Some(new) = adapt::work_records(std::slice::from_ref(order), registry).pop() {
            self.account(&new, true);
            self.work.insert(order.id.clone(), new);
        }
    }

    fn account(&mut self, r: &core::WorkRecord, adding: bool) {
        fn op<K: std::hash::Hash + Eq>(adding: bool, map: &mut HashMap<K, Sum>, key: K, r: &core::WorkRecord) {
            if adding { add(map, key, r) } else { remove(map, key, r) }
        }
        if let Some(dept) = r.department
            && r.maintenance_level == core::MaintenanceLevel::Depot
        {
            let key = (dept, core::FiscalYear::containing(r.performed_on), r.source, r.provider_kind);
            op(adding, &mut self.by_department, key, r);
        }
        op(adding, &mut self.by_place, (r.provider_nation.clone(), r.region, r.source), r);
        op(adding, &mut self.by_provider_day, (r.provider_id.clone(), r.performed_on, r.source), r);
    }

    /// The registry as the log has it.
    pub fn parties(&self) -> &HashMap<PartyId, Party> {
        &self.parties
    }

    /// The current baselines in the core's form.
    pub fn baselines(&self) -> Vec<core::BaselineWork> {
        adapt::baselines(&self.baselines.values().cloned().collect::<Vec<_>>())
    }

    /// The 50/50 balance of every department and fiscal year.
    pub fn department_balances(
        &self,
        config: &core::BalanceConfig,
    ) -> Result<Vec<core::DepartmentBalance>, core::InputError> {
        let work: Vec<core::WorkRecord> = self
            .by_department
            .iter()
            .filter_map(|((dept, fy, source, kind), sum)| {
                Some(synthetic(sum, *source, fy.first_day()?, |r| {
                    r.department = Some(*dept);
                    r.provider_kind = *kind;
                }))
            })
            .collect();
        core::department_balances(&work, &self.baselines(), config)
    }

    /// Balances, shares and utilization; `offers` are the active offers.
    pub fn answer(
        &self,
        offers: &[CapacityOffer],
        config: &core::BalanceConfig,
    ) -> Result<WorkloadAnswer, core::InputError> {
        let places: Vec<core::WorkRecord> = self
            .by_place
            .iter()
            .map(|((nation, region, source), sum)| {
                synthetic(sum, *source, NaiveDate::MIN, |r| {
                    r.provider_nation = nation.clone();
                    r.region = *region;
                })
            })
            .collect();
        let days: Vec<core::WorkRecord> = self
            .by_provider_day
            .iter()
            .map(|((provider, day, source), sum)| synthetic(sum, *source, *day, |r| r.provider_id = provider.clone()))
            .collect();
        let active: Vec<CapacityOffer> = offers.iter().filter(|o| o.state == OfferState::Active).cloned().collect();
        // Utilization is over every offered period, whatever its validity today.
        let core_offers = adapt::offers(&active, &self.parties, NaiveDate::MIN);
        Ok(WorkloadAnswer {
            departments: self.department_balances(config)?,
            by_nation: core::shares_by_nation(&places, config)?,
            by_region: core::shares_by_region(&places, config)?,
            utilization: core::provider_utilization(&core_offers, &days, config)?,
        })
    }
}

/// One record standing for a sum; `set` fills the fields its aggregate keeps.
fn synthetic(
    sum: &Sum,
    source: core::WorkSource,
    performed_on: NaiveDate,
    set: impl FnOnce(&mut core::WorkRecord),
) -> core::WorkRecord {
    let mut r = core::WorkRecord {
        order_id: String::new(),
        provider_id: String::new(),
        provider_kind: core::ProviderKind::Organic,
        provider_nation: core::Nation::usa(),
        region: core::Region::Indopacom,
        department: None,
        maintenance_level: core::MaintenanceLevel::Depot,
        source,
        performed_on,
        cost_cents: sum.cents,
        // Removing the last of several records can leave -0.000…1.
        labor_hours: sum.hours.max(0.0),
        quantity: u32::try_from(sum.quantity).unwrap_or(u32::MAX),
    };
    set(&mut r);
    r
}

/// The same answer computed from scratch over current records: what the
/// view must equal.
pub fn recompute(
    orders: &[RepairOrder],
    offers: &[CapacityOffer],
    baselines: &[DepotBaseline],
    parties: &HashMap<PartyId, Party>,
    config: &core::BalanceConfig,
) -> Result<WorkloadAnswer, core::InputError> {
    let work = adapt::work_records(orders, parties);
    let active: Vec<CapacityOffer> = offers.iter().filter(|o| o.state == OfferState::Active).cloned().collect();
    let core_offers = adapt::offers(&active, parties, NaiveDate::MIN);
    Ok(WorkloadAnswer {
        departments: core::department_balances(&work, &adapt::baselines(baselines), config)?,
        by_nation: core::shares_by_nation(&work, config)?,
        by_region: core::shares_by_region(&work, config)?,
        utilization: core::provider_utilization(&core_offers, &work, config)?,
    })
}
