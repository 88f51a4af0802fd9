//! Quotes before an order (ATA Spec 2000 Ch. 7): an owner (or a coordinator
//! for it) asks providers to quote on an open order; a provider answers
//! with an interim or final quote and may revise it while it is valid; the
//! owner accepts one final, unexpired quote, which proposes the order to
//! that provider through the ordinary lifecycle (the provider still accepts
//! or declines), and the order's other open quotes close. Cancelling or
//! splitting the order closes its open quotes too. A provider asked may read
//! the order, as a party it is released to, while its quote is open; and
//! until one is accepted, allocation may price the order with a provider at
//! its usable final quote ([`usable_terms`]).
//!
//! One quote record per order and provider, `{order}/quotes/{provider}`, so
//! a node and the coordinator name it alike and each quote is visible to
//! exactly its owner, its provider and coordinators ([`Quote::visible_to`]
//! is `visibility::may_see` with no releasability). These are the write
//! rules the coordinator and every node apply; pure: no I/O, no clock read
//! (`today` is always given).

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::lifecycle::{self, Action, LifecycleError, OrderView, RepairOrderState, Step};
use crate::party::Party;
use crate::vocab::{Money, PartyId, Releasability};

/// Most days a quote may promise to turn the work around in.
pub const MAX_TURNAROUND_DAYS: u32 = 3650;
/// Most characters of a quote's conditions.
pub const MAX_CONDITIONS: usize = crate::limits::MAX_LONG_TEXT;
/// Most providers one quote request names.
pub const MAX_QUOTE_PROVIDERS: usize = crate::limits::MAX_LIST;

/// Interim (an estimate, not acceptable) or final (acceptable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QuoteKind {
    /// An estimate before teardown; cannot be accepted.
    Interim,
    /// Binding terms; the owner may accept it.
    Final,
}

/// What the provider would do to the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RepairProcess {
    /// Repair.
    Repair,
    /// Overhaul.
    Overhaul,
    /// Inspect and test.
    InspectTest,
    /// Modify.
    Modify,
}

/// Where a quote is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QuoteState {
    /// Asked for; the provider has not answered.
    Requested,
    /// Answered (interim or final); revisable while valid.
    Quoted,
    /// Accepted by the owner: the order was proposed to the provider.
    Accepted,
    /// Closed: another quote was accepted. Final.
    Closed,
}

impl QuoteState {
    /// The state's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            QuoteState::Requested => "REQUESTED",
            QuoteState::Quoted => "QUOTED",
            QuoteState::Accepted => "ACCEPTED",
            QuoteState::Closed => "CLOSED",
        }
    }
}

/// What a provider quotes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteTerms {
    /// Interim or final.
    pub kind: QuoteKind,
    /// Price for the whole order (never negative: `Money::parse`).
    pub price: Money,
    /// Days from induction to serviceable.
    pub turnaround_days: u32,
    /// What would be done.
    pub process: RepairProcess,
    /// Last day the quote may be accepted.
    pub valid_until: NaiveDate,
    /// Conditions, if any.
    pub conditions: Option<String>,
}

/// A quote as the coordinator holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    /// `{order_id}/quotes/{provider}`.
    pub id: String,
    /// The order quoted on.
    pub order_id: String,
    /// The order's originator.
    pub owner: PartyId,
    /// The provider asked to quote.
    pub provider: PartyId,
    /// Who asked (the owner or a coordinator).
    pub requested_by: PartyId,
    /// State.
    pub state: QuoteState,
    /// The provider's terms, once it has answered.
    pub terms: Option<QuoteTerms>,
    /// Why it closed, when it did.
    pub close_reason: Option<String>,
    /// Version, +1 on every change.
    pub version: i64,
    /// Requested.
    pub create_time: DateTime<Utc>,
    /// Last changed.
    pub update_time: DateTime<Utc>,
}

/// The id of the quote `provider` gives on `order_id`.
pub fn quote_id(order_id: &str, provider: &PartyId) -> String {
    format!("{order_id}/quotes/{provider}")
}

/// The id prefix shared by every quote on `order_id` (for listing one order's quotes).
pub fn quotes_of(order_id: &str) -> String {
    format!("{order_id}/quotes/")
}

