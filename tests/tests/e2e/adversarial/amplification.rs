//! Amplification: one small request must not make the exchange do (or
//! store, or send) far more than it. Every list in a request is bounded by
//! a documented domain limit (`cosx_domain::limits`), and no accepted write
//! can produce an event a subscriber cannot receive.

use cosx_domain::limits::{MAX_LIST, MAX_OFFER_VALIDITY_DAYS, MAX_SPLIT_PARTS};
use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, capacity_offer, party, repair_order, violated_fields};
use tonic::Code;

use super::{create_order, log_head};

#[tokio::test]
async fn a_split_into_thousands_of_parts_is_refused_and_changes_nothing() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut order = repair_order(party::USAF);
    order.quantity = 16_000;
    let order = create_order(&ex, party::USAF, "", order).await?;
    let head = log_head(&ex).await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    for parts in [16_000_usize, MAX_SPLIT_PARTS + 1] {
        let mut quantities = vec![1_u32; parts];
        quantities[0] += 16_000 - parts as u32;
        let refused = usaf
            .split_repair_order(pb::SplitRepairOrderRequest {
                name: order.name.clone(),
                version: order.version,
                quantities,
                request_id: String::new(),
            })
            .await
            .expect_err("split accepted");
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert_eq!(violated_fields(&refused), vec!["quantities".to_owned()]);
    }
    assert_eq!(log_head(&ex).await?, head, "a refused split wrote nothing");
    // The largest split allowed goes through, and its one event reaches subscribers.
    let mut quantities = vec![1_u32; MAX_SPLIT_PARTS];
    quantities[0] += 16_000 - MAX_SPLIT_PARTS as u32;
    let split = usaf
        .split_repair_order(pb::SplitRepairOrderRequest {
            name: order.name.clone(),
            version: order.version,
            quantities,
            request_id: String::new(),
        })
        .await?
        .into_inner();
    assert_eq!(split.parts.len(), MAX_SPLIT_PARTS);
    assert!(log_head(&ex).await? > head, "the feed still delivers, split included");
    Ok(())
}

#[tokio::test]
async fn an_offer_cannot_stretch_over_decades_or_past_its_own_validity() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut mhi = ex.exchange(party::MHI).await?;
    let create = |offer: pb::CapacityOffer| pb::CreateCapacityOfferRequest {
        capacity_offer: Some(offer),
        request_id: String::new(),
        capacity_offer_id: String::new(),
    };
    let mut century = capacity_offer(party::MHI);
    century.valid_from = "2027-01-01".into();
    century.valid_until = "2099-12-31".into();
    century.periods[0].end_date = "2099-12-31".into();
    let refused = mhi.create_capacity_offer(create(century)).await.expect_err("a century-long offer");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(violated_fields(&refused).contains(&"capacity_offer.valid_until".to_owned()), "{refused:?}");
    assert!(refused.message().contains(&MAX_OFFER_VALIDITY_DAYS.to_string()), "{}", refused.message());

    let mut outside = capacity_offer(party::MHI);
    outside.periods[0].start_date = "2000-01-01".into();
    let refused = mhi.create_capacity_offer(create(outside)).await.expect_err("a period before the offer");
    assert_eq!(violated_fields(&refused), vec!["capacity_offer.periods[0].start_date".to_owned()]);

    let mut long_lists = capacity_offer(party::MHI);
    long_lists.certifications = vec!["AS9110".into(); MAX_LIST + 1];
    let refused = mhi.create_capacity_offer(create(long_lists)).await.expect_err("too many certifications");
    assert_eq!(violated_fields(&refused), vec!["capacity_offer.certifications".to_owned()]);

    // The same limits hold on update.
    let offer = mhi.create_capacity_offer(create(capacity_offer(party::MHI))).await?.into_inner();
    let mut longer = offer.clone();
    longer.valid_until = "2099-12-31".into();
    let refused = mhi
        .update_capacity_offer(pb::UpdateCapacityOfferRequest {
            capacity_offer: Some(longer),
            request_id: String::new(),
        })
        .await
        .expect_err("an update past the limit");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    Ok(())
}
