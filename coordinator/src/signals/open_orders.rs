//! The repair orders open for allocation (SUBMITTED or DECLINED), kept from
//! the event log by [`super::views::LogViews`], so that `Allocation.Propose`
//! and `Allocation.Commit` cost the open orders, not every order stored.
//!
//! Each open order is converted once into the allocation core's form
//! ([`super::balance::open_orders`], the one conversion) and held with its
//! version, in the order a listing of the store returns them (by the
//! sequence of the event that created the order, then its place in that
//! event), so the solver sees its input in the same order as a full read
//! would give it. Held compactly, because a million open orders are the
//! coordinator's largest working set: the texts orders repeat (TMS, nation,
//! export classification, originator) once each, and an id the coordinator
//! made (32 hex digits) as its number; [`OpenOrders::listed`] gives back
//! exactly the order converted. Orders that are proposed keep only their
//! place (a decline opens them again); any other order is forgotten. Must
//! never: judge eligibility or balances (the allocation core does), hold an
//! order's other fields, or remember orders that can no longer be open.

use std::collections::HashMap;

use cosx_allocation as core;
use cosx_domain::records::RepairOrder;
use cosx_domain::{Party, PartyId, RepairOrderState};

use super::balance as adapt;
use super::order_counts::{OrderKey, order_key};

/// Where an order stands in a listing: the sequence of the event that
/// created it, then its index among the orders that event created.
type Place = (i64, u32);

/// The open orders, in listing order.
#[derive(Debug, Default)]
pub struct OpenOrders {
    /// The place of every order that is open or proposed, by its id.
    places: HashMap<OrderKey, Place>,
    /// Every place of `places` in listing order, with the order while it
    /// is open, and places whose order was forgotten until the next
    /// compaction. A vector, not a tree: a new order's place comes after
    /// every other (the log is read in order), so it is pushed, and a
    /// million entries cost their own size, not a tree's half-full nodes.
    listing: Vec<(Place, Slot)>,
    /// How many slots hold an open order, and how many are vacant.
    open: usize,
    vacant: usize,
    /// Each text an open order has held, once.
    texts: Texts,
}

/// What a place in the listing holds.
#[derive(Debug)]
enum Slot {
    Open(Held),
    /// Proposed (a decline opens it again) or open but not one allocation
    /// can take (its originator unknown): it keeps its place, unlisted.
    Proposed,
    /// Forgotten: gone at the next compaction.
    Vacant,
}

impl OpenOrders {
    /// Takes `order` as it is after event `sequence`; `index` is its place
    /// among the orders that event created (used only if it is new here).
    pub fn apply(&mut self, sequence: i64, index: u32, order: &RepairOrder, parties: &HashMap<PartyId, Party>) {
        let key = order_key(&order.id);
        let place = self.places.get(&key).copied().unwrap_or((sequence, index));
        let slot = if order.state.is_open() {
            match adapt::open_orders(std::slice::from_ref(order), parties).pop() {
                Some(core_order) => Slot::Open(Held::new(&core_order, order.version, &mut self.texts)),
                None => Slot::Proposed,
            }
        } else if order.state == RepairOrderState::Proposed {
            Slot::Proposed
        } else {
            Slot::Vacant
        };
        if matches!(slot, Slot::Vacant) {
            self.places.remove(&key);
            super::fit_map(&mut self.places);
        } else {
            self.places.insert(key, place);
        }
        let at = match self.listing.binary_search_by_key(&place, |(p, _)| *p) {
            Ok(at) => at,
            Err(_) if matches!(slot, Slot::Vacant) => return,
            Err(at) => {
                self.listing.insert(at, (place, Slot::Proposed));
                at
            }
        };
        let Some((_, kept)) = self.listing.get_mut(at) else { return };
        let was = std::mem::replace(kept, slot);
        if let Slot::Open(held) = &was {
            held.release(&mut self.texts);
        }
        for (s, step) in [(&was, -1), (&*kept, 1)] {
            match s {
                Slot::Open(_) => self.open = self.open.saturating_add_signed(step),
                Slot::Vacant => self.vacant = self.vacant.saturating_add_signed(step),
                Slot::Proposed => {}
            }
        }
        if self.vacant > 1024 && self.vacant * 2 > self.listing.len() {
            self.listing.retain(|(_, s)| !matches!(s, Slot::Vacant));
            super::fit_vec(&mut self.listing);
            self.vacant = 0;
        }
    }

