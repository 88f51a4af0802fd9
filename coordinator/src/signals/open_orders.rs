//! The repair orders open for allocation (SUBMITTED or DECLINED), kept from
//! the event log by [`super::views::LogViews`], so that `Allocation.Propose`
//! and `Allocation.Commit` cost the open orders, not every order stored.
//!
//! Each open order is held once, already in the allocation core's form
//! ([`super::balance::open_orders`], the one conversion), with its version,
//! in the order a listing of the store returns them (by the sequence of the
//! event that created the order, then its place in that event), so the
//! solver sees its input in the same order as a full read would give it.
//! Orders that are proposed keep only their place (a decline opens them
//! again); any other order is forgotten. Must never: judge eligibility or
//! balances (the allocation core does), hold an order's other fields, or
//! remember orders that can no longer be open.

use std::collections::{BTreeMap, HashMap};

use cosx_allocation as core;
use cosx_domain::records::RepairOrder;
use cosx_domain::{Party, PartyId, RepairOrderState};

use super::balance as adapt;
use super::order_counts::order_key;

/// Where an order stands in a listing: the sequence of the event that
/// created it, then its index among the orders that event created.
type Place = (i64, u32);

/// The open orders, in listing order.
#[derive(Debug, Default)]
pub struct OpenOrders {
    /// The place of every order that is open or proposed, by its id.
    places: HashMap<u128, Place>,
    /// The open orders in the core's form, with their versions.
    open: BTreeMap<Place, (core::OpenOrder, i64)>,
}

impl OpenOrders {
    /// Takes `order` as it is after event `sequence`; `index` is its place
    /// among the orders that event created (used only if it is new here).
    pub fn apply(&mut self, sequence: i64, index: u32, order: &RepairOrder, parties: &HashMap<PartyId, Party>) {
        let key = order_key(&order.id);
        let place = match self.places.get(&key) {
            Some(place) => *place,
            None => (sequence, index),
        };
        self.open.remove(&place);
        let open = order.state.is_open();
        if open && let Some(core_order) = adapt::open_orders(std::slice::from_ref(order), parties).pop() {
            self.open.insert(place, (core_order, order.version));
        }
        if open || order.state == RepairOrderState::Proposed {
            self.places.insert(key, place);
        } else {
            self.places.remove(&key);
        }
    }

    /// How many orders are open.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// Whether no order is open.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// The open orders, in listing order, with their versions.
    pub fn listed(&self) -> impl Iterator<Item = &(core::OpenOrder, i64)> {
        self.open.values()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::signals::workload::tests::base_order;
    use cosx_domain::{Nation, PartyKind};

    fn parties() -> HashMap<PartyId, Party> {
        let originator = base_order().draft.originator;
        let party = Party {
            id: originator.clone(),
            kind: PartyKind::Organic,
            nation: Nation::usa(),
            department: Some(cosx_domain::MilitaryDepartment::AirForce),
            display_name: "depot".into(),
            suspended: false,
        };
        HashMap::from([(originator, party)])
    }

    fn order(id: &str, state: RepairOrderState, version: i64) -> RepairOrder {
        let mut o = base_order();
        o.id = id.into();
        o.state = state;
        o.version = version;
        o
    }

    fn ids(v: &OpenOrders) -> Vec<(String, i64)> {
        v.listed().map(|(o, version)| (o.id.clone(), *version)).collect()
    }

    #[test]
    fn a_declined_order_is_open_again_in_its_first_place_and_a_closed_one_is_forgotten() {
        let (p, mut v) = (parties(), OpenOrders::default());
        v.apply(1, 0, &order("a", RepairOrderState::Submitted, 1), &p);
        v.apply(2, 0, &order("b", RepairOrderState::Submitted, 1), &p);
        v.apply(3, 0, &order("a", RepairOrderState::Proposed, 2), &p);
        assert_eq!(ids(&v), [("b".into(), 1)]);
        v.apply(4, 0, &order("a", RepairOrderState::Declined, 3), &p);
        assert_eq!(ids(&v), [("a".into(), 3), ("b".into(), 1)]);
        v.apply(5, 0, &order("a", RepairOrderState::Proposed, 4), &p);
        v.apply(6, 0, &order("a", RepairOrderState::Accepted, 5), &p);
        v.apply(7, 0, &order("b", RepairOrderState::Cancelled, 2), &p);
        assert!(v.is_empty());
        assert!(v.places.is_empty(), "accepted and cancelled orders are forgotten");
    }

    #[test]
    fn parts_of_one_split_keep_their_order_within_the_event() {
        let (p, mut v) = (parties(), OpenOrders::default());
        v.apply(1, 0, &order("parent", RepairOrderState::Submitted, 1), &p);
        v.apply(2, 0, &order("parent", RepairOrderState::Cancelled, 2), &p);
        for (i, id) in ["z-part", "a-part"].into_iter().enumerate() {
            v.apply(2, i as u32, &order(id, RepairOrderState::Submitted, 1), &p);
        }
        assert_eq!(ids(&v), [("z-part".into(), 1), ("a-part".into(), 1)]);
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn an_order_whose_originator_is_unknown_is_not_offered_to_allocation() {
        let mut v = OpenOrders::default();
        v.apply(1, 0, &order("a", RepairOrderState::Submitted, 1), &HashMap::new());
        assert!(v.is_empty());
    }
}
