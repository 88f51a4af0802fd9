//! `cosx exception raise|answer|list`: repair exceptions on an order with
//! its provider, and the owner's answers.
//!
//! The client never judges an exception (who may raise or answer it,
//! whether the order is with its provider, whether it was answered): it
//! sends what the user typed, with an idempotency key, and shows what the
//! coordinator decided.

use clap::{Args, Subcommand};
use cosx_proto::v1::answer_exception_request::Decision;
use cosx_proto::v1::{
    AnswerExceptionRequest, ListExceptionsRequest, Money, RaiseExceptionRequest, RepairExceptionKind,
    RepairExceptionState,
};

use super::fresh_request_id;
use super::output::Printer;
use super::read::every_page;
use crate::Client;
use crate::enums;
use crate::error::ClientError;

/// `cosx exception ...`
#[derive(Debug, Subcommand)]
pub enum ExceptionCommand {
    /// Provider: raise an exception on an order you hold.
    Raise(RaiseArgs),
    /// Owner: approve or reject an open exception.
    Answer {
        /// The exception, repairOrders/ORDER/exceptions/N.
        name: String,
        /// approve or reject.
        #[arg(long, value_parser = ["approve", "reject"])]
        decision: String,
        /// Why (required to reject; a note to approve).
        #[arg(long, default_value = "")]
        reason: String,
        /// Idempotency key (default: fresh).
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
    },
    /// An order's exceptions, oldest first.
    List {
        /// The order, repairOrders/ID or a bare id.
        order: String,
        /// Only exceptions in this state, e.g. open.
        #[arg(long, value_parser = enums::parse::<RepairExceptionState>)]
        state: Option<RepairExceptionState>,
    },
}

/// `cosx exception raise`
#[derive(Debug, Args)]
pub struct RaiseArgs {
    /// The order, repairOrders/ID or a bare id.
    pub order: String,
    /// cost-over-estimate, turnaround-slip, beyond-economical-repair,
    /// no-fault-found, scrap or parts-unobtainable.
    #[arg(long, value_parser = enums::parse::<RepairExceptionKind>)]
    pub kind: RepairExceptionKind,
    /// cost-over-estimate: the new estimate, in minor units (cents).
    #[arg(long, value_name = "CENTS", allow_negative_numbers = true)]
    pub new_estimate_cents: Option<i64>,
    /// ISO 4217 currency of the new estimate.
    #[arg(long, default_value = "USD")]
    pub currency: String,
    /// turnaround-slip: the new completion date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE", default_value = "")]
    pub new_completion_date: String,
    /// What was found.
    #[arg(long)]
    pub text: String,
    /// Idempotency key (default: fresh).
    #[arg(long, value_name = "ID")]
    pub request_id: Option<String>,
}

fn order_name(order: String) -> String {
    if order.starts_with("repairOrders/") { order } else { format!("repairOrders/{order}") }
}

/// The request `cosx exception raise` sends.
pub(crate) fn raise_request(a: RaiseArgs) -> RaiseExceptionRequest {
    RaiseExceptionRequest {
        parent: order_name(a.order),
        kind: a.kind.into(),
        new_estimate: a.new_estimate_cents.map(|c| Money { currency_code: a.currency, amount_minor: c }),
        new_completion_date: a.new_completion_date,
        text: a.text,
        request_id: a.request_id.unwrap_or_else(fresh_request_id),
    }
}

pub(crate) async fn run(client: &Client, cmd: ExceptionCommand, printer: &Printer) -> Result<(), ClientError> {
    let mut exceptions = cosx_proto::v1::repair_exceptions_client::RepairExceptionsClient::new(client.channel());
    match cmd {
        ExceptionCommand::Raise(a) => printer.record(&exceptions.raise_exception(raise_request(a)).await?.into_inner()),
        ExceptionCommand::Answer { name, decision, reason, request_id } => {
            let decision = if decision == "approve" { Decision::Approve } else { Decision::Reject };
            let req = AnswerExceptionRequest {
                name,
                decision: decision.into(),
                reason,
                request_id: request_id.unwrap_or_else(fresh_request_id),
            };
            printer.record(&exceptions.answer_exception(req).await?.into_inner())
        }
        ExceptionCommand::List { order, state } => {
            let req = ListExceptionsRequest {
                parent: order_name(order),
                state: state.map_or(0, Into::into),
                ..Default::default()
            };
            let all = every_page(async |page_token| {
                let page =
                    exceptions.list_exceptions(ListExceptionsRequest { page_token, ..req.clone() }).await?.into_inner();
                Ok((page.exceptions, page.next_page_token))
            })
            .await?;
            printer.records(&all)
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
        e: ExceptionCommand,
    }

    #[test]
    fn raise_sends_what_was_typed_even_a_negative_estimate_for_the_server_to_refuse() {
        let argv = [
            "exception",
            "raise",
            "o1",
            "--kind",
            "cost-over-estimate",
            "--new-estimate-cents",
            "-5",
            "--text",
            "corrosion",
        ];
        let ExceptionCommand::Raise(a) = Wrap::try_parse_from(argv).map(|w| w.e).unwrap_or_else(|e| panic!("{e}"))
        else {
            panic!("expected raise")
        };
        let req = raise_request(a);
        assert_eq!(req.parent, "repairOrders/o1");
        assert_eq!(req.kind, RepairExceptionKind::CostOverEstimate as i32);
        assert_eq!(req.new_estimate.map(|m| m.amount_minor), Some(-5));
        assert!(!req.request_id.is_empty());
        assert!(Wrap::try_parse_from(["exception", "answer", "x", "--decision", "maybe"]).is_err());
    }
}
