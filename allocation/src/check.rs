//! Independent checker of allocation plans: re-derives every hard constraint
//! from the inputs and reports each breach. It deliberately shares no code
//! path with the solver in [`mod@crate::allocate`] (its own capability lookup,
//! eligibility rules, period rule and 50/50 arithmetic), so that a bug in one
//! is caught by the other. It judges feasibility only, never quality.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::domain::{Department, FiscalYear, MaintenanceLevel, ProviderKind};
use crate::model::{
    AllocationConfig, AllocationPlan, CapacityOffer, CapacityUnit, FundsBalance, Ineligibility, OpenOrder,
};

/// Tolerance on capacity sums (hours are fractional).
const TOLERANCE: f64 = 1e-6;

/// A hard constraint a plan breaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", tag = "violation")]
pub enum Violation {
    /// The assignment names an order that is not among the inputs.
    UnknownOrder {
        /// Order id.
        order_id: String,
    },
    /// The assignment names an offer that is not among the inputs.
    UnknownOffer {
        /// Order id.
        order_id: String,
        /// Offer id.
        offer_id: String,
    },
    /// The order is assigned more than once, or both assigned and unplaced.
    OrderListedTwice {
        /// Order id.
        order_id: String,
    },
    /// The order is neither assigned nor reported unplaced.
    OrderMissing {
        /// Order id.
        order_id: String,
    },
    /// The provider id does not match the offer.
    WrongProvider {
        /// Order id.
        order_id: String,
    },
    /// The offer lacks the TMS × level × repair type.
    NotCapable {
        /// Order id.
        order_id: String,
        /// Offer id.
        offer_id: String,
    },
    /// An eligibility rule forbids this provider for this order.
    Ineligible {
        /// Order id.
        order_id: String,
        /// Offer id.
        offer_id: String,
        /// Rule broken.
        rule: Ineligibility,
    },
    /// The units taken differ from what the order needs in the offer's unit.
    WrongUnits {
        /// Order id.
        order_id: String,
        /// Units needed.
        needed: f64,
        /// Units taken over the periods.
        taken: f64,
    },
    /// Units taken from a period the order may not use (too late, over, missing or negative).
    PeriodNotUsable {
        /// Order id.
        order_id: String,
        /// Offer id.
        offer_id: String,
        /// Period index.
        period_index: usize,
    },
    /// More units taken from a period than offered.
    CapacityExceeded {
        /// Offer id.
        offer_id: String,
        /// Period index.
        period_index: usize,
        /// Units taken.
        used: f64,
        /// Units offered.
        capacity: f64,
    },
    /// The plan adds contract work and leaves the contract share above 50 %.
    ContractShareAbove50 {
        /// Department.
        department: Department,
        /// Fiscal year.
        fiscal_year: FiscalYear,
        /// Organic cents after the plan.
        organic_cents: i64,
        /// Contract cents after the plan.
        contract_cents: i64,
    },
}

/// The eligibility rules restated from DESIGN §2 and the DAU follow-on
/// support excerpt, written apart from [`crate::eligibility`] on purpose.
fn rules_broken(order: &OpenOrder, offer: &CapacityOffer, config: &AllocationConfig) -> Vec<Ineligibility> {
    let provider_is_us = offer.provider_nation.as_str() == "USA";
    let site = offer.site_nation.as_ref().unwrap_or(&offer.provider_nation);
    let owner = order.owner_nation.as_str();
    let partner_owned = owner != "USA";
    let mut broken = Vec::new();
    if order.organic_only && offer.provider_kind != ProviderKind::Organic {
        broken.push(Ineligibility::OrganicOnly);
    }
    // Export authorization: needed unless a US government depot does the
    // work, or a US provider does it in the United States.
    let authorization_needed =
        offer.provider_kind != ProviderKind::Organic && !(provider_is_us && site.as_str() == "USA");
    if let Some(class) = order.export_classification.as_deref()
        && authorization_needed
        && !offer.authorizations.export_licences.iter().any(|l| l.as_str() == class)
    {
        broken.push(Ineligibility::ExportControl);
    }
    // Third country: a partner's item, done by or in a nation that is
    // neither the owner's nor the United States.
    let third: Vec<&str> = [offer.provider_nation.as_str(), site.as_str()]
        .into_iter()
        .filter(|n| partner_owned && *n != owner && *n != "USA")
        .collect();
    if !third.is_empty() {
        if !offer.authorizations.transfer_approvals.iter().any(|n| n.as_str() == owner) {
            broken.push(Ineligibility::ThirdCountryTransfer);
        }
        if third.iter().any(|n| !config.security_assistance_nations.iter().any(|s| s.as_str() == *n)) {
            broken.push(Ineligibility::SecurityAssistanceRelationship);
        }
        if !offer.authorizations.prime_facility_approvals.contains(&order.tms) {
            broken.push(Ineligibility::PrimeFacilityApproval);
        }
    }
    let dcs = partner_owned && provider_is_us && offer.provider_kind == ProviderKind::Contractor;
    if order.fmf_funded && !order.dsca_waiver && (dcs || !third.is_empty()) {
        broken.push(Ineligibility::DscaWaiver);
    }
    if order.originator.as_deref() == Some(offer.provider_id.as_str()) {
        broken.push(Ineligibility::OwnOrder);
    }
    broken
}

