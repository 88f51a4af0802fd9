//! `cosx comment add|edit|withdraw|list|get` and `cosx update-request
//! ask|missing-report|list|get|answer|withdraw`: the conversation around a
//! record.
//!
//! The client never judges a comment or a request (who may see the record,
//! who may edit, whether a month's report is missing): it sends what the
//! user typed, with the version last seen and an idempotency key, and shows
//! what the coordinator decided.

use clap::{Args, Subcommand};
use cosx_proto::v1::{
    AddCommentRequest, AnswerUpdateRequestRequest, CommentContent, CommentType, DemandCellRef, EditCommentRequest,
    GetCommentRequest, GetUpdateRequestRequest, ListCommentsRequest, ListUpdateRequestsRequest, MaintenanceLevel,
    MissingReport, Region, RequestUpdateRequest, UpdateRequestState, WithdrawCommentRequest,
    WithdrawUpdateRequestRequest,
};

use super::fresh_request_id;
use super::output::Printer;
use super::read::every_page;
use crate::Client;
use crate::enums;
use crate::error::ClientError;

/// What a comment says, as typed.
#[derive(Debug, Args)]
pub struct ContentArgs {
    /// information, warning or action-required.
    #[arg(long = "type", value_parser = enums::parse::<CommentType>)]
    pub comment_type: CommentType,
    /// The text, 1 to 5,000 characters.
    #[arg(long)]
    pub text: String,
    /// Dates the comment refers to, YYYY-MM-DD; repeatable or comma-separated.
    #[arg(long = "date", value_delimiter = ',', value_name = "DATE")]
    pub reference_dates: Vec<String>,
}

impl ContentArgs {
    fn content(self) -> CommentContent {
        CommentContent {
            comment_type: self.comment_type.into(),
            reference_dates: self.reference_dates,
            text: self.text,
        }
    }
}

/// A demand cell as typed, `REGION:LEVEL:YYYY-MM:TMS` (the TMS or family
/// last, so it may hold any character). A region or level the client does
/// not know is sent as an unknown number for the server to refuse.
fn demand_cell(s: &str) -> Result<DemandCellRef, String> {
    let parts: Vec<&str> = s.splitn(4, ':').collect();
    let [region, level, month, tms] = parts[..] else {
        return Err(format!("{s:?}: expected REGION:LEVEL:YYYY-MM:TMS, e.g. indopacom:depot:2027-03:F-35A"));
    };
    Ok(DemandCellRef {
        region: enums::parse::<Region>(region).map_or(-1, Into::into),
        tms: tms.to_owned(),
        level: enums::parse::<MaintenanceLevel>(level).map_or(-1, Into::into),
        month: month.to_owned(),
    })
}

/// `cosx comment ...`
#[derive(Debug, Subcommand)]
pub enum CommentCommand {
    /// Comment on a record you may see: repairOrders/ID, capacityOffers/ID or availabilityReports/ID;
    /// coordinators also on a demand cell (--demand-cell).
    Add {
        /// The record (or give --demand-cell).
        #[arg(required_unless_present = "demand_cell")]
        record: Option<String>,
        /// Coordinators: a demand cell, REGION:LEVEL:YYYY-MM:TMS (e.g. indopacom:depot:2027-03:F-35A).
        #[arg(long, value_parser = demand_cell, value_name = "CELL", conflicts_with = "record")]
        demand_cell: Option<DemandCellRef>,
        /// What the comment says.
        #[command(flatten)]
        content: ContentArgs,
        /// Idempotency key (default: fresh).
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
    },
    /// Author: replace a comment's content (a new version; the earlier one is kept).
    Edit {
        /// The comment, RECORD/comments/ID.
        name: String,
        /// The comment version last seen.
        #[arg(long, value_name = "N")]
        version: i64,
        /// What the comment says now.
        #[command(flatten)]
        content: ContentArgs,
        /// Idempotency key (default: fresh).
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
    },
    /// Author: withdraw a comment.
    Withdraw {
        /// The comment, RECORD/comments/ID.
        name: String,
        /// The comment version last seen.
        #[arg(long, value_name = "N")]
        version: i64,
        /// Idempotency key (default: fresh).
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
    },
    /// The comments on a record (or a demand cell), oldest first.
    List {
        /// The record (or give --demand-cell).
        #[arg(required_unless_present = "demand_cell")]
        record: Option<String>,
        /// Coordinators: a demand cell, REGION:LEVEL:YYYY-MM:TMS.
        #[arg(long, value_parser = demand_cell, value_name = "CELL", conflicts_with = "record")]
        demand_cell: Option<DemandCellRef>,
        /// Also list withdrawn comments.
        #[arg(long)]
        include_withdrawn: bool,
    },
    /// One comment.
    Get {
        /// The comment, RECORD/comments/ID.
        name: String,
    },
}

