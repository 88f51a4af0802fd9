//! Repair exceptions through a party node (see the parent module).

use super::*;

// ---------------------------------------------------------------------------
// Repair exceptions through a node: queued while the link is cut, forwarded
// once, refused ones kept as rejections, and the node's own lifecycle check
// knowing the open exceptions its replica holds.

type Exceptions = pb::repair_exceptions_client::RepairExceptionsClient<Channel>;

/// An order of the Air Force's, proposed to MHI and in work there (straight
/// at the coordinator).
async fn in_work_with_mhi(ex: &TestExchange) -> anyhow::Result<pb::RepairOrder> {
    let mut usaf = ex.exchange(party::USAF).await?;
    let request = pb::CreateRepairOrderRequest { repair_order: Some(repair_order(party::USAF)), ..Default::default() };
    let mut order = usaf.create_repair_order(request).await?.into_inner();
    let steps = [
        (party::COORDINATOR, pb::RepairOrderAction::Propose),
        (party::MHI, pb::RepairOrderAction::Accept),
        (party::MHI, pb::RepairOrderAction::Induct),
        (party::MHI, pb::RepairOrderAction::StartWork),
    ];
    for (who, action) in steps {
        let provider = if action == pb::RepairOrderAction::Propose { party::MHI.into() } else { String::new() };
        order = ex
            .exchange(who)
            .await?
            .transition_repair_order(pb::TransitionRepairOrderRequest {
                name: order.name.clone(),
                version: order.version,
                action: action as i32,
                provider,
                ..Default::default()
            })
            .await?
            .into_inner();
    }
    Ok(order)
}

fn raise(order: &str, kind: pb::RepairExceptionKind, request_id: &str) -> pb::RaiseExceptionRequest {
    pb::RaiseExceptionRequest {
        parent: order.into(),
        kind: kind as i32,
        new_estimate: (kind == pb::RepairExceptionKind::CostOverEstimate).then(|| usd(21_000_000)),
        text: "Teardown found corrosion beyond limits on the trunnion.".into(),
        request_id: request_id.into(),
        ..Default::default()
    }
}

/// COMPLETE on `order` by `client`, at the version that client reads.
async fn complete(client: &mut Exchange, order: &str) -> Result<pb::RepairOrder, tonic::Status> {
    let version = client.get_repair_order(pb::GetRepairOrderRequest { name: order.into() }).await?.into_inner().version;
    client
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: order.into(),
            version,
            action: pb::RepairOrderAction::Complete as i32,
            progress: Some(pb::WorkProgress { actual_completion_date: "2027-02-18".into(), ..Default::default() }),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner())
}

/// The coordinator's REPAIR_EXCEPTION_* events about `order`, as (kind, exception name), read until quiet.
async fn exception_events(ex: &TestExchange, order: &str) -> anyhow::Result<Vec<(i32, String)>> {
    let mut stream = ex.feed(party::COORDINATOR).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    let mut out = Vec::new();
    while let Ok(next) = tokio::time::timeout(Duration::from_millis(400), stream.message()).await {
        let Some(e) = next? else { break };
        if let Some(x) = e.repair_exception.as_ref().filter(|x| x.repair_order == order) {
            out.push((e.kind, x.name.clone()));
        }
    }
    Ok(out)
}

