//! The 50/50 workload balance and allocation through the API: hand-computed
//! shares with their thresholds, proposals that respect every eligibility
//! rule and the statutory limit, and commits that turn into proposals.

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, capacity_offer, party, repair_order};

type Channel = tonic::transport::Channel;

async fn baseline(ex: &TestExchange, organic_cents: i64, contract_cents: i64) -> anyhow::Result<()> {
    baseline_for(ex, 2027, organic_cents, contract_cents).await
}

async fn baseline_for(ex: &TestExchange, fy: i32, organic_cents: i64, contract_cents: i64) -> anyhow::Result<()> {
    ex.set_air_force_baseline(fy, organic_cents, contract_cents).await
}

async fn workload(ex: &TestExchange, include_proposed: bool) -> anyhow::Result<pb::GetWorkloadBalanceResponse> {
    Ok(pb::signals_client::SignalsClient::new(ex.channel(party::COORDINATOR).await?)
        .get_workload_balance(pb::GetWorkloadBalanceRequest {
            department: pb::MilitaryDepartment::AirForce as i32,
            fiscal_year: 2027,
            include_proposed,
            warning_percent: None,
            provider: String::new(),
        })
        .await?
        .into_inner())
}

async fn air_force_fy2027(ex: &TestExchange, include_proposed: bool) -> anyhow::Result<pb::DepartmentBalance> {
    let answer = workload(ex, include_proposed).await?;
    answer.departments.into_iter().next().ok_or_else(|| anyhow::anyhow!("no AIR_FORCE FY2027 balance"))
}

#[tokio::test]
async fn the_warning_fires_at_45_percent_and_the_violation_only_above_50() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    // 18 / (22 + 18) = 45 %: warning, exactly at the threshold.
    baseline(&ex, 22_000_000, 18_000_000).await?;
    let b = air_force_fy2027(&ex, false).await?;
    assert_eq!(b.status, pb::BalanceStatus::Warning as i32, "{b:?}");
    assert!((b.contract_share.unwrap_or_default() - 0.45).abs() < 1e-12);
    // Just below: OK.
    baseline(&ex, 22_000_001, 18_000_000).await?;
    assert_eq!(air_force_fy2027(&ex, false).await?.status, pb::BalanceStatus::Ok as i32);
    // Exactly 50 %: still only a warning; one cent more contract work: violation.
    baseline(&ex, 20_000_000, 20_000_000).await?;
    assert_eq!(air_force_fy2027(&ex, false).await?.status, pb::BalanceStatus::Warning as i32);
    baseline(&ex, 20_000_000, 20_000_001).await?;
    assert_eq!(air_force_fy2027(&ex, false).await?.status, pb::BalanceStatus::Violation as i32);
    Ok(())
}

fn eligible_offer() -> pb::CapacityOffer {
    let mut offer = capacity_offer(party::MHI);
    // A Japanese contractor repairing US F-35A items: third-country transfer
    // approval, the prime's facility approval, and an export licence for XIX(f).
    offer.authorizations.push(pb::ProviderAuthorization {
        kind: pb::provider_authorization::Kind::PrimeFacilityApproval as i32,
        tms: "F-35A".into(),
        reference: "LM-FA-2026-014".into(),
        ..Default::default()
    });
    offer.authorizations.push(pb::ProviderAuthorization {
        kind: pb::provider_authorization::Kind::ExportLicense as i32,
        export_classification: "XIX(f)".into(),
        reference: "DSP-5 050-998877".into(),
        ..Default::default()
    });
    offer
}

/// An assignment of `order`, at the version it has, to MHI.
fn to_mhi(order: pb::RepairOrder) -> pb::AllocationAssignment {
    pb::AllocationAssignment {
        repair_order: order.name,
        order_version: order.version,
        provider: party::MHI.into(),
        ..Default::default()
    }
}

async fn propose(j4: &mut pb::allocation_client::AllocationClient<Channel>) -> anyhow::Result<pb::AllocationPlan> {
    Ok(j4.propose(pb::ProposeAllocationRequest { as_of: "2026-12-01".into() }).await?.into_inner())
}

