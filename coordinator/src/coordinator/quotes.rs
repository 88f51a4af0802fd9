//! Quotes: asking providers to quote on an open order, their answers and
//! revisions, and the owner's acceptance, which proposes the order to the
//! quoting provider through the lifecycle and closes the other quotes.
//!
//! Part of the core: each write authorizes, applies `cosx_domain::quotes`
//! and commits through the machinery in the parent module; never touches
//! protobuf, and never shows a quote without its visibility rule (owner,
//! quoting provider, coordinators). Every step that concerns one provider is
//! its own commit with its own event, so each provider's feed shows exactly
//! its own quote and nothing about the others (who else was asked, what
//! they quoted, who won).

use cosx_domain::quotes::{self, Quote, QuoteTerms};

use super::*;

/// Whom a quote request asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuoteTargets {
    /// These providers (each with the request field that named it).
    Named(Vec<PartyId>),
    /// Every provider with a capable active offer that allocation's rules allow.
    AllEligible,
}

fn quote_write(q: &Quote, expected_version: Option<i64>) -> Result<RecordWrite> {
    Ok(RecordWrite {
        kind: RecordKind::Quote,
        id: q.id.clone(),
        expected_version,
        version: q.version,
        // Owner, quoting provider, coordinators: nothing is released beyond them.
        audience: audience(&q.owner, Some(&q.provider), &cosx_domain::Releasability::default()),
        state: Some(q.state.as_str().to_owned()),
        tms: None,
        region: None,
        natural_key: None,
        supersedes: None,
        body: to_json(q)?,
    })
}

/// The idempotency key of the part of a request that concerns one
/// provider: the caller's request id with the provider's id, so a repeated
/// request replays each part and the parts never collide.
fn part_key(key: &RequestKey, what: &str, provider: &PartyId) -> RequestKey {
    RequestKey {
        request_id: if key.request_id.is_empty() {
            String::new()
        } else {
            format!("{}#{what}#{provider}", key.request_id)
        },
        payload_hash: key.payload_hash.clone(),
        new_id: None,
    }
}

fn order_view(order: &RepairOrder) -> OrderView<'_> {
    OrderView { state: order.state, originator: &order.draft.originator, provider: order.provider.as_ref() }
}

