//! The repair-order lifecycle through the API: every role's steps, stale
//! versions, races, splits and history.

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, repair_order};
use pb::RepairOrderAction as A;
use pb::RepairOrderState as S;
use tonic::Code;

type Client = pb::exchange_client::ExchangeClient<tonic::transport::Channel>;

async fn step(
    c: &mut Client,
    order: &pb::RepairOrder,
    action: A,
    provider: &str,
) -> Result<pb::RepairOrder, tonic::Status> {
    c.transition_repair_order(pb::TransitionRepairOrderRequest {
        name: order.name.clone(),
        version: order.version,
        action: action as i32,
        provider: provider.into(),
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
}

async fn submitted(ex: &TestExchange) -> anyhow::Result<pb::RepairOrder> {
    ex.create_order(party::USAF, repair_order(party::USAF)).await
}

#[tokio::test]
async fn an_order_goes_from_submission_to_close_and_history_records_every_step() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let (mut usaf, mut mhi, mut j4) =
        (ex.exchange(party::USAF).await?, ex.exchange(party::MHI).await?, ex.exchange(party::COORDINATOR).await?);
    let o = submitted(&ex).await?;
    let o = step(&mut j4, &o, A::Propose, party::MHI).await?;
    assert_eq!((o.state, o.provider.as_str()), (S::Proposed as i32, party::MHI));
    let o = step(&mut mhi, &o, A::Accept, "").await?;
    let o = mhi
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: o.name.clone(),
            version: o.version,
            action: A::Induct as i32,
            progress: Some(pb::WorkProgress {
                induction_date: "2027-01-10".into(),
                estimated_completion_date: "2027-02-20".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await?
        .into_inner();
    let o = step(&mut mhi, &o, A::StartWork, "").await?;
    let o = step(&mut mhi, &o, A::AwaitParts, "").await?;
    let o = step(&mut mhi, &o, A::StartWork, "").await?;
    let o = mhi
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: o.name.clone(),
            version: o.version,
            action: A::Complete as i32,
            progress: Some(pb::WorkProgress {
                actual_completion_date: "2027-02-18".into(),
                actual_labor_hours: 455.5,
                actual_cost: Some(pb::Money { currency_code: "USD".into(), amount_minor: 17_250_000 }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await?
        .into_inner();
    let o = step(&mut mhi, &o, A::Ship, "").await?;
    let o = step(&mut usaf, &o, A::Close, "").await?;
    assert_eq!((o.state, o.version), (S::Closed as i32, 10));
    let progress = o.progress.clone().unwrap_or_default();
    assert_eq!((progress.induction_date.as_str(), progress.actual_labor_hours), ("2027-01-10", 455.5));

    let history = usaf
        .get_repair_order_history(pb::GetRepairOrderHistoryRequest { name: o.name.clone() })
        .await?
        .into_inner()
        .transitions;
    let states: Vec<i32> = history.iter().map(|t| t.to_state).collect();
    let expected = [
        S::Submitted,
        S::Proposed,
        S::Accepted,
        S::Inducted,
        S::InWork,
        S::AwaitingParts,
        S::InWork,
        S::Completed,
        S::Shipped,
        S::Closed,
    ];
    assert_eq!(states, expected.map(|s| s as i32));
    let actors: Vec<&str> = history.iter().map(|t| t.actor.as_str()).collect();
    assert_eq!(actors[..3], [party::USAF, party::COORDINATOR, party::MHI]);
    assert_eq!(actors[9], party::USAF);
    assert!(history.windows(2).all(|w| w[0].sequence < w[1].sequence && w[0].version + 1 == w[1].version));
    assert_eq!(history[1].provider, party::MHI);
    Ok(())
}

#[tokio::test]
async fn every_role_is_held_to_its_own_steps() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let (mut usaf, mut mhi, mut kai, mut j4) = (
        ex.exchange(party::USAF).await?,
        ex.exchange(party::MHI).await?,
        ex.exchange(party::KAI).await?,
        ex.exchange(party::COORDINATOR).await?,
    );
    let o = submitted(&ex).await?;
    // Nobody but a coordinator proposes; a contractor cannot even see an order not proposed to it.
    assert_eq!(step(&mut usaf, &o, A::Propose, party::MHI).await.expect_err("proposed").code(), Code::PermissionDenied);
    assert_eq!(step(&mut mhi, &o, A::Propose, party::MHI).await.expect_err("proposed").code(), Code::NotFound);
    // Nothing can be accepted before it is proposed, even by a coordinator.
    assert_ne!(step(&mut j4, &o, A::Accept, "").await.expect_err("accepted").code(), Code::Ok);
    let o = step(&mut j4, &o, A::Propose, party::MHI).await?;
    // Another contractor cannot see it at all, so cannot accept it.
    assert_eq!(step(&mut kai, &o, A::Accept, "").await.expect_err("accepted").code(), Code::NotFound);
    // The originator cannot accept for the provider.
    assert_eq!(step(&mut usaf, &o, A::Accept, "").await.expect_err("accepted").code(), Code::PermissionDenied);
    // The provider cannot skip ahead.
    let skip = step(&mut mhi, &o, A::Induct, "").await.expect_err("skipped");
    assert_eq!(skip.code(), Code::FailedPrecondition);
    assert!(skip.message().contains("PROPOSED"), "{}", skip.message());
    // Decline returns it to the pool; the provider loses sight of it; it can be proposed again.
    let o = step(&mut mhi, &o, A::Decline, "").await?;
    assert_eq!((o.state, o.provider.as_str()), (S::Declined as i32, ""));
    assert_eq!(
        mhi.get_repair_order(pb::GetRepairOrderRequest { name: o.name.clone() }).await.expect_err("seen").code(),
        Code::NotFound
    );
    let o = step(&mut j4, &o, A::Propose, party::KAI).await?;
    let o = step(&mut kai, &o, A::Accept, "").await?;
    // Only the originator cancels, and only before induction.
    assert_eq!(step(&mut kai, &o, A::Cancel, "").await.expect_err("cancelled").code(), Code::PermissionDenied);
    let inducted = step(&mut kai, &o, A::Induct, "").await?;
    assert_eq!(
        step(&mut usaf, &inducted, A::Cancel, "").await.expect_err("cancelled").code(),
        Code::FailedPrecondition
    );
    // A proposal must name a registered provider.
    let other = submitted(&ex).await?;
    assert_eq!(
        step(&mut j4, &other, A::Propose, "NOBODY-HERE").await.expect_err("proposed").code(),
        Code::InvalidArgument
    );
    // A sensitive order goes to US organic depots only, even when proposed by hand.
    let mut sensitive = repair_order(party::USAF);
    sensitive.controls = Some(pb::Controls { organic_only: true, ..Default::default() });
    let sensitive = usaf
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(sensitive),
            request_id: String::new(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let refused = step(&mut j4, &sensitive, A::Propose, party::MHI).await.expect_err("organic_only to a contractor");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    // The refusal names the rule by its reason code (the one Allocation reports) and in words.
    assert!(refused.message().contains("ORGANIC_ONLY"), "{}", refused.message());
    let cancelled = step(&mut usaf, &other, A::Cancel, "").await?;
    assert_eq!(cancelled.state, S::Cancelled as i32);
    Ok(())
}

#[tokio::test]
async fn a_manual_proposal_to_a_provider_allocation_would_refuse_is_refused_naming_the_rule() -> anyhow::Result<()> {
    // DESIGN §2, export control: an export-controlled item repaired outside the United States
    // (here by a Japanese contractor) needs an export authorization for its classification. A
    // manual PROPOSE applies cosx_allocation::provider_eligibility, as Allocation does (issue 18).
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let mut controlled = repair_order(party::USAF);
    controlled.controls = Some(pb::Controls { usml_category: "XIX(f)".into(), ..Default::default() });
    let controlled = usaf
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(controlled),
            request_id: String::new(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let mut j4 = ex.exchange(party::COORDINATOR).await?;
    let refused = step(&mut j4, &controlled, A::Propose, party::MHI).await.expect_err("no export licence");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("EXPORT_CONTROL"), "{}", refused.message());
    assert!(refused.message().contains("export authorization"), "{}", refused.message());
    // The same order may go to the US organic depot, which needs no licence for a US-owned item.
    let order = ex
        .exchange(party::USAF)
        .await?
        .get_repair_order(pb::GetRepairOrderRequest { name: controlled.name.clone() })
        .await?
        .into_inner();
    assert_eq!(order.state, S::Submitted as i32, "a refused step changes nothing");
    Ok(())
}

#[tokio::test]
async fn a_stale_version_is_refused_and_changes_nothing() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut j4 = ex.exchange(party::COORDINATOR).await?;
    let o = submitted(&ex).await?;
    let proposed = step(&mut j4, &o, A::Propose, party::MHI).await?;
    let mut mhi = ex.exchange(party::MHI).await?;
    let stale = pb::RepairOrder { state: S::Proposed as i32, ..o.clone() };
    let status = step(&mut mhi, &stale, A::Accept, "").await.expect_err("accepted with a stale version");
    assert_eq!(status.code(), Code::Aborted);
    let now = mhi.get_repair_order(pb::GetRepairOrderRequest { name: o.name.clone() }).await?.into_inner();
    assert_eq!(now, proposed);
    Ok(())
}

#[tokio::test]
async fn of_two_racing_steps_exactly_one_wins() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut j4 = ex.exchange(party::COORDINATOR).await?;
    for round in 0..5 {
        let o = submitted(&ex).await?;
        let o = step(&mut j4, &o, A::Propose, party::MHI).await?;
        // The provider accepts while the originator cancels, both from version 2.
        let (mut mhi, mut usaf) = (ex.exchange(party::MHI).await?, ex.exchange(party::USAF).await?);
        let (a, b) = tokio::join!(step(&mut mhi, &o, A::Accept, ""), step(&mut usaf, &o, A::Cancel, ""));
        let wins = [a.is_ok(), b.is_ok()].iter().filter(|w| **w).count();
        assert_eq!(wins, 1, "round {round}: {a:?} / {b:?}");
        let loser = a.err().or(b.err()).ok_or_else(|| anyhow::anyhow!("no loser"))?;
        assert_eq!(loser.code(), Code::Aborted, "{loser:?}");
        let history =
            j4.get_repair_order_history(pb::GetRepairOrderHistoryRequest { name: o.name.clone() }).await?.into_inner();
        assert_eq!(history.transitions.len(), 3);
    }
    Ok(())
}

#[tokio::test]
async fn a_retried_step_with_its_request_id_returns_the_first_result() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut j4 = ex.exchange(party::COORDINATOR).await?;
    let o = submitted(&ex).await?;
    let request = pb::TransitionRepairOrderRequest {
        name: o.name.clone(),
        version: o.version,
        action: A::Propose as i32,
        provider: party::MHI.into(),
        request_id: "propose-1".into(),
        ..Default::default()
    };
    let first = j4.transition_repair_order(request.clone()).await?.into_inner();
    let again = j4.transition_repair_order(request).await?.into_inner();
    assert_eq!(first, again);
    Ok(())
}

#[tokio::test]
async fn an_order_splits_into_parts_that_keep_the_total() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let o = submitted(&ex).await?;
    let bad = usaf
        .split_repair_order(pb::SplitRepairOrderRequest {
            name: o.name.clone(),
            version: o.version,
            quantities: vec![1, 2],
            request_id: String::new(),
        })
        .await
        .expect_err("split to a wrong total");
    assert_eq!(bad.code(), Code::InvalidArgument);
    let split = usaf
        .split_repair_order(pb::SplitRepairOrderRequest {
            name: o.name.clone(),
            version: o.version,
            quantities: vec![1, 3],
            request_id: String::new(),
        })
        .await?
        .into_inner();
    let parent = split.parent.unwrap_or_default();
    assert_eq!(parent.state, S::Cancelled as i32);
    let quantities: Vec<u32> = split.parts.iter().map(|p| p.quantity).collect();
    assert_eq!(quantities, vec![1, 3]);
    let hours: f64 = split.parts.iter().map(|p| p.estimated_labor_hours).sum();
    assert!((hours - 480.0).abs() < 1e-9);
    assert!(split.parts.iter().all(|p| p.parent == o.name && p.state == S::Submitted as i32));
    // The parts go to different providers.
    let mut j4 = ex.exchange(party::COORDINATOR).await?;
    let a = step(&mut j4, &split.parts[0], A::Propose, party::MHI).await?;
    let b = step(&mut j4, &split.parts[1], A::Propose, party::KAI).await?;
    assert_ne!(a.provider, b.provider);
    Ok(())
}