#[tokio::test]
async fn allocation_respects_50_50_and_eligibility_and_commits_as_proposals() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    ex.create_offer(eligible_offer()).await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    // Two US Air Force depot orders at $180,000 each, due in FY2027.
    let mut names = Vec::new();
    for _ in 0..2 {
        let o = ex.create_order(party::USAF, repair_order(party::USAF)).await?;
        names.push(o.name);
    }
    // A sensitive order that may only go to a US organic depot.
    let mut sensitive = repair_order(party::USAF);
    sensitive.controls = Some(pb::Controls { organic_only: true, ..Default::default() });
    let sensitive = ex.create_order(party::USAF, sensitive).await?;

    let mut j4 = pb::allocation_client::AllocationClient::new(ex.channel(party::COORDINATOR).await?);
    // $300,000 of organic work: room for one $180,000 contract order, not two.
    baseline(&ex, 30_000_000, 0).await?;
    let plan = propose(&mut j4).await?;
    assert_eq!(plan.assignments.len(), 1, "{plan:?}");
    let reason_of = |plan: &pb::AllocationPlan, name: &str| {
        plan.unplaced.iter().find(|u| u.repair_order == name).map(|u| u.reason.clone())
    };
    assert_eq!(reason_of(&plan, &sensitive.name).as_deref(), Some("NO_ELIGIBLE_PROVIDER"));
    let blocked: Vec<&String> =
        names.iter().filter(|n| reason_of(&plan, n).as_deref() == Some("BLOCKED_BY_5050")).collect();
    assert_eq!(blocked.len(), 1, "{plan:?}");
    let a = &plan.assignments[0];
    assert_eq!(a.provider, party::MHI);
    assert!(a.distance_km > 1000.0 && a.total_cost_cents > 0, "{a:?}");
    assert_eq!(a.contract_work_department, pb::MilitaryDepartment::AirForce as i32);

    // The reason is true: more organic work lifts the block.
    baseline(&ex, 40_000_000, 0).await?;
    let plan = propose(&mut j4).await?;
    assert_eq!(plan.assignments.len(), 2, "{plan:?}");
    assert!(plan.assignments.iter().all(|a| a.repair_order != sensitive.name));

    // Only a coordinator commits; the commit proposes each order to its provider.
    let mut mhi = pb::allocation_client::AllocationClient::new(ex.channel(party::MHI).await?);
    let refused = mhi
        .commit(pb::CommitAllocationRequest { assignments: plan.assignments.clone() })
        .await
        .expect_err("a contractor committed");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let done = j4.commit(pb::CommitAllocationRequest { assignments: plan.assignments.clone() }).await?.into_inner();
    assert!(done.results.iter().all(|r| r.proposed), "{done:?}");
    for name in &names {
        let o = usaf.get_repair_order(pb::GetRepairOrderRequest { name: name.clone() }).await?.into_inner();
        assert_eq!((o.state, o.provider.as_str()), (pb::RepairOrderState::Proposed as i32, party::MHI));
    }
    // 36 / (40 + 36) = 47.4 %: under the limit, over the warning.
    let b = air_force_fy2027(&ex, true).await?;
    assert!((b.contract_share.unwrap_or_default() - 36.0 / 76.0).abs() < 1e-12, "{b:?}");
    assert_eq!(b.status, pb::BalanceStatus::Warning as i32);
    assert_eq!(b.proposed.as_ref().map(|p| p.contract_cents), Some(36_000_000));
    // Utilization of MHI's offer and the shares count the proposed work when asked.
    let w = workload(&ex, true).await?;
    let u = w.utilization.iter().find(|u| u.provider == party::MHI).ok_or_else(|| anyhow::anyhow!("{w:?}"))?;
    assert_eq!((u.period_start.as_str(), u.period_end.as_str()), ("2027-01-01", "2027-03-31"));
    assert!((u.offered - 4000.0).abs() < 1e-9 && (u.used - 960.0).abs() < 1e-9, "{u:?}");
    assert!((u.utilization.unwrap_or_default() - 0.24).abs() < 1e-12, "{u:?}");
    let jpn = w.by_nation.iter().find(|s| s.key == "JPN").ok_or_else(|| anyhow::anyhow!("{w:?}"))?;
    assert_eq!((jpn.cents, jpn.share_of_cents), (36_000_000, Some(1.0)));
    assert_eq!(w.by_region.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(), ["INDOPACOM"]);
    // Without proposed work nothing is used yet.
    let w = workload(&ex, false).await?;
    assert!(w.utilization.iter().all(|u| u.used == 0.0) && w.by_nation.is_empty(), "{w:?}");
    // Committing the same plan again changes nothing: the orders are no longer open.
    let again = j4.commit(pb::CommitAllocationRequest { assignments: plan.assignments }).await?.into_inner();
    assert!(again.results.iter().all(|r| !r.proposed));
    Ok(())
}

#[tokio::test]
async fn a_commit_that_would_pass_50_percent_is_refused_whole() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    ex.create_offer(eligible_offer()).await?;
    let mut assignments = Vec::new();
    for _ in 0..2 {
        let o = ex.create_order(party::USAF, repair_order(party::USAF)).await?;
        assignments.push(to_mhi(o));
    }
    baseline(&ex, 30_000_000, 0).await?;
    let mut j4 = pb::allocation_client::AllocationClient::new(ex.channel(party::COORDINATOR).await?);
    let status = j4.commit(pb::CommitAllocationRequest { assignments }).await.expect_err("went over 50 %");
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    assert!(status.message().contains("50 %"), "{}", status.message());
    let b = air_force_fy2027(&ex, true).await?;
    assert_eq!(b.proposed.as_ref().map(|p| p.contract_cents), Some(0));
    Ok(())
}

