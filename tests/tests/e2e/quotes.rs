//! Quotes through the API: an owner asks two contractors to quote, they
//! answer and revise, the owner accepts one final quote (the order is
//! PROPOSED to that provider, who still accepts it itself) and the other
//! closes; each provider sees only its own quote, on reads and on the feed;
//! bad terms are refused field by field; a repeated request id replays.

use std::time::Duration;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, capacity_offer, party, repair_order};
use tonic::Code;
use tonic_types::StatusExt;

pub(crate) type Quotes = pb::quotes_client::QuotesClient<tonic::transport::Channel>;

pub(crate) async fn quotes(ex: &TestExchange, who: &str) -> anyhow::Result<Quotes> {
    Ok(pb::quotes_client::QuotesClient::new(ex.channel(who).await?))
}

pub(crate) fn in_days(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

pub(crate) fn terms(kind: pb::QuoteKind, amount_minor: i64, turnaround_days: u32) -> pb::QuoteTerms {
    pb::QuoteTerms {
        kind: kind as i32,
        price: Some(pb::Money { currency_code: "USD".into(), amount_minor }),
        turnaround_days,
        process: pb::RepairProcess::Overhaul as i32,
        valid_until: in_days(30),
        conditions: "Price holds if teardown finds no corrosion beyond limits.".into(),
    }
}

pub(crate) async fn submit(
    c: &mut Quotes,
    q: &pb::Quote,
    t: pb::QuoteTerms,
    request_id: &str,
) -> Result<pb::Quote, tonic::Status> {
    c.submit_quote(pb::SubmitQuoteRequest {
        name: q.name.clone(),
        terms: Some(t),
        version: q.version,
        request_id: request_id.into(),
    })
    .await
    .map(|r| r.into_inner())
}

pub(crate) async fn order(ex: &TestExchange) -> anyhow::Result<pb::RepairOrder> {
    let request = pb::CreateRepairOrderRequest { repair_order: Some(repair_order(party::USAF)), ..Default::default() };
    Ok(ex.exchange(party::USAF).await?.create_repair_order(request).await?.into_inner())
}

pub(crate) async fn ask(
    c: &mut Quotes,
    o: &pb::RepairOrder,
    providers: &[&str],
    request_id: &str,
) -> Result<Vec<pb::Quote>, tonic::Status> {
    c.request_quotes(pb::RequestQuotesRequest {
        name: o.name.clone(),
        providers: providers.iter().map(|p| (*p).to_owned()).collect(),
        all_eligible: false,
        request_id: request_id.into(),
    })
    .await
    .map(|r| r.into_inner().quotes)
}

pub(crate) async fn listed(c: &mut Quotes, parent: &str) -> anyhow::Result<Vec<pb::Quote>> {
    let request = pb::ListQuotesRequest { parent: parent.into(), ..Default::default() };
    Ok(c.list_quotes(request).await?.into_inner().quotes)
}

/// `who`'s feed from the start, as (kind, quote name) for quote events, read until quiet.
async fn quote_events(ex: &TestExchange, who: &str) -> anyhow::Result<Vec<(i32, String)>> {
    let mut stream = ex.feed(who).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    let mut out = Vec::new();
    while let Ok(next) = tokio::time::timeout(Duration::from_millis(400), stream.message()).await {
        let Some(e) = next? else { break };
        match (&e.subject, &e.accepted_quote) {
            (_, Some(q)) => out.push((e.kind, q.name.clone())),
            (Some(pb::event::Subject::Quote(q)), None) => out.push((e.kind, q.name.clone())),
            _ => {}
        }
    }
    Ok(out)
}

pub(crate) fn fields(status: &tonic::Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|f| f.field).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_owner_accepts_one_final_quote_the_order_is_proposed_and_the_other_quote_closes() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let (mut usaf, mut mhi, mut kai, mut j4) = (
        quotes(&ex, party::USAF).await?,
        quotes(&ex, party::MHI).await?,
        quotes(&ex, party::KAI).await?,
        quotes(&ex, party::COORDINATOR).await?,
    );
    let o = order(&ex).await?;
    let asked = ask(&mut usaf, &o, &[party::MHI, party::KAI], "ask-1").await?;
    assert_eq!(asked.len(), 2);
    assert!(asked.iter().all(|q| q.state == pb::QuoteState::Requested as i32 && q.terms.is_none()));
    let mhi_q = listed(&mut mhi, &o.name).await?;
    let kai_q = listed(&mut kai, &o.name).await?;
    assert_eq!((mhi_q.len(), kai_q.len()), (1, 1), "each provider sees its own quote only");
    assert_eq!(mhi_q[0].name, format!("{}/quotes/{}", o.name, party::MHI));
    assert_eq!(listed(&mut usaf, &o.name).await?.len(), 2);
    assert_eq!(listed(&mut j4, "repairOrders/-").await?.len(), 2);

    // An interim answer cannot be accepted; the provider revises it to a final one.
    let interim = submit(&mut mhi, &mhi_q[0], terms(pb::QuoteKind::Interim, 15_000_000, 60), "").await?;
    let err = usaf
        .accept_quote(pb::AcceptQuoteRequest {
            name: interim.name.clone(),
            version: interim.version,
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("INTERIM"), "{}", err.message());
    let fin = submit(&mut mhi, &interim, terms(pb::QuoteKind::Final, 14_250_000, 45), "").await?;
    assert_eq!((fin.state, fin.version), (pb::QuoteState::Quoted as i32, 3));
    let kai_fin = submit(&mut kai, &kai_q[0], terms(pb::QuoteKind::Final, 12_000_000, 90), "").await?;

    let accepted = usaf
        .accept_quote(pb::AcceptQuoteRequest {
            name: fin.name.clone(),
            version: fin.version,
            request_id: "acc-1".into(),
        })
        .await?
        .into_inner();
    let (q, proposed) = (accepted.quote.unwrap_or_default(), accepted.repair_order.unwrap_or_default());
    assert_eq!(q.state, pb::QuoteState::Accepted as i32);
    assert_eq!((proposed.state, proposed.provider.as_str()), (pb::RepairOrderState::Proposed as i32, party::MHI));
    let cost = proposed.funding.as_ref().and_then(|f| f.estimated_cost.clone()).unwrap_or_default();
    assert_eq!(cost.amount_minor, 14_250_000, "the quoted price is the order's estimated cost");
    let closed = kai.get_quote(pb::GetQuoteRequest { name: kai_fin.name.clone() }).await?.into_inner();
    assert_eq!(closed.state, pb::QuoteState::Closed as i32);
    assert!(!closed.close_reason.contains(party::MHI), "a closed provider does not learn who won");
    // Closed is final: no revision, no acceptance.
    let err = submit(&mut kai, &closed, terms(pb::QuoteKind::Final, 1, 1), "").await.expect_err("refused");
    assert_eq!(err.code(), Code::FailedPrecondition);

    // Nothing was accepted on the provider's behalf: it accepts the order itself.
    let mut mhi_x = ex.exchange(party::MHI).await?;
    let history = ex.history(party::USAF, &o.name).await?;
    let last = history.last().cloned().unwrap_or_default();
    assert_eq!((last.to_state, last.actor.as_str()), (pb::RepairOrderState::Proposed as i32, party::USAF));
    assert!(last.reason.contains("accepted"), "{}", last.reason);
    let o = mhi_x
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: o.name.clone(),
            version: proposed.version,
            action: pb::RepairOrderAction::Accept as i32,
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(o.state, pb::RepairOrderState::Accepted as i32);

    // The feed: each provider's quote events are its own; the kinds say what happened.
    use pb::EventKind as K;
    let mhi_name = fin.name.clone();
    let kai_name = kai_fin.name.clone();
    let mhi_feed = quote_events(&ex, party::MHI).await?;
    assert_eq!(
        mhi_feed,
        vec![
            (K::QuoteRequested as i32, mhi_name.clone()),
            (K::QuoteSubmitted as i32, mhi_name.clone()),
            (K::QuoteSubmitted as i32, mhi_name.clone()),
            (K::QuoteAccepted as i32, mhi_name.clone()),
        ]
    );
    let kai_feed = quote_events(&ex, party::KAI).await?;
    assert_eq!(
        kai_feed,
        vec![
            (K::QuoteRequested as i32, kai_name.clone()),
            (K::QuoteSubmitted as i32, kai_name.clone()),
            (K::QuoteClosed as i32, kai_name.clone()),
        ]
    );
    assert_eq!(quote_events(&ex, party::USAF).await?.len(), 7);
    assert!(quote_events(&ex, party::RAAF).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn another_contractor_cannot_see_answer_or_accept_a_quote_it_was_not_asked_for() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let (mut usaf, mut mhi, mut kai) =
        (quotes(&ex, party::USAF).await?, quotes(&ex, party::MHI).await?, quotes(&ex, party::KAI).await?);
    let o = order(&ex).await?;
    let q = ask(&mut usaf, &o, &[party::MHI], "").await?.remove(0);
    let q = submit(&mut mhi, &q, terms(pb::QuoteKind::Final, 9_000_000, 30), "").await?;

    // Someone else's quote, a quote nobody asked for, and one on a missing order read alike.
    let missing = format!("repairOrders/{}.nothing/quotes/{}", party::USAF, party::KAI);
    let unasked = format!("{}/quotes/{}", o.name, party::KAI);
    for name in [q.name.clone(), unasked.clone(), missing.clone()] {
        let err = kai.get_quote(pb::GetQuoteRequest { name: name.clone() }).await.expect_err("refused");
        assert_eq!(err.code(), Code::NotFound, "{name}");
        let err = kai
            .submit_quote(pb::SubmitQuoteRequest {
                name: name.clone(),
                terms: Some(terms(pb::QuoteKind::Final, 1, 1)),
                version: 2,
                ..Default::default()
            })
            .await
            .expect_err("refused");
        assert_eq!(err.code(), Code::NotFound, "{name}");
        let err = kai
            .accept_quote(pb::AcceptQuoteRequest { name: name.clone(), version: 2, ..Default::default() })
            .await
            .expect_err("refused");
        assert_eq!(err.code(), Code::NotFound, "{name}");
    }
    assert!(listed(&mut kai, &o.name).await?.is_empty());
    assert!(listed(&mut kai, "repairOrders/-").await?.is_empty());
    // It cannot ask for quotes on an order it may not see, nor name itself into one.
    let err = ask(&mut kai, &o, &[party::KAI], "").await.expect_err("refused");
    assert_eq!(err.code(), Code::NotFound);
    // The quoting provider cannot accept its own quote.
    let err = mhi
        .accept_quote(pb::AcceptQuoteRequest { name: q.name.clone(), version: q.version, ..Default::default() })
        .await
        .expect_err("refused");
    assert!(matches!(err.code(), Code::NotFound | Code::PermissionDenied), "{err:?}");
    // The owner cannot answer for the provider.
    let err = submit(&mut usaf, &q, terms(pb::QuoteKind::Final, 1, 1), "").await.expect_err("refused");
    assert_eq!(err.code(), Code::PermissionDenied);
    // Nothing changed.
    let after = usaf.get_quote(pb::GetQuoteRequest { name: q.name.clone() }).await?.into_inner();
    assert_eq!((after.version, after.state), (q.version, pb::QuoteState::Quoted as i32));
    Ok(())
}

#[tokio::test]
async fn bad_terms_bad_providers_and_closed_orders_are_refused_field_by_field() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let (mut usaf, mut mhi) = (quotes(&ex, party::USAF).await?, quotes(&ex, party::MHI).await?);
    let o = order(&ex).await?;
    let err = ask(&mut usaf, &o, &[party::MHI, party::MHI, party::COORDINATOR, "NOT-A-PARTY", party::USAF], "")
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(fields(&err), ["providers[1]", "providers[2]", "providers[3]", "providers[4]"], "{err:?}");
    let err = usaf
        .request_quotes(pb::RequestQuotesRequest { name: o.name.clone(), ..Default::default() })
        .await
        .expect_err("refused");
    assert_eq!(fields(&err), ["providers"]);
    assert!(listed(&mut usaf, &o.name).await?.is_empty(), "a refused request asks no one");

    let q = ask(&mut usaf, &o, &[party::MHI], "").await?.remove(0);
    let err = ask(&mut usaf, &o, &[party::MHI], "").await.expect_err("refused");
    assert_eq!(fields(&err), ["providers[0]"], "asked twice: {err:?}");
    let mut bad = terms(pb::QuoteKind::Unspecified, -1, 0);
    bad.valid_until = in_days(-1);
    bad.process = 99;
    let err = submit(&mut mhi, &q, bad, "").await.expect_err("refused");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(fields(&err), ["terms.kind", "terms.price", "terms.turnaround_days", "terms.process"], "{err:?}");
    let mut past = terms(pb::QuoteKind::Final, 100, 10);
    past.valid_until = in_days(-1);
    let err = submit(&mut mhi, &q, past, "").await.expect_err("refused");
    assert_eq!(fields(&err), ["terms.valid_until"], "{err:?}");
    let err = submit(&mut mhi, &pb::Quote { version: 7, ..q.clone() }, terms(pb::QuoteKind::Final, 1, 1), "")
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Code::Aborted, "stale version");
    let same = mhi.get_quote(pb::GetQuoteRequest { name: q.name.clone() }).await?.into_inner();
    assert_eq!((same.version, same.terms), (1, None), "refusals change nothing");

    // A cancelled order takes no quotes, answers or acceptances. (Asking
    // MHI released the order to it: a new version, read again.)
    let mut usaf_x = ex.exchange(party::USAF).await?;
    let now = usaf_x.get_repair_order(pb::GetRepairOrderRequest { name: o.name.clone() }).await?.into_inner();
    assert_eq!(now.version, o.version + 1);
    let cancelled = usaf_x
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: o.name.clone(),
            version: now.version,
            action: pb::RepairOrderAction::Cancel as i32,
            ..Default::default()
        })
        .await?
        .into_inner();
    let err = ask(&mut usaf, &cancelled, &[party::KAI], "").await.expect_err("refused");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    // Its quote closed with the cancel.
    let closed = mhi.get_quote(pb::GetQuoteRequest { name: q.name.clone() }).await?.into_inner();
    let err = submit(&mut mhi, &closed, terms(pb::QuoteKind::Final, 1, 1), "").await.expect_err("refused");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("CLOSED"), "{}", err.message());
    assert_eq!(closed.close_reason, "the order was cancelled");
    Ok(())
}

