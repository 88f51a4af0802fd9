//! Allocation behaviour on hand-built cases: each hard constraint and each
//! unplaced reason, shown true by changing the blocking condition and
//! seeing the order placed.
#![allow(clippy::unwrap_used, clippy::cloned_ref_to_slice_refs)]

mod common;

use chrono::Duration;
use common::{config, date, f16_offer, f16_order as order, nation, roomy};
use cosx_allocation::{
    AllocationConfig, AllocationPlan, CapacityOffer, CapacityPeriod, CapacityUnit, Department, FiscalYear,
    FundsBalance, GeoPoint, Ineligibility, InputError, MaintenanceLevel, OpenOrder, Priority, ProviderKind, RepairType,
    UnplacedReason, allocate, check_plan,
};

/// An offer of F-16C depot repair (and overhaul), 100 hours in each of October, November, December 2026.
fn offer(id: &str, kind: ProviderKind, nat: &str) -> CapacityOffer {
    let mut offer = f16_offer(id, &format!("P-{id}"), kind, nat);
    offer.capabilities[0].repair_types.push(RepairType::Overhaul);
    offer
}

fn organic(id: &str) -> CapacityOffer {
    offer(id, ProviderKind::Organic, "USA")
}

fn run(orders: &[OpenOrder], offers: &[CapacityOffer], balances: &[FundsBalance]) -> AllocationPlan {
    run_with(orders, offers, balances, &config())
}

fn run_with(
    orders: &[OpenOrder],
    offers: &[CapacityOffer],
    balances: &[FundsBalance],
    c: &AllocationConfig,
) -> AllocationPlan {
    let plan = allocate(orders, offers, balances, c).unwrap();
    let violations = check_plan(orders, offers, balances, c, &plan);
    assert!(violations.is_empty(), "{violations:?}");
    plan
}

fn reason_of(plan: &AllocationPlan, id: &str) -> Option<UnplacedReason> {
    plan.unplaced.iter().find(|u| u.order_id == id).map(|u| u.reason.clone())
}

fn offer_of(plan: &AllocationPlan, id: &str) -> Option<String> {
    plan.assignments.iter().find(|a| a.order_id == id).map(|a| a.offer_id.clone())
}

#[test]
fn order_without_a_capable_provider_is_placed_once_the_capability_is_offered() {
    let mut o = order("RO-1");
    o.tms = "F-35A".into();
    let mut f = organic("DEPOT");
    let plan = run(&[o.clone()], &[f.clone()], &roomy());
    assert_eq!(reason_of(&plan, "RO-1"), Some(UnplacedReason::NoCapableProvider));

    // Right TMS, wrong level or wrong repair type is still not capable.
    f.capabilities[0].tms = "F-35A".into();
    f.capabilities[0].level = MaintenanceLevel::Intermediate;
    assert_eq!(reason_of(&run(&[o.clone()], &[f.clone()], &roomy()), "RO-1"), Some(UnplacedReason::NoCapableProvider));
    f.capabilities[0].level = MaintenanceLevel::Depot;
    f.capabilities[0].repair_types = vec![RepairType::Inspection];
    assert_eq!(reason_of(&run(&[o.clone()], &[f.clone()], &roomy()), "RO-1"), Some(UnplacedReason::NoCapableProvider));

    f.capabilities[0].repair_types.push(RepairType::RepairAndReturn);
    assert_eq!(offer_of(&run(&[o], &[f], &roomy()), "RO-1").as_deref(), Some("DEPOT"));
}

#[test]
fn an_order_never_goes_to_the_party_that_raised_it() {
    let mut o = order("RO-1");
    let depot = organic("DEPOT");
    o.originator = Some(depot.provider_id.clone());
    let plan = run(&[o.clone()], &[depot.clone()], &roomy());
    assert_eq!(
        reason_of(&plan, "RO-1"),
        Some(UnplacedReason::NoEligibleProvider { blocked_by: vec![Ineligibility::OwnOrder] })
    );
    let other = offer("CONTRACTOR", ProviderKind::Contractor, "USA");
    assert_eq!(offer_of(&run(&[o], &[depot, other], &roomy()), "RO-1").as_deref(), Some("CONTRACTOR"));
}

