//! Repair exceptions (ATA Spec 2000 Ch. 7): while an order is with its
//! provider (ACCEPTED, INDUCTED, IN_WORK, AWAITING_PARTS), the provider may
//! raise an exception — the cost will exceed the estimate or quote (with the
//! new estimate), the turnaround slips (with the new date), the item is
//! beyond economical repair, no fault was found, it is to be scrapped, or
//! parts cannot be had. The order's owner approves or rejects it once (a
//! rejection says why). Until it is answered, the order cannot be completed
//! (nor, therefore, shipped); once a cost-over exception has been raised,
//! the order completes at no more than its estimated cost, which only an
//! approval raises to the new estimate ([`check_step`], the one rule).
//!
//! One record per exception, `{order}/exceptions/{n}` (n counts from 1 in
//! the order they are raised), seen by exactly the order's owner, its
//! provider and coordinators ([`RepairException::visible_to`] is
//! `visibility::may_see` with nothing released). Pure: no I/O, no clock
//! read; never moves the order through its lifecycle itself.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::lifecycle::{Action, OrderView, RepairOrderState};
use crate::party::Party;
use crate::records::RepairOrder;
use crate::vocab::{Money, PartyId, Releasability};

/// Most characters of an exception's text or of an answer's reason.
pub const MAX_EXCEPTION_TEXT: usize = crate::limits::MAX_LONG_TEXT;
/// Most exceptions one order may have raised on it (each is a record, a
/// step in the order's history and an event: a provider cannot grow them
/// without bound).
pub const MAX_EXCEPTIONS_PER_ORDER: usize = crate::limits::MAX_LIST;

/// What went differently, with the figure the provider now expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExceptionCause {
    /// The work will cost more than the estimate or quote.
    CostOverEstimate {
        /// What it will cost now (never negative: `Money::parse`).
        new_estimate: Money,
    },
    /// The work will finish later than planned.
    TurnaroundSlip {
        /// When it is now expected to be complete.
        new_completion_date: NaiveDate,
    },
    /// Repair would cost more than the item is worth.
    BeyondEconomicalRepair,
    /// Inspection found nothing wrong.
    NoFaultFound,
    /// The item is to be scrapped.
    Scrap,
    /// The parts the repair needs cannot be had.
    PartsUnobtainable,
}

impl ExceptionCause {
    /// The cause's name as stored and shown.
    pub fn as_str(&self) -> &'static str {
        match self {
            ExceptionCause::CostOverEstimate { .. } => "COST_OVER_ESTIMATE",
            ExceptionCause::TurnaroundSlip { .. } => "TURNAROUND_SLIP",
            ExceptionCause::BeyondEconomicalRepair => "BEYOND_ECONOMICAL_REPAIR",
            ExceptionCause::NoFaultFound => "NO_FAULT_FOUND",
            ExceptionCause::Scrap => "SCRAP",
            ExceptionCause::PartsUnobtainable => "PARTS_UNOBTAINABLE",
        }
    }
}

impl fmt::Display for ExceptionCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExceptionCause::CostOverEstimate { new_estimate: m } => {
                write!(f, "COST_OVER_ESTIMATE (new estimate {} {} minor units)", m.currency, m.amount_minor)
            }
            ExceptionCause::TurnaroundSlip { new_completion_date: d } => {
                write!(f, "TURNAROUND_SLIP (new completion date {d})")
            }
            other => f.write_str(other.as_str()),
        }
    }
}

/// Where an exception is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExceptionState {
    /// Raised; the owner has not answered.
    Open,
    /// Approved by the owner. Final.
    Approved,
    /// Rejected by the owner, with a reason. Final.
    Rejected,
}

impl ExceptionState {
    /// The state's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionState::Open => "OPEN",
            ExceptionState::Approved => "APPROVED",
            ExceptionState::Rejected => "REJECTED",
        }
    }
}

/// The owner's answer. A rejection cannot be built without its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExceptionAnswer {
    /// Approved, with an optional note.
    Approve(Option<String>),
    /// Rejected, and why.
    Reject(String),
}

/// An exception as the coordinator holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairException {
    /// `{order_id}/exceptions/{n}`.
    pub id: String,
    /// The order it is raised on.
    pub order_id: String,
    /// The order's originator, who answers.
    pub owner: PartyId,
    /// The provider that raised it.
    pub provider: PartyId,
    /// What went differently.
    pub cause: ExceptionCause,
    /// The provider's account.
    pub text: String,
    /// Open, approved or rejected.
    pub state: ExceptionState,
    /// The order's state when it was raised.
    pub raised_in: RepairOrderState,
    /// The owner's note (approval) or reason (rejection).
    pub answer_reason: Option<String>,
    /// Who answered.
    pub answered_by: Option<PartyId>,
    /// Version, +1 on every change.
    pub version: i64,
    /// Raised.
    pub create_time: DateTime<Utc>,
    /// Last changed.
    pub update_time: DateTime<Utc>,
}

