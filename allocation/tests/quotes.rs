//! Allocation with providers' quotes: a usable quote prices the order's
//! repair with its provider at the quoted price (instead of the offer's
//! rate × units), so it can make a dearer offer win or a cheaper one lose,
//! and the placement says which quote priced it and when the item is
//! serviceable by the quoted turnaround; a quote that is not usable on the
//! planning date (expired, interim) changes nothing.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, Utc};
use common::{config, date, f16_offer, f16_order as order, roomy};
use cosx_allocation::{
    AllocationPlan, CapacityOffer, InputError, OrderQuote, ProviderKind, allocate, allocate_quoted, check_plan,
};
use cosx_domain::quotes::{Quote, QuoteKind, QuoteState, QuoteTerms, RepairProcess};
use cosx_domain::vocab::{Money, PartyId};

/// A US contractor's F-16C offer at Nagoya, 100 hours a month Oct-Dec 2026, at `rate` cents an hour.
fn offer(provider: &str, rate: i64) -> CapacityOffer {
    let offer = f16_offer(&format!("offer-{provider}"), provider, ProviderKind::Contractor, "USA");
    CapacityOffer { rate_cents_per_unit: rate, ..offer }
}

/// The exchange's quote by `provider` on `order`, as the coordinator holds it.
fn exchange_quote(order: &str, provider: &str, kind: QuoteKind, cents: i64, days: u32, valid_until: &str) -> Quote {
    let owner = PartyId::parse("US-USAF-OOALC").unwrap();
    let provider = PartyId::parse(provider).unwrap();
    let mut q = Quote::requested(order, &owner, &provider, &owner, DateTime::<Utc>::UNIX_EPOCH);
    q.state = QuoteState::Quoted;
    q.terms = Some(QuoteTerms {
        kind,
        price: Money::parse("USD", cents).unwrap(),
        turnaround_days: days,
        process: RepairProcess::Repair,
        valid_until: valid_until.parse().unwrap(),
        conditions: None,
    });
    q
}

const CHEAP: &str = "US-ACME-CHEAP";
const DEAR: &str = "US-ACME-DEAR";

/// CHEAP at 100 $/h (40 h: $4,000), DEAR at 200 $/h ($8,000), same site.
fn two_offers() -> Vec<CapacityOffer> {
    vec![offer(CHEAP, 10_000), offer(DEAR, 20_000)]
}

fn plan(quotes: &[OrderQuote]) -> AllocationPlan {
    let (orders, offers, funds) = (vec![order("o1")], two_offers(), roomy());
    let plan = allocate_quoted(&orders, &offers, &funds, quotes, &config()).unwrap();
    assert!(check_plan(&orders, &offers, &funds, &config(), &plan).is_empty());
    plan
}

fn usable(q: &Quote) -> Vec<OrderQuote> {
    OrderQuote::usable(q, config().as_of).into_iter().collect()
}

#[test]
fn without_quotes_the_cheaper_rate_wins_as_allocate_would() {
    let quoted = plan(&[]);
    let plain = allocate(&[order("o1")], &two_offers(), &roomy(), &config()).unwrap();
    assert_eq!(quoted, plain);
    assert_eq!(quoted.assignments[0].provider_id, CHEAP);
    assert_eq!(quoted.assignments[0].explanation.repair_cost_cents, 400_000);
    assert_eq!(quoted.assignments[0].explanation.quote, None);
}

#[test]
fn a_quote_below_the_cheaper_rate_makes_the_dearer_offer_win_at_the_quoted_price() {
    let q = exchange_quote("o1", DEAR, QuoteKind::Final, 300_000, 45, "2026-10-31");
    let plan = plan(&usable(&q));
    let a = &plan.assignments[0];
    assert_eq!(a.provider_id, DEAR);
    assert_eq!(a.explanation.repair_cost_cents, 300_000, "the quoted price, not 40 h x $200");
    assert_eq!(a.explanation.total_cost_cents, a.explanation.retrograde_cost_cents + 300_000);
    assert_eq!(plan.total_cost_cents, a.explanation.total_cost_cents);
    let used = a.explanation.quote.as_ref().unwrap();
    assert_eq!((used.quote_id.as_str(), used.price_cents, used.turnaround_days), (q.id.as_str(), 300_000, 45));
    // Capacity is taken from the latest usable period (November): inducted
    // on its first day, serviceable 45 days later.
    assert_eq!(a.periods.iter().map(|p| p.start).collect::<Vec<_>>(), [date(2026, 11, 1)]);
    assert_eq!((used.induction, used.serviceable_by), (date(2026, 11, 1), date(2026, 12, 16)));
    assert!(!a.explanation.cheaper_offer_was_full, "no cheaper offer was passed over");
}