#[test]
fn organic_only_order_goes_only_to_an_organic_depot() {
    let mut o = order("RO-1");
    o.organic_only = true;
    let contractor = offer("CONTRACTOR", ProviderKind::Contractor, "USA");
    let plan = run(&[o.clone()], &[contractor.clone()], &roomy());
    assert_eq!(
        reason_of(&plan, "RO-1"),
        Some(UnplacedReason::NoEligibleProvider { blocked_by: vec![Ineligibility::OrganicOnly] })
    );
    // Lift the restriction: the contractor takes it.
    o.organic_only = false;
    assert_eq!(offer_of(&run(&[o.clone()], &[contractor.clone()], &roomy()), "RO-1").as_deref(), Some("CONTRACTOR"));
    // Or keep it and add an organic depot, even a dearer one.
    o.organic_only = true;
    let mut depot = organic("DEPOT");
    depot.rate_cents_per_unit = 50_000;
    assert_eq!(offer_of(&run(&[o], &[contractor, depot], &roomy()), "RO-1").as_deref(), Some("DEPOT"));
}

/// DESIGN §2 (export control): an export-controlled item needs an export
/// authorization when the work is done outside the United States; US
/// organic depots and US contractors in the US need none for US-owned items.
/// (Until issue 18 every US contractor was asked for a licence: wrong.)
#[test]
fn export_controlled_order_needs_an_authorization_only_for_work_outside_the_united_states() {
    let mut o = order("RO-1");
    o.export_classification = Some("USML VIII".into());
    // A US contractor at a US site needs no licence for a US-owned item.
    let us_contractor = offer("CONTRACTOR", ProviderKind::Contractor, "USA");
    assert_eq!(offer_of(&run(&[o.clone()], &[us_contractor.clone()], &roomy()), "RO-1").as_deref(), Some("CONTRACTOR"));
    // The same company working at its site in Japan exports the item: it needs a matching authorization.
    let mut abroad = us_contractor.clone();
    abroad.site_nation = Some(nation("JPN"));
    abroad.authorizations.export_licences = vec!["USML XIX".into()];
    assert_eq!(
        reason_of(&run(&[o.clone()], &[abroad.clone()], &roomy()), "RO-1"),
        Some(UnplacedReason::NoEligibleProvider { blocked_by: vec![Ineligibility::ExportControl] })
    );
    abroad.authorizations.export_licences.push("USML VIII".into());
    assert_eq!(offer_of(&run(&[o.clone()], &[abroad], &roomy()), "RO-1").as_deref(), Some("CONTRACTOR"));
    // A Japanese depot needs one too.
    let mut mhi = offer("MHI", ProviderKind::Contractor, "JPN");
    assert_eq!(
        reason_of(&run(&[o.clone()], &[mhi.clone()], &roomy()), "RO-1"),
        Some(UnplacedReason::NoEligibleProvider { blocked_by: vec![Ineligibility::ExportControl] })
    );
    mhi.authorizations.export_licences = vec!["USML VIII".into()];
    assert_eq!(offer_of(&run(&[o.clone()], &[mhi], &roomy()), "RO-1").as_deref(), Some("MHI"));
    // A US organic depot needs none.
    assert_eq!(offer_of(&run(&[o], &[organic("DEPOT")], &roomy()), "RO-1").as_deref(), Some("DEPOT"));
}

