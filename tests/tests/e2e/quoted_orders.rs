//! Quotes and the order they are on, through the API: allocation prices an
//! order with a provider's usable final quote and says so in the placement
//! (and Commit proposes it only while that quote still stands as planned);
//! cancelling or splitting an order closes its open quotes in the same
//! commit, each provider told on its own feed; and a provider asked to
//! quote reads the order as a party it is released to does, while its
//! quote is open, and no one else does.

use std::time::Duration;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, capacity_offer, party};
use tonic::Code;

use super::quotes::{ask, order, quotes, submit, terms};

type Allocation = pb::allocation_client::AllocationClient<tonic::transport::Channel>;

/// A capacity offer `provider` may be proposed US F-35A work on, at `rate_cents` an hour.
fn offer_at(provider: &str, rate_cents: i64) -> pb::CapacityOffer {
    let mut offer = capacity_offer(provider);
    offer.authorizations.push(pb::ProviderAuthorization {
        kind: pb::provider_authorization::Kind::PrimeFacilityApproval as i32,
        tms: "F-35A".into(),
        reference: "LM-FA-2026-014".into(),
        ..Default::default()
    });
    offer.rate = Some(pb::Money { currency_code: "USD".into(), amount_minor: rate_cents });
    offer
}

async fn offer(ex: &TestExchange, provider: &str, rate_cents: i64) -> anyhow::Result<()> {
    let request =
        pb::CreateCapacityOfferRequest { capacity_offer: Some(offer_at(provider, rate_cents)), ..Default::default() };
    ex.exchange(provider).await?.create_capacity_offer(request).await?;
    Ok(())
}

/// Plenty of organic Air Force work in FY2027: contract work is not held back by 50/50.
async fn roomy_baseline(ex: &TestExchange) -> anyhow::Result<()> {
    ex.set_air_force_baseline(2027, 10_000_000_000, 0).await
}

async fn placement(j4: &mut Allocation, order: &str) -> anyhow::Result<pb::AllocationAssignment> {
    let plan = j4.propose(pb::ProposeAllocationRequest::default()).await?.into_inner();
    plan.assignments
        .into_iter()
        .find(|a| a.repair_order == order)
        .ok_or_else(|| anyhow::anyhow!("{order} was not placed"))
}

async fn get(ex: &TestExchange, who: &str, name: &str) -> Result<pb::RepairOrder, tonic::Status> {
    let mut x = ex.exchange(who).await.map_err(|e| tonic::Status::internal(e.to_string()))?;
    x.get_repair_order(pb::GetRepairOrderRequest { name: name.into() }).await.map(|r| r.into_inner())
}

async fn listed_orders(ex: &TestExchange, who: &str) -> anyhow::Result<Vec<String>> {
    let mut x = ex.exchange(who).await?;
    let page = x.list_repair_orders(pb::ListRepairOrdersRequest::default()).await?.into_inner();
    Ok(page.repair_orders.into_iter().map(|o| o.name).collect())
}

/// `who`'s whole feed, read until quiet.
async fn feed(ex: &TestExchange, who: &str) -> anyhow::Result<Vec<pb::Event>> {
    let mut stream = ex.feed(who).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    let mut out = Vec::new();
    while let Ok(next) = tokio::time::timeout(Duration::from_millis(400), stream.message()).await {
        let Some(e) = next? else { break };
        out.push(e);
    }
    Ok(out)
}

fn subject_name(e: &pb::Event) -> String {
    use pb::event::Subject;
    match &e.subject {
        Some(Subject::RepairOrder(o)) => o.name.clone(),
        Some(Subject::Quote(q)) => q.name.clone(),
        _ => String::new(),
    }
}

async fn cancel(ex: &TestExchange, name: &str) -> anyhow::Result<pb::RepairOrder> {
    let now = get(ex, party::USAF, name).await?;
    let request = pb::TransitionRepairOrderRequest {
        name: name.into(),
        version: now.version,
        action: pb::RepairOrderAction::Cancel as i32,
        ..Default::default()
    };
    Ok(ex.exchange(party::USAF).await?.transition_repair_order(request).await?.into_inner())
}