/// Checks `plan` against every hard constraint; an empty result means feasible.
pub fn check_plan(
    orders: &[OpenOrder],
    offers: &[CapacityOffer],
    balances: &[FundsBalance],
    config: &AllocationConfig,
    plan: &AllocationPlan,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let order_by_id: HashMap<&str, &OpenOrder> = orders.iter().map(|o| (o.id.as_str(), o)).collect();
    let offer_by_id: HashMap<&str, &CapacityOffer> = offers.iter().map(|f| (f.id.as_str(), f)).collect();
    let mut listed: HashSet<&str> = HashSet::new();
    let mut used: HashMap<(&str, usize), f64> = HashMap::new();
    // (department, FY) -> (organic added, contract added)
    let mut added: BTreeMap<(Department, FiscalYear), (i64, i64)> = BTreeMap::new();

    for a in &plan.assignments {
        if !listed.insert(a.order_id.as_str()) {
            out.push(Violation::OrderListedTwice { order_id: a.order_id.clone() });
        }
        let Some(order) = order_by_id.get(a.order_id.as_str()) else {
            out.push(Violation::UnknownOrder { order_id: a.order_id.clone() });
            continue;
        };
        let Some(offer) = offer_by_id.get(a.offer_id.as_str()) else {
            out.push(Violation::UnknownOffer { order_id: a.order_id.clone(), offer_id: a.offer_id.clone() });
            continue;
        };
        if a.provider_id != offer.provider_id {
            out.push(Violation::WrongProvider { order_id: a.order_id.clone() });
        }
        let capable = offer
            .capabilities
            .iter()
            .any(|c| c.tms == order.tms && c.level == order.level && c.repair_types.contains(&order.repair_type));
        if !capable {
            out.push(Violation::NotCapable { order_id: a.order_id.clone(), offer_id: a.offer_id.clone() });
        }
        for rule in rules_broken(order, offer, config) {
            out.push(Violation::Ineligible { order_id: a.order_id.clone(), offer_id: a.offer_id.clone(), rule });
        }
        let needed =
            if offer.unit == CapacityUnit::InductionSlots { f64::from(order.quantity) } else { order.estimated_hours };
        let start_ok = config.as_of + Duration::days(i64::from(offer.lead_time_days));
        let mut taken = 0.0;
        for u in &a.periods {
            let usable = offer.periods.get(u.period_index).is_some_and(|p| {
                let begin = if p.start > start_ok { p.start } else { start_ok };
                p.end >= start_ok && begin <= order.required_by && u.units >= 0.0
            });
            if !usable {
                out.push(Violation::PeriodNotUsable {
                    order_id: a.order_id.clone(),
                    offer_id: a.offer_id.clone(),
                    period_index: u.period_index,
                });
                continue;
            }
            taken += u.units;
            *used.entry((offer.id.as_str(), u.period_index)).or_insert(0.0) += u.units;
        }
        if (taken - needed).abs() > TOLERANCE * needed.max(1.0) {
            out.push(Violation::WrongUnits { order_id: a.order_id.clone(), needed, taken });
        }
        if let (Some(dept), MaintenanceLevel::Depot) = (order.department, order.level) {
            let contract = match offer.provider_kind {
                ProviderKind::Organic => false,
                ProviderKind::Contractor => true,
                ProviderKind::PartnerGovernment => !config.partner_government_is_organic,
            };
            // The funds' fiscal year; the required-by date's only when unknown.
            let fy = order.funds_fiscal_year.unwrap_or_else(|| FiscalYear::containing(order.required_by));
            let e = added.entry((dept, fy)).or_insert((0, 0));
            if contract {
                e.1 += order.estimated_cost_cents;
            } else {
                e.0 += order.estimated_cost_cents;
            }
        }
    }
    for u in &plan.unplaced {
        if !listed.insert(u.order_id.as_str()) {
            out.push(Violation::OrderListedTwice { order_id: u.order_id.clone() });
        }
    }
    for o in orders {
        if !listed.contains(o.id.as_str()) {
            out.push(Violation::OrderMissing { order_id: o.id.clone() });
        }
    }
    let mut capacity_rows: Vec<_> = used.into_iter().collect();
    capacity_rows.sort_by(|a, b| a.0.cmp(&b.0));
    for ((offer_id, j), units) in capacity_rows {
        let capacity = offer_by_id.get(offer_id).and_then(|f| f.periods.get(j)).map_or(0.0, |p| p.capacity);
        if units > capacity + TOLERANCE * capacity.max(1.0) {
            out.push(Violation::CapacityExceeded {
                offer_id: offer_id.to_owned(),
                period_index: j,
                used: units,
                capacity,
            });
        }
    }
    for ((department, fiscal_year), (organic_added, contract_added)) in added {
        if contract_added == 0 {
            continue;
        }
        let (mut organic, mut contract) = (organic_added, contract_added);
        for b in balances.iter().filter(|b| b.department == department && b.fiscal_year == fiscal_year) {
            organic += b.organic_cents;
            contract += b.contract_cents;
        }
        // share = contract / (organic + contract) > 1/2  <=>  contract > organic
        if contract > organic {
            out.push(Violation::ContractShareAbove50 {
                department,
                fiscal_year,
                organic_cents: organic,
                contract_cents: contract,
            });
        }
    }
    out
}