/// DESIGN §2 and reference/rsf-and-fms-excerpts.md (DAU, follow-on support):
/// "The requirements for third country support are: any required third
/// country transfer approvals are obtained; US Government has Security
/// Assistance relationship with the third country; prime contractor of the
/// weapon system has approved the facilities providing support."
#[test]
fn third_country_support_needs_transfer_approval_security_assistance_and_prime_facility_approval() {
    let mut o = order("RO-1");
    o.owner_nation = nation("JPN");
    o.department = None;
    let mut kor = offer("KAI", ProviderKind::Contractor, "KOR");
    let mut c = config();
    let blocked = |plan: &AllocationPlan| reason_of(plan, "RO-1");
    assert_eq!(
        blocked(&run_with(&[o.clone()], &[kor.clone()], &[], &c)),
        Some(UnplacedReason::NoEligibleProvider {
            blocked_by: vec![
                Ineligibility::ThirdCountryTransfer,
                Ineligibility::SecurityAssistanceRelationship,
                Ineligibility::PrimeFacilityApproval
            ]
        })
    );
    kor.authorizations.transfer_approvals = vec![nation("JPN")];
    c.security_assistance_nations.insert(nation("KOR"));
    assert_eq!(
        blocked(&run_with(&[o.clone()], &[kor.clone()], &[], &c)),
        Some(UnplacedReason::NoEligibleProvider { blocked_by: vec![Ineligibility::PrimeFacilityApproval] })
    );
    kor.authorizations.prime_facility_approvals = vec!["F-16C".into()];
    assert_eq!(offer_of(&run_with(&[o.clone()], &[kor.clone()], &[], &c), "RO-1").as_deref(), Some("KAI"));
    // Each condition is needed on its own: drop any one and it is refused again.
    let mut no_sa = c.clone();
    no_sa.security_assistance_nations.clear();
    assert_eq!(
        blocked(&run_with(&[o.clone()], &[kor.clone()], &[], &no_sa)),
        Some(UnplacedReason::NoEligibleProvider { blocked_by: vec![Ineligibility::SecurityAssistanceRelationship] })
    );
    let mut no_transfer = kor.clone();
    no_transfer.authorizations.transfer_approvals.clear();
    assert_eq!(
        blocked(&run_with(&[o.clone()], &[no_transfer], &[], &c)),
        Some(UnplacedReason::NoEligibleProvider { blocked_by: vec![Ineligibility::ThirdCountryTransfer] })
    );
    // Same-nation repair needs none of them.
    assert_eq!(
        offer_of(&run(&[o], &[offer("MHI", ProviderKind::Contractor, "JPN")], &[]), "RO-1").as_deref(),
        Some("MHI")
    );
}

#[test]
fn order_due_before_the_provider_can_start_is_past_required_by_until_the_lead_time_shrinks() {
    let mut o = order("RO-1");
    o.required_by = date(2026, 10, 10);
    let mut f = organic("DEPOT");
    f.lead_time_days = 10; // earliest start 2026-10-11
    assert_eq!(
        reason_of(&run(&[o.clone()], &[f.clone()], &roomy()), "RO-1"),
        Some(UnplacedReason::PastRequiredBy {
            required_by: date(2026, 10, 10),
            earliest_start: Some(date(2026, 10, 11))
        })
    );
    f.lead_time_days = 9; // earliest start 2026-10-10 = required_by: usable
    assert_eq!(offer_of(&run(&[o.clone()], &[f], &roomy()), "RO-1").as_deref(), Some("DEPOT"));
    // An order already overdue on the planning date cannot be placed at all.
    o.required_by = date(2026, 9, 30);
    assert!(matches!(
        reason_of(&run(&[o], &[organic("DEPOT")], &roomy()), "RO-1"),
        Some(UnplacedReason::PastRequiredBy { .. })
    ));
}

