//! Repair exceptions through the API: the provider an order is with raises
//! one; until the owner answers, the order cannot be completed; an approved
//! cost-over lets it complete at the new estimate, a rejected one holds it
//! to the old; every exception and answer is a step in the order's history
//! and an event of its own kind, seen by the owner, the provider and
//! coordinators only; bad input is refused field by field, wrong parties by
//! role; a repeated request id replays. Over gRPC, HTTP/JSON, the CLI and a
//! party's node.

use std::time::Duration;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, http_json, party, repair_order, violated_fields};
use pb::RepairOrderAction as A;
use pb::RepairOrderState as S;
use pb::answer_exception_request::Decision;
use tonic::Code;

type Exceptions = pb::repair_exceptions_client::RepairExceptionsClient<tonic::transport::Channel>;

async fn exceptions(ex: &TestExchange, who: &str) -> anyhow::Result<Exceptions> {
    Ok(pb::repair_exceptions_client::RepairExceptionsClient::new(ex.channel(who).await?))
}

fn usd(amount_minor: i64) -> pb::Money {
    pb::Money { currency_code: "USD".into(), amount_minor }
}

/// The example order's estimated cost.
const ESTIMATE: i64 = 18_000_000;

async fn step(
    ex: &TestExchange,
    who: &str,
    name: &str,
    action: A,
    progress: Option<pb::WorkProgress>,
) -> Result<pb::RepairOrder, tonic::Status> {
    let mut c = ex.exchange(who).await.map_err(|e| tonic::Status::internal(e.to_string()))?;
    let o = c.get_repair_order(pb::GetRepairOrderRequest { name: name.into() }).await?.into_inner();
    let provider = if action == A::Propose { party::MHI.to_owned() } else { String::new() };
    c.transition_repair_order(pb::TransitionRepairOrderRequest {
        name: name.into(),
        version: o.version,
        action: action as i32,
        provider,
        progress,
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
}

/// An order of the Air Force's, released to `nations`, proposed to MHI and
/// taken by it as far as `until` (PROPOSED, ACCEPTED, INDUCTED or IN_WORK).
async fn with_mhi(ex: &TestExchange, nations: &[&str], until: S) -> anyhow::Result<pb::RepairOrder> {
    let mut draft = repair_order(party::USAF);
    draft.controls = Some(pb::Controls {
        releasability: Some(pb::Releasability {
            nations: nations.iter().map(|n| (*n).to_owned()).collect(),
            ..Default::default()
        }),
        ..Default::default()
    });
    let request = pb::CreateRepairOrderRequest { repair_order: Some(draft), ..Default::default() };
    let mut o = ex.exchange(party::USAF).await?.create_repair_order(request).await?.into_inner();
    o = step(ex, party::COORDINATOR, &o.name, A::Propose, None).await?;
    for action in [A::Accept, A::Induct, A::StartWork] {
        if o.state == until as i32 {
            break;
        }
        o = step(ex, party::MHI, &o.name, action, None).await?;
    }
    Ok(o)
}

fn raise(order: &str, kind: pb::RepairExceptionKind, request_id: &str) -> pb::RaiseExceptionRequest {
    pb::RaiseExceptionRequest {
        parent: order.into(),
        kind: kind as i32,
        new_estimate: (kind == pb::RepairExceptionKind::CostOverEstimate).then(|| usd(21_000_000)),
        new_completion_date: if kind == pb::RepairExceptionKind::TurnaroundSlip {
            "2027-06-30".into()
        } else {
            String::new()
        },
        text: "Teardown found corrosion beyond limits on the trunnion.".into(),
        request_id: request_id.into(),
    }
}

fn answer(name: &str, decision: Decision, reason: &str, request_id: &str) -> pb::AnswerExceptionRequest {
    pb::AnswerExceptionRequest {
        name: name.into(),
        decision: decision as i32,
        reason: reason.into(),
        request_id: request_id.into(),
    }
}

async fn listed(c: &mut Exceptions, order: &str) -> Result<Vec<pb::RepairException>, tonic::Status> {
    let request = pb::ListExceptionsRequest { parent: order.into(), ..Default::default() };
    c.list_exceptions(request).await.map(|r| r.into_inner().exceptions)
}

fn completed_at(amount_minor: i64) -> Option<pb::WorkProgress> {
    Some(pb::WorkProgress {
        actual_completion_date: "2027-02-18".into(),
        actual_cost: Some(usd(amount_minor)),
        ..Default::default()
    })
}

async fn history(ex: &TestExchange, who: &str, order: &str) -> anyhow::Result<Vec<pb::RepairOrderTransition>> {
    let request = pb::GetRepairOrderHistoryRequest { name: order.into() };
    Ok(ex.exchange(who).await?.get_repair_order_history(request).await?.into_inner().transitions)
}

/// `who`'s feed from the start, as (kind, exception name) for exception events, read until quiet.
async fn exception_events(ex: &TestExchange, who: &str) -> anyhow::Result<Vec<(i32, String)>> {
    let mut stream = ex.feed(who).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    let mut out = Vec::new();
    while let Ok(next) = tokio::time::timeout(Duration::from_millis(400), stream.message()).await {
        let Some(e) = next? else { break };
        if let Some(x) = &e.repair_exception {
            out.push((e.kind, x.name.clone()));
        }
    }
    Ok(out)
}

#[tokio::test]
async fn an_open_cost_over_blocks_completion_until_the_owner_approves_then_the_order_completes_at_the_new_estimate()
-> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let (mut usaf, mut mhi) = (exceptions(&ex, party::USAF).await?, exceptions(&ex, party::MHI).await?);
    let o = with_mhi(&ex, &[], S::InWork).await?;
    assert_eq!(o.state, S::InWork as i32);
    let raised = mhi.raise_exception(raise(&o.name, pb::RepairExceptionKind::CostOverEstimate, "")).await?.into_inner();
    assert_eq!(raised.name, format!("{}/exceptions/1", o.name));
    assert_eq!((raised.state, raised.provider.as_str()), (pb::RepairExceptionState::Open as i32, party::MHI));
    assert_eq!(raised.new_estimate.as_ref().map(|m| m.amount_minor), Some(21_000_000));

    // Open: completing is refused with a reason that names the exception.
    let err = step(&ex, party::MHI, &o.name, A::Complete, completed_at(ESTIMATE)).await.expect_err("blocked");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains(&raised.name) && err.message().contains("COST_OVER_ESTIMATE"), "{}", err.message());
    // Other work goes on.
    step(&ex, party::MHI, &o.name, A::AwaitParts, None).await?;
    step(&ex, party::MHI, &o.name, A::StartWork, None).await?;

    let approved =
        usaf.answer_exception(answer(&raised.name, Decision::Approve, "approved by the PM", "")).await?.into_inner();
    assert_eq!(
        (approved.state, approved.answered_by.as_str()),
        (pb::RepairExceptionState::Approved as i32, party::USAF)
    );
    let order = ex
        .exchange(party::USAF)
        .await?
        .get_repair_order(pb::GetRepairOrderRequest { name: o.name.clone() })
        .await?
        .into_inner();
    let cost = order.funding.and_then(|f| f.estimated_cost).map(|m| m.amount_minor);
    assert_eq!(cost, Some(21_000_000), "the approval raised the estimate");
    assert_eq!(order.state, S::InWork as i32, "an answer moves no lifecycle step");
    let done = step(&ex, party::MHI, &o.name, A::Complete, completed_at(21_000_000)).await?;
    assert_eq!(done.state, S::Completed as i32);

    // The history has both, as steps that keep the state; the owner and the provider see them.
    for who in [party::USAF, party::MHI, party::COORDINATOR] {
        let steps = history(&ex, who, &o.name).await?;
        let marked: Vec<_> = steps.iter().filter(|t| !t.repair_exception.is_empty()).collect();
        assert_eq!(marked.len(), 2, "{who}: {steps:?}");
        assert!(marked.iter().all(|t| t.from_state == S::InWork as i32 && t.to_state == S::InWork as i32));
        assert!(marked[0].reason.contains("raised") && marked[0].actor == party::MHI, "{:?}", marked[0]);
        assert!(marked[1].reason.contains("approved") && marked[1].actor == party::USAF, "{:?}", marked[1]);
    }
    // The feed: their own kinds, carrying the exception.
    use pb::EventKind as K;
    let expected = vec![
        (K::RepairExceptionRaised as i32, raised.name.clone()),
        (K::RepairExceptionApproved as i32, raised.name.clone()),
    ];
    assert_eq!(exception_events(&ex, party::MHI).await?, expected);
    assert_eq!(exception_events(&ex, party::USAF).await?, expected);
    assert!(exception_events(&ex, party::KAI).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_rejected_cost_over_holds_the_order_to_its_estimate_and_a_rejection_says_why() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let (mut usaf, mut mhi) = (exceptions(&ex, party::USAF).await?, exceptions(&ex, party::MHI).await?);
    let o = with_mhi(&ex, &[], S::InWork).await?;
    let raised = mhi.raise_exception(raise(&o.name, pb::RepairExceptionKind::CostOverEstimate, "")).await?.into_inner();
    let err = usaf.answer_exception(answer(&raised.name, Decision::Reject, " ", "")).await.expect_err("no reason");
    assert_eq!((err.code(), violated_fields(&err)), (Code::InvalidArgument, vec!["reason".to_owned()]));
    let rejected =
        usaf.answer_exception(answer(&raised.name, Decision::Reject, "over the ceiling", "")).await?.into_inner();
    assert_eq!(rejected.state, pb::RepairExceptionState::Rejected as i32);
    assert_eq!(rejected.answer_reason, "over the ceiling");
    let err = step(&ex, party::MHI, &o.name, A::Complete, completed_at(21_000_000)).await.expect_err("too dear");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("approved estimate"), "{}", err.message());
    let done = step(&ex, party::MHI, &o.name, A::Complete, completed_at(ESTIMATE)).await?;
    assert_eq!(done.state, S::Completed as i32);
    Ok(())
}

