//! Repair orders: creating, reading, listing, lifecycle steps, splits and history.
//!
//! Part of the core: each write authorizes, applies the domain rule and
//! commits through the machinery in the parent module; never touches
//! protobuf, and never reads a record without the visibility rule.

use super::*;

impl Coordinator {
    /// Creates a repair order as the caller.
    pub async fn create_order(
        &self,
        caller: &Caller,
        draft: RepairOrderDraft,
        key: &RequestKey,
    ) -> Result<RepairOrder> {
        if &draft.originator != caller.id() {
            return Err(CoreError::PermissionDenied(format!(
                "repair_order.originator: {} may only submit orders as itself, not as {}",
                caller.id(),
                draft.originator
            )));
        }
        let time = now();
        let order = RepairOrder::submitted(Self::id_for(key), draft, time);
        let transition = Transition {
            version: 1,
            from: None,
            to: RepairOrderState::Submitted,
            actor: caller.id().clone(),
            time,
            reason: None,
            provider: None,
            progress: WorkProgress::default(),
            exception: None,
        };
        let write = order_write(&order, None)?;
        let aud = write.audience.clone();
        let replayed = self
            .commit_create(
                caller,
                key,
                Change::order_step(order.clone(), transition, vec![write], "REPAIR_ORDER_CREATED", aud, None, None)?,
                RecordKind::RepairOrder,
            )
            .await?;
        Ok(replayed.unwrap_or(order))
    }

    /// One order, if the caller may see it.
    pub async fn get_order(&self, caller: &Caller, id: &str) -> Result<RepairOrder> {
        self.load_visible(caller, RecordKind::RepairOrder, id, |o: &RepairOrder| {
            may_see(&caller.party, &o.draft.originator, o.provider.as_ref(), &o.draft.controls.releasability)
        })
        .await
    }

    /// A page of the orders the caller may see.
    pub async fn list_orders(
        &self,
        caller: &Caller,
        filter: &OrderFilter,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<RepairOrder>> {
        self.list(RecordKind::RepairOrder, caller, filter, page_size, page_token).await
    }

    /// Moves an order one lifecycle step.
    #[allow(clippy::too_many_arguments)]
    pub async fn transition_order(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        action: Action,
        reason: Option<String>,
        progress: WorkProgress,
        key: &RequestKey,
    ) -> Result<RepairOrder> {
        self.step_order(caller, id, version, action, reason, progress, key, None).await
    }

    /// As [`Self::transition_order`]; a proposal `priced` at a quote's
    /// terms takes its estimate from them (`quotes::price_at_quote`).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn step_order(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        action: Action,
        reason: Option<String>,
        progress: WorkProgress,
        key: &RequestKey,
        priced: Option<&cosx_domain::quotes::QuoteTerms>,
    ) -> Result<RepairOrder> {
        if let Some(order) = self.replay(caller, key).await? {
            return Ok(order);
        }
        let mut order = self.get_order(caller, id).await?;
        // A stale view is refused first: the caller must re-read before anything else is judged.
        CoreError::check_version(&format!("repairOrders/{id}"), order.version, version)?;
        if let Action::Propose(provider) = &action {
            self.check_proposable("provider", provider)?;
        }
        let step = lifecycle::apply(
            OrderView { state: order.state, originator: &order.draft.originator, provider: order.provider.as_ref() },
            caller.id(),
            caller.is_coordinator(),
            &action,
        )
        .map_err(lifecycle_error)?;
        // An open repair exception holds back completing and shipping, and a
        // cost-over one the cost completed at (`cosx_domain::exceptions`).
        if cosx_domain::exceptions::may_block(&action) {
            let raised = self.order_exceptions(&order.id).await?;
            let cost = progress.actual_cost.as_ref().or(order.progress.actual_cost.as_ref());
            cosx_domain::exceptions::check_step(
                &raised,
                &order.id,
                order.draft.funding.estimated_cost.as_ref(),
                &action,
                cost,
            )
            .map_err(|e| exception_error(&format!("repairOrders/{id}"), e))?;
        }
        // The same eligibility as `Allocation` (DESIGN §2, controls; FMS third-country rules).
        if let Action::Propose(provider) = &action {
            self.check_eligibility(&order, provider).await?;
        }
        let time = now();
        let held_by = order.provider.clone();
        let named = match &action {
            Action::Propose(p) => Some(p.clone()),
            _ => None,
        };
        let transition = order.take_step(step, caller.id(), time, reason, named, progress.clone());
        order.progress.merge(&progress);
        if let (Some(terms), Action::Propose(_)) = (priced, &action) {
            cosx_domain::quotes::price_at_quote(&mut order.draft.funding, terms);
        }
        // The feed shows a step to the parties it concerns (a provider that
        // declines still learns its own decline went through); history does the same.
        let provider = step_provider(held_by.as_ref(), order.provider.as_ref(), order.state).map(ToString::to_string);
        self.commit_order_step(caller, key, order, transition, version, |aud| aud.provider = provider).await
    }