#[tokio::test]
async fn allocation_prices_an_order_at_a_final_quote_and_commit_proposes_it_only_as_quoted() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    // MHI offers $185 an hour, KAI $600: on their rates MHI is far cheaper.
    offer(&ex, party::MHI, 18_500).await?;
    offer(&ex, party::KAI, 60_000).await?;
    roomy_baseline(&ex).await?;
    let o = order(&ex).await?;
    let mut j4 = Allocation::new(ex.channel(party::COORDINATOR).await?);
    let before = placement(&mut j4, &o.name).await?;
    assert_eq!(before.provider, party::MHI, "{before:?}");
    assert!(before.quote.is_empty() && before.serviceable_by.is_empty(), "{before:?}");
    assert!(before.reason.contains("eligible offer(s)") && !before.reason.contains("quoted"), "{}", before.reason);

    // KAI answers with a final quote below MHI's rate; MHI's interim estimate is no price.
    let (mut usaf, mut mhi, mut kai) =
        (quotes(&ex, party::USAF).await?, quotes(&ex, party::MHI).await?, quotes(&ex, party::KAI).await?);
    let asked = ask(&mut usaf, &o, &[party::MHI, party::KAI], "").await?;
    submit(&mut mhi, &asked[0], terms(pb::QuoteKind::Interim, 1_000, 10), "").await?;
    let kai_q = submit(&mut kai, &asked[1], terms(pb::QuoteKind::Final, 100_000, 30), "").await?;
    let a = placement(&mut j4, &o.name).await?;
    assert_eq!(a.provider, party::KAI, "{a:?}");
    assert_eq!((a.quote.as_str(), a.repair_cost_cents, a.quoted_turnaround_days), (kai_q.name.as_str(), 100_000, 30));
    assert_eq!(a.total_cost_cents, a.retrograde_cost_cents + 100_000);
    assert!(!a.serviceable_by.is_empty(), "{a:?}");
    assert!(
        a.reason.contains(&format!("quoted price 100000 cents / turnaround 30 days ({})", kai_q.name)),
        "{}",
        a.reason
    );
    let order_now = get(&ex, party::USAF, &o.name).await?;
    assert_eq!(a.order_version, order_now.version, "the plan is made from the order as it is now");

    // Commit refuses a quote named for a provider it is not from, and a plan whose quote was revised.
    let forged = pb::AllocationAssignment { provider: party::MHI.into(), ..a.clone() };
    let done = j4.commit(pb::CommitAllocationRequest { assignments: vec![forged] }).await?.into_inner();
    assert!(!done.results[0].proposed && done.results[0].error.contains("not a usable quote"), "{done:?}");
    let revised = submit(&mut kai, &kai_q, terms(pb::QuoteKind::Final, 120_000, 30), "").await?;
    let done = j4.commit(pb::CommitAllocationRequest { assignments: vec![a.clone()] }).await?.into_inner();
    assert!(!done.results[0].proposed && done.results[0].error.contains("revised"), "{done:?}");
    assert_eq!(get(&ex, party::USAF, &o.name).await?.state, pb::RepairOrderState::Submitted as i32, "nothing changed");

    // Planned again at the revised price, it commits: the proposal records the quote.
    let a = placement(&mut j4, &o.name).await?;
    assert_eq!((a.provider.as_str(), a.repair_cost_cents), (party::KAI, 120_000));
    let done = j4.commit(pb::CommitAllocationRequest { assignments: vec![a] }).await?.into_inner();
    assert!(done.results[0].proposed, "{done:?}");
    let history = ex.history(party::USAF, &o.name).await?;
    let last = history.last().cloned().unwrap_or_default();
    assert_eq!(last.to_state, pb::RepairOrderState::Proposed as i32);
    assert!(
        last.reason.contains(&format!("quoted price 120000 cents / turnaround 30 days ({})", revised.name)),
        "{}",
        last.reason
    );
    Ok(())
}

