//! The quotes allocation may price open orders with, kept from the event
//! log by [`super::views::LogViews`] beside the open orders, so that
//! `Allocation.Propose` and `Allocation.Commit` read no store: every quote
//! that could be usable on some day (`cosx_domain::quotes::usable_terms`:
//! FINAL terms, still QUOTED), by order and provider, as its last event
//! left it. Whether one is usable on a plan's date, and for an order that
//! is open, is judged when a plan is made ([`OpenQuotes::usable`]).
//! Must never: decide usability itself, or keep a quote that was accepted,
//! closed or answered with interim terms.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use cosx_allocation::OrderQuote;
use cosx_domain::quotes::{Quote, usable_terms};

/// The quotes that may price an order, by order id, then provider.
#[derive(Debug, Default)]
pub struct OpenQuotes {
    by_order: HashMap<String, BTreeMap<String, Quote>>,
}

impl OpenQuotes {
    /// Takes `quote` as its latest event left it.
    pub fn apply(&mut self, quote: &Quote) {
        let provider = quote.provider.to_string();
        if usable_terms(quote, NaiveDate::MIN).is_some() {
            self.by_order.entry(quote.order_id.clone()).or_default().insert(provider, quote.clone());
        } else if let Some(of_order) = self.by_order.get_mut(&quote.order_id) {
            of_order.remove(&provider);
            if of_order.is_empty() {
                self.by_order.remove(&quote.order_id);
            }
        }
    }

    /// The quotes usable on `as_of` for the orders `is_open` names, in
    /// allocation's form, by order then provider.
    pub fn usable(&self, as_of: NaiveDate, is_open: impl Fn(&str) -> bool) -> Vec<OrderQuote> {
        let mut orders: Vec<&String> = self.by_order.keys().filter(|id| is_open(id)).collect();
        orders.sort();
        orders
            .into_iter()
            .flat_map(|id| self.by_order[id].values())
            .filter_map(|q| OrderQuote::usable(q, as_of))
            .collect()
    }

    /// The quote usable on `as_of` by `provider` for `order_id`, if any.
    pub fn usable_for(&self, order_id: &str, provider: &str, as_of: NaiveDate) -> Option<OrderQuote> {
        self.by_order.get(order_id)?.get(provider).and_then(|q| OrderQuote::usable(q, as_of))
    }

    /// How many quotes are held.
    pub fn len(&self) -> usize {
        self.by_order.values().map(BTreeMap::len).sum()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.by_order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::Utc;
    use cosx_domain::quotes::{QuoteKind, QuoteState, QuoteTerms, RepairProcess};
    use cosx_domain::vocab::{Money, PartyId};

    fn quote(order: &str, provider: &str, kind: QuoteKind, valid_until: &str) -> Quote {
        let owner = PartyId::parse("US-USAF-OOALC").unwrap();
        let mut q = Quote::requested(order, &owner, &PartyId::parse(provider).unwrap(), &owner, Utc::now());
        q.state = QuoteState::Quoted;
        q.terms = Some(QuoteTerms {
            kind,
            price: Money::parse("USD", 250_000).unwrap(),
            turnaround_days: 30,
            process: RepairProcess::Repair,
            valid_until: valid_until.parse().unwrap(),
            conditions: None,
        });
        q
    }

    #[test]
    fn a_final_quote_is_held_until_it_is_revised_to_interim_closed_or_accepted() {
        let mut v = OpenQuotes::default();
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let mut q = quote("o1", "JPN-MHI-KOMAKI", QuoteKind::Final, "2027-01-31");
        v.apply(&quote("o1", "KOR-KAI-SACHEON", QuoteKind::Interim, "2027-01-31"));
        v.apply(&q);
        assert_eq!(v.len(), 1, "an interim quote is not held");
        let usable = v.usable(day("2027-01-31"), |_| true);
        assert_eq!(usable.len(), 1);
        assert_eq!((usable[0].provider_id.as_str(), usable[0].price_cents), ("JPN-MHI-KOMAKI", 250_000));
        assert!(v.usable(day("2027-02-01"), |_| true).is_empty(), "expired on the plan's date");
        assert!(v.usable(day("2027-01-10"), |id| id != "o1").is_empty(), "its order is not open");
        assert!(v.usable_for("o1", "JPN-MHI-KOMAKI", day("2027-01-10")).is_some());
        assert!(v.usable_for("o1", "KOR-KAI-SACHEON", day("2027-01-10")).is_none());
        q.state = QuoteState::Closed;
        v.apply(&q);
        assert!(v.is_empty(), "a closed quote is forgotten");
    }
}
