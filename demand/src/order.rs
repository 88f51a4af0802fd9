//! The rows demand is built from: one `DemandOrder` per repair order, in
//! whatever lifecycle state, as the server knows it. Also the small
//! vocabulary the cells are keyed by. Values are checked once when they
//! enter the cube. No I/O.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{DemandError, invalid};

/// The exchange's one vocabulary (`cosx_domain`), which cells are keyed by.
pub use cosx_domain::{MaintenanceLevel, Region, RepairType};

/// One repair order as seen by demand aggregation.
///
/// The server fills this from a `RepairOrder` in any lifecycle state. Orders
/// in every state from `SUBMITTED` to `CLOSED` count as demand; a
/// `CANCELLED` order (`cancelled: true`) does not, because it was withdrawn
/// before induction and never needed capacity (see `DemandCube::add`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemandOrder {
    /// Repair order identifier (used only in error messages).
    pub order_id: String,
    /// Combatant command area where the demand arises.
    pub region: Region,
    /// TMS (e.g. `F-35A`) or component family; a flat label, no hierarchy.
    pub tms_or_family: String,
    /// Maintenance level asked for.
    pub maintenance_level: MaintenanceLevel,
    /// Kind of repair.
    pub repair_type: RepairType,
    /// Nation owning the item, ISO 3166-1 alpha-3.
    pub owner_nation: String,
    /// Party id of the originator (never aggregated on: it identifies a party).
    pub originator: String,
    /// Date the order was submitted.
    pub submitted: NaiveDate,
    /// Date the repaired item is required by.
    pub required_by: NaiveDate,
    /// Number of items; each item takes one induction slot.
    pub quantity: u32,
    /// Estimated labor hours for the whole order.
    pub estimated_labor_hours: f64,
    /// True once the order is `CANCELLED`.
    pub cancelled: bool,
}

/// Labor hours held as integer hundredths of an hour, so that adding and
/// removing orders is exact and the incremental cube never drifts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LaborHours {
    centihours: u64,
}

/// Largest accepted estimate for one order (hours); keeps sums far from overflow.
const MAX_ORDER_HOURS: f64 = 1.0e6;

impl LaborHours {
    /// Zero hours.
    pub const ZERO: LaborHours = LaborHours { centihours: 0 };

    /// Hours, rounded to the nearest hundredth; rejects negative, NaN,
    /// infinite and absurdly large values.
    pub fn from_hours(hours: f64) -> Result<LaborHours, DemandError> {
        if !hours.is_finite() || !(0.0..=MAX_ORDER_HOURS).contains(&hours) {
            return Err(invalid(
                "demand_order.estimated_labor_hours",
                format!("{hours}: expected a finite number of hours in 0..={MAX_ORDER_HOURS}"),
            ));
        }
        // In range and finite, so the cast cannot saturate.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let centihours = (hours * 100.0).round() as u64;
        Ok(LaborHours { centihours })
    }

    /// From integer hundredths of an hour.
    pub fn from_centihours(centihours: u64) -> LaborHours {
        LaborHours { centihours }
    }

    /// Integer hundredths of an hour.
    pub fn centihours(self) -> u64 {
        self.centihours
    }

    /// As (fractional) hours.
    #[allow(clippy::cast_precision_loss)]
    pub fn hours(self) -> f64 {
        self.centihours as f64 / 100.0
    }

    pub(crate) fn checked_sub(self, other: LaborHours) -> Option<LaborHours> {
        self.centihours.checked_sub(other.centihours).map(LaborHours::from_centihours)
    }
}

/// A `DemandOrder` whose values have been checked, in the form the cube
/// stores.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CheckedOrder {
    pub(crate) quantity: u64,
    pub(crate) labor: LaborHours,
}

impl DemandOrder {
    /// Checks every field the cube relies on; the error names the field.
    pub fn check(&self) -> Result<(), DemandError> {
        self.checked().map(|_| ())
    }

    pub(crate) fn checked(&self) -> Result<CheckedOrder, DemandError> {
        if self.tms_or_family.trim().is_empty() {
            return Err(invalid("demand_order.tms_or_family", "must not be empty"));
        }
        if self.owner_nation.len() != 3 || !self.owner_nation.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                "demand_order.owner_nation",
                format!("{:?}: expected ISO 3166-1 alpha-3, e.g. USA", self.owner_nation),
            ));
        }
        if self.quantity == 0 {
            return Err(invalid("demand_order.quantity", "must be at least 1"));
        }
        // A required-by date before submission is an overdue repair, a normal
        // case: it counts in both views like any other order.
        let labor = LaborHours::from_hours(self.estimated_labor_hours)?;
        Ok(CheckedOrder { quantity: u64::from(self.quantity), labor })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn order() -> DemandOrder {
        DemandOrder {
            order_id: "RO-1".into(),
            region: Region::Indopacom,
            tms_or_family: "F-35A".into(),
            maintenance_level: MaintenanceLevel::Depot,
            repair_type: RepairType::RepairAndReturn,
            owner_nation: "JPN".into(),
            originator: "JPN-JASDF".into(),
            submitted: NaiveDate::from_ymd_opt(2026, 10, 3).unwrap(),
            required_by: NaiveDate::from_ymd_opt(2027, 1, 3).unwrap(),
            quantity: 2,
            estimated_labor_hours: 12.345,
            cancelled: false,
        }
    }

    #[test]
    fn a_well_formed_order_passes_and_hours_round_to_hundredths() {
        let c = order().checked().unwrap();
        assert_eq!(c.labor.centihours(), 1235);
        assert_eq!(c.quantity, 2);
    }

    #[test]
    fn each_bad_field_is_named() {
        let field = |o: DemandOrder| match o.check() {
            Err(DemandError::InvalidField { field, .. }) => field,
            other => panic!("expected InvalidField, got {other:?}"),
        };
        assert_eq!(field(DemandOrder { quantity: 0, ..order() }), "demand_order.quantity");
        assert_eq!(
            field(DemandOrder { estimated_labor_hours: f64::NAN, ..order() }),
            "demand_order.estimated_labor_hours"
        );
        assert_eq!(field(DemandOrder { estimated_labor_hours: -1.0, ..order() }), "demand_order.estimated_labor_hours");
        assert_eq!(field(DemandOrder { owner_nation: "jp".into(), ..order() }), "demand_order.owner_nation");
        assert_eq!(field(DemandOrder { tms_or_family: " ".into(), ..order() }), "demand_order.tms_or_family");
    }

    #[test]
    fn an_overdue_order_still_counts() {
        let early = order().submitted.pred_opt().unwrap();
        assert!(DemandOrder { required_by: early, ..order() }.check().is_ok());
    }
}