/// The id of the `n`-th exception raised on `order_id` (from 1).
pub fn exception_id(order_id: &str, n: usize) -> String {
    format!("{order_id}/exceptions/{n}")
}

/// The id prefix shared by every exception on `order_id` (for listing them).
pub fn exceptions_of(order_id: &str) -> String {
    format!("{order_id}/exceptions/")
}

impl RepairException {
    /// Whether `viewer` may see this exception: the order's owner, its
    /// provider and coordinators — the one visibility rule with nothing
    /// released beyond them (an order's releasability does not extend to
    /// what its provider and owner say about the work).
    pub fn visible_to(&self, viewer: &Party) -> bool {
        crate::visibility::may_see(viewer, &self.owner, Some(&self.provider), &Releasability::default())
    }
}

/// Why an exception step is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExceptionError {
    /// Only the provider the order is with raises exceptions on it.
    NotTheProvider,
    /// Only the order's originator answers.
    NotTheOwner,
    /// The order is not with a provider (not yet accepted, or done).
    OrderNotWithProvider(RepairOrderState),
    /// The order has as many exceptions as it may.
    TooMany(usize),
    /// The exception was answered already.
    AlreadyAnswered(ExceptionState),
    /// A step refused while an exception is open.
    Blocked {
        /// The open exception.
        id: String,
        /// Its cause.
        cause: &'static str,
        /// The step refused.
        action: &'static str,
    },
    /// Completing above the estimate after a cost-over exception that was not approved.
    CostNotApproved {
        /// The actual cost given with the step.
        actual: Money,
        /// The order's estimated cost (approvals raise it), if any.
        approved: Option<Money>,
    },
}

impl fmt::Display for ExceptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExceptionError::NotTheProvider => {
                f.write_str("only the provider the order is with may raise an exception on it")
            }
            ExceptionError::NotTheOwner => f.write_str("only the order's originator may answer an exception on it"),
            ExceptionError::OrderNotWithProvider(s) => write!(
                f,
                "the order is {s}; exceptions are raised and answered only while it is ACCEPTED, INDUCTED, IN_WORK \
                 or AWAITING_PARTS"
            ),
            ExceptionError::TooMany(n) => {
                write!(f, "the order already has {n} exceptions, the most one order may have")
            }
            ExceptionError::AlreadyAnswered(s) => write!(f, "the exception is already {}", s.as_str()),
            ExceptionError::Blocked { id, cause, action } => write!(
                f,
                "cannot {action} while exception repairOrders/{id} ({cause}) is open: the order's originator must \
                 approve or reject it first"
            ),
            ExceptionError::CostNotApproved { actual, approved } => {
                let approved = approved
                    .as_ref()
                    .map_or_else(|| "none".to_owned(), |m| format!("{} {} minor units", m.currency, m.amount_minor));
                write!(
                    f,
                    "cannot complete at {} {} minor units: a cost-over exception was raised on this order and the \
                     approved estimate is {approved}; raise a new exception for the owner to approve",
                    actual.currency, actual.amount_minor
                )
            }
        }
    }
}

fn with_provider(state: RepairOrderState) -> bool {
    use RepairOrderState as S;
    matches!(state, S::Accepted | S::Inducted | S::InWork | S::AwaitingParts)
}

/// Whether `caller` may raise an exception on `order`, which has `raised`
/// exceptions already: the provider the order is with, while it is with
/// it, up to [`MAX_EXCEPTIONS_PER_ORDER`].
pub fn check_raise(order: OrderView<'_>, caller: &PartyId, raised: usize) -> Result<(), ExceptionError> {
    if order.provider != Some(caller) {
        return Err(ExceptionError::NotTheProvider);
    }
    if !with_provider(order.state) {
        return Err(ExceptionError::OrderNotWithProvider(order.state));
    }
    if raised >= MAX_EXCEPTIONS_PER_ORDER {
        return Err(ExceptionError::TooMany(raised));
    }
    Ok(())
}