    /// How many orders are open.
    pub fn len(&self) -> usize {
        self.open
    }

    /// Whether no order is open.
    pub fn is_empty(&self) -> bool {
        self.open == 0
    }

    /// The open orders, in listing order, with their versions: each exactly
    /// as [`super::balance::open_orders`] converted it.
    pub fn listed(&self) -> impl Iterator<Item = (core::OpenOrder, i64)> + '_ {
        self.listing.iter().filter_map(|(_, slot)| match slot {
            Slot::Open(held) => Some((held.order(&self.texts), held.version)),
            Slot::Proposed | Slot::Vacant => None,
        })
    }
}

/// Values open orders repeat, each held once, named by its number, and
/// counted: a value goes when the last open order holding it does, so what
/// this holds follows the open orders, not every text ever sent.
#[derive(Debug)]
struct Numbered<T> {
    /// Each value with how many open orders hold it; `None` for a number free again.
    all: Vec<Option<(T, usize)>>,
    number: HashMap<T, u32>,
    free: Vec<u32>,
}

impl<T> Default for Numbered<T> {
    fn default() -> Self {
        Numbered { all: Vec::new(), number: HashMap::new(), free: Vec::new() }
    }
}

impl<T: Clone + Eq + std::hash::Hash> Numbered<T> {
    /// The number of `value`, held once more.
    fn number(&mut self, value: &T) -> u32 {
        if let Some(n) = self.number.get(value)
            && let Some(Some((_, holders))) = self.all.get_mut(*n as usize)
        {
            *holders += 1;
            return *n;
        }
        let n = match self.free.pop() {
            Some(n) => n,
            None => {
                self.all.push(None);
                u32::try_from(self.all.len() - 1).unwrap_or(u32::MAX)
            }
        };
        if let Some(entry) = self.all.get_mut(n as usize) {
            *entry = Some((value.clone(), 1));
        }
        self.number.insert(value.clone(), n);
        n
    }

    /// Number `n` held once less; the value goes with its last holder.
    fn release(&mut self, n: u32) {
        let Some(entry) = self.all.get_mut(n as usize) else { return };
        let gone = match entry {
            Some((_, holders)) => {
                *holders = holders.saturating_sub(1);
                *holders == 0
            }
            None => false,
        };
        if gone && let Some((value, _)) = entry.take() {
            self.number.remove(&value);
            self.free.push(n);
        }
    }

    /// The value numbered `n` (every number an open order holds is given).
    fn value(&self, n: u32) -> Option<&T> {
        self.all.get(n as usize)?.as_ref().map(|(value, _)| value)
    }
}

/// The texts and nations of the open orders.
#[derive(Debug, Default)]
struct Texts {
    texts: Numbered<String>,
    nations: Numbered<core::Nation>,
}

impl Texts {
    fn text(&self, n: u32) -> String {
        self.texts.value(n).cloned().unwrap_or_default()
    }
}

/// An order id: the 32 lowercase hex digits the coordinator names records
/// with, as their number (no allocation), or any other id as its text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HeldId {
    /// The high and low halves of the number the digits spell.
    Hex(u64, u64),
    Text(Box<str>),
}

impl HeldId {
    fn new(id: &str) -> HeldId {
        let hex = id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        match (
            hex,
            u64::from_str_radix(id.get(..16).unwrap_or(""), 16),
            u64::from_str_radix(id.get(16..).unwrap_or(""), 16),
        ) {
            (true, Ok(high), Ok(low)) => HeldId::Hex(high, low),
            _ => HeldId::Text(id.into()),
        }
    }

