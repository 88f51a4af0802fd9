//! `cosx order ...`: lifecycle steps, splits and history of a repair order.
//!
//! The client does not know the lifecycle rules; it sends the step with the
//! version the user last saw and shows what the coordinator decided. Each
//! step carries an idempotency key so a retried command does not step twice.

use cosx_proto::v1::{
    GetRepairOrderHistoryRequest, Money, RepairOrderAction, SplitRepairOrderRequest, TransitionRepairOrderRequest,
    WorkProgress,
};

use super::output::Printer;
use super::{OrderCommand, TransitionArgs, fresh_request_id};
use crate::Client;
use crate::error::ClientError;

pub(crate) async fn run(client: &Client, cmd: OrderCommand, printer: &Printer) -> Result<(), ClientError> {
    let (action, args) = match cmd {
        OrderCommand::Split { name, version, quantities, request_id } => {
            let req = SplitRepairOrderRequest {
                name,
                version,
                quantities,
                request_id: request_id.unwrap_or_else(fresh_request_id),
            };
            let resp = client.exchange().split_repair_order(req).await?.into_inner();
            let mut orders: Vec<_> = resp.parent.into_iter().collect();
            orders.extend(resp.parts);
            return printer.records(&orders);
        }
        OrderCommand::History { name } => {
            let resp =
                client.exchange().get_repair_order_history(GetRepairOrderHistoryRequest { name }).await?.into_inner();
            return printer.records(&resp.transitions);
        }
        OrderCommand::Propose(a) => (RepairOrderAction::Propose, a),
        OrderCommand::Accept(a) => (RepairOrderAction::Accept, a),
        OrderCommand::Decline(a) => (RepairOrderAction::Decline, a),
        OrderCommand::Induct(a) => (RepairOrderAction::Induct, a),
        OrderCommand::Start(a) => (RepairOrderAction::StartWork, a),
        OrderCommand::AwaitParts(a) => (RepairOrderAction::AwaitParts, a),
        OrderCommand::Complete(a) => (RepairOrderAction::Complete, a),
        OrderCommand::Ship(a) => (RepairOrderAction::Ship, a),
        OrderCommand::Close(a) => (RepairOrderAction::Close, a),
        OrderCommand::Cancel(a) => (RepairOrderAction::Cancel, a),
    };
    let req = transition_request(action, args)?;
    let order = client.exchange().transition_repair_order(req).await?.into_inner();
    printer.record(&order)
}

/// Builds the request for a lifecycle step; `progress` is sent only when
/// some date or actual was given.
pub(crate) fn transition_request(
    action: RepairOrderAction,
    args: TransitionArgs,
) -> Result<TransitionRepairOrderRequest, ClientError> {
    if action == RepairOrderAction::Propose && args.provider.is_none() {
        return Err(ClientError::Usage("order propose needs --provider PARTY_ID".into()));
    }
    let any_progress = args.induction_date.is_some()
        || args.estimated_completion.is_some()
        || args.actual_completion.is_some()
        || args.ship_date.is_some()
        || args.labor_hours.is_some()
        || args.cost_cents.is_some();
    let progress = any_progress.then(|| WorkProgress {
        induction_date: args.induction_date.unwrap_or_default(),
        estimated_completion_date: args.estimated_completion.unwrap_or_default(),
        actual_completion_date: args.actual_completion.unwrap_or_default(),
        ship_date: args.ship_date.unwrap_or_default(),
        actual_labor_hours: args.labor_hours.unwrap_or_default(),
        actual_cost: args.cost_cents.map(|amount_minor| Money { currency_code: args.currency.clone(), amount_minor }),
    });
    Ok(TransitionRepairOrderRequest {
        name: args.name,
        version: args.version,
        action: action.into(),
        provider: args.provider.unwrap_or_default(),
        reason: args.reason.unwrap_or_default(),
        progress,
        request_id: args.request_id.unwrap_or_else(fresh_request_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> TransitionArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrap {
            #[command(flatten)]
            t: TransitionArgs,
        }
        let mut argv = vec!["t", "repairOrders/5", "--version", "3"];
        argv.extend_from_slice(extra);
        match Wrap::try_parse_from(argv) {
            Ok(w) => w.t,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_bare_step_sends_no_progress() {
        let req = transition_request(RepairOrderAction::Accept, args(&[])).expect("request");
        assert_eq!(req.action, RepairOrderAction::Accept as i32);
        assert_eq!(req.version, 3);
        assert!(req.progress.is_none());
        assert!(!req.request_id.is_empty());
    }

    #[test]
    fn completion_carries_actuals_in_cents() {
        let req = transition_request(
            RepairOrderAction::Complete,
            args(&["--actual-completion", "2027-03-01", "--labor-hours", "41.5", "--cost-cents", "1250000"]),
        )
        .expect("request");
        let progress = req.progress.expect("progress");
        assert_eq!(progress.actual_completion_date, "2027-03-01");
        assert_eq!(progress.actual_labor_hours, 41.5);
        assert_eq!(progress.actual_cost, Some(Money { currency_code: "USD".into(), amount_minor: 1_250_000 }));
    }

    #[test]
    fn proposing_needs_a_provider() {
        assert!(transition_request(RepairOrderAction::Propose, args(&[])).is_err());
        let req =
            transition_request(RepairOrderAction::Propose, args(&["--provider", "JPN-MHI-KOMAKI"])).expect("request");
        assert_eq!(req.provider, "JPN-MHI-KOMAKI");
    }

    #[test]
    fn an_explicit_request_id_is_kept_for_retries() {
        let req = transition_request(RepairOrderAction::Ship, args(&["--request-id", "ship-5"])).expect("request");
        assert_eq!(req.request_id, "ship-5");
    }
}