#[test]
fn periods_starting_after_required_by_are_not_used_and_late_periods_fill_first() {
    // Due 2026-11-15: October and November usable (200 h), December not.
    let mut o = order("RO-1");
    o.estimated_hours = 150.0;
    let plan = run(&[o.clone()], &[organic("DEPOT")], &roomy());
    let a = &plan.assignments[0];
    let uses: Vec<(usize, f64)> = a.periods.iter().map(|p| (p.period_index, p.units)).collect();
    assert_eq!(uses, vec![(1, 100.0), (0, 50.0)]);

    o.estimated_hours = 201.0;
    assert_eq!(
        reason_of(&run(&[o.clone()], &[organic("DEPOT")], &roomy()), "RO-1"),
        Some(UnplacedReason::LargerThanAnyOffer { units_needed: 201.0, largest_window: 200.0 })
    );
    // Exactly the whole window fits.
    o.estimated_hours = 200.0;
    assert!(offer_of(&run(&[o.clone()], &[organic("DEPOT")], &roomy()), "RO-1").is_some());
    // A later due date opens December.
    o.estimated_hours = 201.0;
    o.required_by = date(2026, 12, 1);
    assert!(offer_of(&run(&[o], &[organic("DEPOT")], &roomy()), "RO-1").is_some());
}

#[test]
fn higher_priority_takes_scarce_capacity_and_the_other_is_capacity_exhausted() {
    let mut low = order("RO-LOW");
    low.estimated_hours = 150.0;
    low.priority = Priority::new(9).unwrap();
    low.required_by = date(2026, 10, 20); // earlier due, but lower priority
    let mut high = order("RO-HIGH");
    high.estimated_hours = 150.0;
    high.priority = Priority::new(2).unwrap();
    let mut f = organic("DEPOT");
    f.periods.truncate(2);
    f.periods[0].capacity = 150.0;
    f.periods[1].capacity = 0.0;
    let plan = run(&[low.clone(), high.clone()], &[f.clone()], &roomy());
    assert_eq!(offer_of(&plan, "RO-HIGH").as_deref(), Some("DEPOT"));
    assert_eq!(reason_of(&plan, "RO-LOW"), Some(UnplacedReason::CapacityExhausted { eligible_offers: 1 }));
    assert_eq!(plan.served_priority_weight, 14);

    // More capacity: both placed.
    f.periods[0].capacity = 300.0;
    let plan = run(&[low.clone(), high.clone()], &[f.clone()], &roomy());
    assert!(plan.unplaced.is_empty());
    assert_eq!(plan.served_priority_weight, 14 + 7);

    // Same priority: the earlier required-by goes first.
    f.periods[0].capacity = 150.0;
    low.priority = high.priority;
    let plan = run(&[high, low], &[f], &roomy());
    assert_eq!(offer_of(&plan, "RO-LOW").as_deref(), Some("DEPOT"));
    assert!(matches!(reason_of(&plan, "RO-HIGH"), Some(UnplacedReason::CapacityExhausted { .. })));
}

#[test]
fn a_placed_order_moves_to_free_room_for_one_that_fits_nowhere_else() {
    // A can use X or Y (X cheaper); B can only use X. Greedy alone would strand B.
    let a = order("A");
    let mut b = order("B");
    b.repair_type = RepairType::Overhaul;
    let mut x = organic("X");
    x.periods = vec![CapacityPeriod { start: date(2026, 10, 1), end: date(2026, 10, 31), capacity: 40.0 }];
    let mut y = organic("Y");
    y.capabilities[0].repair_types = vec![RepairType::RepairAndReturn];
    y.rate_cents_per_unit = 20_000;
    let plan = run(&[a, b], &[x, y], &roomy());
    assert_eq!(offer_of(&plan, "A").as_deref(), Some("Y"));
    assert_eq!(offer_of(&plan, "B").as_deref(), Some("X"));
}

