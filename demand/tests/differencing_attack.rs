//! Plays the differencing attack a contractor could run: ask for every
//! grid a party may see with every combination of filters and period
//! ranges, pool everything served, and solve for the suppressed cells —
//! enumerating every integer solution consistent with what was served,
//! knowing that suppressed cells are non-empty and (conservatively) knowing
//! each series' total. No suppressed cell may be pinned to one value, and no
//! derivable total of suppressed cells may be below k.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use cosx_demand::{
    Breakdown, CellKey, CellQuery, DateBasis, DemandCube, DemandOrder, DisclosureControl, Granularity,
    MaintenanceLevel, Period, Region, Released, RepairType, Viewer, released_cells,
};
use proptest::prelude::*;

const REGIONS: [Region; 2] = [Region::Indopacom, Region::Centcom];
const TMS: [&str; 2] = ["F-35A", "MQ-9A"];
const LEVEL: MaintenanceLevel = MaintenanceLevel::Depot;

fn order(series: usize, required_month: u32, id: usize) -> DemandOrder {
    // Months counted from October 2025 (FY2026).
    let base = NaiveDate::from_ymd_opt(2025, 10, 1).unwrap();
    let required_by = base.checked_add_months(chrono::Months::new(required_month)).unwrap()
        + Days::new(u64::from(required_month % 27));
    DemandOrder {
        order_id: format!("RO-{id}"),
        region: REGIONS[series % 2],
        tms_or_family: TMS[series / 2].into(),
        maintenance_level: LEVEL,
        repair_type: RepairType::RepairAndReturn,
        owner_nation: "AUS".into(),
        originator: format!("PARTY-{}", id % 5),
        submitted: required_by - Days::new(30),
        required_by,
        quantity: 1 + u32::try_from(id % 3).unwrap(),
        estimated_labor_hours: 10.0 + id as f64,
        cancelled: false,
    }
}

fn all_queries(basis: DateBasis, periods: &BTreeSet<Period>) -> Vec<CellQuery> {
    let mut regions: Vec<Vec<Region>> = vec![vec![]];
    regions.extend(REGIONS.iter().map(|r| vec![*r]));
    let mut tms: Vec<Vec<String>> = vec![vec![]];
    tms.extend(TMS.iter().map(|t| vec![(*t).to_string()]));
    let levels = vec![vec![], vec![LEVEL], vec![MaintenanceLevel::Organizational]];
    let mut queries = Vec::new();
    for granularity in Granularity::ALL {
        let of_g: Vec<Period> = periods.iter().filter(|p| p.granularity() == granularity).copied().collect();
        let mut ranges = vec![(None, None)];
        for (i, p) in of_g.iter().enumerate() {
            ranges.push((Some(*p), Some(*p)));
            if i % 3 == 0 {
                ranges.push((Some(*p), None));
                ranges.push((None, Some(*p)));
            }
            if let Some(q) = of_g.get(i + 2) {
                ranges.push((Some(*p), Some(*q)));
            }
        }
        for r in &regions {
            for t in &tms {
                for l in &levels {
                    for (from, to) in &ranges {
                        let mut q = CellQuery::all(basis, granularity, Breakdown::NONE);
                        q.regions = r.clone();
                        q.tms_or_families = t.clone();
                        q.maintenance_levels = l.clone();
                        q.from = *from;
                        q.to = *to;
                        queries.push(q);
                    }
                }
            }
        }
    }
    queries
}

/// What the attacker holds about one series.
struct Knowledge {
    served: BTreeMap<Period, u64>,
    suppressed: BTreeSet<Period>,
    total: u64,
}