#[tokio::test]
async fn cancelling_an_order_closes_its_open_quotes_in_the_same_commit_each_told_on_its_own_feed() -> anyhow::Result<()>
{
    let ex = TestExchange::start().await?;
    let (mut usaf, mut mhi, mut kai) =
        (quotes(&ex, party::USAF).await?, quotes(&ex, party::MHI).await?, quotes(&ex, party::KAI).await?);
    let o = order(&ex).await?;
    let asked = ask(&mut usaf, &o, &[party::MHI, party::KAI], "").await?;
    let mhi_q = submit(&mut mhi, &asked[0], terms(pb::QuoteKind::Final, 9_000_000, 45), "").await?;
    let cancelled = cancel(&ex, &o.name).await?;
    assert_eq!(cancelled.state, pb::RepairOrderState::Cancelled as i32);
    for (c, q, version) in [(&mut mhi, &mhi_q, 3), (&mut kai, &asked[1], 2)] {
        let closed = c.get_quote(pb::GetQuoteRequest { name: q.name.clone() }).await?.into_inner();
        assert_eq!((closed.state, closed.version), (pb::QuoteState::Closed as i32, version), "{closed:?}");
        assert_eq!(closed.close_reason, "the order was cancelled");
    }
    // One commit: the cancel and the two closings are consecutive entries of the log.
    let log = feed(&ex, party::COORDINATOR).await?;
    let at = log
        .iter()
        .position(|e| e.transition.as_ref().is_some_and(|t| t.to_state == pb::RepairOrderState::Cancelled as i32))
        .ok_or_else(|| anyhow::anyhow!("no cancel on the feed"))?;
    let next: Vec<(i64, i32, String)> =
        log[at..at + 3].iter().map(|e| (e.sequence - log[at].sequence, e.kind, subject_name(e))).collect();
    let closed = pb::EventKind::QuoteClosed as i32;
    assert_eq!(
        next,
        vec![
            (0, pb::EventKind::RepairOrderTransitioned as i32, o.name.clone()),
            (1, closed, mhi_q.name.clone()),
            (2, closed, asked[1].name.clone()),
        ]
    );
    // Each provider hears of its own quote's closing, never of the other's.
    for (who, mine, theirs) in [(party::MHI, &mhi_q.name, &asked[1].name), (party::KAI, &asked[1].name, &mhi_q.name)] {
        let names: Vec<(i32, String)> = feed(&ex, who).await?.iter().map(|e| (e.kind, subject_name(e))).collect();
        assert!(names.contains(&(closed, mine.clone())), "{who}: {names:?}");
        assert!(!names.iter().any(|(_, n)| n == theirs), "{who}: {names:?}");
        // Its quote closed, the order is no longer released to it.
        assert_eq!(get(&ex, who, &o.name).await.expect_err("hidden").code(), Code::NotFound, "{who}");
    }
    Ok(())
}

#[tokio::test]
async fn splitting_an_order_closes_its_quotes_and_its_parts_are_not_shown_to_the_providers_asked() -> anyhow::Result<()>
{
    let ex = TestExchange::start().await?;
    let (mut usaf, mut mhi) = (quotes(&ex, party::USAF).await?, quotes(&ex, party::MHI).await?);
    let o = order(&ex).await?;
    let q = ask(&mut usaf, &o, &[party::MHI], "").await?.remove(0);
    let now = get(&ex, party::USAF, &o.name).await?;
    let split = ex
        .exchange(party::USAF)
        .await?
        .split_repair_order(pb::SplitRepairOrderRequest {
            name: o.name.clone(),
            version: now.version,
            quantities: vec![2, 2],
            request_id: String::new(),
        })
        .await?
        .into_inner();
    let closed = mhi.get_quote(pb::GetQuoteRequest { name: q.name.clone() }).await?.into_inner();
    assert_eq!(closed.state, pb::QuoteState::Closed as i32);
    assert!(closed.close_reason.contains("split"), "{}", closed.close_reason);
    assert_eq!(get(&ex, party::MHI, &o.name).await.expect_err("hidden").code(), Code::NotFound);
    for part in &split.parts {
        assert_eq!(get(&ex, party::MHI, &part.name).await.expect_err("hidden").code(), Code::NotFound);
    }
    // The parts are open orders to quote on afresh.
    let again = ask(&mut usaf, &split.parts[0], &[party::MHI], "").await?;
    assert_eq!(again[0].state, pb::QuoteState::Requested as i32);
    Ok(())
}

