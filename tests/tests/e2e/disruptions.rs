//! Disruption notices through the API: a typhoon at a Japanese contractor's
//! depot cuts its capacity in the capacity comparison for the disrupted
//! days, the orders it strands are listed, a re-plan moves them to a
//! Korean contractor and a coordinator commits it (the new provider still
//! accepts); only the declaring provider updates or resolves; parties with
//! no order at the site see nothing; bad notices are refused field by field.

use std::time::Duration;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, capacity_offer, party, repair_order};
use tonic::Code;
use tonic_types::StatusExt;

type Disruptions = pb::disruptions_client::DisruptionsClient<tonic::transport::Channel>;

async fn disruptions(ex: &TestExchange, who: &str) -> anyhow::Result<Disruptions> {
    Ok(pb::disruptions_client::DisruptionsClient::new(ex.channel(who).await?))
}

fn fields(status: &tonic::Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|f| f.field).collect())
        .unwrap_or_default()
}

/// An F-35A depot offer from `provider` at `site` with the approvals a
/// foreign contractor needs for US-owned F-35A work, at `rate` cents an hour.
fn offer(provider: &str, site: &str, nation: &str, (latitude, longitude): (f64, f64), rate: i64) -> pb::CapacityOffer {
    let mut offer = capacity_offer(provider);
    offer.rate = Some(pb::Money { currency_code: "USD".into(), amount_minor: rate });
    offer.site = Some(pb::Site {
        name: site.into(),
        nation: nation.into(),
        region: pb::Region::Indopacom as i32,
        latitude,
        longitude,
    });
    offer.authorizations.push(pb::ProviderAuthorization {
        kind: pb::provider_authorization::Kind::PrimeFacilityApproval as i32,
        tms: "F-35A".into(),
        reference: "LM-FA-2026-014".into(),
        ..Default::default()
    });
    offer
}

/// The typhoon: all F-35A depot capacity at Komaki South lost in March 2027.
fn typhoon() -> pb::Disruption {
    pb::Disruption {
        site: "Komaki South".into(),
        cause: pb::DisruptionCause::NaturalDisaster as i32,
        capacity_reduction_percent: 100,
        capabilities: vec![pb::AffectedCapability {
            tms_or_family: "F-35A".into(),
            maintenance_level: pb::MaintenanceLevel::Depot as i32,
        }],
        start_date: "2027-03-01".into(),
        expected_end_date: "2027-03-31".into(),
        text: "Typhoon: hangar 3 roof lost, power out".into(),
        ..Default::default()
    }
}

struct World {
    ex: TestExchange,
    /// USAF's orders with MHI: one ACCEPTED, one PROPOSED.
    stranded: Vec<pb::RepairOrder>,
    /// A USAF order proposed to KAI: not at the disrupted site.
    elsewhere: pb::RepairOrder,
}

async fn accept(ex: &TestExchange, who: &str, o: &pb::RepairOrder) -> anyhow::Result<pb::RepairOrder> {
    Ok(ex
        .exchange(who)
        .await?
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: o.name.clone(),
            version: o.version,
            action: pb::RepairOrderAction::Accept as i32,
            ..Default::default()
        })
        .await?
        .into_inner())
}

async fn world() -> anyhow::Result<World> {
    let ex = TestExchange::start().await?;
    // Enough organic work that contract moves never meet the 50/50 limit.
    ex.set_air_force_baseline(2027, 10_000_000_000, 0).await?;
    for o in [
        // Komaki South is the cheaper depot for work from Kadena; Sacheon is nearer but dearer.
        offer(party::MHI, "Komaki South", "JPN", (35.2553, 136.9244), 18_500),
        offer(party::KAI, "Sacheon", "KOR", (35.0886, 128.0706), 60_000),
    ] {
        ex.create_offer(o).await?;
    }
    let mut usaf = ex.exchange(party::USAF).await?;
    let mut created = Vec::new();
    for _ in 0..3 {
        let request =
            pb::CreateRepairOrderRequest { repair_order: Some(repair_order(party::USAF)), ..Default::default() };
        created.push(usaf.create_repair_order(request).await?.into_inner());
    }
    let accepted = accept(&ex, party::MHI, &ex.propose(&created[0], party::MHI).await?).await?;
    let proposed = ex.propose(&created[1], party::MHI).await?;
    let elsewhere = ex.propose(&created[2], party::KAI).await?;
    Ok(World { ex, stranded: vec![accepted, proposed], elsewhere })
}

