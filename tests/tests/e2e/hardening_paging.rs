//! Paging never skips records written by one commit: the parts of a split
//! share their position in the log, and a page boundary must not fall
//! between them. (Found by the SIGKILL loop in `server/tests/process/crash.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, repair_order};

#[tokio::test]
async fn every_page_size_lists_each_split_part_exactly_once() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut exchange = ex.exchange(party::USAF).await?;
    let mut expected = BTreeSet::new();
    for i in 0..2 {
        let order = exchange
            .create_repair_order(pb::CreateRepairOrderRequest {
                repair_order: Some(repair_order(party::USAF)),
                request_id: format!("o-{i}"),
                ..Default::default()
            })
            .await?
            .into_inner();
        let split = exchange
            .split_repair_order(pb::SplitRepairOrderRequest {
                name: order.name.clone(),
                version: order.version,
                quantities: vec![1, 1, 2],
                request_id: format!("s-{i}"),
            })
            .await?
            .into_inner();
        expected.insert(order.name);
        expected.extend(split.parts.into_iter().map(|p| p.name));
    }
    for page_size in 1..=9 {
        let (mut seen, mut token, mut pages) = (Vec::new(), String::new(), 0);
        loop {
            let page = exchange
                .list_repair_orders(pb::ListRepairOrdersRequest { page_size, page_token: token, ..Default::default() })
                .await?
                .into_inner();
            pages += 1;
            assert!(pages < 20, "page size {page_size}: paging does not end");
            seen.extend(page.repair_orders.into_iter().map(|o| o.name));
            token = page.next_page_token;
            if token.is_empty() {
                break;
            }
        }
        let unique: BTreeSet<_> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "page size {page_size}: an order listed twice");
        assert_eq!(unique, expected, "page size {page_size}");
    }
    Ok(())
}
