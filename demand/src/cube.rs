//! The demand cube: repair orders aggregated into cells of region ×
//! TMS/family × maintenance level (optionally × owner nation and/or × repair
//! type) × period, counted by submitted date and, separately, by required-by
//! date. It is maintained incrementally — `add` and `remove` touch a fixed
//! number of cells per order — so a server can keep it current from
//! lifecycle events instead of rescanning every order. No I/O.
//!
//! Storage is at month resolution; fiscal quarters and years are exact sums
//! of months, rolled up when queried (a series has at most a few hundred
//! months, so that is cheap and avoids a second copy that could disagree).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::error::{DemandError, invalid};
use crate::order::{DemandOrder, LaborHours, MaintenanceLevel, Region, RepairType};
use crate::period::{Granularity, Period};

/// Which date of an order places it in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DateBasis {
    /// By the date the order was submitted (when demand arose).
    Submitted,
    /// By the date the repair is required by (when capacity is needed).
    RequiredBy,
}

impl DateBasis {
    /// Both bases.
    pub const ALL: [DateBasis; 2] = [DateBasis::Submitted, DateBasis::RequiredBy];

    fn index(self) -> usize {
        match self {
            DateBasis::Submitted => 0,
            DateBasis::RequiredBy => 1,
        }
    }
}

/// Which optional dimensions split the cells beyond region × TMS × level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Breakdown {
    /// Split cells by the nation owning the item.
    pub by_owner_nation: bool,
    /// Split cells by repair type.
    pub by_repair_type: bool,
}

impl Breakdown {
    /// Region × TMS × level only.
    pub const NONE: Breakdown = Breakdown { by_owner_nation: false, by_repair_type: false };

    /// All four breakdowns.
    pub const ALL: [Breakdown; 4] = [
        Breakdown::NONE,
        Breakdown { by_owner_nation: true, by_repair_type: false },
        Breakdown { by_owner_nation: false, by_repair_type: true },
        Breakdown { by_owner_nation: true, by_repair_type: true },
    ];

    fn index(self) -> usize {
        usize::from(self.by_owner_nation) + 2 * usize::from(self.by_repair_type)
    }
}

/// The non-time coordinates of a cell (and so of a time series).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CellKey {
    /// Combatant command area.
    pub region: Region,
    /// TMS or component family.
    pub tms_or_family: String,
    /// Maintenance level.
    pub maintenance_level: MaintenanceLevel,
    /// Owner nation, when the breakdown splits by it.
    pub owner_nation: Option<String>,
    /// Repair type, when the breakdown splits by it.
    pub repair_type: Option<RepairType>,
}

impl CellKey {
    /// A key without the optional dimensions.
    pub fn new(region: Region, tms_or_family: impl Into<String>, maintenance_level: MaintenanceLevel) -> CellKey {
        CellKey {
            region,
            tms_or_family: tms_or_family.into(),
            maintenance_level,
            owner_nation: None,
            repair_type: None,
        }
    }

    /// The key `order` falls in under `breakdown`.
    pub fn of(order: &DemandOrder, breakdown: Breakdown) -> CellKey {
        CellKey {
            region: order.region,
            tms_or_family: order.tms_or_family.clone(),
            maintenance_level: order.maintenance_level,
            owner_nation: breakdown.by_owner_nation.then(|| order.owner_nation.clone()),
            repair_type: breakdown.by_repair_type.then_some(order.repair_type),
        }
    }

    /// The breakdown this key belongs to.
    pub fn breakdown(&self) -> Breakdown {
        Breakdown { by_owner_nation: self.owner_nation.is_some(), by_repair_type: self.repair_type.is_some() }
    }
}

/// Which measure of a cell a series or forecast is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Measure {
    /// Number of orders.
    Orders,
    /// Number of items (= induction slots).
    Quantity,
    /// Estimated labor hours.
    LaborHours,
}

/// What a cell holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Measures {
    /// Number of orders.
    pub orders: u64,
    /// Number of items (each item is one induction slot).
    pub quantity: u64,
    /// Estimated labor hours.
    pub labor: LaborHours,
}

