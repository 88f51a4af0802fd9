//! The three records parties exchange, in domain form: repair orders,
//! capacity offers and availability reports. Only valid values reach here;
//! the API layer parses protobuf into these types and back.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::lifecycle::RepairOrderState;
use crate::vocab::*;

/// The separator between the owner and the name it chose in a record id.
pub const ID_NAMESPACE_SEPARATOR: char = '.';

/// The name the exchange gives a record that `caller`'s request creates
/// without naming it (a comment, a disruption notice, a request for
/// update): derived from the caller and its request id when it gave one,
/// so a party node, which forwards each write with its request id, names
/// the record exactly as the coordinator will; `fresh()` otherwise. 32
/// lowercase hex digits, like the exchange's own UUIDs. A request id is the
/// caller's once ever (the coordinator keeps them), so no two records share one.
pub fn named_by_request(caller: &PartyId, request_id: &str, fresh: impl FnOnce() -> String) -> String {
    use sha2::Digest;
    if request_id.is_empty() {
        return fresh();
    }
    let digest =
        sha2::Sha256::new().chain_update(caller.as_str()).chain_update([0]).chain_update(request_id).finalize();
    hex::encode(&digest[..16])
}

/// The id of a record that `owner` creates under a name it chose: the name
/// in the owner's own namespace, `{OWNER}.{name}`. `chosen` is the bare name
/// (1-63 of a-z, 0-9 and `-`, starting with a letter or digit) or already
/// qualified with the owner's id.
///
/// Why: ids are global, so a free choice would let one party learn that a
/// hidden id exists (its create fails) or take an id another party will need
/// (a split's `{parent}-{n}`). In its own namespace a party can collide only
/// with itself. Ids the exchange makes up (UUIDs) have no `.`, so no chosen
/// id can take one either.
pub fn owned_record_id(owner: &PartyId, chosen: &str) -> Result<String, String> {
    let name = match chosen.split_once(ID_NAMESPACE_SEPARATOR) {
        Some((prefix, name)) if prefix == owner.as_str() => name,
        Some((prefix, _)) => {
            return Err(format!(
                "{chosen:?} is in the namespace of {prefix:?}; a party names records in its own ({owner}.NAME) or gives a bare NAME"
            ));
        }
        None => chosen,
    };
    let first = name.bytes().next().unwrap_or(b'-');
    let ok = name.len() <= 63
        && (first.is_ascii_lowercase() || first.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(format!("{owner}{ID_NAMESPACE_SEPARATOR}{name}"))
    } else {
        Err(format!("{chosen:?}: expected 1 to 63 of a-z, 0-9 and \"-\", starting with a letter or digit"))
    }
}

/// The ids of the parts a split makes of `parent`: fixed by the parent's id,
/// so a party node that splits offline names them as the coordinator will.
pub fn split_part_ids(parent: &str, parts: usize) -> Vec<String> {
    (1..=parts).map(|i| format!("{parent}-{i}")).collect()
}

/// What is broken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// National Stock Number, if known.
    pub nsn: Option<Nsn>,
    /// Manufacturer's part number, if known.
    pub part_number: Option<String>,
    /// CAGE code of the manufacturer (required with a part number).
    pub cage_code: Option<CageCode>,
    /// Serial number of a serialized item.
    pub serial_number: Option<String>,
    /// Short description.
    pub nomenclature: String,
}

/// A three-step scale for handling complexity and criticality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
}

/// What moving the unserviceable item costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retrograde {
    /// Distance, km.
    pub distance_km: f64,
    /// Transit time, days.
    pub transit_days: f64,
    /// Packed volume, m³.
    pub volume_m3: f64,
    /// Packed weight, kg.
    pub weight_kg: f64,
    /// Handling complexity.
    pub handling_complexity: Option<Level>,
    /// Criticality.
    pub criticality: Option<Level>,
    /// Estimated transport cost.
    pub transport_cost: Option<Money>,
}