#[tokio::test]
async fn exceptions_are_refused_field_by_field_by_role_and_on_orders_not_with_the_provider() -> anyhow::Result<()> {
    use pb::RepairExceptionKind as K;
    let ex = TestExchange::start().await?;
    let (mut usaf, mut mhi, mut kai, mut j4) = (
        exceptions(&ex, party::USAF).await?,
        exceptions(&ex, party::MHI).await?,
        exceptions(&ex, party::KAI).await?,
        exceptions(&ex, party::COORDINATOR).await?,
    );
    let o = with_mhi(&ex, &[], S::InWork).await?;

    // Bad input, every field at once.
    let mut bad = raise(&o.name, K::CostOverEstimate, "");
    bad.new_estimate = Some(usd(-1));
    bad.new_completion_date = "2027-06-30".into();
    bad.text = "x".repeat(5001);
    let err = mhi.raise_exception(bad).await.expect_err("refused");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["new_estimate", "new_completion_date", "text"], "{err:?}");
    let mut bad = raise(&o.name, K::Unspecified, "");
    bad.text.clear();
    let err = mhi.raise_exception(bad).await.expect_err("refused");
    assert_eq!(violated_fields(&err), ["kind", "text"], "{err:?}");
    let mut slip = raise(&o.name, K::TurnaroundSlip, "");
    slip.new_completion_date = "soon".into();
    let err = mhi.raise_exception(slip).await.expect_err("refused");
    assert_eq!(violated_fields(&err), ["new_completion_date"], "{err:?}");

    // Only the provider the order is with raises; others who may see the order are told why.
    for (who, c) in [(party::USAF, &mut usaf), (party::COORDINATOR, &mut j4)] {
        let err = c.raise_exception(raise(&o.name, K::Scrap, "")).await.expect_err("not the provider");
        assert_eq!(err.code(), Code::PermissionDenied, "{who}: {err:?}");
    }
    // A party that may not see the order finds nothing there, nor under a made-up name.
    let err = kai.raise_exception(raise(&o.name, K::Scrap, "")).await.expect_err("hidden");
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(listed(&mut kai, &o.name).await.expect_err("hidden").code(), Code::NotFound);

    let raised = mhi.raise_exception(raise(&o.name, K::NoFaultFound, "")).await?.into_inner();
    // Only the owner answers.
    for (who, c) in [(party::MHI, &mut mhi), (party::COORDINATOR, &mut j4)] {
        let err = c.answer_exception(answer(&raised.name, Decision::Approve, "", "")).await.expect_err("not the owner");
        assert_eq!(err.code(), Code::PermissionDenied, "{who}: {err:?}");
    }
    let err = kai.answer_exception(answer(&raised.name, Decision::Approve, "", "")).await.expect_err("hidden");
    assert_eq!(err.code(), Code::NotFound);
    let err =
        usaf.answer_exception(answer(&raised.name, Decision::Unspecified, "", "")).await.expect_err("no decision");
    assert_eq!(violated_fields(&err), ["decision"]);
    for name in [format!("{}/exceptions/01", o.name), format!("{}/exceptions/x", o.name)] {
        let err = usaf.answer_exception(answer(&name, Decision::Approve, "", "")).await.expect_err("bad name");
        assert_eq!(violated_fields(&err), ["name"], "{name}");
    }
    let missing = format!("{}/exceptions/2", o.name);
    let err = usaf.answer_exception(answer(&missing, Decision::Approve, "", "")).await.expect_err("missing");
    assert_eq!(err.code(), Code::NotFound);
    // Answered once, never twice.
    usaf.answer_exception(answer(&raised.name, Decision::Approve, "", "")).await?;
    let err =
        usaf.answer_exception(answer(&raised.name, Decision::Reject, "changed my mind", "")).await.expect_err("twice");
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("APPROVED"), "{}", err.message());
    // Refusals changed nothing: one exception, approved once.
    let all = listed(&mut usaf, &o.name).await?;
    assert_eq!(all.len(), 1);
    assert_eq!((all[0].state, all[0].version), (pb::RepairExceptionState::Approved as i32, 2));

    // Not yet accepted, and closed (cancelled) orders take no exceptions.
    let proposed = with_mhi(&ex, &[], S::Proposed).await?;
    assert_eq!(proposed.state, S::Proposed as i32);
    let err = mhi.raise_exception(raise(&proposed.name, K::Scrap, "")).await.expect_err("not accepted");
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("PROPOSED"), "{}", err.message());
    let accepted = with_mhi(&ex, &[], S::Accepted).await?;
    let open = mhi.raise_exception(raise(&accepted.name, K::PartsUnobtainable, "")).await?.into_inner();
    let cancelled = step(&ex, party::USAF, &accepted.name, A::Cancel, None).await?;
    assert_eq!(cancelled.state, S::Cancelled as i32, "an open exception does not hold back the owner's cancel");
    let err = mhi.raise_exception(raise(&accepted.name, K::Scrap, "")).await.expect_err("closed");
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("CANCELLED"), "{}", err.message());
    let err = usaf.answer_exception(answer(&open.name, Decision::Approve, "", "")).await.expect_err("closed");
    assert_eq!(err.code(), Code::FailedPrecondition);
    Ok(())
}

