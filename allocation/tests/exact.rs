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

/// Cost of placing order `i` on offer `j` as the plan states it:
/// retrograde (distance × cents/km/item × quantity) plus repair at the offer's rate.
fn pair_cost(inst: &common::Instance, i: usize, j: usize) -> f64 {
    let (o, f) = (&inst.orders[i], &inst.offers[j]);
    let retro =
        o.location.distance_km(&f.site) * inst.config.retrograde_cents_per_km_per_item as f64 * f64::from(o.quantity);
    retro.round() + (f.rate_cents_per_unit as f64 * o.units_in(f.unit)).round()
}

/// Exact lexicographic optimum: maximise served quantity of priority 1, then
/// 3, ... via weights (total quantity + 1)^rank, which are exact in f64 here;
/// then, holding that served weight, the least total cost (a second solve).
/// Returns the plan built from the MIP solution (checked like any plan) and its cost.
fn exact_plan(inst: &common::Instance) -> Option<(Vec<bool>, AllocationPlan, f64)> {
    let first = solve_exact(inst, None)?;
    let served: f64 =
        inst.orders.iter().enumerate().filter(|(i, _)| first.0[*i]).map(|(_, o)| lex_weight(inst, o)).sum();
    solve_exact(inst, Some(served))
}

fn lex_weight(inst: &common::Instance, o: &OpenOrder) -> f64 {
    let base = inst.orders.iter().map(|o| f64::from(o.quantity)).sum::<f64>() + 1.0;
    let rank = PRIORITIES.iter().position(|&p| p == o.priority.value()).unwrap() as i32;
    base.powi(PRIORITIES.len() as i32 - 1 - rank) * f64::from(o.quantity)
}

