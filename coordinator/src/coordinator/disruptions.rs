//! Disruptions: a provider's notice that one of its sites lost capacity,
//! its updates and resolution; the orders it strands at that site; and the
//! move of a stranded order to another provider when a coordinator commits
//! a re-plan.
//!
//! Part of the core: each write authorizes, applies
//! `cosx_domain::disruptions` and commits through the machinery in the
//! parent module; never touches protobuf, never computes capacity (the
//! views and allocation read the disruptions and call the domain's
//! `remaining_share`/`reduced_offer`), and never shows a disruption
//! without its visibility rule (coordinators, its provider, the owners of
//! the orders it affected when it was last committed — the record's and
//! the event's audience).

use cosx_domain::disruptions::{self as rules, Disruption, DisruptionDraft, DisruptionState, reopened};
use cosx_domain::records::Capability;

use super::*;

/// Most stranded orders one disruption lists or re-plans.
pub const MAX_AFFECTED_ORDERS: usize = 10_000;

fn disruption_write(d: &Disruption, expected_version: Option<i64>) -> Result<RecordWrite> {
    Ok(RecordWrite {
        kind: RecordKind::Disruption,
        id: d.id.clone(),
        expected_version,
        version: d.version,
        audience: disruption_audience(d),
        state: Some(d.state.as_str().to_owned()),
        tms: None,
        region: None,
        natural_key: None,
        supersedes: None,
        body: to_json(d)?,
    })
}

/// Its provider, coordinators and the owners of the orders it affected:
/// the same parties as `Disruption::visible_to`.
fn disruption_audience(d: &Disruption) -> Audience {
    Audience {
        owner: d.draft.provider.to_string(),
        provider: None,
        parties: ids(&d.affected_parties),
        nations: vec![],
        everyone: false,
    }
}

impl Coordinator {
    /// The site names of every offer `provider` holds (any state).
    async fn provider_sites(&self, provider: &PartyId) -> Result<Vec<String>> {
        let filter = RecordFilter { owner: Some(provider.to_string()), ..RecordFilter::default() };
        let offers: Vec<CapacityOffer> = self.all_records(RecordKind::CapacityOffer, &system_viewer(), &filter).await?;
        let mut sites: Vec<String> = offers.into_iter().map(|o| o.draft.site.name).collect();
        sites.sort();
        sites.dedup();
        Ok(sites)
    }

    /// The capabilities `d`'s provider offers at its site (every offer, any state).
    async fn site_capabilities(&self, d: &Disruption) -> Result<Vec<Capability>> {
        let filter = RecordFilter { owner: Some(d.draft.provider.to_string()), ..RecordFilter::default() };
        let offers: Vec<CapacityOffer> = self.all_records(RecordKind::CapacityOffer, &system_viewer(), &filter).await?;
        Ok(offers
            .into_iter()
            .filter(|o| o.draft.site.name == d.draft.site)
            .flat_map(|o| o.draft.capabilities)
            .collect())
    }

