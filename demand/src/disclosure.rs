//! Small-cell suppression for viewers who are not the coordinator
//! (partners and contractors see aggregates, never other parties' orders).
//! No I/O.
//!
//! # Scheme
//! * **Fixed grids.** A party may ask for exactly one grid family: cells of
//!   region × TMS/family × maintenance level × period on one date basis
//!   (`DisclosureControl::party_basis`, required-by by default), at month,
//!   fiscal-quarter or fiscal-year granularity. Filters only choose which
//!   cells of that grid come back; a cell's value (or its suppression) is
//!   decided once per series, never by the query, so re-asking with other
//!   filters returns the very same cells. No totals across regions, TMS or
//!   levels are served, owner-nation / repair-type breakdowns and the second
//!   date basis are coordinator-only: each would add linear relations
//!   between series (and the two bases constrain each other through
//!   required-by ≥ submitted) that cell suppression within one series
//!   cannot cover.
//! * **One hierarchy per series.** For one series the served cells form a
//!   tree: the series total G → fiscal years → fiscal quarters → months,
//!   each node the exact sum of its children. G is treated as known to the
//!   attacker (conservatively, whether or not it is derivable).
//! * **Contributors, not orders.** A cell's count is the number of distinct
//!   originators in it *other than the party asking*: k orders from one
//!   party, or a party's own orders padding a cell up to k, protect no one.
//!   A cell holding only the asker's own orders has count 0: it is served
//!   (the asker knows it) and treated as known when differencing.
//! * **Primary suppression:** every cell with 0 < count < k.
//! * **Complementary suppression** until, for every served node P (G
//!   included) that has suppressed children:
//!   1. at least two of its children are suppressed, and every suppressed
//!      non-month node has a suppressed child — so no suppressed node is the
//!      sum of served values and the leaves of P's group split over ≥ 2
//!      children;
//!   2. the group of suppressed months hanging below P through suppressed
//!      nodes only — whose total E is what differencing P against its served
//!      parts yields — holds orders of at least k originators other than the
//!      asker, and others' orders E larger than the number of months in the
//!      group (an attacker knows suppressed cells are non-empty, since zeros
//!      are never suppressed; E equal to the number of months would pin each
//!      one at 1).
//!
//!   Complements are the smallest served cells that can join the group; if
//!   none can, P itself is suppressed, and if P is G the whole series is.
//!   A series with G < k is suppressed whole.
//!
//! Why this resists differencing: the only facts about a series a party can
//! combine are the served node values; they give one equation per served
//! node over the suppressed months, and the groups of those equations are
//! disjoint. Within each group of ≥ 2 months with total E > size, every
//! month and every suppressed node has at least two possible values, and
//! the only derivable totals are the E's, each ≥ k.
//! `tests/differencing_attack.rs` replays every filter × granularity a
//! party can ask for and enumerates all integer solutions to confirm it.
//!
//! Forecasts and capacity comparisons for a party must only use windows
//! that are fully served (`SeriesRelease::window_fully_served`): a forecast
//! is a new combination of cell values and could otherwise reveal one.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::cube::{Breakdown, CellKey, CellQuery, Contributors, DateBasis, DemandCube, Measures};
use crate::error::{DemandError, invalid};
use crate::period::{Granularity, Period};

/// Suppression settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosureControl {
    /// Minimum number of orders in a cell served to a party (default 3).
    pub k: u64,
    /// The one date basis parties may see (default `RequiredBy`).
    pub party_basis: DateBasis,
}

impl Default for DisclosureControl {
    fn default() -> DisclosureControl {
        DisclosureControl { k: 3, party_basis: DateBasis::RequiredBy }
    }
}

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Viewer<'a> {
    /// The coordinating office: sees every cell.
    Coordinator,
    /// Any other party (organic depot, partner government, contractor), by
    /// its party id: its own orders do not count towards the *k* that
    /// protects everyone else's.
    Party(&'a str),
}

/// A cell's value as served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Released {
    /// The cell's measures.
    Value(Measures),
    /// Withheld: too few orders, or protecting a cell that has too few.
    Suppressed,
}

/// A served cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleasedCell {
    /// Non-time coordinates.
    pub key: CellKey,
    /// Period.
    pub period: Period,
    /// Value or suppression.
    pub value: Released,
}