#[tokio::test]
async fn after_an_accepted_quote_the_others_close_and_a_later_cancel_closes_the_quotes_asked_since()
-> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let (mut usaf, mut mhi, mut kai) =
        (quotes(&ex, party::USAF).await?, quotes(&ex, party::MHI).await?, quotes(&ex, party::KAI).await?);
    let o = order(&ex).await?;
    let asked = ask(&mut usaf, &o, &[party::MHI, party::KAI], "").await?;
    let mhi_q = submit(&mut mhi, &asked[0], terms(pb::QuoteKind::Final, 9_000_000, 45), "").await?;
    let kai_q = submit(&mut kai, &asked[1], terms(pb::QuoteKind::Final, 9_500_000, 40), "").await?;
    let accepted = usaf
        .accept_quote(pb::AcceptQuoteRequest { name: mhi_q.name.clone(), version: mhi_q.version, ..Default::default() })
        .await?
        .into_inner();
    let proposed = accepted.repair_order.unwrap_or_default();
    let kai_closed = kai.get_quote(pb::GetQuoteRequest { name: kai_q.name.clone() }).await?.into_inner();
    assert_eq!(kai_closed.close_reason, "another quote on this order was accepted");
    // KAI no longer sees the order, nor whom it went to.
    assert_eq!(get(&ex, party::KAI, &o.name).await.expect_err("hidden").code(), Code::NotFound);
    let kai_feed = feed(&ex, party::KAI).await?;
    assert!(kai_feed.iter().all(|e| e.accepted_quote.is_none()), "{kai_feed:?}");
    let of_order: Vec<&pb::Event> = kai_feed.iter().filter(|e| subject_name(e).starts_with(&o.name)).collect();
    assert!(!of_order.is_empty());
    assert!(!format!("{of_order:?}").contains(party::MHI), "KAI's feed names the winner: {of_order:?}");

    // MHI declines; the owner asks KAI again, then cancels: KAI's new quote closes, MHI's stays ACCEPTED.
    let mut mhi_x = ex.exchange(party::MHI).await?;
    mhi_x
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: o.name.clone(),
            version: proposed.version,
            action: pb::RepairOrderAction::Decline as i32,
            reason: "no slot".into(),
            ..Default::default()
        })
        .await?;
    let declined = get(&ex, party::USAF, &o.name).await?;
    let again = ask(&mut usaf, &declined, &[party::KAI], "").await?.remove(0);
    assert_eq!(again.state, pb::QuoteState::Requested as i32);
    assert!(get(&ex, party::KAI, &o.name).await.is_ok(), "asked again, KAI reads the order again");
    cancel(&ex, &o.name).await?;
    let kai_now = kai.get_quote(pb::GetQuoteRequest { name: again.name.clone() }).await?.into_inner();
    assert_eq!(
        (kai_now.state, kai_now.close_reason.as_str()),
        (pb::QuoteState::Closed as i32, "the order was cancelled")
    );
    let mhi_now = usaf.get_quote(pb::GetQuoteRequest { name: mhi_q.name.clone() }).await?.into_inner();
    assert_eq!(mhi_now.state, pb::QuoteState::Accepted as i32, "an accepted quote stays as it was agreed");
    Ok(())
}