#[tokio::test]
async fn a_year_already_over_50_percent_does_not_block_work_for_another() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    ex.create_offer(eligible_offer()).await?;
    // FY2027 is over the limit already (work outside the exchange); FY2028 has room.
    baseline_for(&ex, 2027, 0, 10_000_000).await?;
    baseline_for(&ex, 2028, 100_000_000, 0).await?;
    let mut order = repair_order(party::USAF);
    order.required_by = "2027-11-30".into();
    let o = ex.create_order(party::USAF, order).await?;
    let assignments = vec![to_mhi(o)];
    let mut j4 = pb::allocation_client::AllocationClient::new(ex.channel(party::COORDINATOR).await?);
    let done = j4.commit(pb::CommitAllocationRequest { assignments }).await?.into_inner();
    assert!(done.results.len() == 1 && done.results[0].proposed, "{done:?}");
    Ok(())
}

#[tokio::test]
async fn fy2027_funds_for_work_required_in_october_2027_count_in_fy2027() -> anyhow::Result<()> {
    // 10 U.S.C. 2466 limits the share of the funds made available in a fiscal year: work paid
    // with FY2027 funds counts in FY2027 even when it is required by 2027-10-15 (FY2028).
    let ex = TestExchange::start().await?;
    ex.create_offer(eligible_offer()).await?;
    let mut late = repair_order(party::USAF);
    late.required_by = "2027-10-15".into();
    let late = ex.create_order(party::USAF, late).await?;
    // The same work with no funds' year stated counts in the fiscal year of its date.
    let mut unfunded = repair_order(party::USAF);
    unfunded.required_by = "2027-10-15".into();
    if let Some(f) = unfunded.funding.as_mut() {
        f.source = None;
    }
    let unfunded = ex.create_order(party::USAF, unfunded).await?;
    ex.propose(&late, party::MHI).await?;
    ex.propose(&unfunded, party::MHI).await?;

    let fy2027 = air_force_fy2027(&ex, true).await?;
    assert_eq!(fy2027.proposed.as_ref().map(|s| s.contract_cents), Some(18_000_000), "{fy2027:?}");
    assert_eq!(fy2027.by_funds_year.as_ref().map(|s| s.contract_cents), Some(18_000_000), "{fy2027:?}");
    assert_eq!(fy2027.by_work_date.as_ref().map(|s| s.contract_cents), Some(0), "{fy2027:?}");
    // By month: the FY2027 funds' work sits in the month of its date, October 2027.
    let months = |b: &pb::DepartmentBalance| -> Vec<(String, i64, Option<f64>)> {
        b.by_month
            .iter()
            .map(|m| (m.month.clone(), m.work.map_or(0, |w| w.contract_cents), m.cumulative_contract_share))
            .collect()
    };
    assert_eq!(months(&fy2027), [("2027-10".to_owned(), 18_000_000, Some(1.0))]);
    assert!(air_force_fy2027(&ex, false).await?.by_month.is_empty(), "proposed work only when asked");
    let all = pb::signals_client::SignalsClient::new(ex.channel(party::COORDINATOR).await?)
        .get_workload_balance(pb::GetWorkloadBalanceRequest {
            fiscal_year: 2028,
            include_proposed: true,
            ..Default::default()
        })
        .await?
        .into_inner();
    let fy2028 = all.departments.first().ok_or_else(|| anyhow::anyhow!("no FY2028 balance: {all:?}"))?;
    assert_eq!(fy2028.by_work_date.as_ref().map(|s| s.contract_cents), Some(18_000_000), "{fy2028:?}");
    assert_eq!(fy2028.by_funds_year.as_ref().map(|s| s.contract_cents), Some(0), "{fy2028:?}");
    assert_eq!(months(fy2028), [("2027-10".to_owned(), 18_000_000, Some(1.0))]);
    Ok(())
}

