//! The same request_id stores one record: concurrently, and after a restart;
//! and a record id the caller chose is theirs once, whatever else they send.

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, availability_report, party, repair_order};
use tonic::Code;

async fn count_orders(ex: &TestExchange) -> anyhow::Result<usize> {
    Ok(ex.listed_orders(party::COORDINATOR).await?.len())
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

#[tokio::test]
async fn a_chosen_record_id_is_replayed_to_its_request_and_refused_to_any_other() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let request = pb::CreateRepairOrderRequest {
        repair_order: Some(repair_order(party::USAF)),
        request_id: "erp-7".into(),
        repair_order_id: "ro-chosen-7".into(),
    };
    let first = usaf.create_repair_order(request.clone()).await?.into_inner();
    // A chosen id lives in the caller's own namespace.
    assert_eq!(first.name, format!("repairOrders/{}.ro-chosen-7", party::USAF));
    // The same request again: the first answer, nothing new stored.
    let again = usaf.create_repair_order(request.clone()).await?.into_inner();
    assert_eq!(first, again);
    // Another request (or none) naming the same id: ALREADY_EXISTS, naming it.
    for request_id in ["erp-8", ""] {
        let taken = usaf
            .create_repair_order(pb::CreateRepairOrderRequest { request_id: request_id.into(), ..request.clone() })
            .await
            .expect_err("a taken id was reused");
        assert_eq!(taken.code(), Code::AlreadyExists, "{taken:?}");
        assert!(taken.message().contains("ro-chosen-7"), "{}", taken.message());
    }
    assert_eq!(count_orders(&ex).await?, 1);

    // Reports read the current report first; the id is still decided at commit.
    let report = pb::SubmitAvailabilityReportRequest {
        availability_report: Some(availability_report(party::USAF)),
        request_id: "rep-1".into(),
        availability_report_id: "ar-chosen-1".into(),
    };
    let first = usaf.submit_availability_report(report.clone()).await?.into_inner();
    let again = usaf.submit_availability_report(report.clone()).await?.into_inner();
    assert_eq!(first, again);
    let taken = usaf
        .submit_availability_report(pb::SubmitAvailabilityReportRequest { request_id: "rep-2".into(), ..report })
        .await
        .expect_err("a taken id was reused");
    assert_eq!(taken.code(), Code::AlreadyExists, "{taken:?}");
    let current =
        usaf.get_availability_report(pb::GetAvailabilityReportRequest { name: first.name.clone() }).await?.into_inner();
    assert_eq!(current.version, 1, "the refused report superseded the first");
    Ok(())
}
