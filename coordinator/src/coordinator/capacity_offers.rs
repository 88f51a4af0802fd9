//! Capacity offers: creating, updating, withdrawing, reading and listing.
//!
//! Part of the core: each write authorizes, applies the domain rule and
//! commits through the machinery in the parent module; never touches
//! protobuf, and never reads a record without the visibility rule.

use super::*;

impl Coordinator {
    /// Creates a capacity offer as the caller.
    pub async fn create_offer(
        &self,
        caller: &Caller,
        draft: CapacityOfferDraft,
        key: &RequestKey,
    ) -> Result<CapacityOffer> {
        if &draft.provider != caller.id() {
            return Err(CoreError::PermissionDenied(format!(
                "capacity_offer.provider: {} may only offer capacity as itself, not as {}",
                caller.id(),
                draft.provider
            )));
        }
        let time = now();
        let offer = CapacityOffer::active(Self::id_for(key), draft, time);
        self.commit_offer(caller, key, offer, None, "CAPACITY_OFFER_CREATED", time).await
    }

    pub(super) async fn commit_offer(
        &self,
        caller: &Caller,
        key: &RequestKey,
        offer: CapacityOffer,
        expected: Option<i64>,
        kind: &'static str,
        time: DateTime<Utc>,
    ) -> Result<CapacityOffer> {
        let write = offer_write(&offer, expected)?;
        let aud = write.audience.clone();
        let subject = format!("capacityOffers/{}", offer.id);
        let change = Change {
            records: vec![write],
            transitions: vec![],
            kind,
            subject,
            audience: aud,
            content: EventContent::CapacityOffer { offer: offer.clone() },
            time,
        };
        let replayed = match expected {
            None => self.commit_create(caller, key, change, RecordKind::CapacityOffer).await?,
            Some(_) => self.commit(caller, key, change, &offer).await?,
        };
        Ok(replayed.unwrap_or(offer))
    }

    /// One offer, if the caller may see it.
    pub async fn get_offer(&self, caller: &Caller, id: &str) -> Result<CapacityOffer> {
        self.load_visible(caller, RecordKind::CapacityOffer, id, |o: &CapacityOffer| {
            may_see(&caller.party, &o.draft.provider, None, &o.draft.releasability)
        })
        .await
    }

    /// A page of the offers the caller may see.
    pub async fn list_offers(
        &self,
        caller: &Caller,
        filter: &RecordFilter,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<CapacityOffer>> {
        self.list(RecordKind::CapacityOffer, caller, filter, page_size, page_token).await
    }

    pub(super) async fn own_offer(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        new_provider: Option<&PartyId>,
    ) -> Result<CapacityOffer> {
        let offer = self.get_offer(caller, id).await?;
        let view = OfferView { provider: &offer.draft.provider, state: offer.state, version: offer.version };
        offers::check_change(view, caller.id(), version, new_provider)
            .map_err(|e| offer_change_error(&format!("capacityOffers/{id}"), e))?;
        Ok(offer)
    }

    /// Replaces an offer's terms with a new version (history is kept in the log).
    pub async fn update_offer(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        draft: CapacityOfferDraft,
        key: &RequestKey,
    ) -> Result<CapacityOffer> {
        if let Some(offer) = self.replay(caller, key).await? {
            return Ok(offer);
        }
        let mut offer = self.own_offer(caller, id, version, Some(&draft.provider)).await?;
        let time = now();
        offer.draft = draft;
        offer.version += 1;
        offer.update_time = time;
        self.commit_offer(caller, key, offer, Some(version), "CAPACITY_OFFER_UPDATED", time).await
    }

    /// Withdraws an offer; it stays readable with its history.
    pub async fn withdraw_offer(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        key: &RequestKey,
    ) -> Result<CapacityOffer> {
        if let Some(offer) = self.replay(caller, key).await? {
            return Ok(offer);
        }
        let mut offer = self.own_offer(caller, id, version, None).await?;
        let time = now();
        offer.state = OfferState::Withdrawn;
        offer.version += 1;
        offer.update_time = time;
        self.commit_offer(caller, key, offer, Some(version), "CAPACITY_OFFER_WITHDRAWN", time).await
    }

    // ----- availability reports ------------------------------------------

    /// Every current capacity offer the caller may see.
    pub async fn visible_offers(&self, caller: &Caller) -> Result<Vec<CapacityOffer>> {
        let filter = RecordFilter { state: Some("ACTIVE".into()), ..RecordFilter::default() };
        self.all_visible(RecordKind::CapacityOffer, caller, &filter).await
    }
}
