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

/// Work that providers have taken on, in the statute's sources: completed
/// (actual cost where known), accepted or in progress (estimate), proposed.
pub fn work_records(orders: &[RepairOrder], parties: &HashMap<PartyId, Party>) -> Vec<core::WorkRecord> {
    use RepairOrderState as S;
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
            Some(core::WorkRecord {
                order_id: o.id.clone(),
                provider_id: provider.id.to_string(),
                provider_kind: provider_kind(provider.kind)?,
                provider_nation: nation(&provider.nation)?,
                region: d.location.region,
                department: d.department.map(department),
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
                tms: d.component_family.clone().unwrap_or_else(|| d.tms.to_string()),
                level: d.maintenance_level,
                repair_type: d.repair_type,
                quantity: d.quantity,
                estimated_hours: d.estimated_labor_hours,
                priority: core::Priority::new(d.priority).ok()?,
                required_by: d.required_by,
                location: core::GeoPoint::new(d.location.latitude, d.location.longitude).ok()?,
                owner_nation,
                department: d.department.map(department),
                estimated_cost_cents: d.funding.estimated_cost.as_ref().map_or(0, |m| m.amount_minor),
                organic_only: d.controls.organic_only,
                export_classification: d.controls.usml_category.clone().or_else(|| d.controls.eccn.clone()),
                originator: Some(d.originator.to_string()),
            })
        })
        .collect()
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
                capabilities: d
                    .capabilities
                    .iter()
                    .map(|c| core::Capability {
                        tms: c
                            .tms
                            .as_ref()
                            .map(ToString::to_string)
                            .or_else(|| c.component_family.clone())
                            .unwrap_or_default(),
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
                blocked_by.iter().map(|b| ineligibility_words(*b)).collect::<Vec<_>>().join("; ")
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

/// Why a capable provider may not take an order, in words.
fn ineligibility_words(why: core::Ineligibility) -> &'static str {
    match why {
        core::Ineligibility::OrganicOnly => "the order is organic-only and no capable provider is a US organic depot",
        core::Ineligibility::ExportControl => {
            "the item is export-controlled and no capable provider holds a matching licence"
        }
        core::Ineligibility::ThirdCountryTransfer => {
            "no capable provider has third-country transfer approval for the owner nation"
        }
        core::Ineligibility::PrimeFacilityApproval => {
            "no capable provider's facility is approved by the prime for this TMS"
        }
        core::Ineligibility::OwnOrder => "the only capable provider raised the order itself",
    }
}
