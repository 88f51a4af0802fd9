//! A registered party with a valid certificate submits, gets and lists each
//! record kind; health answers SERVING; reflection lists the cosx.v1 services.

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, availability_report, capacity_offer, party, repair_order};

#[tokio::test]
async fn a_party_submits_gets_and_lists_each_record_kind() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let mut mhi = ex.exchange(party::MHI).await?;

    let order = usaf
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(repair_order(party::USAF)),
            request_id: "ro-1".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert!(order.name.starts_with("repairOrders/"));
    assert_eq!(order.state, pb::RepairOrderState::Submitted as i32);
    assert_eq!(order.version, 1);
    assert_eq!(order.item.as_ref().map(|i| i.nsn.as_str()), Some("2840-01-602-2317"));
    let got = usaf.get_repair_order(pb::GetRepairOrderRequest { name: order.name.clone() }).await?.into_inner();
    assert_eq!(got, order);
    let listed = usaf.list_repair_orders(pb::ListRepairOrdersRequest::default()).await?.into_inner();
    assert_eq!(listed.repair_orders, vec![order.clone()]);

    let offer = mhi
        .create_capacity_offer(pb::CreateCapacityOfferRequest {
            capacity_offer: Some(capacity_offer(party::MHI)),
            request_id: "co-1".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(offer.state, pb::CapacityOfferState::Active as i32);
    assert_eq!(
        mhi.get_capacity_offer(pb::GetCapacityOfferRequest { name: offer.name.clone() }).await?.into_inner(),
        offer
    );
    let offers = mhi.list_capacity_offers(pb::ListCapacityOffersRequest::default()).await?.into_inner();
    assert_eq!(offers.capacity_offers, vec![offer]);

    let report = usaf
        .submit_availability_report(pb::SubmitAvailabilityReportRequest {
            availability_report: Some(availability_report(party::USAF)),
            request_id: "ar-1".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(report.version, 1);
    assert_eq!(
        usaf.get_availability_report(pb::GetAvailabilityReportRequest { name: report.name.clone() })
            .await?
            .into_inner(),
        report
    );
    let reports = usaf.list_availability_reports(pb::ListAvailabilityReportsRequest::default()).await?.into_inner();
    assert_eq!(reports.availability_reports, vec![report]);
    Ok(())
}

#[tokio::test]
async fn lists_page_through_every_record_once() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    for i in 0..7 {
        usaf.create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(repair_order(party::USAF)),
            request_id: format!("p-{i}"),
            ..Default::default()
        })
        .await?;
    }
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let page = usaf
            .list_repair_orders(pb::ListRepairOrdersRequest { page_size: 3, page_token: token, ..Default::default() })
            .await?
            .into_inner();
        assert!(page.repair_orders.len() <= 3);
        names.extend(page.repair_orders.into_iter().map(|o| o.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let unique: std::collections::BTreeSet<_> = names.iter().collect();
    assert_eq!((names.len(), unique.len()), (7, 7));
    Ok(())
}

#[tokio::test]
async fn a_corrected_report_supersedes_the_first_and_both_are_kept() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let first = usaf
        .submit_availability_report(pb::SubmitAvailabilityReportRequest {
            availability_report: Some(availability_report(party::USAF)),
            request_id: "a".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let mut corrected = availability_report(party::USAF);
    if let Some(t) = corrected.tai_time.as_mut() {
        t.available = 500.0;
        t.upnr = 32.0;
    }
    let second = usaf
        .submit_availability_report(pb::SubmitAvailabilityReportRequest {
            availability_report: Some(corrected),
            request_id: "b".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!((second.version, second.supersedes.as_str()), (2, first.name.as_str()));
    let current = usaf.list_availability_reports(pb::ListAvailabilityReportsRequest::default()).await?.into_inner();
    assert_eq!(current.availability_reports, vec![second.clone()]);
    let all = usaf
        .list_availability_reports(pb::ListAvailabilityReportsRequest {
            include_superseded: true,
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(all.availability_reports.len(), 2);
    Ok(())
}

#[tokio::test]
async fn health_answers_serving_and_reflection_lists_the_services() -> anyhow::Result<()> {
    use tokio_stream::StreamExt;
    let ex = TestExchange::start().await?;
    let channel = ex.channel(party::KAI).await?;
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    for service in ["", "cosx.v1.Exchange", "cosx.v1.Registry", "cosx.v1.Feed"] {
        let answer = health.check(tonic_health::pb::HealthCheckRequest { service: service.into() }).await?.into_inner();
        assert_eq!(answer.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32, "{service}");
    }

    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let mut reflection = ServerReflectionClient::new(channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = reflection.server_reflection_info(tokio_stream::iter(vec![request])).await?.into_inner();
    let response = stream.next().await.ok_or_else(|| anyhow::anyhow!("no reflection answer"))??;
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        anyhow::bail!("unexpected reflection answer");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in ["cosx.v1.Exchange", "cosx.v1.Registry", "cosx.v1.Feed", "grpc.health.v1.Health"] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }

    // Older clients speak only v1alpha.
    use tonic_reflection::pb::v1alpha as alpha;
    let mut old = alpha::server_reflection_client::ServerReflectionClient::new(channel);
    let request = alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(alpha::server_reflection_request::MessageRequest::FileContainingSymbol(
            "cosx.v1.Exchange".into(),
        )),
    };
    let mut stream = old.server_reflection_info(tokio_stream::iter(vec![request])).await?.into_inner();
    let response = stream.next().await.ok_or_else(|| anyhow::anyhow!("no v1alpha answer"))??;
    assert!(matches!(
        response.message_response,
        Some(alpha::server_reflection_response::MessageResponse::FileDescriptorResponse(_))
    ));
    Ok(())
}

/// Submits `report` as a new request and returns (version, supersedes, name).
async fn submit(
    usaf: &mut pb::exchange_client::ExchangeClient<tonic::transport::Channel>,
    request_id: &str,
    available: f64,
) -> anyhow::Result<(i64, String, String)> {
    let mut report = availability_report(party::USAF);
    if let Some(t) = report.tai_time.as_mut() {
        t.upnr += t.available - available;
        t.available = available;
    }
    let r = usaf
        .submit_availability_report(pb::SubmitAvailabilityReportRequest {
            availability_report: Some(report),
            request_id: request_id.into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok((r.version, r.supersedes, r.name))
}

#[tokio::test]
async fn a_report_after_a_restart_still_supersedes_the_current_one() -> anyhow::Result<()> {
    let mut ex = TestExchange::start().await?;
    let (_, _, first) = submit(&mut ex.exchange(party::USAF).await?, "a", 520.0).await?;
    // The restarted coordinator has no idea which report is current: the
    // store refuses its first guess (none) and it reads the current one.
    ex.restart().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let (version, supersedes, second) = submit(&mut usaf, "b", 510.0).await?;
    assert_eq!((version, supersedes.as_str()), (2, first.as_str()));
    let (version, supersedes, _) = submit(&mut usaf, "c", 500.0).await?;
    assert_eq!((version, supersedes.as_str()), (3, second.as_str()));
    Ok(())
}

#[tokio::test]
async fn a_replica_with_a_stale_guess_supersedes_the_report_that_is_really_current() -> anyhow::Result<()> {
    if cosx_tests::database::postgres_url().is_none() {
        println!("PostgreSQL skipped: {} not set", cosx_tests::database::DATABASE_URL_VAR);
        return Ok(());
    }
    let ex = TestExchange::start().await?;
    let b = ex.start_replica().await?;
    let mut at_a = ex.exchange(party::USAF).await?;
    let mut at_b = pb::exchange_client::ExchangeClient::new(ex.channel_at(b.addr, party::USAF).await?);
    let (_, _, first) = submit(&mut at_a, "a", 520.0).await?;
    let (version, supersedes, second) = submit(&mut at_b, "b", 510.0).await?;
    assert_eq!((version, supersedes.as_str()), (2, first.as_str()));
    // Replica A still remembers its own first report as current.
    let (version, supersedes, _) = submit(&mut at_a, "c", 500.0).await?;
    assert_eq!((version, supersedes.as_str()), (3, second.as_str()));
    let current = at_a.list_availability_reports(pb::ListAvailabilityReportsRequest::default()).await?.into_inner();
    assert_eq!(current.availability_reports.len(), 1);
    assert_eq!(current.availability_reports[0].version, 3);
    Ok(())
}
