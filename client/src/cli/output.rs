//! What the CLI prints: proto3 JSON Lines with `--json`, otherwise aligned
//! tables whose columns are chosen per record type.
//!
//! Standard output carries results only; progress and hints go to standard
//! error so that `cosx ... --json | jq` always sees clean JSON.

use std::io::Write;

use cosx_proto::pbjson_types::Timestamp;
use cosx_proto::v1::{
    AvailabilityReport, CapacityOffer, CapacityOfferState, CapacityUnit, MilitaryDepartment, Money, Party, PartyKind,
    Region, RepairOrder, RepairOrderState, RepairOrderTransition, SyncState, SyncStatus,
};
use serde::Serialize;

use crate::enums::display;
use crate::error::ClientError;

/// Writes command results to standard output in the chosen format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Printer {
    json: bool,
}

impl Printer {
    pub(crate) fn new(json: bool) -> Self {
        Printer { json }
    }

    /// Whether `--json` was given.
    pub(crate) fn is_json(&self) -> bool {
        self.json
    }

    /// Writes text followed by a newline.
    pub(crate) fn line(&self, text: &str) -> Result<(), ClientError> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}").and_then(|()| out.flush()).map_err(ClientError::Output)
    }

    /// Writes one value as a single line of JSON.
    pub(crate) fn json_line<T: Serialize>(&self, value: &T) -> Result<(), ClientError> {
        let text = serde_json::to_string(value).map_err(|e| ClientError::Output(std::io::Error::other(e)))?;
        self.line(&text)
    }

    /// Prints one record: a JSON line, or a two-column field/value listing.
    pub(crate) fn record<T: Serialize + Columns>(&self, record: &T) -> Result<(), ClientError> {
        if self.json {
            return self.json_line(record);
        }
        let fields = record.columns();
        let width = fields.iter().map(|(h, _)| h.chars().count()).max().unwrap_or(0);
        let mut out = String::new();
        for (header, value) in fields {
            out.push_str(&format!("{:<width$}  {}\n", header.to_ascii_lowercase(), or_dash(&value)));
        }
        self.line(out.trim_end())
    }

    /// Prints records: JSON lines, or a table with one row each.
    pub(crate) fn records<T: Serialize + Columns>(&self, records: &[T]) -> Result<(), ClientError> {
        if self.json {
            return records.iter().try_for_each(|r| self.json_line(r));
        }
        let Some(first) = records.first() else {
            return Ok(());
        };
        let headers: Vec<&str> = first.columns().into_iter().map(|(h, _)| h).collect();
        let rows: Vec<Vec<String>> =
            records.iter().map(|r| r.columns().into_iter().map(|(_, v)| v).collect()).collect();
        self.line(&render_table(&headers, &rows))
    }
}

