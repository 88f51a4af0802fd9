//! Demand against capacity: per cell and period, demand (actual from the
//! cube, or forecast) set against capacity offered, with surge capacity kept
//! separate, as shortfall or surplus in the capacity's own unit, and
//! bottleneck alerts. Like the Catena-X demand–capacity comparison, but over
//! the cells of many parties at once. No I/O.
//!
//! Units: labor-hour capacity is compared with estimated labor hours;
//! induction-slot capacity with item quantity (one slot per item).
//!
//! Alert rule: a period is a bottleneck when `shortfall = demand − capacity`
//! (surge not counted) is positive and `shortfall ≥ absolute` and, if
//! capacity is non-zero, `shortfall / capacity ≥ relative`. With no capacity
//! at all, any shortfall at or above the absolute threshold alerts. Each
//! alert says whether surge capacity would cover it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cube::{CellKey, CellQuery, DemandCube, Measure};
use crate::error::{DemandError, invalid};
use crate::forecast::CellForecast;
use crate::period::Period;

/// Unit in which capacity is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CapacityUnit {
    /// Induction slots: one per item.
    InductionSlots,
    /// Labor hours.
    LaborHours,
}

impl CapacityUnit {
    /// The demand measure expressed in this unit.
    pub fn measure(self) -> Measure {
        match self {
            CapacityUnit::InductionSlots => Measure::Quantity,
            CapacityUnit::LaborHours => Measure::LaborHours,
        }
    }
}

/// Capacity offered in one cell and period (the caller sums or passes one
/// entry per offer; entries for the same cell are added up).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityEntry {
    /// Cell (region × TMS/family × level).
    pub key: CellKey,
    /// Period, of the comparison's granularity.
    pub period: Period,
    /// Unit of `offered` and `surge`.
    pub unit: CapacityUnit,
    /// Capacity normally available.
    pub offered: f64,
    /// Extra capacity available in a crisis.
    pub surge: f64,
}

/// Whether a demand figure is observed or forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DemandKind {
    /// Counted from orders.
    Actual,
    /// Forecast (the point value; `upper` carries the band).
    Forecast,
}

/// Demand in one cell and period, in a capacity unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemandPoint {
    /// Cell.
    pub key: CellKey,
    /// Period.
    pub period: Period,
    /// Unit of `value`.
    pub unit: CapacityUnit,
    /// Actual or forecast.
    pub kind: DemandKind,
    /// Demand (forecast point for forecasts).
    pub value: f64,
    /// Upper end of a forecast's prediction interval of the period's
    /// demand (`ForecastPoint::upper`; below the point for a series that
    /// rarely has demand). Summed over cells it is not an interval of the sum.
    pub upper: Option<f64>,
}

/// When a shortfall becomes a bottleneck alert.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BottleneckThresholds {
    /// Minimum shortfall, in the capacity's unit.
    pub absolute: f64,
    /// Minimum shortfall as a fraction of capacity (0.2 = 20 %).
    pub relative: f64,
}

impl BottleneckThresholds {
    fn check(&self) -> Result<(), DemandError> {
        if !self.absolute.is_finite() || self.absolute < 0.0 {
            return Err(invalid(
                "bottleneck_thresholds.absolute",
                format!("{}: expected a finite number >= 0", self.absolute),
            ));
        }
        if !self.relative.is_finite() || self.relative < 0.0 {
            return Err(invalid(
                "bottleneck_thresholds.relative",
                format!("{}: expected a finite number >= 0", self.relative),
            ));
        }
        Ok(())
    }

    /// True when `shortfall` against `capacity` is a bottleneck.
    pub fn fires(&self, shortfall: f64, capacity: f64) -> bool {
        shortfall > 0.0 && shortfall >= self.absolute && (capacity <= 0.0 || shortfall / capacity >= self.relative)
    }
}

/// A bottleneck.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BottleneckAlert {
    /// Demand minus capacity (without surge).
    pub shortfall: f64,
    /// Shortfall / capacity; `None` when no capacity is offered.
    pub relative: Option<f64>,
    /// True when surge capacity would cover the shortfall.
    pub covered_by_surge: bool,
}