impl Quote {
    /// A new request for `provider` to quote on the order.
    pub fn requested(
        order_id: &str,
        owner: &PartyId,
        provider: &PartyId,
        requested_by: &PartyId,
        time: DateTime<Utc>,
    ) -> Quote {
        Quote {
            id: quote_id(order_id, provider),
            order_id: order_id.to_owned(),
            owner: owner.clone(),
            provider: provider.clone(),
            requested_by: requested_by.clone(),
            state: QuoteState::Requested,
            terms: None,
            close_reason: None,
            version: 1,
            create_time: time,
            update_time: time,
        }
    }

    /// Whether `viewer` may see this quote: its owner, its provider and
    /// coordinators — the one visibility rule with nothing released beyond them.
    pub fn visible_to(&self, viewer: &Party) -> bool {
        crate::visibility::may_see(viewer, &self.owner, Some(&self.provider), &Releasability::default())
    }

    /// Whether the quote has terms that have lapsed on `today`.
    pub fn expired_on(&self, today: NaiveDate) -> bool {
        self.terms.as_ref().is_some_and(|t| t.valid_until < today)
    }

    /// Still waiting for an answer or answered and unexpired: a new request
    /// to the same provider would be a duplicate.
    pub fn is_open_on(&self, today: NaiveDate) -> bool {
        match self.state {
            QuoteState::Requested => true,
            QuoteState::Quoted => !self.expired_on(today),
            QuoteState::Accepted | QuoteState::Closed => false,
        }
    }
}

/// Why a quote step is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuoteError {
    /// Only the order's originator or a coordinator asks for quotes.
    NotTheOwnerOrCoordinator,
    /// Only the order's originator accepts a quote.
    NotTheOwner,
    /// Only the provider asked answers.
    NotTheProvider,
    /// The order is not SUBMITTED or DECLINED.
    OrderNotOpen(crate::lifecycle::RepairOrderState),
    /// The order's originator cannot quote on its own order.
    OwnOrder,
    /// The provider already has an open quote on the order.
    AlreadyOpen(QuoteState),
    /// An ACCEPTED or CLOSED quote, or (for accept) one not yet answered.
    NotOpen(QuoteState),
    /// The quote's terms lapsed.
    Expired(NaiveDate),
    /// Terms that are already past their validity.
    ValidUntilPast(NaiveDate),
    /// An interim quote cannot be accepted.
    Interim,
    /// The proposal the acceptance makes was refused by the lifecycle.
    Lifecycle(LifecycleError),
}

impl fmt::Display for QuoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuoteError::NotTheOwnerOrCoordinator => {
                f.write_str("only the order's originator or a coordinator may ask for quotes")
            }
            QuoteError::NotTheOwner => f.write_str("only the order's originator may accept a quote"),
            QuoteError::NotTheProvider => f.write_str("only the provider asked may answer this quote"),
            QuoteError::OrderNotOpen(s) => {
                write!(
                    f,
                    "the order is {s}; quotes are asked, given and accepted only while it is SUBMITTED or DECLINED"
                )
            }
            QuoteError::OwnOrder => f.write_str("the order's originator cannot be asked to quote on its own order"),
            QuoteError::AlreadyOpen(s) => write!(f, "already has a {} quote on this order", s.as_str()),
            QuoteError::NotOpen(QuoteState::Requested) => f.write_str("the quote has not been answered yet"),
            QuoteError::NotOpen(s) => write!(f, "the quote is {}; it can no longer change", s.as_str()),
            QuoteError::Expired(d) => write!(f, "the quote expired after {d}; ask the provider for a new one"),
            QuoteError::ValidUntilPast(d) => write!(f, "{d} is already past"),
            QuoteError::Interim => f.write_str("an INTERIM quote cannot be accepted; ask for a FINAL one"),
            QuoteError::Lifecycle(e) => write!(f, "{e}"),
        }
    }
}

fn order_open(order: &OrderView<'_>) -> Result<(), QuoteError> {
    if order.state.is_open() { Ok(()) } else { Err(QuoteError::OrderNotOpen(order.state)) }
}

/// Whether `caller` may ask for quotes on `order` at all: its originator or
/// a coordinator, while the order is open.
pub fn check_may_ask(order: OrderView<'_>, caller: &PartyId, caller_is_coordinator: bool) -> Result<(), QuoteError> {
    if !(caller_is_coordinator || caller == order.originator) {
        return Err(QuoteError::NotTheOwnerOrCoordinator);
    }
    order_open(&order)
}