impl Measures {
    /// The value of one measure as a number.
    #[allow(clippy::cast_precision_loss)]
    pub fn get(&self, measure: Measure) -> f64 {
        match measure {
            Measure::Orders => self.orders as f64,
            Measure::Quantity => self.quantity as f64,
            Measure::LaborHours => self.labor.hours(),
        }
    }

    /// True when no order is counted.
    pub fn is_empty(&self) -> bool {
        self.orders == 0
    }

    pub(crate) fn minus(self, other: Measures) -> Option<Measures> {
        Some(Measures {
            orders: self.orders.checked_sub(other.orders)?,
            quantity: self.quantity.checked_sub(other.quantity)?,
            labor: self.labor.checked_sub(other.labor)?,
        })
    }

    fn saturating_plus(self, other: Measures) -> Measures {
        Measures {
            orders: self.orders.saturating_add(other.orders),
            quantity: self.quantity.saturating_add(other.quantity),
            labor: LaborHours::from_centihours(self.labor.centihours().saturating_add(other.labor.centihours())),
        }
    }
}

/// One cell of the cube.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemandCell {
    /// Non-time coordinates.
    pub key: CellKey,
    /// The period.
    pub period: Period,
    /// What was counted.
    pub measures: Measures,
}

/// A selection of cells. Filters only choose which cells of the fixed grid
/// (`basis` × `granularity` × `breakdown`) come back; they never change how a
/// cell is built. An empty list means "all".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellQuery {
    /// Which date places an order in a period.
    pub basis: DateBasis,
    /// Period granularity of the grid.
    pub granularity: Granularity,
    /// Optional dimensions of the grid.
    pub breakdown: Breakdown,
    /// Regions to return (empty: all).
    pub regions: Vec<Region>,
    /// TMS / families to return (empty: all).
    pub tms_or_families: Vec<String>,
    /// Maintenance levels to return (empty: all).
    pub maintenance_levels: Vec<MaintenanceLevel>,
    /// Owner nations to return (needs `breakdown.by_owner_nation`; empty: all).
    pub owner_nations: Vec<String>,
    /// Repair types to return (needs `breakdown.by_repair_type`; empty: all).
    pub repair_types: Vec<RepairType>,
    /// First period to return (inclusive), of `granularity`.
    pub from: Option<Period>,
    /// Last period to return (inclusive), of `granularity`.
    pub to: Option<Period>,
}

impl CellQuery {
    /// Every cell of a grid, unfiltered.
    pub fn all(basis: DateBasis, granularity: Granularity, breakdown: Breakdown) -> CellQuery {
        CellQuery {
            basis,
            granularity,
            breakdown,
            regions: Vec::new(),
            tms_or_families: Vec::new(),
            maintenance_levels: Vec::new(),
            owner_nations: Vec::new(),
            repair_types: Vec::new(),
            from: None,
            to: None,
        }
    }

    pub(crate) fn check(&self) -> Result<(), DemandError> {
        for (field, p) in [("cell_query.from", self.from), ("cell_query.to", self.to)] {
            if let Some(p) = p
                && p.granularity() != self.granularity
            {
                return Err(DemandError::GranularityMismatch {
                    field,
                    expected: self.granularity.to_string(),
                    found: p.granularity().to_string(),
                });
            }
        }
        if !self.owner_nations.is_empty() && !self.breakdown.by_owner_nation {
            return Err(invalid(
                "cell_query.owner_nations",
                "filtering by owner nation needs breakdown.by_owner_nation",
            ));
        }
        if !self.repair_types.is_empty() && !self.breakdown.by_repair_type {
            return Err(invalid("cell_query.repair_types", "filtering by repair type needs breakdown.by_repair_type"));
        }
        Ok(())
    }

