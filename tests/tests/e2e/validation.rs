//! Bad input gets INVALID_ARGUMENT naming each bad field, and changes nothing.

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, availability_report, capacity_offer, party, repair_order, violated_fields};
use tonic::Code;

async fn coordinator_sees_nothing(ex: &TestExchange) -> anyhow::Result<()> {
    let mut c = ex.exchange(party::COORDINATOR).await?;
    assert!(c.list_repair_orders(pb::ListRepairOrdersRequest::default()).await?.into_inner().repair_orders.is_empty());
    assert!(
        c.list_capacity_offers(pb::ListCapacityOffersRequest::default()).await?.into_inner().capacity_offers.is_empty()
    );
    assert!(
        c.list_availability_reports(pb::ListAvailabilityReportsRequest::default())
            .await?
            .into_inner()
            .availability_reports
            .is_empty()
    );
    let mut feed = ex.feed(party::COORDINATOR).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    // Only the parties registered from the configuration are in the log.
    for _ in 0..cosx_tests::PARTIES.len() {
        let e = feed.message().await?.ok_or_else(|| anyhow::anyhow!("feed ended"))?;
        assert_eq!(e.kind, pb::EventKind::PartyRegistered as i32);
    }
    let next = tokio::time::timeout(std::time::Duration::from_millis(300), feed.message()).await;
    assert!(next.is_err(), "an event was logged for a refused request: {next:?}");
    Ok(())
}

type Mutation = (&'static str, fn(&mut pb::RepairOrder));

#[tokio::test]
async fn each_bad_repair_order_field_is_named_and_nothing_is_stored() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let cases: Vec<Mutation> = vec![
        ("repair_order.item.nsn", |o| o.item.as_mut().into_iter().for_each(|i| i.nsn = "2840-1-602-2317".into())),
        ("repair_order.location.nation", |o| o.location.as_mut().into_iter().for_each(|s| s.nation = "JP".into())),
        ("repair_order.required_by", |o| o.required_by = "2027-02-30".into()),
        ("repair_order.quantity", |o| o.quantity = 0),
        ("repair_order.estimated_labor_hours", |o| o.estimated_labor_hours = -5.0),
        ("repair_order.maintenance_level", |o| o.maintenance_level = 42),
        ("repair_order.repair_type", |o| o.repair_type = 0),
        ("repair_order.priority", |o| o.priority = 16),
        ("repair_order.item.nomenclature", |o| {
            o.item.as_mut().into_iter().for_each(|i| i.nomenclature = "X".repeat(300))
        }),
        ("repair_order.location.latitude", |o| o.location.as_mut().into_iter().for_each(|s| s.latitude = 91.0)),
        ("repair_order.controls.releasability.nations[0]", |o| {
            o.controls = Some(pb::Controls {
                releasability: Some(pb::Releasability { nations: vec!["ZZZ".into()], party_ids: vec![] }),
                ..Default::default()
            })
        }),
        ("repair_order.funding.estimated_cost", |o| {
            o.funding
                .as_mut()
                .into_iter()
                .for_each(|f| f.estimated_cost = Some(pb::Money { currency_code: "usd".into(), amount_minor: 1 }))
        }),
        ("repair_order.tms", |o| o.tms = String::new()),
    ];
    for (field, mutate) in cases {
        let mut order = repair_order(party::USAF);
        mutate(&mut order);
        let status = usaf
            .create_repair_order(pb::CreateRepairOrderRequest {
                repair_order: Some(order),
                request_id: format!("bad-{field}"),
                ..Default::default()
            })
            .await
            .expect_err(field);
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert!(violated_fields(&status).iter().any(|f| f == field), "{field} not in {:?}", violated_fields(&status));
        assert!(status.message().contains(field), "{}", status.message());
    }
    coordinator_sees_nothing(&ex).await
}

#[tokio::test]
async fn all_mistakes_of_one_request_are_reported_together() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut order = repair_order(party::USAF);
    order.quantity = 0;
    order.required_by = "tomorrow".into();
    if let Some(i) = order.item.as_mut() {
        i.nsn = "12".into();
    }
    let status = ex
        .exchange(party::USAF)
        .await?
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(order),
            request_id: String::new(),
            ..Default::default()
        })
        .await
        .expect_err("accepted");
    let fields = violated_fields(&status);
    for f in ["repair_order.quantity", "repair_order.required_by", "repair_order.item.nsn"] {
        assert!(fields.iter().any(|x| x == f), "{f} missing from {fields:?}");
    }
    Ok(())
}

#[tokio::test]
async fn bad_offers_and_reports_name_their_fields() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut mhi = ex.exchange(party::MHI).await?;
    let mut offer = capacity_offer(party::MHI);
    offer.periods[0].end_date = "2026-12-01".into();
    offer.periods[0].capacity = f64::NAN;
    offer.capabilities[0].repair_types = vec![99];
    let status = mhi
        .create_capacity_offer(pb::CreateCapacityOfferRequest {
            capacity_offer: Some(offer),
            request_id: "o".into(),
            ..Default::default()
        })
        .await
        .expect_err("accepted");
    let fields = violated_fields(&status);
    for f in [
        "capacity_offer.periods[0].end_date",
        "capacity_offer.periods[0].capacity",
        "capacity_offer.capabilities[0].repair_types[0]",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} missing from {fields:?}");
    }

    let mut usaf = ex.exchange(party::USAF).await?;
    // 24 aircraft × 31 days = 744 possible days; 800 available days is impossible.
    let mut report = availability_report(party::USAF);
    if let Some(t) = report.tai_time.as_mut() {
        t.available = 800.0;
    }
    let status = usaf
        .submit_availability_report(pb::SubmitAvailabilityReportRequest {
            availability_report: Some(report),
            request_id: "r1".into(),
            ..Default::default()
        })
        .await
        .expect_err("accepted");
    assert!(violated_fields(&status).iter().any(|f| f == "availability_report.tai_time.available"), "{status:?}");

    // TAI = PAI + BAI + PWR + AR must hold when the parts are given.
    let mut report = availability_report(party::USAF);
    if let Some(i) = report.inventory.as_mut() {
        i.bai = Some(5);
    }
    let status = usaf
        .submit_availability_report(pb::SubmitAvailabilityReportRequest {
            availability_report: Some(report),
            request_id: "r2".into(),
            ..Default::default()
        })
        .await
        .expect_err("accepted");
    assert!(violated_fields(&status).iter().any(|f| f == "availability_report.inventory.tai"), "{status:?}");

    // Hours: 24 aircraft × 31 days × 24 h = 17,856 possible hours.
    let mut report = availability_report(party::USAF);
    report.time_unit = pb::TimeUnit::Hours as i32;
    report.tai_time = Some(pb::TimeByCategory { available: 17_000.0, nmcm: 900.0, ..Default::default() });
    report.pmai_time = None;
    let status = usaf
        .submit_availability_report(pb::SubmitAvailabilityReportRequest {
            availability_report: Some(report),
            request_id: "r3".into(),
            ..Default::default()
        })
        .await
        .expect_err("accepted");
    assert!(violated_fields(&status).iter().any(|f| f == "availability_report.tai_time"), "{status:?}");
    coordinator_sees_nothing(&ex).await
}
