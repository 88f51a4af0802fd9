//! The records and write methods the node's database holds, as protobuf:
//! which `cosx.v1` write each outbox row calls, which kinds of record the
//! replica keeps (and how they are named, versioned and read off the
//! coordinator's feed), and a record as a local client reads it.
//!
//! Pure data: never opens the database (that is `store`), never decides
//! whether a write may be made (that is `local`, through the domain's rules).

use chrono::{DateTime, Utc};
use cosx_proto::v1 as pb;
use prost::Message;

use super::{NodeStoreError, Result};

/// The cosx.v1 write methods a node forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `Exchange.CreateRepairOrder`.
    CreateRepairOrder,
    /// `Exchange.TransitionRepairOrder`.
    TransitionRepairOrder,
    /// `Exchange.SplitRepairOrder`.
    SplitRepairOrder,
    /// `Exchange.CreateCapacityOffer`.
    CreateCapacityOffer,
    /// `Exchange.UpdateCapacityOffer`.
    UpdateCapacityOffer,
    /// `Exchange.WithdrawCapacityOffer`.
    WithdrawCapacityOffer,
    /// `Exchange.SubmitAvailabilityReport`.
    SubmitAvailabilityReport,
    /// `Exchange.SetAvailabilityTarget`.
    SetAvailabilityTarget,
    /// `RepairExceptions.RaiseException`.
    RaiseException,
    /// `RepairExceptions.AnswerException`.
    AnswerException,
    /// `Quotes.SubmitQuote`.
    SubmitQuote,
    /// `Quotes.RequestQuotes` (named providers).
    RequestQuotes,
    /// `Quotes.AcceptQuote`.
    AcceptQuote,
    /// `Comments.AddComment`.
    AddComment,
    /// `Comments.EditComment`.
    EditComment,
    /// `Comments.WithdrawComment`.
    WithdrawComment,
    /// `UpdateRequests.RequestUpdate` (of a record).
    RequestUpdate,
    /// `UpdateRequests.AnswerUpdateRequest`.
    AnswerUpdateRequest,
    /// `UpdateRequests.WithdrawUpdateRequest`.
    WithdrawUpdateRequest,
    /// `Disruptions.DeclareDisruption`.
    DeclareDisruption,
    /// `Disruptions.UpdateDisruption`.
    UpdateDisruption,
    /// `Disruptions.ResolveDisruption`.
    ResolveDisruption,
}

impl Method {
    const ALL: [Method; 22] = [
        Method::CreateRepairOrder,
        Method::TransitionRepairOrder,
        Method::SplitRepairOrder,
        Method::CreateCapacityOffer,
        Method::UpdateCapacityOffer,
        Method::WithdrawCapacityOffer,
        Method::SubmitAvailabilityReport,
        Method::SetAvailabilityTarget,
        Method::RaiseException,
        Method::AnswerException,
        Method::SubmitQuote,
        Method::RequestQuotes,
        Method::AcceptQuote,
        Method::AddComment,
        Method::EditComment,
        Method::WithdrawComment,
        Method::RequestUpdate,
        Method::AnswerUpdateRequest,
        Method::WithdrawUpdateRequest,
        Method::DeclareDisruption,
        Method::UpdateDisruption,
        Method::ResolveDisruption,
    ];

    /// The method's name in its `cosx.v1` service (`Exchange` unless said).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::CreateRepairOrder => "CreateRepairOrder",
            Method::TransitionRepairOrder => "TransitionRepairOrder",
            Method::SplitRepairOrder => "SplitRepairOrder",
            Method::CreateCapacityOffer => "CreateCapacityOffer",
            Method::UpdateCapacityOffer => "UpdateCapacityOffer",
            Method::WithdrawCapacityOffer => "WithdrawCapacityOffer",
            Method::SubmitAvailabilityReport => "SubmitAvailabilityReport",
            Method::SetAvailabilityTarget => "SetAvailabilityTarget",
            Method::RaiseException => "RaiseException",
            Method::AnswerException => "AnswerException",
            Method::SubmitQuote => "SubmitQuote",
            Method::RequestQuotes => "RequestQuotes",
            Method::AcceptQuote => "AcceptQuote",
            Method::AddComment => "AddComment",
            Method::EditComment => "EditComment",
            Method::WithdrawComment => "WithdrawComment",
            Method::RequestUpdate => "RequestUpdate",
            Method::AnswerUpdateRequest => "AnswerUpdateRequest",
            Method::WithdrawUpdateRequest => "WithdrawUpdateRequest",
            Method::DeclareDisruption => "DeclareDisruption",
            Method::UpdateDisruption => "UpdateDisruption",
            Method::ResolveDisruption => "ResolveDisruption",
        }
    }

    pub(super) fn parse(s: &str) -> Result<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s).ok_or(NodeStoreError::Corrupt("outbox method"))
    }
}