/// Suppression decisions for one series on the party basis, at every
/// granularity at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesRelease {
    /// Total orders of the series (never served to parties by itself).
    total_orders: u64,
    /// Every cell of the series is suppressed.
    whole_series_suppressed: bool,
    /// Suppressed periods (months, quarters, fiscal years).
    suppressed: BTreeSet<Period>,
}

impl SeriesRelease {
    /// True when the cell for `period` is withheld from parties.
    pub fn is_suppressed(&self, period: Period) -> bool {
        self.whole_series_suppressed || self.suppressed.contains(&period)
    }

    /// True when every cell of the series is withheld.
    pub fn whole_series_suppressed(&self) -> bool {
        self.whole_series_suppressed
    }

    /// Suppressed non-empty periods (all granularities), when the series is
    /// not suppressed whole.
    pub fn suppressed_periods(&self) -> impl Iterator<Item = Period> + '_ {
        self.suppressed.iter().copied()
    }

    /// True when no cell of `granularity` from `from` to `to` is suppressed,
    /// i.e. a forecast or comparison over that window reveals nothing a
    /// party could not compute itself.
    pub fn window_fully_served(&self, from: Period, to: Period) -> bool {
        if self.total_orders == 0 {
            return true;
        }
        !self.whole_series_suppressed
            && !self.suppressed.iter().any(|p| p.granularity() == from.granularity() && *p >= from && *p <= to)
    }
}

/// Node of a series' hierarchy: `None` is the series total.
type Node = Option<Period>;

struct Tree {
    /// Per period: orders of each originator other than the asker.
    others: BTreeMap<Period, Contributors>,
    suppressed: BTreeSet<Period>,
    k: u64,
}

enum Step {
    Changed,
    Stable,
    SuppressWhole,
}

impl Tree {
    /// Distinct originators other than the asker in `p`.
    fn count(&self, p: Period) -> u64 {
        self.others.get(&p).map_or(0, |o| o.len() as u64)
    }

    fn children(&self, node: Node) -> Vec<Period> {
        match node {
            None => self
                .others
                .keys()
                .copied()
                .filter(|p| p.granularity() == Granularity::FiscalYear && self.count(*p) > 0)
                .collect(),
            Some(p) => p.children().into_iter().filter(|c| self.count(*c) > 0).collect(),
        }
    }

    fn is_suppressed(&self, p: Period) -> bool {
        self.suppressed.contains(&p)
    }

    /// Smallest served, non-empty period among `candidates` (ties: earliest).
    fn smallest_served(&self, candidates: impl IntoIterator<Item = Period>) -> Option<Period> {
        candidates.into_iter().filter(|p| !self.is_suppressed(*p)).min_by_key(|p| (self.count(*p), *p))
    }

    /// Suppressed months reachable from `node` through suppressed nodes
    /// only, the others' orders in them, how many distinct others made
    /// those, and the served nodes hanging off that group.
    fn group(&self, node: Node) -> (usize, u64, u64, Vec<Period>) {
        let mut months = 0;
        let mut orders = 0;
        let mut originators = BTreeSet::new();
        let mut frontier = Vec::new();
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            for c in self.children(n) {
                if !self.is_suppressed(c) {
                    frontier.push(c);
                } else if c.granularity() == Granularity::Month {
                    months += 1;
                    if let Some(who) = self.others.get(&c) {
                        orders += who.values().sum::<u64>();
                        originators.extend(who.keys());
                    }
                } else {
                    stack.push(Some(c));
                }
            }
        }
        (months, orders, originators.len() as u64, frontier)
    }

    fn suppress(&mut self, p: Period) -> Step {
        self.suppressed.insert(p);
        Step::Changed
    }

    /// Suppresses `node` itself, or the whole series if it is the total.
    fn escalate(&mut self, node: Node) -> Step {
        match node {
            None => Step::SuppressWhole,
            Some(p) => self.suppress(p),
        }
    }

    /// One round of the rules; the first fix found is applied.
    fn step(&mut self) -> Step {
        let nodes: Vec<Period> = self.others.keys().copied().filter(|p| self.count(*p) > 0).collect();
        // Every suppressed non-month node needs a suppressed child.
        for &p in &nodes {
            if p.granularity() != Granularity::Month && self.is_suppressed(p) {
                let children = self.children(Some(p));
                if !children.iter().any(|c| self.is_suppressed(*c))
                    && let Some(c) = self.smallest_served(children)
                {
                    return self.suppress(c);
                }
            }
        }
        let served_parents = std::iter::once(None).chain(
            nodes
                .iter()
                .filter(|p| p.granularity() != Granularity::Month && !self.is_suppressed(**p))
                .map(|p| Some(*p)),
        );
        for node in served_parents.collect::<Vec<Node>>() {
            let children = self.children(node);
            let hidden = children.iter().filter(|c| self.is_suppressed(**c)).count();
            if hidden == 0 {
                continue;
            }
            if hidden < 2 {
                return match self.smallest_served(children) {
                    Some(c) => self.suppress(c),
                    None => self.escalate(node),
                };
            }
            let (months, orders, originators, frontier) = self.group(node);
            #[allow(clippy::cast_possible_truncation)]
            let months = months as u64;
            if originators < self.k || orders <= months {
                return match self.smallest_served(frontier) {
                    Some(c) => self.suppress(c),
                    None => self.escalate(node),
                };
            }
        }
        Step::Stable
    }
}