#[test]
fn a_quote_above_the_dearer_rate_makes_the_cheaper_offer_lose() {
    let q = exchange_quote("o1", CHEAP, QuoteKind::Final, 900_000, 20, "2026-12-31");
    let plan = plan(&usable(&q));
    let a = &plan.assignments[0];
    assert_eq!(a.provider_id, DEAR);
    assert_eq!(a.explanation.repair_cost_cents, 800_000, "DEAR's rate: it did not quote");
    assert_eq!(a.explanation.quote, None);
}

#[test]
fn an_expired_or_interim_quote_is_not_usable_and_changes_nothing() {
    let expired = exchange_quote("o1", DEAR, QuoteKind::Final, 1, 45, "2026-09-30");
    let interim = exchange_quote("o1", DEAR, QuoteKind::Interim, 1, 45, "2026-12-31");
    let mut closed = exchange_quote("o1", DEAR, QuoteKind::Final, 1, 45, "2026-12-31");
    closed.state = QuoteState::Closed;
    for q in [&expired, &interim, &closed] {
        assert!(usable(q).is_empty(), "{q:?}");
        let a = plan(&usable(q)).assignments.remove(0);
        assert_eq!((a.provider_id.as_str(), a.explanation.quote), (CHEAP, None));
    }
    // Valid through the planning date itself, it is used.
    let last_day = exchange_quote("o1", DEAR, QuoteKind::Final, 1, 45, "2026-10-01");
    assert_eq!(plan(&usable(&last_day)).assignments[0].provider_id, DEAR);
}

#[test]
fn a_quote_prices_only_its_own_order_and_provider() {
    let (orders, offers, funds) = (vec![order("o1"), order("o2")], two_offers(), roomy());
    let quotes = usable(&exchange_quote("o1", DEAR, QuoteKind::Final, 100_000, 30, "2026-12-31"));
    let plan = allocate_quoted(&orders, &offers, &funds, &quotes, &config()).unwrap();
    let by_order = |id: &str| plan.assignments.iter().find(|a| a.order_id == id).unwrap();
    assert_eq!(by_order("o1").provider_id, DEAR);
    assert_eq!(by_order("o2").provider_id, CHEAP);
    assert_eq!(by_order("o2").explanation.quote, None);
    // A quote for an order not in the run is ignored.
    let elsewhere = usable(&exchange_quote("o9", DEAR, QuoteKind::Final, 1, 30, "2026-12-31"));
    assert_eq!(
        allocate_quoted(&orders, &offers, &funds, &elsewhere, &config()).unwrap(),
        allocate(&orders, &offers, &funds, &config()).unwrap()
    );
}

#[test]
fn a_negative_price_or_two_quotes_by_one_provider_on_one_order_are_refused_by_field() {
    let good = usable(&exchange_quote("o1", DEAR, QuoteKind::Final, 100_000, 30, "2026-12-31")).remove(0);
    let (orders, offers, funds) = (vec![order("o1")], two_offers(), roomy());
    let negative = OrderQuote { price_cents: -1, ..good.clone() };
    let err = allocate_quoted(&orders, &offers, &funds, &[negative], &config()).unwrap_err();
    assert!(matches!(&err, InputError::InvalidField { field, .. } if field == "quotes[0].price_cents"), "{err:?}");
    let err = allocate_quoted(&orders, &offers, &funds, &[good.clone(), good], &config()).unwrap_err();
    assert!(matches!(&err, InputError::DuplicateId { field, .. } if field == "quotes[1]"), "{err:?}");
}