#[test]
fn contract_work_beyond_fifty_percent_is_blocked_and_exactly_fifty_is_allowed() {
    let o = order("RO-1"); // Air Force, depot, FY2027 (due 2026-11-15), 1,000,000 cents
    let contractor = offer("CONTRACTOR", ProviderKind::Contractor, "USA");
    let balance = |organic: i64, contract: i64| {
        vec![FundsBalance {
            department: Department::AirForce,
            fiscal_year: FiscalYear(2027),
            organic_cents: organic,
            contract_cents: contract,
        }]
    };
    // 9,000,000 + 1,000,000 contract > 9,999,999 organic: above 50 %.
    let plan = run(&[o.clone()], &[contractor.clone()], &balance(9_999_999, 9_000_000));
    assert_eq!(
        reason_of(&plan, "RO-1"),
        Some(UnplacedReason::BlockedBy5050 { department: Department::AirForce, fiscal_year: FiscalYear(2027) })
    );
    // Exactly 50 %: allowed.
    let plan = run(&[o.clone()], &[contractor.clone()], &balance(10_000_000, 9_000_000));
    assert_eq!(offer_of(&plan, "RO-1").as_deref(), Some("CONTRACTOR"));
    assert_eq!(plan.assignments[0].explanation.contract_work_for, Some((Department::AirForce, FiscalYear(2027))));
    // Another department's headroom does not help.
    let mut navy = balance(10_000_000, 9_000_000);
    navy[0].department = Department::Navy;
    navy.extend(balance(9_999_999, 9_000_000));
    assert!(matches!(
        reason_of(&run(&[o.clone()], &[contractor.clone()], &navy), "RO-1"),
        Some(UnplacedReason::BlockedBy5050 { .. })
    ));
    // No balance entry: zero organic dollars, so no contract work at all.
    assert!(matches!(
        reason_of(&run(&[o.clone()], &[contractor.clone()], &[]), "RO-1"),
        Some(UnplacedReason::BlockedBy5050 { .. })
    ));
    // Partner-owned work and field-level work do not count.
    let mut field = o.clone();
    field.level = MaintenanceLevel::Intermediate;
    let mut c2 = contractor.clone();
    c2.capabilities[0].level = MaintenanceLevel::Intermediate;
    assert!(offer_of(&run(&[field], &[c2], &[]), "RO-1").is_some());
}

#[test]
fn partner_government_depots_count_as_contract_unless_configured_organic() {
    let o = order("RO-1");
    let mut jpn = offer("JASDF", ProviderKind::PartnerGovernment, "JPN");
    jpn.authorizations.transfer_approvals = vec![nation("USA")];
    jpn.authorizations.prime_facility_approvals = vec!["F-16C".into()];
    assert!(matches!(
        reason_of(&run(&[o.clone()], &[jpn.clone()], &[]), "RO-1"),
        Some(UnplacedReason::BlockedBy5050 { .. })
    ));
    let mut c = config();
    c.partner_government_is_organic = true;
    let plan = run_with(&[o], &[jpn], &[], &c);
    assert_eq!(offer_of(&plan, "RO-1").as_deref(), Some("JASDF"));
    assert_eq!(plan.assignments[0].explanation.contract_work_for, None);
}

#[test]
fn organic_work_placed_later_opens_fifty_fifty_room_for_higher_priority_contract_work() {
    // The high-priority order can only go to a contractor; organic work of the
    // same department and FY (lower priority) raises the organic side.
    let mut high = order("HIGH");
    high.priority = Priority::new(1).unwrap();
    let mut low_organic = order("LOW-ORGANIC");
    low_organic.priority = Priority::new(12).unwrap();
    low_organic.repair_type = RepairType::Overhaul;
    low_organic.estimated_cost_cents = 2_000_000;
    let mut low_contract = order("LOW-CONTRACT");
    low_contract.priority = Priority::new(10).unwrap();
    let contractor = offer("CONTRACTOR", ProviderKind::Contractor, "USA");
    let mut depot = organic("DEPOT");
    depot.capabilities[0].repair_types = vec![RepairType::Overhaul];
    let balance = vec![FundsBalance {
        department: Department::AirForce,
        fiscal_year: FiscalYear(2027),
        organic_cents: 0,
        contract_cents: 0,
    }];
    let plan = run(&[high, low_organic, low_contract], &[contractor, depot], &balance);
    assert_eq!(offer_of(&plan, "HIGH").as_deref(), Some("CONTRACTOR"));
    assert_eq!(offer_of(&plan, "LOW-ORGANIC").as_deref(), Some("DEPOT"));
    // 2,000,000 organic covers both 1,000,000 contract orders exactly.
    assert_eq!(offer_of(&plan, "LOW-CONTRACT").as_deref(), Some("CONTRACTOR"));
    let f = &plan.funds[0];
    assert_eq!((f.organic_added_cents, f.contract_added_cents), (2_000_000, 2_000_000));
}