/// One MIP solve: without `served`, maximise the lexicographic served weight;
/// with it, minimise cost among plans serving at least that weight.
/// `None` when the reference solver itself fails (microlp reports a singular basis on rare instances).
fn solve_exact(inst: &common::Instance, served: Option<f64>) -> Option<(Vec<bool>, AllocationPlan, f64)> {
    let c = &inst.config;
    let mut vars = ProblemVariables::new();
    let weight = |o: &OpenOrder| lex_weight(inst, o);
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
    let mut served_expr = Expression::default();
    for ((i, j), (x, _)) in &pairs {
        served_expr.add_mul(weight(&inst.orders[*i]), *x);
        objective.add_mul(pair_cost(inst, *i, *j), *x);
    }
    let mut model = match served {
        None => vars.maximise(served_expr.clone()).using(microlp),
        Some(_) => vars.minimise(objective).using(microlp),
    };
    if let Some(w) = served {
        model = model.with(constraint!(served_expr >= w - 0.5));
    }
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
    let solution = model.solve().ok()?;
    let mut placed = vec![false; inst.orders.len()];
    let mut assignments = Vec::new();
    let mut cost = 0.0;
    for ((i, j), (x, ys)) in &pairs {
        if solution.value(*x) > 0.5 {
            placed[*i] = true;
            cost += pair_cost(inst, *i, *j);
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
                    quote: None,
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
    let plan = AllocationPlan {
        assignments,
        unplaced,
        funds: vec![],
        served_priority_weight: 0,
        total_cost_cents: 0,
        optimality: Default::default(),
    };
    Some((placed, plan, cost))
}

/// What the plan gives up against the exact reference over many instances.
#[derive(Debug, Default)]
struct GapReport {
    instances: u32,
    /// Instances whose plan serves a band fewer items than the lexicographic optimum
    /// (the first band where they differ is short).
    band_shortfalls: u32,
    /// Instances where the plan is exactly optimal in every band.
    bands_optimal: u32,
    /// Over instances with every band optimal: plan cost / exact cost − 1, worst and summed.
    worst_cost_gap: f64,
    plan_cost: f64,
    exact_cost: f64,
    /// Instances the reference MIP could not solve (left out of every other count).
    reference_failed: u32,
    /// Instances the solver itself flagged as not proven exact.
    not_proven: u32,
    violations: usize,
}

fn gap_report(instances: u64, seed: u64) -> GapReport {
    let mut r = GapReport::default();
    for seed in seed..seed + instances {
        let inst = small_instance(seed, 10, 4);
        let plan = allocate(&inst.orders, &inst.offers, &inst.balances, &inst.config).unwrap();
        let violations = check_plan(&inst.orders, &inst.offers, &inst.balances, &inst.config, &plan);
        r.violations += violations.len();
        assert!(violations.is_empty(), "seed {seed}: plan breaks {violations:?}");
        let Some((exact_placed, exact, exact_cost)) = exact_plan(&inst) else {
            r.reference_failed += 1;
            continue;
        };
        let violations = check_plan(&inst.orders, &inst.offers, &inst.balances, &inst.config, &exact);
        assert!(violations.is_empty(), "seed {seed}: exact plan breaks {violations:?}");

        let placed_ids: std::collections::HashSet<&str> =
            plan.assignments.iter().map(|a| a.order_id.as_str()).collect();
        let h = served_vector(&inst.orders, |i| placed_ids.contains(inst.orders[i].id.as_str()));
        let e = served_vector(&inst.orders, |i| exact_placed[i]);
        // The exact optimum is lexicographically best: the plan can never beat it.
        assert!(h <= e, "seed {seed}: plan {h:?} beats 'exact' {e:?}");
        let weight = |v: &[u64]| v.iter().zip(PRIORITIES).map(|(q, p)| q * (16 - u64::from(p))).sum::<u64>();
        assert_eq!(weight(&h), plan.served_priority_weight, "seed {seed}");
        r.instances += 1;
        r.not_proven += u32::from(!plan.optimality.is_exact());
        let plan_cost: f64 = plan
            .assignments
            .iter()
            .map(|a| {
                let i = inst.orders.iter().position(|o| o.id == a.order_id).unwrap();
                let j = inst.offers.iter().position(|f| f.id == a.offer_id).unwrap();
                pair_cost(&inst, i, j)
            })
            .sum();
        assert_eq!(plan_cost as i64, plan.total_cost_cents, "seed {seed}: the plan's cost is its pairs' cost");
        if h == e {
            r.bands_optimal += 1;
            r.plan_cost += plan_cost;
            r.exact_cost += exact_cost;
            if exact_cost > 0.0 {
                r.worst_cost_gap = r.worst_cost_gap.max(plan_cost / exact_cost - 1.0);
            }
        } else {
            r.band_shortfalls += 1;
            if std::env::var("DEBUG_GAP").is_ok() {
                println!("seed {seed}: plan {h:?} exact {e:?}");
            }
        }
    }
    r
}

/// Issue 18 §6: within each priority band, taken from the highest, the plan
/// serves as many items as the exact optimum (DESIGN.md §2, "priority and
/// required-by date first, then least retrograde distance/time and cost"),
/// at a cost within 1 % of the least, and never breaks a hard constraint.
#[test]
fn every_priority_band_is_served_to_its_exact_optimum_at_cost_within_one_percent() {
    let r = gap_report(200, 0);
    println!("gap report over {} small instances: {r:?}", r.instances);
    assert_eq!(r.instances, 200, "the reference solved every instance: {r:?}");
    assert_eq!(r.violations, 0);
    assert_eq!(r.band_shortfalls, 0, "{r:?}");
    assert!(r.worst_cost_gap <= 0.01, "{r:?}");
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

/// The same guarantee on 2,000 further instances (other seeds): no band
/// short of its optimum, cost within 1 %, no violation the checker finds.
#[test]
fn every_band_is_exact_on_two_thousand_more_instances() {
    let r = gap_report(2000, 10_000);
    assert_eq!((r.violations, r.band_shortfalls), (0, 0), "{r:?}");
    assert!(r.worst_cost_gap <= 0.01, "{r:?}");
}