/// Whether `caller` may ask `provider` to quote on `order`, given the
/// provider's existing quote on it (if any). A closed or expired quote is
/// asked again (it becomes REQUESTED); eligibility is the caller's to check
/// with allocation's rule.
pub fn check_request(
    order: OrderView<'_>,
    caller: &PartyId,
    caller_is_coordinator: bool,
    provider: &PartyId,
    existing: Option<&Quote>,
    today: NaiveDate,
) -> Result<(), QuoteError> {
    check_may_ask(order, caller, caller_is_coordinator)?;
    if provider == order.originator {
        return Err(QuoteError::OwnOrder);
    }
    match existing {
        Some(q) if q.is_open_on(today) => Err(QuoteError::AlreadyOpen(q.state)),
        _ => Ok(()),
    }
}

/// What a quote becomes when it is asked (again).
pub fn request(existing: Option<Quote>, fresh: Quote) -> Quote {
    match existing {
        None => fresh,
        Some(mut q) => {
            q.state = QuoteState::Requested;
            q.terms = None;
            q.close_reason = None;
            q.requested_by = fresh.requested_by;
            q.version += 1;
            q.update_time = fresh.update_time;
            q
        }
    }
}

/// Whether `caller` may answer (or revise) `quote` with `terms` on `today`.
pub fn check_answer(
    quote: &Quote,
    order: OrderView<'_>,
    caller: &PartyId,
    terms: &QuoteTerms,
    today: NaiveDate,
) -> Result<(), QuoteError> {
    if caller != &quote.provider {
        return Err(QuoteError::NotTheProvider);
    }
    match quote.state {
        QuoteState::Requested => {}
        QuoteState::Quoted if quote.expired_on(today) => {
            return Err(QuoteError::Expired(quote.terms.as_ref().map_or(today, |t| t.valid_until)));
        }
        QuoteState::Quoted => {}
        s => return Err(QuoteError::NotOpen(s)),
    }
    order_open(&order)?;
    if terms.valid_until < today {
        return Err(QuoteError::ValidUntilPast(terms.valid_until));
    }
    Ok(())
}

/// What `quote` becomes when its provider answers (or revises) it with
/// `terms` at `time` (after [`check_answer`]).
pub fn answer(mut quote: Quote, terms: QuoteTerms, time: DateTime<Utc>) -> Quote {
    quote.state = QuoteState::Quoted;
    quote.terms = Some(terms);
    quote.version += 1;
    quote.update_time = time;
    quote
}

/// What `quote` becomes when its owner accepts it at `time` (after
/// [`check_accept`]).
pub fn accepted(mut quote: Quote, time: DateTime<Utc>) -> Quote {
    quote.state = QuoteState::Accepted;
    quote.version += 1;
    quote.update_time = time;
    quote
}

/// Whether the order's originator may accept `quote` on `today`, and if so
/// the lifecycle step it makes: the order PROPOSED to the quoting provider
/// (the owner's acceptance of a final quote stands in for a coordinator's
/// proposal; the provider still accepts or declines).
pub fn check_accept(
    quote: &Quote,
    order: OrderView<'_>,
    caller: &PartyId,
    today: NaiveDate,
) -> Result<Step, QuoteError> {
    if caller != order.originator {
        return Err(QuoteError::NotTheOwner);
    }
    let terms = match (quote.state, &quote.terms) {
        (QuoteState::Quoted, Some(t)) => t,
        (s, _) => return Err(QuoteError::NotOpen(s)),
    };
    if terms.kind != QuoteKind::Final {
        return Err(QuoteError::Interim);
    }
    if terms.valid_until < today {
        return Err(QuoteError::Expired(terms.valid_until));
    }
    order_open(&order)?;
    lifecycle::apply(order, order.originator, true, &Action::Propose(quote.provider.clone()))
        .map_err(QuoteError::Lifecycle)
}

/// The quotes of an order that close when `accepted` is accepted: every other
/// one still REQUESTED or QUOTED.
pub fn closed_by<'q>(accepted: &Quote, quotes: &'q [Quote]) -> Vec<&'q Quote> {
    quotes
        .iter()
        .filter(|q| q.order_id == accepted.order_id && q.id != accepted.id)
        .filter(|q| releases_order(q))
        .collect()
}

/// Why a quote closed, in the words its provider reads: never who else
/// quoted or won.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// Another quote on the order was accepted.
    AnotherAccepted,
    /// The order was cancelled by its originator.
    OrderCancelled,
    /// The order was split into parts (each a new order, not yet quoted on).
    OrderSplit,
}