/// Export control and release restrictions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Controls {
    /// ITAR USML category, if controlled under ITAR.
    pub usml_category: Option<String>,
    /// EAR ECCN, if controlled under the EAR.
    pub eccn: Option<String>,
    /// May only go to US organic depots.
    pub organic_only: bool,
    /// Who else may see the order.
    pub releasability: Releasability,
}

impl Controls {
    /// Whether the item is export-controlled at all.
    pub fn export_controlled(&self) -> bool {
        self.usml_category.is_some() || self.eccn.is_some()
    }
}

/// How an ACSA order is reimbursed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reimbursement {
    /// Cash.
    Cash,
    /// Replacement in kind.
    ReplacementInKind,
    /// Equal-value exchange.
    EqualValueExchange,
}

/// Where the money comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundingSource {
    /// US appropriated funds.
    UsAppropriation {
        /// Department whose funds pay.
        department: MilitaryDepartment,
        /// Appropriation title.
        appropriation: String,
        /// Fiscal year of the funds.
        fiscal_year: i32,
    },
    /// Foreign Military Sales case.
    FmsCase {
        /// LOA id.
        loa_id: String,
    },
    /// ACSA order.
    AcsaOrder {
        /// Order id.
        order_id: String,
        /// How it is reimbursed.
        reimbursement: Reimbursement,
    },
    /// Direct commercial sale.
    DirectCommercialSale {
        /// Contract number.
        contract_number: String,
    },
}

/// How the work is paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Funding {
    /// Source of funds, if stated.
    pub source: Option<FundingSource>,
    /// Estimated cost.
    pub estimated_cost: Option<Money>,
    /// Actual cost, once known.
    pub actual_cost: Option<Money>,
    /// A partner's order paid with Foreign Military Financing: it needs a
    /// DSCA waiver before buying third-country or direct commercial sale
    /// support (`reference/rsf-and-fms-excerpts.md`).
    #[serde(default)]
    pub fmf_funded: bool,
    /// The DSCA waiver held for an FMF-funded order, by its reference.
    #[serde(default)]
    pub dsca_waiver_reference: Option<String>,
}

impl Funding {
    /// Fiscal year of the funds, when they are US appropriated funds of a
    /// stated year: the year 10 U.S.C. 2466 counts the work in.
    pub fn fiscal_year(&self) -> Option<crate::FiscalYear> {
        match &self.source {
            Some(FundingSource::UsAppropriation { fiscal_year, .. }) if *fiscal_year != 0 => {
                Some(crate::FiscalYear(*fiscal_year))
            }
            _ => None,
        }
    }
}

/// Dates and actuals a provider records as work progresses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkProgress {
    /// When the item was inducted.
    pub induction_date: Option<NaiveDate>,
    /// Expected completion.
    pub estimated_completion_date: Option<NaiveDate>,
    /// Actual completion.
    pub actual_completion_date: Option<NaiveDate>,
    /// When the serviceable item shipped.
    pub ship_date: Option<NaiveDate>,
    /// Actual labor hours.
    pub actual_labor_hours: Option<f64>,
    /// Actual cost.
    pub actual_cost: Option<Money>,
}

impl WorkProgress {
    /// Overlays the values given in `step` on these.
    pub fn merge(&mut self, step: &WorkProgress) {
        macro_rules! take {
            ($($f:ident),*) => { $( if step.$f.is_some() { self.$f = step.$f.clone(); } )* };
        }
        take!(
            induction_date,
            estimated_completion_date,
            actual_completion_date,
            ship_date,
            actual_labor_hours,
            actual_cost
        );
    }
}

