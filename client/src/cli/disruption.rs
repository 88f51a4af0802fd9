//! `cosx disruption declare|update|resolve|list|get|affected|replan`: a
//! provider's disruption notices and the re-plan of the work they strand.
//!
//! The client never judges a notice (whether the site is the caller's,
//! whether the percentage or the dates make sense, who may resolve it): it
//! sends what the user typed, with the version last seen and an
//! idempotency key, and shows what the coordinator decided.

use clap::{Args, Subcommand};
use cosx_proto::v1::{
    AffectedCapability, DeclareDisruptionRequest, Disruption, DisruptionCause, DisruptionState, GetDisruptionRequest,
    ListAffectedOrdersRequest, ListDisruptionsRequest, MaintenanceLevel, ProposeReplanRequest,
    ResolveDisruptionRequest, UpdateDisruptionRequest,
};

use super::fresh_request_id;
use super::output::Printer;
use super::read::every_page;
use crate::Client;
use crate::enums;
use crate::error::ClientError;

/// `cosx disruption ...`
#[derive(Debug, Subcommand)]
pub enum DisruptionCommand {
    /// Provider: declare a disruption at one of your sites.
    Declare(NoticeArgs),
    /// Provider: change an active disruption you declared.
    Update {
        /// The disruption, disruptions/ID.
        name: String,
        /// The disruption version last seen.
        #[arg(long, value_name = "N")]
        version: i64,
        /// What the notice says now.
        #[command(flatten)]
        notice: NoticeArgs,
    },
    /// Provider: resolve a disruption you declared.
    Resolve {
        /// The disruption, disruptions/ID.
        name: String,
        /// The disruption version last seen.
        #[arg(long, value_name = "N")]
        version: i64,
        /// Why it is over (required).
        #[arg(long, default_value = "")]
        resolution: String,
        /// Idempotency key (default: fresh).
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
    },
    /// Disruptions you may see.
    List {
        /// Only disruptions in this state, e.g. active.
        #[arg(long, value_parser = enums::parse::<DisruptionState>)]
        state: Option<DisruptionState>,
        /// Only this provider's disruptions.
        #[arg(long, value_name = "PARTY_ID")]
        provider: Option<String>,
    },
    /// One disruption.
    Get {
        /// The disruption, disruptions/ID.
        name: String,
    },
    /// The orders a disruption strands that you may see.
    Affected {
        /// The disruption, disruptions/ID.
        name: String,
    },
    /// Coordinator: plan where the stranded work should go; --commit proposes it.
    Replan {
        /// The disruption, disruptions/ID.
        name: String,
        /// Planning date (YYYY-MM-DD); today if absent.
        #[arg(long)]
        as_of: Option<String>,
        /// Commit the plan's moves through Allocation.Commit.
        #[arg(long)]
        commit: bool,
    },
}

/// What a notice says (`declare` and `update`).
#[derive(Debug, Args)]
pub struct NoticeArgs {
    /// The site's name, as your capacity offers name it.
    #[arg(long)]
    pub site: String,
    /// natural-disaster, hostile-action, cyber, labour, parts-shortage, facility, transport or other.
    #[arg(long, value_parser = enums::parse::<DisruptionCause>)]
    pub cause: DisruptionCause,
    /// Share of capacity lost, 0 to 100 (or give --reduction-hours-per-month).
    #[arg(long, value_name = "PERCENT", required_unless_present = "reduction_hours_per_month")]
    pub reduction_percent: Option<u32>,
    /// Labor hours lost per month for each capability reduced, instead of a percentage.
    #[arg(long, value_name = "HOURS", conflicts_with = "reduction_percent")]
    pub reduction_hours_per_month: Option<u32>,
    /// Capabilities reduced, TMS-or-family[:level]; repeatable or comma-separated (default: all).
    #[arg(long, value_delimiter = ',', value_name = "TMS[:LEVEL]")]
    pub capability: Vec<String>,
    /// First day of reduced capacity, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub start: String,
    /// Last day capacity is expected to be reduced, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub expected_end: String,
    /// What happened.
    #[arg(long, default_value = "")]
    pub text: String,
    /// Idempotency key (default: fresh).
    #[arg(long, value_name = "ID")]
    pub request_id: Option<String>,
}

fn disruption_name(name: String) -> String {
    if name.starts_with("disruptions/") { name } else { format!("disruptions/{name}") }
}

/// The notice and request id `declare` or `update` sends. A level the
/// client does not know is sent as an unknown number for the server to refuse.
pub(crate) fn notice(a: NoticeArgs) -> (Disruption, String) {
    let capabilities = a
        .capability
        .iter()
        .map(|c| {
            let (label, level) = match c.split_once(':') {
                Some((l, lvl)) => (l, enums::parse::<MaintenanceLevel>(lvl).map_or(-1, Into::into)),
                None => (c.as_str(), 0),
            };
            AffectedCapability { tms_or_family: label.to_owned(), maintenance_level: level }
        })
        .collect();
    let d = Disruption {
        site: a.site,
        cause: a.cause.into(),
        capacity_reduction_percent: a.reduction_percent.unwrap_or(0),
        capacity_reduction_hours_per_month: a.reduction_hours_per_month.unwrap_or(0),
        capabilities,
        start_date: a.start,
        expected_end_date: a.expected_end,
        text: a.text,
        ..Default::default()
    };
    (d, a.request_id.unwrap_or_else(fresh_request_id))
}