    /// Commits one lifecycle step of `order`, already moved on by
    /// `transition` from `expected_version`: the order, its history step and
    /// one `REPAIR_ORDER_TRANSITIONED` event, whose audience is the order's
    /// as `widen` leaves it. The one commit of every order step.
    pub(super) async fn commit_order_step(
        &self,
        caller: &Caller,
        key: &RequestKey,
        mut order: RepairOrder,
        transition: Transition,
        expected_version: i64,
        widen: impl FnOnce(&mut Audience),
    ) -> Result<RepairOrder> {
        // A step that ends the order closes its open quotes in the same
        // commit, each with its own event to its own provider.
        let (quote_writes, closed) = match cosx_domain::quotes::closed_by_step(order.state) {
            Some(reason) => {
                let time = order.update_time;
                self.quotes_closing_with(&mut order, reason, time).await?
            }
            None => (Vec::new(), Vec::new()),
        };
        let write = order_write(&order, Some(expected_version))?;
        let mut aud = write.audience.clone();
        widen(&mut aud);
        let replayed = self
            .commit_with(
                caller,
                key,
                Change::order_step(
                    order.clone(),
                    transition,
                    std::iter::once(write).chain(quote_writes).collect(),
                    "REPAIR_ORDER_TRANSITIONED",
                    aud,
                    None,
                    None,
                )?,
                closed,
                &order,
            )
            .await?;
        Ok(replayed.unwrap_or(order))
    }

    /// Refuses `provider` (named by request field `field`) unless it is a
    /// registered, unsuspended party that is not a coordinating office.
    pub(super) fn check_proposable(&self, field: &str, provider: &PartyId) -> Result<()> {
        let (party, _) = self.party(provider).ok_or_else(|| {
            let mut v = Violations::new();
            v.add(field, format!("{provider} is not a registered party"));
            CoreError::Invalid(v)
        })?;
        if party.suspended {
            return Err(CoreError::FailedPrecondition(format!("provider {provider} is suspended")));
        }
        if party.kind == cosx_domain::PartyKind::Coordinator {
            return Err(CoreError::FailedPrecondition(format!("{provider} is a coordinating office, not a provider")));
        }
        Ok(())
    }

