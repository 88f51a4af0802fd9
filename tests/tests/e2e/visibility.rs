//! Who sees what: a third party cannot see an order between two others by
//! get, list, history or feed; contractors see their own proposed orders only.

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, repair_order};
use tonic::Code;

#[tokio::test]
async fn a_third_party_cannot_see_an_order_between_two_others() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let order = ex.create_order(party::USAF, repair_order(party::USAF)).await?;
    ex.propose(&order, party::MHI).await?;

    let mut kai = ex.exchange(party::KAI).await?;
    let get =
        kai.get_repair_order(pb::GetRepairOrderRequest { name: order.name.clone() }).await.expect_err("seen by get");
    assert_eq!(get.code(), Code::NotFound);
    let history = kai
        .get_repair_order_history(pb::GetRepairOrderHistoryRequest { name: order.name.clone() })
        .await
        .expect_err("seen");
    assert_eq!(history.code(), Code::NotFound);
    // Not found, exactly as for an order that does not exist.
    let missing = kai
        .get_repair_order(pb::GetRepairOrderRequest { name: "repairOrders/0000000000000000".into() })
        .await
        .expect_err("?");
    assert_eq!(missing.code(), get.code());
    let listed = kai.list_repair_orders(pb::ListRepairOrdersRequest::default()).await?.into_inner();
    assert!(listed.repair_orders.is_empty());
    let by_filter = kai
        .list_repair_orders(pb::ListRepairOrdersRequest { originator: party::USAF.into(), ..Default::default() })
        .await?
        .into_inner();
    assert!(by_filter.repair_orders.is_empty());
    assert!(ex.feed_order_names(party::KAI).await?.is_empty());

    // The provider it was proposed to sees it from the proposal on; the owner and coordinator see all.
    let mhi_sees = ex.feed_order_names(party::MHI).await?;
    assert_eq!(mhi_sees, vec![order.name.clone()]);
    assert_eq!(ex.feed_order_names(party::USAF).await?.len(), 2);
    assert_eq!(ex.feed_order_names(party::COORDINATOR).await?.len(), 2);
    let mhi_list =
        ex.exchange(party::MHI).await?.list_repair_orders(pb::ListRepairOrdersRequest::default()).await?.into_inner();
    assert_eq!(mhi_list.repair_orders.len(), 1);
    Ok(())
}

#[tokio::test]
async fn releasability_grants_sight_to_named_nations_and_parties_only() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut order = repair_order(party::USAF);
    order.controls = Some(pb::Controls {
        releasability: Some(pb::Releasability { nations: vec!["AUS".into()], party_ids: vec![party::KAI.into()] }),
        ..Default::default()
    });
    let order = ex.create_order(party::USAF, order).await?;
    for (who, sees) in [(party::RAAF, true), (party::KAI, true), (party::MHI, false)] {
        let got =
            ex.exchange(who).await?.get_repair_order(pb::GetRepairOrderRequest { name: order.name.clone() }).await;
        assert_eq!(got.is_ok(), sees, "{who}");
        assert_eq!(ex.feed_order_names(who).await?.len(), usize::from(sees), "{who}");
    }
    Ok(())
}