/// Decides suppression for one series (a key without breakdown) on the
/// party basis, for the party `asker`.
pub fn series_release(
    cube: &DemandCube,
    key: &CellKey,
    control: &DisclosureControl,
    asker: &str,
) -> Result<SeriesRelease, DemandError> {
    if control.k == 0 {
        return Err(invalid("disclosure_control.k", "must be at least 1"));
    }
    if key.breakdown() != Breakdown::NONE {
        return Err(DemandError::NotPermitted {
            field: "cell_key",
            reason: "parties see only region × TMS/family × level series".into(),
        });
    }
    let empty = BTreeMap::new();
    let months = cube.month_series(key, control.party_basis).unwrap_or(&empty);
    let total_orders: u64 = months.values().map(|m| m.orders).sum();
    // Others' orders per period, at every granularity.
    let mut others: BTreeMap<Period, Contributors> = BTreeMap::new();
    let mut everyone_else = BTreeSet::new();
    for (month, who) in cube.month_contributors(key, control.party_basis).into_iter().flatten() {
        for (originator, n) in who.iter().filter(|(o, _)| o.as_str() != asker) {
            everyone_else.insert(originator.clone());
            for g in Granularity::ALL {
                let p = Period::from_month_ordinal(*month, g);
                *others.entry(p).or_default().entry(originator.clone()).or_insert(0) += n;
            }
        }
    }
    let whole = |suppressed| SeriesRelease { total_orders, whole_series_suppressed: true, suppressed };
    let contributors = everyone_else.len() as u64;
    if contributors > 0 && contributors < control.k {
        return Ok(whole(BTreeSet::new()));
    }
    let suppressed =
        others.iter().filter(|(_, who)| !who.is_empty() && (who.len() as u64) < control.k).map(|(p, _)| *p).collect();
    let mut tree = Tree { others, suppressed, k: control.k };
    loop {
        match tree.step() {
            Step::Changed => {}
            Step::Stable => break,
            Step::SuppressWhole => return Ok(whole(BTreeSet::new())),
        }
    }
    Ok(SeriesRelease { total_orders, whole_series_suppressed: false, suppressed: tree.suppressed })
}

/// How many orders a demand signal says it counted, as `viewer` may be told:
/// the coordinator gets the cube's total; a party gets the orders in the
/// cells it was served, a sum it could make itself. The cube's total would
/// be one more equation over the suppressed cells (total minus served is
/// what was withheld), so it is never served to a party.
pub fn orders_counted(cube: &DemandCube, viewer: Viewer<'_>, served: &[ReleasedCell]) -> u64 {
    match viewer {
        Viewer::Coordinator => cube.counted_orders(),
        Viewer::Party(_) => served
            .iter()
            .map(|c| match c.value {
                Released::Value(m) => m.orders,
                Released::Suppressed => 0,
            })
            .sum(),
    }
}