impl Coordinator {
    /// Asks providers to quote on an open order (its originator, or a
    /// coordinator for it). Each provider's quote is its own commit.
    pub async fn request_quotes(
        &self,
        caller: &Caller,
        order_id: &str,
        targets: QuoteTargets,
        key: &RequestKey,
    ) -> Result<Vec<Quote>> {
        // A repeat of a request that named its providers replays it whole,
        // even after the order has moved on (AIP-155: the first answer).
        if let QuoteTargets::Named(providers) = &targets
            && !key.request_id.is_empty()
            && !providers.is_empty()
        {
            let mut replayed = Vec::with_capacity(providers.len());
            for p in providers {
                match self.replay::<Quote>(caller, &part_key(key, "request", p)).await? {
                    Some(q) => replayed.push(q),
                    None => break,
                }
            }
            if replayed.len() == providers.len() {
                return Ok(replayed);
            }
        }
        let order = self.get_order(caller, order_id).await?;
        let today = now().date_naive();
        // Who may ask, and on what order, before anything about providers is judged.
        quotes::check_may_ask(order_view(&order), caller.id(), caller.is_coordinator())
            .map_err(|e| quote_error(&format!("repairOrders/{order_id}"), e))?;
        let named = matches!(targets, QuoteTargets::Named(_));
        let providers = match targets {
            QuoteTargets::Named(providers) => {
                self.check_named_providers(&order, &providers).await?;
                providers
            }
            QuoteTargets::AllEligible => self.eligible_providers(&order).await?,
        };
        // Every provider is judged before anything is committed: a refusal changes nothing.
        let mut asked = Vec::with_capacity(providers.len());
        let mut to_ask = Vec::new();
        let mut v = Violations::new();
        for (i, provider) in providers.iter().enumerate() {
            let part = part_key(key, "request", provider);
            if let Some(done) = self.replay::<Quote>(caller, &part).await? {
                asked.push(done);
                continue;
            }
            let id = quotes::quote_id(&order.id, provider);
            let existing: Option<Quote> =
                self.store.record(RecordKind::Quote, &id).await?.map(|b| from_json(&b)).transpose()?;
            let view = order_view(&order);
            match quotes::check_request(view, caller.id(), caller.is_coordinator(), provider, existing.as_ref(), today)
            {
                Ok(()) => to_ask.push((part, provider, existing)),
                // Asking every eligible provider passes over those already asked.
                Err(quotes::QuoteError::AlreadyOpen(_)) if !named => {}
                Err(e) => v.add(format!("providers[{i}]"), format!("{provider} {e}")),
            }
        }
        if !v.is_empty() {
            return Err(v.into());
        }
        let mut order = order;
        for (part, provider, existing) in to_ask {
            let expected = existing.as_ref().map(|q| q.version);
            let time = now();
            let fresh = Quote::requested(&order.id, &order.draft.originator, provider, caller.id(), time);
            let quote = quotes::request(existing, fresh);
            // The provider may read what it is asked to quote on: the order is
            // released to it, in the same commit, unless it sees it already.
            let sees = self.party(provider).is_some_and(|(p, _)| {
                may_see(&p, &order.draft.originator, order.provider.as_ref(), &order.draft.controls.releasability)
            });
            let mut records = Vec::new();
            let mut more = Vec::new();
            let mut released = None;
            if let Some(r) = quotes::asked_to_quote(&order.draft.controls.releasability, provider, sees) {
                let mut o = order.clone();
                o.draft.controls.releasability = r;
                o.version += 1;
                o.update_time = time;
                records.push(order_write(&o, Some(order.version))?);
                more.push(MoreEvent {
                    kind: "REPAIR_ORDER_RELEASED_FOR_QUOTE",
                    subject: format!("repairOrders/{}", o.id),
                    // Its owner and the provider asked, not the others asked before.
                    audience: audience(&o.draft.originator, Some(provider), &cosx_domain::Releasability::default()),
                    content: EventContent::QuoteRelease { order: o.clone() },
                });
                released = Some(o);
            }
            asked.push(
                self.commit_quote_with(caller, &part, quote, expected, "QUOTE_REQUESTED", time, records, more).await?,
            );
            if let Some(o) = released {
                order = o;
            }
        }
        Ok(asked)
    }

    /// Refuses, field by field, named providers that are repeated, not
    /// registered providers, or that allocation's rules do not allow for the order.
    async fn check_named_providers(&self, order: &RepairOrder, providers: &[PartyId]) -> Result<()> {
        let mut v = Violations::new();
        if providers.is_empty() {
            v.add("providers", "name at least one provider, or ask every eligible provider with all_eligible");
        }
        if providers.len() > quotes::MAX_QUOTE_PROVIDERS {
            v.add("providers", format!("at most {}, not {}", quotes::MAX_QUOTE_PROVIDERS, providers.len()));
            return Err(v.into());
        }
        for (i, p) in providers.iter().enumerate() {
            let field = format!("providers[{i}]");
            if providers[..i].contains(p) {
                v.add(&field, format!("{p} is named twice"));
                continue;
            }
            if p == &order.draft.originator {
                v.add(&field, format!("{p} {}", quotes::QuoteError::OwnOrder));
                continue;
            }
            let judged = match self.check_proposable(&field, p) {
                Ok(()) => self.check_eligibility(order, p).await,
                Err(e) => Err(e),
            };
            match judged {
                Ok(()) => {}
                Err(CoreError::Invalid(inner)) => v.0.extend(inner.0),
                Err(CoreError::FailedPrecondition(why)) => v.add(&field, why),
                Err(other) => return Err(other),
            }
        }
        v.into_result(|| ()).map_err(CoreError::from)
    }

