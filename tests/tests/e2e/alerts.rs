//! Alerts on the feed: the coordinator raises a bottleneck when demand
//! exceeds offered capacity by the configured thresholds and clears it when
//! capacity is added; the 50/50 warning and violation fire exactly at their
//! thresholds; a restart on the same database raises nothing again; several
//! replicas raise each change once; parties see none of it; and the
//! configured k decides which demand cells are withheld.

use std::time::Duration;

use cosx_proto::v1 as pb;
use cosx_tests::database::Backend;
use cosx_tests::{TestExchange, capacity_offer, party, repair_order};
use tokio_stream::StreamExt;

type Exchange = pb::exchange_client::ExchangeClient<tonic::transport::Channel>;

const ALERT_KINDS: [pb::EventKind; 5] = [
    pb::EventKind::BottleneckRaised,
    pb::EventKind::BottleneckCleared,
    pb::EventKind::BalanceWarning,
    pb::EventKind::BalanceViolation,
    pb::EventKind::BalanceCleared,
];

/// Starts an exchange judging actual demand only (no forecast), so the
/// test controls every figure.
async fn exchange() -> anyhow::Result<TestExchange> {
    TestExchange::start_with(|c, _, _| {
        c.signals.bottleneck_forecast_periods = 0;
        c.signals.bottleneck_absolute_hours = 100.0;
        c.signals.bottleneck_relative = 0.1;
        Ok(())
    })
    .await
}

/// The alert events on `feed`, from the start of the log.
async fn alert_stream(
    mut feed: pb::feed_client::FeedClient<tonic::transport::Channel>,
) -> anyhow::Result<tonic::Streaming<pb::Event>> {
    let kinds = ALERT_KINDS.iter().map(|k| *k as i32).collect();
    Ok(feed.subscribe(pb::SubscribeRequest { after_sequence: 0, kinds, checkpoints: false }).await?.into_inner())
}

/// Every alert event `party` can see at `addr`, read until the feed has been quiet for `quiet`.
async fn alerts_at(
    ex: &TestExchange,
    addr: std::net::SocketAddr,
    party: &str,
    quiet: Duration,
) -> anyhow::Result<Vec<pb::Event>> {
    let mut stream = alert_stream(pb::feed_client::FeedClient::new(ex.channel_at(addr, party).await?)).await?;
    let mut out = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout(quiet, stream.next()).await {
        out.push(event?);
    }
    Ok(out)
}

async fn alerts(ex: &TestExchange, party: &str, quiet: Duration) -> anyhow::Result<Vec<pb::Event>> {
    alerts_at(ex, ex.addr(), party, quiet).await
}

/// Waits (at most 20 s) until the coordinator's feed holds `n` alert events.
async fn until_alerts(ex: &TestExchange, n: usize) -> anyhow::Result<Vec<pb::Event>> {
    let mut stream = alert_stream(ex.feed(party::COORDINATOR).await?).await?;
    let mut out = Vec::new();
    while out.len() < n {
        match tokio::time::timeout(Duration::from_secs(20), stream.next()).await {
            Ok(Some(event)) => out.push(event?),
            _ => anyhow::bail!("waited for {n} alert events, saw {}: {out:#?}", out.len()),
        }
    }
    Ok(out)
}

fn bottleneck(e: &pb::Event) -> Option<&pb::BottleneckAlert> {
    match &e.subject {
        Some(pb::event::Subject::BottleneckAlert(a)) => Some(a),
        _ => None,
    }
}

fn balance(e: &pb::Event) -> Option<&pb::BalanceAlert> {
    match &e.subject {
        Some(pb::event::Subject::BalanceAlert(a)) => Some(a),
        _ => None,
    }
}

fn period(a: &pb::BottleneckAlert) -> &str {
    a.period.as_ref().map_or("", |p| p.label.as_str())
}

async fn order(c: &mut Exchange, tms: &str, required_by: &str, quantity: u32, hours: f64) -> anyhow::Result<()> {
    let mut o = repair_order(party::USAF);
    o.tms = tms.into();
    o.required_by = required_by.into();
    o.quantity = quantity;
    o.estimated_labor_hours = hours;
    // Submitted orders have no provider yet: they do not move the 50/50 balance.
    c.create_repair_order(pb::CreateRepairOrderRequest { repair_order: Some(o), ..Default::default() }).await?;
    Ok(())
}

