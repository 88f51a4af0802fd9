//! Who may be proposed an order: the eligibility rules of DESIGN §2 (repair
//! orders: controls, third-country support, export control) and
//! `reference/rsf-and-fms-excerpts.md` (DAU, follow-on support methods), in
//! one place. The solver ([`crate::allocate()`]) groups orders by
//! [`Signature`] and excludes offers with [`ineligibilities`];
//! [`provider_eligibility`] — what a manual proposal or an edited plan is
//! checked with — applies the very same function, so nothing can be proposed
//! by hand that `allocate` would refuse. The independent plan checker
//! ([`crate::check`]) keeps its own copy on purpose.
//!
//! Words used here:
//! - *Performing nations*: the provider's nation and the nation of its site.
//! - *Third-country support*: a partner's (non-US-owned, FMS-origin) item
//!   repaired where a performing nation is neither the owner's nor the United
//!   States. A US depot or US company repairing a partner's item is FMS or
//!   direct commercial sale (DCS) follow-on support, not third-country
//!   support; a US-owned item repaired abroad is an export, not a transfer.
//! - *DCS support*: a partner's item repaired by a US company (contractor).
//!
//! Never does I/O; never reads the plan (eligibility is about an order and an
//! offer, not about capacity or the 50/50 limit).

use std::fmt;

use crate::domain::{MaintenanceLevel, Nation, ProviderKind, RepairType};
use crate::model::{AllocationConfig, CapacityOffer, Ineligibility, OpenOrder, UnplacedReason};

impl Ineligibility {
    /// Every rule, in the order reasons are reported.
    pub const ALL: [Ineligibility; 7] = [
        Ineligibility::OrganicOnly,
        Ineligibility::ExportControl,
        Ineligibility::ThirdCountryTransfer,
        Ineligibility::SecurityAssistanceRelationship,
        Ineligibility::PrimeFacilityApproval,
        Ineligibility::DscaWaiver,
        Ineligibility::OwnOrder,
    ];

    /// The reason code, as serialized (`THIRD_COUNTRY_TRANSFER`, ...).
    pub fn code(self) -> &'static str {
        match self {
            Ineligibility::OrganicOnly => "ORGANIC_ONLY",
            Ineligibility::ExportControl => "EXPORT_CONTROL",
            Ineligibility::ThirdCountryTransfer => "THIRD_COUNTRY_TRANSFER",
            Ineligibility::SecurityAssistanceRelationship => "SECURITY_ASSISTANCE_RELATIONSHIP",
            Ineligibility::PrimeFacilityApproval => "PRIME_FACILITY_APPROVAL",
            Ineligibility::DscaWaiver => "DSCA_WAIVER",
            Ineligibility::OwnOrder => "OWN_ORDER",
        }
    }

    /// The rule in words, with its source.
    pub fn explain(self) -> &'static str {
        match self {
            Ineligibility::OrganicOnly => {
                "the order is organic-only: sensitive work may only go to a US government (organic) depot \
                 (DESIGN §2, controls)"
            }
            Ineligibility::ExportControl => {
                "the item is export-controlled (USML category or ECCN) and the work would be done outside the \
                 United States or by a foreign provider, which needs an export authorization for the item's \
                 classification that the provider does not hold (DESIGN §2, export control)"
            }
            Ineligibility::ThirdCountryTransfer => {
                "third-country support needs any required third-country transfer approval for the owner \
                 nation's items, and the provider holds none (DAU follow-on support, \
                 reference/rsf-and-fms-excerpts.md)"
            }
            Ineligibility::SecurityAssistanceRelationship => {
                "third-country support needs a US Government security-assistance relationship with the third \
                 country, and none is recorded for the provider's nation (DAU follow-on support, \
                 reference/rsf-and-fms-excerpts.md)"
            }
            Ineligibility::PrimeFacilityApproval => {
                "third-country support needs the weapon system prime contractor's approval of the facility for \
                 this TMS, and the facility has none (DAU follow-on support, reference/rsf-and-fms-excerpts.md)"
            }
            Ineligibility::DscaWaiver => {
                "the order is paid with Foreign Military Financing and has no DSCA waiver, which it needs before \
                 buying support from a third country or from a US company through a direct commercial sale \
                 (DAU follow-on support, reference/rsf-and-fms-excerpts.md)"
            }
            Ineligibility::OwnOrder => "the provider raised the order itself and cannot be proposed its own order",
        }
    }
}

impl fmt::Display for Ineligibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.explain())
    }
}

/// Everything about an order that eligibility reads: orders with the same
/// signature have the same capable and eligible offers, so the solver may
/// compute them once per signature. Adding a rule that reads another order
/// field means adding the field here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature<'a> {
    tms: &'a str,
    level: MaintenanceLevel,
    repair_type: RepairType,
    organic_only: bool,
    export_classification: Option<&'a str>,
    owner_nation: &'a str,
    originator: Option<&'a str>,
    fmf_funded: bool,
    dsca_waiver: bool,
}

impl<'a> Signature<'a> {
    /// The eligibility signature of `order`.
    pub fn of(order: &'a OpenOrder) -> Self {
        Signature {
            tms: &order.tms,
            level: order.level,
            repair_type: order.repair_type,
            organic_only: order.organic_only,
            export_classification: order.export_classification.as_deref(),
            owner_nation: order.owner_nation.as_str(),
            originator: order.originator.as_deref(),
            fmf_funded: order.fmf_funded,
            dsca_waiver: order.dsca_waiver,
        }
    }
}