    pub(crate) fn selects_key(&self, key: &CellKey) -> bool {
        fn any_or<T: PartialEq>(list: &[T], value: &T) -> bool {
            list.is_empty() || list.contains(value)
        }
        any_or(&self.regions, &key.region)
            && any_or(&self.tms_or_families, &key.tms_or_family)
            && any_or(&self.maintenance_levels, &key.maintenance_level)
            && (self.owner_nations.is_empty()
                || key.owner_nation.as_ref().is_some_and(|n| self.owner_nations.contains(n)))
            && (self.repair_types.is_empty() || key.repair_type.is_some_and(|r| self.repair_types.contains(&r)))
    }

    /// Inclusive month-ordinal bounds of the selected periods.
    pub(crate) fn month_bounds(&self) -> (i64, i64) {
        (self.from.map_or(i64::MIN, Period::first_month_ordinal), self.to.map_or(i64::MAX, Period::last_month_ordinal))
    }
}

/// Month-resolution series of one key in one view.
pub(crate) type MonthSeries = BTreeMap<i64, Measures>;

/// Orders per originator in one month of one series.
pub(crate) type Contributors = BTreeMap<String, u64>;

/// Incrementally maintained aggregate of demand orders.
///
/// Holds eight views (2 date bases × 4 breakdowns) at month resolution;
/// `add`/`remove` update one month cell in each, i.e. O(1) per order in the
/// number of orders. Cancelled orders are not counted (see `add`).
///
/// Deliberately not `Serialize`: it is an in-memory index, rebuilt from the
/// stored orders at start-up; what is served are `DemandCell`s.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandCube {
    views: Vec<HashMap<CellKey, MonthSeries>>,
    /// Per date basis, for the series parties see (no breakdown): who
    /// contributed each month's orders, so that suppression can count
    /// distinct originators other than the party asking. Never served.
    contributors: Vec<HashMap<CellKey, BTreeMap<i64, Contributors>>>,
    counted_orders: u64,
}

const VIEWS: usize = 8;

/// The month ordinals of an order on each date basis (by `DateBasis::index`).
fn months_of(order: &DemandOrder) -> [i64; 2] {
    [
        Period::containing(order.submitted, Granularity::Month).ordinal(),
        Period::containing(order.required_by, Granularity::Month).ordinal(),
    ]
}

fn view_index(basis: DateBasis, breakdown: Breakdown) -> usize {
    basis.index() * 4 + breakdown.index()
}

impl Default for DemandCube {
    fn default() -> DemandCube {
        DemandCube::new()
    }
}

impl DemandCube {
    /// An empty cube.
    pub fn new() -> DemandCube {
        DemandCube { views: vec![HashMap::new(); VIEWS], contributors: vec![HashMap::new(); 2], counted_orders: 0 }
    }