#[tokio::test]
async fn a_bottleneck_is_raised_past_the_thresholds_cleared_by_new_capacity_and_not_raised_again_on_restart()
-> anyhow::Result<()> {
    let mut ex = exchange().await?;
    // 4,000 h over 2027-01-01..03-31: February gets 28/90 (1,244.4 h), March 31/90 (1,377.8 h).
    ex.create_offer(capacity_offer(party::MHI)).await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    // February: 1,300 h against 1,244.4 h — short by 55.6 h, under the 100 h threshold.
    order(&mut usaf, "F-35A", "2027-02-10", 1, 1300.0).await?;
    // March: 1,920 h against 1,377.8 h — short by 542.2 h (39 %): a bottleneck.
    for _ in 0..4 {
        order(&mut usaf, "F-35A", "2027-03-31", 4, 480.0).await?;
    }
    let raised = until_alerts(&ex, 1).await?;
    let a = bottleneck(&raised[0]).ok_or_else(|| anyhow::anyhow!("not a bottleneck: {:?}", raised[0]))?;
    assert_eq!(raised[0].kind, pb::EventKind::BottleneckRaised as i32);
    assert_eq!(raised[0].actor, "COSX-SIGNALS");
    assert_eq!(period(a), "2027-03");
    assert!(a.raised && a.change == 0, "{a:?}");
    assert_eq!(a.key.as_ref().map(|k| k.tms.as_str()), Some("F-35A"));
    assert!((a.demand - 1920.0).abs() < 1e-6 && (a.capacity - 4000.0 * 31.0 / 90.0).abs() < 1e-6, "{a:?}");
    assert!((a.shortfall - (1920.0 - 4000.0 * 31.0 / 90.0)).abs() < 1e-6);
    assert_eq!((a.threshold_absolute, a.threshold_relative), (100.0, 0.1));

    // Partners and contractors see no alerts (coordinators only).
    assert!(alerts(&ex, party::MHI, Duration::from_millis(500)).await?.is_empty());
    assert!(alerts(&ex, party::USAF, Duration::from_millis(500)).await?.is_empty());

    // 1,000 more hours in March: 2,377.8 h covers 1,920 h; the alert clears.
    let mut more = capacity_offer(party::MHI);
    more.periods = vec![pb::CapacityPeriod {
        start_date: "2027-03-01".into(),
        end_date: "2027-03-31".into(),
        capacity: 1000.0,
        surge_capacity: 0.0,
    }];
    ex.create_offer(more).await?;
    let both = until_alerts(&ex, 2).await?;
    let cleared = bottleneck(&both[1]).ok_or_else(|| anyhow::anyhow!("not a bottleneck"))?;
    assert_eq!(both[1].kind, pb::EventKind::BottleneckCleared as i32);
    assert_eq!(period(cleared), "2027-03");
    assert!(!cleared.raised && cleared.change == 1 && cleared.shortfall < 0.0, "{cleared:?}");

    // Nothing else was raised (February stayed under the threshold), and a
    // restart on the same database derives the state from the log: nothing again.
    ex.restart().await?;
    order(&mut ex.exchange(party::USAF).await?, "F-35A", "2027-01-15", 1, 10.0).await?;
    let after = alerts(&ex, party::COORDINATOR, Duration::from_secs(2)).await?;
    assert_eq!(after.len(), 2, "{after:#?}");
    Ok(())
}

async fn set_baseline(ex: &TestExchange, organic_cents: i64, contract_cents: i64) -> anyhow::Result<()> {
    ex.set_air_force_baseline(2027, organic_cents, contract_cents).await
}