/// The coordinator's F-35A depot capacity row for `month` (ACTUAL demand).
async fn capacity(ex: &TestExchange, month: &str) -> anyhow::Result<f64> {
    let answer = pb::signals_client::SignalsClient::new(ex.channel(party::COORDINATOR).await?)
        .get_capacity_comparison(pb::GetCapacityComparisonRequest {
            granularity: pb::Granularity::Month as i32,
            ..Default::default()
        })
        .await?
        .into_inner();
    answer
        .rows
        .iter()
        .find(|r| {
            r.period.as_ref().is_some_and(|p| p.label == month)
                && r.key.as_ref().is_some_and(|k| k.tms == "F-35A")
                && r.demand_kind == "ACTUAL"
        })
        .map(|r| r.capacity)
        .ok_or_else(|| anyhow::anyhow!("no {month} row in {answer:?}"))
}

async fn declare(c: &mut Disruptions, d: pb::Disruption, request_id: &str) -> Result<pb::Disruption, tonic::Status> {
    c.declare_disruption(pb::DeclareDisruptionRequest { disruption: Some(d), request_id: request_id.into() })
        .await
        .map(|r| r.into_inner())
}

async fn affected(c: &mut Disruptions, d: &pb::Disruption) -> Result<Vec<String>, tonic::Status> {
    let orders = c
        .list_affected_orders(pb::ListAffectedOrdersRequest { name: d.name.clone() })
        .await?
        .into_inner()
        .repair_orders;
    let mut names: Vec<String> = orders.into_iter().map(|o| o.name).collect();
    names.sort();
    Ok(names)
}

async fn replan(c: &mut Disruptions, d: &pb::Disruption) -> Result<pb::AllocationPlan, tonic::Status> {
    c.propose_replan(pb::ProposeReplanRequest { name: d.name.clone(), as_of: "2026-12-01".into() })
        .await
        .map(|r| r.into_inner())
}

/// `who`'s disruption events from the start, as (kind, version), read until quiet.
async fn disruption_events(ex: &TestExchange, who: &str) -> anyhow::Result<Vec<(i32, i64)>> {
    let mut stream = ex.feed(who).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    let mut out = Vec::new();
    while let Ok(next) = tokio::time::timeout(Duration::from_millis(400), stream.message()).await {
        let Some(e) = next? else { break };
        if let Some(pb::event::Subject::Disruption(d)) = &e.subject {
            out.push((e.kind, d.version));
        }
    }
    Ok(out)
}