    /// A cube holding `orders` (cancelled ones are skipped).
    pub fn from_orders<'a>(orders: impl IntoIterator<Item = &'a DemandOrder>) -> Result<DemandCube, DemandError> {
        let mut cube = DemandCube::new();
        for order in orders {
            cube.add(order)?;
        }
        Ok(cube)
    }

    /// Number of orders currently counted.
    pub fn counted_orders(&self) -> u64 {
        self.counted_orders
    }

    /// Counts `order` in its cells. A cancelled order is checked but not
    /// counted — cancelled work never needed capacity — so `add` returns
    /// `Ok(false)` for it; every other lifecycle state counts (`Ok(true)`).
    pub fn add(&mut self, order: &DemandOrder) -> Result<bool, DemandError> {
        let checked = order.checked()?;
        if order.cancelled {
            return Ok(false);
        }
        let delta = Measures { orders: 1, quantity: checked.quantity, labor: checked.labor };
        // Sums cannot overflow in practice: one order carries at most
        // u32::MAX items and 10⁸ centihours, so a u64 cell holds billions of
        // orders; saturating keeps it well-defined beyond that.
        let months = months_of(order);
        for breakdown in Breakdown::ALL {
            let key = CellKey::of(order, breakdown);
            for basis in DateBasis::ALL {
                let view = &mut self.views[view_index(basis, breakdown)];
                if !view.contains_key(&key) {
                    view.insert(key.clone(), MonthSeries::new());
                }
                if let Some(series) = view.get_mut(&key) {
                    let cell = series.entry(months[basis.index()]).or_default();
                    *cell = cell.saturating_plus(delta);
                }
            }
        }
        for basis in DateBasis::ALL {
            let months = self.contributors[basis.index()].entry(CellKey::of(order, Breakdown::NONE)).or_default();
            *months.entry(months_of(order)[basis.index()]).or_default().entry(order.originator.clone()).or_insert(0) +=
                1;
        }
        self.counted_orders += 1;
        Ok(true)
    }

    /// Takes `order` back out (it must have been added with the same
    /// values). A cancelled order was never counted, so removing it is a
    /// no-op returning `Ok(false)`. If any of its cells would go negative the
    /// cube is left unchanged and `NotInCube` is returned.
    pub fn remove(&mut self, order: &DemandOrder) -> Result<bool, DemandError> {
        let checked = order.checked()?;
        if order.cancelled {
            return Ok(false);
        }
        let delta = Measures { orders: 1, quantity: checked.quantity, labor: checked.labor };
        let cells = self.cells_of(order);
        for (view, key, month) in &cells {
            let current = self.views[*view].get(key).and_then(|s| s.get(month)).copied().unwrap_or_default();
            if current.minus(delta).is_none() {
                return Err(DemandError::NotInCube { order_id: order.order_id.clone() });
            }
        }
        for (view, key, month) in cells {
            let series_now_empty = if let Some(series) = self.views[view].get_mut(&key) {
                let cell_now_empty = if let Some(cell) = series.get_mut(&month) {
                    *cell = cell.minus(delta).unwrap_or_default();
                    cell.is_empty()
                } else {
                    false
                };
                if cell_now_empty {
                    series.remove(&month);
                }
                series.is_empty()
            } else {
                false
            };
            if series_now_empty {
                self.views[view].remove(&key);
            }
        }
        for basis in DateBasis::ALL {
            let key = CellKey::of(order, Breakdown::NONE);
            let month = months_of(order)[basis.index()];
            let by_key = &mut self.contributors[basis.index()];
            if let Some(months) = by_key.get_mut(&key) {
                if let Some(who) = months.get_mut(&month) {
                    if let Some(n) = who.get_mut(&order.originator) {
                        *n -= 1;
                        if *n == 0 {
                            who.remove(&order.originator);
                        }
                    }
                    if who.is_empty() {
                        months.remove(&month);
                    }
                }
                if months.is_empty() {
                    by_key.remove(&key);
                }
            }
        }
        self.counted_orders = self.counted_orders.saturating_sub(1);
        Ok(true)
    }

    /// Who contributed each month of `key`'s series on `basis`.
    pub(crate) fn month_contributors(&self, key: &CellKey, basis: DateBasis) -> Option<&BTreeMap<i64, Contributors>> {
        self.contributors[basis.index()].get(key)
    }

    /// Applies a state change (including cancellation): `before` out,
    /// `after` in. Atomic: on error the cube is unchanged.
    pub fn replace(&mut self, before: &DemandOrder, after: &DemandOrder) -> Result<(), DemandError> {
        after.check()?;
        self.remove(before)?;
        if let Err(e) = self.add(after) {
            // Put `before` back; it was in the cube a moment ago.
            self.add(before)?;
            return Err(e);
        }
        Ok(())
    }

    fn cells_of(&self, order: &DemandOrder) -> Vec<(usize, CellKey, i64)> {
        let mut cells = Vec::with_capacity(VIEWS);
        for basis in DateBasis::ALL {
            let date = match basis {
                DateBasis::Submitted => order.submitted,
                DateBasis::RequiredBy => order.required_by,
            };
            let month = Period::containing(date, Granularity::Month).ordinal();
            for breakdown in Breakdown::ALL {
                cells.push((view_index(basis, breakdown), CellKey::of(order, breakdown), month));
            }
        }
        cells
    }

    /// Non-empty cells selected by `query`, sorted by key then period.
    pub fn query(&self, query: &CellQuery) -> Result<Vec<DemandCell>, DemandError> {
        query.check()?;
        let view = &self.views[view_index(query.basis, query.breakdown)];
        let mut keys: Vec<&CellKey> = view.keys().filter(|k| query.selects_key(k)).collect();
        keys.sort();
        let mut out = Vec::new();
        for key in keys {
            if let Some(series) = view.get(key) {
                for (period, measures) in roll_up(series, query.granularity, query.month_bounds()) {
                    out.push(DemandCell { key: key.clone(), period, measures });
                }
            }
        }
        Ok(out)
    }

    /// Keys with at least one counted order under `breakdown`, sorted.
    pub fn keys(&self, breakdown: Breakdown) -> Vec<CellKey> {
        let mut keys: Vec<CellKey> = self.views[view_index(DateBasis::Submitted, breakdown)].keys().cloned().collect();
        keys.sort();
        keys
    }

    /// The dense series of `key` from `from` to `to` inclusive (both of the
    /// same granularity), with empty periods as zero measures.
    pub fn series(
        &self,
        key: &CellKey,
        basis: DateBasis,
        from: Period,
        to: Period,
    ) -> Result<Vec<(Period, Measures)>, DemandError> {
        if from.granularity() != to.granularity() {
            return Err(DemandError::GranularityMismatch {
                field: "series.to",
                expected: from.granularity().to_string(),
                found: to.granularity().to_string(),
            });
        }
        if to < from {
            return Err(invalid("series.to", format!("{to} is before {from}")));
        }
        let granularity = from.granularity();
        let bounds = (from.first_month_ordinal(), to.last_month_ordinal());
        let sparse: BTreeMap<Period, Measures> = self
            .month_series(key, basis)
            .map(|s| roll_up(s, granularity, bounds).into_iter().collect())
            .unwrap_or_default();
        Ok((0..=to.ordinal() - from.ordinal())
            .map(|i| {
                let p = from.offset(i);
                (p, sparse.get(&p).copied().unwrap_or_default())
            })
            .collect())
    }

    /// First and last month (inclusive) in which `key` has orders under
    /// either date basis.
    pub fn extent(&self, key: &CellKey) -> Option<(Period, Period)> {
        let mut lo: Option<i64> = None;
        let mut hi: Option<i64> = None;
        for basis in DateBasis::ALL {
            if let Some(s) = self.month_series(key, basis)
                && let (Some((&a, _)), Some((&b, _))) = (s.first_key_value(), s.last_key_value())
            {
                lo = Some(lo.map_or(a, |l| l.min(a)));
                hi = Some(hi.map_or(b, |h| h.max(b)));
            }
        }
        Some((Period::from_ordinal(Granularity::Month, lo?), Period::from_ordinal(Granularity::Month, hi?)))
    }

    pub(crate) fn month_series(&self, key: &CellKey, basis: DateBasis) -> Option<&MonthSeries> {
        self.views.get(view_index(basis, key.breakdown())).and_then(|v| v.get(key))
    }
}

