//! What a write does to a record, decided at the node before the
//! coordinator hears of it: the same lifecycle rules and parsing as the
//! coordinator, applied to the node's replica. Pure: no I/O, the time is
//! given. The coordinator still decides; what it refuses comes back as a
//! rejection.

use chrono::{DateTime, Utc};
use cosx_domain::exceptions::{self, ExceptionAnswer, ExceptionCause, RepairException, Revision};
use cosx_domain::lifecycle::{self, OrderView};
use cosx_domain::offers::{self, OfferView};
use cosx_domain::records::split_part_ids;
use cosx_domain::records::{
    AvailabilityReportDraft, AvailabilityTarget, AvailabilityTargetDraft, CapacityOfferDraft, OfferState,
    RepairOrderDraft, WorkProgress,
};
use cosx_domain::vocab::Money;
use cosx_domain::{Action, AvailabilityReport, CapacityOffer, PartyId, RepairOrder, RepairOrderState, Violations};
use cosx_proto::v1 as pb;

use cosx_domain::Party;
use cosx_domain::comments::{self, Comment, CommentBody, RecordRef};
use cosx_domain::disruptions::{self, Disruption, DisruptionDraft, DisruptionState};
use cosx_domain::quotes::{self, QuoteTerms};
use cosx_domain::update_requests::{self, UpdateRequest, UpdateRequestState, UpdateSubject};
use cosx_edge::convert::{
    availability_report_out, availability_target_out, capacity_offer_out, progress_in, progress_out, repair_order_out,
    state_in, state_out, timestamp,
};
use cosx_edge::convert::{comment_in, comment_out, disruption_in, disruption_out, quote_in, quote_out};
use cosx_edge::convert::{exception_in, exception_out};
use cosx_edge::convert::{update_request_in, update_request_out};
use cosx_edge::error::update_request_error;
use cosx_edge::error::{CoreError, comment_error, disruption_error, exception_error, offer_change_error, quote_error};

type Result<T> = std::result::Result<T, CoreError>;

/// A new order as the coordinator will store it under `id`.
pub fn created_order(id: &str, draft: RepairOrderDraft, time: DateTime<Utc>) -> pb::RepairOrder {
    repair_order_out(&RepairOrder::submitted(id.to_owned(), draft, time))
}

/// A new offer under `id`.
pub fn created_offer(id: &str, draft: CapacityOfferDraft, time: DateTime<Utc>) -> pb::CapacityOffer {
    capacity_offer_out(&CapacityOffer::active(id.to_owned(), draft, time))
}

/// A new report under `id`; the coordinator numbers its version and names
/// what it supersedes.
pub fn submitted_report(id: &str, draft: AvailabilityReportDraft, time: DateTime<Utc>) -> pb::AvailabilityReport {
    availability_report_out(&AvailabilityReport {
        id: id.to_owned(),
        draft,
        version: 1,
        supersedes: None,
        create_time: time,
    })
}

/// A new target under `id`.
pub fn set_target(id: &str, draft: AvailabilityTargetDraft, time: DateTime<Utc>) -> pb::AvailabilityTarget {
    availability_target_out(&AvailabilityTarget { id: id.to_owned(), version: 1, draft, create_time: time })
}

fn party(v: &mut Violations, field: &str, id: &str) -> Option<PartyId> {
    v.check(field, PartyId::parse(id))
}

/// An order's state, originator and provider as the replica holds them
/// (what the shared rules' `OrderView` is made of).
fn order_parts(order: &pb::RepairOrder) -> Result<(RepairOrderState, PartyId, Option<PartyId>)> {
    let mut v = Violations::new();
    let state = state_in(&mut v, "state".into(), order.state);
    let originator = party(&mut v, "originator", &order.originator);
    let provider = (!order.provider.is_empty()).then(|| party(&mut v, "provider", &order.provider)).flatten();
    match (state, originator) {
        (Some(state), Some(originator)) => Ok((state, originator, provider)),
        _ => Err(CoreError::FailedPrecondition(format!("{} is not readable at this node: {v}", order.name))),
    }
}

