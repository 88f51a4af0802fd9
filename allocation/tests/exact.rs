//! The heuristic against an exact MIP (good_lp + microlp) on many small
//! random instances, and every plan through the independent checker.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

/// An order-offer pair: assignment binary and units per usable period.
type PairVars = (Variable, Vec<(usize, Variable)>);

use chrono::Duration;
use common::{PRIORITIES, small_instance};
use cosx_allocation::{
    AllocationPlan, Assignment, CapacityUnit, Explanation, MaintenanceLevel, OpenOrder, PeriodUse, ProviderKind,
    Unplaced, UnplacedReason, allocate, check_plan,
};
use good_lp::{Expression, ProblemVariables, Solution, SolverModel, Variable, constraint, microlp, variable};

/// Served quantity per priority in PRIORITIES order (highest first).
fn served_vector(orders: &[OpenOrder], placed: impl Fn(usize) -> bool) -> Vec<u64> {
    PRIORITIES
        .iter()
        .map(|&p| {
            orders
                .iter()
                .enumerate()
                .filter(|(i, o)| o.priority.value() == p && placed(*i))
                .map(|(_, o)| u64::from(o.quantity))
                .sum()
        })
        .collect()
}

/// Exact lexicographic optimum: maximise served quantity of priority 1, then
/// 3, ... via weights (total quantity + 1)^rank, which are exact in f64 here.
/// Returns the plan built from the MIP solution (checked like any plan).
fn exact_plan(inst: &common::Instance) -> (Vec<bool>, AllocationPlan) {
    let c = &inst.config;
    let mut vars = ProblemVariables::new();
    let base = inst.orders.iter().map(|o| f64::from(o.quantity)).sum::<f64>() + 1.0;
    let weight = |o: &OpenOrder| {
        let rank = PRIORITIES.iter().position(|&p| p == o.priority.value()).unwrap() as i32;
        base.powi(PRIORITIES.len() as i32 - 1 - rank) * f64::from(o.quantity)
    };
    // (order, offer) -> (x, [(period, y)])
    let mut pairs: BTreeMap<(usize, usize), PairVars> = BTreeMap::new();
    for (i, o) in inst.orders.iter().enumerate() {
        for (j, f) in inst.offers.iter().enumerate() {
            let capable = f
                .capabilities
                .iter()
                .any(|cap| cap.tms == o.tms && cap.level == o.level && cap.repair_types.contains(&o.repair_type));
            // The eligibility rules are not what this reference optimises:
            // it takes them from the crate (the checker restates them).
            let eligible = cosx_allocation::ineligibilities(o, f, c).is_empty();
            if !(capable && eligible) {
                continue;
            }
            let start = c.as_of + Duration::days(i64::from(f.lead_time_days));
            let usable: Vec<usize> = (0..f.periods.len())
                .filter(|&p| f.periods[p].end >= start && f.periods[p].start.max(start) <= o.required_by)
                .collect();
            if usable.is_empty() {
                continue;
            }
            let x = vars.add(variable().binary());
            let ys = usable.into_iter().map(|p| (p, vars.add(variable().min(0.0)))).collect();
            pairs.insert((i, j), (x, ys));
        }
    }
    let mut objective = Expression::default();
    for ((i, _), (x, _)) in &pairs {
        objective.add_mul(weight(&inst.orders[*i]), *x);
    }
    let mut model = vars.maximise(objective).using(microlp);
    let units = |i: usize, j: usize| inst.orders[i].units_in(inst.offers[j].unit);
    for ((i, j), (x, ys)) in &pairs {
        let sum: Expression = ys.iter().map(|(_, y)| *y).sum();
        model = model.with(constraint!(sum == units(*i, *j) * *x));
    }
    for i in 0..inst.orders.len() {
        let sum: Expression = pairs.iter().filter(|((a, _), _)| *a == i).map(|(_, (x, _))| *x).sum();
        model = model.with(constraint!(sum <= 1));
    }
    for (j, f) in inst.offers.iter().enumerate() {
        for (p, period) in f.periods.iter().enumerate() {
            let sum: Expression = pairs
                .iter()
                .filter(|((_, b), _)| *b == j)
                .flat_map(|(_, (_, ys))| ys.iter().filter(|(q, _)| *q == p).map(|(_, y)| *y))
                .sum();
            model = model.with(constraint!(sum <= period.capacity));
        }
    }
    for b in &inst.balances {
        // contract_before + contract_added <= organic_before + organic_added
        let mut lhs = Expression::default();
        for ((i, j), (x, _)) in &pairs {
            let o = &inst.orders[*i];
            if o.department == Some(b.department)
                && o.level == MaintenanceLevel::Depot
                && o.funds_fiscal_year.unwrap_or_else(|| cosx_allocation::FiscalYear::containing(o.required_by))
                    == b.fiscal_year
            {
                let sign = if inst.offers[*j].provider_kind == ProviderKind::Organic { -1.0 } else { 1.0 };
                lhs.add_mul(sign * o.estimated_cost_cents as f64, *x);
            }
        }
        model = model.with(constraint!(lhs <= (b.organic_cents - b.contract_cents) as f64));
    }
    let solution = model.solve().unwrap();
    let mut placed = vec![false; inst.orders.len()];
    let mut assignments = Vec::new();
    for ((i, j), (x, ys)) in &pairs {
        if solution.value(*x) > 0.5 {
            placed[*i] = true;
            let f = &inst.offers[*j];
            assignments.push(Assignment {
                order_id: inst.orders[*i].id.clone(),
                offer_id: f.id.clone(),
                provider_id: f.provider_id.clone(),
                units: units(*i, *j),
                periods: ys
                    .iter()
                    .map(|(p, y)| PeriodUse {
                        period_index: *p,
                        start: f.periods[*p].start,
                        end: f.periods[*p].end,
                        units: solution.value(*y).max(0.0),
                    })
                    .filter(|u| u.units > 1e-9)
                    .collect(),
                explanation: Explanation {
                    distance_km: 0.0,
                    transit_days: 0,
                    retrograde_cost_cents: 0,
                    repair_cost_cents: 0,
                    total_cost_cents: 0,
                    eligible_offers: 0,
                    cheaper_offer_was_full: false,
                    contract_work_for: None,
                },
            });
        }
    }
    let unplaced = (0..inst.orders.len())
        .filter(|&i| !placed[i])
        .map(|i| Unplaced {
            order_id: inst.orders[i].id.clone(),
            reason: UnplacedReason::CapacityExhausted { eligible_offers: 0 },
        })
        .collect();
    let plan = AllocationPlan { assignments, unplaced, funds: vec![], served_priority_weight: 0, total_cost_cents: 0 };
    (placed, plan)
}