    fn text(&self) -> String {
        match self {
            HeldId::Hex(high, low) => format!("{high:016x}{low:016x}"),
            HeldId::Text(t) => t.to_string(),
        }
    }
}

/// An open order in the core's form with its texts numbered, and its version.
#[derive(Debug, Clone)]
struct Held {
    id: HeldId,
    version: i64,
    tms: u32,
    owner_nation: u32,
    export_classification: Option<u32>,
    originator: Option<u32>,
    level: core::MaintenanceLevel,
    repair_type: core::RepairType,
    quantity: u32,
    estimated_hours: f64,
    priority: core::Priority,
    required_by: chrono::NaiveDate,
    location: core::GeoPoint,
    department: Option<core::Department>,
    funds_fiscal_year: Option<core::FiscalYear>,
    estimated_cost_cents: i64,
    organic_only: bool,
    fmf_funded: bool,
    dsca_waiver: bool,
}

impl Held {
    fn new(o: &core::OpenOrder, version: i64, texts: &mut Texts) -> Held {
        // Every field, so that a field added to the core's form cannot be
        // forgotten here.
        let core::OpenOrder {
            id,
            tms,
            level,
            repair_type,
            quantity,
            estimated_hours,
            priority,
            required_by,
            location,
            owner_nation,
            department,
            funds_fiscal_year,
            estimated_cost_cents,
            organic_only,
            export_classification,
            originator,
            fmf_funded,
            dsca_waiver,
        } = o;
        Held {
            id: HeldId::new(id),
            version,
            tms: texts.texts.number(tms),
            owner_nation: texts.nations.number(owner_nation),
            export_classification: export_classification.as_ref().map(|t| texts.texts.number(t)),
            originator: originator.as_ref().map(|t| texts.texts.number(t)),
            level: *level,
            repair_type: *repair_type,
            quantity: *quantity,
            estimated_hours: *estimated_hours,
            priority: *priority,
            required_by: *required_by,
            location: *location,
            department: *department,
            funds_fiscal_year: *funds_fiscal_year,
            estimated_cost_cents: *estimated_cost_cents,
            organic_only: *organic_only,
            fmf_funded: *fmf_funded,
            dsca_waiver: *dsca_waiver,
        }
    }

    /// Gives back the numbers this order holds.
    fn release(&self, texts: &mut Texts) {
        for n in [Some(self.tms), self.export_classification, self.originator].into_iter().flatten() {
            texts.texts.release(n);
        }
        texts.nations.release(self.owner_nation);
    }