/// The exceptions the replica knows on `order`, in the domain's terms.
fn exceptions_on(
    order: &pb::RepairOrder,
    state: RepairOrderState,
    known: &[pb::RepairException],
) -> Result<Vec<RepairException>> {
    known
        .iter()
        .filter(|e| e.repair_order == order.name)
        .map(|e| {
            let mut v = Violations::new();
            exception_in(&mut v, e, state)
                .ok_or_else(|| CoreError::FailedPrecondition(format!("{} is not readable at this node: {v}", e.name)))
        })
        .collect()
}

fn money_in(m: &Option<pb::Money>) -> Option<Money> {
    m.as_ref().and_then(|m| Money::parse(&m.currency_code, m.amount_minor).ok())
}

/// The order after one lifecycle step by `actor`, who last saw `version`;
/// `exceptions` are those the replica knows on it (an open one holds back
/// COMPLETE and SHIP, as at the coordinator: `exceptions::check_step`).
#[allow(clippy::too_many_arguments)]
pub fn transitioned(
    order: &pb::RepairOrder,
    actor: &PartyId,
    actor_is_coordinator: bool,
    version: i64,
    action: &Action,
    progress: &WorkProgress,
    exceptions: &[pb::RepairException],
    time: DateTime<Utc>,
) -> Result<pb::RepairOrder> {
    CoreError::check_version(&order.name, order.version, version)?;
    let (state, originator, provider) = order_parts(order)?;
    let step = lifecycle::apply(
        OrderView { state, originator: &originator, provider: provider.as_ref() },
        actor,
        actor_is_coordinator,
        action,
    )
    .map_err(cosx_edge::error::lifecycle_error)?;
    if exceptions::may_block(action) {
        let known = exceptions_on(order, state, exceptions)?;
        let held = progress_in(&mut Violations::new(), &order.progress);
        let cost = progress.actual_cost.as_ref().or(held.actual_cost.as_ref());
        let estimated = money_in(&order.funding.as_ref().and_then(|f| f.estimated_cost.clone()));
        let id = order.name.trim_start_matches("repairOrders/");
        exceptions::check_step(&known, id, estimated.as_ref(), action, cost)
            .map_err(|e| exception_error(&order.name, e))?;
    }
    let mut next = order.clone();
    next.state = state_out(step.to);
    next.provider = step.provider.map(|p| p.to_string()).unwrap_or_default();
    next.version += 1;
    next.update_time = timestamp(time);
    let mut merged = progress_in(&mut Violations::new(), &order.progress);
    merged.merge(progress);
    next.progress = Some(progress_out(&merged));
    Ok(next)
}

/// The order one version on, its state unchanged (an exception step).
fn stepped_on(order: &pb::RepairOrder, time: DateTime<Utc>) -> pb::RepairOrder {
    let mut next = order.clone();
    next.version += 1;
    next.update_time = timestamp(time);
    next
}

/// The exception `caller` raises on `order` (whose exceptions the replica
/// knows as `known`), and the order one version on: the coordinator's
/// rules (`exceptions::check_raise`, `exceptions::raise`) and numbering
/// (one more than the exceptions on the order).
pub fn raised_exception(
    order: &pb::RepairOrder,
    known: &[pb::RepairException],
    caller: &PartyId,
    cause: ExceptionCause,
    text: String,
    time: DateTime<Utc>,
) -> Result<(pb::RepairException, pb::RepairOrder)> {
    let (state, originator, provider) = order_parts(order)?;
    let view = OrderView { state, originator: &originator, provider: provider.as_ref() };
    let raised = exceptions_on(order, state, known)?.len();
    exceptions::check_raise(view, caller, raised).map_err(|e| exception_error(&order.name, e))?;
    let id = order.name.trim_start_matches("repairOrders/");
    let exception = exceptions::raise(id, view, raised + 1, cause, text, time)
        .ok_or_else(|| CoreError::FailedPrecondition(format!("{} is with no provider", order.name)))?;
    Ok((exception_out(&exception), stepped_on(order, time)))
}

