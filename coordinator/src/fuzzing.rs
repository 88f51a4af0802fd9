//! Entry points for fuzzing: untrusted bytes through exactly the steps a
//! request takes before it reaches the core — protobuf decode, conversion
//! into domain types with field paths, validation, idempotency key — and an
//! exported audit log through the offline verifier.
//!
//! Shared by the `cargo fuzz` targets in `fuzz/` and the stable smoke fuzz
//! test, so both exercise the same code. Each function must return, never
//! panic, whatever the input; they touch no store and no network. When a
//! handler gains a parsing step, mirror it here.

use cosx_domain::Violations;
use cosx_proto::v1 as pb;
use prost::Message;

use cosx_edge::convert::*;

/// Every request type the harness knows, by gRPC method name.
pub const METHODS: &[&str] = &[
    "GetParty",
    "ListParties",
    "RegisterParty",
    "SuspendParty",
    "CreateRepairOrder",
    "GetRepairOrder",
    "ListRepairOrders",
    "TransitionRepairOrder",
    "SplitRepairOrder",
    "GetRepairOrderHistory",
    "CreateCapacityOffer",
    "GetCapacityOffer",
    "ListCapacityOffers",
    "UpdateCapacityOffer",
    "WithdrawCapacityOffer",
    "SubmitAvailabilityReport",
    "GetAvailabilityReport",
    "ListAvailabilityReports",
    "SetAvailabilityTarget",
    "ListAvailabilityTargets",
    "SubmitQuote",
    "GetQuote",
    "AcceptQuote",
    "AddComment",
    "EditComment",
    "GetComment",
    "RequestUpdate",
    "AnswerUpdateRequest",
    "RaiseException",
    "AnswerException",
    "DeclareDisruption",
    "ResolveDisruption",
    "Ingest",
    "Subscribe",
];

/// What became of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not a message of that type.
    Undecodable,
    /// Decoded, and refused with field violations.
    Refused,
    /// Decoded and valid as far as the API layer can tell.
    Accepted,
}

fn outcome<T>(v: Violations, value: Option<T>) -> Outcome {
    if crate::api::valid(v, value).is_ok() { Outcome::Accepted } else { Outcome::Refused }
}

fn id(name: &str, collection: &str) -> Outcome {
    let mut v = Violations::new();
    let id = resource_id(&mut v, "name", name, collection);
    outcome(v, id)
}

fn key<M: Message>(request_id: &str, payload: &M) -> bool {
    crate::api::request_key(request_id, payload).is_ok()
}

fn order(o: &Option<pb::RepairOrder>, request_id: &str) -> Outcome {
    let mut v = Violations::new();
    let draft = repair_order_in(&mut v, "repair_order", o);
    match outcome(v, draft) {
        Outcome::Accepted if key(request_id, &o.clone().unwrap_or_default()) => Outcome::Accepted,
        _ => Outcome::Refused,
    }
}

fn offer(o: &Option<pb::CapacityOffer>, request_id: &str) -> Outcome {
    let mut v = Violations::new();
    let draft = capacity_offer_in(&mut v, "capacity_offer", o);
    match outcome(v, draft) {
        Outcome::Accepted if key(request_id, &o.clone().unwrap_or_default()) => Outcome::Accepted,
        _ => Outcome::Refused,
    }
}

fn report(r: &Option<pb::AvailabilityReport>, request_id: &str) -> Outcome {
    let mut v = Violations::new();
    let draft = availability_report_in(&mut v, "availability_report", r);
    if let Some(d) = &draft
        && v.is_empty()
    {
        let probe = cosx_domain::AvailabilityReport {
            id: String::new(),
            draft: d.clone(),
            version: 0,
            supersedes: None,
            create_time: chrono::DateTime::UNIX_EPOCH,
        };
        crate::signals::availability::validate(&probe, "availability_report", &mut v);
    }
    match outcome(v, draft) {
        Outcome::Accepted if key(request_id, &r.clone().unwrap_or_default()) => Outcome::Accepted,
        _ => Outcome::Refused,
    }
}

macro_rules! decode {
    ($ty:ty, $bytes:expr) => {
        match <$ty>::decode($bytes) {
            Ok(m) => m,
            Err(_) => return Outcome::Undecodable,
        }
    };
}

