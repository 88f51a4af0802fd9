//! Eligibility rules (DESIGN §2, repair orders and export control;
//! reference/rsf-and-fms-excerpts.md, DAU follow-on support), each stated in
//! the domain's words, and the promise that a manual proposal
//! ([`provider_eligibility`]) refuses exactly what the solver excludes.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::{config, date, f16_offer, f16_order, nation, small_instance};
use cosx_allocation::{
    AllocationConfig, CapacityOffer, CapacityPeriod, FundsBalance, GeoPoint, Ineligibility, OpenOrder, ProviderKind,
    UnplacedReason, allocate, ineligibilities, provider_eligibility,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A Japanese-owned (FMS-origin) F-16C component at Misawa, depot repair.
fn japanese_order() -> OpenOrder {
    OpenOrder {
        location: GeoPoint { lat: 40.70, lon: 141.37 },
        owner_nation: nation("JPN"),
        department: None,
        originator: Some("JPN-JASDF-MISAWA".into()),
        ..f16_order("JPN-RO-1")
    }
}

/// `id`'s F-16C depot offer at Ogden: 1,000 hours over Oct-Dec 2026.
fn provider(id: &str, kind: ProviderKind, nat: &str) -> CapacityOffer {
    CapacityOffer {
        site: GeoPoint { lat: 41.12, lon: -111.97 },
        periods: vec![CapacityPeriod { start: date(2026, 10, 1), end: date(2026, 12, 31), capacity: 1_000.0 }],
        ..f16_offer(&format!("OFFER-{id}"), id, kind, nat)
    }
}

fn ogden() -> CapacityOffer {
    provider("US-USAF-OOALC", ProviderKind::Organic, "USA")
}

fn us_company() -> CapacityOffer {
    provider("US-LMCO-GREENVILLE", ProviderKind::Contractor, "USA")
}

fn korean_company() -> CapacityOffer {
    provider("KOR-KAI-SACHEON", ProviderKind::Contractor, "KOR")
}

fn japanese_company() -> CapacityOffer {
    provider("JPN-MHI-KOMAKI", ProviderKind::Contractor, "JPN")
}

fn with_security_assistance(nations: &[&str]) -> AllocationConfig {
    let mut c = config();
    c.security_assistance_nations = nations.iter().map(|n| nation(n)).collect();
    c
}

/// A third-country facility holding every approval the FMS rules ask for.
fn approved(mut f: CapacityOffer, owner: &str) -> CapacityOffer {
    f.authorizations.transfer_approvals = vec![nation(owner)];
    f.authorizations.prime_facility_approvals = vec!["F-16C".into()];
    f
}

/// DESIGN §2: "A US depot or US company repairing a partner's item is FMS or
/// DCS follow-on support, not third-country support" — it needs no
/// third-country transfer approval, security-assistance entry or prime approval.
#[test]
fn a_us_depot_or_us_company_repairing_a_partners_item_is_follow_on_support_not_third_country_support() {
    let o = japanese_order();
    assert_eq!(ineligibilities(&o, &ogden(), &config()), vec![]);
    assert_eq!(ineligibilities(&o, &us_company(), &config()), vec![]);
    // The owner's own industry is neither.
    assert_eq!(ineligibilities(&o, &japanese_company(), &config()), vec![]);
}

/// A third country is a nation other than the owner's and other than the
/// United States (DESIGN §2): a US-owned item repaired in Japan is an export
/// by the US, not third-country support, so no transfer or prime approval.
#[test]
fn a_us_owned_item_repaired_by_a_partner_is_not_third_country_support() {
    let mut o = japanese_order();
    o.owner_nation = nation("USA");
    assert_eq!(ineligibilities(&o, &japanese_company(), &config()), vec![]);
    assert_eq!(
        ineligibilities(&o, &provider("JPN-JASDF-GIFU", ProviderKind::PartnerGovernment, "JPN"), &config()),
        vec![]
    );
}

/// DAU follow-on support (reference/rsf-and-fms-excerpts.md): third-country
/// support needs all three — transfer approval, a US security-assistance
/// relationship with the third country, the prime's approval of the facility.
#[test]
fn third_country_support_needs_all_three_fms_conditions() {
    let o = japanese_order();
    let c = with_security_assistance(&["KOR"]);
    assert_eq!(ineligibilities(&o, &approved(korean_company(), "JPN"), &c), vec![]);
    assert_eq!(
        ineligibilities(&o, &korean_company(), &config()),
        vec![
            Ineligibility::ThirdCountryTransfer,
            Ineligibility::SecurityAssistanceRelationship,
            Ineligibility::PrimeFacilityApproval
        ]
    );
    // Approval to transfer another owner's items does not count.
    let mut other_owner = approved(korean_company(), "AUS");
    assert_eq!(ineligibilities(&o, &other_owner, &c), vec![Ineligibility::ThirdCountryTransfer]);
    // The prime's approval is for a TMS.
    other_owner = approved(korean_company(), "JPN");
    other_owner.authorizations.prime_facility_approvals = vec!["C-130J".into()];
    assert_eq!(ineligibilities(&o, &other_owner, &c), vec![Ineligibility::PrimeFacilityApproval]);
}

/// The security-assistance relationship is a registry fact about the
/// provider's nation, configured in `AllocationConfig`; none recorded means
/// no third-country support (refused and explained, never assumed).
#[test]
fn security_assistance_relationship_is_a_configured_registry_fact_about_the_providers_nation() {
    let o = japanese_order();
    let kai = approved(korean_company(), "JPN");
    assert_eq!(ineligibilities(&o, &kai, &config()), vec![Ineligibility::SecurityAssistanceRelationship]);
    assert_eq!(
        ineligibilities(&o, &kai, &with_security_assistance(&["AUS"])),
        vec![Ineligibility::SecurityAssistanceRelationship]
    );
    assert_eq!(ineligibilities(&o, &kai, &with_security_assistance(&["AUS", "KOR"])), vec![]);
}

/// Work done in a third country is third-country support even by a US or an
/// owner-nation company: a US company's site in Korea repairing a Japanese
/// item needs the FMS conditions for Korea (our reading of DESIGN §2: the
/// item is transferred into the third country either way).
#[test]
fn a_site_in_a_third_country_makes_third_country_support_whoever_owns_the_site() {
    let o = japanese_order();
    let mut us_site_in_korea = us_company();
    us_site_in_korea.site_nation = Some(nation("KOR"));
    assert_eq!(
        ineligibilities(&o, &us_site_in_korea, &config()),
        vec![
            Ineligibility::ThirdCountryTransfer,
            Ineligibility::SecurityAssistanceRelationship,
            Ineligibility::PrimeFacilityApproval
        ]
    );
    assert_eq!(ineligibilities(&o, &approved(us_site_in_korea, "JPN"), &with_security_assistance(&["KOR"])), vec![]);
}

/// DESIGN §2 (export control): an export-controlled item needs an export
/// authorization when the work is done outside the United States.
#[test]
fn export_controlled_partner_item_needs_an_authorization_when_worked_outside_the_united_states() {
    let mut o = japanese_order();
    o.export_classification = Some("9A610".into());
    assert_eq!(ineligibilities(&o, &japanese_company(), &config()), vec![Ineligibility::ExportControl]);
    let mut licensed = japanese_company();
    licensed.authorizations.export_licences = vec!["9A610".into()];
    assert_eq!(ineligibilities(&o, &licensed, &config()), vec![]);
    // A licence for another classification does not count.
    licensed.authorizations.export_licences = vec!["USML VIII".into()];
    assert_eq!(ineligibilities(&o, &licensed, &config()), vec![Ineligibility::ExportControl]);
}

/// Our reading (documented in `eligibility::needs_export_authorization`): a
/// partner's export-controlled item is a US-origin defense article returned
/// to the United States for repair — at an organic depot under the FMS case
/// ("Repair and Return", DAU materiel return concepts), at a US company as
/// DCS follow-on support — so a US provider in the US needs no separate
/// authorization. A foreign provider at a US site does (release to foreign
/// persons).
#[test]
fn a_partners_controlled_item_returned_to_the_united_states_for_repair_needs_no_licence_at_a_us_provider() {
    let mut o = japanese_order();
    o.export_classification = Some("USML VIII(h)".into());
    assert_eq!(ineligibilities(&o, &ogden(), &config()), vec![]);
    assert_eq!(ineligibilities(&o, &us_company(), &config()), vec![]);
    let mut korean_site_in_us = korean_company();
    korean_site_in_us.site_nation = Some(nation("USA"));
    let why = ineligibilities(&o, &korean_site_in_us, &with_security_assistance(&["KOR"]));
    assert!(why.contains(&Ineligibility::ExportControl), "{why:?}");
}

/// DAU follow-on support: "If the FMS customer uses the FMFP for funding, they
/// must obtain a waiver from DSCA. This must be done before they can purchase
/// support from a third country or via a US company through DCS."
#[test]
fn an_fmf_funded_order_needs_a_dsca_waiver_before_third_country_or_dcs_support() {
    let mut o = japanese_order();
    o.fmf_funded = true;
    let c = with_security_assistance(&["KOR"]);
    let kai = approved(korean_company(), "JPN");
    assert_eq!(ineligibilities(&o, &us_company(), &c), vec![Ineligibility::DscaWaiver]);
    assert_eq!(ineligibilities(&o, &kai, &c), vec![Ineligibility::DscaWaiver]);
    // Continued FMS support from a US depot, or the owner's own industry, needs no waiver.
    assert_eq!(ineligibilities(&o, &ogden(), &c), vec![]);
    assert_eq!(ineligibilities(&o, &japanese_company(), &c), vec![]);
    // With the waiver both become eligible.
    o.dsca_waiver = true;
    assert_eq!(ineligibilities(&o, &us_company(), &c), vec![]);
    assert_eq!(ineligibilities(&o, &kai, &c), vec![]);
    // Through the solver, the refusal names the rule.
    o.dsca_waiver = false;
    let plan = allocate(&[o], &[us_company()], &[], &c).unwrap();
    assert_eq!(
        plan.unplaced[0].reason,
        UnplacedReason::NoEligibleProvider { blocked_by: vec![Ineligibility::DscaWaiver] }
    );
}

/// Each refusal names the rule in a reason code (the serialized name) and
/// in words that cite where the rule comes from.
#[test]
fn every_refusal_names_its_rule_in_a_code_and_in_words_citing_the_source() {
    let mut codes = BTreeSet::new();
    for rule in Ineligibility::ALL {
        let serialized = serde_json::to_value(rule).unwrap();
        assert_eq!(serialized.as_str(), Some(rule.code()), "{rule:?}");
        assert!(rule.code().bytes().all(|b| b.is_ascii_uppercase() || b == b'_'), "{}", rule.code());
        assert!(codes.insert(rule.code()), "duplicate code {}", rule.code());
        if rule != Ineligibility::OwnOrder {
            assert!(rule.explain().contains("DESIGN §2") || rule.explain().contains("reference/"), "{rule:?}");
        }
        assert_eq!(rule.to_string(), format!("{}: {}", rule.code(), rule.explain()));
    }
}

/// A manual proposal is checked with `provider_eligibility`; it must refuse
/// exactly what `allocate` excludes (issue 18: "A manual
/// TransitionRepairOrder(PROPOSE) must apply the same eligibility as
/// Allocation"). For random orders and offers, and each provider alone, the
/// solver's verdict and `provider_eligibility` agree; and in the full
/// instance every assignment passes it and every `NoEligibleProvider` lists
/// the union of the providers' refusals.
#[test]
fn provider_eligibility_agrees_with_the_solvers_exclusions_on_random_orders_and_offers() {
    let mut refusals = 0;
    let mut acceptances = 0;
    let mut rules_seen: BTreeSet<Ineligibility> = BTreeSet::new();
    for seed in 0..150 {
        let mut inst = small_instance(seed, 12, 6);
        let mut rng = StdRng::seed_from_u64(seed);
        let providers: Vec<String> = inst.offers.iter().map(|f| f.provider_id.clone()).collect();
        for o in &mut inst.orders {
            if !providers.is_empty() && rng.random_bool(0.2) {
                o.originator = Some(providers[rng.random_range(0..providers.len())].clone());
            }
        }
        let plan = allocate(&inst.orders, &inst.offers, &inst.balances, &inst.config).unwrap();
        for a in &plan.assignments {
            let o = inst.orders.iter().find(|o| o.id == a.order_id).unwrap();
            assert_eq!(provider_eligibility(o, &inst.offers, &a.provider_id, &inst.config), Ok(()), "seed {seed}");
        }
        for o in &inst.orders {
            let mut union: BTreeSet<Ineligibility> = BTreeSet::new();
            let mut any_capable = false;
            let mut any_eligible = false;
            for p in &providers {
                let manual = provider_eligibility(o, &inst.offers, p, &inst.config);
                let own: Vec<CapacityOffer> = inst.offers.iter().filter(|f| &f.provider_id == p).cloned().collect();
                let roomy: Vec<FundsBalance> = vec![];
                let alone = allocate(std::slice::from_ref(o), &own, &roomy, &inst.config).unwrap();
                let solver = alone.unplaced.first().map(|u| u.reason.clone());
                match &manual {
                    Ok(()) => {
                        acceptances += 1;
                        any_capable = true;
                        any_eligible = true;
                        assert!(
                            !matches!(
                                solver,
                                Some(UnplacedReason::NoCapableProvider | UnplacedReason::NoEligibleProvider { .. })
                            ),
                            "seed {seed} {} {p}: manual accepts, solver {solver:?}",
                            o.id
                        );
                    }
                    Err(reason) => {
                        refusals += 1;
                        assert_eq!(solver.as_ref(), Some(reason), "seed {seed} {} {p}", o.id);
                        if let UnplacedReason::NoEligibleProvider { blocked_by } = reason {
                            any_capable = true;
                            union.extend(blocked_by.iter().copied());
                            rules_seen.extend(blocked_by.iter().copied());
                        }
                    }
                }
            }
            let reported = plan.unplaced.iter().find(|u| u.order_id == o.id).map(|u| &u.reason);
            match reported {
                Some(UnplacedReason::NoCapableProvider) => assert!(!any_capable, "seed {seed} {}", o.id),
                Some(UnplacedReason::NoEligibleProvider { blocked_by }) => {
                    assert!(!any_eligible, "seed {seed} {}", o.id);
                    assert_eq!(blocked_by.iter().copied().collect::<BTreeSet<_>>(), union, "seed {seed} {}", o.id);
                }
                _ => assert!(any_eligible, "seed {seed} {}: placed or {reported:?} without an eligible provider", o.id),
            }
        }
    }
    // The instances exercise both sides of the rules.
    assert!(refusals > 500 && acceptances > 500, "refusals {refusals}, acceptances {acceptances}");
    assert_eq!(rules_seen, Ineligibility::ALL.into_iter().collect::<BTreeSet<_>>(), "every rule refuses somewhere");
}