#[tokio::test]
async fn a_repeated_request_id_replays_each_quote_step_and_commits_nothing_more() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let (mut usaf, mut mhi, mut kai) =
        (quotes(&ex, party::USAF).await?, quotes(&ex, party::MHI).await?, quotes(&ex, party::KAI).await?);
    let o = order(&ex).await?;
    let first = ask(&mut usaf, &o, &[party::MHI, party::KAI], "ask").await?;
    let again = ask(&mut usaf, &o, &[party::MHI, party::KAI], "ask").await?;
    assert_eq!(first, again);
    let q = submit(&mut mhi, &first[0], terms(pb::QuoteKind::Final, 5_000_000, 20), "answer").await?;
    let q2 = submit(&mut mhi, &first[0], terms(pb::QuoteKind::Final, 5_000_000, 20), "answer").await?;
    assert_eq!(q, q2);
    // The same request id with another payload is refused.
    let err =
        submit(&mut mhi, &first[0], terms(pb::QuoteKind::Final, 6_000_000, 20), "answer").await.expect_err("refused");
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
    let accept = pb::AcceptQuoteRequest { name: q.name.clone(), version: q.version, request_id: "yes".into() };
    let a = usaf.accept_quote(accept.clone()).await?.into_inner();
    let b = usaf.accept_quote(accept).await?.into_inner();
    assert_eq!(a, b);
    // The request is replayed as first answered, though the order has since been proposed.
    assert_eq!(ask(&mut usaf, &o, &[party::MHI, party::KAI], "ask").await?, first);
    let kai_q = kai.get_quote(pb::GetQuoteRequest { name: first[1].name.clone() }).await?.into_inner();
    assert_eq!((kai_q.state, kai_q.version), (pb::QuoteState::Closed as i32, 2), "closed once");
    let events = quote_events(&ex, party::USAF).await?;
    // 2 requested, 1 submitted, 1 accepted, 1 closed: the repeats committed nothing.
    assert_eq!(events.len(), 5, "{events:?}");
    Ok(())
}

