//! `cosx quote request|submit|list|get|accept`: the quote conversation
//! before an order is proposed.
//!
//! The client never judges a quote (who may answer, whether it expired,
//! whether an interim one can be accepted): it sends what the user typed,
//! with the version last seen and an idempotency key, and shows what the
//! coordinator decided.

use clap::{Args, Subcommand};
use cosx_proto::v1::{
    AcceptQuoteRequest, GetQuoteRequest, ListQuotesRequest, Money, QuoteKind, QuoteState, QuoteTerms, RepairProcess,
    RequestQuotesRequest, SubmitQuoteRequest,
};

use super::fresh_request_id;
use super::output::Printer;
use super::read::every_page;
use crate::Client;
use crate::enums;
use crate::error::ClientError;

/// `cosx quote ...`
#[derive(Debug, Subcommand)]
pub enum QuoteCommand {
    /// Owner or coordinator: ask providers to quote on an open order.
    Request {
        /// The order, repairOrders/ID or a bare id.
        order: String,
        /// Providers to ask; repeatable or comma-separated.
        #[arg(long, value_delimiter = ',', value_name = "PARTY_ID", required_unless_present = "all_eligible")]
        provider: Vec<String>,
        /// Ask every provider allocation's rules allow for the order instead.
        #[arg(long, conflicts_with = "provider")]
        all_eligible: bool,
        /// Idempotency key (default: fresh).
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
    },
    /// Asked provider: answer, or revise while the quote is valid.
    Submit(SubmitArgs),
    /// Quotes of one order (or of every order you may see, without one).
    List {
        /// The order, repairOrders/ID.
        order: Option<String>,
        /// Only quotes in this state, e.g. quoted.
        #[arg(long, value_parser = enums::parse::<QuoteState>)]
        state: Option<QuoteState>,
        /// Only this provider's quotes.
        #[arg(long, value_name = "PARTY_ID")]
        provider: Option<String>,
    },
    /// One quote, repairOrders/ORDER/quotes/PROVIDER.
    Get {
        /// The quote's name.
        name: String,
    },
    /// Owner: accept a FINAL, unexpired quote; the order is proposed to its provider.
    Accept {
        /// The quote's name.
        name: String,
        /// The quote version last seen.
        #[arg(long, value_name = "N")]
        version: i64,
        /// Idempotency key (default: fresh).
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
    },
}

/// `cosx quote submit`
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The quote's name, repairOrders/ORDER/quotes/PROVIDER.
    pub name: String,
    /// The quote version last seen.
    #[arg(long, value_name = "N")]
    pub version: i64,
    /// interim or final.
    #[arg(long, value_parser = enums::parse::<QuoteKind>)]
    pub kind: QuoteKind,
    /// Price for the whole order, in minor units (cents).
    #[arg(long, value_name = "CENTS", allow_negative_numbers = true)]
    pub price_cents: i64,
    /// ISO 4217 currency of the price.
    #[arg(long, default_value = "USD")]
    pub currency: String,
    /// Days from induction to serviceable.
    #[arg(long, value_name = "DAYS")]
    pub turnaround_days: u32,
    /// repair, overhaul, inspect-test or modify.
    #[arg(long, value_parser = enums::parse::<RepairProcess>)]
    pub process: RepairProcess,
    /// Last day the quote may be accepted, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub valid_until: String,
    /// Conditions of the quote.
    #[arg(long, default_value = "")]
    pub conditions: String,
    /// Idempotency key (default: fresh).
    #[arg(long, value_name = "ID")]
    pub request_id: Option<String>,
}

fn order_name(order: String) -> String {
    if order.starts_with("repairOrders/") { order } else { format!("repairOrders/{order}") }
}

/// The request `cosx quote submit` sends.
pub(crate) fn submit_request(a: SubmitArgs) -> SubmitQuoteRequest {
    SubmitQuoteRequest {
        name: a.name,
        terms: Some(QuoteTerms {
            kind: a.kind.into(),
            price: Some(Money { currency_code: a.currency, amount_minor: a.price_cents }),
            turnaround_days: a.turnaround_days,
            process: a.process.into(),
            valid_until: a.valid_until,
            conditions: a.conditions,
        }),
        version: a.version,
        request_id: a.request_id.unwrap_or_else(fresh_request_id),
    }
}

