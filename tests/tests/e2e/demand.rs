//! Demand signals through the API: the cube kept from the log equals a full
//! recomputation, small cells are withheld from parties, forecasts say how
//! they were made, and demand against capacity raises bottlenecks.

use std::collections::BTreeMap;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, capacity_offer, monthly_demand, party, repair_order};

type Exchange = pb::exchange_client::ExchangeClient<tonic::transport::Channel>;

async fn order(c: &mut Exchange, tms: &str, required_by: &str, quantity: u32) -> anyhow::Result<pb::RepairOrder> {
    let mut o = repair_order(party::USAF);
    o.tms = tms.into();
    o.required_by = required_by.into();
    o.quantity = quantity;
    o.estimated_labor_hours = 120.0 * f64::from(quantity);
    Ok(c.create_repair_order(pb::CreateRepairOrderRequest {
        repair_order: Some(o),
        request_id: String::new(),
        ..Default::default()
    })
    .await?
    .into_inner())
}

#[tokio::test]
async fn the_cube_follows_every_change_and_equals_a_full_recount() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let mut signals = pb::signals_client::SignalsClient::new(ex.channel(party::COORDINATOR).await?);
    let tms = ["F-35A", "F-16C", "C-130J"];
    let months = ["2027-01-15", "2027-02-10", "2027-03-31", "2027-05-01"];
    let mut made = Vec::new();
    for i in 0..36u32 {
        made.push(order(&mut usaf, tms[(i % 3) as usize], months[((i * 7) % 4) as usize], 1 + i % 4).await?);
        // Ask in the middle too: the cube must follow writes made after it was first built.
        if i == 10 {
            signals.get_demand_signal(monthly_demand()).await?;
        }
    }
    // Cancel some, split one.
    for o in made.iter().step_by(5) {
        usaf.transition_repair_order(pb::TransitionRepairOrderRequest {
            name: o.name.clone(),
            version: o.version,
            action: pb::RepairOrderAction::Cancel as i32,
            ..Default::default()
        })
        .await?;
    }
    let splittable = made.iter().find(|o| o.quantity >= 2).ok_or_else(|| anyhow::anyhow!("none to split"))?;
    let splittable =
        usaf.get_repair_order(pb::GetRepairOrderRequest { name: splittable.name.clone() }).await?.into_inner();
    if splittable.state == pb::RepairOrderState::Submitted as i32 {
        usaf.split_repair_order(pb::SplitRepairOrderRequest {
            name: splittable.name.clone(),
            version: splittable.version,
            quantities: vec![1, splittable.quantity - 1],
            request_id: String::new(),
        })
        .await?;
    }

    // Brute force: every order the coordinator can list, not cancelled, by (tms, month of required_by).
    let all = ex.listed_orders(party::COORDINATOR).await?;
    let mut expected: BTreeMap<(String, String), (u64, u64, f64)> = BTreeMap::new();
    for o in all.iter().filter(|o| o.state != pb::RepairOrderState::Cancelled as i32) {
        let e = expected.entry((o.tms.clone(), o.required_by[..7].to_owned())).or_default();
        e.0 += 1;
        e.1 += u64::from(o.quantity);
        e.2 += o.estimated_labor_hours;
    }
    let answer = signals.get_demand_signal(monthly_demand()).await?.into_inner();
    let mut got: BTreeMap<(String, String), (u64, u64, f64)> = BTreeMap::new();
    for c in &answer.cells {
        let key = c.key.clone().unwrap_or_default();
        let period = c.period.clone().unwrap_or_default();
        assert!(!c.suppressed, "a coordinator sees every cell");
        got.insert((key.tms, period.label), (c.orders, c.quantity, c.labor_hours));
    }
    assert_eq!(got.len(), expected.len());
    for (k, (orders, quantity, hours)) in &expected {
        let g = got.get(k).ok_or_else(|| anyhow::anyhow!("cell {k:?} missing"))?;
        assert_eq!((g.0, g.1), (*orders, *quantity), "{k:?}");
        assert!((g.2 - hours).abs() < 1e-6, "{k:?}");
    }
    assert_eq!(answer.orders_counted, expected.values().map(|e| e.0).sum::<u64>());
    Ok(())
}