#[test]
fn heuristic_serves_within_one_percent_of_the_exact_optimum_and_never_breaks_a_hard_constraint() {
    let (mut heuristic_weight, mut exact_weight) = (0u64, 0u64);
    let (mut equal, mut instances) = (0, 0);
    for seed in 0..200 {
        let inst = small_instance(seed, 10, 4);
        let plan = allocate(&inst.orders, &inst.offers, &inst.balances, &inst.config).unwrap();
        let violations = check_plan(&inst.orders, &inst.offers, &inst.balances, &inst.config, &plan);
        assert!(violations.is_empty(), "seed {seed}: heuristic plan breaks {violations:?}");

        let (exact_placed, exact) = exact_plan(&inst);
        let violations = check_plan(&inst.orders, &inst.offers, &inst.balances, &inst.config, &exact);
        assert!(violations.is_empty(), "seed {seed}: exact plan breaks {violations:?}");

        let placed_ids: std::collections::HashSet<&str> =
            plan.assignments.iter().map(|a| a.order_id.as_str()).collect();
        let h = served_vector(&inst.orders, |i| placed_ids.contains(inst.orders[i].id.as_str()));
        let e = served_vector(&inst.orders, |i| exact_placed[i]);
        // The exact optimum is lexicographically best: the heuristic can never beat it.
        assert!(h <= e, "seed {seed}: heuristic {h:?} beats 'exact' {e:?}");
        let weight = |v: &[u64]| v.iter().zip(PRIORITIES).map(|(q, p)| q * (16 - u64::from(p))).sum::<u64>();
        assert_eq!(weight(&h), plan.served_priority_weight, "seed {seed}");
        heuristic_weight += weight(&h);
        exact_weight += weight(&e);
        instances += 1;
        if h == e {
            equal += 1;
        } else if std::env::var("DEBUG_GAP").is_ok() {
            println!("seed {seed}: heuristic {h:?} exact {e:?}");
            for o in &inst.orders {
                println!(
                    "  {} p{} q{} h{} due {} {:?} {:?} {:?} dept {:?} oo {} exp {:?} own {}",
                    o.id,
                    o.priority.value(),
                    o.quantity,
                    o.estimated_hours,
                    o.required_by,
                    o.tms,
                    o.level,
                    o.repair_type,
                    o.department,
                    o.organic_only,
                    o.export_classification,
                    o.owner_nation
                );
            }
            for a in &plan.assignments {
                println!(
                    "  H {} -> {} {:?}",
                    a.order_id,
                    a.offer_id,
                    a.periods.iter().map(|p| (p.period_index, p.units)).collect::<Vec<_>>()
                );
            }
            for a in &exact.assignments {
                println!(
                    "  E {} -> {} {:?}",
                    a.order_id,
                    a.offer_id,
                    a.periods.iter().map(|p| (p.period_index, p.units)).collect::<Vec<_>>()
                );
            }
            for f in &inst.offers {
                println!(
                    "  {} {:?} {:?} lead {} {:?}",
                    f.id,
                    f.provider_kind,
                    f.unit,
                    f.lead_time_days,
                    f.periods.iter().map(|p| p.capacity).collect::<Vec<_>>()
                );
            }
            for u in &plan.unplaced {
                println!("  U {} {:?}", u.order_id, u.reason);
            }
        }
    }
    let ratio = heuristic_weight as f64 / exact_weight as f64;
    println!(
        "heuristic/exact served priority weight = {heuristic_weight}/{exact_weight} = {ratio:.5}; {equal}/{instances} instances optimal"
    );
    assert!(ratio >= 0.99, "ratio {ratio}");
}