impl CloseReason {
    /// The reason as the quote records it.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::AnotherAccepted => "another quote on this order was accepted",
            CloseReason::OrderCancelled => "the order was cancelled",
            CloseReason::OrderSplit => "the order was split into parts; ask for quotes on the parts",
        }
    }
}

/// Whether the order's open quotes close when an order step takes it to
/// `to`: a cancelled order (a split's parent too) is quoted on no more. A
/// proposal does not close them (its provider may still decline); an
/// accepted quote closes the others itself ([`closed_by`]).
pub fn closed_by_step(to: RepairOrderState) -> Option<CloseReason> {
    (to == RepairOrderState::Cancelled).then_some(CloseReason::OrderCancelled)
}

/// Every quote of `quotes` still REQUESTED or QUOTED (on `order_id`), closed
/// for `reason` at `time`, one version on.
pub fn close_open(order_id: &str, quotes: &[Quote], reason: CloseReason, time: DateTime<Utc>) -> Vec<Quote> {
    quotes
        .iter()
        .filter(|q| q.order_id == order_id && releases_order(q))
        .map(|q| close(q.clone(), reason, time))
        .collect()
}

/// `quote` closed for `reason` at `time`, one version on.
pub fn close(mut quote: Quote, reason: CloseReason, time: DateTime<Utc>) -> Quote {
    quote.state = QuoteState::Closed;
    quote.close_reason = Some(reason.as_str().to_owned());
    quote.version += 1;
    quote.update_time = time;
    quote
}

/// Whether `quote` still releases its order to its provider: from the
/// request until it is accepted or closed (the span in which the order's
/// [`Releasability::asked_to_quote`] holds the provider, between
/// [`asked_to_quote`] and [`no_longer_asked`]). A party node, which never
/// sees the order's `asked_to_quote` (records show no one who else was
/// asked), rebuilds its own party's entry from its own quotes with this.
pub fn releases_order(quote: &Quote) -> bool {
    matches!(quote.state, QuoteState::Requested | QuoteState::Quoted)
}

/// A provider asked to quote may read the order while its quote is open,
/// as a party the order is released to does (`visibility::may_see` through
/// [`Releasability::asked_to_quote`]). Returns the order's releasability
/// with `provider` asked, or `None` when nothing changes (already asked,
/// or it sees the order anyway: `sees_already`).
pub fn asked_to_quote(releasability: &Releasability, provider: &PartyId, sees_already: bool) -> Option<Releasability> {
    if sees_already || releasability.asked_to_quote.contains(provider) {
        return None;
    }
    let mut r = releasability.clone();
    r.asked_to_quote.push(provider.clone());
    Some(r)
}

/// The order's releasability once the quotes of `providers` are no longer
/// open (accepted, closed): they stop seeing the order through their quote
/// (the accepted one sees it as its provider). Whether it changed.
pub fn no_longer_asked<'p>(
    releasability: &mut Releasability,
    providers: impl IntoIterator<Item = &'p PartyId>,
) -> bool {
    let before = releasability.asked_to_quote.len();
    for p in providers {
        releasability.asked_to_quote.retain(|a| a != p);
    }
    releasability.asked_to_quote.len() != before
}

/// What an order proposed at a quote takes from it: its estimated cost
/// becomes the quoted price. The one rule for both ways a quote turns into
/// a proposal: its owner accepting it, and a coordinator committing an
/// allocation that priced the order with it ([`usable_terms`]).
pub fn price_at_quote(funding: &mut crate::records::Funding, terms: &QuoteTerms) {
    funding.estimated_cost = Some(terms.price.clone());
}

