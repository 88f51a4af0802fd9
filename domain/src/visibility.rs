//! Who may see what. One rule for reads, lists, history and the feed alike:
//! a record is visible to the party that made it, to the provider it is
//! proposed or assigned to, to the parties and nations its releasability
//! names (an order's providers asked to quote among them), and to
//! coordinators. Everyone else must not learn it exists.

use crate::lifecycle::RepairOrderState;
use crate::party::Party;
use crate::records::Transition;
use crate::vocab::{PartyId, PartyKind, Releasability};

fn released_to(viewer: &Party, releasability: &Releasability) -> bool {
    releasability.parties.contains(&viewer.id)
        || releasability.asked_to_quote.contains(&viewer.id)
        || releasability.nations.contains(&viewer.nation)
}

/// Whether `viewer` may see a record with this owner, this provider (if any)
/// and this releasability.
pub fn may_see(viewer: &Party, owner: &PartyId, provider: Option<&PartyId>, releasability: &Releasability) -> bool {
    viewer.kind == PartyKind::Coordinator
        || &viewer.id == owner
        || provider == Some(&viewer.id)
        || released_to(viewer, releasability)
}

/// The provider a lifecycle step concerns, given who held the order before
/// and after it: the holder after the step, except that a decline concerns
/// the provider that declined. The feed shows a step, and an order's history
/// lists it, to exactly the parties [`may_see`] allows with this provider.
pub fn step_provider<'a>(
    before: Option<&'a PartyId>,
    after: Option<&'a PartyId>,
    to: RepairOrderState,
) -> Option<&'a PartyId> {
    if to == RepairOrderState::Declined { before } else { after }
}

/// The positions of the steps of an order's history `viewer` may see, in
/// order: each as the feed showed it ([`step_provider`]). A provider
/// proposed the order later does not learn of an earlier provider's
/// proposal, decline or reason. A repair exception's step is seen as the
/// exception is (owner, provider, coordinators: nothing released).
pub fn visible_history(
    viewer: &Party,
    owner: &PartyId,
    releasability: &Releasability,
    steps: &[Transition],
) -> Vec<usize> {
    let mut holder: Option<&PartyId> = None;
    let mut seen = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let after = match step.to {
            RepairOrderState::Proposed => step.provider.as_ref(),
            RepairOrderState::Declined => None,
            _ => holder,
        };
        let released = if step.exception.is_some() { &Releasability::default() } else { releasability };
        if may_see(viewer, owner, step_provider(holder, after, step.to), released) {
            seen.push(i);
        }
        holder = after;
    }
    seen
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::vocab::{MilitaryDepartment, Nation};

    fn party(id: &str, kind: PartyKind, nation: &str) -> Party {
        Party {
            id: PartyId::parse(id).unwrap(),
            kind,
            nation: Nation::parse(nation).unwrap(),
            department: (kind == PartyKind::Organic).then_some(MilitaryDepartment::AirForce),
            display_name: id.into(),
            suspended: false,
        }
    }

    #[test]
    fn a_contractor_sees_its_own_proposed_orders_only() {
        let owner = party("US-USAF-OOALC", PartyKind::Organic, "USA");
        let mhi = party("JPN-MHI-KOMAKI", PartyKind::Contractor, "JPN");
        let kai = party("KOR-KAI-SACHEON", PartyKind::Contractor, "KOR");
        let coord = party("US-INDOPACOM-J4", PartyKind::Coordinator, "USA");
        let none = Releasability::default();
        assert!(may_see(&owner, &owner.id, Some(&mhi.id), &none));
        assert!(may_see(&mhi, &owner.id, Some(&mhi.id), &none));
        assert!(!may_see(&kai, &owner.id, Some(&mhi.id), &none));
        assert!(!may_see(&mhi, &owner.id, None, &none));
        assert!(may_see(&coord, &owner.id, None, &none));
        let to_korea = Releasability { nations: vec![Nation::parse("KOR").unwrap()], ..Default::default() };
        assert!(may_see(&kai, &owner.id, None, &to_korea));
        let to_mhi = Releasability { parties: vec![mhi.id.clone()], ..Default::default() };
        assert!(may_see(&mhi, &owner.id, None, &to_mhi));
        assert!(!may_see(&kai, &owner.id, None, &to_mhi));
        // A provider asked to quote sees the order as a party it is released to does.
        let asked_mhi = Releasability { asked_to_quote: vec![mhi.id.clone()], ..Default::default() };
        assert!(may_see(&mhi, &owner.id, None, &asked_mhi));
        assert!(!may_see(&kai, &owner.id, None, &asked_mhi));
        assert!(!may_see(&party("JPN-KHI-GIFU", PartyKind::Contractor, "JPN"), &owner.id, None, &asked_mhi));
        let steps = [Transition {
            version: 1,
            from: None,
            to: RepairOrderState::Submitted,
            actor: owner.id.clone(),
            time: chrono::DateTime::UNIX_EPOCH,
            reason: None,
            provider: None,
            progress: crate::records::WorkProgress::default(),
            exception: None,
        }];
        assert_eq!(
            visible_history(&mhi, &owner.id, &asked_mhi, &steps),
            visible_history(&mhi, &owner.id, &to_mhi, &steps)
        );
    }

    #[test]
    fn a_released_party_sees_an_orders_steps_but_not_its_repair_exception_steps() {
        use crate::records::WorkProgress;
        use RepairOrderState as S;
        let owner = party("US-USAF-OOALC", PartyKind::Organic, "USA");
        let mhi = party("JPN-MHI-KOMAKI", PartyKind::Contractor, "JPN");
        let kai = party("KOR-KAI-SACHEON", PartyKind::Contractor, "KOR");
        let to_korea = Releasability { nations: vec![Nation::parse("KOR").unwrap()], ..Default::default() };
        let at = |version: i64, from: Option<S>, to: S, provider: Option<&Party>, exception: Option<&str>| Transition {
            version,
            from,
            to,
            actor: owner.id.clone(),
            time: chrono::DateTime::UNIX_EPOCH,
            reason: None,
            provider: provider.map(|p| p.id.clone()),
            progress: WorkProgress::default(),
            exception: exception.map(str::to_owned),
        };
        let steps = vec![
            at(1, None, S::Submitted, None, None),
            at(2, Some(S::Submitted), S::Proposed, Some(&mhi), None),
            at(3, Some(S::Proposed), S::Accepted, None, None),
            at(4, Some(S::Accepted), S::Accepted, None, Some("o/exceptions/1")),
            at(5, Some(S::Accepted), S::Inducted, None, None),
        ];
        assert_eq!(visible_history(&kai, &owner.id, &to_korea, &steps), vec![0, 1, 2, 4]);
        assert_eq!(visible_history(&mhi, &owner.id, &to_korea, &steps), vec![1, 2, 3, 4]);
        assert_eq!(visible_history(&owner, &owner.id, &to_korea, &steps), vec![0, 1, 2, 3, 4]);
    }
}