#[tokio::test]
async fn every_eligible_provider_means_those_with_a_capable_offer_allocation_allows() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = quotes(&ex, party::USAF).await?;
    let o = order(&ex).await?;
    let all = pb::RequestQuotesRequest { name: o.name.clone(), all_eligible: true, ..Default::default() };
    let err = usaf.request_quotes(all.clone()).await.expect_err("refused");
    assert_eq!(err.code(), Code::FailedPrecondition, "no capable offer yet: {err:?}");
    ex.create_offer(capacity_offer(party::MHI)).await?;
    let asked = usaf.request_quotes(all.clone()).await?.into_inner().quotes;
    let providers: Vec<&str> = asked.iter().map(|q| q.provider.as_str()).collect();
    assert_eq!(providers, [party::MHI]);
    // Asking everyone again passes over those already asked.
    assert!(usaf.request_quotes(all).await?.into_inner().quotes.is_empty());
    Ok(())
}

#[tokio::test]
async fn quotes_work_over_http_json_with_the_same_rules() -> anyhow::Result<()> {
    use cosx_tests::http_json;
    use http::{Method, StatusCode};
    use serde_json::json;
    let ex = TestExchange::start().await?;
    let o = order(&ex).await?;
    let (usaf, mhi, kai) =
        (ex.channel(party::USAF).await?, ex.channel(party::MHI).await?, ex.channel(party::KAI).await?);
    let asked = http_json(
        &usaf,
        Method::POST,
        &format!("/v1/{}:requestQuotes", o.name),
        &[],
        Some(json!({"providers": [party::MHI], "requestId": "http-ask"})),
    )
    .await?;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let name = asked.body["quotes"][0]["name"].as_str().unwrap_or_default().to_owned();
    assert_eq!(name, format!("{}/quotes/{}", o.name, party::MHI));
    let mut t = json!({
        "kind": "QUOTE_KIND_FINAL",
        "price": {"currencyCode": "USD", "amountMinor": "-100"},
        "turnaroundDays": 30,
        "process": "REPAIR_PROCESS_REPAIR",
        "validUntil": in_days(10),
    });
    let refused =
        http_json(&mhi, Method::POST, &format!("/v1/{name}:submit"), &[], Some(json!({"terms": t, "version": 1})))
            .await?;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.to_string().contains("terms.price"), "{}", refused.body);
    t["price"]["amountMinor"] = json!("100000");
    let answered =
        http_json(&mhi, Method::POST, &format!("/v1/{name}:submit"), &[], Some(json!({"terms": t, "version": 1})))
            .await?;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    assert_eq!(answered.body["state"], "QUOTE_STATE_QUOTED");
    let hidden = http_json(&kai, Method::GET, &format!("/v1/{name}"), &[], None).await?;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);
    let listed = http_json(&usaf, Method::GET, &format!("/v1/{}/quotes", o.name), &[], None).await?;
    assert_eq!(listed.body["quotes"].as_array().map(Vec::len), Some(1), "{}", listed.body);
    let accepted =
        http_json(&usaf, Method::POST, &format!("/v1/{name}:accept"), &[], Some(json!({"version": 2}))).await?;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(accepted.body["repairOrder"]["state"], "REPAIR_ORDER_STATE_PROPOSED");
    Ok(())
}