#[tokio::test]
async fn a_typhoon_cuts_capacity_strands_orders_and_the_replan_moves_them_to_another_provider() -> anyhow::Result<()> {
    let World { ex, stranded, elsewhere } = world().await?;
    let mut names: Vec<String> = stranded.iter().map(|o| o.name.clone()).collect();
    names.sort();
    let (mut mhi, mut usaf, mut j4) = (
        disruptions(&ex, party::MHI).await?,
        disruptions(&ex, party::USAF).await?,
        disruptions(&ex, party::COORDINATOR).await?,
    );
    // Both sites offer 4,000 h over January to March: 4000 × 31/90 h each in March.
    let march = 4000.0 * 31.0 / 90.0;
    let feb = 4000.0 * 28.0 / 90.0;
    assert!((capacity(&ex, "2027-03").await? - 2.0 * march).abs() < 1e-6);

    let d = declare(&mut mhi, typhoon(), "typhoon").await?;
    assert_eq!((d.state, d.version, d.provider.as_str()), (pb::DisruptionState::Active as i32, 1, party::MHI));
    assert!(d.name.starts_with(&format!("disruptions/{}.", party::MHI)), "{}", d.name);
    assert_eq!(d.affected_parties, [party::USAF], "the owner of the stranded orders");
    assert_eq!(declare(&mut mhi, typhoon(), "typhoon").await?, d, "a repeated request id replays");

    // Komaki South's March capacity is gone; February's is untouched.
    assert!((capacity(&ex, "2027-03").await? - march).abs() < 1e-6, "only Sacheon's March capacity remains");
    assert!((capacity(&ex, "2027-02").await? - 2.0 * feb).abs() < 1e-6);

    // The stranded orders: the ACCEPTED and the PROPOSED one, not the order at Sacheon.
    assert_eq!(affected(&mut j4, &d).await?, names);
    assert_eq!(affected(&mut mhi, &d).await?, names);
    assert_eq!(affected(&mut usaf, &d).await?, names);
    assert!(!affected(&mut j4, &d).await?.contains(&elsewhere.name));

    // A March-only loss leaves Komaki South 59 of its 90 days: the work stays, and says why.
    let plan = replan(&mut j4, &d).await?;
    assert!(plan.assignments.is_empty(), "{plan:?}");
    assert_eq!(plan.unplaced.len(), 2, "{plan:?}");
    assert!(plan.unplaced.iter().all(|u| u.reason == "STAYS_AT_DISRUPTED_SITE"), "{plan:?}");

    // The provider extends the notice to the whole quarter: now nothing fits at Komaki South.
    let mut longer = typhoon();
    longer.name = d.name.clone();
    longer.version = d.version;
    longer.start_date = "2027-01-01".into();
    let d = mhi
        .update_disruption(pb::UpdateDisruptionRequest { disruption: Some(longer), request_id: "longer".into() })
        .await?
        .into_inner();
    assert_eq!((d.version, d.start_date.as_str()), (2, "2027-01-01"));
    assert!((capacity(&ex, "2027-02").await? - feb).abs() < 1e-6, "February is lost too");

    let plan = replan(&mut j4, &d).await?;
    assert_eq!(plan.open_orders, 2, "{plan:?}");
    assert_eq!(plan.assignments.len(), 2, "{plan:?}");
    for a in &plan.assignments {
        assert_eq!((a.provider.as_str(), a.disruption.as_str()), (party::KAI, d.name.as_str()), "{a:?}");
        assert!(a.distance_km > 0.0 && a.eligible_offers >= 1, "{a:?}");
    }
    // Only a coordinator re-plans.
    let err = replan(&mut mhi, &d).await.expect_err("a provider re-planned");
    assert_eq!(err.code(), Code::PermissionDenied);

    let mut allocation = pb::allocation_client::AllocationClient::new(ex.channel(party::COORDINATOR).await?);
    let done = allocation.commit(pb::CommitAllocationRequest { assignments: plan.assignments.clone() }).await?;
    assert!(done.get_ref().results.iter().all(|r| r.proposed), "{done:?}");
    let mut usaf_x = ex.exchange(party::USAF).await?;
    for name in &names {
        let o = usaf_x.get_repair_order(pb::GetRepairOrderRequest { name: name.clone() }).await?.into_inner();
        assert_eq!((o.state, o.provider.as_str()), (pb::RepairOrderState::Proposed as i32, party::KAI), "{o:?}");
        let history = usaf_x
            .get_repair_order_history(pb::GetRepairOrderHistoryRequest { name: name.clone() })
            .await?
            .into_inner()
            .transitions;
        let last = history.last().cloned().unwrap_or_default();
        assert_eq!((last.actor.as_str(), last.provider.as_str()), (party::COORDINATOR, party::KAI));
        assert!(last.reason.contains(&d.name), "{}", last.reason);
    }
    // The work left the site; committing the same plan again moves nothing.
    assert!(affected(&mut j4, &d).await?.is_empty());
    let again = allocation.commit(pb::CommitAllocationRequest { assignments: plan.assignments }).await?;
    assert!(again.get_ref().results.iter().all(|r| !r.proposed), "{again:?}");
    // Nothing is accepted on the new provider's behalf: it accepts itself.
    let moved = usaf_x.get_repair_order(pb::GetRepairOrderRequest { name: names[0].clone() }).await?.into_inner();
    assert_eq!(accept(&ex, party::KAI, &moved).await?.state, pb::RepairOrderState::Accepted as i32);

    // Resolved: the capacity comes back.
    let resolved = mhi
        .resolve_disruption(pb::ResolveDisruptionRequest {
            name: d.name.clone(),
            resolution: "Power restored, roof patched".into(),
            version: d.version,
            request_id: String::new(),
        })
        .await?
        .into_inner();
    assert_eq!((resolved.state, resolved.version), (pb::DisruptionState::Resolved as i32, 3));
    assert!((capacity(&ex, "2027-03").await? - 2.0 * march).abs() < 1e-6);

    // The feed: declared, updated, resolved, for the provider, the owner and coordinators only.
    use pb::EventKind as K;
    let expected =
        vec![(K::DisruptionDeclared as i32, 1), (K::DisruptionUpdated as i32, 2), (K::DisruptionResolved as i32, 3)];
    assert_eq!(disruption_events(&ex, party::MHI).await?, expected);
    assert_eq!(disruption_events(&ex, party::USAF).await?, expected);
    assert_eq!(disruption_events(&ex, party::COORDINATOR).await?, expected);
    assert!(disruption_events(&ex, party::RAAF).await?.is_empty());
    assert!(disruption_events(&ex, party::KAI).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn parties_with_no_order_at_the_site_see_nothing_and_only_the_declarer_changes_it() -> anyhow::Result<()> {
    let World { ex, stranded, elsewhere } = world().await?;
    let (mut mhi, mut usaf, mut kai, mut raaf, mut j4) = (
        disruptions(&ex, party::MHI).await?,
        disruptions(&ex, party::USAF).await?,
        disruptions(&ex, party::KAI).await?,
        disruptions(&ex, party::RAAF).await?,
        disruptions(&ex, party::COORDINATOR).await?,
    );
    let d = declare(&mut mhi, typhoon(), "").await?;
    // Unrelated parties: NOT_FOUND, as for a disruption that does not exist, and empty lists.
    let missing = format!("disruptions/{}.nothing", party::MHI);
    for c in [&mut kai, &mut raaf] {
        for name in [d.name.clone(), missing.clone()] {
            let err = c.get_disruption(pb::GetDisruptionRequest { name: name.clone() }).await.expect_err("hidden");
            assert_eq!(err.code(), Code::NotFound, "{name}");
            let err =
                c.list_affected_orders(pb::ListAffectedOrdersRequest { name: name.clone() }).await.expect_err("hidden");
            assert_eq!(err.code(), Code::NotFound, "{name}");
        }
        let listed = c.list_disruptions(pb::ListDisruptionsRequest::default()).await?.into_inner();
        assert!(listed.disruptions.is_empty());
    }
    // The owner sees it, for its orders; the coordinator lists it.
    assert_eq!(usaf.get_disruption(pb::GetDisruptionRequest { name: d.name.clone() }).await?.into_inner(), d);
    assert_eq!(
        j4.list_disruptions(pb::ListDisruptionsRequest::default()).await?.into_inner().disruptions,
        std::slice::from_ref(&d)
    );

    // Only the declarer updates or resolves: another contractor cannot even find it; the owner may not.
    let mut change = typhoon();
    change.name = d.name.clone();
    change.version = d.version;
    change.capacity_reduction_percent = 10;
    let update = |request_id: &str, d: pb::Disruption| pb::UpdateDisruptionRequest {
        disruption: Some(d),
        request_id: request_id.into(),
    };
    let err = kai.update_disruption(update("", change.clone())).await.expect_err("refused");
    assert_eq!(err.code(), Code::NotFound);
    let err = usaf.update_disruption(update("", change.clone())).await.expect_err("refused");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let resolve = |resolution: &str, version: i64| pb::ResolveDisruptionRequest {
        name: d.name.clone(),
        resolution: resolution.into(),
        version,
        request_id: String::new(),
    };
    let err = usaf.resolve_disruption(resolve("over", 1)).await.expect_err("refused");
    assert_eq!(err.code(), Code::PermissionDenied);
    // A stale version, a moved site, a resolution without text.
    let err = mhi.update_disruption(update("", pb::Disruption { version: 7, ..change.clone() })).await.expect_err("x");
    assert_eq!(err.code(), Code::Aborted, "{err:?}");
    let moved = pb::Disruption { site: "Nagoya".into(), ..change.clone() };
    let err = mhi.update_disruption(update("", moved)).await.expect_err("refused");
    assert_eq!(fields(&err), ["disruption.site"], "{err:?}");
    let err = mhi.resolve_disruption(resolve("  ", 1)).await.expect_err("refused");
    assert_eq!((err.code(), fields(&err)), (Code::InvalidArgument, vec!["resolution".to_owned()]), "{err:?}");
    // Nothing changed.
    let same = mhi.get_disruption(pb::GetDisruptionRequest { name: d.name.clone() }).await?.into_inner();
    assert_eq!(same, d);

    // A coordinator moves only stranded work, and a provider commits nothing.
    let mut allocation = pb::allocation_client::AllocationClient::new(ex.channel(party::COORDINATOR).await?);
    let sneak = |o: &pb::RepairOrder, provider: &str| pb::AllocationAssignment {
        repair_order: o.name.clone(),
        order_version: o.version,
        provider: provider.into(),
        disruption: d.name.clone(),
        ..Default::default()
    };
    let done = allocation
        .commit(pb::CommitAllocationRequest {
            assignments: vec![sneak(&elsewhere, party::MHI), sneak(&stranded[0], party::MHI)],
        })
        .await?
        .into_inner();
    assert!(done.results.iter().all(|r| !r.proposed), "{done:?}");
    assert!(done.results[0].error.contains("not PROPOSED or ACCEPTED"), "{done:?}");
    assert!(done.results[1].error.contains("other than the disrupted"), "{done:?}");

    // Resolved is final.
    let resolved = mhi.resolve_disruption(resolve("Roof patched", 1)).await?.into_inner();
    let err = mhi
        .update_disruption(update("", pb::Disruption { version: resolved.version, ..change }))
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let err = replan(&mut j4, &resolved).await.expect_err("refused");
    assert_eq!(err.code(), Code::FailedPrecondition);
    Ok(())
}

#[tokio::test]
async fn a_loss_in_hours_per_month_takes_exactly_those_hours_from_the_sites_capacity() -> anyhow::Result<()> {
    let World { ex, stranded, .. } = world().await?;
    let (mut mhi, mut j4) = (disruptions(&ex, party::MHI).await?, disruptions(&ex, party::COORDINATOR).await?);
    let (march, feb) = (4000.0 * 31.0 / 90.0, 4000.0 * 28.0 / 90.0);
    // Both a percentage and hours, or more hours than any site: refused by name, nothing stored.
    let both = pb::Disruption { capacity_reduction_hours_per_month: 620, ..typhoon() };
    let err = declare(&mut mhi, both, "").await.expect_err("both");
    assert_eq!(fields(&err), ["disruption.capacity_reduction_hours_per_month"], "{err:?}");
    let huge =
        pb::Disruption { capacity_reduction_percent: 0, capacity_reduction_hours_per_month: 1_000_001, ..typhoon() };
    let err = declare(&mut mhi, huge, "").await.expect_err("too many hours");
    assert_eq!(fields(&err), ["disruption.capacity_reduction_hours_per_month"], "{err:?}");
    assert!(j4.list_disruptions(pb::ListDisruptionsRequest::default()).await?.into_inner().disruptions.is_empty());

    // 620 F-35A depot hours a month lost at Komaki South in March.
    let hours = pb::Disruption { capacity_reduction_percent: 0, capacity_reduction_hours_per_month: 620, ..typhoon() };
    let d = declare(&mut mhi, hours, "hours").await?;
    assert_eq!((d.capacity_reduction_percent, d.capacity_reduction_hours_per_month), (0, 620));
    assert!((capacity(&ex, "2027-03").await? - (2.0 * march - 620.0)).abs() < 1e-6, "exactly 620 h less");
    assert!((capacity(&ex, "2027-02").await? - 2.0 * feb).abs() < 1e-6, "February untouched");
    // The re-plan counts the same reduction: what remains at Komaki South still fits the work, which stays.
    let plan = replan(&mut j4, &d).await?;
    assert_eq!(plan.unplaced.len(), stranded.len(), "{plan:?}");
    assert!(plan.unplaced.iter().all(|u| u.detail.contains("620 h/month")), "{plan:?}");
    // More hours than the site offers in a month: all of its March capacity is gone, never less than none.
    let mut all =
        pb::Disruption { capacity_reduction_percent: 0, capacity_reduction_hours_per_month: 5000, ..typhoon() };
    all.name = d.name.clone();
    all.version = d.version;
    mhi.update_disruption(pb::UpdateDisruptionRequest { disruption: Some(all), request_id: String::new() }).await?;
    assert!((capacity(&ex, "2027-03").await? - march).abs() < 1e-6, "only Sacheon's March capacity remains");
    Ok(())
}

#[tokio::test]
async fn bad_notices_are_refused_field_by_field_and_only_providers_declare_for_their_own_sites() -> anyhow::Result<()> {
    let World { ex, .. } = world().await?;
    let (mut mhi, mut kai, mut j4) = (
        disruptions(&ex, party::MHI).await?,
        disruptions(&ex, party::KAI).await?,
        disruptions(&ex, party::COORDINATOR).await?,
    );
    let bad = pb::Disruption {
        cause: 0,
        capacity_reduction_percent: 101,
        start_date: "2027-03-31".into(),
        expected_end_date: "2027-03-01".into(),
        text: String::new(),
        ..typhoon()
    };
    let err = declare(&mut mhi, bad, "bad").await.expect_err("refused");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        fields(&err),
        [
            "disruption.cause",
            "disruption.capacity_reduction_percent",
            "disruption.expected_end_date",
            "disruption.text"
        ],
        "{err:?}"
    );
    // A huge list and a huge text.
    let huge = pb::Disruption {
        capabilities: vec![pb::AffectedCapability { tms_or_family: "F-35A".into(), maintenance_level: 0 }; 65],
        text: "x".repeat(5001),
        ..typhoon()
    };
    let err = declare(&mut mhi, huge, "").await.expect_err("refused");
    assert_eq!(fields(&err), ["disruption.capabilities", "disruption.text"], "{err:?}");
    // Another party's site, a site nobody has, and a coordinating office.
    let err = declare(&mut kai, typhoon(), "").await.expect_err("refused");
    assert_eq!(fields(&err), ["disruption.site"], "KAI has no offer at Komaki South: {err:?}");
    let err = declare(&mut mhi, pb::Disruption { site: "Atlantis".into(), ..typhoon() }, "").await.expect_err("x");
    assert_eq!(fields(&err), ["disruption.site"]);
    let err = declare(&mut j4, typhoon(), "").await.expect_err("refused");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    // A refused request changes nothing: no disruption, no event, the request id still free.
    assert!(j4.list_disruptions(pb::ListDisruptionsRequest::default()).await?.into_inner().disruptions.is_empty());
    assert!(disruption_events(&ex, party::COORDINATOR).await?.is_empty());
    let d = declare(&mut mhi, typhoon(), "bad").await?;
    assert_eq!(d.version, 1);
    Ok(())
}

#[tokio::test]
async fn a_disruption_is_declared_and_resolved_over_http_json_with_the_same_rules() -> anyhow::Result<()> {
    use cosx_tests::http_json;
    use http::{Method, StatusCode};
    use serde_json::json;
    let World { ex, .. } = world().await?;
    let (mhi, raaf) = (ex.channel(party::MHI).await?, ex.channel(party::RAAF).await?);
    let notice = json!({
        "site": "Komaki South",
        "cause": "DISRUPTION_CAUSE_HOSTILE_ACTION",
        "capacityReductionPercent": 40,
        "startDate": "2027-02-01",
        "expectedEndDate": "2027-02-28",
        "text": "Port closed: parts cannot reach the depot",
    });
    let declared = http_json(&mhi, Method::POST, "/v1/disruptions", &[], Some(notice)).await?;
    assert_eq!(declared.status, StatusCode::OK, "{}", declared.body);
    assert_eq!(declared.body["state"], "DISRUPTION_STATE_ACTIVE");
    let name = declared.body["name"].as_str().unwrap_or_default().to_owned();
    let hidden = http_json(&raaf, Method::GET, &format!("/v1/{name}"), &[], None).await?;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);
    let refused =
        http_json(&mhi, Method::POST, &format!("/v1/{name}:resolve"), &[], Some(json!({"version": 1}))).await?;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.to_string().contains("resolution"), "{}", refused.body);
    let resolved = http_json(
        &mhi,
        Method::POST,
        &format!("/v1/{name}:resolve"),
        &[],
        Some(json!({"version": 1, "resolution": "Port reopened"})),
    )
    .await?;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    assert_eq!(resolved.body["state"], "DISRUPTION_STATE_RESOLVED");
    Ok(())
}