    /// Every provider allocation's rules allow for `order` among those with
    /// a capable active offer (`cosx_allocation::provider_eligibility`, the
    /// one copy of the rules), by id, at most
    /// [`quotes::MAX_QUOTE_PROVIDERS`].
    async fn eligible_providers(&self, order: &RepairOrder) -> Result<Vec<PartyId>> {
        use crate::signals::balance as adapt;
        let parties = self.registered_parties();
        let Some(core_order) = adapt::open_orders(std::slice::from_ref(order), &parties).pop() else {
            return Err(CoreError::FailedPrecondition(format!(
                "repairOrders/{} cannot be judged for eligibility (its originator's nation or its fields are not \
                 usable by allocation)",
                order.id
            )));
        };
        let filter = RecordFilter { state: Some("ACTIVE".into()), ..RecordFilter::default() };
        let offers: Vec<CapacityOffer> = self.all_records(RecordKind::CapacityOffer, &system_viewer(), &filter).await?;
        let today = now().date_naive();
        let core_offers = adapt::offers(&offers, &parties, today);
        let config = self.allocation_config(today);
        let mut out: Vec<PartyId> = parties
            .values()
            .filter(|p| !p.suspended && p.kind != cosx_domain::PartyKind::Coordinator && p.id != order.draft.originator)
            .filter(|p| {
                cosx_allocation::provider_eligibility(&core_order, &core_offers, p.id.as_str(), &config).is_ok()
            })
            .map(|p| p.id.clone())
            .collect();
        out.sort();
        out.truncate(quotes::MAX_QUOTE_PROVIDERS);
        if out.is_empty() {
            return Err(CoreError::FailedPrecondition(format!(
                "no provider has a capable active offer that allocation's rules allow for repairOrders/{}",
                order.id
            )));
        }
        Ok(out)
    }

    async fn commit_quote(
        &self,
        caller: &Caller,
        key: &RequestKey,
        quote: Quote,
        expected: Option<i64>,
        kind: &'static str,
        time: DateTime<Utc>,
    ) -> Result<Quote> {
        self.commit_quote_with(caller, key, quote, expected, kind, time, Vec::new(), Vec::new()).await
    }

    /// Commits one quote's change with `records` and `more` events beside it.
    #[allow(clippy::too_many_arguments)]
    async fn commit_quote_with(
        &self,
        caller: &Caller,
        key: &RequestKey,
        quote: Quote,
        expected: Option<i64>,
        kind: &'static str,
        time: DateTime<Utc>,
        records: Vec<RecordWrite>,
        more: Vec<MoreEvent>,
    ) -> Result<Quote> {
        let write = quote_write(&quote, expected)?;
        let change = Change {
            audience: write.audience.clone(),
            records: std::iter::once(write).chain(records).collect(),
            transitions: vec![],
            kind,
            subject: format!("repairOrders/{}", quote.id),
            content: EventContent::Quote { quote: quote.clone() },
            time,
        };
        Ok(self.commit_with(caller, key, change, more, &quote).await?.unwrap_or(quote))
    }

    /// The order's open quotes closed for `reason`, each as a record write
    /// and a `QUOTE_CLOSED` event seen by its own provider, to commit with
    /// the order's own step; the order (`order`, already moved on) stops
    /// being released to their providers.
    pub(super) async fn quotes_closing_with(
        &self,
        order: &mut RepairOrder,
        reason: quotes::CloseReason,
        time: DateTime<Utc>,
    ) -> Result<(Vec<RecordWrite>, Vec<MoreEvent>)> {
        let filter = RecordFilter { id_prefix: Some(quotes::quotes_of(&order.id)), ..RecordFilter::default() };
        let all: Vec<Quote> = self.all_records(RecordKind::Quote, &system_viewer(), &filter).await?;
        let closed = quotes::close_open(&order.id, &all, reason, time);
        quotes::no_longer_asked(&mut order.draft.controls.releasability, closed.iter().map(|q| &q.provider));
        let mut records = Vec::with_capacity(closed.len());
        let mut more = Vec::with_capacity(closed.len());
        for q in closed {
            let write = quote_write(&q, Some(q.version - 1))?;
            more.push(MoreEvent {
                kind: "QUOTE_CLOSED",
                subject: format!("repairOrders/{}", q.id),
                audience: write.audience.clone(),
                content: EventContent::Quote { quote: q },
            });
            records.push(write);
        }
        Ok((records, more))
    }

