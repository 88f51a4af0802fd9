//! The schema of the hash-chained log: what each entry's content holds,
//! as stored (canonical JSON) and streamed. This is the only place the
//! stored event format may change, and every change must read what older
//! entries hold. It depends on the domain types and nothing of the core or
//! the views (so neither imports the other through it).

use chrono::{DateTime, NaiveDate, Utc};
use cosx_allocation as alloc;
use cosx_domain::comments::Comment;
use cosx_domain::disruptions::Disruption;
use cosx_domain::exceptions::RepairException;
use cosx_domain::quotes::Quote;
use cosx_domain::records::*;
use cosx_domain::update_requests::UpdateRequest;
use cosx_domain::{CapacityUnit, MaintenanceLevel, MilitaryDepartment, Party, Region};
use serde::{Deserialize, Serialize};

/// The content of an event, as stored (canonical JSON) and streamed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventContent {
    /// An order created or moved.
    RepairOrder {
        /// The order after the change.
        order: RepairOrder,
        /// The lifecycle step, for transitions.
        transition: Option<Transition>,
        /// For `QUOTE_ACCEPTED`: the accepted quote whose acceptance made
        /// this step (a proposal). Absent from every older entry, and left
        /// out when unset, so their content reads and hashes as before.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quote: Option<Box<Quote>>,
        /// For `REPAIR_EXCEPTION_*`: the exception raised or answered
        /// (the order's state is unchanged). Absent from every other entry.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exception: Option<Box<RepairException>>,
    },
    /// An open order released to a provider asked to quote on it (its
    /// state and history unchanged; `REPAIR_ORDER_RELEASED_FOR_QUOTE`).
    QuoteRelease {
        /// The order after the change.
        order: RepairOrder,
    },
    /// An order split into parts.
    Split {
        /// The parent after the split.
        parent: RepairOrder,
        /// The new orders.
        parts: Vec<RepairOrder>,
    },
    /// An offer created, updated or withdrawn.
    CapacityOffer {
        /// The offer after the change.
        offer: CapacityOffer,
    },
    /// A quote requested, submitted or closed.
    Quote {
        /// The quote after the change.
        quote: Quote,
    },
    /// A comment added, edited or withdrawn.
    Comment {
        /// The comment after the change.
        comment: Comment,
    },
    /// A request for update asked, answered, satisfied or withdrawn.
    UpdateRequest {
        /// The request after the change.
        request: UpdateRequest,
    },
    /// A disruption declared, updated or resolved.
    Disruption {
        /// The disruption after the change.
        disruption: Disruption,
    },
    /// A report submitted.
    AvailabilityReport {
        /// The report.
        report: AvailabilityReport,
    },
    /// Depot work outside the exchange recorded by a coordinator.
    DepotBaseline {
        /// The baseline.
        baseline: DepotBaseline,
    },
    /// A fleet owner's availability target set.
    AvailabilityTarget {
        /// The target.
        target: AvailabilityTarget,
    },
    /// A party registered or suspended.
    Party {
        /// The party after the change.
        party: Party,
    },
    /// A bottleneck raised or cleared by the coordinator itself.
    Bottleneck {
        /// The alert.
        alert: BottleneckAlert,
    },
    /// A department's 50/50 standing changed, as judged by the coordinator itself.
    WorkloadBalance {
        /// The alert.
        alert: BalanceAlert,
    },
}

/// An event as a subscriber receives it.
#[derive(Debug, Clone)]
pub struct Event {
    /// Sequence in the log.
    pub sequence: i64,
    /// When it was accepted.
    pub time: DateTime<Utc>,
    /// Kind, e.g. `REPAIR_ORDER_CREATED`.
    pub kind: String,
    /// Who caused it.
    pub actor: String,
    /// What changed.
    pub content: EventContent,
}

/// A bottleneck raised or cleared, as stored in the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BottleneckAlert {
    /// Region of the cell.
    pub region: Region,
    /// TMS or component family of the cell.
    pub tms: String,
    /// Maintenance level of the cell.
    pub level: MaintenanceLevel,
    /// Month label, e.g. `2027-03`.
    pub period: String,
    /// First day of the month.
    pub period_start: NaiveDate,
    /// Last day of the month.
    pub period_end: NaiveDate,
    /// Unit of every figure.
    pub unit: CapacityUnit,
    /// `ACTUAL` or `FORECAST`.
    pub demand_kind: String,
    /// Demand.
    pub demand: f64,
    /// Capacity offered (without surge).
    pub capacity: f64,
    /// Surge capacity.
    pub surge: f64,
    /// Demand − capacity.
    pub shortfall: f64,
    /// Shortfall / capacity, when there is capacity.
    pub shortfall_relative: Option<f64>,
    /// Absolute threshold judged against.
    pub threshold_absolute: f64,
    /// Relative threshold judged against.
    pub threshold_relative: f64,
    /// Raised (true) or cleared.
    pub raised: bool,
    /// Which change of this alert (0: the first raise).
    pub change: u64,
}

/// A department's 50/50 standing for one fiscal year changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BalanceAlert {
    /// Department.
    pub department: MilitaryDepartment,
    /// US fiscal year.
    pub fiscal_year: i32,
    /// Standing now.
    pub status: alloc::BalanceStatus,
    /// Standing before.
    pub previous: alloc::BalanceStatus,
    /// Projected contract share of dollars.
    pub contract_share: Option<f64>,
    /// Projected organic cents.
    pub organic_cents: i64,
    /// Projected contract cents.
    pub contract_cents: i64,
    /// Warning threshold, percent.
    pub warning_percent: f64,
    /// Which change of this standing (0: the first).
    pub change: u64,
}
