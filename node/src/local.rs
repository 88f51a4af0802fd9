//! What a write does to a record, decided at the node before the
//! coordinator hears of it: the same lifecycle rules and parsing as the
//! coordinator, applied to the node's replica. Pure: no I/O, the time is
//! given. The coordinator still decides; what it refuses comes back as a
//! rejection.

use chrono::{DateTime, Utc};
use cosx_domain::lifecycle::{self, OrderView};
use cosx_domain::offers::{self, OfferView};
use cosx_domain::records::split_part_ids;
use cosx_domain::records::{
    AvailabilityReportDraft, AvailabilityTarget, AvailabilityTargetDraft, CapacityOfferDraft, OfferState,
    RepairOrderDraft, WorkProgress,
};
use cosx_domain::{Action, AvailabilityReport, CapacityOffer, PartyId, RepairOrder, RepairOrderState, Violations};
use cosx_proto::v1 as pb;

use cosx_edge::convert::{
    availability_report_out, availability_target_out, capacity_offer_out, progress_in, progress_out, repair_order_out,
    state_in, state_out, timestamp,
};
use cosx_edge::error::{CoreError, offer_change_error};

type Result<T> = std::result::Result<T, CoreError>;

/// A new order as the coordinator will store it under `id`.
pub fn created_order(id: &str, draft: RepairOrderDraft, time: DateTime<Utc>) -> pb::RepairOrder {
    repair_order_out(&RepairOrder {
        id: id.to_owned(),
        draft,
        state: RepairOrderState::Submitted,
        provider: None,
        version: 1,
        parent: None,
        create_time: time,
        update_time: time,
        progress: WorkProgress::default(),
    })
}

/// A new offer under `id`.
pub fn created_offer(id: &str, draft: CapacityOfferDraft, time: DateTime<Utc>) -> pb::CapacityOffer {
    capacity_offer_out(&CapacityOffer {
        id: id.to_owned(),
        draft,
        state: OfferState::Active,
        version: 1,
        create_time: time,
        update_time: time,
    })
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

/// The order after one lifecycle step by `actor`, who last saw `version`.
pub fn transitioned(
    order: &pb::RepairOrder,
    actor: &PartyId,
    actor_is_coordinator: bool,
    version: i64,
    action: &Action,
    progress: &WorkProgress,
    time: DateTime<Utc>,
) -> Result<pb::RepairOrder> {
    CoreError::check_version(&order.name, order.version, version)?;
    let mut v = Violations::new();
    let state = state_in(&mut v, "state".into(), order.state);
    let originator = party(&mut v, "originator", &order.originator);
    let provider = (!order.provider.is_empty()).then(|| party(&mut v, "provider", &order.provider)).flatten();
    let (Some(state), Some(originator)) = (state, originator) else {
        return Err(CoreError::FailedPrecondition(format!("{} is not readable at this node: {v}", order.name)));
    };
    let step = lifecycle::apply(
        OrderView { state, originator: &originator, provider: provider.as_ref() },
        actor,
        actor_is_coordinator,
        action,
    )
    .map_err(cosx_edge::error::lifecycle_error)?;
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