/// `exception` on `order` answered by `caller`, and the order one version
/// on, revised as an approval revises it (`exceptions::check_answer`,
/// `exceptions::answer`).
pub fn answered_exception(
    order: &pb::RepairOrder,
    exception: &pb::RepairException,
    caller: &PartyId,
    answer: ExceptionAnswer,
    time: DateTime<Utc>,
) -> Result<(pb::RepairException, pb::RepairOrder)> {
    let (state, originator, provider) = order_parts(order)?;
    let view = OrderView { state, originator: &originator, provider: provider.as_ref() };
    let name = format!("repairOrders/{}", exception.name.trim_start_matches("repairOrders/"));
    let current = exceptions_on(order, state, std::slice::from_ref(exception))?
        .pop()
        .ok_or_else(|| CoreError::NotFound(name.clone()))?;
    exceptions::check_answer(&current, view, caller).map_err(|e| exception_error(&name, e))?;
    let (answered, revision) = exceptions::answer(current, answer, caller, time);
    let mut next = stepped_on(order, time);
    match revision {
        Some(Revision::EstimatedCost(m)) => {
            next.funding.get_or_insert_with(Default::default).estimated_cost =
                Some(pb::Money { currency_code: m.currency, amount_minor: m.amount_minor });
        }
        Some(Revision::EstimatedCompletion(d)) => {
            let mut progress = progress_in(&mut Violations::new(), &order.progress);
            progress.estimated_completion_date = Some(d);
            next.progress = Some(progress_out(&progress));
        }
        None => {}
    }
    Ok((exception_out(&answered), next))
}

/// The parent and parts of a split by `actor`, who last saw `version`.
pub fn split(
    parent: &pb::RepairOrder,
    actor: &PartyId,
    actor_is_coordinator: bool,
    version: i64,
    quantities: &[u32],
    time: DateTime<Utc>,
) -> Result<(pb::RepairOrder, Vec<pb::RepairOrder>)> {
    if !(actor_is_coordinator || actor.as_str() == parent.originator) {
        return Err(CoreError::PermissionDenied("only the originator or a coordinator may split an order".into()));
    }
    let v = cosx_domain::lifecycle::split_violations(parent.quantity, quantities);
    if !v.is_empty() {
        return Err(v.into());
    }
    let open = [pb::RepairOrderState::Submitted as i32, pb::RepairOrderState::Declined as i32];
    if !open.contains(&parent.state) {
        return Err(CoreError::FailedPrecondition(format!(
            "only a SUBMITTED or DECLINED order can be split; {} is not",
            parent.name
        )));
    }
    CoreError::check_version(&parent.name, parent.version, version)?;
    let id = parent.name.trim_start_matches("repairOrders/");
    let hours_per_item = parent.estimated_labor_hours / f64::from(parent.quantity.max(1));
    let parts = quantities
        .iter()
        .zip(split_part_ids(id, quantities.len()))
        .map(|(&q, part_id)| {
            let mut part = parent.clone();
            part.name = format!("repairOrders/{part_id}");
            part.quantity = q;
            part.estimated_labor_hours = hours_per_item * f64::from(q);
            part.state = pb::RepairOrderState::Submitted as i32;
            part.provider = String::new();
            part.version = 1;
            part.parent = parent.name.clone();
            part.create_time = timestamp(time);
            part.update_time = timestamp(time);
            part.progress = Some(pb::WorkProgress::default());
            part
        })
        .collect();
    let mut cancelled = parent.clone();
    cancelled.state = state_out(RepairOrderState::Cancelled);
    cancelled.version += 1;
    cancelled.update_time = timestamp(time);
    Ok((cancelled, parts))
}

/// The offer as the shared change rule sees it.
fn offer_view<'a>(offer: &pb::CapacityOffer, provider: &'a PartyId) -> OfferView<'a> {
    let state = match pb::CapacityOfferState::try_from(offer.state) {
        Ok(pb::CapacityOfferState::Active) => OfferState::Active,
        Ok(pb::CapacityOfferState::Expired) => OfferState::Expired,
        _ => OfferState::Withdrawn,
    };
    OfferView { provider, state, version: offer.version }
}