/// Enumerates all assignments of ≥ 1 orders to the suppressed months that
/// agree with every served value and the total; returns, for each
/// suppressed cell, the (min, max) it can take, and each served node's
/// derivable sum of suppressed months.
fn attack(k: &Knowledge) -> (BTreeMap<Period, (u64, u64)>, Vec<u64>) {
    let unknown: Vec<Period> = k.suppressed.iter().filter(|p| p.granularity() == Granularity::Month).copied().collect();
    let served_months = |under: Option<Period>| -> u64 {
        k.served
            .iter()
            .filter(|(p, _)| p.granularity() == Granularity::Month)
            .filter(|(p, _)| under.is_none_or(|u| p.coarsen(u.granularity()).unwrap() == u))
            .map(|(_, v)| *v)
            .sum()
    };
    let months_under = |under: Option<Period>| -> Vec<usize> {
        unknown
            .iter()
            .enumerate()
            .filter(|(_, m)| under.is_none_or(|u| m.coarsen(u.granularity()).unwrap() == u))
            .map(|(i, _)| i)
            .collect()
    };
    // One equation per served non-month node, plus the series total.
    let mut equations: Vec<(Vec<usize>, u64)> = Vec::new();
    let served_nodes = k
        .served
        .iter()
        .filter(|(p, _)| p.granularity() != Granularity::Month)
        .map(|(p, v)| (Some(*p), *v))
        .chain(std::iter::once((None, k.total)));
    for (node, value) in served_nodes {
        let rhs = value - served_months(node);
        equations.push((months_under(node), rhs));
    }
    // Derivable group sums: an equation minus the equations strictly inside it.
    let mut groups = Vec::new();
    for (i, (vars, rhs)) in equations.iter().enumerate() {
        let vars: BTreeSet<usize> = vars.iter().copied().collect();
        // Equations over the same months say the same thing: keep one.
        let inner: Vec<&(Vec<usize>, u64)> = equations
            .iter()
            .enumerate()
            .filter(|(j, (v, _))| *j != i && v.len() < vars.len() && v.iter().all(|x| vars.contains(x)))
            .map(|(_, e)| (&e.0, e))
            .collect::<BTreeMap<&Vec<usize>, &(Vec<usize>, u64)>>()
            .into_values()
            .collect();
        // Keep only maximal inner equations (laminar family).
        let maximal: Vec<&&(Vec<usize>, u64)> = inner
            .iter()
            .filter(|(v, _)| !inner.iter().any(|(w, _)| w.len() > v.len() && v.iter().all(|x| w.contains(x))))
            .collect();
        groups.push(rhs - maximal.iter().map(|(_, r)| *r).sum::<u64>());
    }

    let mut ranges: BTreeMap<Period, (u64, u64)> = BTreeMap::new();
    let mut x = vec![0u64; unknown.len()];
    let mut solutions = 0u64;
    fn dfs(
        i: usize,
        x: &mut Vec<u64>,
        k: &Knowledge,
        unknown: &[Period],
        equations: &[(Vec<usize>, u64)],
        ranges: &mut BTreeMap<Period, (u64, u64)>,
        solutions: &mut u64,
    ) {
        if i == unknown.len() {
            if equations.iter().any(|(vars, rhs)| vars.iter().map(|v| x[*v]).sum::<u64>() != *rhs) {
                return;
            }
            *solutions += 1;
            for &cell in &k.suppressed {
                let value: u64 = unknown
                    .iter()
                    .zip(x.iter())
                    .filter(|(m, _)| m.coarsen(cell.granularity()).unwrap() == cell)
                    .map(|(_, v)| *v)
                    .sum::<u64>()
                    + k.served
                        .iter()
                        .filter(|(p, _)| p.granularity() == Granularity::Month)
                        .filter(|(p, _)| p.coarsen(cell.granularity()).unwrap() == cell)
                        .map(|(_, v)| *v)
                        .sum::<u64>();
                let r = ranges.entry(cell).or_insert((value, value));
                r.0 = r.0.min(value);
                r.1 = r.1.max(value);
            }
            return;
        }
        for v in 1..=k.total {
            x[i] = v;
            // Prune: no equation may be exceeded counting 1 for each unset var.
            let ok = equations
                .iter()
                .all(|(vars, rhs)| vars.iter().map(|j| if *j <= i { x[*j] } else { 1 }).sum::<u64>() <= *rhs);
            if !ok {
                break;
            }
            dfs(i + 1, x, k, unknown, equations, ranges, solutions);
        }
        x[i] = 0;
    }
    dfs(0, &mut x, k, &unknown, &equations, &mut ranges, &mut solutions);
    assert!(solutions >= 1, "the true data must be a solution");
    (ranges, groups)
}

/// The attack by a party that knows its own orders: `ATTACKER` (one of the
/// originators, who subtracts its own orders from every value it is served)
/// and `OUTSIDER` (who has none).
const ATTACKER: &str = "PARTY-0";
const OUTSIDER: &str = "SGP-OUTSIDER";

fn play(orders: &[DemandOrder], control: DisclosureControl) {
    for asker in [OUTSIDER, ATTACKER] {
        play_as(orders, control, asker);
    }
}

