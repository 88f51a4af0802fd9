//! Inputs and outputs of allocation: open repair orders, capacity offers,
//! the 50/50 standing per department and FY, and the proposed plan with an
//! explanation for every assignment and every order left unplaced.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::balance::{FiscalYearBasis, attributed_fiscal_year};
use crate::domain::{Department, FiscalYear, GeoPoint, MaintenanceLevel, Nation, Priority, ProviderKind, RepairType};

/// An open repair order waiting for a provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenOrder {
    /// Order id, unique.
    pub id: String,
    /// TMS (`F-35A`) or component family the capability must match.
    pub tms: String,
    /// Maintenance level asked for.
    pub level: MaintenanceLevel,
    /// Repair type asked for.
    pub repair_type: RepairType,
    /// Number of items; the order is placed whole with one offer.
    pub quantity: u32,
    /// Estimated labor hours for the whole order.
    pub estimated_hours: f64,
    /// Priority 1 (highest) to 15.
    pub priority: Priority,
    /// Date by which work must have started (see [`CapacityOffer`] for periods).
    pub required_by: NaiveDate,
    /// Where the unserviceable item is now.
    pub location: GeoPoint,
    /// Nation that owns the item.
    pub owner_nation: Nation,
    /// Paying Military Department for US-owned work (drives 50/50).
    pub department: Option<Department>,
    /// Fiscal year of the funds that pay for the work (the US appropriation's
    /// `fiscal_year`), when known. 10 U.S.C. 2466 limits the share of funds
    /// *made available in a fiscal year*, so the work counts in this year;
    /// only when it is unknown does the year of `required_by` stand in.
    #[serde(default)]
    pub funds_fiscal_year: Option<FiscalYear>,
    /// Estimated cost of the work in cents; this is what counts toward 50/50.
    pub estimated_cost_cents: i64,
    /// May only go to US government (organic) depots.
    pub organic_only: bool,
    /// Export classification (USML category or ECCN), if controlled.
    pub export_classification: Option<String>,
    /// The party that raised the order, if known: never its own provider
    /// (the lifecycle refuses to propose an order to its originator).
    #[serde(default)]
    pub originator: Option<String>,
    /// A partner's (FMS customer's) order paid with Foreign Military
    /// Financing (FMF / FMFP). Such an order needs a DSCA waiver before it
    /// may buy third-country support or direct commercial sale (DCS)
    /// support from a US company (`reference/rsf-and-fms-excerpts.md`).
    #[serde(default)]
    pub fmf_funded: bool,
    /// DSCA has waived, for this FMF-funded order, the rule that FMF buys
    /// only through FMS: third-country and DCS providers become eligible.
    #[serde(default)]
    pub dsca_waiver: bool,
}

impl OpenOrder {
    /// Whether this order counts toward the 50/50 rule (US-department work at
    /// depot level), and in which department and fiscal year: the fiscal
    /// year of its funds, or of `required_by` when that is unknown.
    pub fn counts_toward_5050(&self) -> Option<(Department, FiscalYear)> {
        match (self.department, self.level) {
            (Some(d), MaintenanceLevel::Depot) => Some((d, self.fiscal_year_counted().0)),
            _ => None,
        }
    }

    /// The fiscal year this order's work is counted in for 50/50, and which
    /// rule chose it (see [`attributed_fiscal_year`]).
    pub fn fiscal_year_counted(&self) -> (FiscalYear, FiscalYearBasis) {
        attributed_fiscal_year(self.funds_fiscal_year, self.required_by)
    }

    /// Capacity this order consumes on an offer measured in `unit`.
    pub fn units_in(&self, unit: CapacityUnit) -> f64 {
        match unit {
            CapacityUnit::LaborHours => self.estimated_hours,
            CapacityUnit::InductionSlots => f64::from(self.quantity),
        }
    }

    /// Served priority weight if placed: `(16 - priority) * quantity`.
    pub fn priority_weight(&self) -> u64 {
        self.priority.weight() * u64::from(self.quantity)
    }
}

/// One capability of an offer: a TMS or family at a level, for some repair types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capability {
    /// TMS or component family.
    pub tms: String,
    /// Maintenance level.
    pub level: MaintenanceLevel,
    /// Repair types offered.
    pub repair_types: Vec<RepairType>,
}