    fn order(&self, texts: &Texts) -> core::OpenOrder {
        core::OpenOrder {
            id: self.id.text(),
            tms: texts.text(self.tms),
            level: self.level,
            repair_type: self.repair_type,
            quantity: self.quantity,
            estimated_hours: self.estimated_hours,
            priority: self.priority,
            required_by: self.required_by,
            location: self.location,
            // Every number held was given by `number` (the fallback is never taken).
            owner_nation: texts.nations.value(self.owner_nation).cloned().unwrap_or_else(core::Nation::usa),
            department: self.department,
            funds_fiscal_year: self.funds_fiscal_year,
            estimated_cost_cents: self.estimated_cost_cents,
            organic_only: self.organic_only,
            export_classification: self.export_classification.map(|n| texts.text(n)),
            originator: self.originator.map(|n| texts.text(n)),
            fmf_funded: self.fmf_funded,
            dsca_waiver: self.dsca_waiver,
        }
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
        v.listed().map(|(o, version)| (o.id, version)).collect()
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

    #[test]
    fn an_order_is_listed_exactly_as_converted_whatever_its_id_and_texts() {
        let p = parties();
        let mut v = OpenOrders::default();
        // A UUID the exchange made, a chosen name, a split's part, the extremes.
        let ids = [
            "0195f3c2a1b24c7d8e9f00112233aabb",
            "US-USAF-OOALC.ro-42",
            "0195f3c2a1b24c7d8e9f00112233aabb-2",
            "00000000000000000000000000000000",
            "ffffffffffffffffffffffffffffffff",
            "0195F3C2A1B24C7D8E9F00112233AAB",
        ];
        let mut expected = Vec::new();
        for (i, id) in ids.into_iter().enumerate() {
            let mut o = order(id, RepairOrderState::Submitted, i as i64 + 1);
            if i % 2 == 1 {
                o.draft.controls.usml_category = None;
                o.draft.controls.eccn = Some(format!("9A61{i}"));
                o.draft.component_family = Some(format!("family {i}"));
            }
            expected.push((adapt::open_orders(std::slice::from_ref(&o), &p).pop().unwrap(), o.version));
            v.apply(i as i64 + 1, 0, &o, &p);
        }
        assert_eq!(v.listed().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn forgotten_orders_are_compacted_away_and_the_rest_keep_their_order() {
        let (p, mut v) = (parties(), OpenOrders::default());
        for i in 0..3000 {
            v.apply(i, 0, &order(&format!("o{i}"), RepairOrderState::Submitted, 1), &p);
        }
        v.apply(3000, 0, &order("o7", RepairOrderState::Proposed, 2), &p);
        for i in (0..3000).filter(|i| i % 3 != 0 && *i != 7) {
            v.apply(3001 + i, 0, &order(&format!("o{i}"), RepairOrderState::Cancelled, 2), &p);
        }
        assert!(v.listing.len() < 3000, "vacant places were compacted: {}", v.listing.len());
        v.apply(9000, 0, &order("o7", RepairOrderState::Declined, 3), &p);
        let mut expected: Vec<(String, i64)> = (0..3000).filter(|i| i % 3 == 0).map(|i| (format!("o{i}"), 1)).collect();
        expected.insert(3, ("o7".into(), 3));
        assert_eq!(ids(&v), expected, "a declined order is open again in its first place");
        assert_eq!(v.len(), expected.len());
    }

    #[test]
    fn the_room_of_cancelled_orders_is_given_back_and_the_rest_stay_listed() {
        let (p, mut v) = (parties(), OpenOrders::default());
        for i in 0..20_000 {
            v.apply(i, 0, &order(&format!("o{i}"), RepairOrderState::Submitted, 1), &p);
        }
        let peak = (v.places.capacity(), v.listing.capacity());
        for i in (0..20_000).filter(|i| i % 10 != 0) {
            v.apply(20_000 + i, 0, &order(&format!("o{i}"), RepairOrderState::Cancelled, 2), &p);
        }
        assert_eq!(v.len(), 2_000);
        assert!(v.places.capacity() * 4 <= peak.0, "places: {} of {}", v.places.capacity(), peak.0);
        assert!(v.listing.capacity() * 4 <= peak.1, "listing: {} of {}", v.listing.capacity(), peak.1);
        let expected: Vec<(String, i64)> = (0..20_000).step_by(10).map(|i| (format!("o{i}"), 1)).collect();
        assert_eq!(ids(&v), expected);
    }

    #[test]
    fn a_text_goes_with_the_last_open_order_that_holds_it() {
        let (p, mut v) = (parties(), OpenOrders::default());
        for i in 0..100 {
            let mut o = order(&format!("o{i}"), RepairOrderState::Submitted, 1);
            o.draft.component_family = Some(format!("family {i}"));
            v.apply(i, 0, &o, &p);
        }
        let held = |v: &OpenOrders| v.texts.texts.number.len();
        // 100 families and the originator, each once.
        assert_eq!(held(&v), 101);
        for i in 0..100 {
            v.apply(100 + i, 0, &order(&format!("o{i}"), RepairOrderState::Cancelled, 2), &p);
        }
        assert_eq!(held(&v), 0, "no open order, no text");
        assert!(v.texts.nations.number.is_empty());
        let again = order("again", RepairOrderState::Submitted, 1);
        v.apply(300, 0, &again, &p);
        let expected = adapt::open_orders(std::slice::from_ref(&again), &p);
        assert_eq!(v.listed().map(|(o, _)| o).collect::<Vec<_>>(), expected, "numbers given again are right");
    }
}