#[tokio::test]
async fn a_party_quotes_through_its_own_node_as_it_would_at_the_coordinator() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let usaf_node = ex.start_node(party::USAF).await?;
    let mhi_node = ex.start_node(party::MHI).await?;
    let mut usaf = pb::quotes_client::QuotesClient::new(ex.node_channel(&usaf_node).await?);
    let mut mhi = pb::quotes_client::QuotesClient::new(ex.node_channel(&mhi_node).await?);
    let o = order(&ex).await?;
    // Each node checks a quote write against its replica, queues it and forwards it.
    let settled = || async {
        for n in [&usaf_node, &mhi_node] {
            n.settled(std::time::Duration::from_secs(30)).await?;
        }
        anyhow::Ok(())
    };
    settled().await?;
    let asked = ask(&mut usaf, &o, &[party::MHI], "node-ask").await?;
    assert_eq!(asked.len(), 1);
    settled().await?;
    let mine = listed(&mut mhi, &o.name).await?;
    let answered = submit(&mut mhi, &mine[0], terms(pb::QuoteKind::Final, 9_000_000, 45), "").await?;
    assert_eq!(answered.state, pb::QuoteState::Quoted as i32);
    settled().await?;
    // What the node answers is the coordinator's record, visibility included.
    let direct = listed(&mut quotes(&ex, party::USAF).await?, &o.name).await?;
    assert_eq!(listed(&mut usaf, &o.name).await?, direct);
    assert!(listed(&mut quotes(&ex, party::KAI).await?, &o.name).await?.is_empty());
    Ok(())
}