#[tokio::test]
async fn cosx_disruption_declares_lists_and_replans() -> anyhow::Result<()> {
    use super::cli::{cosx, pki_dir};
    let World { ex, .. } = world().await?;
    let dir = pki_dir(&ex)?;
    let pki = dir.path();
    let declare = |percent: &'static str| {
        [
            "disruption",
            "declare",
            "--site",
            "Komaki South",
            "--cause",
            "natural-disaster",
            "--reduction-percent",
            percent,
            "--capability",
            "F-35A:depot",
            "--start",
            "2027-01-01",
            "--expected-end",
            "2027-03-31",
            "--text",
            "Typhoon",
        ]
    };
    // A percentage past 100 is the coordinator's to refuse, and the command fails.
    assert!(!cosx(&ex, party::MHI, pki, &declare("150")).await);
    assert!(cosx(&ex, party::MHI, pki, &declare("100")).await);
    assert!(cosx(&ex, party::MHI, pki, &["disruption", "list", "--state", "active"]).await);
    let d = disruptions(&ex, party::COORDINATOR)
        .await?
        .list_disruptions(pb::ListDisruptionsRequest::default())
        .await?
        .into_inner()
        .disruptions;
    assert_eq!(d.len(), 1);
    assert!(cosx(&ex, party::COORDINATOR, pki, &["disruption", "affected", &d[0].name]).await);
    assert!(cosx(&ex, party::COORDINATOR, pki, &["disruption", "replan", &d[0].name, "--commit"]).await);
    let left = affected(&mut disruptions(&ex, party::COORDINATOR).await?, &d[0]).await?;
    assert!(left.is_empty(), "the re-plan moved the stranded work: {left:?}");
    Ok(())
}

#[tokio::test]
async fn a_provider_declares_through_its_own_node_as_it_would_at_the_coordinator() -> anyhow::Result<()> {
    let World { ex, .. } = world().await?;
    let node = ex.start_node(party::MHI).await?;
    // The node checks the notice against its replica (its own offers' sites), queues it and forwards it.
    node.settled(Duration::from_secs(30)).await?;
    let mut at_node = pb::disruptions_client::DisruptionsClient::new(ex.node_channel(&node).await?);
    let d = declare(&mut at_node, typhoon(), "via-node").await?;
    node.settled(Duration::from_secs(30)).await?;
    let mut direct = disruptions(&ex, party::MHI).await?;
    let direct = direct.get_disruption(pb::GetDisruptionRequest { name: d.name.clone() }).await?.into_inner();
    // Named alike, the same notice; its times (and whom it strands) are the coordinator's.
    let (create_time, update_time, affected_parties) = (d.create_time, d.update_time, d.affected_parties.clone());
    assert_eq!(pb::Disruption { create_time, update_time, affected_parties, ..direct }, d);
    Ok(())
}