fn play_as(orders: &[DemandOrder], control: DisclosureControl, asker: &str) {
    let cube = DemandCube::from_orders(orders).unwrap();
    let basis = control.party_basis;
    // What the asker contributed to each cell: known to it, so its attack is on the rest.
    let own_cube = DemandCube::from_orders(orders.iter().filter(|o| o.originator == asker)).unwrap();
    let own: BTreeMap<(CellKey, Period), u64> = Granularity::ALL
        .iter()
        .flat_map(|g| own_cube.query(&CellQuery::all(basis, *g, Breakdown::NONE)).unwrap())
        .map(|c| ((c.key, c.period), c.measures.orders))
        .collect();
    let own_of = |key: &CellKey, p: Period| own.get(&(key.clone(), p)).copied().unwrap_or(0);
    let truth: BTreeMap<(CellKey, Period), u64> = Granularity::ALL
        .iter()
        .flat_map(|g| cube.query(&CellQuery::all(basis, *g, Breakdown::NONE)).unwrap())
        .map(|c| {
            let others = c.measures.orders - own_of(&c.key, c.period);
            ((c.key, c.period), others)
        })
        .collect();
    let periods: BTreeSet<Period> = truth.keys().map(|(_, p)| *p).collect();

    // Pool everything any query returns; a cell must look the same every time.
    let mut seen: BTreeMap<(CellKey, Period), Released> = BTreeMap::new();
    for q in all_queries(basis, &periods) {
        for c in released_cells(&cube, Viewer::Party(asker), &q, &control).unwrap() {
            let previous = seen.insert((c.key.clone(), c.period), c.value);
            assert!(previous.is_none_or(|p| p == c.value), "{:?} {} differs between queries", c.key, c.period);
        }
    }
    assert_eq!(seen.len(), truth.len(), "every non-empty cell is listed");

    let keys: BTreeSet<CellKey> = seen.keys().map(|(k, _)| k.clone()).collect();
    for key in keys {
        let mut knowledge = Knowledge { served: BTreeMap::new(), suppressed: BTreeSet::new(), total: 0 };
        for ((k, p), v) in &seen {
            if *k != key {
                continue;
            }
            match v {
                Released::Value(m) => {
                    let others = m.orders - own_of(&key, *p);
                    assert!(
                        others == 0 || others >= control.k,
                        "{asker}: served cell {p} of {key:?} has {others} < k orders of others"
                    );
                    knowledge.served.insert(*p, others);
                }
                Released::Suppressed => {
                    knowledge.suppressed.insert(*p);
                }
            }
            if p.granularity() == Granularity::FiscalYear {
                knowledge.total += truth[&(key.clone(), *p)];
            }
        }
        if knowledge.served.is_empty() {
            continue; // suppressed whole: nothing to combine
        }
        let (ranges, groups) = attack(&knowledge);
        for cell in &knowledge.suppressed {
            let (lo, hi) = ranges[cell];
            assert!(lo < hi, "{key:?} {cell}: suppressed count pinned to {lo} (k = {})", control.k);
        }
        for g in groups {
            assert!(g == 0 || g >= control.k, "{key:?}: a derivable total of suppressed cells is {g} < k");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_contractor_cannot_learn_any_count_below_k(
        placements in prop::collection::vec((0usize..4, 0u32..24), 0..48),
        k in 2u64..=5,
        basis_is_submitted in any::<bool>(),
    ) {
        let orders: Vec<DemandOrder> = placements
            .iter()
            .enumerate()
            // Series 2 and 3 crowd into six months so that cells of k or
            // more orders sit next to small ones.
            .map(|(id, (series, month))| {
                order(*series, if *series >= 2 { month % 6 } else { *month }, id)
            })
            .collect();
        let party_basis = if basis_is_submitted { DateBasis::Submitted } else { DateBasis::RequiredBy };
        play(&orders, DisclosureControl { k, party_basis });
    }
}

#[test]
fn a_quarter_and_two_of_its_months_do_not_reveal_the_third() {
    // Series 0, FY2026 Q1: Oct 2, Nov 4, Dec 5 orders; Q2: Jan 6.
    let mut orders = Vec::new();
    for (month, n) in [(0, 2), (1, 4), (2, 5), (3, 6)] {
        for _ in 0..n {
            orders.push(order(0, month, orders.len()));
        }
    }
    play(&orders, DisclosureControl::default());
    let cube = DemandCube::from_orders(&orders).unwrap();
    let control = DisclosureControl::default();
    let months = released_cells(
        &cube,
        Viewer::Party(OUTSIDER),
        &CellQuery::all(DateBasis::RequiredBy, Granularity::Month, Breakdown::NONE),
        &control,
    )
    .unwrap();
    let suppressed = months.iter().filter(|c| c.value == Released::Suppressed).count();
    assert_eq!(suppressed, 2, "October and its complement");
}

#[test]
fn a_derivable_pair_of_small_months_is_not_left_below_k() {
    // Quarter of 10 = 1 + 2 + 7 with k = 5: suppressing only the 1 and the
    // 2 would let the quarter minus the 7 reveal that they hold 3 < k.
    let mut orders = Vec::new();
    for (month, n) in [(0, 1), (1, 2), (2, 7), (3, 9)] {
        for _ in 0..n {
            orders.push(order(3, month, orders.len()));
        }
    }
    play(&orders, DisclosureControl { k: 5, party_basis: DateBasis::RequiredBy });
}

#[test]
fn clustered_single_orders_are_protected() {
    // Many months with exactly one order: positivity alone must not pin them.
    let mut orders = Vec::new();
    for month in 0..12 {
        orders.push(order(1, month, orders.len()));
    }
    for _ in 0..7 {
        orders.push(order(1, 14, orders.len()));
    }
    for k in 2..=5 {
        play(&orders, DisclosureControl { k, party_basis: DateBasis::RequiredBy });
    }
}