/// What an originator submits: everything about the order that it decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairOrderDraft {
    /// Owner of the item; the caller.
    pub originator: PartyId,
    /// Type-model-series.
    pub tms: Tms,
    /// System category.
    pub system_category: SystemCategory,
    /// Component family, if the order is for a component.
    pub component_family: Option<String>,
    /// The item.
    pub item: Item,
    /// Number of items.
    pub quantity: u32,
    /// Maintenance level.
    pub maintenance_level: MaintenanceLevel,
    /// Repair type.
    pub repair_type: RepairType,
    /// UMMIPS priority 1 (highest) .. 15.
    pub priority: u8,
    /// Required-by date.
    pub required_by: NaiveDate,
    /// Where the item is.
    pub location: Site,
    /// Retrograde data.
    pub retrograde: Option<Retrograde>,
    /// Controls.
    pub controls: Controls,
    /// Funding.
    pub funding: Funding,
    /// Department owning US work.
    pub department: Option<MilitaryDepartment>,
    /// Estimated labor hours for all items.
    pub estimated_labor_hours: f64,
}

/// A repair order as the coordinator holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairOrder {
    /// Server-assigned id.
    pub id: String,
    /// What the originator submitted.
    pub draft: RepairOrderDraft,
    /// Lifecycle state.
    pub state: RepairOrderState,
    /// Provider proposed or assigned.
    pub provider: Option<PartyId>,
    /// Version, +1 on every change.
    pub version: i64,
    /// The order this was split from.
    pub parent: Option<String>,
    /// Created.
    pub create_time: DateTime<Utc>,
    /// Last changed.
    pub update_time: DateTime<Utc>,
    /// What the provider recorded.
    pub progress: WorkProgress,
}

impl RepairOrder {
    /// A new order: `draft` under `id`, SUBMITTED at `time` with no
    /// provider yet, version 1.
    pub fn submitted(id: String, draft: RepairOrderDraft, time: DateTime<Utc>) -> Self {
        RepairOrder {
            id,
            draft,
            state: RepairOrderState::Submitted,
            provider: None,
            version: 1,
            parent: None,
            create_time: time,
            update_time: time,
            progress: WorkProgress::default(),
        }
    }

    /// Moves the order on by `step` (one `lifecycle::transition` allowed),
    /// made by `actor` at `time`, and returns the history entry that records
    /// it: `named` is the provider the step names (a proposal's), `progress`
    /// the dates and actuals given with it. Pure: the caller stores both.
    pub fn take_step(
        &mut self,
        step: crate::lifecycle::Step,
        actor: &PartyId,
        time: DateTime<Utc>,
        reason: Option<String>,
        named: Option<PartyId>,
        progress: WorkProgress,
    ) -> Transition {
        let transition = Transition {
            version: self.version + 1,
            from: Some(self.state),
            to: step.to,
            actor: actor.clone(),
            time,
            reason,
            provider: named,
            progress,
            exception: None,
        };
        self.state = step.to;
        self.provider = step.provider;
        self.version += 1;
        self.update_time = time;
        transition
    }
}

/// One step of an order's lifecycle, as history records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// Order version after the step.
    pub version: i64,
    /// State before.
    pub from: Option<RepairOrderState>,
    /// State after.
    pub to: RepairOrderState,
    /// Who made the step.
    pub actor: PartyId,
    /// When.
    pub time: DateTime<Utc>,
    /// Why, if given.
    pub reason: Option<String>,
    /// Provider named by a proposal.
    pub provider: Option<PartyId>,
    /// Dates and actuals given with the step.
    pub progress: WorkProgress,
    /// For a repair exception raised or answered (the state does not
    /// change): the exception's id. Absent from every other step, and left
    /// out when unset, so older entries read and hash as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<String>,
}

/// A capability a provider offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capability {
    /// TMS covered, or none when a component family is given.
    pub tms: Option<Tms>,
    /// Component family covered.
    pub component_family: Option<String>,
    /// Level.
    pub maintenance_level: MaintenanceLevel,
    /// Repair types.
    pub repair_types: Vec<RepairType>,
}