pub(crate) async fn run(client: &Client, cmd: QuoteCommand, printer: &Printer) -> Result<(), ClientError> {
    let mut quotes = cosx_proto::v1::quotes_client::QuotesClient::new(client.channel());
    match cmd {
        QuoteCommand::Request { order, provider, all_eligible, request_id } => {
            let req = RequestQuotesRequest {
                name: order_name(order),
                providers: provider,
                all_eligible,
                request_id: request_id.unwrap_or_else(fresh_request_id),
            };
            printer.records(&quotes.request_quotes(req).await?.into_inner().quotes)
        }
        QuoteCommand::Submit(a) => printer.record(&quotes.submit_quote(submit_request(a)).await?.into_inner()),
        QuoteCommand::List { order, state, provider } => {
            let req = ListQuotesRequest {
                parent: order.map_or_else(|| "repairOrders/-".to_owned(), order_name),
                state: state.map_or(0, Into::into),
                provider: provider.unwrap_or_default(),
                ..Default::default()
            };
            let all = every_page(async |page_token| {
                let page = quotes.list_quotes(ListQuotesRequest { page_token, ..req.clone() }).await?.into_inner();
                Ok((page.quotes, page.next_page_token))
            })
            .await?;
            printer.records(&all)
        }
        QuoteCommand::Get { name } => printer.record(&quotes.get_quote(GetQuoteRequest { name }).await?.into_inner()),
        QuoteCommand::Accept { name, version, request_id } => {
            let req = AcceptQuoteRequest { name, version, request_id: request_id.unwrap_or_else(fresh_request_id) };
            let done = quotes.accept_quote(req).await?.into_inner();
            printer.records(&done.repair_order.into_iter().collect::<Vec<_>>())?;
            printer.records(&done.quote.into_iter().collect::<Vec<_>>())
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
        q: QuoteCommand,
    }

    fn parse(args: &[&str]) -> QuoteCommand {
        let mut argv = vec!["quote"];
        argv.extend_from_slice(args);
        match Wrap::try_parse_from(argv) {
            Ok(w) => w.q,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn submit_sends_the_terms_as_typed_even_a_negative_price_for_the_server_to_refuse() {
        let QuoteCommand::Submit(a) = parse(&[
            "submit",
            "repairOrders/o1/quotes/JPN-MHI-KOMAKI",
            "--version",
            "1",
            "--kind",
            "final",
            "--price-cents",
            "-5",
            "--turnaround-days",
            "45",
            "--process",
            "inspect-test",
            "--valid-until",
            "2027-02-01",
        ]) else {
            panic!("expected submit")
        };
        let req = submit_request(a);
        let t = req.terms.expect("terms");
        assert_eq!((t.kind, t.process), (QuoteKind::Final as i32, RepairProcess::InspectTest as i32));
        assert_eq!(t.price.map(|m| m.amount_minor), Some(-5));
        assert!(!req.request_id.is_empty());
    }

    #[test]
    fn a_request_names_providers_or_asks_everyone_eligible_not_both() {
        let QuoteCommand::Request { order, provider, all_eligible, .. } =
            parse(&["request", "o1", "--provider", "JPN-MHI-KOMAKI,KOR-KAI-SACHEON"])
        else {
            panic!("expected request")
        };
        assert_eq!((order_name(order).as_str(), provider.len(), all_eligible), ("repairOrders/o1", 2, false));
        assert!(Wrap::try_parse_from(["quote", "request", "o1"]).is_err());
        assert!(Wrap::try_parse_from(["quote", "request", "o1", "--all-eligible", "--provider", "X"]).is_err());
        assert!(matches!(
            parse(&["request", "o1", "--all-eligible"]),
            QuoteCommand::Request { all_eligible: true, .. }
        ));
    }
}
