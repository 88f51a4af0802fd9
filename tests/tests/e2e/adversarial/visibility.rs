//! Visibility and inference: what a party can learn about records it may
//! not see — through look-alike ids, ids it chooses, an order's history, or
//! the totals of a demand signal.

use std::time::Duration;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, repair_order, violated_fields};
use tonic::Code;

use super::{create_order, usaf_order};

#[tokio::test]
async fn a_look_alike_party_sees_nothing_released_to_another() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    // KOR-KAI is a prefix of KOR-KAI-SACHEON, and KOR-KAI-SACHEON-2 extends it.
    let mut registry = ex.registry(party::COORDINATOR).await?;
    for id in ["KOR-KAI", "KOR-KAI-SACHEON-2"] {
        let p = pb::Party {
            party_id: id.into(),
            kind: pb::PartyKind::Contractor as i32,
            nation: "SGP".into(),
            ..Default::default()
        };
        registry.register_party(pb::RegisterPartyRequest { party: Some(p), request_id: String::new() }).await?;
    }
    let mut order = repair_order(party::USAF);
    order.controls = Some(pb::Controls {
        releasability: Some(pb::Releasability { party_ids: vec![party::KAI.into()], nations: vec![] }),
        ..Default::default()
    });
    let released = create_order(&ex, party::USAF, "", order).await?;
    for id in ["KOR-KAI", "KOR-KAI-SACHEON-2"] {
        let mut x = ex.exchange(id).await?;
        let listed = x.list_repair_orders(pb::ListRepairOrdersRequest::default()).await?.into_inner();
        assert!(listed.repair_orders.is_empty(), "{id} listed {listed:?}");
        let get = x.get_repair_order(pb::GetRepairOrderRequest { name: released.name.clone() }).await;
        assert_eq!(get.expect_err("seen").code(), Code::NotFound);
        assert!(ex.feed_order_names(id).await?.is_empty(), "{id} saw it on its feed");
    }
    // The party it was released to does see it, everywhere.
    assert_eq!(ex.feed_order_names(party::KAI).await?, vec![released.name.clone()]);
    Ok(())
}

#[tokio::test]
async fn a_chosen_id_neither_reveals_a_hidden_record_nor_squats_anothers_name() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf_order = repair_order(party::USAF);
    usaf_order.quantity = 4;
    let hidden = create_order(&ex, party::USAF, "ro-1", usaf_order).await?;
    assert_eq!(hidden.name, format!("repairOrders/{}.ro-1", party::USAF));

    // KAI choosing the same bare id gets its own record: nothing collides, nothing is revealed.
    let own = create_order(&ex, party::KAI, "ro-1", repair_order(party::KAI)).await?;
    assert_eq!(own.name, format!("repairOrders/{}.ro-1", party::KAI));

    // Naming a record in USAF's namespace is refused for what it is, whether or not it exists.
    for taken in ["US-USAF-OOALC.ro-1", "US-USAF-OOALC.ro-1-1", "US-USAF-OOALC.never-made"] {
        let refused = ex
            .exchange(party::KAI)
            .await?
            .create_repair_order(pb::CreateRepairOrderRequest {
                repair_order: Some(repair_order(party::KAI)),
                request_id: String::new(),
                repair_order_id: taken.into(),
            })
            .await
            .expect_err(taken);
        assert_eq!(refused.code(), Code::InvalidArgument, "{taken}: {refused:?}");
        assert_eq!(violated_fields(&refused), vec!["repair_order_id".to_owned()]);
    }
    // So the owner's split can always name its parts.
    let split = ex
        .exchange(party::USAF)
        .await?
        .split_repair_order(pb::SplitRepairOrderRequest {
            name: hidden.name.clone(),
            version: hidden.version,
            quantities: vec![2, 2],
            request_id: String::new(),
        })
        .await?
        .into_inner();
    let parts: Vec<String> = split.parts.iter().map(|p| p.name.clone()).collect();
    assert_eq!(parts, vec![format!("{}-1", hidden.name), format!("{}-2", hidden.name)]);
    Ok(())
}