/// Demand against capacity in one cell and period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BalanceRow {
    /// Cell.
    pub key: CellKey,
    /// Period.
    pub period: Period,
    /// Unit of every number in the row.
    pub unit: CapacityUnit,
    /// Actual or forecast demand (`Actual` with zero when none was given).
    pub demand_kind: DemandKind,
    /// Demand.
    pub demand: f64,
    /// Upper band of forecast demand.
    pub demand_upper: Option<f64>,
    /// Capacity offered (without surge).
    pub capacity: f64,
    /// Surge capacity.
    pub surge: f64,
    /// `capacity − demand`: positive is surplus, negative shortfall.
    pub balance: f64,
    /// `capacity + surge − demand`.
    pub balance_with_surge: f64,
    /// Set when the shortfall crosses both thresholds.
    pub alert: Option<BottleneckAlert>,
}

/// Actual demand of the cells `query` selects, in `unit`.
pub fn actual_demand(
    cube: &DemandCube,
    query: &CellQuery,
    unit: CapacityUnit,
) -> Result<Vec<DemandPoint>, DemandError> {
    Ok(cube
        .query(query)?
        .into_iter()
        .map(|c| DemandPoint {
            value: c.measures.get(unit.measure()),
            key: c.key,
            period: c.period,
            unit,
            kind: DemandKind::Actual,
            upper: None,
        })
        .collect())
}

/// Forecast demand from a cell forecast, in `unit` (which must match the
/// forecast's measure).
pub fn forecast_demand(forecast: &CellForecast, unit: CapacityUnit) -> Result<Vec<DemandPoint>, DemandError> {
    if forecast.measure != unit.measure() {
        return Err(invalid(
            "cell_forecast.measure",
            format!("{:?} cannot be compared with capacity in {:?}", forecast.measure, unit),
        ));
    }
    Ok(forecast
        .forecast
        .points
        .iter()
        .map(|p| DemandPoint {
            key: forecast.key.clone(),
            period: forecast.period_of(p),
            unit,
            kind: DemandKind::Forecast,
            value: p.point,
            upper: Some(p.upper),
        })
        .collect())
}

#[derive(Default)]
struct Joined {
    demand: Option<(DemandKind, f64, Option<f64>)>,
    capacity: f64,
    surge: f64,
}

fn non_negative(field: &'static str, x: f64) -> Result<f64, DemandError> {
    if x.is_finite() && x >= 0.0 { Ok(x) } else { Err(invalid(field, format!("{x}: expected a finite number >= 0"))) }
}

