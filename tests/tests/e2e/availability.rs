//! DoD Instruction 3110.05 metrics through the API: reports in (days and
//! hours), metrics out with their inputs, targets and flags, and only for
//! those who may see the reports. Expected values are computed by hand in
//! the comments.

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, availability_report, party};

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

/// F-16C, November 2026, in hours: TAI 12 × 30 days × 24 h = 8,640 possible
/// hours = 360 days. Available 6,480 h = 270 days, NMCM 720 h = 30 days, the
/// other 1,440 h = 60 days are in no category: UPNR by reconciliation.
/// A_M = 270 / 360 = 0.75. PMAI 10: 7,200 h possible, 5,400 h available,
/// A_O = 0.75.
fn f16_in_hours() -> pb::AvailabilityReport {
    pb::AvailabilityReport {
        tms: "F-16C".into(),
        timeframe_start: "2026-11-01".into(),
        timeframe_end: "2026-11-30".into(),
        time_unit: pb::TimeUnit::Hours as i32,
        inventory: Some(pb::Inventory { tai: 12, pmai: 10, ..Default::default() }),
        tai_time: Some(pb::TimeByCategory { available: 6480.0, nmcm: 720.0, ..Default::default() }),
        pmai_time: Some(pb::TimeByCategory { available: 5400.0, nmcm: 600.0, ..Default::default() }),
        costs: vec![],
        ..availability_report(party::USAF)
    }
}

#[tokio::test]
async fn reports_in_days_and_hours_produce_the_hand_computed_metrics_and_flags() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    // F-35A, October 2026, in days: TAI 24 × 31 = 744 possible days, 520 available:
    // A_M = 520 / 744. PMAI 20 × 31 = 620, 470 available: A_O = 470 / 620.
    // Cost element 3.2 = $250,000.00: C/DA = 25,000,000 ¢ / 470 days.
    usaf.submit_availability_report(pb::SubmitAvailabilityReportRequest {
        availability_report: Some(availability_report(party::USAF)),
        request_id: "oct".into(),
        ..Default::default()
    })
    .await?;
    usaf.submit_availability_report(pb::SubmitAvailabilityReportRequest {
        availability_report: Some(f16_in_hours()),
        request_id: "nov".into(),
        ..Default::default()
    })
    .await?;
    // Targets: A_M 0.95 puts the trigger at 0.7125, above 520/744 = 0.699 → flag;
    // A_O 0.9 puts it at 0.675, below 0.758 → no flag.
    usaf.set_availability_target(pb::SetAvailabilityTargetRequest {
        target: Some(pb::AvailabilityTarget {
            owner: party::USAF.into(),
            tms: "F-35A".into(),
            a_m: Some(0.95),
            a_o: Some(0.9),
            ..Default::default()
        }),
        request_id: "t".into(),
        availability_target_id: String::new(),
    })
    .await?;

    let mut signals = pb::signals_client::SignalsClient::new(ex.channel(party::USAF).await?);
    let m = signals.get_availability_metrics(pb::GetAvailabilityMetricsRequest::default()).await?.into_inner();
    assert_eq!(m.reports_considered, 2);
    let f35 = m.metrics.iter().find(|x| x.tms == "F-35A").ok_or_else(|| anyhow::anyhow!("no F-35A"))?;
    assert!(close(f35.a_m, 520.0 / 744.0) && close(f35.a_o, 470.0 / 620.0), "{f35:?}");
    assert!(close(f35.cost_per_day_of_availability, 25_000_000.0 / 470.0));
    let tai = f35.tai_time.unwrap_or_default();
    assert_eq!((tai.possible, tai.available, tai.upnr_reported), (744.0, 520.0, 12.0));
    assert_eq!(f35.costs.as_ref().map(|c| c.cda_cents), Some(25_000_000));

    let f16 = m.metrics.iter().find(|x| x.tms == "F-16C").ok_or_else(|| anyhow::anyhow!("no F-16C"))?;
    assert!(close(f16.a_m, 0.75) && close(f16.a_o, 0.75), "{f16:?}");
    let tai = f16.tai_time.unwrap_or_default();
    assert!((tai.possible - 360.0).abs() < 1e-9 && (tai.upnr_unaccounted - 60.0).abs() < 1e-9, "{tai:?}");
    assert!(
        (tai.available
            + tai.nmcm
            + tai.nmcs
            + tai.depot
            + tai.upnr_reported
            + tai.upnr_unaccounted
            + tai.upnr_missing_assets
            - tai.possible)
            .abs()
            < 1e-9
    );
    assert_eq!(f16.cost_per_day_of_availability, Some(0.0), "no cost reported: zero per day");

    let health = m.health.iter().find(|h| h.tms == "F-35A").ok_or_else(|| anyhow::anyhow!("no health"))?;
    let am = health.high_non_availability_a_m.unwrap_or_default();
    let ao = health.high_non_availability_a_o.unwrap_or_default();
    assert!(am.fires && !ao.fires, "{health:?}");
    assert_eq!((am.inventory, am.threshold), (24, 10));
    assert!(close(am.trigger_at_or_below, 0.95 * 0.75));

    // Rolled up by nation: times add up, ratios are recomputed, never averaged.
    let by_nation = signals
        .get_availability_metrics(pb::GetAvailabilityMetricsRequest {
            group_by: pb::AvailabilityGrouping::Nation as i32,
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(by_nation.metrics.len(), 1);
    assert_eq!(by_nation.metrics[0].nation, "USA");
    assert!(close(by_nation.metrics[0].a_m, (520.0 + 270.0) / (744.0 + 360.0)));

    // A contractor sees none of it; the coordinator sees all of it.
    let mut mhi = pb::signals_client::SignalsClient::new(ex.channel(party::MHI).await?);
    let theirs = mhi.get_availability_metrics(pb::GetAvailabilityMetricsRequest::default()).await?.into_inner();
    assert_eq!((theirs.reports_considered, theirs.metrics.len()), (0, 0));
    let mut j4 = pb::signals_client::SignalsClient::new(ex.channel(party::COORDINATOR).await?);
    assert_eq!(
        j4.get_availability_metrics(pb::GetAvailabilityMetricsRequest::default())
            .await?
            .into_inner()
            .reports_considered,
        2
    );
    Ok(())
}

#[tokio::test]
async fn a_correction_replaces_the_report_in_the_metrics() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    usaf.submit_availability_report(pb::SubmitAvailabilityReportRequest {
        availability_report: Some(availability_report(party::USAF)),
        request_id: "v1".into(),
        ..Default::default()
    })
    .await?;
    let mut corrected = availability_report(party::USAF);
    corrected.tai_time = Some(pb::TimeByCategory { available: 372.0, nmcm: 372.0, ..Default::default() });
    corrected.pmai_time = Some(pb::TimeByCategory { available: 300.0, nmcm: 300.0, ..Default::default() });
    usaf.submit_availability_report(pb::SubmitAvailabilityReportRequest {
        availability_report: Some(corrected),
        request_id: "v2".into(),
        ..Default::default()
    })
    .await?;
    let mut signals = pb::signals_client::SignalsClient::new(ex.channel(party::USAF).await?);
    let m = signals.get_availability_metrics(pb::GetAvailabilityMetricsRequest::default()).await?.into_inner();
    assert_eq!(m.reports_considered, 1);
    assert!(close(m.metrics[0].a_m, 0.5));
    Ok(())
}