#[tokio::test]
async fn a_provider_asked_to_quote_reads_the_order_as_a_released_party_and_no_one_else_does() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = quotes(&ex, party::USAF).await?;
    let o = order(&ex).await?;
    // The same order released to KAI by its owner, for comparison.
    let mut released = cosx_tests::repair_order(party::USAF);
    released.controls = Some(pb::Controls {
        releasability: Some(pb::Releasability { party_ids: vec![party::KAI.into()], nations: vec![] }),
        ..Default::default()
    });
    let released = ex.create_order(party::USAF, released).await?;
    assert_eq!(get(&ex, party::MHI, &o.name).await.expect_err("not yet").code(), Code::NotFound);

    ask(&mut usaf, &o, &[party::MHI], "").await?;
    // Get and List: MHI reads the order as KAI reads the one released to it.
    let seen = get(&ex, party::MHI, &o.name).await?;
    assert_eq!(seen, get(&ex, party::USAF, &o.name).await?, "the same record its owner reads");
    assert!(get(&ex, party::KAI, &released.name).await.is_ok());
    assert_eq!(listed_orders(&ex, party::MHI).await?, vec![o.name.clone()]);
    assert_eq!(listed_orders(&ex, party::KAI).await?, vec![released.name.clone()]);
    let history = |who: &'static str, name: String| {
        let ex = &ex;
        async move {
            let mut x = ex.exchange(who).await?;
            anyhow::Ok(
                x.get_repair_order_history(pb::GetRepairOrderHistoryRequest { name })
                    .await?
                    .into_inner()
                    .transitions
                    .len(),
            )
        }
    };
    assert_eq!(history(party::MHI, o.name.clone()).await?, history(party::KAI, released.name.clone()).await?);
    // Feed: the order comes to MHI when it is released for the quote.
    let mhi_feed = feed(&ex, party::MHI).await?;
    let release = mhi_feed.iter().find(|e| subject_name(e) == o.name).ok_or_else(|| anyhow::anyhow!("no order"))?;
    assert_eq!(release.kind, pb::EventKind::RepairOrderReleasedForQuote as i32);

    // Asked too, KAI learns nothing of MHI: not in the order, not on its feed.
    ask(&mut usaf, &o, &[party::KAI], "").await?;
    let kai_view = get(&ex, party::KAI, &o.name).await?;
    assert!(!format!("{kai_view:?}").contains(party::MHI), "{kai_view:?}");
    let kai_feed = feed(&ex, party::KAI).await?;
    let of_order: Vec<&pb::Event> = kai_feed.iter().filter(|e| subject_name(e).starts_with(&o.name)).collect();
    assert_eq!(of_order.len(), 2, "its quote and the order's release to it: {of_order:?}");
    assert!(!format!("{of_order:?}").contains(party::MHI), "{of_order:?}");
    // A provider never asked still finds nothing, on any path.
    let raaf_feed = feed(&ex, party::RAAF).await?;
    assert_eq!(get(&ex, party::RAAF, &o.name).await.expect_err("hidden").code(), Code::NotFound);
    assert!(listed_orders(&ex, party::RAAF).await?.is_empty());
    assert!(!raaf_feed.iter().any(|e| subject_name(e).starts_with(&o.name)), "{raaf_feed:?}");
    // Nor can it ask itself in.
    let mut mine = quotes(&ex, party::RAAF).await?;
    let err = ask(&mut mine, &o, &[party::RAAF], "").await.expect_err("refused");
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    Ok(())
}

fn estimate(o: &pb::RepairOrder) -> Option<pb::Money> {
    o.funding.as_ref().and_then(|f| f.estimated_cost.clone())
}

#[tokio::test]
async fn committing_a_quoted_placement_sets_the_estimate_to_the_quoted_price_and_an_unquoted_one_leaves_it()
-> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    offer(&ex, party::MHI, 18_500).await?;
    offer(&ex, party::KAI, 60_000).await?;
    roomy_baseline(&ex).await?;
    let (quoted, unquoted) = (order(&ex).await?, order(&ex).await?);
    let (mut usaf, mut kai) = (quotes(&ex, party::USAF).await?, quotes(&ex, party::KAI).await?);
    let asked = ask(&mut usaf, &quoted, &[party::KAI], "").await?;
    let kai_q = submit(&mut kai, &asked[0], terms(pb::QuoteKind::Final, 100_000, 30), "").await?;
    let mut j4 = Allocation::new(ex.channel(party::COORDINATOR).await?);
    let (a, b) = (placement(&mut j4, &quoted.name).await?, placement(&mut j4, &unquoted.name).await?);
    assert_eq!((a.provider.as_str(), a.quote.as_str()), (party::KAI, kai_q.name.as_str()), "{a:?}");
    assert!(b.quote.is_empty(), "{b:?}");
    let unquoted_before = estimate(&get(&ex, party::USAF, &unquoted.name).await?);
    assert_ne!(estimate(&get(&ex, party::USAF, &quoted.name).await?).map(|m| m.amount_minor), Some(100_000));

    let done = j4.commit(pb::CommitAllocationRequest { assignments: vec![a, b] }).await?.into_inner();
    assert!(done.results.iter().all(|r| r.proposed), "{done:?}");
    // The quoted order takes the quoted price as its estimate, as accepting the quote would.
    let now = get(&ex, party::USAF, &quoted.name).await?;
    assert_eq!(now.state, pb::RepairOrderState::Proposed as i32);
    assert_eq!(estimate(&now), Some(pb::Money { currency_code: "USD".into(), amount_minor: 100_000 }));
    assert_eq!(get(&ex, party::KAI, &quoted.name).await?, now, "its provider reads the same estimate");
    // The unquoted one keeps the estimate its owner gave it.
    let other = get(&ex, party::USAF, &unquoted.name).await?;
    assert_eq!(other.state, pb::RepairOrderState::Proposed as i32);
    assert_eq!(estimate(&other), unquoted_before);
    Ok(())
}