/// The offer's provider, as the replica holds it.
fn provider_of(offer: &pb::CapacityOffer) -> Result<PartyId> {
    PartyId::parse(&offer.provider)
        .map_err(|e| CoreError::Store(cosx_edge::StoreError::Corrupt(format!("{}: provider {e}", offer.name))))
}

/// The offer replaced by `draft` by `caller`, who last saw `version` (the
/// coordinator's rule, [`offers::check_change`]).
pub fn updated_offer(
    offer: &pb::CapacityOffer,
    caller: &PartyId,
    draft: CapacityOfferDraft,
    version: i64,
    time: DateTime<Utc>,
) -> Result<pb::CapacityOffer> {
    let provider = provider_of(offer)?;
    offers::check_change(offer_view(offer, &provider), caller, version, Some(&draft.provider))
        .map_err(|e| offer_change_error(&offer.name, e))?;
    let id = offer.name.trim_start_matches("capacityOffers/");
    let mut next = created_offer(id, draft, time);
    next.version = offer.version + 1;
    next.create_time = offer.create_time;
    Ok(next)
}

/// The offer withdrawn by `caller`, who last saw `version`.
pub fn withdrawn_offer(
    offer: &pb::CapacityOffer,
    caller: &PartyId,
    version: i64,
    time: DateTime<Utc>,
) -> Result<pb::CapacityOffer> {
    let provider = provider_of(offer)?;
    offers::check_change(offer_view(offer, &provider), caller, version, None)
        .map_err(|e| offer_change_error(&offer.name, e))?;
    let mut next = offer.clone();
    next.state = pb::CapacityOfferState::Withdrawn as i32;
    next.version += 1;
    next.update_time = timestamp(time);
    Ok(next)
}

fn unreadable(name: &str, v: &Violations) -> CoreError {
    CoreError::FailedPrecondition(format!("{name} is not readable at this node: {v}"))
}

/// `caller`'s answer (or revision) of `quote`, last read at `version`, on
/// `order` (both as the replica holds them): the coordinator's rule
/// (`quotes::check_answer`) and step (`quotes::answer`).
pub fn submitted_quote(
    order: &pb::RepairOrder,
    quote: &pb::Quote,
    caller: &PartyId,
    version: i64,
    terms: QuoteTerms,
    time: DateTime<Utc>,
) -> Result<pb::Quote> {
    let mut v = Violations::new();
    let current = quote_in(&mut v, quote).ok_or_else(|| unreadable(&quote.name, &v))?;
    CoreError::check_version(&quote.name, current.version, version)?;
    let (state, originator, provider) = order_parts(order)?;
    let view = OrderView { state, originator: &originator, provider: provider.as_ref() };
    quotes::check_answer(&current, view, caller, &terms, time.date_naive()).map_err(|e| quote_error(&quote.name, e))?;
    Ok(quote_out(&quotes::answer(current, terms, time)))
}

/// A new comment `name` by `author` on `record` (whose visibility the
/// caller has checked: a comment is seen as its record is).
pub fn added_comment(
    record: RecordRef,
    name: &str,
    author: &PartyId,
    body: CommentBody,
    time: DateTime<Utc>,
) -> pb::Comment {
    comment_out(&Comment::written(record, name, author, body, time))
}

/// `comment`, last read at `version`, edited by `caller` to `body`
/// (`comments::edit`), or withdrawn when `body` is `None` (`comments::withdraw`).
pub fn changed_comment(
    comment: &pb::Comment,
    caller: &PartyId,
    version: i64,
    body: Option<CommentBody>,
    time: DateTime<Utc>,
) -> Result<pb::Comment> {
    let mut v = Violations::new();
    let current = comment_in(&mut v, comment).ok_or_else(|| unreadable(&comment.name, &v))?;
    CoreError::check_version(&comment.name, current.version, version)?;
    let next = match body {
        Some(body) => comments::edit(&current, caller, body, time),
        None => comments::withdraw(&current, caller, time),
    };
    Ok(comment_out(&next.map_err(|e| comment_error(&comment.name, e))?))
}