/// Lays out rows under headers, columns separated by two spaces, empty cells
/// shown as `-`, no trailing spaces.
pub(crate) fn render_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cells = |row: &[String]| row.iter().map(|c| or_dash(c).to_owned()).collect::<Vec<_>>();
    let header_row: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    let all: Vec<Vec<String>> = std::iter::once(header_row).chain(rows.iter().map(|r| cells(r))).collect();
    let mut widths = vec![0; headers.len()];
    for row in &all {
        for (i, cell) in row.iter().enumerate().take(widths.len()) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &all {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = widths.get(i).copied().unwrap_or(0).saturating_sub(cell.chars().count());
            line.push_str(cell);
            line.push_str(&" ".repeat(pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out
}

fn or_dash(value: &str) -> &str {
    if value.is_empty() { "-" } else { value }
}

/// A timestamp as `YYYY-MM-DDTHH:MM:SSZ`, empty when absent.
pub(crate) fn time(ts: Option<&Timestamp>) -> String {
    ts.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn money(m: Option<&Money>) -> String {
    match m {
        Some(m) if m.amount_minor != 0 || !m.currency_code.is_empty() => {
            let sign = if m.amount_minor < 0 { "-" } else { "" };
            let abs = m.amount_minor.unsigned_abs();
            format!("{sign}{}.{:02} {}", abs / 100, abs % 100, m.currency_code)
        }
        _ => String::new(),
    }
}

fn version(v: i64) -> String {
    if v == 0 { String::new() } else { v.to_string() }
}

/// The table columns of a record type, as (header, value) pairs.
/// How a record read from a node stands with the coordinator; empty when
/// read from the coordinator itself.
pub(crate) fn sync(status: Option<&SyncStatus>) -> String {
    let Some(s) = status else {
        return String::new();
    };
    match SyncState::try_from(s.state) {
        Ok(SyncState::Pending) => format!("PENDING ({} queued)", s.pending_writes),
        Ok(SyncState::Rejected) => format!("REJECTED {}: {}", s.rejection_code, s.rejection_message),
        _ => display::<SyncState>(s.state),
    }
}

pub(crate) trait Columns {
    fn columns(&self) -> Vec<(&'static str, String)>;
}

impl Columns for RepairOrder {
    fn columns(&self) -> Vec<(&'static str, String)> {
        let item = self.item.as_ref().map(|i| {
            if i.nsn.is_empty() {
                format!("{} {}", i.part_number, i.cage_code).trim().to_owned()
            } else {
                i.nsn.clone()
            }
        });
        vec![
            ("NAME", self.name.clone()),
            ("STATE", display::<RepairOrderState>(self.state)),
            ("VERSION", version(self.version)),
            ("TMS", self.tms.clone()),
            ("ITEM", item.unwrap_or_default()),
            ("QTY", self.quantity.to_string()),
            ("PRI", if self.priority == 0 { String::new() } else { self.priority.to_string() }),
            ("ORIGINATOR", self.originator.clone()),
            ("PROVIDER", self.provider.clone()),
            ("REGION", self.location.as_ref().map(|l| display::<Region>(l.region)).unwrap_or_default()),
            ("REQUIRED BY", self.required_by.clone()),
            ("UPDATED", time(self.update_time.as_ref())),
            ("SYNC", sync(self.sync.as_ref())),
        ]
    }
}

impl Columns for CapacityOffer {
    fn columns(&self) -> Vec<(&'static str, String)> {
        let site = self.site.as_ref();
        let tms: Vec<&str> = self
            .capabilities
            .iter()
            .map(|c| if c.tms.is_empty() { c.component_family.as_str() } else { c.tms.as_str() })
            .collect();
        vec![
            ("NAME", self.name.clone()),
            ("STATE", display::<CapacityOfferState>(self.state)),
            ("VERSION", version(self.version)),
            ("PROVIDER", self.provider.clone()),
            ("SITE", site.map(|s| s.name.clone()).unwrap_or_default()),
            ("NATION", site.map(|s| s.nation.clone()).unwrap_or_default()),
            ("REGION", site.map(|s| display::<Region>(s.region)).unwrap_or_default()),
            ("CAPABILITIES", tms.join(",")),
            ("UNIT", display::<CapacityUnit>(self.unit)),
            ("VALID FROM", self.valid_from.clone()),
            ("VALID UNTIL", self.valid_until.clone()),
            ("RATE", money(self.rate.as_ref())),
            ("SYNC", sync(self.sync.as_ref())),
        ]
    }
}

impl Columns for cosx_proto::v1::Quote {
    fn columns(&self) -> Vec<(&'static str, String)> {
        use cosx_proto::v1::{QuoteKind, QuoteState, RepairProcess};
        let t = self.terms.as_ref();
        vec![
            ("NAME", self.name.clone()),
            ("STATE", display::<QuoteState>(self.state)),
            ("VERSION", version(self.version)),
            ("PROVIDER", self.provider.clone()),
            ("KIND", t.map(|t| display::<QuoteKind>(t.kind)).unwrap_or_default()),
            ("PRICE", t.map(|t| money(t.price.as_ref())).unwrap_or_default()),
            ("DAYS", t.map(|t| t.turnaround_days.to_string()).unwrap_or_default()),
            ("PROCESS", t.map(|t| display::<RepairProcess>(t.process)).unwrap_or_default()),
            ("VALID UNTIL", t.map(|t| t.valid_until.clone()).unwrap_or_default()),
            ("UPDATED", time(self.update_time.as_ref())),
        ]
    }
}

impl Columns for cosx_proto::v1::Comment {
    fn columns(&self) -> Vec<(&'static str, String)> {
        use cosx_proto::v1::{CommentState, CommentType};
        let c = self.content.as_ref();
        vec![
            ("NAME", self.name.clone()),
            ("STATE", display::<CommentState>(self.state)),
            ("VERSION", version(self.version)),
            ("AUTHOR", self.author.clone()),
            ("TYPE", c.map(|c| display::<CommentType>(c.comment_type)).unwrap_or_default()),
            ("DATES", c.map(|c| c.reference_dates.join(",")).unwrap_or_default()),
            ("TEXT", c.map(|c| c.text.clone()).unwrap_or_default()),
            ("UPDATED", time(self.update_time.as_ref())),
        ]
    }
}

impl Columns for cosx_proto::v1::UpdateRequest {
    fn columns(&self) -> Vec<(&'static str, String)> {
        use cosx_proto::v1::UpdateRequestState;
        let about = match &self.missing_report {
            Some(m) => format!("report {} {}", m.month, m.tms.join(",")),
            None => format!("{} after v{}", self.record, self.record_version),
        };
        vec![
            ("NAME", self.name.clone()),
            ("STATE", display::<UpdateRequestState>(self.state)),
            ("VERSION", version(self.version)),
            ("REQUESTER", self.requester.clone()),
            ("ADDRESSEE", self.addressee.clone()),
            ("ABOUT", about.trim_end().to_owned()),
            ("ANSWER", self.answer.clone()),
            ("UPDATED", time(self.update_time.as_ref())),
        ]
    }
}

impl Columns for cosx_proto::v1::RepairException {
    fn columns(&self) -> Vec<(&'static str, String)> {
        use cosx_proto::v1::{RepairExceptionKind, RepairExceptionState};
        vec![
            ("NAME", self.name.clone()),
            ("STATE", display::<RepairExceptionState>(self.state)),
            ("KIND", display::<RepairExceptionKind>(self.kind)),
            ("PROVIDER", self.provider.clone()),
            ("NEW ESTIMATE", money(self.new_estimate.as_ref())),
            ("NEW DATE", self.new_completion_date.clone()),
            ("TEXT", self.text.clone()),
            ("ANSWER", self.answer_reason.clone()),
            ("UPDATED", time(self.update_time.as_ref())),
        ]
    }
}

impl Columns for cosx_proto::v1::Disruption {
    fn columns(&self) -> Vec<(&'static str, String)> {
        use cosx_proto::v1::{DisruptionCause, DisruptionState};
        vec![
            ("NAME", self.name.clone()),
            ("STATE", display::<DisruptionState>(self.state)),
            ("VERSION", version(self.version)),
            ("PROVIDER", self.provider.clone()),
            ("SITE", self.site.clone()),
            ("CAUSE", display::<DisruptionCause>(self.cause)),
            (
                "LOST",
                match self.capacity_reduction_hours_per_month {
                    0 => format!("{}%", self.capacity_reduction_percent),
                    h => format!("{h} h/month"),
                },
            ),
            ("FROM", self.start_date.clone()),
            ("EXPECTED END", self.expected_end_date.clone()),
            ("UPDATED", time(self.update_time.as_ref())),
        ]
    }
}

impl Columns for AvailabilityReport {
    fn columns(&self) -> Vec<(&'static str, String)> {
        let inventory = self.inventory.as_ref();
        vec![
            ("NAME", self.name.clone()),
            ("VERSION", version(self.version)),
            ("REPORTER", self.reporter.clone()),
            ("TMS", self.tms.clone()),
            ("REGION", display::<Region>(self.region)),
            ("FROM", self.timeframe_start.clone()),
            ("TO", self.timeframe_end.clone()),
            ("TAI", inventory.map(|i| i.tai.to_string()).unwrap_or_default()),
            ("PMAI", inventory.map(|i| i.pmai.to_string()).unwrap_or_default()),
            ("ASSETS", if self.assets.is_empty() { String::new() } else { self.assets.len().to_string() }),
            ("SUPERSEDES", self.supersedes.clone()),
            ("CREATED", time(self.create_time.as_ref())),
        ]
    }
}

impl Columns for Party {
    fn columns(&self) -> Vec<(&'static str, String)> {
        vec![
            ("NAME", self.name.clone()),
            ("KIND", display::<PartyKind>(self.kind)),
            ("NATION", self.nation.clone()),
            ("DEPARTMENT", display::<MilitaryDepartment>(self.department)),
            ("DISPLAY NAME", self.display_name.clone()),
            ("STATUS", if self.suspended { "SUSPENDED".into() } else { "ACTIVE".into() }),
            ("ETAG", self.etag.clone()),
        ]
    }
}

impl Columns for RepairOrderTransition {
    fn columns(&self) -> Vec<(&'static str, String)> {
        vec![
            ("VERSION", version(self.version)),
            ("FROM", display::<RepairOrderState>(self.from_state)),
            ("TO", display::<RepairOrderState>(self.to_state)),
            ("ACTOR", self.actor.clone()),
            ("TIME", time(self.time.as_ref())),
            ("PROVIDER", self.provider.clone()),
            ("REASON", self.reason.clone()),
            ("SEQUENCE", version(self.sequence)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_and_dash_empty_cells() {
        let rows = vec![
            vec!["repairOrders/1".to_owned(), "PROPOSED".to_owned(), String::new()],
            vec!["repairOrders/10".to_owned(), "IN_WORK".to_owned(), "JPN-MHI-KOMAKI".to_owned()],
        ];
        assert_eq!(
            render_table(&["NAME", "STATE", "PROVIDER"], &rows),
            "NAME             STATE     PROVIDER\n\
             repairOrders/1   PROPOSED  -\n\
             repairOrders/10  IN_WORK   JPN-MHI-KOMAKI"
        );
    }

    #[test]
    fn money_is_shown_in_major_units() {
        let m = Money { currency_code: "USD".into(), amount_minor: 123_456 };
        assert_eq!(money(Some(&m)), "1234.56 USD");
        let m = Money { currency_code: "JPY".into(), amount_minor: -5 };
        assert_eq!(money(Some(&m)), "-0.05 JPY");
        assert_eq!(money(None), "");
    }

    #[test]
    fn timestamps_are_shown_to_the_second_in_utc() {
        let ts = Timestamp { seconds: 1_798_761_600, nanos: 5 };
        assert_eq!(time(Some(&ts)), "2027-01-01T00:00:00Z");
        assert_eq!(time(None), "");
    }

    #[test]
    fn order_rows_show_short_enum_names() {
        let order = RepairOrder {
            name: "repairOrders/7".into(),
            state: RepairOrderState::AwaitingParts as i32,
            quantity: 2,
            ..RepairOrder::default()
        };
        let cols = order.columns();
        assert!(cols.contains(&("STATE", "AWAITING_PARTS".to_owned())));
        assert!(cols.contains(&("QTY", "2".to_owned())));
    }
}
