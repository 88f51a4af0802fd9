//! The repair conversation in the demo: an owner asks for quotes before an
//! order goes out and accepts the cheapest final one, a provider raises a
//! repair exception on work in progress and the owner answers it, and a
//! typhoon disrupts a depot for a month while the coordinating office lists
//! the work it strands and re-plans it onto other eligible providers.
//!
//! Drives the API through the parties' own nodes (the coordinating office
//! talks to the coordinator) like any party would. Must never: decide a
//! rule itself — who may quote, what blocks a step, where stranded work may
//! go are the exchange's answers, printed as they come.

use anyhow::Context;
use cosx_proto::v1 as pb;

use super::scenario::{CUT_OFF, Month, PARTIES};
use super::{Demo, date};

/// The depot the typhoon hits (at the site its offer names).
const TYPHOON_PROVIDER: &str = "JPN-MHI-KOMAKI";

fn money(cents: i64) -> pb::Money {
    pb::Money { currency_code: "USD".into(), amount_minor: cents }
}

fn estimate_cents(order: &pb::RepairOrder) -> i64 {
    order.funding.as_ref().and_then(|f| f.estimated_cost.as_ref()).map_or(0, |c| c.amount_minor)
}

fn is_organic(party: &str) -> bool {
    PARTIES.iter().any(|p| p.id == party && p.kind == "ORGANIC")
}

/// An owner asks every eligible provider to quote on one of its open
/// orders; each answers with a final quote and the owner accepts the
/// cheapest, which proposes the order to that provider (who still accepts).
pub(crate) async fn quotes_before_an_order(demo: &Demo, owner: &str, tms: &str, month: &Month) -> anyhow::Result<()> {
    let Some(order) = demo
        .orders_at(owner, false)
        .await?
        .into_iter()
        .find(|o| o.state() == pb::RepairOrderState::Submitted && o.tms == tms)
    else {
        return Ok(());
    };
    let mut quotes = pb::quotes_client::QuotesClient::new(demo.node(owner)?.client.channel());
    let asked = quotes
        .request_quotes(pb::RequestQuotesRequest {
            name: order.name.clone(),
            all_eligible: true,
            request_id: format!("demo-quotes-{}", order.name.replace('/', "-")),
            ..Default::default()
        })
        .await
        .with_context(|| format!("{owner}: request quotes on {}", order.name))?
        .into_inner()
        .quotes;
    let estimate = estimate_cents(&order);
    // Each provider answers at its own node, from the quote its replica holds.
    demo.settle().await?;
    let mut answered = Vec::new();
    for (i, q) in asked.iter().enumerate().filter(|(_, q)| q.provider != CUT_OFF) {
        // Each provider prices the work its own way: within 15 % of the estimate.
        let factor = 0.9 + 0.05 * (i % 4) as f64;
        let quote = pb::quotes_client::QuotesClient::new(demo.node(&q.provider)?.client.channel())
            .submit_quote(pb::SubmitQuoteRequest {
                name: q.name.clone(),
                terms: Some(pb::QuoteTerms {
                    kind: pb::QuoteKind::Final as i32,
                    price: Some(money((estimate as f64 * factor).round() as i64)),
                    turnaround_days: 30 + 5 * (i as u32 % 5),
                    process: pb::RepairProcess::Repair as i32,
                    valid_until: date(month.last + chrono::Days::new(30)),
                    conditions: "firm fixed price; carcass received serviceable for repair".into(),
                }),
                version: q.version,
                request_id: format!("demo-quote-{}", q.name.replace('/', "-")),
            })
            .await
            .with_context(|| format!("{}: quote on {}", q.provider, order.name))?
            .into_inner();
        answered.push(quote);
    }
    let price = |q: &pb::Quote| q.terms.as_ref().and_then(|t| t.price.as_ref()).map_or(i64::MAX, |p| p.amount_minor);
    let Some(best) = answered.iter().min_by_key(|q| price(q)) else {
        println!("  {owner} asked for quotes on {}: no eligible provider could quote", order.name);
        return Ok(());
    };
    // The providers' nodes queued their quotes; the owner's node accepts from its replica.
    demo.settle().await?;
    quotes
        .accept_quote(pb::AcceptQuoteRequest {
            name: best.name.clone(),
            version: best.version,
            request_id: format!("demo-accept-{}", best.name.replace('/', "-")),
        })
        .await
        .with_context(|| format!("{owner}: accept {}", best.name))?;
    println!(
        "  {owner} asked {} eligible providers to quote on {} ({tms}, estimate ${}); {} answered; \
         accepted {}'s final quote at ${} (the order is proposed to it, the other quotes close)",
        asked.len(),
        order.name,
        estimate / 100,
        answered.len(),
        best.provider,
        price(best) / 100
    );
    Ok(())
}

