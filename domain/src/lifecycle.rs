//! The repair-order lifecycle as a pure state machine:
//!
//! ```text
//! SUBMITTED → PROPOSED → ACCEPTED | DECLINED → INDUCTED → IN_WORK ⇄ AWAITING_PARTS
//!   → COMPLETED → SHIPPED → CLOSED;   CANCELLED from any state before INDUCTED;
//!   DECLINED returns to the pool and may be PROPOSED again.
//! ```
//!
//! Who may do what: only the originator cancels and closes; only the provider
//! the order is proposed or assigned to accepts, declines and moves the work
//! forward; only a coordinator proposes. Acknowledging receipt is not
//! accepting: nothing here ever accepts on anyone's behalf.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::field::Violations;
use crate::vocab::PartyId;

/// Where an order is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RepairOrderState {
    /// Submitted by its originator, not yet proposed.
    Submitted,
    /// Proposed to one provider.
    Proposed,
    /// Accepted by the provider.
    Accepted,
    /// Declined by the provider; back in the pool.
    Declined,
    /// Item inducted at the provider.
    Inducted,
    /// Work in progress.
    InWork,
    /// Work waits for parts.
    AwaitingParts,
    /// Work complete.
    Completed,
    /// Serviceable item shipped.
    Shipped,
    /// Received and closed by the originator.
    Closed,
    /// Cancelled before induction.
    Cancelled,
}

impl RepairOrderState {
    /// Every state.
    pub const ALL: [RepairOrderState; 11] = [
        Self::Submitted,
        Self::Proposed,
        Self::Accepted,
        Self::Declined,
        Self::Inducted,
        Self::InWork,
        Self::AwaitingParts,
        Self::Completed,
        Self::Shipped,
        Self::Closed,
        Self::Cancelled,
    ];

    /// The state's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "SUBMITTED",
            Self::Proposed => "PROPOSED",
            Self::Accepted => "ACCEPTED",
            Self::Declined => "DECLINED",
            Self::Inducted => "INDUCTED",
            Self::InWork => "IN_WORK",
            Self::AwaitingParts => "AWAITING_PARTS",
            Self::Completed => "COMPLETED",
            Self::Shipped => "SHIPPED",
            Self::Closed => "CLOSED",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// Open for allocation: not yet with a provider.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Submitted | Self::Declined)
    }

    /// No further step is possible.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Closed | Self::Cancelled)
    }

    /// Before induction: cancellation still possible.
    pub fn before_induction(self) -> bool {
        matches!(self, Self::Submitted | Self::Proposed | Self::Accepted | Self::Declined)
    }
}

impl fmt::Display for RepairOrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RepairOrderState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| format!("{s:?} is not a repair order state"))
    }
}

/// A lifecycle step someone asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Coordinator proposes the order to a provider.
    Propose(PartyId),
    /// Provider accepts.
    Accept,
    /// Provider declines.
    Decline,
    /// Provider inducts the item.
    Induct,
    /// Provider starts or resumes work.
    StartWork,
    /// Provider waits for parts.
    AwaitParts,
    /// Provider completes the work.
    Complete,
    /// Provider ships the serviceable item.
    Ship,
    /// Originator closes the order.
    Close,
    /// Originator cancels.
    Cancel,
}

impl Action {
    /// The action's name, as the CLI and errors write it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Propose(_) => "propose",
            Action::Accept => "accept",
            Action::Decline => "decline",
            Action::Induct => "induct",
            Action::StartWork => "start work",
            Action::AwaitParts => "await parts",
            Action::Complete => "complete",
            Action::Ship => "ship",
            Action::Close => "close",
            Action::Cancel => "cancel",
        }
    }

    fn role(&self) -> Role {
        match self {
            Action::Propose(_) => Role::Coordinator,
            Action::Close | Action::Cancel => Role::Originator,
            _ => Role::Provider,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Coordinator,
    Originator,
    Provider,
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// The step does not exist from the order's current state.
    #[error("cannot {action} an order that is {state}")]
    NotAllowedFrom {
        /// The step asked for.
        action: &'static str,
        /// The order's state.
        state: RepairOrderState,
    },
    /// The caller does not hold the role the step needs.
    #[error("only {role} may {action} this order")]
    WrongActor {
        /// The step asked for.
        action: &'static str,
        /// Who may.
        role: &'static str,
    },
    /// A proposal to the order's own originator.
    #[error("an order cannot be proposed to its own originator")]
    ProposedToOriginator,
}

/// The parts of an order the lifecycle looks at.
#[derive(Debug, Clone, Copy)]
pub struct OrderView<'a> {
    /// Current state.
    pub state: RepairOrderState,
    /// Originator.
    pub originator: &'a PartyId,
    /// Provider proposed or assigned, if any.
    pub provider: Option<&'a PartyId>,
}