/// Joins demand and capacity on (cell, period) — a cell missing on one side
/// counts as zero there — and computes balances and alerts, sorted by cell
/// then period. All inputs must be in `unit` and share one granularity.
pub fn compare(
    demand: &[DemandPoint],
    capacity: &[CapacityEntry],
    unit: CapacityUnit,
    thresholds: BottleneckThresholds,
) -> Result<Vec<BalanceRow>, DemandError> {
    thresholds.check()?;
    let granularity =
        demand.first().map(|d| d.period.granularity()).or_else(|| capacity.first().map(|c| c.period.granularity()));
    let mut cells: BTreeMap<(CellKey, Period), Joined> = BTreeMap::new();
    for d in demand {
        if d.unit != unit {
            return Err(invalid("demand_point.unit", format!("{:?}: expected {unit:?}", d.unit)));
        }
        if Some(d.period.granularity()) != granularity {
            return Err(DemandError::GranularityMismatch {
                field: "demand_point.period",
                expected: granularity.map(|g| g.to_string()).unwrap_or_default(),
                found: d.period.granularity().to_string(),
            });
        }
        let value = non_negative("demand_point.value", d.value)?;
        let joined = cells.entry((d.key.clone(), d.period)).or_default();
        joined.demand = Some(match joined.demand {
            None => (d.kind, value, d.upper),
            Some((kind, v, upper)) if kind == d.kind => (
                kind,
                v + value,
                match (upper, d.upper) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                },
            ),
            Some(_) => {
                return Err(invalid(
                    "demand_point.kind",
                    format!("both actual and forecast demand for {:?} in {}", d.key, d.period),
                ));
            }
        });
    }
    for c in capacity {
        if c.unit != unit {
            return Err(invalid("capacity_entry.unit", format!("{:?}: expected {unit:?}", c.unit)));
        }
        if Some(c.period.granularity()) != granularity {
            return Err(DemandError::GranularityMismatch {
                field: "capacity_entry.period",
                expected: granularity.map(|g| g.to_string()).unwrap_or_default(),
                found: c.period.granularity().to_string(),
            });
        }
        let joined = cells.entry((c.key.clone(), c.period)).or_default();
        joined.capacity += non_negative("capacity_entry.offered", c.offered)?;
        joined.surge += non_negative("capacity_entry.surge", c.surge)?;
    }
    Ok(cells
        .into_iter()
        .map(|((key, period), j)| {
            let (demand_kind, demand, demand_upper) = j.demand.unwrap_or((DemandKind::Actual, 0.0, None));
            let shortfall = demand - j.capacity;
            let alert = thresholds.fires(shortfall, j.capacity).then(|| BottleneckAlert {
                shortfall,
                relative: (j.capacity > 0.0).then(|| shortfall / j.capacity),
                covered_by_surge: shortfall <= j.surge,
            });
            BalanceRow {
                key,
                period,
                unit,
                demand_kind,
                demand,
                demand_upper,
                capacity: j.capacity,
                surge: j.surge,
                balance: j.capacity - demand,
                balance_with_surge: j.capacity + j.surge - demand,
                alert,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::float_cmp)]
    use super::*;
    use crate::order::{MaintenanceLevel, Region};

    fn key() -> CellKey {
        CellKey::new(Region::Indopacom, "C-130J", MaintenanceLevel::Depot)
    }

    fn month() -> Period {
        Period::month(2027, 1).unwrap()
    }

    fn row(demand: f64, capacity: f64, surge: f64, t: BottleneckThresholds) -> BalanceRow {
        let d = DemandPoint {
            key: key(),
            period: month(),
            unit: CapacityUnit::LaborHours,
            kind: DemandKind::Actual,
            value: demand,
            upper: None,
        };
        let c = CapacityEntry { key: key(), period: month(), unit: CapacityUnit::LaborHours, offered: capacity, surge };
        let rows = compare(&[d], &[c], CapacityUnit::LaborHours, t).unwrap();
        assert_eq!(rows.len(), 1);
        rows.into_iter().next().unwrap()
    }

    const T: BottleneckThresholds = BottleneckThresholds { absolute: 20.0, relative: 0.2 };

    #[test]
    fn alert_fires_exactly_at_both_thresholds() {
        // Shortfall 20 of capacity 100: 20 >= 20 and 0.2 >= 0.2.
        let r = row(120.0, 100.0, 0.0, T);
        assert_eq!(r.balance, -20.0);
        let a = r.alert.unwrap();
        assert_eq!(a.shortfall, 20.0);
        assert_eq!(a.relative, Some(0.2));
        assert!(!a.covered_by_surge);
    }

    #[test]
    fn alert_does_not_fire_just_below_either_threshold() {
        // Absolute just below: 19.99 of 50 is 40 % but under 20 hours.
        assert!(row(69.99, 50.0, 0.0, T).alert.is_none());
        // Relative just below: 39.9 of 200 is 19.95 %.
        assert!(row(239.9, 200.0, 0.0, T).alert.is_none());
        // Surplus never alerts.
        let r = row(80.0, 100.0, 0.0, T);
        assert_eq!(r.balance, 20.0);
        assert!(r.alert.is_none());
    }

    #[test]
    fn no_capacity_at_all_alerts_on_the_absolute_threshold_and_surge_is_separate() {
        let r = row(20.0, 0.0, 25.0, T);
        let a = r.alert.unwrap();
        assert_eq!(a.relative, None);
        assert!(a.covered_by_surge);
        assert_eq!(r.balance_with_surge, 5.0);
        assert!(row(19.0, 0.0, 0.0, T).alert.is_none());
    }

    #[test]
    fn capacity_without_demand_is_surplus_and_offers_add_up() {
        let c =
            CapacityEntry { key: key(), period: month(), unit: CapacityUnit::InductionSlots, offered: 3.0, surge: 1.0 };
        let rows = compare(&[], &[c.clone(), c], CapacityUnit::InductionSlots, T).unwrap();
        assert_eq!(rows[0].capacity, 6.0);
        assert_eq!(rows[0].surge, 2.0);
        assert_eq!(rows[0].balance, 6.0);
        assert_eq!(rows[0].demand_kind, DemandKind::Actual);
    }

    #[test]
    fn mixed_units_and_granularities_are_refused_by_field() {
        let c =
            CapacityEntry { key: key(), period: month(), unit: CapacityUnit::InductionSlots, offered: 3.0, surge: 0.0 };
        assert!(matches!(
            compare(&[], std::slice::from_ref(&c), CapacityUnit::LaborHours, T),
            Err(DemandError::InvalidField { field: "capacity_entry.unit", .. })
        ));
        let mut other = c.clone();
        other.period = Period::fiscal_year(2027);
        assert!(matches!(
            compare(&[], &[c, other], CapacityUnit::InductionSlots, T),
            Err(DemandError::GranularityMismatch { .. })
        ));
    }

    #[test]
    fn actual_and_forecast_demand_from_the_cube_meet_capacity_in_slots() {
        use crate::cube::{Breakdown, DateBasis};
        use crate::forecast::{ForecastConfig, forecast_cell};
        use crate::order::{DemandOrder, RepairType};
        use crate::period::Granularity;
        use chrono::NaiveDate;

        let orders: Vec<DemandOrder> = (1..=6u32)
            .map(|m| {
                let d = NaiveDate::from_ymd_opt(2026, m, 10).unwrap();
                DemandOrder {
                    order_id: format!("RO-{m}"),
                    region: Region::Indopacom,
                    tms_or_family: "C-130J".into(),
                    maintenance_level: MaintenanceLevel::Depot,
                    repair_type: RepairType::Inspection,
                    owner_nation: "PHL".into(),
                    originator: "PHL-PAF".into(),
                    submitted: d,
                    required_by: d,
                    quantity: 4,
                    estimated_labor_hours: 40.0,
                    cancelled: false,
                }
            })
            .collect();
        let cube = DemandCube::from_orders(&orders).unwrap();
        let unit = CapacityUnit::InductionSlots;
        let actual =
            actual_demand(&cube, &CellQuery::all(DateBasis::RequiredBy, Granularity::Month, Breakdown::NONE), unit)
                .unwrap();
        assert_eq!(actual.len(), 6);
        assert!(actual.iter().all(|d| d.value == 4.0));
        let f = forecast_cell(
            &cube,
            &key(),
            DateBasis::RequiredBy,
            Measure::Quantity,
            Period::month(2026, 1).unwrap(),
            Period::month(2026, 6).unwrap(),
            &ForecastConfig { horizon: 2, ..ForecastConfig::default() },
        )
        .unwrap();
        let forecast = forecast_demand(&f, unit).unwrap();
        assert_eq!(forecast[0].period, Period::month(2026, 7).unwrap());
        assert_eq!(forecast[0].value, 4.0);
        assert!(forecast_demand(&f, CapacityUnit::LaborHours).is_err());
        let capacity: Vec<CapacityEntry> = (1..=8u32)
            .map(|m| CapacityEntry {
                key: key(),
                period: Period::month(2026, m).unwrap(),
                unit,
                offered: 2.0,
                surge: 2.0,
            })
            .collect();
        let demand: Vec<DemandPoint> = actual.into_iter().chain(forecast).collect();
        let t = BottleneckThresholds { absolute: 2.0, relative: 1.0 };
        let rows = compare(&demand, &capacity, unit, t).unwrap();
        assert_eq!(rows.len(), 8);
        assert!(rows.iter().all(|r| r.balance == -2.0 && r.balance_with_surge == 0.0));
        assert!(rows.iter().all(|r| r.alert.as_ref().is_some_and(|a| a.covered_by_surge)));
        assert_eq!(rows[7].demand_kind, DemandKind::Forecast);
    }
}