/// A record as the coordinator (or, while pending, the node) has it.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // built once per write or event and moved little
pub enum Record {
    /// A repair order.
    RepairOrder(pb::RepairOrder),
    /// A capacity offer.
    CapacityOffer(pb::CapacityOffer),
    /// An availability report.
    AvailabilityReport(pb::AvailabilityReport),
    /// An availability target.
    AvailabilityTarget(pb::AvailabilityTarget),
    /// A party.
    Party(pb::Party),
    /// A repair exception on an order (`repairOrders/{order}/exceptions/{n}`):
    /// replicated so the node applies the same exception rules as the
    /// coordinator to its party's lifecycle steps.
    RepairException(pb::RepairException),
    /// A quote (`repairOrders/{order}/quotes/{provider}`): replicated so a
    /// provider's node answers its own quote with the coordinator's rules,
    /// and shows the order it was asked to quote on while the quote is open.
    Quote(pb::Quote),
    /// A comment (`{record}/comments/{id}`): replicated so its author's
    /// node edits and withdraws it with the coordinator's rules.
    Comment(pb::Comment),
    /// A disruption notice (`disruptions/{id}`): replicated so its
    /// provider's node updates and resolves it with the coordinator's rules.
    Disruption(pb::Disruption),
    /// A request for update (`updateRequests/{id}`): replicated so its
    /// addressee's node answers it, and its requester's withdraws it, with
    /// the coordinator's rules.
    UpdateRequest(pb::UpdateRequest),
}

/// Record kinds as stored in `replica.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Repair orders.
    RepairOrder,
    /// Capacity offers.
    CapacityOffer,
    /// Availability reports.
    AvailabilityReport,
    /// Availability targets.
    AvailabilityTarget,
    /// Parties.
    Party,
    /// Repair exceptions.
    RepairException,
    /// Quotes.
    Quote,
    /// Comments.
    Comment,
    /// Disruption notices.
    Disruption,
    /// Requests for update.
    UpdateRequest,
}

impl Kind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Kind::RepairOrder => "repair_order",
            Kind::CapacityOffer => "capacity_offer",
            Kind::AvailabilityReport => "availability_report",
            Kind::AvailabilityTarget => "availability_target",
            Kind::Party => "party",
            Kind::RepairException => "repair_exception",
            Kind::Quote => "quote",
            Kind::Comment => "comment",
            Kind::Disruption => "disruption",
            Kind::UpdateRequest => "update_request",
        }
    }

    pub(super) fn parse(s: &str) -> Result<Kind> {
        [
            Kind::RepairOrder,
            Kind::CapacityOffer,
            Kind::AvailabilityReport,
            Kind::AvailabilityTarget,
            Kind::Party,
            Kind::RepairException,
            Kind::Quote,
            Kind::Comment,
            Kind::Disruption,
            Kind::UpdateRequest,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or(NodeStoreError::Corrupt("record kind"))
    }
}

/// A message the replica holds as one [`Record`] variant: what lets a
/// handler ask for "the repair order named X" without matching variants.
pub trait Replicated: Message + Sized {
    /// The record holding this message.
    fn into_record(self) -> Record;
    /// The message, if `record` is of this kind.
    fn from_record(record: Record) -> Option<Self>;
}

macro_rules! replicated {
    ($($variant:ident),* $(,)?) => {$(
        impl Replicated for pb::$variant {
            fn into_record(self) -> Record {
                Record::$variant(self)
            }
            fn from_record(record: Record) -> Option<Self> {
                match record {
                    Record::$variant(r) => Some(r),
                    _ => None,
                }
            }
        }
    )*};
}

