//! 10 U.S.C. 2466 workload balance and allocation: adapters from stored
//! orders, offers, baselines and the registry to `cosx-allocation`. Pure.

use std::collections::HashMap;

use chrono::NaiveDate;
use cosx_allocation as core;
use cosx_domain::records::{AuthorizationKind, CapacityOffer, DepotBaseline, RepairOrder};
use cosx_domain::{CapacityUnit, MilitaryDepartment, Party, PartyId, PartyKind, RepairOrderState};

/// The allocation core's department.
pub fn department(d: MilitaryDepartment) -> core::Department {
    match d {
        MilitaryDepartment::Army => core::Department::Army,
        MilitaryDepartment::Navy => core::Department::Navy,
        MilitaryDepartment::AirForce => core::Department::AirForce,
    }
}

/// The domain department of the allocation core's.
pub fn department_back(d: core::Department) -> MilitaryDepartment {
    match d {
        core::Department::Army => MilitaryDepartment::Army,
        core::Department::Navy => MilitaryDepartment::Navy,
        core::Department::AirForce => MilitaryDepartment::AirForce,
    }
}

fn provider_kind(k: PartyKind) -> Option<core::ProviderKind> {
    match k {
        PartyKind::Organic => Some(core::ProviderKind::Organic),
        PartyKind::PartnerGovernment => Some(core::ProviderKind::PartnerGovernment),
        PartyKind::Contractor => Some(core::ProviderKind::Contractor),
        PartyKind::Coordinator => None,
    }
}

fn nation(n: &cosx_domain::Nation) -> Option<core::Nation> {
    core::Nation::parse(n.as_str()).ok()
}

/// The TMS or component family an order is for, as capabilities name it.
fn order_label(o: &RepairOrder) -> String {
    o.draft.component_family.clone().unwrap_or_else(|| o.draft.tms.to_string())
}

/// The TMS or component family a capability covers.
fn capability_label(c: &cosx_domain::records::Capability) -> String {
    c.tms.as_ref().map(ToString::to_string).or_else(|| c.component_family.clone()).unwrap_or_default()
}

/// Where an order's work is performed, for the shares by nation and region
/// (DESIGN §2: regional sustainment counts where MRO capacity is used, not
/// where the item is). An order records its provider but not the offer it
/// was proposed under, so the site is the one the provider offers for this
/// work: of `provider_offers` (every version last seen, any state, so a
/// later withdrawal does not move finished work), the capable one
/// (TMS × level × repair type) with the smallest id, else any with the
/// smallest id. A provider with no offer on record is taken to work in its
/// registered nation, and — the registry knowing no region — in the region
/// of the item.
pub fn performing_site(
    order: &RepairOrder,
    provider: &Party,
    provider_offers: &[&CapacityOffer],
) -> (cosx_domain::Nation, cosx_domain::Region) {
    let label = order_label(order);
    let d = &order.draft;
    let capable = |o: &&&CapacityOffer| {
        o.draft.capabilities.iter().any(|c| {
            capability_label(c) == label
                && c.maintenance_level == d.maintenance_level
                && c.repair_types.contains(&d.repair_type)
        })
    };
    let by_id = |a: &&&CapacityOffer, b: &&&CapacityOffer| a.id.cmp(&b.id);
    let offer = provider_offers.iter().filter(capable).min_by(by_id).or_else(|| provider_offers.iter().min_by(by_id));
    match offer {
        Some(o) => (o.draft.site.nation.clone(), o.draft.site.region),
        None => (provider.nation.clone(), d.location.region),
    }
}