/// The outcome of an allowed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The new state.
    pub to: RepairOrderState,
    /// The provider after the step (`None` once declined).
    pub provider: Option<PartyId>,
}

/// Decides whether `actor` (a coordinator or not) may apply `action` to the
/// order, and if so what the order becomes. Pure: changes nothing.
pub fn apply(
    order: OrderView<'_>,
    actor: &PartyId,
    actor_is_coordinator: bool,
    action: &Action,
) -> Result<Step, LifecycleError> {
    use RepairOrderState as S;
    let role_ok = match action.role() {
        Role::Coordinator => actor_is_coordinator,
        Role::Originator => actor == order.originator,
        Role::Provider => order.provider == Some(actor),
    };
    if !role_ok {
        let role = match action.role() {
            Role::Coordinator => "a coordinator",
            Role::Originator => "the originator",
            Role::Provider => "the provider the order is proposed or assigned to",
        };
        return Err(LifecycleError::WrongActor { action: action.name(), role });
    }
    let to = match (order.state, action) {
        (S::Submitted | S::Declined, Action::Propose(_)) => S::Proposed,
        (S::Proposed, Action::Accept) => S::Accepted,
        (S::Proposed, Action::Decline) => S::Declined,
        (S::Accepted, Action::Induct) => S::Inducted,
        (S::Inducted | S::AwaitingParts, Action::StartWork) => S::InWork,
        (S::InWork, Action::AwaitParts) => S::AwaitingParts,
        (S::InWork, Action::Complete) => S::Completed,
        (S::Completed, Action::Ship) => S::Shipped,
        (S::Shipped, Action::Close) => S::Closed,
        (s, Action::Cancel) if s.before_induction() => S::Cancelled,
        (state, action) => {
            return Err(LifecycleError::NotAllowedFrom { action: action.name(), state });
        }
    };
    let provider = match action {
        Action::Propose(p) => {
            if p == order.originator {
                return Err(LifecycleError::ProposedToOriginator);
            }
            Some(p.clone())
        }
        Action::Decline => None,
        _ => order.provider.cloned(),
    };
    Ok(Step { to, provider })
}