/// Sums month cells within `bounds` into periods of `granularity`.
pub(crate) fn roll_up(series: &MonthSeries, granularity: Granularity, (lo, hi): (i64, i64)) -> Vec<(Period, Measures)> {
    let mut out: Vec<(Period, Measures)> = Vec::new();
    for (&month, &m) in series.range(lo..=hi) {
        let p = Period::from_month_ordinal(month, granularity);
        match out.last_mut() {
            Some((last, acc)) if *last == p => *acc = acc.saturating_plus(m),
            _ => out.push((p, m)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_default_cube_takes_orders_like_a_new_one() {
        assert_eq!(DemandCube::default(), DemandCube::new());
    }
    use chrono::NaiveDate;

    fn order(id: &str, submitted: (i32, u32, u32), qty: u32, hours: f64) -> DemandOrder {
        let s = NaiveDate::from_ymd_opt(submitted.0, submitted.1, submitted.2).unwrap();
        DemandOrder {
            order_id: id.into(),
            region: Region::Indopacom,
            tms_or_family: "F-16C".into(),
            maintenance_level: MaintenanceLevel::Depot,
            repair_type: RepairType::Overhaul,
            owner_nation: "KOR".into(),
            originator: "KOR-ROKAF".into(),
            submitted: s,
            required_by: s + chrono::Days::new(90),
            quantity: qty,
            estimated_labor_hours: hours,
            cancelled: false,
        }
    }

    #[test]
    fn orders_roll_up_into_fiscal_quarters_and_years() {
        let orders =
            [order("a", (2026, 10, 1), 1, 10.0), order("b", (2026, 12, 31), 2, 5.5), order("c", (2027, 1, 1), 3, 1.0)];
        let cube = DemandCube::from_orders(&orders).unwrap();
        let q = cube.query(&CellQuery::all(DateBasis::Submitted, Granularity::FiscalQuarter, Breakdown::NONE)).unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].period, Period::fiscal_quarter(2027, 1).unwrap());
        assert_eq!(q[0].measures.orders, 2);
        assert_eq!(q[0].measures.quantity, 3);
        assert_eq!(q[0].measures.labor.hours(), 15.5);
        let fy = cube.query(&CellQuery::all(DateBasis::Submitted, Granularity::FiscalYear, Breakdown::NONE)).unwrap();
        assert_eq!(fy.len(), 1);
        assert_eq!(fy[0].measures.orders, 3);
    }

    #[test]
    fn cancelled_orders_are_not_demand_and_cancellation_removes_the_order() {
        let live = order("a", (2026, 11, 2), 1, 3.0);
        let mut cube = DemandCube::new();
        assert!(cube.add(&live).unwrap());
        let cancelled = DemandOrder { cancelled: true, ..live.clone() };
        cube.replace(&live, &cancelled).unwrap();
        assert_eq!(cube.counted_orders(), 0);
        assert_eq!(cube, DemandCube::new());
        assert!(!cube.add(&cancelled).unwrap());
    }

    #[test]
    fn removing_an_order_that_was_never_added_changes_nothing() {
        let mut cube = DemandCube::from_orders(&[order("a", (2026, 11, 2), 1, 3.0)]).unwrap();
        let before = cube.clone();
        let err = cube.remove(&order("b", (2026, 11, 2), 2, 3.0)).unwrap_err();
        assert!(matches!(err, DemandError::NotInCube { .. }));
        assert_eq!(cube, before);
    }

    #[test]
    fn filters_select_cells_and_period_range_is_inclusive() {
        let orders =
            [order("a", (2026, 10, 1), 1, 1.0), order("b", (2026, 11, 1), 1, 1.0), order("c", (2026, 12, 1), 1, 1.0)];
        let cube = DemandCube::from_orders(&orders).unwrap();
        let mut q = CellQuery::all(DateBasis::Submitted, Granularity::Month, Breakdown::NONE);
        q.from = Some(Period::month(2026, 11).unwrap());
        q.to = Some(Period::month(2026, 12).unwrap());
        assert_eq!(cube.query(&q).unwrap().len(), 2);
        q.regions = vec![Region::Eucom];
        assert!(cube.query(&q).unwrap().is_empty());
        q.regions.clear();
        q.owner_nations = vec!["KOR".into()];
        assert!(cube.query(&q).is_err());
        q.breakdown.by_owner_nation = true;
        assert_eq!(cube.query(&q).unwrap().len(), 2);
        q.from = Some(Period::fiscal_year(2027));
        assert!(matches!(cube.query(&q), Err(DemandError::GranularityMismatch { .. })));
    }

    #[test]
    fn dense_series_fills_empty_periods_with_zero() {
        let cube = DemandCube::from_orders(&[order("a", (2026, 12, 1), 2, 1.0)]).unwrap();
        let key = CellKey::new(Region::Indopacom, "F-16C", MaintenanceLevel::Depot);
        let s = cube
            .series(&key, DateBasis::Submitted, Period::month(2026, 10).unwrap(), Period::month(2027, 1).unwrap())
            .unwrap();
        let qty: Vec<u64> = s.iter().map(|(_, m)| m.quantity).collect();
        assert_eq!(qty, vec![0, 0, 2, 0]);
    }
}