/// A contract provider finds its work on one order will cost more than
/// estimated and raises an exception; the owner approves the new estimate.
/// Until the answer the order could not be completed.
pub(crate) async fn an_exception_on_work_in_progress(demo: &Demo) -> anyhow::Result<()> {
    let providers: std::collections::BTreeSet<&str> = super::OFFERS.iter().map(|o| o.provider).collect();
    for provider in providers.into_iter().filter(|p| !is_organic(p) && *p != CUT_OFF) {
        let Some(order) =
            demo.orders_at(provider, true).await?.into_iter().find(|o| {
                o.state() == pb::RepairOrderState::InWork && o.originator != CUT_OFF && estimate_cents(o) > 0
            })
        else {
            continue;
        };
        let new_estimate = estimate_cents(&order) * 118 / 100;
        let raised = pb::repair_exceptions_client::RepairExceptionsClient::new(demo.node(provider)?.client.channel())
            .raise_exception(pb::RaiseExceptionRequest {
                parent: order.name.clone(),
                kind: pb::RepairExceptionKind::CostOverEstimate as i32,
                new_estimate: Some(money(new_estimate)),
                text: "teardown found corrosion beyond the repair manual's limits; two more parts to replace".into(),
                request_id: format!("demo-exception-{}", order.name.replace('/', "-")),
                ..Default::default()
            })
            .await
            .with_context(|| format!("{provider}: exception on {}", order.name))?
            .into_inner();
        // The provider's node queued it; the owner's node answers from its
        // replica, so it must have heard of it first.
        demo.settle().await?;
        pb::repair_exceptions_client::RepairExceptionsClient::new(demo.node(&order.originator)?.client.channel())
            .answer_exception(pb::AnswerExceptionRequest {
                name: raised.name.clone(),
                decision: pb::answer_exception_request::Decision::Approve as i32,
                reason: "approved: within the fleet's repair budget".into(),
                request_id: format!("demo-answer-{}", raised.name.replace('/', "-")),
            })
            .await
            .with_context(|| format!("{}: answer {}", order.originator, raised.name))?;
        println!(
            "  {provider} raised a cost-over-estimate exception on {} (new estimate ${}); {} approved it, \
             so the order may be completed at up to the new estimate",
            order.name,
            new_estimate / 100,
            order.originator
        );
        return Ok(());
    }
    Ok(())
}

/// A typhoon hits a depot: its provider declares the disruption, and the
/// coordinating office lists the orders it strands, re-plans them and
/// commits the moves (each new provider still accepts or declines).
/// Returns the disruption's name and version, for resolving it later.
pub(crate) async fn a_typhoon_strands_work(demo: &Demo, month: &Month) -> anyhow::Result<(String, i64)> {
    let site = super::OFFERS
        .iter()
        .find(|o| o.provider == TYPHOON_PROVIDER)
        .map(|o| o.site.name)
        .context("the typhoon's depot offers no capacity")?;
    let declared = pb::disruptions_client::DisruptionsClient::new(demo.node(TYPHOON_PROVIDER)?.client.channel())
        .declare_disruption(pb::DeclareDisruptionRequest {
            disruption: Some(pb::Disruption {
                site: site.into(),
                cause: pb::DisruptionCause::NaturalDisaster as i32,
                capacity_reduction_percent: 100,
                start_date: date(month.first),
                expected_end_date: date(month.last + chrono::Days::new(120)),
                text: "Typhoon: flooding in the engine shop and the power grid down; \
                       the depot is closed and the engine shop is expected back in four months"
                    .into(),
                ..Default::default()
            }),
            request_id: format!("demo-typhoon-{}", month.code()),
        })
        .await
        .context("typhoon: declare")?
        .into_inner();
    // The provider's node queued it (named as the coordinator names it); the re-plan is the coordinator's.
    demo.settle().await?;
    println!(
        "  !! typhoon: {TYPHOON_PROVIDER} declared a disruption at {site}: closed (all of its capacity lost) {} to {}",
        declared.start_date, declared.expected_end_date
    );
    let channel = demo.j4.channel();
    let mut disruptions = pb::disruptions_client::DisruptionsClient::new(channel.clone());
    let stranded = disruptions
        .list_affected_orders(pb::ListAffectedOrdersRequest { name: declared.name.clone() })
        .await?
        .into_inner()
        .repair_orders;
    let plan = disruptions
        .propose_replan(pb::ProposeReplanRequest { name: declared.name.clone(), as_of: date(month.first) })
        .await?
        .into_inner();
    println!(
        "  the coordinating office's re-plan: {} order(s) stranded at {site}; {} move, {} stay or cannot move",
        stranded.len(),
        plan.assignments.len(),
        plan.unplaced.len()
    );
    for a in &plan.assignments {
        println!(
            "    move {} -> {} ({:.0} km, ${})",
            a.repair_order,
            a.provider,
            a.distance_km,
            a.total_cost_cents / 100
        );
    }
    for u in &plan.unplaced {
        println!("    keep {}: {} ({})", u.repair_order, u.reason, u.detail);
    }
    if !plan.assignments.is_empty() {
        let mut allocation = pb::allocation_client::AllocationClient::new(channel);
        match allocation.commit(pb::CommitAllocationRequest { assignments: plan.assignments.clone() }).await {
            Ok(done) => {
                let done = done.into_inner().results;
                let moved = done.iter().filter(|r| r.proposed).count();
                println!(
                    "    committed: {moved} order(s) proposed to their new providers, who accept or decline as always"
                );
            }
            Err(status) if status.code() == tonic::Code::FailedPrecondition => {
                println!("    !! re-plan commit refused whole: {}", status.message());
            }
            Err(status) => return Err(status.into()),
        }
    }
    Ok((declared.name, declared.version))
}

/// The depot is back: its provider resolves the disruption.
pub(crate) async fn the_typhoon_passes(demo: &Demo, (name, version): &(String, i64)) -> anyhow::Result<()> {
    pb::disruptions_client::DisruptionsClient::new(demo.node(TYPHOON_PROVIDER)?.client.channel())
        .resolve_disruption(pb::ResolveDisruptionRequest {
            name: name.clone(),
            resolution: "power restored and the engine shop dried out; full capacity again".into(),
            version: *version,
            request_id: format!("demo-resolve-{}", name.replace('/', "-")),
        })
        .await
        .context("typhoon: resolve")?;
    // (The disruption's id is the exchange's: left out so a seed prints the same run.)
    println!("  {TYPHOON_PROVIDER} resolved the typhoon's disruption: its capacity counts in full again");
    Ok(())
}