/// Unit in which an offer's capacity is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CapacityUnit {
    /// Labor hours; an order consumes its estimated hours.
    LaborHours,
    /// Induction slots; an order consumes its quantity.
    InductionSlots,
}

/// Capacity offered in one period (dates inclusive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityPeriod {
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
    /// Capacity in the offer's unit.
    pub capacity: f64,
}

/// Authorizations a provider holds, checked against each order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Authorizations {
    /// Export classifications (USML category or ECCN) the provider is licensed for; exact match.
    pub export_licences: Vec<String>,
    /// Owner nations whose items the provider may repair as a third country.
    pub transfer_approvals: Vec<Nation>,
    /// TMS / families for which the prime contractor approved this facility.
    pub prime_facility_approvals: Vec<String>,
}

/// A provider's offer of repair capacity.
///
/// Time rule: the provider can induct from `as_of + lead_time_days` (the
/// earliest start). A period is usable for an order when it has not ended by
/// the earliest start and work in it can begin on or before the order's
/// `required_by`: `period.end >= earliest_start` and
/// `max(period.start, earliest_start) <= required_by`. A whole period's
/// capacity counts as available (no pro-rating of partly elapsed periods).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityOffer {
    /// Offer id, unique.
    pub id: String,
    /// Provider party id.
    pub provider_id: String,
    /// Provider kind (organic, partner government, contractor).
    pub provider_kind: ProviderKind,
    /// Provider nation; `ORGANIC` providers must be `USA`.
    pub provider_nation: Nation,
    /// Site coordinates.
    pub site: GeoPoint,
    /// Nation the site is in, where the work is done; `None` means the
    /// provider's own nation. A US company's site abroad performs outside the
    /// United States (export control) and in a possibly third country.
    #[serde(default)]
    pub site_nation: Option<Nation>,
    /// What the site can repair.
    pub capabilities: Vec<Capability>,
    /// Unit of the capacity.
    pub unit: CapacityUnit,
    /// Capacity per period.
    pub periods: Vec<CapacityPeriod>,
    /// Days from today before the provider can induct.
    pub lead_time_days: u32,
    /// Rate in cents per unit (hour or slot).
    pub rate_cents_per_unit: i64,
    /// Export, third-country and prime-facility authorizations.
    pub authorizations: Authorizations,
}

impl CapacityOffer {
    /// First day the provider can induct when planning on `as_of`.
    pub fn earliest_start(&self, as_of: NaiveDate) -> NaiveDate {
        as_of + Duration::days(i64::from(self.lead_time_days))
    }

    /// Nation where the work is performed: the site's, else the provider's.
    pub fn performing_nation(&self) -> &Nation {
        self.site_nation.as_ref().unwrap_or(&self.provider_nation)
    }
}

/// A provider's binding quote for one order, usable on the planning date
/// (for the exchange: a FINAL quote, still open, valid that day;
/// `cosx_domain::quotes::usable_terms`). Allocation costs the order's
/// repair with that provider at the quoted price instead of the offer's
/// rate × units, on any of the provider's offers, and reports the quoted
/// turnaround. Quotes for orders not in the run are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderQuote {
    /// The order quoted on.
    pub order_id: String,
    /// The quoting provider.
    pub provider_id: String,
    /// The quote's id, reported in the placement.
    pub quote_id: String,
    /// Price of the whole order's repair, cents.
    pub price_cents: i64,
    /// Days from induction to serviceable.
    pub turnaround_days: u32,
}

impl OrderQuote {
    /// The exchange's quote in allocation's form, if it is usable on
    /// `as_of` (`cosx_domain::quotes::usable_terms`: FINAL, still open,
    /// valid that day); an interim, expired, accepted or closed one is not.
    pub fn usable(quote: &cosx_domain::quotes::Quote, as_of: NaiveDate) -> Option<OrderQuote> {
        let terms = cosx_domain::quotes::usable_terms(quote, as_of)?;
        Some(OrderQuote {
            order_id: quote.order_id.clone(),
            provider_id: quote.provider.to_string(),
            quote_id: quote.id.clone(),
            price_cents: terms.price.amount_minor,
            turnaround_days: terms.turnaround_days,
        })
    }
}