#[tokio::test]
async fn targets_and_reports_that_break_the_instruction_are_refused_by_field() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let status = usaf
        .set_availability_target(pb::SetAvailabilityTargetRequest {
            target: Some(pb::AvailabilityTarget {
                owner: party::USAF.into(),
                tms: "F-35A".into(),
                a_m: Some(75.0),
                ..Default::default()
            }),
            request_id: String::new(),
            availability_target_id: String::new(),
        })
        .await
        .expect_err("a percentage accepted as a fraction");
    assert!(cosx_tests::violated_fields(&status).contains(&"target.a_m".to_owned()));
    // PMAI time beyond TAI time is impossible.
    let mut report = availability_report(party::USAF);
    report.pmai_time = Some(pb::TimeByCategory { available: 600.0, nmcm: 20.0, ..Default::default() });
    let status = usaf
        .submit_availability_report(pb::SubmitAvailabilityReportRequest {
            availability_report: Some(report),
            request_id: String::new(),
            ..Default::default()
        })
        .await
        .expect_err("accepted");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    Ok(())
}

#[tokio::test]
async fn the_review_fiscal_year_decides_which_years_c_da_is_judged() -> anyhow::Result<()> {
    // DoDI 3110.05 para 2.2.d.(2)(b): C/DA "has increased by more than 10 percent for each of the
    // 3 previous FYs". October reports of FY2023 to FY2026, C/DA growing 20 %, 25 %, 33 %.
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    for (year, cents) in [(2022, 10_000_000), (2023, 12_000_000), (2024, 15_000_000), (2025, 20_000_000)] {
        let mut r = availability_report(party::USAF);
        r.timeframe_start = format!("{year}-10-01");
        r.timeframe_end = format!("{year}-10-31");
        r.costs[0].amount = Some(pb::Money { currency_code: "USD".into(), amount_minor: cents });
        usaf.submit_availability_report(pb::SubmitAvailabilityReportRequest {
            availability_report: Some(r),
            request_id: format!("fy{}", year + 1),
            ..Default::default()
        })
        .await?;
    }
    let mut signals = pb::signals_client::SignalsClient::new(ex.channel(party::USAF).await?);
    let health = |m: pb::GetAvailabilityMetricsResponse| m.health.into_iter().find(|h| h.tms == "F-35A");
    let review = |year: i32, from_date: &str| pb::GetAvailabilityMetricsRequest {
        review_fiscal_year: Some(year),
        from_date: from_date.into(),
        ..Default::default()
    };
    // Reviewing FY2027 judges FY2024-FY2026 against FY2023..FY2025: the flag fires.
    let h = health(signals.get_availability_metrics(review(2027, "")).await?.into_inner()).unwrap_or_default();
    assert_eq!(h.excessive_cda_fiscal_year, 2027);
    assert_eq!(h.excessive_cda_source_fiscal_years, [2023, 2024, 2025, 2026]);
    assert!(h.excessive_cda, "{h:?}");
    // Reviewing FY2026 needs FY2022, which has no report: no flag.
    let h = health(signals.get_availability_metrics(review(2026, "")).await?.into_inner()).unwrap_or_default();
    assert_eq!(h.excessive_cda_source_fiscal_years, [2022, 2023, 2024, 2025]);
    assert!(!h.excessive_cda, "{h:?}");
    // A date range that leaves the earlier years out does not silence the flag.
    let h =
        health(signals.get_availability_metrics(review(2027, "2025-10-01")).await?.into_inner()).unwrap_or_default();
    assert!(h.excessive_cda, "{h:?}");
    // The year is checked.
    let refused = signals.get_availability_metrics(review(1999, "")).await.expect_err("FY1999");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert_eq!(cosx_tests::violated_fields(&refused), ["review_fiscal_year"]);
    Ok(())
}

