//! Requests as a party sends them, parsed into the domain's terms with
//! every bad field named: record drafts, lifecycle steps, resource names,
//! and the idempotency key of a request (its id and a hash of its payload).
//! The coordinator's services and a party node's parse requests here alike,
//! so both refuse the same input with the same field violations.
//!
//! Never authorizes or stores anything: what a parsed request may do is the
//! core's and the node's to decide.

use cosx_domain::Violations;
use cosx_proto::v1 as pb;
use sha2::{Digest, Sha256};
use tonic::Status;
use tonic_types::StatusExt;

use crate::convert::*;
use crate::error::CoreError;

/// What a client asked to be idempotent: its request id and a hash of the payload.
#[derive(Debug, Clone, Default)]
pub struct RequestKey {
    /// The caller's request id; empty for none.
    pub request_id: String,
    /// Hash of the request payload.
    pub payload_hash: String,
    /// The id the caller chose for the record the request creates (party
    /// nodes choose them, so that the name they answered with holds).
    pub new_id: Option<String>,
}

/// The idempotency key of a request: its id and a hash of its payload.
pub fn request_key<M: prost::Message>(request_id: &str, payload: &M) -> Result<RequestKey, Status> {
    let mut v = Violations::new();
    if request_id.len() > 128 || request_id.chars().any(char::is_control) {
        v.add("request_id", "at most 128 printable characters");
    }
    if !v.is_empty() {
        return Err(CoreError::Invalid(v).into());
    }
    Ok(RequestKey {
        request_id: request_id.to_owned(),
        payload_hash: hex::encode(Sha256::digest(payload.encode_to_vec())),
        new_id: None,
    })
}

/// The idempotency key of a request that creates a record for `owner`,
/// with the id the caller chose for it (`field`; empty for none) put in the
/// owner's namespace ([`cosx_domain::records::owned_record_id`]); the
/// qualified id counts as payload, so `name` and `OWNER.name` are one request.
pub fn create_key<M: prost::Message>(
    owner: &cosx_domain::PartyId,
    request_id: &str,
    payload: &M,
    field: &str,
    new_id: &str,
) -> Result<RequestKey, Status> {
    let mut key = request_key(request_id, payload)?;
    if new_id.is_empty() {
        return Ok(key);
    }
    let id = cosx_domain::records::owned_record_id(owner, new_id).map_err(|why| {
        let mut v = Violations::new();
        v.add(field, why);
        Status::from(CoreError::Invalid(v))
    })?;
    key.payload_hash = hex::encode(Sha256::digest(format!("{}/{id}", key.payload_hash)));
    key.new_id = Some(id);
    Ok(key)
}

/// Fails with every violation when there are any.
pub fn valid<T>(v: Violations, value: Option<T>) -> Result<T, Status> {
    match value {
        Some(x) if v.is_empty() => Ok(x),
        _ => {
            let mut v = v;
            if v.is_empty() {
                v.add("request", "is incomplete");
            }
            Err(CoreError::Invalid(v).into())
        }
    }
}

/// The event kinds a feed or export subscriber asked for (`kinds`; none
/// means every kind). Only values that name a kind are kept, since no
/// event carries any other: a request listing a million values costs its
/// parse once, never a scan of the list per event.
#[derive(Debug, Clone, Default)]
pub struct KindFilter(Option<std::collections::BTreeSet<i32>>);

impl KindFilter {
    /// The filter `kinds` asks for.
    pub fn new(kinds: &[i32]) -> Self {
        if kinds.is_empty() {
            return KindFilter(None);
        }
        KindFilter(Some(kinds.iter().copied().filter(|k| pb::EventKind::try_from(*k).is_ok()).collect()))
    }

    /// Whether an event of `kind` goes to the subscriber.
    pub fn admits(&self, kind: i32) -> bool {
        self.0.as_ref().is_none_or(|kinds| kinds.contains(&kind))
    }
}
/// Refuses a change that does not name, in `field`, the `version` of the
/// `record` (a quote, a comment, ...) the caller last read.
pub fn version_in(v: &mut Violations, field: &str, version: i64, record: &str) {
    if version <= 0 {
        v.add(field, format!("is required: the version of the {record} you last read"));
    }
}