    /// Splits an open order into parts (originator or coordinator).
    pub async fn split_order(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        quantities: &[u32],
        key: &RequestKey,
    ) -> Result<(RepairOrder, Vec<RepairOrder>)> {
        if let Some(done) = self.replay(caller, key).await? {
            return Ok(done);
        }
        let mut parent = self.get_order(caller, id).await?;
        if !(caller.is_coordinator() || caller.id() == &parent.draft.originator) {
            return Err(CoreError::PermissionDenied("only the originator or a coordinator may split an order".into()));
        }
        let v = lifecycle::split_violations(parent.draft.quantity, quantities);
        if !v.is_empty() {
            return Err(v.into());
        }
        if !parent.state.is_open() {
            return Err(CoreError::FailedPrecondition(format!(
                "only a SUBMITTED or DECLINED order can be split; this one is {}",
                parent.state
            )));
        }
        if parent.version != version {
            return Err(CoreError::Aborted(format!(
                "repairOrders/{id} is at version {}, not {version}",
                parent.version
            )));
        }
        let time = now();
        let hours_per_item = parent.draft.estimated_labor_hours / f64::from(parent.draft.quantity);
        let parts: Vec<RepairOrder> = quantities
            .iter()
            .zip(split_part_ids(&parent.id, quantities.len()))
            .map(|(&q, id)| {
                let mut draft = parent.draft.clone();
                draft.quantity = q;
                draft.estimated_labor_hours = hours_per_item * f64::from(q);
                RepairOrder { parent: Some(parent.id.clone()), ..RepairOrder::submitted(id, draft, time) }
            })
            .collect();
        let from = parent.state;
        parent.state = RepairOrderState::Cancelled;
        parent.version += 1;
        parent.update_time = time;
        // The parent's open quotes close with the split; the parts are new
        // orders that no provider has been asked to quote on yet.
        let (quote_writes, closed) =
            self.quotes_closing_with(&mut parent, cosx_domain::quotes::CloseReason::OrderSplit, time).await?;
        let parts: Vec<RepairOrder> = parts
            .into_iter()
            .map(|mut p| {
                p.draft.controls.releasability.asked_to_quote.clear();
                p
            })
            .collect();
        let reason = format!(
            "split into {}",
            parts.iter().map(|p| format!("repairOrders/{}", p.id)).collect::<Vec<_>>().join(", ")
        );
        let step = Transition {
            version: parent.version,
            from: Some(from),
            to: RepairOrderState::Cancelled,
            actor: caller.id().clone(),
            time,
            reason: Some(reason),
            provider: None,
            progress: WorkProgress::default(),
            exception: None,
        };
        let mut writes = vec![order_write(&parent, Some(version))?];
        let mut transitions =
            vec![TransitionWrite { order_id: parent.id.clone(), version: parent.version, body: to_json(&step)? }];
        for part in &parts {
            writes.push(order_write(part, None)?);
            let created = Transition {
                version: 1,
                from: None,
                to: RepairOrderState::Submitted,
                actor: caller.id().clone(),
                time,
                reason: Some(format!("split from repairOrders/{}", parent.id)),
                provider: None,
                progress: WorkProgress::default(),
                exception: None,
            };
            transitions.push(TransitionWrite { order_id: part.id.clone(), version: 1, body: to_json(&created)? });
        }
        let aud = writes[0].audience.clone();
        writes.extend(quote_writes);
        let response = (parent.clone(), parts.clone());
        let replayed = self
            .commit_with(
                caller,
                key,
                Change {
                    records: writes,
                    transitions,
                    kind: "REPAIR_ORDER_SPLIT",
                    subject: format!("repairOrders/{}", parent.id),
                    audience: aud,
                    content: EventContent::Split { parent, parts },
                    time,
                },
                closed,
                &response,
            )
            .await?;
        Ok(replayed.unwrap_or(response))
    }

    /// An order's lifecycle steps, oldest first, with the sequence of each.
    pub async fn order_history(&self, caller: &Caller, id: &str) -> Result<Vec<(Transition, i64)>> {
        let order = self.get_order(caller, id).await?;
        let stored = self.store.transitions(id).await?;
        let steps: Vec<Transition> = stored.iter().map(|(body, _)| from_json(body)).collect::<Result<_>>()?;
        let owner = &order.draft.originator;
        let seen = visible_history(&caller.party, owner, &order.draft.controls.releasability, &steps);
        Ok(seen.into_iter().map(|i| (steps[i].clone(), stored[i].1)).collect())
    }

    // ----- capacity offers ------------------------------------------------
}