/// How a quote priced an assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteUse {
    /// The quote's id.
    pub quote_id: String,
    /// The quoted price used as the repair cost, cents.
    pub price_cents: i64,
    /// The quoted turnaround, days.
    pub turnaround_days: u32,
    /// First day the work can be inducted in the capacity taken: the
    /// earliest used period's start, not before the offer's earliest start.
    pub induction: NaiveDate,
    /// `induction` plus the quoted turnaround: when the item is serviceable.
    pub serviceable_by: NaiveDate,
}

/// Standing of one department and FY against 50/50 before this plan:
/// projected organic and contract dollars (e.g. from
/// [`crate::balance::DepartmentBalance::projected`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundsBalance {
    /// Department.
    pub department: Department,
    /// Fiscal year.
    pub fiscal_year: FiscalYear,
    /// Organic cents already counted.
    pub organic_cents: i64,
    /// Contract cents already counted.
    pub contract_cents: i64,
}

impl From<&crate::balance::DepartmentBalance> for FundsBalance {
    fn from(b: &crate::balance::DepartmentBalance) -> Self {
        FundsBalance {
            department: b.department,
            fiscal_year: b.fiscal_year,
            organic_cents: b.projected.organic_cents,
            contract_cents: b.projected.contract_cents,
        }
    }
}

/// Settings of an allocation run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllocationConfig {
    /// Planning date ("today").
    pub as_of: NaiveDate,
    /// Retrograde cost in cents per km per item moved.
    pub retrograde_cents_per_km_per_item: i64,
    /// Transit speed used to estimate transit days in explanations.
    pub transit_km_per_day: f64,
    /// Count partner-government depots as organic for 50/50.
    pub partner_government_is_organic: bool,
    /// Nations with which the US Government has a security-assistance
    /// relationship (a registry fact). Third-country support is possible
    /// only from these nations; empty means none is recorded, so no
    /// third-country support is eligible.
    #[serde(default)]
    pub security_assistance_nations: BTreeSet<Nation>,
}

impl AllocationConfig {
    /// Defaults for planning on `as_of`: 100 cents/km/item, 800 km/day.
    pub fn new(as_of: NaiveDate) -> Self {
        AllocationConfig {
            as_of,
            retrograde_cents_per_km_per_item: 100,
            transit_km_per_day: 800.0,
            partner_government_is_organic: false,
            security_assistance_nations: BTreeSet::new(),
        }
    }
}

/// Capacity taken from one period of an offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodUse {
    /// Index into the offer's `periods`.
    pub period_index: usize,
    /// Period start.
    pub start: NaiveDate,
    /// Period end.
    pub end: NaiveDate,
    /// Units taken.
    pub units: f64,
}

/// Why an order went where it went: the cost terms of the choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Great-circle distance item → site, km.
    pub distance_km: f64,
    /// Estimated transit days at the configured speed.
    pub transit_days: u32,
    /// Retrograde cost, cents.
    pub retrograde_cost_cents: i64,
    /// Repair cost at the offer's rate, or the quoted price, cents.
    pub repair_cost_cents: i64,
    /// Retrograde plus repair, cents.
    pub total_cost_cents: i64,
    /// How many offers were capable, eligible and in time for this order.
    pub eligible_offers: u32,
    /// Whether a cheaper eligible offer was passed over because it was full
    /// (or blocked by 50/50) when this order's turn came.
    pub cheaper_offer_was_full: bool,
    /// Department and FY whose contract share this assignment adds to.
    pub contract_work_for: Option<(Department, FiscalYear)>,
    /// The provider's quote that priced the repair, if one did.
    #[serde(default)]
    pub quote: Option<QuoteUse>,
}

/// A proposed assignment of one order to one offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Order id.
    pub order_id: String,
    /// Offer id.
    pub offer_id: String,
    /// Provider id of the offer.
    pub provider_id: String,
    /// Units consumed (offer's unit).
    pub units: f64,
    /// Where in the offer's periods the units are taken.
    pub periods: Vec<PeriodUse>,
    /// Why this offer.
    pub explanation: Explanation,
}

