//! Who may see what. One rule for reads, lists, history and the feed alike:
//! a record is visible to the party that made it, to the provider it is
//! proposed or assigned to, to the parties and nations its releasability
//! names, and to coordinators. Everyone else must not learn it exists.

use crate::lifecycle::RepairOrderState;
use crate::party::Party;
use crate::records::Transition;
use crate::vocab::{PartyId, PartyKind, Releasability};

fn released_to(viewer: &Party, releasability: &Releasability) -> bool {
    releasability.parties.contains(&viewer.id) || releasability.nations.contains(&viewer.nation)
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
/// proposal, decline or reason.
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
        if may_see(viewer, owner, step_provider(holder, after, step.to), releasability) {
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
        let to_korea = Releasability { nations: vec![Nation::parse("KOR").unwrap()], parties: vec![] };
        assert!(may_see(&kai, &owner.id, None, &to_korea));
        let to_mhi = Releasability { nations: vec![], parties: vec![mhi.id.clone()] };
        assert!(may_see(&mhi, &owner.id, None, &to_mhi));
        assert!(!may_see(&kai, &owner.id, None, &to_mhi));
    }
}