#[test]
fn slot_offers_consume_quantity_and_hour_offers_consume_hours() {
    let inst = small_instance(3, 10, 4);
    let plan = allocate(&inst.orders, &inst.offers, &inst.balances, &inst.config).unwrap();
    for a in &plan.assignments {
        let o = inst.orders.iter().find(|o| o.id == a.order_id).unwrap();
        let f = inst.offers.iter().find(|f| f.id == a.offer_id).unwrap();
        let expected = match f.unit {
            CapacityUnit::LaborHours => o.estimated_hours,
            CapacityUnit::InductionSlots => f64::from(o.quantity),
        };
        assert!((a.units - expected).abs() < 1e-9);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// On larger random instances every plan passes the independent checker
    /// and every reported reason is true of the inputs.
    #[test]
    fn every_plan_is_feasible_and_every_reason_is_true(seed in 0u64..1_000_000, n_orders in 1usize..40, n_offers in 0usize..8) {
        let inst = small_instance(seed, n_orders, n_offers);
        let plan = allocate(&inst.orders, &inst.offers, &inst.balances, &inst.config).unwrap();
        let violations = check_plan(&inst.orders, &inst.offers, &inst.balances, &inst.config, &plan);
        proptest::prop_assert!(violations.is_empty(), "{:?}", violations);
        for u in &plan.unplaced {
            let o = inst.orders.iter().find(|o| o.id == u.order_id).unwrap();
            let capable = inst.offers.iter().filter(|f| f.capabilities.iter().any(|c| c.tms == o.tms && c.level == o.level && c.repair_types.contains(&o.repair_type))).count();
            match &u.reason {
                UnplacedReason::NoCapableProvider => proptest::prop_assert_eq!(capable, 0),
                UnplacedReason::NoEligibleProvider { blocked_by } => {
                    proptest::prop_assert!(capable > 0 && !blocked_by.is_empty());
                }
                UnplacedReason::BlockedBy5050 { department, fiscal_year } => {
                    proptest::prop_assert_eq!(o.counts_toward_5050(), Some((*department, *fiscal_year)));
                }
                _ => proptest::prop_assert!(capable > 0),
            }
        }
        proptest::prop_assert_eq!(plan.assignments.len() + plan.unplaced.len(), inst.orders.len());
    }
}