#[tokio::test]
async fn a_node_queues_an_exception_while_the_link_is_cut_and_refuses_to_complete_while_one_is_open()
-> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let order = in_work_with_mhi(&ex).await?;
    let proxy = LinkProxy::start(ex.addr(), 23).await?;
    let node = ex.start_node_via(party::MHI, proxy.addr).await?;
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let mut local_exceptions = Exceptions::new(ex.node_channel(&node).await?);
    let mut direct = ex.exchange(party::MHI).await?;
    let mut direct_exceptions = Exceptions::new(ex.channel(party::MHI).await?);

    // Raised straight at the coordinator: the node learns it from the feed,
    // and refuses COMPLETE as the coordinator does, with the same words.
    let first = direct_exceptions.raise_exception(raise(&order.name, pb::RepairExceptionKind::Scrap, "")).await?;
    assert_eq!(first.get_ref().name, format!("{}/exceptions/1", order.name));
    settle(&ex, &node).await?;
    let at_node = refusal(complete(&mut local, &order.name).await);
    assert_eq!(at_node.0, tonic::Code::FailedPrecondition, "{at_node:?}");
    assert!(at_node.1.contains("exceptions/1"), "{at_node:?}");
    assert_eq!(at_node, refusal(complete(&mut direct, &order.name).await));
    assert_eq!(node.status().await?.queued_writes, 0, "a refused step is not queued");

    proxy.down();
    // A bad field is refused at the node as the coordinator refuses it.
    let mut bad = raise(&order.name, pb::RepairExceptionKind::CostOverEstimate, "bad-raise");
    bad.new_estimate = Some(usd(-5));
    let at_node = refusal(local_exceptions.raise_exception(bad.clone()).await);
    assert_eq!(at_node.0, tonic::Code::InvalidArgument);
    assert!(at_node.1.contains("new_estimate"), "{at_node:?}");
    assert_eq!(at_node, refusal(direct_exceptions.raise_exception(bad).await));

    // Cut off, the provider raises a second one at its node: answered once
    // it is queued, named as the coordinator will number it.
    let second = raise(&order.name, pb::RepairExceptionKind::CostOverEstimate, "raise-at-node");
    let raised = local_exceptions.raise_exception(second.clone()).await?.into_inner();
    assert_eq!(raised.name, format!("{}/exceptions/2", order.name));
    assert_eq!(raised.state(), pb::RepairExceptionState::Open);
    assert_eq!(
        local_exceptions.raise_exception(second.clone()).await?.into_inner(),
        raised,
        "a repeat is answered alike"
    );
    let status = node.status().await?;
    assert_eq!(status.queued_writes, 1, "{status:?}");
    // The order moved one version at the node, and shows it pending.
    let pending = local.get_repair_order(pb::GetRepairOrderRequest { name: order.name.clone() }).await?.into_inner();
    assert_eq!((pending.version, sync_state(&pending)), (order.version + 2, pb::SyncState::Pending));
    // COMPLETE is still refused at the node, cut off.
    assert_eq!(refusal(complete(&mut local, &order.name).await).0, tonic::Code::FailedPrecondition);
    // Reads of exceptions pass through: UNAVAILABLE while the link is cut.
    let listed = local_exceptions
        .list_exceptions(pb::ListExceptionsRequest { parent: order.name.clone(), ..Default::default() })
        .await;
    assert_eq!(listed.unwrap_err().code(), tonic::Code::Unavailable);

    proxy.up();
    let status = settle(&ex, &node).await?;
    assert_eq!((status.rejected_writes, status.queued_writes), (0, 0), "{status:?}");
    // At the coordinator: exactly one more exception, the node's, once.
    let there = direct_exceptions
        .list_exceptions(pb::ListExceptionsRequest { parent: order.name.clone(), ..Default::default() })
        .await?
        .into_inner()
        .exceptions;
    assert_eq!(there.len(), 2, "{there:?}");
    assert_eq!((there[1].name.as_str(), there[1].kind), (raised.name.as_str(), raised.kind));
    let raised_kind = pb::EventKind::RepairExceptionRaised as i32;
    let events = exception_events(&ex, &order.name).await?;
    assert_eq!(
        events,
        vec![(raised_kind, first.get_ref().name.clone()), (raised_kind, raised.name.clone())],
        "each raise once"
    );
    let synced = local.get_repair_order(pb::GetRepairOrderRequest { name: order.name.clone() }).await?.into_inner();
    assert_eq!((synced.version, sync_state(&synced)), (order.version + 2, pb::SyncState::Synced));
    Ok(())
}