/// A notice `me` declares as `id`: the coordinator's rule
/// (`disruptions::check_declare`) over the sites of the party's own
/// offers the replica holds (`offers`) and its active notices there
/// (`known`). Whom it strands is the coordinator's to find: the node holds
/// no other party's orders, so the notice affects no one until its answer.
pub fn declared_disruption(
    me: &Party,
    id: String,
    draft: DisruptionDraft,
    offers: &[pb::CapacityOffer],
    known: &[pb::Disruption],
    time: DateTime<Utc>,
) -> Result<pb::Disruption> {
    let mut sites: Vec<String> = offers
        .iter()
        .filter(|o| o.provider == me.id.as_str())
        .filter_map(|o| o.site.as_ref().map(|s| s.name.clone()))
        .collect();
    sites.sort();
    sites.dedup();
    let active = known
        .iter()
        .filter_map(|d| disruption_in(&mut Violations::new(), d))
        .filter(|d| d.draft.provider == me.id && d.state == DisruptionState::Active && d.draft.site == draft.site)
        .count();
    disruptions::check_declare(me, &draft, &sites, active).map_err(|e| disruption_error("disruption", e))?;
    Ok(disruption_out(&Disruption::declared(id, draft, time)))
}

/// `notice`, last read at `version`, changed by `caller` to `draft`
/// (`disruptions::check_update`, `disruptions::updated`), or resolved
/// with a reason when `draft` is `Err` (`check_resolve`, `resolved`).
pub fn changed_disruption(
    notice: &pb::Disruption,
    caller: &PartyId,
    version: i64,
    change: std::result::Result<DisruptionDraft, String>,
    time: DateTime<Utc>,
) -> Result<pb::Disruption> {
    let mut v = Violations::new();
    let current = disruption_in(&mut v, notice).ok_or_else(|| unreadable(&notice.name, &v))?;
    CoreError::check_version(&notice.name, current.version, version)?;
    let next = match change {
        Ok(draft) => {
            disruptions::check_update(&current, caller, &draft).map(|()| disruptions::updated(current, draft, time))
        }
        Err(resolution) => {
            disruptions::check_resolve(&current, caller).map(|()| disruptions::resolved(current, resolution, time))
        }
    };
    Ok(disruption_out(&next.map_err(|e| disruption_error(&notice.name, e))?))
}

/// The quotes `caller` asks `providers` for on `order` (whose quotes the
/// replica knows as `known`): the coordinator's rules
/// (`quotes::check_request`, `quotes::request`) and names
/// (`quotes::quote_id`). Whether each provider is eligible is the
/// coordinator's to judge; it refuses the write if one is not.
pub fn requested_quotes(
    order: &pb::RepairOrder,
    known: &[pb::Quote],
    caller: &PartyId,
    caller_is_coordinator: bool,
    providers: &[PartyId],
    time: DateTime<Utc>,
) -> Result<Vec<pb::Quote>> {
    let (state, originator, provider) = order_parts(order)?;
    let view = OrderView { state, originator: &originator, provider: provider.as_ref() };
    quotes::check_may_ask(view, caller, caller_is_coordinator).map_err(|e| quote_error(&order.name, e))?;
    let id = order.name.trim_start_matches("repairOrders/");
    let mut v = Violations::new();
    let mut asked = Vec::with_capacity(providers.len());
    for (i, p) in providers.iter().enumerate() {
        let existing =
            known.iter().filter_map(|q| quote_in(&mut Violations::new(), q)).find(|q| q.id == quotes::quote_id(id, p));
        match quotes::check_request(view, caller, caller_is_coordinator, p, existing.as_ref(), time.date_naive()) {
            Ok(()) => asked.push(quote_out(&quotes::request(
                existing,
                quotes::Quote::requested(id, &originator, p, caller, time),
            ))),
            Err(e) => v.add(format!("providers[{i}]"), format!("{p} {e}")),
        }
    }
    if !v.is_empty() {
        return Err(v.into());
    }
    Ok(asked)
}