#[tokio::test]
async fn work_at_a_us_depot_on_an_item_in_japan_counts_for_northcom_and_the_usa() -> anyhow::Result<()> {
    // Regional shares count where MRO capacity is used (DESIGN §2), not where the item is.
    let ex = TestExchange::start().await?;
    let mut ogden = capacity_offer(party::USAF);
    ogden.site = Some(pb::Site {
        name: "Ogden ALC, Hill AFB".into(),
        nation: "USA".into(),
        region: pb::Region::Northcom as i32,
        latitude: 41.1239,
        longitude: -111.9731,
    });
    ogden.authorizations.clear();
    ex.create_offer(ogden).await?;
    // An Australian F-35A module at Kadena AB, Japan (INDOPACOM), repaired at Ogden.
    let mut order = repair_order(party::RAAF);
    order.department = 0;
    if let Some(f) = order.funding.as_mut() {
        f.source = Some(pb::funding::Source::FmsCase(pb::funding::FmsCase { loa_id: "AT-D-QAA".into() }));
    }
    let order = ex.create_order(party::RAAF, order).await?;
    ex.propose(&order, party::USAF).await?;
    let answer = workload(&ex, true).await?;
    let keys = |rows: &[pb::WorkShare]| rows.iter().map(|r| r.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&answer.by_region), ["NORTHCOM"], "{answer:?}");
    assert_eq!(keys(&answer.by_nation), ["USA"], "{answer:?}");
    Ok(())
}

/// What a plan says, order by order: the order at its version, and where it goes.
fn placements(plan: &pb::AllocationPlan) -> Vec<(String, i64, String)> {
    plan.assignments.iter().map(|a| (a.repair_order.clone(), a.order_version, a.capacity_offer.clone())).collect()
}

#[tokio::test]
async fn a_declined_order_is_planned_again_a_cancelled_one_never_and_a_restart_plans_the_same() -> anyhow::Result<()> {
    let mut ex = TestExchange::start().await?;
    ex.create_offer(eligible_offer()).await?;
    let mut orders = Vec::new();
    for _ in 0..3 {
        orders.push(ex.create_order(party::USAF, repair_order(party::USAF)).await?);
    }
    baseline(&ex, 1_000_000_000, 0).await?;
    let mut j4 = pb::allocation_client::AllocationClient::new(ex.channel(party::COORDINATOR).await?);
    let first = propose(&mut j4).await?;
    assert_eq!((first.open_orders, first.assignments.len()), (3, 3), "{first:?}");

    // Proposed by hand, then declined: open again, at its new version.
    ex.propose(&orders[0], party::MHI).await?;
    let plan = propose(&mut j4).await?;
    assert_eq!(plan.open_orders, 2, "{plan:?}");
    assert!(plan.assignments.iter().all(|a| a.repair_order != orders[0].name), "{plan:?}");
    ex.exchange(party::MHI)
        .await?
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: orders[0].name.clone(),
            version: orders[0].version + 1,
            action: pb::RepairOrderAction::Decline as i32,
            reason: "no slot this quarter".into(),
            ..Default::default()
        })
        .await?;
    let declined = propose(&mut j4).await?;
    assert_eq!(declined.open_orders, 3, "{declined:?}");
    let again = declined.assignments.iter().find(|a| a.repair_order == orders[0].name);
    assert_eq!(again.map(|a| a.order_version), Some(orders[0].version + 2), "{declined:?}");

    // Cancelled by its originator: never planned again, and a commit of it is refused.
    ex.exchange(party::USAF)
        .await?
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: orders[1].name.clone(),
            version: orders[1].version,
            action: pb::RepairOrderAction::Cancel as i32,
            ..Default::default()
        })
        .await?;
    let plan = propose(&mut j4).await?;
    assert_eq!(plan.open_orders, 2, "{plan:?}");
    assert!(plan.assignments.iter().chain(&first.assignments).any(|a| a.repair_order == orders[1].name));
    assert!(plan.assignments.iter().all(|a| a.repair_order != orders[1].name), "{plan:?}");
    let stale: Vec<pb::AllocationAssignment> =
        first.assignments.iter().filter(|a| a.repair_order == orders[1].name).cloned().collect();
    let refused = j4.commit(pb::CommitAllocationRequest { assignments: stale }).await?.into_inner();
    assert_eq!(refused.results.len(), 1, "{refused:?}");
    assert!(!refused.results[0].proposed && refused.results[0].error.contains("not open"), "{refused:?}");

    // A new coordinator process rebuilds the open orders from the log: the same plan.
    ex.restart().await?;
    let mut j4 = pb::allocation_client::AllocationClient::new(ex.channel(party::COORDINATOR).await?);
    let after = propose(&mut j4).await?;
    assert_eq!(placements(&after), placements(&plan));
    assert_eq!((after.open_orders, after.offers), (plan.open_orders, plan.offers));
    // And commits it: the proposals land at the versions the plan gave.
    let done = j4.commit(pb::CommitAllocationRequest { assignments: after.assignments.clone() }).await?.into_inner();
    assert!(done.results.iter().all(|r| r.proposed), "{done:?}");
    assert_eq!(propose(&mut j4).await?.open_orders, 0);
    Ok(())
}
