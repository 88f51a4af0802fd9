//! The band objective on hand-built cases (issue 18 §6; DESIGN.md §2,
//! "priority and required-by date first, then least retrograde distance/time
//! and cost"): within each priority band, taken from the highest, the plan
//! serves the most items the capacity and the 50/50 limit allow, even where
//! taking orders one by one in required-by order would serve fewer.
#![allow(clippy::unwrap_used)]

mod common;

use common::{air_force_funds, config, date, f16_offer, f16_order};
use cosx_allocation::{
    AllocationPlan, CapacityOffer, CapacityPeriod, FundsBalance, OpenOrder, Priority, ProviderKind, UnplacedReason,
    allocate, check_plan,
};

/// A US Air Force depot order for F-16C repair due in November 2026, at Kadena.
fn order(id: &str, priority: u8, hours: f64, due_day: u32) -> OpenOrder {
    OpenOrder {
        estimated_hours: hours,
        priority: Priority::new(priority).unwrap(),
        required_by: date(2026, 11, due_day),
        estimated_cost_cents: (hours * 10_000.0) as i64,
        ..f16_order(id)
    }
}

/// A US offer of F-16C depot repair with `hours` in October 2026 only.
fn offer(id: &str, kind: ProviderKind, hours: f64) -> CapacityOffer {
    let periods = vec![CapacityPeriod { start: date(2026, 10, 1), end: date(2026, 10, 31), capacity: hours }];
    CapacityOffer { periods, ..f16_offer(id, &format!("P-{id}"), kind, "USA") }
}

fn balance(organic_cents: i64) -> Vec<FundsBalance> {
    air_force_funds(organic_cents)
}

fn run(orders: &[OpenOrder], offers: &[CapacityOffer], balances: &[FundsBalance]) -> AllocationPlan {
    let config = config();
    let plan = allocate(orders, offers, balances, &config).unwrap();
    let violations = check_plan(orders, offers, balances, &config, &plan);
    assert!(violations.is_empty(), "{violations:?}");
    plan
}

fn placed(plan: &AllocationPlan) -> Vec<&str> {
    let mut ids: Vec<&str> = plan.assignments.iter().map(|a| a.order_id.as_str()).collect();
    ids.sort_unstable();
    ids
}

#[test]
fn a_band_serves_two_small_orders_rather_than_the_one_due_first_that_would_block_both() {
    // 30 hours of room: the 20-hour order due first leaves room for neither 15-hour order.
    let orders = [order("RO-A", 5, 20.0, 2), order("RO-B", 5, 15.0, 20), order("RO-C", 5, 15.0, 25)];
    let plan = run(&orders, &[offer("DEPOT", ProviderKind::Organic, 30.0)], &balance(0));
    assert_eq!(placed(&plan), ["RO-B", "RO-C"]);
    assert!(matches!(plan.unplaced[0].reason, UnplacedReason::CapacityExhausted { .. }));
    assert!(plan.optimality.is_exact(), "{:?}", plan.optimality);
}

#[test]
fn a_higher_band_is_served_first_even_when_a_lower_band_would_serve_more_items() {
    // Priority 1 takes 20 of the 30 hours; the two priority-8 orders would have served two items.
    let orders = [order("RO-P1", 1, 20.0, 20), order("RO-P8-A", 8, 15.0, 2), order("RO-P8-B", 8, 15.0, 3)];
    let plan = run(&orders, &[offer("DEPOT", ProviderKind::Organic, 30.0)], &balance(0));
    assert_eq!(placed(&plan), ["RO-P1"]);
    assert_eq!(plan.served_priority_weight, 15);
}

#[test]
fn within_the_50_50_room_a_band_serves_two_contract_orders_rather_than_one_larger() {
    // 10 U.S.C. 2466 as DESIGN.md §2 states it: contract dollars may not exceed organic.
    // $3,000 of room: the $2,000 order due first would leave room for neither $1,500 order.
    let orders = [order("RO-A", 5, 20.0, 2), order("RO-B", 5, 15.0, 20), order("RO-C", 5, 15.0, 25)];
    let plan = run(&orders, &[offer("CONTRACTOR", ProviderKind::Contractor, 100.0)], &balance(300_000));
    assert_eq!(placed(&plan), ["RO-B", "RO-C"]);
    assert!(matches!(plan.unplaced[0].reason, UnplacedReason::BlockedBy5050 { .. }), "{:?}", plan.unplaced);
    assert!(plan.optimality.is_exact());
}
