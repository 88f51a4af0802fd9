//! Who may change a capacity offer, and when: its provider, while it is
//! ACTIVE, from the version it last saw, never handing it to another
//! provider. The coordinator and every party node apply this one rule
//! (a node before it queues a write, the coordinator when it commits), so a
//! node never answers OK to a change the coordinator would refuse.
//! Pure: no I/O.

use std::fmt;

use crate::records::OfferState;
use crate::vocab::PartyId;

/// Why an offer may not change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferChangeError {
    /// Only the offer's provider changes it.
    NotTheProvider {
        /// The offer's provider.
        provider: PartyId,
    },
    /// Withdrawn and expired offers are final.
    NotActive(OfferState),
    /// The caller saw another version.
    Stale {
        /// The version the offer is at.
        current: i64,
        /// The version the caller gave.
        given: i64,
    },
    /// An update names another provider.
    ProviderChanged,
}

impl OfferState {
    /// The state's name as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            OfferState::Active => "ACTIVE",
            OfferState::Withdrawn => "WITHDRAWN",
            OfferState::Expired => "EXPIRED",
        }
    }
}

impl fmt::Display for OfferChangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OfferChangeError::NotTheProvider { provider } => write!(f, "only {provider} may change this offer"),
            OfferChangeError::NotActive(state) => {
                write!(f, "the offer is {}; only an ACTIVE offer can change", state.as_str())
            }
            OfferChangeError::Stale { current, given } => {
                write!(f, "the offer is at version {current}, not {given}: read it again and retry")
            }
            OfferChangeError::ProviderChanged => write!(f, "the provider of an offer cannot change"),
        }
    }
}

/// The offer as a change finds it.
#[derive(Debug, Clone, Copy)]
pub struct OfferView<'a> {
    /// Its provider.
    pub provider: &'a PartyId,
    /// Its state.
    pub state: OfferState,
    /// Its version.
    pub version: i64,
}

/// Whether `caller`, who last saw `version`, may change `offer`; for an
/// update, `new_provider` is the provider its new terms name.
pub fn check_change(
    offer: OfferView<'_>,
    caller: &PartyId,
    version: i64,
    new_provider: Option<&PartyId>,
) -> Result<(), OfferChangeError> {
    if offer.provider != caller {
        return Err(OfferChangeError::NotTheProvider { provider: offer.provider.clone() });
    }
    if offer.state != OfferState::Active {
        return Err(OfferChangeError::NotActive(offer.state));
    }
    if offer.version != version {
        return Err(OfferChangeError::Stale { current: offer.version, given: version });
    }
    if new_provider.is_some_and(|p| p != offer.provider) {
        return Err(OfferChangeError::ProviderChanged);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_the_provider_changes_an_active_offer_from_the_version_it_saw() {
        let mhi = PartyId::parse("JPN-MHI-KOMAKI").unwrap();
        let kai = PartyId::parse("KOR-KAI-SACHEON").unwrap();
        let offer = OfferView { provider: &mhi, state: OfferState::Active, version: 3 };
        assert_eq!(check_change(offer, &mhi, 3, Some(&mhi)), Ok(()));
        assert_eq!(
            check_change(offer, &kai, 3, Some(&kai)),
            Err(OfferChangeError::NotTheProvider { provider: mhi.clone() })
        );
        assert_eq!(check_change(offer, &mhi, 2, None), Err(OfferChangeError::Stale { current: 3, given: 2 }));
        assert_eq!(check_change(offer, &mhi, 3, Some(&kai)), Err(OfferChangeError::ProviderChanged));
        let withdrawn = OfferView { state: OfferState::Withdrawn, ..offer };
        assert_eq!(check_change(withdrawn, &mhi, 3, None), Err(OfferChangeError::NotActive(OfferState::Withdrawn)));
    }
}