#[tokio::test]
async fn parties_see_small_cells_withheld_and_no_breakdowns() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    // Five F-35A orders from three originators: k = 3 counts originators.
    for who in [party::USAF, party::USAF, party::KAI, party::RAAF, party::RAAF] {
        ex.order_as(who, "F-35A", "2027-03-31").await?;
    }
    order(&mut usaf, "F-16C", "2027-04-15", 2).await?;
    let mut mhi = pb::signals_client::SignalsClient::new(ex.channel(party::MHI).await?);
    let answer = mhi.get_demand_signal(monthly_demand()).await?.into_inner();
    assert_eq!(answer.k, 3);
    let cell = |tms: &str| answer.cells.iter().find(|c| c.key.as_ref().is_some_and(|k| k.tms == tms)).cloned();
    let f35 = cell("F-35A").ok_or_else(|| anyhow::anyhow!("F-35A missing"))?;
    assert!(!f35.suppressed && f35.orders == 5, "{f35:?}");
    // One order: withheld, and nothing of it shows.
    let f16 = cell("F-16C").ok_or_else(|| anyhow::anyhow!("F-16C missing"))?;
    assert!(f16.suppressed && f16.orders == 0 && f16.quantity == 0 && f16.labor_hours == 0.0, "{f16:?}");
    // Differencing through another granularity does not reveal it either.
    let quarterly = mhi
        .get_demand_signal(pb::GetDemandSignalRequest {
            granularity: pb::Granularity::FiscalQuarter as i32,
            ..monthly_demand()
        })
        .await?
        .into_inner();
    for c in quarterly.cells.iter().filter(|c| c.key.as_ref().is_some_and(|k| k.tms == "F-16C")) {
        assert!(c.suppressed, "{c:?}");
    }
    // Breakdowns by owner nation identify parties: coordinators only.
    let status = mhi
        .get_demand_signal(pb::GetDemandSignalRequest { by_owner_nation: true, ..monthly_demand() })
        .await
        .expect_err("breakdown served to a contractor");
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    Ok(())
}

#[tokio::test]
async fn forecasts_say_how_they_were_made() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    // Intermittent demand: months with orders and months without.
    for (month, n) in [("2026-01", 1), ("2026-04", 2), ("2026-05", 1), ("2026-09", 3), ("2026-12", 1), ("2027-02", 2)] {
        for _ in 0..n {
            order(&mut usaf, "F-35A", &format!("{month}-15"), 1).await?;
        }
    }
    let mut signals = pb::signals_client::SignalsClient::new(ex.channel(party::COORDINATOR).await?);
    let answer = signals
        .get_demand_signal(pb::GetDemandSignalRequest { forecast_periods: 6, ..monthly_demand() })
        .await?
        .into_inner();
    assert_eq!(answer.forecasts.len(), 1);
    let f = &answer.forecasts[0];
    assert_eq!(f.points.len(), 6);
    assert!(!f.method.is_empty() && !f.pattern.is_empty() && !f.band.is_empty(), "{f:?}");
    assert!(f.pattern == "INTERMITTENT" || f.pattern == "LUMPY", "{}", f.pattern);
    // The band is a prediction interval of one month's demand (issue 18): for intermittent demand
    // the point (a mean) need not lie inside it, but the interval is ordered and never negative.
    assert!(f.points.iter().all(|p| p.lower <= p.upper && p.lower >= 0.0), "{f:?}");
    assert!(f.band.contains("interval of one period's demand"), "{}", f.band);
    let named = ["ZERO", "SES", "CROSTON_CLASSIC", "CROSTON_SBA", "TSB", "ADIDA", "IMAPA"];
    assert!(named.contains(&f.method.split(' ').next().unwrap_or_default()), "{}", f.method);
    assert_eq!(f.points[0].period.as_ref().map(|p| p.label.as_str()), Some("2027-03"));
    Ok(())
}