#[tokio::test]
async fn an_exception_answer_the_coordinator_refuses_later_is_kept_as_a_rejected_write() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let order = in_work_with_mhi(&ex).await?;
    let raised = Exceptions::new(ex.channel(party::MHI).await?)
        .raise_exception(raise(&order.name, pb::RepairExceptionKind::CostOverEstimate, ""))
        .await?
        .into_inner();
    let proxy = LinkProxy::start(ex.addr(), 29).await?;
    let node = ex.start_node_via(party::USAF, proxy.addr).await?;
    settle(&ex, &node).await?;
    let mut local = Exceptions::new(ex.node_channel(&node).await?);

    proxy.down();
    // The owner approves at its node, cut off; the node accepts (and would
    // refuse a second answer to the same exception itself).
    let approve = |request_id: &str| pb::AnswerExceptionRequest {
        name: raised.name.clone(),
        decision: pb::answer_exception_request::Decision::Approve as i32,
        reason: String::new(),
        request_id: request_id.into(),
    };
    let approved = local.answer_exception(approve("approve-at-node")).await?.into_inner();
    assert_eq!(approved.state(), pb::RepairExceptionState::Approved);
    let twice = refusal(local.answer_exception(approve("approve-again")).await);
    assert_eq!(twice.0, tonic::Code::FailedPrecondition, "{twice:?}");
    // Meanwhile the owner's other system rejects it straight at the coordinator.
    Exceptions::new(ex.channel(party::USAF).await?)
        .answer_exception(pb::AnswerExceptionRequest {
            name: raised.name.clone(),
            decision: pb::answer_exception_request::Decision::Reject as i32,
            reason: "not at that price".into(),
            request_id: "reject-direct".into(),
        })
        .await?;

    proxy.up();
    let status = settle(&ex, &node).await?;
    assert_eq!(status.rejected_writes, 1, "{status:?}");
    let rejected = ex.rejected_writes(&node).await?;
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(
        (rejected[0].method.as_str(), rejected[0].request_id.as_str(), rejected[0].error_code.as_str()),
        ("AnswerException", "approve-at-node", "FAILED_PRECONDITION")
    );
    assert!(rejected[0].error_message.contains("REJECTED"), "{rejected:?}");
    // The order shows the refusal, in the coordinator's version.
    let mut exchange = Exchange::new(ex.node_channel(&node).await?);
    let at_node = exchange.get_repair_order(pb::GetRepairOrderRequest { name: order.name.clone() }).await?.into_inner();
    let sync = at_node.sync.clone().unwrap_or_default();
    assert_eq!((sync.state(), sync.rejected_request_id.as_str()), (pb::SyncState::Rejected, "approve-at-node"));
    let there =
        ex.exchange(party::USAF).await?.get_repair_order(pb::GetRepairOrderRequest { name: order.name }).await?;
    assert_eq!(at_node.version, there.get_ref().version);
    // At the coordinator the exception stays rejected: the node's approval never landed.
    let events = exception_events(&ex, &raised.repair_order).await?;
    let kinds: Vec<i32> = events.iter().map(|e| e.0).collect();
    assert_eq!(kinds, vec![pb::EventKind::RepairExceptionRaised as i32, pb::EventKind::RepairExceptionRejected as i32]);
    Ok(())
}

#[tokio::test]
async fn a_node_restarted_after_forgetting_delivered_writes_still_delivers_what_was_queued() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let proxy = LinkProxy::start(ex.addr(), 31).await?;
    let mut config = ex.node_config(party::USAF, proxy.addr)?;
    config.outbox_retention = Duration::from_secs(1);
    let mut node = ex.start_node_from(party::USAF, config).await?;
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let delivered = create(&mut local, "delivered-then-forgotten".into()).await?;
    settle(&ex, &node).await?;

    proxy.down();
    let queued = create(&mut local, "queued-across-the-restart".into()).await?;
    // The delivered write is forgotten; the queued one is not, however old.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = node.status().await?;
        if status.delivered_writes == 0 {
            assert_eq!(status.queued_writes, 1, "{status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the delivered write was never forgotten: {status:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(node.status().await?.queued_writes, 1, "a queued write outlives the retention");

    node.restart().await?;
    let status = node.status().await?;
    assert_eq!((status.queued_writes, status.delivered_writes), (1, 0), "{status:?}");
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let kept = local.get_repair_order(pb::GetRepairOrderRequest { name: queued.name.clone() }).await?.into_inner();
    assert_eq!(sync_state(&kept), pb::SyncState::Pending);
    // Its request id is still the node's to answer (it keeps a queued write's answer).
    assert_eq!(create(&mut local, "queued-across-the-restart".into()).await?.name, queued.name);

    proxy.up();
    let status = settle(&ex, &node).await?;
    assert_eq!(status.rejected_writes, 0, "{status:?}");
    let mut coordinator = ex.exchange(party::USAF).await?;
    let names: Vec<String> = all_orders(&mut coordinator, party::USAF).await?.into_iter().map(|o| o.name).collect();
    assert_eq!(names, vec![delivered.name, queued.name], "each once");
    Ok(())
}