/// `quote`, last read at `version`, accepted by `caller`, and `order`
/// PROPOSED to its provider with the quoted price as its estimate: the
/// coordinator's rules (`quotes::check_accept`, `quotes::price_at_quote`).
/// Whether the provider may still be proposed the order (allocation's
/// eligibility) is the coordinator's to judge; the other quotes on the
/// order close there, each on its own provider's feed.
pub fn accepted_quote(
    order: &pb::RepairOrder,
    quote: &pb::Quote,
    caller: &PartyId,
    version: i64,
    time: DateTime<Utc>,
) -> Result<(pb::Quote, pb::RepairOrder)> {
    let mut v = Violations::new();
    let current = quote_in(&mut v, quote).ok_or_else(|| unreadable(&quote.name, &v))?;
    CoreError::check_version(&quote.name, current.version, version)?;
    let (state, originator, provider) = order_parts(order)?;
    let view = OrderView { state, originator: &originator, provider: provider.as_ref() };
    let step =
        quotes::check_accept(&current, view, caller, time.date_naive()).map_err(|e| quote_error(&quote.name, e))?;
    let terms =
        current.terms.clone().ok_or_else(|| CoreError::FailedPrecondition(format!("{} has no terms", quote.name)))?;
    let mut next = stepped_on(order, time);
    next.state = state_out(step.to);
    next.provider = step.provider.map(|p| p.to_string()).unwrap_or_default();
    let mut funding = cosx_domain::records::Funding {
        source: None,
        estimated_cost: money_in(&order.funding.as_ref().and_then(|f| f.estimated_cost.clone())),
        actual_cost: None,
        fmf_funded: false,
        dsca_waiver_reference: None,
    };
    quotes::price_at_quote(&mut funding, &terms);
    next.funding.get_or_insert_with(Default::default).estimated_cost =
        funding.estimated_cost.map(|m| pb::Money { currency_code: m.currency, amount_minor: m.amount_minor });
    Ok((quote_out(&quotes::accepted(current, time)), next))
}

/// The request `caller` makes of `owner` for a version of `record` newer
/// than `version` (the record as the replica holds it, which the caller has
/// read as the party may see it): the coordinator's rule
/// (`update_requests::check_ask_record`). The node names it provisionally.
pub fn requested_update(
    id: String,
    caller: &PartyId,
    owner: PartyId,
    record: RecordRef,
    version: i64,
    text: Option<String>,
    time: DateTime<Utc>,
) -> Result<pb::UpdateRequest> {
    update_requests::check_ask_record(caller, &owner).map_err(|e| update_request_error(&record.name(), e))?;
    let subject = UpdateSubject::Record { record, version };
    Ok(update_request_out(&UpdateRequest::asked(id, caller.clone(), owner, subject, text, time)))
}

/// `request`, last read at `version`, answered by `caller` (`answer`:
/// `update_requests::check_answer`) or withdrawn (`None`: `check_withdraw`).
pub fn closed_update_request(
    request: &pb::UpdateRequest,
    caller: &PartyId,
    caller_is_coordinator: bool,
    version: i64,
    answer: Option<String>,
    time: DateTime<Utc>,
) -> Result<pb::UpdateRequest> {
    let mut v = Violations::new();
    let current = update_request_in(&mut v, request).ok_or_else(|| unreadable(&request.name, &v))?;
    CoreError::check_version(&request.name, current.version, version)?;
    let checked = match &answer {
        Some(_) => update_requests::check_answer(&current, caller),
        None => update_requests::check_withdraw(&current, caller, caller_is_coordinator, update_requests::SYSTEM_ACTOR),
    };
    checked.map_err(|e| update_request_error(&request.name, e))?;
    let state = if answer.is_some() { UpdateRequestState::Answered } else { UpdateRequestState::Withdrawn };
    Ok(update_request_out(&current.closed(state, answer, time)))
}