#[tokio::test]
async fn a_later_provider_does_not_see_an_earlier_providers_proposal_or_decline() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let order = usaf_order(&ex).await?;
    let mut coordinator = ex.exchange(party::COORDINATOR).await?;
    let step = |name: &str, version: i64, action: pb::RepairOrderAction, provider: &str, reason: &str| {
        pb::TransitionRepairOrderRequest {
            name: name.into(),
            version,
            action: action as i32,
            provider: provider.into(),
            reason: reason.into(),
            ..Default::default()
        }
    };
    let proposed = coordinator
        .transition_repair_order(step(&order.name, 1, pb::RepairOrderAction::Propose, party::MHI, ""))
        .await?;
    let declined = ex
        .exchange(party::MHI)
        .await?
        .transition_repair_order(step(
            &order.name,
            proposed.into_inner().version,
            pb::RepairOrderAction::Decline,
            "",
            "our rate for KAI's competitor is confidential",
        ))
        .await?
        .into_inner();
    coordinator
        .transition_repair_order(step(&order.name, declined.version, pb::RepairOrderAction::Propose, party::KAI, ""))
        .await?;

    let history = |who: &'static str| {
        let ex = &ex;
        let name = order.name.clone();
        async move {
            let h = ex
                .exchange(who)
                .await?
                .get_repair_order_history(pb::GetRepairOrderHistoryRequest { name })
                .await?
                .into_inner();
            anyhow::Ok(h.transitions)
        }
    };
    let kai = history(party::KAI).await?;
    assert_eq!(kai.len(), 1, "KAI sees its own proposal only: {kai:?}");
    assert_eq!(kai[0].provider, party::KAI);
    assert!(kai.iter().all(|t| t.reason.is_empty() && t.provider != party::MHI), "{kai:?}");
    // MHI, no longer the provider, cannot read the order or its history at all.
    let mhi = ex
        .exchange(party::MHI)
        .await?
        .get_repair_order_history(pb::GetRepairOrderHistoryRequest { name: order.name.clone() })
        .await;
    assert_eq!(mhi.expect_err("MHI read the history").code(), Code::NotFound);
    assert_eq!(history(party::USAF).await?.len(), 4, "the owner sees every step");
    // History and feed agree: KAI's feed has the one step too.
    assert_eq!(ex.feed_order_names(party::KAI).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_partys_demand_signal_resists_totals_and_padding_with_its_own_orders() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    // Five F-35A orders from three parties in one month are served; one
    // C-130J order is suppressed, and stays so when MHI pads its cell with
    // two orders of its own (k counts originators other than the asker).
    for who in [party::USAF, party::USAF, party::RAAF, party::RAAF, party::KAI] {
        create_order(&ex, who, "", repair_order(who)).await?;
    }
    let mut lone = repair_order(party::USAF);
    lone.tms = "C-130J".into();
    create_order(&ex, party::USAF, "", lone).await?;
    for _ in 0..2 {
        let mut padding = repair_order(party::MHI);
        padding.tms = "C-130J".into();
        create_order(&ex, party::MHI, "", padding).await?;
    }
    let request = pb::GetDemandSignalRequest {
        basis: pb::DateBasis::RequiredBy as i32,
        granularity: pb::Granularity::Month as i32,
        ..Default::default()
    };
    let mut signals = pb::signals_client::SignalsClient::new(ex.channel(party::MHI).await?);
    let mut answer = signals.get_demand_signal(request.clone()).await?.into_inner();
    for _ in 0..50 {
        if !answer.cells.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        answer = signals.get_demand_signal(request.clone()).await?.into_inner();
    }
    let served: u64 = answer.cells.iter().filter(|c| !c.suppressed).map(|c| c.orders).sum();
    assert_eq!(served, 5, "{answer:?}");
    assert_eq!(answer.orders_counted, served, "total minus served would be the withheld cell");
    let coordinator = pb::signals_client::SignalsClient::new(ex.channel(party::COORDINATOR).await?)
        .get_demand_signal(request)
        .await?
        .into_inner();
    assert_eq!(coordinator.orders_counted, 8);
    let c130 = answer.cells.iter().filter(|c| c.key.as_ref().is_some_and(|k| k.tms == "C-130J"));
    assert!(c130.clone().count() > 0 && c130.clone().all(|c| c.suppressed), "{answer:?}");
    Ok(())
}