/// Decodes `bytes` as the request of `method` and parses it as its handler
/// does. Unknown method names are `Undecodable`.
pub fn request(method: &str, bytes: &[u8]) -> Outcome {
    match method {
        "GetParty" | "SuspendParty" => {
            let r = decode!(pb::SuspendPartyRequest, bytes);
            let mut v = Violations::new();
            let id = v.check("name", cosx_domain::PartyId::parse(r.name.strip_prefix("parties/").unwrap_or(&r.name)));
            if !r.etag.is_empty() {
                v.check("etag", r.etag.parse::<i64>().map_err(|_| "not an etag of this server"));
            }
            outcome(v, id)
        }
        "ListParties" => {
            let r = decode!(pb::ListPartiesRequest, bytes);
            let mut v = Violations::new();
            let _ = optional_enum(&mut v, "kind", r.kind, party_kind_in);
            outcome(v, Some(()))
        }
        "RegisterParty" => {
            let r = decode!(pb::RegisterPartyRequest, bytes);
            let mut v = Violations::new();
            let party = party_in(&mut v, &r.party);
            match outcome(v, party) {
                Outcome::Accepted if key(&r.request_id, &r.party.clone().unwrap_or_default()) => Outcome::Accepted,
                _ => Outcome::Refused,
            }
        }
        "CreateRepairOrder" => {
            let r = decode!(pb::CreateRepairOrderRequest, bytes);
            order(&r.repair_order, &r.request_id)
        }
        "GetRepairOrder" | "GetRepairOrderHistory" => {
            id(&decode!(pb::GetRepairOrderRequest, bytes).name, "repairOrders")
        }
        "ListRepairOrders" => {
            let r = decode!(pb::ListRepairOrdersRequest, bytes);
            let mut v = Violations::new();
            let _ = optional_enum(&mut v, "state", r.state, state_in);
            let _ = optional_enum(&mut v, "region", r.region, region_in);
            outcome(v, Some(()))
        }
        "TransitionRepairOrder" => {
            let r = decode!(pb::TransitionRepairOrderRequest, bytes);
            let mut v = Violations::new();
            let id = resource_id(&mut v, "name", &r.name, "repairOrders");
            let action = action_in(&mut v, r.action, &r.provider);
            let _ = progress_in(&mut v, &r.progress);
            let _ = v.check("reason", cosx_domain::vocab::parse_text(&r.reason));
            if r.version <= 0 {
                v.add("version", "is required");
            }
            match outcome(v, id.zip(action)) {
                Outcome::Accepted if key(&r.request_id, &r) => Outcome::Accepted,
                _ => Outcome::Refused,
            }
        }
        "SplitRepairOrder" => {
            let r = decode!(pb::SplitRepairOrderRequest, bytes);
            match id(&r.name, "repairOrders") {
                Outcome::Accepted if key(&r.request_id, &r) => Outcome::Accepted,
                _ => Outcome::Refused,
            }
        }
        "CreateCapacityOffer" => {
            let r = decode!(pb::CreateCapacityOfferRequest, bytes);
            offer(&r.capacity_offer, &r.request_id)
        }
        "GetCapacityOffer" | "WithdrawCapacityOffer" => {
            id(&decode!(pb::WithdrawCapacityOfferRequest, bytes).name, "capacityOffers")
        }
        "ListCapacityOffers" => {
            let r = decode!(pb::ListCapacityOffersRequest, bytes);
            let mut v = Violations::new();
            let _ = optional_enum(&mut v, "region", r.region, region_in);
            outcome(v, Some(()))
        }
        "UpdateCapacityOffer" => {
            let r = decode!(pb::UpdateCapacityOfferRequest, bytes);
            let name = r.capacity_offer.as_ref().map(|o| o.name.clone()).unwrap_or_default();
            match (id(&name, "capacityOffers"), offer(&r.capacity_offer, &r.request_id)) {
                (Outcome::Accepted, Outcome::Accepted) => Outcome::Accepted,
                _ => Outcome::Refused,
            }
        }
        "SubmitAvailabilityReport" => {
            let r = decode!(pb::SubmitAvailabilityReportRequest, bytes);
            report(&r.availability_report, &r.request_id)
        }
        "GetAvailabilityReport" => id(&decode!(pb::GetAvailabilityReportRequest, bytes).name, "availabilityReports"),
        "ListAvailabilityReports" => {
            let _ = decode!(pb::ListAvailabilityReportsRequest, bytes);
            Outcome::Accepted
        }
        "SetAvailabilityTarget" => {
            let r = decode!(pb::SetAvailabilityTargetRequest, bytes);
            let mut v = Violations::new();
            let draft = availability_target_in(&mut v, &r.target);
            match outcome(v, draft) {
                Outcome::Accepted if key(&r.request_id, &r.target.clone().unwrap_or_default()) => Outcome::Accepted,
                _ => Outcome::Refused,
            }
        }
        "ListAvailabilityTargets" => {
            let _ = decode!(pb::ListAvailabilityTargetsRequest, bytes);
            Outcome::Accepted
        }
        "Ingest" => {
            let r = decode!(pb::IngestRequest, bytes);
            use pb::ingest_request::Record;
            match &r.record {
                Some(Record::RepairOrder(o)) => order(&Some(o.clone()), &r.request_id),
                Some(Record::CapacityOffer(o)) => offer(&Some(o.clone()), &r.request_id),
                Some(Record::AvailabilityReport(a)) => report(&Some(a.clone()), &r.request_id),
                None => Outcome::Refused,
            }
        }
        "SubmitQuote" => {
            let r = decode!(pb::SubmitQuoteRequest, bytes);
            let mut v = Violations::new();
            let name = quote_name_in(&mut v, "name", &r.name);
            let terms = quote_terms_in(&mut v, "terms", &r.terms);
            match outcome(v, name.zip(terms)) {
                Outcome::Accepted if key(&r.request_id, &r) => Outcome::Accepted,
                _ => Outcome::Refused,
            }
        }
        "GetQuote" | "AcceptQuote" => {
            let r = decode!(pb::GetQuoteRequest, bytes);
            let mut v = Violations::new();
            let name = quote_name_in(&mut v, "name", &r.name);
            outcome(v, name)
        }
        "AddComment" => {
            let r = decode!(pb::AddCommentRequest, bytes);
            let mut v = Violations::new();
            let record = comment_parent_in(&mut v, &r.parent, &r.demand_cell);
            let body = comment_content_in(&mut v, "content", &r.content);
            match outcome(v, record.zip(body)) {
                Outcome::Accepted if key(&r.request_id, &r) => Outcome::Accepted,
                _ => Outcome::Refused,
            }
        }
        "EditComment" => {
            let r = decode!(pb::EditCommentRequest, bytes);
            let mut v = Violations::new();
            let name = comment_name_in(&mut v, "name", &r.name);
            let body = comment_content_in(&mut v, "content", &r.content);
            outcome(v, name.zip(body))
        }
        "GetComment" => {
            let r = decode!(pb::GetCommentRequest, bytes);
            let mut v = Violations::new();
            let name = comment_name_in(&mut v, "name", &r.name);
            outcome(v, name)
        }
        "RequestUpdate" => {
            let r = decode!(pb::RequestUpdateRequest, bytes);
            let mut v = Violations::new();
            let ask = update_ask_in(&mut v, &r.record, &r.missing_report, &r.text);
            outcome(v, ask)
        }
        "AnswerUpdateRequest" => {
            let r = decode!(pb::AnswerUpdateRequestRequest, bytes);
            let mut v = Violations::new();
            let id = resource_id(&mut v, "name", &r.name, "updateRequests");
            let answer = v.check("answer", cosx_domain::comments::parse_text(&r.answer));
            outcome(v, id.zip(answer))
        }
        "RaiseException" => {
            let r = decode!(pb::RaiseExceptionRequest, bytes);
            let mut v = Violations::new();
            let order = resource_id(&mut v, "parent", &r.parent, "repairOrders");
            let cause = exception_cause_in(&mut v, &r);
            match outcome(v, order.zip(cause)) {
                Outcome::Accepted if key(&r.request_id, &r) => Outcome::Accepted,
                _ => Outcome::Refused,
            }
        }
        "AnswerException" => {
            let r = decode!(pb::AnswerExceptionRequest, bytes);
            let mut v = Violations::new();
            let name = exception_name_in(&mut v, "name", &r.name);
            let answer = exception_answer_in(&mut v, &r);
            match outcome(v, name.zip(answer)) {
                Outcome::Accepted if key(&r.request_id, &r) => Outcome::Accepted,
                _ => Outcome::Refused,
            }
        }
        "DeclareDisruption" => {
            let r = decode!(pb::DeclareDisruptionRequest, bytes);
            let mut v = Violations::new();
            // The provider is the caller's identity, never a request field.
            let provider = cosx_domain::PartyId::parse("JPN-MHI-KOMAKI").ok();
            let draft = provider.and_then(|p| disruption_draft_in(&mut v, "disruption", &p, &r.disruption));
            match outcome(v, draft) {
                Outcome::Accepted if key(&r.request_id, &r) => Outcome::Accepted,
                _ => Outcome::Refused,
            }
        }
        "ResolveDisruption" => {
            let r = decode!(pb::ResolveDisruptionRequest, bytes);
            let mut v = Violations::new();
            let id = resource_id(&mut v, "name", &r.name, "disruptions");
            let resolution = disruption_text_in(&mut v, "resolution", &r.resolution);
            outcome(v, id.zip(resolution))
        }
        "Subscribe" => {
            let r = decode!(pb::SubscribeRequest, bytes);
            if r.after_sequence < 0 { Outcome::Refused } else { Outcome::Accepted }
        }
        _ => Outcome::Undecodable,
    }
}

/// Feeds `bytes` to the offline audit-log verifier as an exported log
/// (JSON lines), and, when they parse as entries, to the chain check itself.
/// Whether the log verified.
pub fn audit_log(bytes: &[u8]) -> bool {
    let verdict = crate::audit::verify_export(std::io::BufReader::new(bytes));
    let entries: Vec<cosx_domain::audit::AuditEntry> =
        bytes.split(|b| *b == b'\n').filter_map(|line| serde_json::from_slice(line).ok()).collect();
    let _ = cosx_domain::audit::verify(&entries);
    matches!(verdict, Ok(Ok(_)))
}