#[tokio::test]
async fn the_50_50_warning_and_violation_fire_exactly_at_their_thresholds_on_the_feed() -> anyhow::Result<()> {
    let mut ex = exchange().await?;
    // Just under 45 %: nothing.
    set_baseline(&ex, 22_000_001, 18_000_000).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // 18 / 40 = 45 % exactly: warning.
    set_baseline(&ex, 22_000_000, 18_000_000).await?;
    let seen = until_alerts(&ex, 1).await?;
    let w = balance(&seen[0]).ok_or_else(|| anyhow::anyhow!("not a balance alert"))?;
    assert_eq!(seen[0].kind, pb::EventKind::BalanceWarning as i32);
    assert_eq!((w.department, w.fiscal_year), (pb::MilitaryDepartment::AirForce as i32, 2027));
    assert_eq!((w.status, w.previous_status), (pb::BalanceStatus::Warning as i32, pb::BalanceStatus::Ok as i32));
    assert!((w.contract_share.unwrap_or_default() - 0.45).abs() < 1e-12 && w.warning_percent == 45.0, "{w:?}");
    // Exactly 50 %: still a warning, no new event; one cent more: violation.
    set_baseline(&ex, 20_000_000, 20_000_000).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    set_baseline(&ex, 20_000_000, 20_000_001).await?;
    let seen = until_alerts(&ex, 2).await?;
    assert_eq!(seen[1].kind, pb::EventKind::BalanceViolation as i32);
    let v = balance(&seen[1]).ok_or_else(|| anyhow::anyhow!("not a balance alert"))?;
    assert_eq!((v.status, v.previous_status, v.change), (pb::BalanceStatus::Violation as i32, w.status, 1));
    // Back under the warning threshold: cleared.
    set_baseline(&ex, 30_000_000, 0).await?;
    let seen = until_alerts(&ex, 3).await?;
    assert_eq!(seen[2].kind, pb::EventKind::BalanceCleared as i32);
    // Restart: the standing is read back from the log, nothing is raised again.
    ex.restart().await?;
    set_baseline(&ex, 30_000_001, 0).await?;
    let after = alerts(&ex, party::COORDINATOR, Duration::from_secs(2)).await?;
    let kinds: Vec<i32> = after.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [pb::EventKind::BalanceWarning, pb::EventKind::BalanceViolation, pb::EventKind::BalanceCleared]
            .map(|k| k as i32)
    );
    Ok(())
}

#[tokio::test]
async fn replicas_on_one_database_raise_each_change_once() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|c, _, _| {
        c.signals.bottleneck_forecast_periods = 0;
        c.signals.bottleneck_cells_without_capacity = true;
        Ok(())
    })
    .await?;
    if ex.backend() != Backend::Postgres {
        return Ok(()); // one writer on SQLite: nothing to share
    }
    let replicas = [ex.start_replica().await?, ex.start_replica().await?];
    let mut usaf = ex.exchange(party::USAF).await?;
    // No capacity at all (judged, as configured): 500 h in one month is a bottleneck.
    order(&mut usaf, "C-130J", "2027-05-15", 1, 500.0).await?;
    let seen = until_alerts(&ex, 1).await?;
    assert_eq!(seen[0].kind, pb::EventKind::BottleneckRaised as i32);
    // Give every replica time to judge, then count on one of them.
    let all = alerts_at(&ex, replicas[0].addr, party::COORDINATOR, Duration::from_secs(2)).await?;
    assert_eq!(all.len(), 1, "{all:#?}");
    for r in replicas {
        r.stop().await?;
    }
    Ok(())
}