#[tokio::test]
async fn an_exception_is_not_released_with_its_order() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let (mut mhi, mut kai, mut raaf) =
        (exceptions(&ex, party::MHI).await?, exceptions(&ex, party::KAI).await?, exceptions(&ex, party::RAAF).await?);
    // Released to Korea: KAI sees the order, not what its provider and owner say about the work.
    let o = with_mhi(&ex, &["KOR"], S::InWork).await?;
    let slip = mhi.raise_exception(raise(&o.name, pb::RepairExceptionKind::TurnaroundSlip, "")).await?.into_inner();
    assert_eq!(slip.new_completion_date, "2027-06-30");
    assert!(listed(&mut kai, &o.name).await?.is_empty());
    let kai_history = history(&ex, party::KAI, &o.name).await?;
    assert!(!kai_history.is_empty(), "KAI sees the order's steps");
    assert!(kai_history.iter().all(|t| t.repair_exception.is_empty()), "{kai_history:?}");
    assert!(exception_events(&ex, party::KAI).await?.is_empty());
    let err = listed(&mut raaf, &o.name).await.expect_err("hidden");
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(listed(&mut mhi, &o.name).await?, vec![slip]);
    Ok(())
}

#[tokio::test]
async fn a_repeated_request_id_replays_the_raise_and_the_answer_and_commits_nothing_more() -> anyhow::Result<()> {
    use pb::RepairExceptionKind as K;
    let ex = TestExchange::start().await?;
    let (mut usaf, mut mhi) = (exceptions(&ex, party::USAF).await?, exceptions(&ex, party::MHI).await?);
    let o = with_mhi(&ex, &[], S::InWork).await?;
    let first = mhi.raise_exception(raise(&o.name, K::BeyondEconomicalRepair, "ber")).await?.into_inner();
    let again = mhi.raise_exception(raise(&o.name, K::BeyondEconomicalRepair, "ber")).await?.into_inner();
    assert_eq!(first, again);
    let err = mhi.raise_exception(raise(&o.name, K::Scrap, "ber")).await.expect_err("other payload");
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
    let a = usaf.answer_exception(answer(&first.name, Decision::Reject, "repair it", "no")).await?.into_inner();
    let b = usaf.answer_exception(answer(&first.name, Decision::Reject, "repair it", "no")).await?.into_inner();
    assert_eq!(a, b);
    assert_eq!(listed(&mut usaf, &o.name).await?.len(), 1);
    let events = exception_events(&ex, party::USAF).await?;
    assert_eq!(events.len(), 2, "raised once, rejected once: {events:?}");
    Ok(())
}

