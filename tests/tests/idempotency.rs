//! The same request_id stores one record: concurrently, and after a restart.

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, repair_order};
use tonic::Code;

async fn count_orders(ex: &TestExchange) -> anyhow::Result<usize> {
    Ok(ex
        .exchange(party::COORDINATOR)
        .await?
        .list_repair_orders(pb::ListRepairOrdersRequest { page_size: 1000, ..Default::default() })
        .await?
        .into_inner()
        .repair_orders
        .len())
}

#[tokio::test]
async fn the_same_request_id_sent_concurrently_stores_one_record() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let client = ex.exchange(party::USAF).await?;
    let calls = (0..16).map(|_| {
        let mut c = client.clone();
        async move {
            c.create_repair_order(pb::CreateRepairOrderRequest {
                repair_order: Some(repair_order(party::USAF)),
                request_id: "same".into(),
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner())
        }
    });
    let results = futures::future::join_all(calls).await;
    let names: std::collections::BTreeSet<String> =
        results.into_iter().map(|r| r.map(|o| o.name)).collect::<Result<_, _>>()?;
    assert_eq!(names.len(), 1, "{names:?}");
    assert_eq!(count_orders(&ex).await?, 1);
    Ok(())
}

#[tokio::test]
async fn a_repeat_after_restart_returns_the_first_result_and_stores_nothing() -> anyhow::Result<()> {
    let mut ex = TestExchange::start().await?;
    let request = pb::CreateRepairOrderRequest {
        repair_order: Some(repair_order(party::USAF)),
        request_id: "erp-0001".into(),
        ..Default::default()
    };
    let first = ex.exchange(party::USAF).await?.create_repair_order(request.clone()).await?.into_inner();
    ex.restart().await?;
    let again = ex.exchange(party::USAF).await?.create_repair_order(request).await?.into_inner();
    assert_eq!(first, again);
    assert_eq!(count_orders(&ex).await?, 1);
    Ok(())
}

#[tokio::test]
async fn the_same_request_id_with_another_payload_is_refused_not_overwritten() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let first = usaf
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(repair_order(party::USAF)),
            request_id: "k".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let mut other = repair_order(party::USAF);
    other.quantity = 9;
    let status = usaf
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(other),
            request_id: "k".into(),
            ..Default::default()
        })
        .await
        .expect_err("overwrote");
    assert_eq!(status.code(), Code::AlreadyExists);
    let stored = usaf.get_repair_order(pb::GetRepairOrderRequest { name: first.name.clone() }).await?.into_inner();
    assert_eq!(stored.quantity, 4);
    assert_eq!(count_orders(&ex).await?, 1);
    Ok(())
}

#[tokio::test]
async fn request_ids_are_per_party() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let mut mhi = ex.exchange(party::MHI).await?;
    usaf.create_repair_order(pb::CreateRepairOrderRequest {
        repair_order: Some(repair_order(party::USAF)),
        request_id: "1".into(),
        ..Default::default()
    })
    .await?;
    mhi.create_repair_order(pb::CreateRepairOrderRequest {
        repair_order: Some(repair_order(party::MHI)),
        request_id: "1".into(),
        ..Default::default()
    })
    .await?;
    assert_eq!(count_orders(&ex).await?, 2);
    Ok(())
}