    /// Every order `d` strands, as the exchange sees them (not the caller):
    /// PROPOSED or ACCEPTED to its provider for a capability it reduces at its site.
    pub(crate) async fn stranded_orders(&self, d: &Disruption) -> Result<Vec<RepairOrder>> {
        if d.state != DisruptionState::Active {
            return Ok(vec![]);
        }
        let capabilities = self.site_capabilities(d).await?;
        let mut out = Vec::new();
        for state in [RepairOrderState::Proposed, RepairOrderState::Accepted] {
            let filter = RecordFilter {
                state: Some(state.as_str().to_owned()),
                provider: Some(d.draft.provider.to_string()),
                ..RecordFilter::default()
            };
            let orders: Vec<RepairOrder> = self.all_records(RecordKind::RepairOrder, &system_viewer(), &filter).await?;
            out.extend(orders.into_iter().filter(|o| rules::affects_order(d, o, &capabilities)));
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out.truncate(MAX_AFFECTED_ORDERS);
        Ok(out)
    }

    /// The originators of the orders `d` strands: who may see it besides
    /// its provider and coordinators.
    async fn affected_parties(&self, d: &Disruption) -> Result<Vec<PartyId>> {
        let mut parties: Vec<PartyId> =
            self.stranded_orders(d).await?.into_iter().map(|o| o.draft.originator).collect();
        parties.sort();
        parties.dedup();
        Ok(parties)
    }

    async fn commit_disruption(
        &self,
        caller: &Caller,
        key: &RequestKey,
        d: Disruption,
        expected: Option<i64>,
        kind: &'static str,
    ) -> Result<Disruption> {
        let write = disruption_write(&d, expected)?;
        let change = Change {
            audience: write.audience.clone(),
            records: vec![write],
            transitions: vec![],
            kind,
            subject: format!("disruptions/{}", d.id),
            content: EventContent::Disruption { disruption: d.clone() },
            time: d.update_time,
        };
        Ok(self.commit(caller, key, change, &d).await?.unwrap_or(d))
    }

    /// A provider declares a disruption at one of its sites.
    pub async fn declare_disruption(
        &self,
        caller: &Caller,
        draft: DisruptionDraft,
        key: &RequestKey,
    ) -> Result<Disruption> {
        if let Some(done) = self.replay(caller, key).await? {
            return Ok(done);
        }
        let (sites, active) = if caller.is_coordinator() {
            (vec![], 0)
        } else {
            let filter = RecordFilter {
                owner: Some(caller.id().to_string()),
                state: Some(DisruptionState::Active.as_str().to_owned()),
                ..RecordFilter::default()
            };
            let mine: Vec<Disruption> = self.all_records(RecordKind::Disruption, &system_viewer(), &filter).await?;
            (self.provider_sites(caller.id()).await?, mine.iter().filter(|d| d.draft.site == draft.site).count())
        };
        rules::check_declare(&caller.party, &draft, &sites, active).map_err(|e| disruption_error("disruption", e))?;
        let name = cosx_domain::records::named_by_request(caller.id(), &key.request_id, new_id);
        let mut d = Disruption::declared(format!("{}.{name}", caller.id()), draft, now());
        d.affected_parties = self.affected_parties(&d).await?;
        self.commit_disruption(caller, key, d, None, "DISRUPTION_DECLARED").await
    }

    /// One disruption, if the caller may see it; NOT_FOUND otherwise, as if
    /// it did not exist.
    pub async fn get_disruption(&self, caller: &Caller, id: &str) -> Result<Disruption> {
        self.load_visible(caller, RecordKind::Disruption, id, |d: &Disruption| d.visible_to(&caller.party)).await
    }

    /// Disruption `id` (and its resource name) as the caller may see it,
    /// refused unless it is still at `version`.
    async fn disruption_at(&self, caller: &Caller, id: &str, version: i64) -> Result<(String, Disruption)> {
        let name = format!("disruptions/{id}");
        let d = self.get_disruption(caller, id).await?;
        CoreError::check_version(&name, d.version, version)?;
        Ok((name, d))
    }

    /// A page of the disruptions the caller may see.
    pub async fn list_disruptions(
        &self,
        caller: &Caller,
        filter: RecordFilter,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<Disruption>> {
        self.list(RecordKind::Disruption, caller, &filter, page_size, page_token).await
    }

    /// Its provider changes an active disruption (cause, reduction,
    /// capabilities, dates, text; never its site).
    pub async fn update_disruption(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        draft: DisruptionDraft,
        key: &RequestKey,
    ) -> Result<Disruption> {
        if let Some(done) = self.replay(caller, key).await? {
            return Ok(done);
        }
        let (name, d) = self.disruption_at(caller, id, version).await?;
        rules::check_update(&d, caller.id(), &draft).map_err(|e| disruption_error(&name, e))?;
        let mut d = rules::updated(d, draft, now());
        d.affected_parties = self.affected_parties(&d).await?;
        self.commit_disruption(caller, key, d, Some(version), "DISRUPTION_UPDATED").await
    }

    /// Its provider resolves it, saying why. The parties that could see it
    /// still can (they learn it is over).
    pub async fn resolve_disruption(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        resolution: String,
        key: &RequestKey,
    ) -> Result<Disruption> {
        if let Some(done) = self.replay(caller, key).await? {
            return Ok(done);
        }
        let (name, d) = self.disruption_at(caller, id, version).await?;
        rules::check_resolve(&d, caller.id()).map_err(|e| disruption_error(&name, e))?;
        let d = rules::resolved(d, resolution, now());
        self.commit_disruption(caller, key, d, Some(version), "DISRUPTION_RESOLVED").await
    }

    /// The orders the disruption strands that the caller may see: all of
    /// them for coordinators and its provider, an owner's own for an owner.
    pub async fn affected_orders(&self, caller: &Caller, id: &str) -> Result<Vec<RepairOrder>> {
        let d = self.get_disruption(caller, id).await?;
        Ok(self
            .stranded_orders(&d)
            .await?
            .into_iter()
            .filter(|o| {
                may_see(&caller.party, &o.draft.originator, o.provider.as_ref(), &o.draft.controls.releasability)
            })
            .collect())
    }

    /// Every active disruption, as the exchange sees them (for the
    /// capacity a re-plan counts on).
    pub async fn active_disruptions(&self) -> Result<Vec<Disruption>> {
        let filter =
            RecordFilter { state: Some(DisruptionState::Active.as_str().to_owned()), ..RecordFilter::default() };
        self.all_records(RecordKind::Disruption, &system_viewer(), &filter).await
    }

    /// What a re-plan of `id` starts from (coordinators only): the
    /// disruption and the orders it strands.
    pub async fn replan_inputs(&self, caller: &Caller, id: &str) -> Result<(Disruption, Vec<RepairOrder>)> {
        if !caller.is_coordinator() {
            return Err(CoreError::PermissionDenied(
                "re-plans, like allocation proposals, are made for coordinating offices only".into(),
            ));
        }
        let d = self.get_disruption(caller, id).await?;
        if d.state != DisruptionState::Active {
            return Err(CoreError::FailedPrecondition(format!(
                "disruptions/{id} is RESOLVED; nothing is stranded by it any more"
            )));
        }
        let orders = self.stranded_orders(&d).await?;
        Ok((d, orders))
    }

    /// Whether the order `order_id`, stranded by disruption `id`, may move
    /// to `to` (a coordinator committing a re-plan): the domain's
    /// `check_move`, then the same checks as any proposal (the provider
    /// still provides; allocation's eligibility rules allow it).
    pub async fn check_disrupted_move(
        &self,
        caller: &Caller,
        id: &str,
        order_id: &str,
        to: &PartyId,
    ) -> Result<(Disruption, RepairOrder)> {
        let name = format!("disruptions/{id}");
        let d = self.get_disruption(caller, id).await?;
        let order = self.get_order(caller, order_id).await?;
        let capabilities = self.site_capabilities(&d).await?;
        rules::check_move(&d, &order, &capabilities, to, caller.is_coordinator())
            .map_err(|e| disruption_error(&name, e))?;
        self.check_proposable("provider", to)?;
        self.check_eligibility(&reopened(&order), to).await?;
        Ok((d, order))
    }

    /// Moves a stranded order to `to`: one commit, the order PROPOSED to the
    /// new provider (who accepts or declines as always), the step in its
    /// history with `reason`; the event goes to the owner, the new provider
    /// and the provider it leaves.
    pub async fn move_disrupted_order(
        &self,
        caller: &Caller,
        id: &str,
        order_id: &str,
        version: i64,
        to: &PartyId,
        reason: String,
    ) -> Result<RepairOrder> {
        let (d, mut order) = self.check_disrupted_move(caller, id, order_id, to).await?;
        CoreError::check_version(&format!("repairOrders/{order_id}"), order.version, version)?;
        let name = format!("disruptions/{id}");
        let capabilities = self.site_capabilities(&d).await?;
        let step = rules::check_move(&d, &order, &capabilities, to, caller.is_coordinator())
            .map_err(|e| disruption_error(&name, e))?;
        let time = now();
        let held_by = order.provider.clone();
        let named = step.provider.clone();
        let transition = order.take_step(step, caller.id(), time, Some(reason), named, WorkProgress::default());
        // The provider it leaves learns of the move too.
        self.commit_order_step(caller, &RequestKey::default(), order, transition, version, |aud| {
            aud.parties.extend(held_by.map(|p| p.to_string()))
        })
        .await
    }
}