/// A new exception on `order` (id `order_id`), the `n`-th raised on it
/// (`n` from 1); `None` when the order is with no provider.
pub fn raise(
    order_id: &str,
    order: OrderView<'_>,
    n: usize,
    cause: ExceptionCause,
    text: String,
    time: DateTime<Utc>,
) -> Option<RepairException> {
    Some(RepairException {
        id: exception_id(order_id, n),
        order_id: order_id.to_owned(),
        owner: order.originator.clone(),
        provider: order.provider?.clone(),
        cause,
        text,
        state: ExceptionState::Open,
        raised_in: order.state,
        answer_reason: None,
        answered_by: None,
        version: 1,
        create_time: time,
        update_time: time,
    })
}

/// Whether `caller` may answer `exception` on `order`: the order's
/// originator, once, while the order is still with its provider.
pub fn check_answer(exception: &RepairException, order: OrderView<'_>, caller: &PartyId) -> Result<(), ExceptionError> {
    if caller != order.originator {
        return Err(ExceptionError::NotTheOwner);
    }
    if exception.state != ExceptionState::Open {
        return Err(ExceptionError::AlreadyAnswered(exception.state));
    }
    if !with_provider(order.state) {
        return Err(ExceptionError::OrderNotWithProvider(order.state));
    }
    Ok(())
}

/// What an approval changes on the order: a cost-over raises its
/// estimated cost to the new estimate, a slip moves its expected completion
/// date. Nothing else of the order changes (its state never).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revision {
    /// The order's estimated cost becomes this.
    EstimatedCost(Money),
    /// The order's expected completion date becomes this.
    EstimatedCompletion(NaiveDate),
}

impl Revision {
    /// Applies the revision to the order.
    pub fn apply(self, order: &mut RepairOrder) {
        match self {
            Revision::EstimatedCost(m) => order.draft.funding.estimated_cost = Some(m),
            Revision::EstimatedCompletion(d) => order.progress.estimated_completion_date = Some(d),
        }
    }
}

/// What the exception becomes when `answer` is given, and what the answer
/// changes on the order (only an approval of a cost-over or a slip does).
pub fn answer(
    mut exception: RepairException,
    answer: ExceptionAnswer,
    by: &PartyId,
    time: DateTime<Utc>,
) -> (RepairException, Option<Revision>) {
    let revision = match answer {
        ExceptionAnswer::Approve(note) => {
            exception.state = ExceptionState::Approved;
            exception.answer_reason = note;
            match &exception.cause {
                ExceptionCause::CostOverEstimate { new_estimate } => {
                    Some(Revision::EstimatedCost(new_estimate.clone()))
                }
                ExceptionCause::TurnaroundSlip { new_completion_date } => {
                    Some(Revision::EstimatedCompletion(*new_completion_date))
                }
                _ => None,
            }
        }
        ExceptionAnswer::Reject(reason) => {
            exception.state = ExceptionState::Rejected;
            exception.answer_reason = Some(reason);
            None
        }
    };
    exception.answered_by = Some(by.clone());
    exception.version += 1;
    exception.update_time = time;
    (exception, revision)
}

/// Whether an exception can refuse `action` at all (only then need the
/// order's exceptions be read).
pub fn may_block(action: &Action) -> bool {
    matches!(action, Action::Complete | Action::Ship)
}

/// Whether the order's exceptions allow `action` (with the actual cost
/// given with it, if any): the one rule every face's lifecycle step obeys.
/// An open exception refuses COMPLETE and SHIP; after any cost-over
/// exception, COMPLETE at more than the order's estimated cost (raised only
/// by an approval) is refused.
pub fn check_step(
    exceptions: &[RepairException],
    order_id: &str,
    estimated_cost: Option<&Money>,
    action: &Action,
    actual_cost: Option<&Money>,
) -> Result<(), ExceptionError> {
    if !may_block(action) {
        return Ok(());
    }
    let mine = exceptions.iter().filter(|e| e.order_id == order_id);
    if let Some(open) = mine.clone().find(|e| e.state == ExceptionState::Open) {
        return Err(ExceptionError::Blocked { id: open.id.clone(), cause: open.cause.as_str(), action: action.name() });
    }
    let cost_over = mine.clone().any(|e| matches!(e.cause, ExceptionCause::CostOverEstimate { .. }));
    if let (Action::Complete, true, Some(actual)) = (action, cost_over, actual_cost) {
        let approved = estimated_cost;
        let within = approved.is_some_and(|a| a.currency == actual.currency && actual.amount_minor <= a.amount_minor);
        if !within {
            return Err(ExceptionError::CostNotApproved { actual: actual.clone(), approved: approved.cloned() });
        }
    }
    Ok(())
}