/// `cosx update-request ...`
#[derive(Debug, Subcommand)]
pub enum UpdateRequestCommand {
    /// Ask a record's owner for a newer version of a record you may see.
    Ask {
        /// The record: repairOrders/ID, capacityOffers/ID or availabilityReports/ID.
        record: String,
        /// Why.
        #[arg(long, default_value = "")]
        text: String,
        /// Idempotency key (default: fresh).
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
    },
    /// Coordinators: ask a party for its missing availability report of a month.
    MissingReport {
        /// The party asked.
        party: String,
        /// The month, YYYY-MM.
        #[arg(long)]
        month: String,
        /// The TMS missing; repeatable or comma-separated (none: any report).
        #[arg(long, value_delimiter = ',')]
        tms: Vec<String>,
        /// Why.
        #[arg(long, default_value = "")]
        text: String,
        /// Idempotency key (default: fresh).
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
    },
    /// The requests you made or were asked (coordinators: all).
    List {
        /// Only requests in this state, e.g. open.
        #[arg(long, value_parser = enums::parse::<UpdateRequestState>)]
        state: Option<UpdateRequestState>,
        /// Only requests asked of this party.
        #[arg(long, value_name = "PARTY_ID")]
        addressee: Option<String>,
        /// Only requests made by this party.
        #[arg(long, value_name = "PARTY_ID")]
        requester: Option<String>,
    },
    /// One request, updateRequests/ID.
    Get {
        /// The request's name.
        name: String,
    },
    /// Addressee: answer a request (it closes as ANSWERED).
    Answer {
        /// The request's name.
        name: String,
        /// The request version last seen.
        #[arg(long, value_name = "N")]
        version: i64,
        /// The answer, 1 to 5,000 characters.
        #[arg(long)]
        text: String,
        /// Idempotency key (default: fresh).
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
    },
    /// Requester: withdraw a request.
    Withdraw {
        /// The request's name.
        name: String,
        /// The request version last seen.
        #[arg(long, value_name = "N")]
        version: i64,
        /// Idempotency key (default: fresh).
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
    },
}

fn update_request_name(name: String) -> String {
    if name.starts_with("updateRequests/") { name } else { format!("updateRequests/{name}") }
}

pub(crate) async fn run(client: &Client, cmd: CommentCommand, printer: &Printer) -> Result<(), ClientError> {
    let mut comments = cosx_proto::v1::comments_client::CommentsClient::new(client.channel());
    let fresh = |id: Option<String>| id.unwrap_or_else(fresh_request_id);
    match cmd {
        CommentCommand::Add { record, demand_cell, content, request_id } => {
            let req = AddCommentRequest {
                parent: record.unwrap_or_default(),
                content: Some(content.content()),
                request_id: fresh(request_id),
                demand_cell,
            };
            printer.record(&comments.add_comment(req).await?.into_inner())
        }
        CommentCommand::Edit { name, version, content, request_id } => {
            let req =
                EditCommentRequest { name, content: Some(content.content()), version, request_id: fresh(request_id) };
            printer.record(&comments.edit_comment(req).await?.into_inner())
        }
        CommentCommand::Withdraw { name, version, request_id } => {
            let req = WithdrawCommentRequest { name, version, request_id: fresh(request_id) };
            printer.record(&comments.withdraw_comment(req).await?.into_inner())
        }
        CommentCommand::List { record, demand_cell, include_withdrawn } => {
            let req = ListCommentsRequest {
                parent: record.unwrap_or_default(),
                include_withdrawn,
                demand_cell,
                ..Default::default()
            };
            let all = every_page(async |page_token| {
                let page =
                    comments.list_comments(ListCommentsRequest { page_token, ..req.clone() }).await?.into_inner();
                Ok((page.comments, page.next_page_token))
            })
            .await?;
            printer.records(&all)
        }
        CommentCommand::Get { name } => {
            printer.record(&comments.get_comment(GetCommentRequest { name }).await?.into_inner())
        }
    }
}

