//! The 50/50 workload balance kept up to date from the event log, so that
//! `GetWorkloadBalance` and the balance alerts never re-read every order.
//!
//! Each order's current work record (by lifecycle state, see
//! [`super::balance::work_records`]) is remembered so a later change can
//! take it back out; the sums are kept per department × fiscal year (and
//! the rule that chose it, funds or work date) × source × provider kind,
//! per performing site's nation × region × source, and per provider × day ×
//! source. An order's site comes from its provider's offers
//! ([`super::balance::performing_site`]), so an offer event re-derives the
//! records of that provider's orders. A query turns each sum into one synthetic
//! [`core::WorkRecord`] and hands those to the same pure functions a full
//! recomputation uses, so both answer alike (integer cents exactly, hours
//! up to floating-point summation order). Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
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

/// Department, fiscal year, basis, source, provider kind and the first day
/// of the work date's month (the balance's by-month breakdown).
type DepartmentKey =
    (core::Department, core::FiscalYear, core::FiscalYearBasis, core::WorkSource, core::ProviderKind, NaiveDate);
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
    /// Share of work by the nation of the performing site.
    pub by_nation: Vec<core::ShareRow<core::Nation>>,
    /// Share of work by the region of the performing site.
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
    /// Every offer's last version, by provider and id (the performing sites).
    offers: HashMap<PartyId, BTreeMap<String, CapacityOffer>>,
    /// Orders that have a work record, and their ids by provider, to
    /// re-derive when the provider's offers change.
    orders: HashMap<String, RepairOrder>,
    orders_by_provider: HashMap<PartyId, BTreeSet<String>>,
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
            EventContent::RepairOrder { order, .. } | EventContent::QuoteRelease { order } => self.order(order),
            EventContent::Split { parent, parts } => {
                self.order(parent);
                for part in parts {
                    self.order(part);
                }
            }
            EventContent::CapacityOffer { offer } => {
                let provider = offer.draft.provider.clone();
                self.offers.entry(provider.clone()).or_default().insert(offer.id.clone(), offer.clone());
                let ids: Vec<String> =
                    self.orders_by_provider.get(&provider).map(|s| s.iter().cloned().collect()).unwrap_or_default();
                for id in ids {
                    if let Some(order) = self.orders.get(&id).cloned() {
                        self.order(&order);
                    }
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
            super::fit_map(&mut self.work);
        }
        if let Some(old) = self.orders.remove(&order.id)
            && let Some(p) = &old.provider
            && let Some(ids) = self.orders_by_provider.get_mut(p)
        {
            ids.remove(&order.id);
        }
        let registry = &self.parties;
        let offers: Vec<CapacityOffer> = order
            .provider
            .as_ref()
            .and_then(|p| self.offers.get(p))
            .map(|by_id| by_id.values().cloned().collect())
            .unwrap_or_default();
        if let Some(new) = adapt::work_records(std::slice::from_ref(order), &offers, registry).pop() {
            self.account(&new, true);
            self.work.insert(order.id.clone(), new);
            if let Some(p) = &order.provider {
                self.orders_by_provider.entry(p.clone()).or_default().insert(order.id.clone());
                self.orders.insert(order.id.clone(), order.clone());
            }
        }
    }

    fn account(&mut self, r: &core::WorkRecord, adding: bool) {
        fn op<K: std::hash::Hash + Eq>(adding: bool, map: &mut HashMap<K, Sum>, key: K, r: &core::WorkRecord) {
            if adding { add(map, key, r) } else { remove(map, key, r) }
        }
        if let Some(dept) = r.department
            && r.maintenance_level == core::MaintenanceLevel::Depot
        {
            let (fy, basis) = r.fiscal_year_counted();
            let month = r.performed_on.with_day(1).unwrap_or(r.performed_on);
            op(adding, &mut self.by_department, (dept, fy, basis, r.source, r.provider_kind, month), r);
        }
        op(adding, &mut self.by_place, (r.site_nation.clone(), r.site_region, r.source), r);
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
        core::department_balances(&self.department_work(), &self.baselines(), config)
    }

    /// One synthetic work record per department sum: what
    /// [`core::department_balances`] makes of them is what it makes of
    /// every order's record (allocation adds the work a plan would propose).
    pub fn department_work(&self) -> Vec<core::WorkRecord> {
        self.by_department
            .iter()
            .map(|((dept, fy, basis, source, kind, month), sum)| {
                synthetic(sum, *source, *month, |r| {
                    r.department = Some(*dept);
                    r.provider_kind = *kind;
                    // The same fiscal year by the same rule: the funds' year, or the work date's.
                    r.funds_fiscal_year = (*basis == core::FiscalYearBasis::Funds).then_some(*fy);
                })
            })
            .collect()
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
                    r.site_nation = nation.clone();
                    r.site_region = *region;
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
        site_nation: core::Nation::usa(),
        site_region: core::Region::Indopacom,
        department: None,
        funds_fiscal_year: None,
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
    let work = adapt::work_records(orders, offers, parties);
    let active: Vec<CapacityOffer> = offers.iter().filter(|o| o.state == OfferState::Active).cloned().collect();
    let core_offers = adapt::offers(&active, parties, NaiveDate::MIN);
    Ok(WorkloadAnswer {
        departments: core::department_balances(&work, &adapt::baselines(baselines), config)?,
        by_nation: core::shares_by_nation(&work, config)?,
        by_region: core::shares_by_region(&work, config)?,
        utilization: core::provider_utilization(&core_offers, &work, config)?,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    //! The view, fed any sequence of order versions (creates, transitions,
    //! splits, cancellations), offers and baselines, answers what a full
    //! recomputation over the final records answers.

    use std::collections::BTreeMap;

    use chrono::{NaiveDate, Utc};
    use cosx_domain::records::{CapacityOffer, DepotBaseline, OfferState, RepairOrder, WorkProgress};
    use cosx_domain::{Money, Nation, Party, PartyId, PartyKind, RepairOrderState, Violations};
    use cosx_proto::v1 as pb;
    use proptest::prelude::*;

    use super::*;
    use cosx_edge::convert;

    const PARTIES: &[(&str, PartyKind, &str)] = &[
        ("US-USAF-OOALC", PartyKind::Organic, "USA"),
        ("JPN-MHI-KOMAKI", PartyKind::Contractor, "JPN"),
        ("AUS-RAAF-AMBERLEY", PartyKind::PartnerGovernment, "AUS"),
        ("KOR-KAI-SACHEON", PartyKind::Contractor, "KOR"),
    ];

    fn party(i: usize) -> Party {
        let (id, kind, nation) = PARTIES[i % PARTIES.len()];
        Party {
            id: PartyId::parse(id).unwrap(),
            kind,
            nation: Nation::parse(nation).unwrap(),
            department: (kind == PartyKind::Organic).then_some(MilitaryDepartment::AirForce),
            display_name: id.into(),
            suspended: false,
        }
    }

    pub(crate) fn base_order() -> RepairOrder {
        let o = pb::RepairOrder {
            originator: PARTIES[0].0.into(),
            tms: "F-35A".into(),
            system_category: pb::SystemCategory::Aircraft as i32,
            item: Some(pb::Item { nsn: "2840-01-602-2317".into(), nomenclature: "FAN".into(), ..Default::default() }),
            quantity: 4,
            maintenance_level: pb::MaintenanceLevel::Depot as i32,
            repair_type: pb::RepairType::RepairAndReturn as i32,
            priority: 3,
            required_by: "2027-03-31".into(),
            location: Some(pb::Site {
                name: "Kadena AB".into(),
                nation: "JPN".into(),
                region: pb::Region::Indopacom as i32,
                latitude: 26.35,
                longitude: 127.77,
            }),
            funding: Some(pb::Funding {
                source: None,
                estimated_cost: Some(pb::Money { currency_code: "USD".into(), amount_minor: 1_000_000 }),
                actual_cost: None,
                ..Default::default()
            }),
            department: pb::MilitaryDepartment::AirForce as i32,
            estimated_labor_hours: 100.0,
            ..Default::default()
        };
        let mut v = Violations::new();
        let draft = convert::repair_order_in(&mut v, "o", &Some(o)).expect("valid order");
        assert!(v.is_empty(), "{v}");
        let t = Utc::now();
        RepairOrder {
            id: String::new(),
            draft,
            state: RepairOrderState::Submitted,
            provider: None,
            version: 1,
            parent: None,
            create_time: t,
            update_time: t,
            progress: WorkProgress::default(),
        }
    }

    pub(crate) fn offer(id: usize, provider: usize, capacity: f64, slots: bool) -> CapacityOffer {
        let o = pb::CapacityOffer {
            provider: PARTIES[provider % PARTIES.len()].0.into(),
            site: Some(pb::Site {
                name: "Site".into(),
                nation: "JPN".into(),
                region: pb::Region::Indopacom as i32,
                latitude: 35.2,
                longitude: 136.9,
            }),
            capabilities: vec![pb::Capability {
                tms: "F-35A".into(),
                maintenance_level: pb::MaintenanceLevel::Depot as i32,
                repair_types: vec![pb::RepairType::RepairAndReturn as i32],
                ..Default::default()
            }],
            unit: if slots { pb::CapacityUnit::InductionSlots } else { pb::CapacityUnit::LaborHours } as i32,
            periods: vec![
                pb::CapacityPeriod {
                    start_date: "2026-10-01".into(),
                    end_date: "2027-03-31".into(),
                    capacity,
                    surge_capacity: 0.0,
                },
                pb::CapacityPeriod {
                    start_date: "2027-04-01".into(),
                    end_date: "2027-09-30".into(),
                    capacity,
                    surge_capacity: 0.0,
                },
            ],
            valid_from: "2026-10-01".into(),
            valid_until: "2027-09-30".into(),
            ..Default::default()
        };
        let mut v = Violations::new();
        let draft = convert::capacity_offer_in(&mut v, "o", &Some(o)).expect("valid offer");
        assert!(v.is_empty(), "{v}");
        let t = Utc::now();
        CapacityOffer {
            id: format!("offer-{id}"),
            draft,
            state: OfferState::Active,
            version: 1,
            create_time: t,
            update_time: t,
        }
    }

    /// One step of a random history.
    #[derive(Debug, Clone)]
    enum Step {
        Create { dept: u8, depot: bool, cents: i64, hours: u16, day: u16, quantity: u32, funds: Option<u8> },
        Move { order: usize, state: u8, provider: usize, actual: Option<(i64, u16)> },
        Split { order: usize },
        Cancel { order: usize },
        Baseline { dept: u8, fy: u8, organic: i64, contract: i64 },
        Offer { provider: usize, capacity: u16, slots: bool },
        Withdraw { offer: usize },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            3 => (
                0u8..3,
                any::<bool>(),
                0i64..5_000_000,
                0u16..500,
                0u16..1000,
                1u32..5,
                proptest::option::of(0u8..3)
            )
                .prop_map(|(dept, depot, cents, hours, day, quantity, funds)| Step::Create {
                    dept,
                    depot,
                    cents,
                    hours,
                    day,
                    quantity,
                    funds
                }),
            4 => (0usize..64, 0u8..11, 0usize..4, proptest::option::of((0i64..5_000_000, 0u16..500)))
                .prop_map(|(order, state, provider, actual)| Step::Move { order, state, provider, actual }),
            1 => (0usize..64).prop_map(|order| Step::Split { order }),
            1 => (0usize..64).prop_map(|order| Step::Cancel { order }),
            1 => (0u8..3, 0u8..3, 0i64..9_000_000, 0i64..9_000_000)
                .prop_map(|(dept, fy, organic, contract)| Step::Baseline { dept, fy, organic, contract }),
            1 => (0usize..4, 1u16..3000, any::<bool>()).prop_map(|(provider, capacity, slots)| Step::Offer {
                provider,
                capacity,
                slots
            }),
            1 => (0usize..8).prop_map(|offer| Step::Withdraw { offer }),
        ]
    }

    const STATES: [RepairOrderState; 11] = [
        RepairOrderState::Submitted,
        RepairOrderState::Proposed,
        RepairOrderState::Accepted,
        RepairOrderState::Declined,
        RepairOrderState::Inducted,
        RepairOrderState::InWork,
        RepairOrderState::AwaitingParts,
        RepairOrderState::Completed,
        RepairOrderState::Shipped,
        RepairOrderState::Closed,
        RepairOrderState::Cancelled,
    ];

    const DEPTS: [Option<MilitaryDepartment>; 3] =
        [Some(MilitaryDepartment::AirForce), Some(MilitaryDepartment::Navy), None];

    /// The event of `order` as it now stands, with no step or quote.
    fn order_changed(order: RepairOrder) -> EventContent {
        EventContent::RepairOrder { order, transition: None, quote: None, exception: None }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * (1.0 + a.abs().max(b.abs()))
    }

    fn same_split(a: &core::Split, b: &core::Split) -> bool {
        a.organic_cents == b.organic_cents
            && a.contract_cents == b.contract_cents
            && close(a.organic_hours, b.organic_hours)
            && close(a.contract_hours, b.contract_hours)
    }

    fn same_option(a: Option<f64>, b: Option<f64>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => close(a, b),
            (None, None) => true,
            // Hours that cancel out may leave a tiny remainder on one side.
            (Some(x), None) | (None, Some(x)) => x.abs() < 1e-9,
        }
    }

    fn assert_same(view: &WorkloadAnswer, full: &WorkloadAnswer) {
        assert_eq!(view.departments.len(), full.departments.len(), "{view:?}\n{full:?}");
        for (a, b) in view.departments.iter().zip(&full.departments) {
            assert_eq!((a.department, a.fiscal_year, a.status), (b.department, b.fiscal_year, b.status));
            for (x, y) in [
                (&a.actual, &b.actual),
                (&a.estimated, &b.estimated),
                (&a.proposed, &b.proposed),
                (&a.baseline, &b.baseline),
                (&a.projected, &b.projected),
                (&a.by_funds_year, &b.by_funds_year),
                (&a.by_work_date, &b.by_work_date),
            ] {
                assert!(same_split(x, y), "{a:?}\n{b:?}");
            }
            assert!(same_option(a.contract_share, b.contract_share), "{a:?}\n{b:?}");
        }
        let shares = |x: &[core::ShareRow<core::Nation>], y: &[core::ShareRow<core::Nation>]| {
            assert_eq!(x.len(), y.len(), "{x:?}\n{y:?}");
            for (a, b) in x.iter().zip(y) {
                assert_eq!((&a.key, a.cents), (&b.key, b.cents));
                assert!(close(a.hours, b.hours) && same_option(a.share_of_cents, b.share_of_cents), "{a:?} {b:?}");
            }
        };
        shares(&view.by_nation, &full.by_nation);
        assert_eq!(view.by_region.len(), full.by_region.len());
        for (a, b) in view.by_region.iter().zip(&full.by_region) {
            assert_eq!((a.key, a.cents), (b.key, b.cents));
            assert!(close(a.hours, b.hours));
        }
        assert_eq!(view.utilization.len(), full.utilization.len());
        for (a, b) in view.utilization.iter().zip(&full.utilization) {
            assert_eq!((&a.provider_id, a.period_start, a.unit), (&b.provider_id, b.period_start, b.unit));
            assert!(close(a.offered, b.offered) && close(a.used, b.used), "{a:?} {b:?}");
        }
    }

    fn run(steps: &[Step]) {
        let mut view = WorkloadView::default();
        let parties: HashMap<PartyId, Party> = (0..PARTIES.len()).map(|i| (party(i).id, party(i))).collect();
        for i in 0..PARTIES.len() {
            view.apply(&EventContent::Party { party: party(i) });
        }
        let mut orders: BTreeMap<String, RepairOrder> = BTreeMap::new();
        let mut ids: Vec<String> = Vec::new();
        let mut offers: BTreeMap<String, CapacityOffer> = BTreeMap::new();
        let mut baselines: BTreeMap<(MilitaryDepartment, i32), DepotBaseline> = BTreeMap::new();
        let first_day = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        for s in steps {
            match s {
                Step::Create { dept, depot, cents, hours, day, quantity, funds } => {
                    let mut o = base_order();
                    o.id = format!("o{}", ids.len());
                    o.draft.department = DEPTS[*dept as usize];
                    if !depot {
                        o.draft.maintenance_level = cosx_domain::MaintenanceLevel::Intermediate;
                    }
                    o.draft.funding.estimated_cost = Some(Money { currency: "USD".into(), amount_minor: *cents });
                    o.draft.estimated_labor_hours = f64::from(*hours) / 4.0;
                    o.draft.required_by = first_day + chrono::Days::new(u64::from(*day));
                    o.draft.quantity = *quantity;
                    o.draft.funding.source = funds.map(|n| cosx_domain::records::FundingSource::UsAppropriation {
                        department: MilitaryDepartment::AirForce,
                        appropriation: "3400".into(),
                        fiscal_year: 2026 + i32::from(n),
                    });
                    ids.push(o.id.clone());
                    orders.insert(o.id.clone(), o.clone());
                    view.apply(&order_changed(o));
                }
                Step::Move { order, state, provider, actual } => {
                    let Some(id) = ids.get(*order % ids.len().max(1)) else { continue };
                    let o = orders.get_mut(id).unwrap();
                    o.state = STATES[*state as usize];
                    o.provider = (o.state != RepairOrderState::Submitted).then(|| party(*provider).id);
                    if let Some((cents, hours)) = actual {
                        o.progress.actual_cost = Some(Money { currency: "USD".into(), amount_minor: *cents });
                        o.progress.actual_labor_hours = Some(f64::from(*hours) / 2.0);
                        o.progress.actual_completion_date = Some(o.draft.required_by - chrono::Days::new(40));
                    }
                    o.version += 1;
                    view.apply(&order_changed(o.clone()));
                }
                Step::Cancel { order } => {
                    let Some(id) = ids.get(*order % ids.len().max(1)) else { continue };
                    let o = orders.get_mut(id).unwrap();
                    o.state = RepairOrderState::Cancelled;
                    o.version += 1;
                    view.apply(&order_changed(o.clone()));
                }
                Step::Split { order } => {
                    let Some(id) = ids.get(*order % ids.len().max(1)).cloned() else { continue };
                    let parent = orders.get_mut(&id).unwrap();
                    if parent.draft.quantity < 2 || !parent.state.is_open() {
                        continue;
                    }
                    parent.state = RepairOrderState::Cancelled;
                    parent.version += 1;
                    let parent = parent.clone();
                    let mut parts = Vec::new();
                    for q in [1, parent.draft.quantity - 1] {
                        let mut part = parent.clone();
                        part.id = format!("o{}", ids.len());
                        part.state = RepairOrderState::Submitted;
                        part.version = 1;
                        part.provider = None;
                        part.parent = Some(parent.id.clone());
                        part.draft.quantity = q;
                        ids.push(part.id.clone());
                        orders.insert(part.id.clone(), part.clone());
                        parts.push(part);
                    }
                    view.apply(&EventContent::Split { parent, parts });
                }
                Step::Baseline { dept, fy, organic, contract } => {
                    let department = DEPTS[*dept as usize].unwrap_or(MilitaryDepartment::Army);
                    let fiscal_year = 2026 + i32::from(*fy);
                    let b = DepotBaseline {
                        id: format!("b{}", baselines.len()),
                        department,
                        fiscal_year,
                        organic_cents: *organic,
                        contract_cents: *contract,
                        organic_hours: *organic as f64 / 10_000.0,
                        contract_hours: *contract as f64 / 10_000.0,
                        version: 1,
                    };
                    baselines.insert((department, fiscal_year), b.clone());
                    view.apply(&EventContent::DepotBaseline { baseline: b });
                }
                Step::Offer { provider, capacity, slots } => {
                    let mut o = offer(offers.len(), *provider, f64::from(*capacity), *slots);
                    // Sites in several nations and regions: shares count where the work is done.
                    let (nation, region) = [
                        ("JPN", cosx_domain::Region::Indopacom),
                        ("USA", cosx_domain::Region::Northcom),
                        ("AUS", cosx_domain::Region::Indopacom),
                    ][offers.len() % 3];
                    o.draft.site.nation = Nation::parse(nation).unwrap();
                    o.draft.site.region = region;
                    offers.insert(o.id.clone(), o.clone());
                    view.apply(&EventContent::CapacityOffer { offer: o });
                }
                Step::Withdraw { offer } => {
                    let Some(o) = offers.get_mut(&format!("offer-{offer}")) else { continue };
                    o.state = OfferState::Withdrawn;
                    o.version += 1;
                    view.apply(&EventContent::CapacityOffer { offer: o.clone() });
                }
            }
        }
        let orders: Vec<RepairOrder> = orders.into_values().collect();
        let offers: Vec<CapacityOffer> = offers.into_values().collect();
        let baselines: Vec<DepotBaseline> = baselines.into_values().collect();
        for include_proposed in [false, true] {
            let config = core::BalanceConfig { include_proposed, ..core::BalanceConfig::default() };
            let incremental = view.answer(&offers, &config).unwrap();
            let full = recompute(&orders, &offers, &baselines, &parties, &config).unwrap();
            assert_same(&incremental, &full);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
        #[test]
        fn the_incremental_balance_equals_a_full_recomputation(steps in proptest::collection::vec(step(), 1..80)) {
            run(&steps);
        }
    }

    #[test]
    fn work_taken_back_out_leaves_nothing_behind() {
        let steps = vec![
            Step::Create { dept: 0, depot: true, cents: 1_000, hours: 3, day: 200, quantity: 2, funds: None },
            Step::Move { order: 0, state: 2, provider: 1, actual: None },
            Step::Move { order: 0, state: 0, provider: 0, actual: None },
        ];
        run(&steps);
        let mut view = WorkloadView::default();
        view.apply(&EventContent::Party { party: party(1) });
        let mut o = base_order();
        o.id = "x".into();
        o.state = RepairOrderState::Accepted;
        o.provider = Some(party(1).id);
        view.apply(&order_changed(o.clone()));
        assert_eq!(view.department_balances(&core::BalanceConfig::default()).unwrap().len(), 1);
        o.state = RepairOrderState::Cancelled;
        view.apply(&order_changed(o));
        assert!(view.by_department.is_empty() && view.by_place.is_empty() && view.by_provider_day.is_empty());
    }
}