#[tokio::test]
async fn exceptions_work_over_http_json_and_through_a_node() -> anyhow::Result<()> {
    use http::{Method, StatusCode};
    use serde_json::json;
    let ex = TestExchange::start().await?;
    let o = with_mhi(&ex, &[], S::InWork).await?;
    let mhi = ex.channel(party::MHI).await?;
    let refused = http_json(
        &mhi,
        Method::POST,
        &format!("/v1/{}/exceptions", o.name),
        &[],
        Some(json!({"kind": "REPAIR_EXCEPTION_KIND_COST_OVER_ESTIMATE", "newEstimate": {"currencyCode": "USD", "amountMinor": "-5"}, "text": "more"})),
    )
    .await?;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.to_string().contains("new_estimate"), "{}", refused.body);
    let raised = http_json(
        &mhi,
        Method::POST,
        &format!("/v1/{}/exceptions", o.name),
        &[],
        Some(json!({"kind": "REPAIR_EXCEPTION_KIND_SCRAP", "text": "cracked spar", "requestId": "http-1"})),
    )
    .await?;
    assert_eq!(raised.status, StatusCode::OK, "{}", raised.body);
    assert_eq!(raised.body["state"], "REPAIR_EXCEPTION_STATE_OPEN");
    let name = raised.body["name"].as_str().unwrap_or_default().to_owned();

    // The owner answers through its own node, once the node's replica has
    // the exception (from the feed); the node forwards the answer.
    let node = ex.start_node(party::USAF).await?;
    node.settled(Duration::from_secs(60)).await?;
    let mut via_node = pb::repair_exceptions_client::RepairExceptionsClient::new(ex.node_channel(&node).await?);
    let approved = via_node.answer_exception(answer(&name, Decision::Approve, "", "")).await?.into_inner();
    assert_eq!(approved.state, pb::RepairExceptionState::Approved as i32);
    assert_eq!(node.settled(Duration::from_secs(60)).await?.rejected_writes, 0);
    let direct = listed(&mut exceptions(&ex, party::USAF).await?, &o.name).await?;
    assert_eq!(direct[0].state, pb::RepairExceptionState::Approved as i32);
    assert_eq!(listed(&mut via_node, &o.name).await?, direct);
    Ok(())
}