#[test]
fn the_cheapest_offer_wins_and_the_explanation_gives_the_cost_terms() {
    let mut o = order("RO-1");
    o.location = GeoPoint { lat: 0.0, lon: 0.0 };
    o.quantity = 2;
    let mut near = organic("NEAR");
    near.site = GeoPoint { lat: 0.0, lon: 1.0 }; // 111.195 km
    let mut far = organic("FAR");
    far.site = GeoPoint { lat: 0.0, lon: 10.0 };
    let plan = run(&[o.clone()], &[far.clone(), near.clone()], &roomy());
    let a = &plan.assignments[0];
    assert_eq!(a.offer_id, "NEAR");
    let e = &a.explanation;
    assert!((e.distance_km - 111.195).abs() < 0.01);
    assert_eq!(e.transit_days, 1);
    assert_eq!(e.retrograde_cost_cents, (e.distance_km * 100.0 * 2.0).round() as i64);
    assert_eq!(e.repair_cost_cents, 40 * 10_000);
    assert_eq!(e.total_cost_cents, e.retrograde_cost_cents + e.repair_cost_cents);
    assert_eq!(e.eligible_offers, 2);
    assert!(!e.cheaper_offer_was_full);
    assert_eq!(plan.total_cost_cents, e.total_cost_cents);

    // A dear rate outweighs distance.
    near.rate_cents_per_unit = 100_000;
    assert_eq!(offer_of(&run(&[o.clone()], &[far.clone(), near.clone()], &roomy()), "RO-1").as_deref(), Some("FAR"));

    // When the cheap one is full (taken by a higher priority) the explanation says so.
    near.rate_cents_per_unit = 10_000;
    let mut first = o.clone();
    first.id = "FIRST".into();
    first.priority = Priority::HIGHEST;
    first.estimated_hours = 200.0;
    let plan = run(&[o, first], &[far, near], &roomy());
    assert_eq!(offer_of(&plan, "FIRST").as_deref(), Some("NEAR"));
    let a = plan.assignments.iter().find(|a| a.order_id == "RO-1").unwrap();
    assert_eq!(a.offer_id, "FAR");
    assert!(a.explanation.cheaper_offer_was_full);
}

#[test]
fn slot_offers_count_quantity() {
    let mut o = order("RO-1");
    o.quantity = 3;
    let mut f = organic("DEPOT");
    f.unit = CapacityUnit::InductionSlots;
    for p in &mut f.periods {
        p.capacity = 1.0;
    }
    // Two usable periods (Oct, Nov) of one slot each: three items do not fit.
    assert!(matches!(
        reason_of(&run(&[o.clone()], &[f.clone()], &roomy()), "RO-1"),
        Some(UnplacedReason::LargerThanAnyOffer { .. })
    ));
    o.quantity = 2;
    assert_eq!(run(&[o], &[f], &roomy()).assignments[0].units, 2.0);
}

