//! The adversarial suite: each test plays one attack an untrusted party (or
//! anyone holding a certificate from the exchange CA) could make, over real
//! mutual TLS against a real coordinator, and checks that it does no harm.
//! One module per attack class; SECURITY.md names the test that holds each
//! guarantee.

mod amplification;
mod exhaustion;
mod identity;
mod revocation;
mod visibility;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, repair_order};

/// Creates an order as `owner` with the id it chose (empty: a fresh one).
async fn create_order(
    ex: &TestExchange,
    owner: &str,
    id: &str,
    order: pb::RepairOrder,
) -> anyhow::Result<pb::RepairOrder> {
    Ok(ex
        .exchange(owner)
        .await?
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(order),
            request_id: String::new(),
            repair_order_id: id.into(),
        })
        .await?
        .into_inner())
}

/// A USAF order with the kit's defaults.
async fn usaf_order(ex: &TestExchange) -> anyhow::Result<pb::RepairOrder> {
    create_order(ex, party::USAF, "", repair_order(party::USAF)).await
}

/// The log head as the coordinator sees it: the last event's sequence.
async fn log_head(ex: &TestExchange) -> anyhow::Result<i64> {
    use std::time::Duration;
    let mut stream = ex.feed(party::COORDINATOR).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    let mut last = 0;
    while let Ok(next) = tokio::time::timeout(Duration::from_millis(300), stream.message()).await {
        let Some(event) = next? else { break };
        last = last.max(event.sequence);
    }
    Ok(last)
}