pub(crate) async fn run(client: &Client, cmd: DisruptionCommand, printer: &Printer) -> Result<(), ClientError> {
    let mut disruptions = cosx_proto::v1::disruptions_client::DisruptionsClient::new(client.channel());
    match cmd {
        DisruptionCommand::Declare(a) => {
            let (disruption, request_id) = notice(a);
            let req = DeclareDisruptionRequest { disruption: Some(disruption), request_id };
            printer.record(&disruptions.declare_disruption(req).await?.into_inner())
        }
        DisruptionCommand::Update { name, version, notice: a } => {
            let (mut disruption, request_id) = notice(a);
            disruption.name = disruption_name(name);
            disruption.version = version;
            let req = UpdateDisruptionRequest { disruption: Some(disruption), request_id };
            printer.record(&disruptions.update_disruption(req).await?.into_inner())
        }
        DisruptionCommand::Resolve { name, version, resolution, request_id } => {
            let req = ResolveDisruptionRequest {
                name: disruption_name(name),
                resolution,
                version,
                request_id: request_id.unwrap_or_else(fresh_request_id),
            };
            printer.record(&disruptions.resolve_disruption(req).await?.into_inner())
        }
        DisruptionCommand::List { state, provider } => {
            let req = ListDisruptionsRequest {
                state: state.map_or(0, Into::into),
                provider: provider.unwrap_or_default(),
                ..Default::default()
            };
            let all = every_page(async |page_token| {
                let page = disruptions
                    .list_disruptions(ListDisruptionsRequest { page_token, ..req.clone() })
                    .await?
                    .into_inner();
                Ok((page.disruptions, page.next_page_token))
            })
            .await?;
            printer.records(&all)
        }
        DisruptionCommand::Get { name } => printer.record(
            &disruptions.get_disruption(GetDisruptionRequest { name: disruption_name(name) }).await?.into_inner(),
        ),
        DisruptionCommand::Affected { name } => {
            let req = ListAffectedOrdersRequest { name: disruption_name(name) };
            printer.records(&disruptions.list_affected_orders(req).await?.into_inner().repair_orders)
        }
        DisruptionCommand::Replan { name, as_of, commit } => {
            let req = ProposeReplanRequest { name: disruption_name(name), as_of: as_of.unwrap_or_default() };
            let plan = disruptions.propose_replan(req).await?.into_inner();
            super::signals::show_plan(client, plan, commit, printer).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(subcommand)]
        d: DisruptionCommand,
    }

    #[test]
    fn a_notice_is_sent_as_typed_even_a_percentage_past_100_for_the_server_to_refuse() {
        let argv = [
            "disruption",
            "declare",
            "--site",
            "Komaki South",
            "--cause",
            "natural-disaster",
            "--reduction-percent",
            "150",
            "--capability",
            "F-16C:depot,F-35A",
            "--start",
            "2027-03-01",
            "--expected-end",
            "2027-03-31",
            "--text",
            "Typhoon",
        ];
        let DisruptionCommand::Declare(a) = Wrap::try_parse_from(argv).map(|w| w.d).unwrap_or_else(|e| panic!("{e}"))
        else {
            panic!("expected declare")
        };
        let (d, request_id) = notice(a);
        assert_eq!(d.capacity_reduction_percent, 150);
        assert_eq!(d.cause, DisruptionCause::NaturalDisaster as i32);
        assert_eq!(d.capabilities[0].maintenance_level, MaintenanceLevel::Depot as i32);
        assert_eq!(d.capabilities[1], AffectedCapability { tms_or_family: "F-35A".into(), maintenance_level: 0 });
        assert!(!request_id.is_empty());
        // Or hours per month, never both, and one of the two is required.
        let hours = |flags: &[&str]| {
            let mut argv: Vec<&str> = vec!["disruption", "declare", "--site", "S", "--cause", "other"];
            argv.extend_from_slice(flags);
            argv.extend_from_slice(&["--start", "2027-03-01", "--expected-end", "2027-03-31"]);
            Wrap::try_parse_from(argv).map(|w| w.d)
        };
        let Ok(DisruptionCommand::Declare(a)) = hours(&["--reduction-hours-per-month", "400"]) else {
            panic!("expected declare")
        };
        let (d, _) = notice(a);
        assert_eq!((d.capacity_reduction_percent, d.capacity_reduction_hours_per_month), (0, 400));
        assert!(hours(&["--reduction-hours-per-month", "400", "--reduction-percent", "5"]).is_err());
        assert!(hours(&[]).is_err());
    }
}