/// A repair order as submitted, parsed and checked.
pub fn order_draft(order: &Option<pb::RepairOrder>) -> Result<cosx_domain::records::RepairOrderDraft, Status> {
    let mut v = Violations::new();
    let draft = repair_order_in(&mut v, "repair_order", order);
    valid(v, draft)
}

/// A capacity offer as submitted, parsed and checked.
pub fn offer_draft(offer: &Option<pb::CapacityOffer>) -> Result<cosx_domain::records::CapacityOfferDraft, Status> {
    let mut v = Violations::new();
    let draft = capacity_offer_in(&mut v, "capacity_offer", offer);
    valid(v, draft)
}

/// An availability report as submitted, parsed and checked against DoDI
/// 3110.05's own rules (inventory identities, times within possible time, ...).
pub fn report_draft(
    report: &Option<pb::AvailabilityReport>,
) -> Result<cosx_domain::records::AvailabilityReportDraft, Status> {
    let mut v = Violations::new();
    let draft = availability_report_in(&mut v, "availability_report", report);
    if let Some(d) = &draft
        && v.is_empty()
    {
        let probe = cosx_domain::AvailabilityReport {
            id: String::new(),
            draft: d.clone(),
            version: 0,
            supersedes: None,
            create_time: chrono::Utc::now(),
        };
        cosx_availability::record::validate(&probe, "availability_report", &mut v);
    }
    valid(v, draft)
}

/// A lifecycle step as asked for, parsed.
pub struct Step {
    /// The order's id, from its resource name.
    pub id: String,
    /// The step asked for.
    pub action: cosx_domain::Action,
    /// The reason given, if any (required by some steps).
    pub reason: Option<String>,
    /// Work progress reported with the step.
    pub progress: cosx_domain::records::WorkProgress,
}

/// Parses a transition request (all but its version and request id).
pub fn step_in(r: &pb::TransitionRepairOrderRequest) -> Result<Step, Status> {
    let mut v = Violations::new();
    let id = resource_id(&mut v, "name", &r.name, "repairOrders");
    let action = action_in(&mut v, r.action, &r.provider);
    let progress = progress_in(&mut v, &r.progress);
    let reason = v.check("reason", cosx_domain::vocab::parse_text(&r.reason)).filter(|s| !s.is_empty());
    if r.version <= 0 {
        v.add("version", "is required: the version of the order you last read");
    }
    let (id, action) = valid(v, id.zip(action))?;
    Ok(Step { id, action, reason, progress })
}

/// The id in a resource name of `collection` (`repairOrders/{id}`), or the
/// field violation on `name`.
pub fn id_of(name: &str, collection: &str) -> Result<String, Status> {
    let mut v = Violations::new();
    let id = resource_id(&mut v, "name", name, collection);
    valid(v, id)
}

/// `None` for an empty string.
pub fn optional_string(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// One ingest record's outcome.
pub fn ingest_result(index: u64, outcome: Result<String, Status>) -> pb::IngestResult {
    match outcome {
        Ok(name) => pb::IngestResult { index, name, code: 0, message: String::new(), field_violations: vec![] },
        Err(status) => pb::IngestResult {
            index,
            name: String::new(),
            code: status.code() as i32,
            message: status.message().to_owned(),
            field_violations: status
                .get_details_bad_request()
                .map(|b| b.field_violations.into_iter().map(|f| format!("{}: {}", f.field, f.description)).collect())
                .unwrap_or_default(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// None asked means every kind; a huge list keeps only the kinds it
    /// names, so matching an event never scans it.
    #[test]
    fn a_kind_filter_keeps_only_kinds_and_none_asked_means_every_kind() {
        let created = pb::EventKind::RepairOrderCreated as i32;
        let every = KindFilter::new(&[]);
        assert!(every.admits(created) && every.admits(12_345));
        let mut huge: Vec<i32> = (1_000..1_001_000).collect();
        huge.extend([created, created]);
        let asked = KindFilter::new(&huge);
        assert!(asked.admits(created));
        assert!(!asked.admits(1_000) && !asked.admits(pb::EventKind::Checkpoint as i32));
        assert_eq!(asked.0.as_ref().map(std::collections::BTreeSet::len), Some(1));
        assert!(!KindFilter::new(&[-5]).admits(created), "a list naming no kind admits nothing, as before");
    }
}