/// The coordinator keeps an answer until the log moves: the same request
/// from another party must get that party's own answer, and every write,
/// correction and target must show in the very next call.
#[tokio::test]
async fn a_kept_answer_never_reaches_another_party_and_never_outlives_a_write() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let mut mine = pb::signals_client::SignalsClient::new(ex.channel(party::USAF).await?);
    let mut theirs = pb::signals_client::SignalsClient::new(ex.channel(party::MHI).await?);
    let all = pb::GetAvailabilityMetricsRequest::default;
    usaf.submit_availability_report(pb::SubmitAvailabilityReportRequest {
        availability_report: Some(availability_report(party::USAF)),
        request_id: "oct".into(),
        ..Default::default()
    })
    .await?;
    // Asked twice by the reporter (the second from the memo), then by a party that may not see it.
    for _ in 0..2 {
        assert_eq!(mine.get_availability_metrics(all()).await?.into_inner().reports_considered, 1);
    }
    let other = theirs.get_availability_metrics(all()).await?.into_inner();
    assert_eq!((other.reports_considered, other.metrics.len(), other.health.len()), (0, 0, 0));

    // A second report shows at once.
    usaf.submit_availability_report(pb::SubmitAvailabilityReportRequest {
        availability_report: Some(f16_in_hours()),
        request_id: "nov".into(),
        ..Default::default()
    })
    .await?;
    assert_eq!(mine.get_availability_metrics(all()).await?.into_inner().reports_considered, 2);

    // So does a target: the fleet's health gains it on the next call.
    let target_of =
        |m: &pb::GetAvailabilityMetricsResponse| m.health.iter().find(|h| h.tms == "F-35A").and_then(|h| h.target_a_m);
    assert_eq!(target_of(&mine.get_availability_metrics(all()).await?.into_inner()), None);
    usaf.set_availability_target(pb::SetAvailabilityTargetRequest {
        target: Some(pb::AvailabilityTarget {
            owner: party::USAF.into(),
            tms: "F-35A".into(),
            a_m: Some(0.95),
            ..Default::default()
        }),
        request_id: "t".into(),
        availability_target_id: String::new(),
    })
    .await?;
    assert_eq!(target_of(&mine.get_availability_metrics(all()).await?.into_inner()), Some(0.95));

    // And a correction replaces what was kept.
    let mut corrected = availability_report(party::USAF);
    corrected.tai_time = Some(pb::TimeByCategory { available: 372.0, nmcm: 372.0, ..Default::default() });
    corrected.pmai_time = Some(pb::TimeByCategory { available: 300.0, nmcm: 300.0, ..Default::default() });
    usaf.submit_availability_report(pb::SubmitAvailabilityReportRequest {
        availability_report: Some(corrected),
        request_id: "oct-v2".into(),
        ..Default::default()
    })
    .await?;
    let m = mine.get_availability_metrics(all()).await?.into_inner();
    let f35 = m.metrics.iter().find(|x| x.tms == "F-35A").ok_or_else(|| anyhow::anyhow!("no F-35A"))?;
    assert!(close(f35.a_m, 0.5), "{f35:?}");
    let other = theirs.get_availability_metrics(all()).await?.into_inner();
    assert_eq!((other.reports_considered, other.metrics.len()), (0, 0));
    Ok(())
}