/// Whether `offer` covers the order's TMS × level × repair type.
pub fn is_capable(order: &OpenOrder, offer: &CapacityOffer) -> bool {
    offer
        .capabilities
        .iter()
        .any(|c| c.tms == order.tms && c.level == order.level && c.repair_types.contains(&order.repair_type))
}

/// The nations, other than the owner's and the United States, in which or by
/// which the work would be done: non-empty exactly when repairing a
/// partner's item at this offer is third-country support.
pub fn third_countries<'o>(order: &OpenOrder, offer: &'o CapacityOffer) -> Vec<&'o Nation> {
    let usa = Nation::usa();
    if order.owner_nation == usa {
        // A US-owned item abroad is an export by the US, not a third-country transfer.
        return Vec::new();
    }
    let mut out: Vec<&Nation> = [&offer.provider_nation, offer.performing_nation()]
        .into_iter()
        .filter(|n| **n != order.owner_nation && **n != usa)
        .collect();
    out.dedup();
    out
}

/// Whether repairing the order at `offer` is a direct commercial sale of
/// follow-on support by a US company to a partner (DAU follow-on support).
pub fn is_direct_commercial_sale(order: &OpenOrder, offer: &CapacityOffer) -> bool {
    order.owner_nation != Nation::usa()
        && offer.provider_kind == ProviderKind::Contractor
        && offer.provider_nation == Nation::usa()
}

/// Whether the work on an export-controlled item at `offer` needs an export
/// authorization (DESIGN §2, export control).
///
/// None is needed at a US government (organic) depot, nor at a US provider's
/// site in the United States — for a US-owned item nothing is exported, and
/// for a partner-owned item our reading is that the item is a US-origin
/// defense article the owner returns to the US for repair: an organic depot
/// repairs it under the FMS case ("Repair and Return", DAU materiel return
/// concepts) and a US company as DCS follow-on support from a US company
/// (DAU follow-on support methods), the return shipment of a temporarily
/// imported US-origin article being covered without a separate licence
/// (ITAR 22 CFR 123.4(a)(1); not excerpted in `reference/`, to be confirmed
/// by the coordinating office). Work done outside the United States, or by a
/// foreign provider even at a US site (release to foreign persons), needs one.
pub fn needs_export_authorization(offer: &CapacityOffer) -> bool {
    let usa = Nation::usa();
    let us_government = offer.provider_kind == ProviderKind::Organic;
    let us_provider_in_us = offer.provider_nation == usa && *offer.performing_nation() == usa;
    !(us_government || us_provider_in_us)
}

/// Every rule that forbids proposing `order` to `offer`; empty when eligible.
/// Shared by the solver's grouping, its reasons and [`provider_eligibility`].
pub fn ineligibilities(order: &OpenOrder, offer: &CapacityOffer, config: &AllocationConfig) -> Vec<Ineligibility> {
    let mut out = Vec::new();
    if order.organic_only && offer.provider_kind != ProviderKind::Organic {
        out.push(Ineligibility::OrganicOnly);
    }
    if let Some(class) = &order.export_classification
        && needs_export_authorization(offer)
        && !offer.authorizations.export_licences.iter().any(|l| l == class)
    {
        out.push(Ineligibility::ExportControl);
    }
    let third = third_countries(order, offer);
    if !third.is_empty() {
        // All three FMS conditions for third-country support.
        if !offer.authorizations.transfer_approvals.contains(&order.owner_nation) {
            out.push(Ineligibility::ThirdCountryTransfer);
        }
        if !third.iter().all(|n| config.security_assistance_nations.contains(*n)) {
            out.push(Ineligibility::SecurityAssistanceRelationship);
        }
        if !offer.authorizations.prime_facility_approvals.contains(&order.tms) {
            out.push(Ineligibility::PrimeFacilityApproval);
        }
    }
    if order.fmf_funded && !order.dsca_waiver && (!third.is_empty() || is_direct_commercial_sale(order, offer)) {
        out.push(Ineligibility::DscaWaiver);
    }
    if order.originator.as_deref() == Some(offer.provider_id.as_str()) {
        out.push(Ineligibility::OwnOrder);
    }
    out
}

/// Whether `provider` may be proposed `order` at all: one of its offers
/// covers the order's TMS × level × repair type and is eligible under every
/// rule the solver applies ([`ineligibilities`]). Every path that proposes
/// outside the solver (a manual `TransitionRepairOrder(PROPOSE)`,
/// `Allocation.Commit` of an edited plan) calls this, so nothing is
/// proposed that `allocate` would never have. The refusal lists every rule
/// that excluded one of the provider's capable offers.
pub fn provider_eligibility(
    order: &OpenOrder,
    offers: &[CapacityOffer],
    provider: &str,
    config: &AllocationConfig,
) -> Result<(), UnplacedReason> {
    let capable: Vec<&CapacityOffer> =
        offers.iter().filter(|f| f.provider_id == provider).filter(|f| is_capable(order, f)).collect();
    if capable.is_empty() {
        return Err(UnplacedReason::NoCapableProvider);
    }
    let mut blocked_by = Vec::new();
    for f in capable {
        let why = ineligibilities(order, f, config);
        if why.is_empty() {
            return Ok(());
        }
        blocked_by.extend(why);
    }
    blocked_by.sort();
    blocked_by.dedup();
    Err(UnplacedReason::NoEligibleProvider { blocked_by })
}