/// Capacity in one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityPeriod {
    /// First day.
    pub start: NaiveDate,
    /// Last day, inclusive.
    pub end: NaiveDate,
    /// Capacity in the offer's unit.
    pub capacity: f64,
    /// Extra capacity in a crisis.
    pub surge_capacity: f64,
}

/// Kind of provider authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthorizationKind {
    /// OEM approval.
    OemApproval,
    /// Export licence.
    ExportLicense,
    /// Third-country transfer approval.
    ThirdCountryTransfer,
    /// Prime contractor's facility approval.
    PrimeFacilityApproval,
}

/// An approval a provider holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    /// Kind.
    pub kind: AuthorizationKind,
    /// TMS covered, none for all.
    pub tms: Option<Tms>,
    /// Document reference.
    pub reference: String,
    /// Export classification covered, none for all.
    pub export_classification: Option<String>,
    /// Owner nations covered.
    pub nations: Vec<Nation>,
    /// Last valid day.
    pub valid_until: Option<NaiveDate>,
}

/// What a provider offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityOfferDraft {
    /// Provider; the caller.
    pub provider: PartyId,
    /// Where the work is done.
    pub site: Site,
    /// What can be repaired.
    pub capabilities: Vec<Capability>,
    /// Unit of capacity.
    pub unit: CapacityUnit,
    /// Capacity by period.
    pub periods: Vec<CapacityPeriod>,
    /// First valid day.
    pub valid_from: NaiveDate,
    /// Last valid day.
    pub valid_until: NaiveDate,
    /// Days from acceptance to induction.
    pub lead_time_days: u32,
    /// Price per unit.
    pub rate: Option<Money>,
    /// Certifications held.
    pub certifications: Vec<String>,
    /// Approvals held.
    pub authorizations: Vec<Authorization>,
    /// Who else may see the offer.
    pub releasability: Releasability,
}

/// State of an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OfferState {
    /// Open.
    Active,
    /// Withdrawn by the provider.
    Withdrawn,
    /// Past its validity.
    Expired,
}

/// A capacity offer as the coordinator holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityOffer {
    /// Server-assigned id.
    pub id: String,
    /// The offer.
    pub draft: CapacityOfferDraft,
    /// State.
    pub state: OfferState,
    /// Version, +1 on every change.
    pub version: i64,
    /// Created.
    pub create_time: DateTime<Utc>,
    /// Last changed.
    pub update_time: DateTime<Utc>,
}

impl CapacityOffer {
    /// A new offer: `draft` under `id`, ACTIVE from `time`, version 1.
    pub fn active(id: String, draft: CapacityOfferDraft, time: DateTime<Utc>) -> Self {
        CapacityOffer { id, draft, state: OfferState::Active, version: 1, create_time: time, update_time: time }
    }
}

/// Inventory counts by DoDI 3110.05 category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// Total overall aircraft (or equivalent) inventory.
    pub toai: Option<u32>,
    /// Total active inventory.
    pub tai: u32,
    /// Primary aircraft inventory.
    pub pai: Option<u32>,
    /// Backup aircraft inventory.
    pub bai: Option<u32>,
    /// Prepositioned war reserve.
    pub pwr: Option<u32>,
    /// Attrition reserve.
    pub ar: Option<u32>,
    /// Total inactive inventory.
    pub tii: Option<u32>,
    /// Excess to primary, support, and logistics inventory.
    pub epsli: Option<u32>,
    /// Primary mission aircraft inventory.
    pub pmai: u32,
}

/// Time in each availability category, in the report's unit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeByCategory {
    /// Available.
    pub available: f64,
    /// Field maintenance.
    pub nmcm: f64,
    /// Waiting for parts.
    pub nmcs: f64,
    /// At a depot.
    pub depot: f64,
    /// Unit possessed not reported.
    pub upnr: f64,
}