/// Work that providers have taken on, in the statute's sources: completed
/// (actual cost where known), accepted or in progress (estimate), proposed.
/// Each counts in the fiscal year of its funds when the order states a US
/// appropriation's year, and at the site of [`performing_site`] among
/// `offers` (any state).
pub fn work_records(
    orders: &[RepairOrder],
    offers: &[CapacityOffer],
    parties: &HashMap<PartyId, Party>,
) -> Vec<core::WorkRecord> {
    use RepairOrderState as S;
    let mut by_provider: HashMap<&PartyId, Vec<&CapacityOffer>> = HashMap::new();
    for o in offers {
        by_provider.entry(&o.draft.provider).or_default().push(o);
    }
    orders
        .iter()
        .filter_map(|o| {
            let source = match o.state {
                S::Completed | S::Shipped | S::Closed => core::WorkSource::Completed,
                S::Accepted => core::WorkSource::Accepted,
                S::Inducted | S::InWork | S::AwaitingParts => core::WorkSource::InProgress,
                S::Proposed => core::WorkSource::Proposed,
                S::Submitted | S::Declined | S::Cancelled => return None,
            };
            let provider = parties.get(o.provider.as_ref()?)?;
            let d = &o.draft;
            let estimate = d.funding.estimated_cost.as_ref().map_or(0, |m| m.amount_minor);
            let (cost_cents, labor_hours) = if source == core::WorkSource::Completed {
                let actual = o.progress.actual_cost.as_ref().or(d.funding.actual_cost.as_ref()).map(|m| m.amount_minor);
                (actual.unwrap_or(estimate), o.progress.actual_labor_hours.unwrap_or(d.estimated_labor_hours))
            } else {
                (estimate, d.estimated_labor_hours)
            };
            let (site_nation, site_region) =
                performing_site(o, provider, by_provider.get(&provider.id).map_or(&[], Vec::as_slice));
            Some(core::WorkRecord {
                order_id: o.id.clone(),
                provider_id: provider.id.to_string(),
                provider_kind: provider_kind(provider.kind)?,
                site_nation: nation(&site_nation)?,
                site_region,
                department: d.department.map(department),
                funds_fiscal_year: d.funding.fiscal_year(),
                maintenance_level: d.maintenance_level,
                source,
                performed_on: o.progress.actual_completion_date.unwrap_or(d.required_by),
                cost_cents,
                labor_hours,
                quantity: d.quantity,
            })
        })
        .collect()
}

/// Baselines in the core's form.
pub fn baselines(entries: &[DepotBaseline]) -> Vec<core::BaselineWork> {
    entries
        .iter()
        .map(|b| core::BaselineWork {
            department: department(b.department),
            fiscal_year: core::FiscalYear(b.fiscal_year),
            organic_cents: b.organic_cents,
            contract_cents: b.contract_cents,
            organic_hours: b.organic_hours,
            contract_hours: b.contract_hours,
        })
        .collect()
}

/// Open orders (SUBMITTED or DECLINED) in the core's form.
pub fn open_orders(orders: &[RepairOrder], parties: &HashMap<PartyId, Party>) -> Vec<core::OpenOrder> {
    orders
        .iter()
        .filter(|o| o.state.is_open())
        .filter_map(|o| {
            let d = &o.draft;
            let owner_nation = parties.get(&d.originator).and_then(|p| nation(&p.nation))?;
            Some(core::OpenOrder {
                id: o.id.clone(),
                tms: order_label(o),
                level: d.maintenance_level,
                repair_type: d.repair_type,
                quantity: d.quantity,
                estimated_hours: d.estimated_labor_hours,
                priority: core::Priority::new(d.priority).ok()?,
                required_by: d.required_by,
                location: core::GeoPoint::new(d.location.latitude, d.location.longitude).ok()?,
                owner_nation,
                department: d.department.map(department),
                funds_fiscal_year: d.funding.fiscal_year(),
                estimated_cost_cents: d.funding.estimated_cost.as_ref().map_or(0, |m| m.amount_minor),
                organic_only: d.controls.organic_only,
                export_classification: d.controls.usml_category.clone().or_else(|| d.controls.eccn.clone()),
                originator: Some(d.originator.to_string()),
                fmf_funded: d.funding.fmf_funded,
                dsca_waiver: d.funding.dsca_waiver_reference.is_some(),
            })
        })
        .collect()
}

/// The provider as the registry knows it, for judging a proposal to a
/// provider with no capable offer on record: capable of the order, working
/// in its registered nation, holding no authorization. `None` for a
/// coordinating office or an unusable nation.
pub fn registered_provider(party: &Party, order: &core::OpenOrder) -> Option<core::CapacityOffer> {
    Some(core::CapacityOffer {
        id: String::new(),
        provider_id: party.id.to_string(),
        provider_kind: provider_kind(party.kind)?,
        provider_nation: nation(&party.nation)?,
        site: order.location,
        site_nation: None,
        capabilities: vec![core::Capability {
            tms: order.tms.clone(),
            level: order.level,
            repair_types: vec![order.repair_type],
        }],
        unit: core::CapacityUnit::LaborHours,
        periods: Vec::new(),
        lead_time_days: 0,
        rate_cents_per_unit: 0,
        authorizations: core::Authorizations::default(),
    })
}