/// The cells `query` selects, as `viewer` may see them: the coordinator
/// gets every value; a party gets the fixed grid of its basis with small
/// cells suppressed (see the module docs). Empty cells are not listed
/// (absent means zero) and are never suppressed.
pub fn released_cells(
    cube: &DemandCube,
    viewer: Viewer<'_>,
    query: &CellQuery,
    control: &DisclosureControl,
) -> Result<Vec<ReleasedCell>, DemandError> {
    let cells = cube.query(query)?;
    let Viewer::Party(asker) = viewer else {
        return Ok(cells
            .into_iter()
            .map(|c| ReleasedCell { key: c.key, period: c.period, value: Released::Value(c.measures) })
            .collect());
    };
    if query.breakdown != Breakdown::NONE {
        return Err(DemandError::NotPermitted {
            field: "cell_query.breakdown",
            reason: "breakdowns by owner nation or repair type are coordinator-only".into(),
        });
    }
    if query.basis != control.party_basis {
        return Err(DemandError::NotPermitted {
            field: "cell_query.basis",
            reason: format!("parties see demand by {:?} date only", control.party_basis),
        });
    }
    let mut out = Vec::with_capacity(cells.len());
    let mut current: Option<(CellKey, SeriesRelease)> = None;
    for c in cells {
        let release = match &current {
            Some((k, r)) if *k == c.key => r,
            _ => {
                let r = series_release(cube, &c.key, control, asker)?;
                &current.insert((c.key.clone(), r)).1
            }
        };
        let value = if release.is_suppressed(c.period) { Released::Suppressed } else { Released::Value(c.measures) };
        out.push(ReleasedCell { key: c.key, period: c.period, value });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::order::{DemandOrder, MaintenanceLevel, Region, RepairType};
    use chrono::NaiveDate;

    /// A party that originated none of the orders below.
    const ASKER: &str = "SGP-ASKER";

    fn orders_in(months: &[(i32, u32, u32)]) -> Vec<DemandOrder> {
        let mut out = Vec::new();
        for (i, &(y, m, n)) in months.iter().enumerate() {
            for j in 0..n {
                let d = NaiveDate::from_ymd_opt(y, m, 1).unwrap();
                out.push(DemandOrder {
                    order_id: format!("{i}-{j}"),
                    region: Region::Eucom,
                    tms_or_family: "F-35A".into(),
                    maintenance_level: MaintenanceLevel::Depot,
                    repair_type: RepairType::RepairAndReturn,
                    owner_nation: "NLD".into(),
                    originator: format!("P{j}"),
                    submitted: d,
                    required_by: d,
                    quantity: 1,
                    estimated_labor_hours: 10.0,
                    cancelled: false,
                });
            }
        }
        out
    }

    fn key() -> CellKey {
        CellKey::new(Region::Eucom, "F-35A", MaintenanceLevel::Depot)
    }

    #[test]
    fn a_served_quarter_cannot_reveal_its_one_small_month() {
        // Q1 FY2027: Oct 2, Nov 3, Dec 4 → quarter 9 served, Oct suppressed;
        // Nov (the smallest served month) is suppressed with it.
        let cube =
            DemandCube::from_orders(&orders_in(&[(2026, 10, 2), (2026, 11, 3), (2026, 12, 4), (2027, 1, 5)])).unwrap();
        let r = series_release(&cube, &key(), &DisclosureControl::default(), ASKER).unwrap();
        let m = |y, mo| Period::month(y, mo).unwrap();
        assert!(r.is_suppressed(m(2026, 10)));
        assert!(r.is_suppressed(m(2026, 11)));
        assert!(!r.is_suppressed(m(2026, 12)));
        assert!(!r.is_suppressed(Period::fiscal_quarter(2027, 1).unwrap()));
        assert!(!r.window_fully_served(m(2026, 10), m(2027, 1)));
        assert!(r.window_fully_served(m(2026, 12), m(2027, 1)));
    }

    #[test]
    fn a_series_with_fewer_than_k_orders_is_suppressed_whole() {
        let cube = DemandCube::from_orders(&orders_in(&[(2026, 10, 1), (2027, 5, 1)])).unwrap();
        let r = series_release(&cube, &key(), &DisclosureControl::default(), ASKER).unwrap();
        assert!(r.whole_series_suppressed());
        let cells = released_cells(
            &cube,
            Viewer::Party(ASKER),
            &CellQuery::all(DateBasis::RequiredBy, Granularity::FiscalYear, Breakdown::NONE),
            &DisclosureControl::default(),
        )
        .unwrap();
        assert!(cells.iter().all(|c| c.value == Released::Suppressed));
    }

    #[test]
    fn parties_cannot_ask_for_breakdowns_or_the_other_basis_but_the_coordinator_can() {
        let cube = DemandCube::from_orders(&orders_in(&[(2026, 10, 5)])).unwrap();
        let control = DisclosureControl::default();
        let mut q = CellQuery::all(DateBasis::Submitted, Granularity::Month, Breakdown::NONE);
        assert!(matches!(
            released_cells(&cube, Viewer::Party(ASKER), &q, &control),
            Err(DemandError::NotPermitted { field: "cell_query.basis", .. })
        ));
        q.basis = DateBasis::RequiredBy;
        q.breakdown.by_owner_nation = true;
        assert!(matches!(
            released_cells(&cube, Viewer::Party(ASKER), &q, &control),
            Err(DemandError::NotPermitted { field: "cell_query.breakdown", .. })
        ));
        assert_eq!(released_cells(&cube, Viewer::Coordinator, &q, &control).unwrap().len(), 1);
    }

    #[test]
    fn months_of_one_order_each_cannot_be_pinned_by_positivity() {
        // Three months of one order each: quarter 3 served would tell the
        // party each month is exactly 1, so the quarter goes too; the FY
        // (with a big served quarter) must then protect the group.
        let cube =
            DemandCube::from_orders(&orders_in(&[(2026, 10, 1), (2026, 11, 1), (2026, 12, 1), (2027, 1, 9)])).unwrap();
        let r = series_release(&cube, &key(), &DisclosureControl::default(), ASKER).unwrap();
        assert!(r.is_suppressed(Period::fiscal_quarter(2027, 1).unwrap()));
        assert!(r.is_suppressed(Period::fiscal_quarter(2027, 2).unwrap()));
    }

    fn order_by(originator: &str, n: usize) -> DemandOrder {
        let d = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        DemandOrder {
            order_id: format!("{originator}-{n}"),
            region: Region::Eucom,
            tms_or_family: "F-35A".into(),
            maintenance_level: MaintenanceLevel::Depot,
            repair_type: RepairType::RepairAndReturn,
            owner_nation: "NLD".into(),
            originator: originator.into(),
            submitted: d,
            required_by: d,
            quantity: 1,
            estimated_labor_hours: 10.0,
            cancelled: false,
        }
    }

    #[test]
    fn a_party_padding_a_cell_with_its_own_orders_learns_nothing_of_the_third() {
        // One order of a third party, two of the asker's: three orders, but
        // only one originator besides the asker.
        let orders = [order_by("THIRD", 0), order_by(ASKER, 1), order_by(ASKER, 2)];
        let cube = DemandCube::from_orders(&orders).unwrap();
        let control = DisclosureControl::default();
        let month = CellQuery::all(DateBasis::RequiredBy, Granularity::Month, Breakdown::NONE);
        let cells = released_cells(&cube, Viewer::Party(ASKER), &month, &control).unwrap();
        assert!(cells.iter().all(|c| c.value == Released::Suppressed), "{cells:?}");
        // Three orders of one party protect no one either.
        let orders = [order_by("BIG", 0), order_by("BIG", 1), order_by("BIG", 2)];
        let cube = DemandCube::from_orders(&orders).unwrap();
        let cells = released_cells(&cube, Viewer::Party(ASKER), &month, &control).unwrap();
        assert!(cells.iter().all(|c| c.value == Released::Suppressed), "{cells:?}");
        // Three distinct others are served, whoever asks; the coordinator sees all.
        let orders = [order_by("A", 0), order_by("B", 1), order_by("C", 2), order_by(ASKER, 3)];
        let cube = DemandCube::from_orders(&orders).unwrap();
        let cells = released_cells(&cube, Viewer::Party(ASKER), &month, &control).unwrap();
        assert!(cells.iter().all(|c| matches!(c.value, Released::Value(m) if m.orders == 4)), "{cells:?}");
        let cells = released_cells(&cube, Viewer::Party("A"), &month, &control).unwrap();
        assert!(cells.iter().all(|c| matches!(c.value, Released::Value(_))), "{cells:?}");
    }
}