/// An eligibility rule that excluded a capable provider. The serde name is
/// the reason code; [`Ineligibility::explain`] gives the rule in words and
/// its source. The rules themselves are in [`crate::eligibility`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Ineligibility {
    /// The order is `organic_only` and the provider is not organic.
    OrganicOnly,
    /// The item is export-controlled, the work would be done outside the
    /// United States (or by a foreign provider), and the provider holds no
    /// export authorization for the item's classification.
    ExportControl,
    /// Third-country support without the required third-country transfer
    /// approval for the owner nation's items.
    ThirdCountryTransfer,
    /// Third-country support from a nation with which the US has no
    /// security-assistance relationship recorded.
    SecurityAssistanceRelationship,
    /// Third-country support at a facility the weapon system's prime
    /// contractor has not approved for the TMS.
    PrimeFacilityApproval,
    /// An FMF-funded order without a DSCA waiver buying third-country
    /// support or direct commercial sale support from a US company.
    DscaWaiver,
    /// The provider raised the order itself.
    OwnOrder,
}

/// The true reason an order could not be placed, checked in this order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", tag = "reason")]
pub enum UnplacedReason {
    /// No offer has the TMS × level × repair type.
    NoCapableProvider,
    /// Capable offers exist, every one excluded by at least one of these rules.
    NoEligibleProvider {
        /// Rules that excluded at least one capable offer.
        blocked_by: Vec<Ineligibility>,
    },
    /// Eligible offers exist but none has a period usable by `required_by`.
    PastRequiredBy {
        /// The order's required-by date.
        required_by: NaiveDate,
        /// Earliest date any eligible offer could start, if any.
        earliest_start: Option<NaiveDate>,
    },
    /// Eligible, in-time offers exist but even empty none could hold the whole order.
    LargerThanAnyOffer {
        /// Units the order needs on the best-suited offer (hours or slots).
        units_needed: f64,
        /// Largest usable capacity of any eligible offer, in that offer's unit.
        largest_window: f64,
    },
    /// An offer with room exists, but it is contract work and would push the
    /// department's contract share above 50 % for the FY.
    BlockedBy5050 {
        /// Department.
        department: Department,
        /// Fiscal year.
        fiscal_year: FiscalYear,
    },
    /// Eligible, in-time offers that could hold it are full in the usable periods.
    CapacityExhausted {
        /// Number of such offers.
        eligible_offers: u32,
    },
}

/// An order the plan could not place, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unplaced {
    /// Order id.
    pub order_id: String,
    /// Why.
    pub reason: UnplacedReason,
}

/// Contract and organic dollars added by the plan per department and FY.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundsUse {
    /// Department.
    pub department: Department,
    /// Fiscal year.
    pub fiscal_year: FiscalYear,
    /// Organic cents before the plan.
    pub organic_before_cents: i64,
    /// Contract cents before the plan.
    pub contract_before_cents: i64,
    /// Organic cents added.
    pub organic_added_cents: i64,
    /// Contract cents added.
    pub contract_added_cents: i64,
}

/// A proposal: providers still accept or decline through the lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllocationPlan {
    /// Assignments, in the order orders were considered (priority, then required-by).
    pub assignments: Vec<Assignment>,
    /// Orders not placed, with reasons.
    pub unplaced: Vec<Unplaced>,
    /// 50/50 dollars per department and FY touched by the plan.
    pub funds: Vec<FundsUse>,
    /// Sum of `(16 - priority) * quantity` over placed orders.
    pub served_priority_weight: u64,
    /// Sum of total cost over assignments, cents.
    pub total_cost_cents: i64,
    /// Which orders' placement is proven optimal for the band objective.
    #[serde(default)]
    pub optimality: Optimality,
}

/// How far the plan is proven best: within each priority band, taken from
/// the highest, the most items served, then the least total cost.
///
/// The solver splits the problem into independent parts (orders sharing no
/// offer and no department/FY 50/50 limit) and proves each part optimal by an
/// exhaustive branch-and-bound search when the part is small enough to search
/// within a work budget; a part it cannot prove keeps the heuristic placement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Optimality {
    /// Orders in parts whose placement is proven optimal.
    pub proven_orders: u32,
    /// Orders in parts too large to prove: their placement is the heuristic's.
    pub heuristic_orders: u32,
}

impl Optimality {
    /// Whether the whole plan is proven optimal.
    pub fn is_exact(&self) -> bool {
        self.heuristic_orders == 0
    }
}