/// Active offers in the core's form; authorizations valid on `as_of` only.
pub fn offers(
    offers: &[CapacityOffer],
    parties: &HashMap<PartyId, Party>,
    as_of: NaiveDate,
) -> Vec<core::CapacityOffer> {
    offers
        .iter()
        .filter(|o| o.draft.valid_until >= as_of)
        .filter_map(|o| {
            let d = &o.draft;
            let provider = parties.get(&d.provider)?;
            if provider.suspended {
                return None;
            }
            let mut authorizations = core::Authorizations::default();
            for a in d.authorizations.iter().filter(|a| a.valid_until.is_none_or(|u| u >= as_of)) {
                match a.kind {
                    AuthorizationKind::ExportLicense => {
                        if let Some(c) = &a.export_classification {
                            authorizations.export_licences.push(c.clone());
                        }
                    }
                    AuthorizationKind::ThirdCountryTransfer => {
                        authorizations.transfer_approvals.extend(a.nations.iter().filter_map(nation));
                    }
                    AuthorizationKind::PrimeFacilityApproval => {
                        if let Some(t) = &a.tms {
                            authorizations.prime_facility_approvals.push(t.to_string());
                        }
                    }
                    AuthorizationKind::OemApproval => {}
                }
            }
            Some(core::CapacityOffer {
                id: o.id.clone(),
                provider_id: provider.id.to_string(),
                provider_kind: provider_kind(provider.kind)?,
                provider_nation: nation(&provider.nation)?,
                site: core::GeoPoint::new(d.site.latitude, d.site.longitude).ok()?,
                site_nation: nation(&d.site.nation),
                capabilities: d
                    .capabilities
                    .iter()
                    .map(|c| core::Capability {
                        tms: capability_label(c),
                        level: c.maintenance_level,
                        repair_types: c.repair_types.clone(),
                    })
                    .collect(),
                unit: match d.unit {
                    CapacityUnit::LaborHours => core::CapacityUnit::LaborHours,
                    CapacityUnit::InductionSlots => core::CapacityUnit::InductionSlots,
                },
                periods: d
                    .periods
                    .iter()
                    .map(|p| core::CapacityPeriod { start: p.start, end: p.end, capacity: p.capacity })
                    .collect(),
                lead_time_days: d.lead_time_days,
                rate_cents_per_unit: d.rate.as_ref().map_or(0, |m| m.amount_minor),
                authorizations,
            })
        })
        .collect()
}

/// Why an assignment went where it went, in words: the cost terms and,
/// when a quote priced the repair, the quote (one wording for a plan's
/// placements and for the reason the proposal records).
pub fn placement_reason(
    distance_km: f64,
    total_cost_cents: i64,
    eligible_offers: u32,
    quote: Option<(&str, i64, u32)>,
) -> String {
    let mut s =
        format!("{distance_km:.0} km, total cost {total_cost_cents} cents, {eligible_offers} eligible offer(s)");
    if let Some((name, price_cents, turnaround_days)) = quote {
        s.push_str(&format!("; quoted price {price_cents} cents / turnaround {turnaround_days} days ({name})"));
    }
    s
}

/// The resource name of a quote by its id.
pub fn quote_name(quote_id: &str) -> String {
    format!("repairOrders/{quote_id}")
}

/// What an unplaced reason says, in words.
pub fn reason_detail(r: &core::UnplacedReason) -> (String, String) {
    use core::UnplacedReason as U;
    match r {
        U::NoCapableProvider => {
            ("NO_CAPABLE_PROVIDER".into(), "no offer covers this TMS, level and repair type".into())
        }
        U::NoEligibleProvider { blocked_by } => (
            "NO_ELIGIBLE_PROVIDER".into(),
            format!(
                "capable providers exist but none is eligible: {}",
                blocked_by.iter().map(|b| b.to_string()).collect::<Vec<_>>().join("; ")
            ),
        ),
        U::PastRequiredBy { required_by, earliest_start } => (
            "PAST_REQUIRED_BY".into(),
            match earliest_start {
                Some(s) => format!("required by {required_by}, but the earliest a capable provider can start is {s}"),
                None => format!("required by {required_by}: no capable provider has a period that early"),
            },
        ),
        U::LargerThanAnyOffer { units_needed, largest_window } => (
            "LARGER_THAN_ANY_OFFER".into(),
            format!("needs {units_needed} units; the largest usable window of any eligible offer is {largest_window}"),
        ),
        U::BlockedBy5050 { department, fiscal_year } => (
            "BLOCKED_BY_5050".into(),
            format!("contract work would put {department:?} FY{} over the 50 % limit", fiscal_year.0),
        ),
        U::CapacityExhausted { eligible_offers } => (
            "CAPACITY_EXHAUSTED".into(),
            format!("all {eligible_offers} eligible offers are full in the periods this order can use"),
        ),
    }
}