pub(crate) async fn run_update_request(
    client: &Client,
    cmd: UpdateRequestCommand,
    printer: &Printer,
) -> Result<(), ClientError> {
    let mut requests = cosx_proto::v1::update_requests_client::UpdateRequestsClient::new(client.channel());
    let fresh = |id: Option<String>| id.unwrap_or_else(fresh_request_id);
    match cmd {
        UpdateRequestCommand::Ask { record, text, request_id } => {
            let req = RequestUpdateRequest { record, missing_report: None, text, request_id: fresh(request_id) };
            printer.record(&requests.request_update(req).await?.into_inner())
        }
        UpdateRequestCommand::MissingReport { party, month, tms, text, request_id } => {
            let req = RequestUpdateRequest {
                record: String::new(),
                missing_report: Some(MissingReport { party, month, tms }),
                text,
                request_id: fresh(request_id),
            };
            printer.record(&requests.request_update(req).await?.into_inner())
        }
        UpdateRequestCommand::List { state, addressee, requester } => {
            let req = ListUpdateRequestsRequest {
                state: state.map_or(0, Into::into),
                addressee: addressee.unwrap_or_default(),
                requester: requester.unwrap_or_default(),
                ..Default::default()
            };
            let all = every_page(async |page_token| {
                let page = requests
                    .list_update_requests(ListUpdateRequestsRequest { page_token, ..req.clone() })
                    .await?
                    .into_inner();
                Ok((page.update_requests, page.next_page_token))
            })
            .await?;
            printer.records(&all)
        }
        UpdateRequestCommand::Get { name } => {
            let req = GetUpdateRequestRequest { name: update_request_name(name) };
            printer.record(&requests.get_update_request(req).await?.into_inner())
        }
        UpdateRequestCommand::Answer { name, version, text, request_id } => {
            let req = AnswerUpdateRequestRequest {
                name: update_request_name(name),
                answer: text,
                version,
                request_id: fresh(request_id),
            };
            printer.record(&requests.answer_update_request(req).await?.into_inner())
        }
        UpdateRequestCommand::Withdraw { name, version, request_id } => {
            let req = WithdrawUpdateRequestRequest {
                name: update_request_name(name),
                version,
                request_id: fresh(request_id),
            };
            printer.record(&requests.withdraw_update_request(req).await?.into_inner())
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
        c: CommentCommand,
    }

    #[derive(Parser)]
    struct WrapUpdate {
        #[command(subcommand)]
        u: UpdateRequestCommand,
    }

    #[test]
    fn add_sends_the_type_dates_and_text_as_typed() {
        let parsed = Wrap::try_parse_from([
            "comment",
            "add",
            "repairOrders/o1",
            "--type",
            "action-required",
            "--text",
            "",
            "--date",
            "2027-02-01,2027-01-01",
        ]);
        let Ok(Wrap { c: CommentCommand::Add { record, content, .. } }) = parsed else { panic!("expected add") };
        assert_eq!(record.as_deref(), Some("repairOrders/o1"));
        let c = content.content();
        assert_eq!(c.comment_type, CommentType::ActionRequired as i32);
        assert_eq!(c.reference_dates, vec!["2027-02-01", "2027-01-01"], "sorting is the server's");
        assert_eq!(c.text, "", "an empty text goes to the server, which refuses it");
        assert!(
            Wrap::try_parse_from(["comment", "add", "repairOrders/o1", "--type", "gossip", "--text", "x"]).is_err()
        );
    }

    #[test]
    fn a_demand_cell_is_typed_by_its_key_fields_instead_of_a_record() {
        let add = |args: &[&str]| {
            let mut argv = vec!["comment", "add"];
            argv.extend_from_slice(args);
            argv.extend_from_slice(&["--type", "warning", "--text", "x"]);
            Wrap::try_parse_from(argv)
        };
        let Ok(Wrap { c: CommentCommand::Add { record, demand_cell, .. } }) =
            add(&["--demand-cell", "indopacom:depot:2027-03:F/A-18E"])
        else {
            panic!("expected add")
        };
        let cell = demand_cell.unwrap_or_default();
        assert_eq!(record, None);
        assert_eq!((cell.region, cell.level), (Region::Indopacom as i32, MaintenanceLevel::Depot as i32));
        assert_eq!((cell.month.as_str(), cell.tms.as_str()), ("2027-03", "F/A-18E"));
        let Ok(Wrap { c: CommentCommand::Add { demand_cell: Some(odd), .. } }) =
            add(&["--demand-cell", "mars:depot:2027-3:F-35A"])
        else {
            panic!("expected add")
        };
        assert_eq!((odd.region, odd.month.as_str()), (-1, "2027-3"), "the server refuses what it does not know");
        assert!(add(&["--demand-cell", "indopacom:depot"]).is_err());
        assert!(add(&["repairOrders/o1", "--demand-cell", "indopacom:depot:2027-03:F-35A"]).is_err());
        assert!(add(&[]).is_err(), "a record or a cell is required");
    }

    #[test]
    fn a_missing_report_request_names_a_party_and_a_month() {
        let parsed = WrapUpdate::try_parse_from([
            "u",
            "missing-report",
            "US-USAF-OOALC",
            "--month",
            "2027-01",
            "--tms",
            "F-16C",
        ]);
        let Ok(WrapUpdate { u: UpdateRequestCommand::MissingReport { party, month, tms, .. } }) = parsed else {
            panic!("expected missing-report")
        };
        assert_eq!((party.as_str(), month.as_str(), tms), ("US-USAF-OOALC", "2027-01", vec!["F-16C".to_owned()]));
        assert_eq!(update_request_name("abc".into()), "updateRequests/abc");
    }
}