/// What is wrong with splitting `quantity` items into `quantities`.
pub fn split_violations(quantity: u32, quantities: &[u32]) -> Violations {
    let mut v = Violations::new();
    if quantities.len() < 2 {
        v.add("quantities", "give at least two parts");
    }
    if quantities.len() > crate::limits::MAX_SPLIT_PARTS {
        let most = crate::limits::MAX_SPLIT_PARTS;
        v.add("quantities", format!("at most {most} parts, not {}", quantities.len()));
        return v;
    }
    if quantities.contains(&0) {
        v.add("quantities", "every part needs at least 1 item");
    }
    let total: u64 = quantities.iter().map(|&q| u64::from(q)).sum();
    if total != u64::from(quantity) {
        v.add("quantities", format!("parts sum to {total}, but the order is for {quantity}"));
    }
    v
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn id(s: &str) -> PartyId {
        PartyId::parse(s).unwrap()
    }

    struct World {
        owner: PartyId,
        provider: PartyId,
        other: PartyId,
        coord: PartyId,
    }

    fn world() -> World {
        World {
            owner: id("US-USAF-OOALC"),
            provider: id("JPN-MHI-KOMAKI"),
            other: id("KOR-KAI-SACHEON"),
            coord: id("US-INDOPACOM-J4"),
        }
    }

    /// (state, provider) after applying `action` as `actor`.
    fn step(
        w: &World,
        state: RepairOrderState,
        provider: Option<&PartyId>,
        actor: &PartyId,
        action: Action,
    ) -> Result<Step, LifecycleError> {
        apply(OrderView { state, originator: &w.owner, provider }, actor, actor == &w.coord, &action)
    }

    #[test]
    fn the_happy_path_runs_from_submission_to_close() {
        use RepairOrderState as S;
        let w = world();
        let p = Some(&w.provider);
        let s = step(&w, S::Submitted, None, &w.coord, Action::Propose(w.provider.clone())).unwrap();
        assert_eq!(s, Step { to: S::Proposed, provider: Some(w.provider.clone()) });
        assert_eq!(step(&w, S::Proposed, p, &w.provider, Action::Accept).unwrap().to, S::Accepted);
        assert_eq!(step(&w, S::Accepted, p, &w.provider, Action::Induct).unwrap().to, S::Inducted);
        assert_eq!(step(&w, S::Inducted, p, &w.provider, Action::StartWork).unwrap().to, S::InWork);
        assert_eq!(step(&w, S::InWork, p, &w.provider, Action::AwaitParts).unwrap().to, S::AwaitingParts);
        assert_eq!(step(&w, S::AwaitingParts, p, &w.provider, Action::StartWork).unwrap().to, S::InWork);
        assert_eq!(step(&w, S::InWork, p, &w.provider, Action::Complete).unwrap().to, S::Completed);
        assert_eq!(step(&w, S::Completed, p, &w.provider, Action::Ship).unwrap().to, S::Shipped);
        assert_eq!(step(&w, S::Shipped, p, &w.owner, Action::Close).unwrap().to, S::Closed);
    }

    #[test]
    fn a_declined_order_returns_to_the_pool_and_can_be_proposed_again() {
        use RepairOrderState as S;
        let w = world();
        let s = step(&w, S::Proposed, Some(&w.provider), &w.provider, Action::Decline).unwrap();
        assert_eq!(s, Step { to: S::Declined, provider: None });
        let s = step(&w, S::Declined, None, &w.coord, Action::Propose(w.other.clone())).unwrap();
        assert_eq!(s.provider, Some(w.other.clone()));
    }

    #[test]
    fn provider_cannot_accept_an_order_proposed_to_someone_else() {
        let w = world();
        let err = step(&w, RepairOrderState::Proposed, Some(&w.provider), &w.other, Action::Accept).unwrap_err();
        assert!(matches!(err, LifecycleError::WrongActor { .. }));
    }

    #[test]
    fn only_the_originator_cancels_and_only_before_induction() {
        use RepairOrderState as S;
        let w = world();
        assert!(step(&w, S::Proposed, Some(&w.provider), &w.provider, Action::Cancel).is_err());
        assert!(step(&w, S::Submitted, None, &w.coord, Action::Cancel).is_err());
        for s in [S::Submitted, S::Proposed, S::Accepted, S::Declined] {
            assert_eq!(step(&w, s, Some(&w.provider), &w.owner, Action::Cancel).unwrap().to, S::Cancelled);
        }
        for s in [S::Inducted, S::InWork, S::AwaitingParts, S::Completed, S::Shipped, S::Closed, S::Cancelled] {
            assert!(matches!(
                step(&w, s, Some(&w.provider), &w.owner, Action::Cancel),
                Err(LifecycleError::NotAllowedFrom { .. })
            ));
        }
    }

    #[test]
    fn only_a_coordinator_proposes_and_never_to_the_originator() {
        let w = world();
        assert!(step(&w, RepairOrderState::Submitted, None, &w.provider, Action::Propose(w.provider.clone())).is_err());
        assert_eq!(
            step(&w, RepairOrderState::Submitted, None, &w.coord, Action::Propose(w.owner.clone())),
            Err(LifecycleError::ProposedToOriginator)
        );
    }

    fn allowed_edges() -> Vec<(RepairOrderState, RepairOrderState)> {
        use RepairOrderState as S;
        let mut e = vec![
            (S::Submitted, S::Proposed),
            (S::Declined, S::Proposed),
            (S::Proposed, S::Accepted),
            (S::Proposed, S::Declined),
            (S::Accepted, S::Inducted),
            (S::Inducted, S::InWork),
            (S::AwaitingParts, S::InWork),
            (S::InWork, S::AwaitingParts),
            (S::InWork, S::Completed),
            (S::Completed, S::Shipped),
            (S::Shipped, S::Closed),
        ];
        for s in [S::Submitted, S::Proposed, S::Accepted, S::Declined] {
            e.push((s, S::Cancelled));
        }
        e
    }

    fn any_action(w: &World) -> impl Strategy<Value = (usize, Action)> {
        let provider = w.provider.clone();
        let other = w.other.clone();
        (
            0usize..4,
            prop_oneof![
                Just(Action::Propose(provider)),
                Just(Action::Propose(other)),
                Just(Action::Accept),
                Just(Action::Decline),
                Just(Action::Induct),
                Just(Action::StartWork),
                Just(Action::AwaitParts),
                Just(Action::Complete),
                Just(Action::Ship),
                Just(Action::Close),
                Just(Action::Cancel),
            ],
        )
    }

    proptest! {
        #[test]
        fn random_commands_never_reach_an_invalid_state(cmds in proptest::collection::vec(any_action(&world()), 0..60)) {
            let w = world();
            let actors = [&w.owner, &w.provider, &w.other, &w.coord];
            let edges = allowed_edges();
            let mut state = RepairOrderState::Submitted;
            let mut provider: Option<PartyId> = None;
            for (who, action) in cmds {
                let actor = actors[who];
                if let Ok(s) = step(&w, state, provider.as_ref(), actor, action.clone()) {
                    prop_assert!(edges.contains(&(state, s.to)), "{state} -> {}", s.to);
                    use RepairOrderState as S;
                    match s.to {
                        S::Submitted | S::Declined => prop_assert!(s.provider.is_none()),
                        S::Cancelled => {}
                        _ => prop_assert!(s.provider.is_some()),
                    }
                    prop_assert_ne!(s.provider.as_ref(), Some(&w.owner));
                    state = s.to;
                    provider = s.provider;
                }
            }
        }
    }
}