replicated!(RepairOrder, CapacityOffer, AvailabilityReport, AvailabilityTarget, Party, RepairException, Quote);
replicated!(Comment, Disruption, UpdateRequest);

impl Record {
    /// Its resource name, e.g. `repairOrders/{id}`.
    pub fn subject(&self) -> &str {
        match self {
            Record::RepairOrder(r) => &r.name,
            Record::CapacityOffer(r) => &r.name,
            Record::AvailabilityReport(r) => &r.name,
            Record::AvailabilityTarget(r) => &r.name,
            Record::Party(r) => &r.name,
            Record::RepairException(r) => &r.name,
            Record::Quote(r) => &r.name,
            Record::Comment(r) => &r.name,
            Record::Disruption(r) => &r.name,
            Record::UpdateRequest(r) => &r.name,
        }
    }

    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Record::RepairOrder(_) => Kind::RepairOrder,
            Record::CapacityOffer(_) => Kind::CapacityOffer,
            Record::AvailabilityReport(_) => Kind::AvailabilityReport,
            Record::AvailabilityTarget(_) => Kind::AvailabilityTarget,
            Record::Party(_) => Kind::Party,
            Record::RepairException(_) => Kind::RepairException,
            Record::Quote(_) => Kind::Quote,
            Record::Comment(_) => Kind::Comment,
            Record::Disruption(_) => Kind::Disruption,
            Record::UpdateRequest(_) => Kind::UpdateRequest,
        }
    }

    /// Its version; later versions replace earlier ones in the replica.
    pub fn version(&self) -> i64 {
        match self {
            Record::RepairOrder(r) => r.version,
            Record::CapacityOffer(r) => r.version,
            Record::AvailabilityReport(r) => r.version,
            Record::AvailabilityTarget(r) => r.version,
            Record::Party(r) => r.etag.parse().unwrap_or(0),
            Record::RepairException(r) => r.version,
            Record::Quote(r) => r.version,
            Record::Comment(r) => r.version,
            Record::Disruption(r) => r.version,
            Record::UpdateRequest(r) => r.version,
        }
    }

    /// The record as protobuf bytes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Record::RepairOrder(r) => r.encode_to_vec(),
            Record::CapacityOffer(r) => r.encode_to_vec(),
            Record::AvailabilityReport(r) => r.encode_to_vec(),
            Record::AvailabilityTarget(r) => r.encode_to_vec(),
            Record::Party(r) => r.encode_to_vec(),
            Record::RepairException(r) => r.encode_to_vec(),
            Record::Quote(r) => r.encode_to_vec(),
            Record::Comment(r) => r.encode_to_vec(),
            Record::Disruption(r) => r.encode_to_vec(),
            Record::UpdateRequest(r) => r.encode_to_vec(),
        }
    }

    pub(super) fn decode(kind: Kind, bytes: &[u8]) -> Result<Record> {
        let bad = |_| NodeStoreError::Corrupt("replica record");
        Ok(match kind {
            Kind::RepairOrder => Record::RepairOrder(pb::RepairOrder::decode(bytes).map_err(bad)?),
            Kind::CapacityOffer => Record::CapacityOffer(pb::CapacityOffer::decode(bytes).map_err(bad)?),
            Kind::AvailabilityReport => Record::AvailabilityReport(pb::AvailabilityReport::decode(bytes).map_err(bad)?),
            Kind::AvailabilityTarget => Record::AvailabilityTarget(pb::AvailabilityTarget::decode(bytes).map_err(bad)?),
            Kind::Party => Record::Party(pb::Party::decode(bytes).map_err(bad)?),
            Kind::RepairException => Record::RepairException(pb::RepairException::decode(bytes).map_err(bad)?),
            Kind::Quote => Record::Quote(pb::Quote::decode(bytes).map_err(bad)?),
            Kind::Comment => Record::Comment(pb::Comment::decode(bytes).map_err(bad)?),
            Kind::Disruption => Record::Disruption(pb::Disruption::decode(bytes).map_err(bad)?),
            Kind::UpdateRequest => Record::UpdateRequest(pb::UpdateRequest::decode(bytes).map_err(bad)?),
        })
    }

    /// The records an event carries: its subject and any split parts.
    pub fn from_event(event: &pb::Event) -> Vec<Record> {
        use pb::event::Subject;
        let mut out: Vec<Record> = match &event.subject {
            Some(Subject::RepairOrder(r)) => vec![Record::RepairOrder(r.clone())],
            Some(Subject::CapacityOffer(r)) => vec![Record::CapacityOffer(r.clone())],
            Some(Subject::AvailabilityReport(r)) => vec![Record::AvailabilityReport(r.clone())],
            Some(Subject::AvailabilityTarget(r)) => vec![Record::AvailabilityTarget(r.clone())],
            Some(Subject::Party(r)) => vec![Record::Party(r.clone())],
            // Alerts are events, not records: the node keeps them in its event log only.
            Some(Subject::BottleneckAlert(_) | Subject::BalanceAlert(_)) | None => vec![],
            // A quote, a comment, a disruption or a request for update the party may see.
            Some(Subject::Quote(r)) => vec![Record::Quote(r.clone())],
            Some(Subject::Comment(r)) => vec![Record::Comment(r.clone())],
            Some(Subject::Disruption(r)) => vec![Record::Disruption(r.clone())],
            Some(Subject::UpdateRequest(r)) => vec![Record::UpdateRequest(r.clone())],
        };
        out.extend(event.split_parts.iter().cloned().map(Record::RepairOrder));
        // REPAIR_EXCEPTION_*: the exception raised or answered (the order is the subject).
        out.extend(event.repair_exception.iter().cloned().map(Record::RepairException));
        // QUOTE_ACCEPTED: the quote accepted (the order is the subject).
        out.extend(event.accepted_quote.iter().cloned().map(Record::Quote));
        out
    }
}