#[tokio::test]
async fn the_configured_k_decides_which_cells_parties_see() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|c, _, _| {
        c.signals.min_cell_orders = 4;
        Ok(())
    })
    .await?;
    // Orders of three originators besides MHI, the party asking.
    for who in [party::USAF, party::USAF, party::KAI, party::RAAF] {
        ex.order_as(who, "F-35A", "2027-03-31").await?;
    }
    let request = pb::GetDemandSignalRequest {
        basis: pb::DateBasis::RequiredBy as i32,
        granularity: pb::Granularity::Month as i32,
        ..Default::default()
    };
    let mut mhi = pb::signals_client::SignalsClient::new(ex.channel(party::MHI).await?);
    let answer = mhi.get_demand_signal(request.clone()).await?.into_inner();
    assert_eq!(answer.k, 4);
    // Three originators: served under the default k = 3, withheld under k = 4.
    assert!(!answer.cells.is_empty() && answer.cells.iter().all(|c| c.suppressed && c.orders == 0), "{answer:?}");
    // A fourth originator lifts it.
    let newcomer = pb::Party {
        party_id: "AUS-RAAF-ESL".into(),
        kind: pb::PartyKind::PartnerGovernment as i32,
        nation: "AUS".into(),
        ..Default::default()
    };
    ex.registry(party::COORDINATOR)
        .await?
        .register_party(pb::RegisterPartyRequest { party: Some(newcomer), request_id: String::new() })
        .await?;
    ex.order_as("AUS-RAAF-ESL", "F-35A", "2027-03-31").await?;
    let answer = mhi.get_demand_signal(request).await?.into_inner();
    assert!(answer.cells.iter().any(|c| !c.suppressed && c.orders == 5), "{answer:?}");
    Ok(())
}

#[tokio::test]
async fn a_disruption_that_pushes_demand_past_capacity_raises_a_bottleneck_and_its_resolution_clears_it()
-> anyhow::Result<()> {
    let ex = exchange().await?;
    // Komaki South offers 4,000 h over 2027-01-01..03-31: 1,377.8 h in March.
    ex.create_offer(capacity_offer(party::MHI)).await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    // March: 2 × 600 h = 1,200 h, just within what is offered.
    for _ in 0..2 {
        order(&mut usaf, "F-35A", "2027-03-31", 4, 600.0).await?;
    }
    assert!(alerts(&ex, party::COORDINATOR, Duration::from_secs(1)).await?.is_empty(), "within capacity");

    // A typhoon takes half of Komaki South's F-35A depot capacity in March: 688.9 h against 1,200 h.
    let mut disruptions = pb::disruptions_client::DisruptionsClient::new(ex.channel(party::MHI).await?);
    let typhoon = pb::Disruption {
        site: "Komaki South".into(),
        cause: pb::DisruptionCause::NaturalDisaster as i32,
        capacity_reduction_percent: 50,
        capabilities: vec![pb::AffectedCapability {
            tms_or_family: "F-35A".into(),
            maintenance_level: pb::MaintenanceLevel::Depot as i32,
        }],
        start_date: "2027-03-01".into(),
        expected_end_date: "2027-03-31".into(),
        text: "Typhoon: hangar 3 roof lost".into(),
        ..Default::default()
    };
    let d = disruptions
        .declare_disruption(pb::DeclareDisruptionRequest { disruption: Some(typhoon), request_id: String::new() })
        .await?
        .into_inner();
    let raised = until_alerts(&ex, 1).await?;
    let a = bottleneck(&raised[0]).ok_or_else(|| anyhow::anyhow!("not a bottleneck: {:?}", raised[0]))?;
    assert_eq!(raised[0].kind, pb::EventKind::BottleneckRaised as i32);
    assert_eq!((period(a), a.key.as_ref().map(|k| k.tms.as_str())), ("2027-03", Some("F-35A")));
    let march = 4000.0 * 31.0 / 90.0;
    assert!((a.demand - 1200.0).abs() < 1e-6 && (a.capacity - march / 2.0).abs() < 1e-6, "{a:?}");
    assert!(alerts(&ex, party::MHI, Duration::from_millis(500)).await?.is_empty(), "coordinators only");

    // Resolved: the capacity is whole again and the alert clears.
    disruptions
        .resolve_disruption(pb::ResolveDisruptionRequest {
            name: d.name.clone(),
            resolution: "Roof patched, power back".into(),
            version: d.version,
            request_id: String::new(),
        })
        .await?;
    let both = until_alerts(&ex, 2).await?;
    let cleared = bottleneck(&both[1]).ok_or_else(|| anyhow::anyhow!("not a bottleneck: {:?}", both[1]))?;
    assert_eq!(both[1].kind, pb::EventKind::BottleneckCleared as i32);
    assert_eq!(period(cleared), "2027-03");
    assert!(!cleared.raised && (cleared.capacity - march).abs() < 1e-6, "{cleared:?}");
    Ok(())
}
