//! The incrementally maintained cube always equals a brute-force
//! recomputation from the orders currently live, across adds, removes and
//! cancellations, for every grid (basis × granularity × breakdown).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use cosx_demand::{
    Breakdown, CellKey, CellQuery, DateBasis, DemandCube, DemandOrder, Granularity, LaborHours, MaintenanceLevel,
    Measures, Period, Region, RepairType,
};
use proptest::prelude::*;

fn order_strategy() -> impl Strategy<Value = DemandOrder> {
    (0usize..2, 0usize..2, 0usize..2, 0usize..2, 0usize..2, 0u64..1200, 0u64..200, 1u32..5, 0u32..10_000, any::<u32>())
        .prop_map(|(r, t, l, rt, n, day, lead, quantity, centi, id)| {
            let submitted = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + Days::new(day);
            DemandOrder {
                order_id: format!("RO-{id}"),
                region: [Region::Indopacom, Region::Eucom][r],
                tms_or_family: ["F-16C", "DDG-51"][t].into(),
                maintenance_level: [MaintenanceLevel::Intermediate, MaintenanceLevel::Depot][l],
                repair_type: [RepairType::Overhaul, RepairType::DirectExchange][rt],
                owner_nation: ["USA", "PHL"][n].into(),
                originator: "X".into(),
                submitted,
                required_by: submitted + Days::new(lead),
                quantity,
                estimated_labor_hours: f64::from(centi) / 100.0,
                cancelled: false,
            }
        })
}

/// Straight from the definition: group live orders by cell and sum.
fn brute_force(
    live: &[DemandOrder],
    basis: DateBasis,
    granularity: Granularity,
    breakdown: Breakdown,
) -> BTreeMap<(CellKey, Period), Measures> {
    let mut cells: BTreeMap<(CellKey, Period), Measures> = BTreeMap::new();
    for o in live.iter().filter(|o| !o.cancelled) {
        let date = match basis {
            DateBasis::Submitted => o.submitted,
            DateBasis::RequiredBy => o.required_by,
        };
        let cell = cells.entry((CellKey::of(o, breakdown), Period::containing(date, granularity))).or_default();
        cell.orders += 1;
        cell.quantity += u64::from(o.quantity);
        cell.labor = LaborHours::from_centihours(
            cell.labor.centihours() + LaborHours::from_hours(o.estimated_labor_hours).unwrap().centihours(),
        );
    }
    cells
}

fn assert_matches(cube: &DemandCube, live: &[DemandOrder]) {
    for basis in DateBasis::ALL {
        for granularity in Granularity::ALL {
            for breakdown in Breakdown::ALL {
                let got: BTreeMap<(CellKey, Period), Measures> = cube
                    .query(&CellQuery::all(basis, granularity, breakdown))
                    .unwrap()
                    .into_iter()
                    .map(|c| ((c.key, c.period), c.measures))
                    .collect();
                assert_eq!(
                    got,
                    brute_force(live, basis, granularity, breakdown),
                    "{basis:?} {granularity:?} {breakdown:?}"
                );
            }
        }
    }
    // Same state as a cube built from scratch: nothing left behind by removes.
    assert_eq!(*cube, DemandCube::from_orders(live).unwrap());
}

#[derive(Debug, Clone)]
enum Event {
    Remove(usize),
    Cancel(usize),
    Uncancel(usize),
    Add(DemandOrder),
}

fn event_strategy() -> impl Strategy<Value = Event> {
    prop_oneof![
        any::<usize>().prop_map(Event::Remove),
        any::<usize>().prop_map(Event::Cancel),
        any::<usize>().prop_map(Event::Uncancel),
        order_strategy().prop_map(Event::Add),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn incremental_cube_equals_recomputation(
        initial in prop::collection::vec(order_strategy(), 0..60),
        events in prop::collection::vec(event_strategy(), 0..60),
    ) {
        let mut cube = DemandCube::new();
        let mut live: Vec<DemandOrder> = Vec::new();
        for o in initial {
            cube.add(&o).unwrap();
            live.push(o);
        }
        assert_matches(&cube, &live);
        for e in events {
            match e {
                Event::Add(o) => {
                    cube.add(&o).unwrap();
                    live.push(o);
                }
                Event::Remove(i) if !live.is_empty() => {
                    let o = live.swap_remove(i % live.len());
                    cube.remove(&o).unwrap();
                }
                Event::Cancel(i) | Event::Uncancel(i) if !live.is_empty() => {
                    let i = i % live.len();
                    let after = DemandOrder {
                        cancelled: matches!(e, Event::Cancel(_)),
                        ..live[i].clone()
                    };
                    cube.replace(&live[i], &after).unwrap();
                    live[i] = after;
                }
                _ => {}
            }
        }
        assert_matches(&cube, &live);
    }
}