/// The coordinator's last refusal of a write to a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The refused write's request id.
    pub request_id: String,
    /// gRPC code name, e.g. `ABORTED`.
    pub code: String,
    /// The coordinator's message.
    pub message: String,
    /// When the node heard it.
    pub time: DateTime<Utc>,
}

/// A record as a local client reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    /// The node's version while writes are pending, else the coordinator's.
    pub record: Record,
    /// Writes to it not yet at the coordinator.
    pub pending: u32,
    /// Whether the coordinator has any version of it.
    pub upstream: bool,
    /// Superseded by a later report.
    pub superseded: bool,
    /// The last refusal, if not cleared by a later delivered write.
    pub rejection: Option<Rejection>,
}

impl View {
    /// The record with its sync status filled in.
    pub fn with_sync(&self) -> Record {
        let state = if self.pending > 0 {
            pb::SyncState::Pending
        } else if self.rejection.is_some() {
            pb::SyncState::Rejected
        } else {
            pb::SyncState::Synced
        };
        let r = self.rejection.as_ref();
        let sync = Some(pb::SyncStatus {
            state: state as i32,
            pending_writes: self.pending,
            rejected_request_id: r.map(|r| r.request_id.clone()).unwrap_or_default(),
            rejection_code: r.map(|r| r.code.clone()).unwrap_or_default(),
            rejection_message: r.map(|r| r.message.clone()).unwrap_or_default(),
            rejection_time: r.and_then(|r| cosx_edge::convert::timestamp(r.time)),
        });
        let mut record = self.record.clone();
        match &mut record {
            Record::RepairOrder(r) => r.sync = sync,
            Record::CapacityOffer(r) => r.sync = sync,
            Record::AvailabilityReport(r) => r.sync = sync,
            Record::AvailabilityTarget(r) => r.sync = sync,
            // Exceptions and the rest of the conversation carry no sync
            // status: a refused write of theirs shows in `Node.ListWrites`
            // (and an exception's on the order it was about).
            Record::Party(_)
            | Record::RepairException(_)
            | Record::Quote(_)
            | Record::Comment(_)
            | Record::Disruption(_)
            | Record::UpdateRequest(_) => {}
        }
        record
    }
}