#[tokio::test]
async fn cosx_exception_raises_answers_and_lists() -> anyhow::Result<()> {
    use crate::cli::{cosx, pki_dir};
    let ex = TestExchange::start().await?;
    let dir = pki_dir(&ex)?;
    let pki = dir.path();
    let o = with_mhi(&ex, &[], S::InWork).await?;
    let over = |cents: &str| -> Vec<String> {
        ["exception", "raise", &o.name, "--kind", "cost-over-estimate", "--new-estimate-cents", cents, "--text", "more"]
            .map(str::to_owned)
            .to_vec()
    };
    // A negative estimate is the coordinator's to refuse, and the command fails.
    let refused = over("-5");
    assert!(!cosx(&ex, party::MHI, pki, &refused.iter().map(String::as_str).collect::<Vec<_>>()).await);
    let good = over("20000000");
    assert!(cosx(&ex, party::MHI, pki, &good.iter().map(String::as_str).collect::<Vec<_>>()).await);
    let name = format!("{}/exceptions/1", o.name);
    assert!(!cosx(&ex, party::USAF, pki, &["exception", "answer", &name, "--decision", "reject"]).await);
    assert!(
        cosx(&ex, party::USAF, pki, &["exception", "answer", &name, "--decision", "reject", "--reason", "no"]).await
    );
    assert!(cosx(&ex, party::USAF, pki, &["exception", "list", &o.name, "--state", "rejected"]).await);
    let all = listed(&mut exceptions(&ex, party::USAF).await?, &o.name).await?;
    assert_eq!(all.len(), 1);
    assert_eq!((all[0].state, all[0].answer_reason.as_str()), (pb::RepairExceptionState::Rejected as i32, "no"));
    Ok(())
}
