//! How many repair orders are in each lifecycle state, kept from the event
//! log by [`super::views::LogViews`], so a count (the console's overview)
//! costs the number of distinct visibility classes, not the number of
//! orders.
//!
//! Orders are counted per class: state, originator, provider and
//! releasability, the inputs of [`may_see`]. A caller's count adds up the
//! classes [`may_see`] lets it see, the same rule a read or list applies.
//! Each order is remembered only as the class it was counted in (a 128-bit
//! id and a class number), so a step moves it between classes; an order in
//! a terminal state (closed, cancelled) takes no further step, so it stays
//! counted and is forgotten (memory follows the orders still moving, not
//! history). Must never:
//! hold an order's contents, or judge visibility other than by [`may_see`].

use std::collections::HashMap;

use cosx_domain::party::Party;
use cosx_domain::records::RepairOrder;
use cosx_domain::visibility::may_see;
use cosx_domain::{Nation, PartyId, Releasability, RepairOrderState};

/// What decides who sees an order, and its state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Class {
    state: RepairOrderState,
    owner: PartyId,
    provider: Option<PartyId>,
    nations: Vec<Nation>,
    parties: Vec<PartyId>,
    asked_to_quote: Vec<PartyId>,
}

/// Orders counted per class.
#[derive(Debug, Default)]
pub struct OrderCounts {
    classes: Vec<(Class, u64)>,
    index: HashMap<Class, u32>,
    /// Each order's class, by its id.
    orders: HashMap<OrderKey, u32>,
}

/// An order id as a 128-bit key, in two halves (a `u128` is aligned to 16
/// bytes, so a map of them spends a third more per entry): the UUID it is,
/// else a hash of its text.
pub(crate) type OrderKey = (u64, u64);

/// The [`OrderKey`] of order `id`.
pub(crate) fn order_key(id: &str) -> OrderKey {
    match uuid::Uuid::parse_str(id) {
        Ok(u) => u.as_u64_pair(),
        Err(_) => {
            use sha2::Digest;
            let d = sha2::Sha256::digest(id.as_bytes());
            let half = |b: &[u8]| b.iter().fold(0u64, |n, x| (n << 8) | u64::from(*x));
            (half(&d[..8]), half(&d[8..16]))
        }
    }
}

impl OrderCounts {
    /// Counts `order` as it is now (created, stepped or split).
    pub fn apply(&mut self, order: &RepairOrder) {
        let class = Class {
            state: order.state,
            owner: order.draft.originator.clone(),
            provider: order.provider.clone(),
            nations: order.draft.controls.releasability.nations.clone(),
            parties: order.draft.controls.releasability.parties.clone(),
            asked_to_quote: order.draft.controls.releasability.asked_to_quote.clone(),
        };
        let next = self.classes.len() as u32;
        let to = *self.index.entry(class.clone()).or_insert(next);
        if to == next {
            self.classes.push((class, 0));
        }
        if let Some(from) = self.orders.insert(order_key(&order.id), to)
            && let Some((_, n)) = self.classes.get_mut(from as usize)
        {
            *n = n.saturating_sub(1);
        }
        if let Some((_, n)) = self.classes.get_mut(to as usize) {
            *n += 1;
        }
        if order.state.is_terminal() {
            self.orders.remove(&order_key(&order.id));
            super::fit_map(&mut self.orders);
        }
    }

    /// The orders `viewer` may see, per state, in [`RepairOrderState::ALL`] order (states with none left out).
    pub fn visible_to(&self, viewer: &Party) -> Vec<(RepairOrderState, u64)> {
        let mut by_state: HashMap<RepairOrderState, u64> = HashMap::new();
        for (class, n) in &self.classes {
            let releasability = Releasability {
                nations: class.nations.clone(),
                parties: class.parties.clone(),
                asked_to_quote: class.asked_to_quote.clone(),
            };
            if *n > 0 && may_see(viewer, &class.owner, class.provider.as_ref(), &releasability) {
                *by_state.entry(class.state).or_default() += n;
            }
        }
        RepairOrderState::ALL.iter().filter_map(|s| by_state.get(s).map(|n| (*s, *n))).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::signals::workload::tests::base_order;
    use cosx_domain::PartyKind;

    #[test]
    fn a_cancelled_order_stays_counted_and_is_forgotten() {
        let coordinator = Party {
            id: PartyId::parse("US-INDOPACOM-J4").unwrap(),
            kind: PartyKind::Coordinator,
            nation: Nation::usa(),
            department: None,
            display_name: "J4".into(),
            suspended: false,
        };
        let mut counts = OrderCounts::default();
        let mut o = base_order();
        o.id = "o-1".into();
        counts.apply(&o);
        o.state = RepairOrderState::Cancelled;
        counts.apply(&o);
        assert_eq!(counts.visible_to(&coordinator), [(RepairOrderState::Cancelled, 1)]);
        assert!(counts.orders.is_empty(), "a terminal order is not remembered");
    }

    #[test]
    fn the_room_of_terminal_orders_is_given_back() {
        let mut counts = OrderCounts::default();
        let mut o = base_order();
        for i in 0..20_000 {
            o.id = format!("o-{i}");
            counts.apply(&o);
        }
        let peak = counts.orders.capacity();
        o.state = RepairOrderState::Cancelled;
        for i in 0..19_000 {
            o.id = format!("o-{i}");
            counts.apply(&o);
        }
        assert_eq!(counts.orders.len(), 1_000);
        assert!(counts.orders.capacity() * 4 <= peak, "{} of {peak}", counts.orders.capacity());
    }
}
