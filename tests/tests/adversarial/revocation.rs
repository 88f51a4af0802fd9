//! Revocation and suspension: a party cut off must stop writing at once,
//! on streams it already holds open as much as on new calls.

use std::time::Duration;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, repair_order};
use tonic::Code;

#[tokio::test]
async fn a_suspended_partys_open_ingest_stream_writes_nothing_more() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::IngestRequest>(4);
    let record = |n: u32| pb::IngestRequest {
        request_id: format!("erp-{n}"),
        record: Some(pb::ingest_request::Record::RepairOrder(repair_order(party::KAI))),
        ..Default::default()
    };
    let mut results =
        ex.exchange(party::KAI).await?.ingest(tokio_stream::wrappers::ReceiverStream::new(rx)).await?.into_inner();
    tx.send(record(1)).await?;
    let first = results.message().await?.ok_or_else(|| anyhow::anyhow!("no answer"))?;
    assert_eq!(first.code, 0, "{first:?}");

    ex.registry(party::COORDINATOR)
        .await?
        .suspend_party(pb::SuspendPartyRequest { name: format!("parties/{}", party::KAI), ..Default::default() })
        .await?;
    tx.send(record(2)).await?;
    let second = tokio::time::timeout(Duration::from_secs(5), results.message()).await?;
    match second {
        Ok(Some(r)) => assert_eq!(r.code, Code::PermissionDenied as i32, "{r:?}"),
        Ok(None) => {}
        Err(status) => assert_eq!(status.code(), Code::PermissionDenied, "{status:?}"),
    }
    // Only the first record is stored.
    let listed = ex
        .exchange(party::COORDINATOR)
        .await?
        .list_repair_orders(pb::ListRepairOrdersRequest { originator: party::KAI.into(), ..Default::default() })
        .await?
        .into_inner();
    assert_eq!(listed.repair_orders.len(), 1, "{listed:?}");
    Ok(())
}