#[tokio::test]
async fn a_committed_plan_cannot_propose_an_export_controlled_order_to_an_unlicensed_contractor() -> anyhow::Result<()>
{
    let ex = TestExchange::start().await?;
    // MHI offers the capability, but holds no export licence for USML XIX(f).
    ex.exchange(party::MHI)
        .await?
        .create_capacity_offer(pb::CreateCapacityOfferRequest {
            capacity_offer: Some(cosx_tests::capacity_offer(party::MHI)),
            request_id: String::new(),
            capacity_offer_id: String::new(),
        })
        .await?;
    let mut controlled = repair_order(party::USAF);
    controlled.controls = Some(pb::Controls { usml_category: "XIX(f)".into(), ..Default::default() });
    let order = create_order(&ex, party::USAF, "", controlled).await?;
    let mut j4 = pb::allocation_client::AllocationClient::new(ex.channel(party::COORDINATOR).await?);
    let plan = j4.propose(pb::ProposeAllocationRequest::default()).await?.into_inner();
    assert!(plan.assignments.is_empty(), "the solver never proposes it: {plan:?}");
    // A hand-edited plan tries anyway.
    let forged = pb::AllocationAssignment {
        repair_order: order.name.clone(),
        order_version: order.version,
        provider: party::MHI.into(),
        ..Default::default()
    };
    let done = j4.commit(pb::CommitAllocationRequest { assignments: vec![forged] }).await?.into_inner();
    assert_eq!(done.results.len(), 1);
    assert!(!done.results[0].proposed, "{done:?}");
    assert!(done.results[0].error.contains("export"), "{}", done.results[0].error);
    let seen = ex.exchange(party::MHI).await?.get_repair_order(pb::GetRepairOrderRequest { name: order.name }).await;
    assert_eq!(seen.expect_err("MHI reads the order").code(), Code::NotFound);
    Ok(())
}

#[tokio::test]
async fn feed_checkpoints_do_not_count_other_parties_commits() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut stream = ex
        .feed(party::KAI)
        .await?
        .subscribe(pb::SubscribeRequest { checkpoints: true, ..Default::default() })
        .await?
        .into_inner();
    let party_events = {
        // The registry's own events are released to everyone.
        let mut all = ex.feed(party::KAI).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
        let mut last = 0;
        while let Ok(Some(Ok(e))) =
            tokio::time::timeout(Duration::from_millis(300), all.message()).await.map(Result::transpose)
        {
            last = e.sequence;
        }
        last
    };
    for _ in 0..10 {
        usaf_order(&ex).await?;
    }
    // Checkpoints for a second: none may pass KAI's own last event.
    let until = tokio::time::Instant::now() + Duration::from_secs(1);
    let mut checkpoints = 0;
    while let Ok(next) = tokio::time::timeout_at(until, stream.message()).await {
        let Some(e) = next? else { break };
        if e.kind == pb::EventKind::Checkpoint as i32 {
            checkpoints += 1;
            assert!(e.sequence <= party_events, "a checkpoint at {} counts USAF's hidden orders", e.sequence);
        }
    }
    assert!(checkpoints >= 2, "checkpoints keep coming on the heartbeat: {checkpoints}");
    // KAI's own order moves its checkpoints to it.
    let own = create_order(&ex, party::KAI, "", repair_order(party::KAI)).await?;
    let mut seen_own = None;
    while let Ok(next) = tokio::time::timeout(Duration::from_secs(2), stream.message()).await {
        let Some(e) = next? else { break };
        if e.kind == pb::EventKind::Checkpoint as i32 {
            // A heartbeat may still go out before the order's event: it
            // must not count the hidden orders either.
            let Some(own_sequence) = seen_own else {
                assert!(e.sequence <= party_events, "a checkpoint at {} counts USAF's hidden orders", e.sequence);
                continue;
            };
            assert_eq!(e.sequence, own_sequence, "the checkpoint is KAI's own cursor");
            break;
        }
        if let Some(pb::event::Subject::RepairOrder(o)) = &e.subject
            && o.name == own.name
        {
            seen_own = Some(e.sequence);
        }
    }
    assert!(seen_own.is_some(), "KAI saw its own order");
    Ok(())
}