#[tokio::test]
async fn demand_beyond_capacity_is_a_bottleneck_and_within_it_is_not() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    // 4,000 hours over 2027-01-01..2027-03-31 (90 days): March gets 31/90 of it = 1,377.8 h.
    ex.create_offer(capacity_offer(party::MHI)).await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    // March demand: 4 orders × 4 items × 120 h = 1,920 h: short by 542.2 h (39 %).
    for _ in 0..4 {
        order(&mut usaf, "F-35A", "2027-03-31", 4).await?;
    }
    // February demand: 1 order × 1 item × 120 h, well within 1,244.4 h.
    order(&mut usaf, "F-35A", "2027-02-10", 1).await?;
    let mut signals = pb::signals_client::SignalsClient::new(ex.channel(party::COORDINATOR).await?);
    let request = pb::GetCapacityComparisonRequest {
        granularity: pb::Granularity::Month as i32,
        alert_absolute: 100.0,
        alert_relative: 0.1,
        ..Default::default()
    };
    let answer = signals.get_capacity_comparison(request.clone()).await?.into_inner();
    let row = |label: &str| {
        answer
            .rows
            .iter()
            .find(|r| r.period.as_ref().is_some_and(|p| p.label == label) && r.demand_kind == "ACTUAL")
            .cloned()
    };
    let march = row("2027-03").ok_or_else(|| anyhow::anyhow!("no March row"))?;
    assert!((march.capacity - 4000.0 * 31.0 / 90.0).abs() < 1e-6, "{march:?}");
    assert!((march.demand - 1920.0).abs() < 1e-6 && march.bottleneck, "{march:?}");
    assert!((march.balance - (4000.0 * 31.0 / 90.0 - 1920.0)).abs() < 1e-6);
    let feb = row("2027-02").ok_or_else(|| anyhow::anyhow!("no February row"))?;
    assert!(!feb.bottleneck && feb.balance > 0.0, "{feb:?}");
    assert_eq!(answer.bottlenecks, 1);
    // Raise the absolute threshold past the shortfall: no alert.
    let quiet = signals
        .get_capacity_comparison(pb::GetCapacityComparisonRequest { alert_absolute: 600.0, ..request })
        .await?
        .into_inner();
    assert_eq!(quiet.bottlenecks, 0);
    Ok(())
}

#[tokio::test]
async fn a_smoothing_constant_outside_0_to_1_is_refused_naming_its_field() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut signals = pb::signals_client::SignalsClient::new(ex.channel(party::COORDINATOR).await?);
    let bad = pb::ForecastParams { ses_alpha: Some(1.5), ..Default::default() };
    let refused = signals
        .get_demand_signal(pb::GetDemandSignalRequest {
            forecast_periods: 3,
            forecast_params: Some(bad),
            ..monthly_demand()
        })
        .await
        .expect_err("alpha 1.5");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert_eq!(cosx_tests::violated_fields(&refused), ["forecast_params.ses_alpha"]);
    // A value in range is taken: SES with alpha 1 forecasts the last month's demand.
    let mut usaf = ex.exchange(party::USAF).await?;
    for (month, n) in [("2027-01", 2), ("2027-02", 3), ("2027-03", 4), ("2027-04", 5)] {
        for _ in 0..n {
            order(&mut usaf, "F-35A", &format!("{month}-15"), 1).await?;
        }
    }
    let params = pb::ForecastParams { ses_alpha: Some(1.0), method: Some("SES".into()), ..Default::default() };
    let answer = signals
        .get_demand_signal(pb::GetDemandSignalRequest {
            forecast_periods: 1,
            forecast_params: Some(params),
            ..monthly_demand()
        })
        .await?
        .into_inner();
    let f = answer.forecasts.first().ok_or_else(|| anyhow::anyhow!("no forecast: {answer:?}"))?;
    assert_eq!(f.method, "SES alpha=1");
    assert!((f.points[0].point - 5.0).abs() < 1e-9, "{f:?}");
    Ok(())
}

#[tokio::test]
async fn a_cell_with_history_but_no_demand_in_the_window_has_a_zero_forecast() -> anyhow::Result<()> {
    // A series that has gone quiet is a series with a zero forecast, not a missing one (issue 18).
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    order(&mut usaf, "F-35A", "2027-01-15", 1).await?;
    order(&mut usaf, "F-35A", "2027-02-15", 1).await?;
    order(&mut usaf, "C-130J", "2027-06-15", 1).await?;
    let mut signals = pb::signals_client::SignalsClient::new(ex.channel(party::COORDINATOR).await?);
    let window = pb::DemandFilter { from_date: "2027-04-01".into(), ..Default::default() };
    let answer = signals
        .get_demand_signal(pb::GetDemandSignalRequest { forecast_periods: 2, filter: Some(window), ..monthly_demand() })
        .await?
        .into_inner();
    let f35 = answer
        .forecasts
        .iter()
        .find(|f| f.key.as_ref().is_some_and(|k| k.tms == "F-35A"))
        .ok_or_else(|| anyhow::anyhow!("no F-35A forecast: {answer:?}"))?;
    assert_eq!(f35.pattern, "NO_DEMAND", "{f35:?}");
    assert!(f35.points.iter().all(|p| p.point == 0.0), "{f35:?}");
    assert_eq!(answer.forecasts.len(), 2, "{answer:?}");
    Ok(())
}