impl TimeByCategory {
    /// Sum of every category.
    pub fn total(&self) -> f64 {
        self.available + self.nmcm + self.nmcs + self.depot + self.upnr
    }
}

/// One asset's time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetAvailability {
    /// Serial, tail or hull number.
    pub serial: String,
    /// Counts towards PMAI.
    pub pmai: bool,
    /// Possible time.
    pub possible: f64,
    /// Time by category.
    pub time: TimeByCategory,
}

/// An availability report as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailabilityReportDraft {
    /// Fleet owner; the caller.
    pub reporter: PartyId,
    /// TMS or ship class.
    pub tms: Tms,
    /// System category.
    pub system_category: SystemCategory,
    /// Department, for US fleets.
    pub department: Option<MilitaryDepartment>,
    /// Region.
    pub region: Region,
    /// First day of the timeframe.
    pub timeframe_start: NaiveDate,
    /// Last day of the timeframe, inclusive.
    pub timeframe_end: NaiveDate,
    /// Unit of all times.
    pub time_unit: TimeUnit,
    /// Inventory counts.
    pub inventory: Inventory,
    /// Fleet totals over TAI.
    pub tai_time: Option<TimeByCategory>,
    /// Fleet totals over PMAI.
    pub pmai_time: Option<TimeByCategory>,
    /// Per-asset detail.
    pub assets: Vec<AssetAvailability>,
    /// PMAI maintenance cost by cost element.
    pub costs: Vec<(String, Money)>,
    /// Who else may see it.
    pub releasability: Releasability,
}

impl AvailabilityReportDraft {
    /// Days in the timeframe (inclusive of both ends).
    pub fn timeframe_days(&self) -> i64 {
        (self.timeframe_end - self.timeframe_start).num_days() + 1
    }

    /// Length of the timeframe in the report's unit.
    pub fn timeframe_length(&self) -> f64 {
        let days = self.timeframe_days() as f64;
        match self.time_unit {
            TimeUnit::Days => days,
            TimeUnit::Hours => days * 24.0,
        }
    }
}

/// An availability report as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailabilityReport {
    /// Server-assigned id.
    pub id: String,
    /// The report.
    pub draft: AvailabilityReportDraft,
    /// 1 for the first report of reporter/TMS/timeframe, +1 per correction.
    pub version: i64,
    /// The report this corrects.
    pub supersedes: Option<String>,
    /// Received.
    pub create_time: DateTime<Utc>,
}

/// A_M and A_O targets a fleet owner sets for one TMS (per class for ships).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailabilityTargetDraft {
    /// The fleet owner; the caller.
    pub owner: PartyId,
    /// TMS or ship class.
    pub tms: Tms,
    /// A_M target, a fraction in (0, 1].
    pub a_m: Option<f64>,
    /// A_O target, a fraction in (0, 1].
    pub a_o: Option<f64>,
}

/// A target as stored: the newest version for owner and TMS counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailabilityTarget {
    /// Server-assigned id.
    pub id: String,
    /// The target.
    pub draft: AvailabilityTargetDraft,
    /// 1 for the first target of owner/TMS, +1 per change.
    pub version: i64,
    /// When it was set.
    pub create_time: DateTime<Utc>,
}

/// Depot maintenance done outside the exchange for one department and US
/// fiscal year, entered by a coordinator: 10 U.S.C. 2466 counts all of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepotBaseline {
    /// Server-assigned id.
    pub id: String,
    /// Department.
    pub department: MilitaryDepartment,
    /// US fiscal year (FY2027 = 2026-10-01 .. 2027-09-30).
    pub fiscal_year: i32,
    /// Organic dollars, in cents.
    pub organic_cents: i64,
    /// Contract dollars, in cents.
    pub contract_cents: i64,
    /// Organic labor hours.
    pub organic_hours: f64,
    /// Contract labor hours.
    pub contract_hours: f64,
    /// 1 for the first entry of department/FY, +1 per change.
    pub version: i64,
}
