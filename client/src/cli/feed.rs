//! `cosx feed`: follow the event feed, one line per event as it arrives,
//! until the server ends the stream or the user presses Ctrl-C (exit 0).
//!
//! Lines are written and flushed one at a time so the output can be piped
//! into another program while the feed is live; table columns therefore have
//! fixed widths instead of being fitted to the data.

use cosx_proto::v1::event::Subject;
use cosx_proto::v1::{
    BalanceStatus, CapacityOfferState, Event, EventKind, MaintenanceLevel, MilitaryDepartment, Region,
    RepairOrderState, SubscribeRequest,
};

use super::FeedArgs;
use super::output::{Printer, time};
use crate::Client;
use crate::enums::display;
use crate::error::ClientError;

pub(crate) async fn run(client: &Client, args: FeedArgs, printer: &Printer) -> Result<(), ClientError> {
    let req = SubscribeRequest {
        after_sequence: args.after,
        kinds: args.kind.into_iter().map(Into::into).collect(),
        checkpoints: false,
    };
    let mut stream = client.feed().subscribe(req).await?.into_inner();
    if !printer.is_json() {
        printer.line(&event_line(&["SEQUENCE", "TIME", "KIND", "ACTOR", "SUBJECT", "STATE"]))?;
    }
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            _ = &mut ctrl_c => return Ok(()),
            message = stream.message() => match message? {
                None => return Ok(()),
                Some(event) if printer.is_json() => printer.json_line(&event)?,
                Some(event) => printer.line(&event_line(&event_cells(&event).each_ref().map(String::as_str)))?,
            },
        }
    }
}

/// The six cells of an event's line: sequence, time, kind, actor, subject
/// name and the subject's state after the change.
pub(crate) fn event_cells(event: &Event) -> [String; 6] {
    let (subject, state) = match &event.subject {
        Some(Subject::RepairOrder(o)) => (o.name.clone(), display::<RepairOrderState>(o.state)),
        Some(Subject::CapacityOffer(o)) => (o.name.clone(), display::<CapacityOfferState>(o.state)),
        Some(Subject::AvailabilityReport(r)) => (r.name.clone(), format!("v{}", r.version)),
        Some(Subject::Quote(q)) => (q.name.clone(), display::<cosx_proto::v1::QuoteState>(q.state)),
        Some(Subject::Comment(c)) => (c.name.clone(), display::<cosx_proto::v1::CommentState>(c.state)),
        Some(Subject::UpdateRequest(r)) => (r.name.clone(), display::<cosx_proto::v1::UpdateRequestState>(r.state)),
        Some(Subject::Disruption(d)) => (d.name.clone(), display::<cosx_proto::v1::DisruptionState>(d.state)),
        Some(Subject::AvailabilityTarget(t)) => (t.name.clone(), format!("v{}", t.version)),
        Some(Subject::Party(p)) => {
            (p.name.clone(), if p.suspended { "SUSPENDED".to_owned() } else { "ACTIVE".to_owned() })
        }
        Some(Subject::BottleneckAlert(a)) => {
            let key = a.key.clone().unwrap_or_default();
            let period = a.period.as_ref().map(|p| p.label.clone()).unwrap_or_default();
            (
                format!(
                    "{}/{}/{} {period}",
                    display::<Region>(key.region),
                    key.tms,
                    display::<MaintenanceLevel>(key.level)
                ),
                format!("{} short {:.1}", if a.raised { "RAISED" } else { "CLEARED" }, a.shortfall),
            )
        }
        Some(Subject::BalanceAlert(a)) => (
            format!("{} FY{}", display::<MilitaryDepartment>(a.department), a.fiscal_year),
            format!(
                "{} {}",
                display::<BalanceStatus>(a.status),
                a.contract_share.map(|s| format!("{:.1}%", s * 100.0)).unwrap_or_default()
            ),
        ),
        None => (String::new(), String::new()),
    };
    [
        event.sequence.to_string(),
        time(event.time.as_ref()),
        display::<EventKind>(event.kind),
        event.actor.clone(),
        subject,
        state,
    ]
}

fn event_line(cells: &[&str; 6]) -> String {
    let [seq, time, kind, actor, subject, state] = cells.map(|c| if c.is_empty() { "-" } else { c });
    format!("{seq:>8}  {time:<20}  {kind:<28}  {actor:<20}  {subject:<32}  {state}").trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosx_proto::pbjson_types::Timestamp;
    use cosx_proto::v1::RepairOrder;

    #[test]
    fn an_event_line_shows_sequence_kind_actor_subject_and_state() {
        let event = Event {
            sequence: 42,
            time: Some(Timestamp { seconds: 1_798_761_600, nanos: 0 }),
            kind: EventKind::RepairOrderTransitioned as i32,
            actor: "JPN-MHI-KOMAKI".into(),
            subject: Some(Subject::RepairOrder(RepairOrder {
                name: "repairOrders/9".into(),
                state: RepairOrderState::Accepted as i32,
                ..RepairOrder::default()
            })),
            ..Event::default()
        };
        let cells = event_cells(&event);
        assert_eq!(
            cells,
            ["42", "2027-01-01T00:00:00Z", "REPAIR_ORDER_TRANSITIONED", "JPN-MHI-KOMAKI", "repairOrders/9", "ACCEPTED"]
        );
        let line = event_line(&cells.each_ref().map(String::as_str));
        assert!(line.starts_with("      42  2027-01-01T00:00:00Z  REPAIR_ORDER_TRANSITIONED"), "{line}");
        assert!(line.ends_with("repairOrders/9                    ACCEPTED"), "{line}");
    }

    #[test]
    fn alert_lines_name_the_cell_or_department_and_the_standing() {
        use cosx_proto::v1::{BalanceAlert, BottleneckAlert, DemandCellKey, DemandPeriod};
        let bottleneck = Event {
            kind: EventKind::BottleneckRaised as i32,
            actor: "COSX-SIGNALS".into(),
            subject: Some(Subject::BottleneckAlert(BottleneckAlert {
                key: Some(DemandCellKey {
                    region: Region::Indopacom as i32,
                    tms: "F-35A".into(),
                    level: MaintenanceLevel::Depot as i32,
                    ..DemandCellKey::default()
                }),
                period: Some(DemandPeriod { label: "2027-03".into(), ..DemandPeriod::default() }),
                shortfall: 542.25,
                raised: true,
                ..BottleneckAlert::default()
            })),
            ..Event::default()
        };
        let cells = event_cells(&bottleneck);
        assert_eq!(cells[2], "BOTTLENECK_RAISED");
        assert_eq!(cells[4], "INDOPACOM/F-35A/DEPOT 2027-03");
        assert_eq!(cells[5], "RAISED short 542.2");
        let balance = Event {
            kind: EventKind::BalanceWarning as i32,
            subject: Some(Subject::BalanceAlert(BalanceAlert {
                department: MilitaryDepartment::AirForce as i32,
                fiscal_year: 2027,
                status: BalanceStatus::Warning as i32,
                contract_share: Some(0.45),
                ..BalanceAlert::default()
            })),
            ..Event::default()
        };
        let cells = event_cells(&balance);
        assert_eq!((cells[4].as_str(), cells[5].as_str()), ("AIR_FORCE FY2027", "WARNING 45.0%"));
    }
}