    /// One quote, if the caller may see it (owner, quoting provider,
    /// coordinators); NOT_FOUND otherwise, as if it did not exist.
    pub async fn get_quote(&self, caller: &Caller, id: &str) -> Result<Quote> {
        self.load_visible(caller, RecordKind::Quote, id, |q: &Quote| q.visible_to(&caller.party)).await
    }

    /// A page of the quotes the caller may see: of one order, or of all.
    pub async fn list_quotes(
        &self,
        caller: &Caller,
        order_id: Option<&str>,
        filter: RecordFilter,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<Quote>> {
        let filter = RecordFilter { id_prefix: order_id.map(quotes::quotes_of), ..filter };
        self.list(RecordKind::Quote, caller, &filter, page_size, page_token).await
    }

    /// The asked provider answers, or revises its quote while it is valid.
    pub async fn submit_quote(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        terms: QuoteTerms,
        key: &RequestKey,
    ) -> Result<Quote> {
        if let Some(done) = self.replay(caller, key).await? {
            return Ok(done);
        }
        let quote = self.get_quote(caller, id).await?;
        CoreError::check_version(&format!("repairOrders/{id}"), quote.version, version)?;
        // The rule needs the order's state, which the provider may not see itself.
        let order: RepairOrder = self
            .store
            .record(RecordKind::RepairOrder, &quote.order_id)
            .await?
            .map(|b| from_json(&b))
            .transpose()?
            .ok_or_else(|| CoreError::Store(StoreError::Corrupt(format!("quote {id} without its order"))))?;
        let today = now().date_naive();
        quotes::check_answer(&quote, order_view(&order), caller.id(), &terms, today)
            .map_err(|e| quote_error(&format!("repairOrders/{id}"), e))?;
        let time = now();
        let quote = quotes::answer(quote, terms, time);
        self.commit_quote(caller, key, quote, Some(version), "QUOTE_SUBMITTED", time).await
    }

    /// The order's originator accepts a final, unexpired quote: one commit
    /// records the quote ACCEPTED and the order PROPOSED to its provider
    /// (with the quoted price as the order's estimated cost); then each
    /// other open quote on the order closes in its own commit. A repeat of
    /// the request replays the acceptance and finishes any closing left undone.
    pub async fn accept_quote(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        key: &RequestKey,
    ) -> Result<(Quote, RepairOrder)> {
        let accepted = match self.replay::<(Quote, RepairOrder)>(caller, key).await? {
            Some(done) => done,
            None => self.accept_one(caller, id, version, key).await?,
        };
        self.close_other_quotes(caller, &accepted.0, key).await?;
        Ok(accepted)
    }

    async fn accept_one(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        key: &RequestKey,
    ) -> Result<(Quote, RepairOrder)> {
        let quote = self.get_quote(caller, id).await?;
        let mut order = self.get_order(caller, &quote.order_id).await?;
        let name = format!("repairOrders/{id}");
        CoreError::check_version(&name, quote.version, version)?;
        let today = now().date_naive();
        let step =
            quotes::check_accept(&quote, order_view(&order), caller.id(), today).map_err(|e| quote_error(&name, e))?;
        // The same checks as a coordinator's proposal: the provider still
        // provides, and allocation's rules still allow it.
        self.check_proposable("name", &quote.provider)?;
        self.check_eligibility(&order, &quote.provider).await?;
        let terms = quote.terms.clone().ok_or_else(|| CoreError::FailedPrecondition(format!("{name} has no terms")))?;
        let time = now();
        let order_version = order.version;
        let reason = format!(
            "quote {name} accepted: {} {} minor units, {} days turnaround, valid until {}",
            terms.price.currency, terms.price.amount_minor, terms.turnaround_days, terms.valid_until
        );
        let named = step.provider.clone();
        let transition = order.take_step(step, caller.id(), time, Some(reason), named, WorkProgress::default());
        quotes::price_at_quote(&mut order.draft.funding, &terms);
        // No quote on the order stays open (this one accepted, the others
        // closing next): none of their providers sees the order through it
        // any longer, nor this proposal (the accepted one sees it as its provider).
        let asked = order.draft.controls.releasability.asked_to_quote.clone();
        quotes::no_longer_asked(&mut order.draft.controls.releasability, &asked);
        let quote = quotes::accepted(quote, time);
        let order_row = order_write(&order, Some(order_version))?;
        // The proposal concerns the owner and the provider it goes to, as any proposal does.
        let mut aud = order_row.audience.clone();
        aud.provider = order.provider.as_ref().map(ToString::to_string);
        let response = (quote.clone(), order.clone());
        let records = vec![order_row, quote_write(&quote, Some(version))?];
        let change =
            Change::order_step(order, transition, records, "QUOTE_ACCEPTED", aud, Some(Box::new(quote)), None)?;
        Ok(self.commit(caller, key, change, &response).await?.unwrap_or(response))
    }

    /// Proposes order `order_id` to `provider` as an allocation priced it
    /// with the quote `quote_id` (a coordinator committing a plan): the
    /// quote must still be usable today (`quotes::usable_terms`) and be that
    /// provider's on that order; the order's estimate becomes the quoted
    /// price, as accepting the quote would make it (`quotes::price_at_quote`).
    /// The quote itself stays open: its owner may still accept it.
    pub async fn propose_at_quote(
        &self,
        caller: &Caller,
        order_id: &str,
        version: i64,
        provider: PartyId,
        quote_id: &str,
        reason: String,
    ) -> Result<RepairOrder> {
        let name = format!("repairOrders/{quote_id}");
        let quote = self.get_quote(caller, quote_id).await?;
        if quote.order_id != order_id || quote.provider != provider {
            return Err(CoreError::FailedPrecondition(format!(
                "{name} is not {provider}'s quote on repairOrders/{order_id}"
            )));
        }
        let terms = quotes::usable_terms(&quote, now().date_naive()).cloned().ok_or_else(|| {
            CoreError::FailedPrecondition(format!("{name} is no longer usable (accepted, closed, interim or expired)"))
        })?;
        self.step_order(
            caller,
            order_id,
            version,
            Action::Propose(provider),
            Some(reason),
            WorkProgress::default(),
            &RequestKey::default(),
            Some(&terms),
        )
        .await
    }

    /// Closes every other open quote on the accepted quote's order, each in
    /// its own commit seen by its own provider (which learns only that
    /// another quote was accepted, not whose).
    async fn close_other_quotes(&self, caller: &Caller, accepted: &Quote, key: &RequestKey) -> Result<()> {
        for _attempt in 0..3 {
            let filter =
                RecordFilter { id_prefix: Some(quotes::quotes_of(&accepted.order_id)), ..RecordFilter::default() };
            let all: Vec<Quote> = self.all_records(RecordKind::Quote, &system_viewer(), &filter).await?;
            let mut raced = false;
            for other in quotes::closed_by(accepted, &all) {
                let expected = other.version;
                let time = now();
                let q = quotes::close(other.clone(), quotes::CloseReason::AnotherAccepted, time);
                let part = part_key(key, "close", &q.provider);
                match self.commit_quote(caller, &part, q, Some(expected), "QUOTE_CLOSED", time).await {
                    Ok(_) => {}
                    // The provider revised it meanwhile: read again and close that version.
                    Err(CoreError::Aborted(_)) => raced = true,
                    Err(e) => return Err(e),
                }
            }
            if !raced {
                return Ok(());
            }
        }
        Err(CoreError::Aborted(format!(
            "the other quotes on repairOrders/{} kept changing; repeat the request to finish closing them",
            accepted.order_id
        )))
    }
}