#[test]
fn bad_input_is_rejected_naming_the_field() {
    let o = order("RO-1");
    let err = allocate(&[o.clone(), o.clone()], &[], &[], &config()).err();
    assert_eq!(err, Some(InputError::DuplicateId { field: "orders[1].id".into(), id: "RO-1".into() }));

    let bad_organic = offer("X", ProviderKind::Organic, "JPN");
    let err = allocate(&[o.clone()], &[bad_organic], &[], &config()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.starts_with("offers[0].provider_nation:"), "{err}");

    let mut f = organic("DEPOT");
    f.periods[2].end = f.periods[2].start - Duration::days(1);
    let err = allocate(&[o.clone()], &[f], &[], &config()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.starts_with("offers[0].periods[2].end:"), "{err}");

    let mut q = o;
    q.quantity = 0;
    let err = allocate(&[q], &[], &[], &config()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.starts_with("orders[0].quantity:"), "{err}");
}

#[test]
fn the_checker_catches_a_tampered_plan() {
    let o = order("RO-1");
    // A Japanese contractor: work outside the US, so export control applies to it.
    let mut contractor = offer("CONTRACTOR", ProviderKind::Contractor, "JPN");
    let plan = run(&[o.clone()], &[contractor.clone()], &roomy());
    // Same plan, judged against inputs where it is no longer allowed.
    let mut oo = o.clone();
    oo.organic_only = true;
    oo.export_classification = Some("USML VIII".into());
    let v = check_plan(&[oo], &[contractor.clone()], &roomy(), &config(), &plan);
    assert_eq!(v.len(), 2, "{v:?}");
    contractor.periods[1].capacity = 10.0;
    let v = check_plan(&[o.clone()], &[contractor.clone()], &[], &config(), &plan);
    assert_eq!(v.len(), 2, "capacity and 50/50: {v:?}");
    assert!(!check_plan(&[], &[contractor], &roomy(), &config(), &plan).is_empty());
}

/// 10 U.S.C. 2466 limits the share of depot funds *made available in a
/// fiscal year* (DESIGN §2, workload balance): FY2027 funds for work required
/// in October 2027 count against FY2027, not FY2028; the required-by date's
/// fiscal year stands in only when the funds' year is unknown.
#[test]
fn contract_work_counts_against_the_fiscal_year_of_its_funds() {
    let mut o = order("RO-1");
    o.required_by = date(2027, 10, 15); // in FY2028
    o.funds_fiscal_year = Some(FiscalYear(2027));
    let mut contractor = offer("CONTRACTOR", ProviderKind::Contractor, "USA");
    contractor.periods = vec![CapacityPeriod { start: date(2026, 10, 1), end: date(2027, 10, 31), capacity: 100.0 }];
    let fy = |year: i32, organic: i64| FundsBalance {
        department: Department::AirForce,
        fiscal_year: FiscalYear(year),
        organic_cents: organic,
        contract_cents: 0,
    };
    // Room in FY2027 only: FY2027 funds may pay for it.
    let plan = run(&[o.clone()], &[contractor.clone()], &[fy(2027, 1_000_000), fy(2028, 0)]);
    assert_eq!(plan.assignments[0].explanation.contract_work_for, Some((Department::AirForce, FiscalYear(2027))));
    assert_eq!(plan.funds[0].fiscal_year, FiscalYear(2027));
    // Room in FY2028 only: blocked in FY2027, whatever its date.
    let plan = run(&[o.clone()], &[contractor.clone()], &[fy(2027, 0), fy(2028, 1_000_000)]);
    assert_eq!(
        reason_of(&plan, "RO-1"),
        Some(UnplacedReason::BlockedBy5050 { department: Department::AirForce, fiscal_year: FiscalYear(2027) })
    );
    // Funds' year unknown: the required-by date decides (FY2028).
    o.funds_fiscal_year = None;
    let plan = run(&[o], &[contractor], &[fy(2027, 0), fy(2028, 1_000_000)]);
    assert_eq!(plan.assignments[0].explanation.contract_work_for, Some((Department::AirForce, FiscalYear(2028))));
}