/// The reason an order's history gives for an exception step.
pub fn history_reason(exception: &RepairException) -> String {
    let name = format!("repairOrders/{}", exception.id);
    match (&exception.state, &exception.answer_reason) {
        (ExceptionState::Open, _) => format!("exception {name} raised: {}", exception.cause),
        (ExceptionState::Approved, None) => format!("exception {name} approved"),
        (ExceptionState::Approved, Some(note)) => format!("exception {name} approved: {note}"),
        (ExceptionState::Rejected, reason) => {
            format!("exception {name} rejected: {}", reason.as_deref().unwrap_or_default())
        }
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

    fn usd(cents: i64) -> Money {
        Money::parse("USD", cents).unwrap()
    }

    struct World {
        owner: PartyId,
        mhi: PartyId,
        kai: PartyId,
    }

    fn world() -> World {
        World { owner: id("US-USAF-OOALC"), mhi: id("JPN-MHI-KOMAKI"), kai: id("KOR-KAI-SACHEON") }
    }

    fn view(w: &World, state: S) -> OrderView<'_> {
        OrderView { state, originator: &w.owner, provider: Some(&w.mhi) }
    }

    const ORDER: &str = "US-USAF-OOALC.o1";

    fn raised(w: &World, cause: ExceptionCause) -> RepairException {
        raise(ORDER, view(w, S::InWork), 1, cause, "found at teardown".into(), Utc::now()).unwrap()
    }

    #[test]
    fn only_the_provider_the_order_is_with_raises_and_only_while_it_has_it() {
        let w = world();
        for s in [S::Accepted, S::Inducted, S::InWork, S::AwaitingParts] {
            assert_eq!(check_raise(view(&w, s), &w.mhi, 0), Ok(()));
        }
        for s in [S::Submitted, S::Proposed, S::Declined, S::Completed, S::Shipped, S::Closed, S::Cancelled] {
            assert_eq!(check_raise(view(&w, s), &w.mhi, 0), Err(ExceptionError::OrderNotWithProvider(s)));
        }
        assert_eq!(check_raise(view(&w, S::InWork), &w.kai, 0), Err(ExceptionError::NotTheProvider));
        assert_eq!(check_raise(view(&w, S::InWork), &w.owner, 0), Err(ExceptionError::NotTheProvider));
        let declined = OrderView { state: S::Declined, originator: &w.owner, provider: None };
        assert_eq!(check_raise(declined, &w.mhi, 0), Err(ExceptionError::NotTheProvider));
        let most = MAX_EXCEPTIONS_PER_ORDER;
        assert_eq!(check_raise(view(&w, S::InWork), &w.mhi, most - 1), Ok(()));
        assert_eq!(check_raise(view(&w, S::InWork), &w.mhi, most), Err(ExceptionError::TooMany(most)));
    }

    #[test]
    fn the_owner_answers_once_and_an_approved_cost_over_raises_the_estimate() {
        let w = world();
        let e = raised(&w, ExceptionCause::CostOverEstimate { new_estimate: usd(150_000) });
        assert_eq!(e.id, "US-USAF-OOALC.o1/exceptions/1");
        assert_eq!((e.state, e.raised_in, &e.provider), (ExceptionState::Open, S::InWork, &w.mhi));
        assert_eq!(check_answer(&e, view(&w, S::InWork), &w.mhi), Err(ExceptionError::NotTheOwner));
        assert_eq!(check_answer(&e, view(&w, S::InWork), &w.kai), Err(ExceptionError::NotTheOwner));
        assert_eq!(
            check_answer(&e, view(&w, S::Cancelled), &w.owner),
            Err(ExceptionError::OrderNotWithProvider(S::Cancelled))
        );
        assert_eq!(check_answer(&e, view(&w, S::InWork), &w.owner), Ok(()));
        let (done, revision) = answer(e, ExceptionAnswer::Approve(None), &w.owner, Utc::now());
        assert_eq!((done.state, done.version), (ExceptionState::Approved, 2));
        assert_eq!(revision, Some(Revision::EstimatedCost(usd(150_000))));
        assert_eq!(
            check_answer(&done, view(&w, S::InWork), &w.owner),
            Err(ExceptionError::AlreadyAnswered(ExceptionState::Approved))
        );
        let slip = raised(&w, ExceptionCause::TurnaroundSlip { new_completion_date: "2027-06-01".parse().unwrap() });
        let (_, revision) = answer(slip, ExceptionAnswer::Approve(Some("ok".into())), &w.owner, Utc::now());
        assert_eq!(revision, Some(Revision::EstimatedCompletion("2027-06-01".parse().unwrap())));
    }

    #[test]
    fn a_rejection_changes_nothing_on_the_order_and_says_why() {
        let w = world();
        let e = raised(&w, ExceptionCause::TurnaroundSlip { new_completion_date: "2027-06-01".parse().unwrap() });
        let (done, revision) = answer(e, ExceptionAnswer::Reject("hold the date".into()), &w.owner, Utc::now());
        assert_eq!(done.state, ExceptionState::Rejected);
        assert_eq!(done.answer_reason.as_deref(), Some("hold the date"));
        assert_eq!(done.answered_by.as_ref(), Some(&w.owner));
        assert_eq!(revision, None);
        assert!(history_reason(&done).contains("rejected: hold the date"));
    }

    #[test]
    fn an_open_exception_blocks_completing_and_shipping_only() {
        let w = world();
        let e = raised(&w, ExceptionCause::NoFaultFound);
        let open = vec![e.clone()];
        let est = usd(100_000);
        let err = check_step(&open, ORDER, Some(&est), &Action::Complete, None).unwrap_err();
        assert!(matches!(err, ExceptionError::Blocked { cause: "NO_FAULT_FOUND", action: "complete", .. }));
        assert!(err.to_string().contains("repairOrders/US-USAF-OOALC.o1/exceptions/1"), "{err}");
        assert!(check_step(&open, ORDER, Some(&est), &Action::Ship, None).is_err());
        for free in [Action::AwaitParts, Action::StartWork, Action::Cancel, Action::Close] {
            assert_eq!(check_step(&open, ORDER, Some(&est), &free, None), Ok(()));
        }
        // Another order's exception blocks nothing here.
        let mut elsewhere = e;
        elsewhere.order_id = "US-USAF-OOALC.o2".into();
        assert_eq!(check_step(&[elsewhere], ORDER, Some(&est), &Action::Complete, None), Ok(()));
    }

    #[test]
    fn after_a_cost_over_the_order_completes_at_the_higher_cost_only_once_approved() {
        let w = world();
        let e = raised(&w, ExceptionCause::CostOverEstimate { new_estimate: usd(150_000) });
        let old = usd(100_000);
        let high = usd(150_000);
        let (rejected, _) = answer(e.clone(), ExceptionAnswer::Reject("no".into()), &w.owner, Utc::now());
        let rejected = [rejected];
        assert!(matches!(
            check_step(&rejected, ORDER, Some(&old), &Action::Complete, Some(&high)),
            Err(ExceptionError::CostNotApproved { .. })
        ));
        assert_eq!(check_step(&rejected, ORDER, Some(&old), &Action::Complete, Some(&old)), Ok(()));
        let (approved, revision) = answer(e, ExceptionAnswer::Approve(None), &w.owner, Utc::now());
        let Some(Revision::EstimatedCost(new)) = revision else { panic!("no new estimate") };
        let approved = [approved];
        assert_eq!(check_step(&approved, ORDER, Some(&new), &Action::Complete, Some(&high)), Ok(()));
        assert!(check_step(&approved, ORDER, Some(&new), &Action::Complete, Some(&usd(150_001))).is_err());
        let euros = Money::parse("EUR", 1).unwrap();
        assert!(check_step(&approved, ORDER, Some(&new), &Action::Complete, Some(&euros)).is_err());
        assert!(check_step(&approved, ORDER, None, &Action::Complete, Some(&old)).is_err());
        // Without a cost-over exception, the cost given is not this rule's business.
        assert_eq!(check_step(&[], ORDER, None, &Action::Complete, Some(&usd(9_999_999))), Ok(()));
    }

    #[test]
    fn an_exception_is_seen_by_the_owner_the_provider_and_coordinators_only() {
        let w = world();
        let party = |id: &PartyId, kind, nation: &str| Party {
            id: id.clone(),
            kind,
            nation: Nation::parse(nation).unwrap(),
            department: None,
            display_name: id.to_string(),
            suspended: false,
        };
        let e = raised(&w, ExceptionCause::Scrap);
        assert!(e.visible_to(&party(&w.owner, PartyKind::Organic, "USA")));
        assert!(e.visible_to(&party(&w.mhi, PartyKind::Contractor, "JPN")));
        assert!(e.visible_to(&party(&id("US-INDOPACOM-J4"), PartyKind::Coordinator, "USA")));
        assert!(!e.visible_to(&party(&w.kai, PartyKind::Contractor, "KOR")));
    }
}