/// The terms allocation may price an order with on `as_of`: those of a
/// FINAL quote still QUOTED (not accepted, closed or merely requested) and
/// valid on `as_of`. Exactly the quotes [`check_accept`] would let the
/// owner accept that day.
pub fn usable_terms(quote: &Quote, as_of: NaiveDate) -> Option<&QuoteTerms> {
    match (quote.state, &quote.terms) {
        (QuoteState::Quoted, Some(t)) if t.kind == QuoteKind::Final && t.valid_until >= as_of => Some(t),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::lifecycle::RepairOrderState as S;
    use crate::vocab::{Nation, PartyKind};

    fn id(s: &str) -> PartyId {
        PartyId::parse(s).unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn terms(kind: QuoteKind, valid_until: &str) -> QuoteTerms {
        QuoteTerms {
            kind,
            price: Money::parse("USD", 1_250_000).unwrap(),
            turnaround_days: 45,
            process: RepairProcess::Overhaul,
            valid_until: day(valid_until),
            conditions: None,
        }
    }

    struct World {
        owner: PartyId,
        mhi: PartyId,
        kai: PartyId,
        coord: PartyId,
    }

    fn world() -> World {
        World {
            owner: id("US-USAF-OOALC"),
            mhi: id("JPN-MHI-KOMAKI"),
            kai: id("KOR-KAI-SACHEON"),
            coord: id("US-INDOPACOM-J4"),
        }
    }

    fn order(w: &World, state: S) -> OrderView<'_> {
        OrderView { state, originator: &w.owner, provider: None }
    }

    fn quoted(w: &World, provider: &PartyId, t: QuoteTerms) -> Quote {
        let mut q = Quote::requested("US-USAF-OOALC.o1", &w.owner, provider, &w.owner, Utc::now());
        q.state = QuoteState::Quoted;
        q.terms = Some(t);
        q
    }

    #[test]
    fn the_owner_or_a_coordinator_asks_for_quotes_on_an_open_order_only() {
        let w = world();
        let today = day("2027-01-10");
        assert_eq!(check_request(order(&w, S::Submitted), &w.owner, false, &w.mhi, None, today), Ok(()));
        assert_eq!(check_request(order(&w, S::Declined), &w.coord, true, &w.mhi, None, today), Ok(()));
        assert_eq!(
            check_request(order(&w, S::Submitted), &w.kai, false, &w.mhi, None, today),
            Err(QuoteError::NotTheOwnerOrCoordinator)
        );
        for closed in [S::Proposed, S::Accepted, S::InWork, S::Closed, S::Cancelled] {
            assert_eq!(
                check_request(order(&w, closed), &w.owner, false, &w.mhi, None, today),
                Err(QuoteError::OrderNotOpen(closed))
            );
        }
        assert_eq!(
            check_request(order(&w, S::Submitted), &w.coord, true, &w.owner, None, today),
            Err(QuoteError::OwnOrder)
        );
    }

    #[test]
    fn a_provider_is_asked_again_only_once_its_quote_closed_or_expired() {
        let w = world();
        let today = day("2027-01-10");
        let open = quoted(&w, &w.mhi, terms(QuoteKind::Final, "2027-02-01"));
        assert_eq!(
            check_request(order(&w, S::Submitted), &w.owner, false, &w.mhi, Some(&open), today),
            Err(QuoteError::AlreadyOpen(QuoteState::Quoted))
        );
        let lapsed = quoted(&w, &w.mhi, terms(QuoteKind::Final, "2027-01-09"));
        assert_eq!(check_request(order(&w, S::Submitted), &w.owner, false, &w.mhi, Some(&lapsed), today), Ok(()));
        let again = request(Some(lapsed.clone()), Quote::requested("x", &w.owner, &w.mhi, &w.coord, Utc::now()));
        assert_eq!(again.state, QuoteState::Requested);
        assert_eq!(again.terms, None);
        assert_eq!(again.version, lapsed.version + 1);
        assert_eq!(again.id, lapsed.id);
        assert_eq!(again.requested_by, w.coord);
    }

    #[test]
    fn only_the_provider_asked_answers_and_revises_while_the_quote_is_valid() {
        let w = world();
        let today = day("2027-01-10");
        let asked = Quote::requested("US-USAF-OOALC.o1", &w.owner, &w.mhi, &w.owner, Utc::now());
        let t = terms(QuoteKind::Interim, "2027-01-31");
        assert_eq!(check_answer(&asked, order(&w, S::Submitted), &w.mhi, &t, today), Ok(()));
        assert_eq!(check_answer(&asked, order(&w, S::Submitted), &w.kai, &t, today), Err(QuoteError::NotTheProvider));
        assert_eq!(check_answer(&asked, order(&w, S::Submitted), &w.owner, &t, today), Err(QuoteError::NotTheProvider));
        let stale = terms(QuoteKind::Final, "2027-01-09");
        assert_eq!(
            check_answer(&asked, order(&w, S::Submitted), &w.mhi, &stale, today),
            Err(QuoteError::ValidUntilPast(day("2027-01-09")))
        );
        assert_eq!(
            check_answer(&asked, order(&w, S::Cancelled), &w.mhi, &t, today),
            Err(QuoteError::OrderNotOpen(S::Cancelled))
        );
        let revisable = quoted(&w, &w.mhi, terms(QuoteKind::Interim, "2027-01-10"));
        assert_eq!(check_answer(&revisable, order(&w, S::Submitted), &w.mhi, &t, today), Ok(()));
        assert_eq!(
            check_answer(&revisable, order(&w, S::Submitted), &w.mhi, &t, day("2027-01-11")),
            Err(QuoteError::Expired(day("2027-01-10")))
        );
        let mut closed = revisable.clone();
        closed.state = QuoteState::Closed;
        assert_eq!(
            check_answer(&closed, order(&w, S::Submitted), &w.mhi, &t, today),
            Err(QuoteError::NotOpen(QuoteState::Closed))
        );
    }

    #[test]
    fn accepting_a_final_quote_proposes_the_order_to_its_provider_and_nothing_more() {
        let w = world();
        let today = day("2027-01-10");
        let q = quoted(&w, &w.mhi, terms(QuoteKind::Final, "2027-01-10"));
        let step = check_accept(&q, order(&w, S::Submitted), &w.owner, today).unwrap();
        assert_eq!(step, Step { to: S::Proposed, provider: Some(w.mhi.clone()) });
        let step = check_accept(&q, order(&w, S::Declined), &w.owner, today).unwrap();
        assert_eq!(step.to, S::Proposed);
    }

    #[test]
    fn expired_interim_unanswered_and_foreign_quotes_cannot_be_accepted() {
        let w = world();
        let today = day("2027-01-10");
        let q = quoted(&w, &w.mhi, terms(QuoteKind::Final, "2027-01-09"));
        assert_eq!(
            check_accept(&q, order(&w, S::Submitted), &w.owner, today),
            Err(QuoteError::Expired(day("2027-01-09")))
        );
        let interim = quoted(&w, &w.mhi, terms(QuoteKind::Interim, "2027-02-01"));
        assert_eq!(check_accept(&interim, order(&w, S::Submitted), &w.owner, today), Err(QuoteError::Interim));
        let asked = Quote::requested("US-USAF-OOALC.o1", &w.owner, &w.mhi, &w.owner, Utc::now());
        assert_eq!(
            check_accept(&asked, order(&w, S::Submitted), &w.owner, today),
            Err(QuoteError::NotOpen(QuoteState::Requested))
        );
        let good = quoted(&w, &w.mhi, terms(QuoteKind::Final, "2027-02-01"));
        assert_eq!(check_accept(&good, order(&w, S::Submitted), &w.coord, today), Err(QuoteError::NotTheOwner));
        assert_eq!(check_accept(&good, order(&w, S::Submitted), &w.mhi, today), Err(QuoteError::NotTheOwner));
        assert_eq!(
            check_accept(&good, order(&w, S::Proposed), &w.owner, today),
            Err(QuoteError::OrderNotOpen(S::Proposed))
        );
    }

    #[test]
    fn accepting_one_quote_closes_the_others_still_open() {
        let w = world();
        let accepted = quoted(&w, &w.mhi, terms(QuoteKind::Final, "2027-02-01"));
        let other = quoted(&w, &w.kai, terms(QuoteKind::Interim, "2027-02-01"));
        let mut done = Quote::requested("US-USAF-OOALC.o1", &w.owner, &w.coord, &w.owner, Utc::now());
        done.state = QuoteState::Closed;
        let elsewhere = Quote::requested("US-USAF-OOALC.o2", &w.owner, &w.kai, &w.owner, Utc::now());
        let all = vec![accepted.clone(), other.clone(), done, elsewhere];
        let closed: Vec<&str> = closed_by(&accepted, &all).into_iter().map(|q| q.id.as_str()).collect();
        assert_eq!(closed, vec![other.id.as_str()]);
    }

    #[test]
    fn a_cancel_or_split_closes_the_open_quotes_and_nothing_else_does() {
        let w = world();
        assert_eq!(closed_by_step(S::Cancelled), Some(CloseReason::OrderCancelled));
        for s in [S::Proposed, S::Accepted, S::Declined, S::Inducted, S::Closed] {
            assert_eq!(closed_by_step(s), None, "{s}");
        }
        let open = quoted(&w, &w.mhi, terms(QuoteKind::Final, "2027-02-01"));
        let asked = Quote::requested("US-USAF-OOALC.o1", &w.owner, &w.kai, &w.owner, Utc::now());
        let mut accepted = quoted(&w, &w.coord, terms(QuoteKind::Final, "2027-02-01"));
        accepted.state = QuoteState::Accepted;
        let elsewhere = Quote::requested("US-USAF-OOALC.o2", &w.owner, &w.kai, &w.owner, Utc::now());
        let all = vec![open.clone(), asked.clone(), accepted, elsewhere];
        let closed = close_open("US-USAF-OOALC.o1", &all, CloseReason::OrderSplit, Utc::now());
        assert_eq!(closed.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(), [open.id.as_str(), asked.id.as_str()]);
        assert!(
            closed.iter().all(|q| q.state == QuoteState::Closed
                && q.close_reason.as_deref() == Some(CloseReason::OrderSplit.as_str()))
        );
        assert_eq!(closed[0].version, open.version + 1);
        for r in [CloseReason::AnotherAccepted, CloseReason::OrderCancelled, CloseReason::OrderSplit] {
            assert!(!r.as_str().contains(w.mhi.as_str()));
        }
    }

    #[test]
    fn allocation_may_price_with_exactly_the_quotes_the_owner_could_accept() {
        let w = world();
        let today = day("2027-01-10");
        let asked = Quote::requested("US-USAF-OOALC.o1", &w.owner, &w.mhi, &w.owner, Utc::now());
        let mut cases = vec![
            asked,
            quoted(&w, &w.mhi, terms(QuoteKind::Final, "2027-01-10")),
            quoted(&w, &w.mhi, terms(QuoteKind::Final, "2027-01-09")),
            quoted(&w, &w.mhi, terms(QuoteKind::Interim, "2027-02-01")),
        ];
        for state in [QuoteState::Accepted, QuoteState::Closed] {
            let mut q = quoted(&w, &w.mhi, terms(QuoteKind::Final, "2027-02-01"));
            q.state = state;
            cases.push(q);
        }
        for q in &cases {
            let acceptable = check_accept(q, order(&w, S::Submitted), &w.owner, today).is_ok();
            assert_eq!(usable_terms(q, today).is_some(), acceptable, "{q:?}");
        }
        assert_eq!(cases.iter().filter(|q| usable_terms(q, today).is_some()).count(), 1);
    }

    #[test]
    fn an_asked_provider_is_released_the_order_until_its_quote_is_no_longer_open() {
        let w = world();
        let none = Releasability::default();
        let r = asked_to_quote(&none, &w.mhi, false).unwrap();
        assert_eq!(r.asked_to_quote, vec![w.mhi.clone()]);
        assert!(r.parties.is_empty(), "the owner's own release list is untouched");
        assert_eq!(asked_to_quote(&r, &w.mhi, false), None, "asked once");
        assert_eq!(asked_to_quote(&none, &w.mhi, true), None, "it sees the order anyway");
        let mut both = asked_to_quote(&r, &w.kai, false).unwrap();
        assert!(no_longer_asked(&mut both, [&w.mhi]));
        assert_eq!(both.asked_to_quote, vec![w.kai.clone()]);
        assert!(!no_longer_asked(&mut both, [&w.mhi]));
    }

    #[test]
    fn a_quote_is_seen_by_its_owner_its_provider_and_coordinators_only() {
        let w = world();
        let party = |id: &PartyId, kind, nation: &str| Party {
            id: id.clone(),
            kind,
            nation: Nation::parse(nation).unwrap(),
            department: None,
            display_name: id.to_string(),
            suspended: false,
        };
        let q = quoted(&w, &w.mhi, terms(QuoteKind::Final, "2027-02-01"));
        assert!(q.visible_to(&party(&w.owner, PartyKind::Organic, "USA")));
        assert!(q.visible_to(&party(&w.mhi, PartyKind::Contractor, "JPN")));
        assert!(q.visible_to(&party(&w.coord, PartyKind::Coordinator, "USA")));
        assert!(!q.visible_to(&party(&w.kai, PartyKind::Contractor, "KOR")));
        // Another Japanese party is not shown it by nation either.
        assert!(!q.visible_to(&party(&id("JPN-KHI-GIFU"), PartyKind::Contractor, "JPN")));
    }
}
