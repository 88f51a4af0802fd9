//! Disruption notices (issue 23): a provider declares that one of its sites
//! has lost capacity — a typhoon, a strike, a cyber attack, a port closed —
//! for all or some of its capabilities, by a percentage or by labor hours
//! per month, from a start to an expected end; it may update the notice and resolve it (with a resolution
//! text). Only the declaring provider does.
//!
//! The rules here are the one copy of what a disruption does to the rest of
//! the exchange: how much of an offer's capacity remains on a day
//! ([`remaining_share`], [`reduced_offer`]), which orders it strands
//! ([`affects_order`]), and the step that moves such an order to another
//! provider ([`check_move`], a PROPOSED step the new provider still accepts
//! or declines). Pure: no I/O, no clock read (`today` is always given).
//!
//! A disruption is seen by coordinators, its provider and the parties whose
//! orders it affected when it was last committed ([`Disruption::visible_to`];
//! the store's audience is the same list).

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::lifecycle::{RepairOrderState, Step};
use crate::party::Party;
use crate::records::{Capability, CapacityOffer, RepairOrder};
use crate::vocab::{CapacityUnit, MaintenanceLevel, PartyId, PartyKind};

/// Most characters of a disruption's text or resolution.
pub const MAX_TEXT: usize = crate::limits::MAX_LONG_TEXT;
/// Most capabilities one disruption names.
pub const MAX_CAPABILITIES: usize = crate::limits::MAX_LIST;
/// Longest a disruption may be expected to last, in days (ten years).
pub const MAX_DAYS: i64 = 3660;
/// Most active disruptions at one site: each is judged for every day of
/// every offer there in each capacity comparison, so their number is bounded.
pub const MAX_ACTIVE_PER_SITE: usize = 16;
/// Most labor hours per month one disruption may take from each capability
/// it names (a million hours: some 6,000 people full time, beyond any one
/// site). What it takes is never more than the site offers (see
/// [`remaining_share`]), so a larger figure would mean nothing more.
pub const MAX_HOURS_PER_MONTH: u32 = 1_000_000;

/// Why capacity was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DisruptionCause {
    /// Typhoon, earthquake, flood, fire.
    NaturalDisaster,
    /// Hostile action or contested logistics.
    HostileAction,
    /// A cyber attack or outage.
    Cyber,
    /// A strike or shortage of labour.
    Labour,
    /// Parts cannot be had.
    PartsShortage,
    /// The facility itself (power, tooling, building).
    Facility,
    /// Transport to or from the site.
    Transport,
    /// Anything else (the text says what).
    Other,
}

/// Whether the disruption is still in effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DisruptionState {
    /// Declared and not resolved: capacity is reduced from start to expected end.
    Active,
    /// Resolved by its provider: capacity is whole again. Final.
    Resolved,
}

impl DisruptionState {
    /// The state's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            DisruptionState::Active => "ACTIVE",
            DisruptionState::Resolved => "RESOLVED",
        }
    }
}

/// A capability the disruption reduces: a TMS or component family, at one
/// maintenance level or at all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedCapability {
    /// TMS (e.g. `F-16C`) or component family, as offers name it.
    pub tms_or_family: String,
    /// Only this level, or every level when none.
    pub maintenance_level: Option<MaintenanceLevel>,
}

impl AffectedCapability {
    fn covers(&self, label: &str, level: MaintenanceLevel) -> bool {
        self.tms_or_family == label && self.maintenance_level.is_none_or(|l| l == level)
    }
}

/// What a provider declares (or updates to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisruptionDraft {
    /// The declaring provider; the caller.
    pub provider: PartyId,
    /// The name of the site, as the provider's offers name it.
    pub site: String,
    /// Why.
    pub cause: DisruptionCause,
    /// Share of capacity lost, 0 to 100 percent (0 when the loss is given
    /// in hours instead).
    pub capacity_reduction_percent: u8,
    /// Or: labor hours lost per calendar month (1 to
    /// [`MAX_HOURS_PER_MONTH`]) for each capability it reduces, spread evenly
    /// over the month's days and taken from the labor-hour capacity the
    /// provider's offers at the site give that capability (never below
    /// none). It does not change capacity offered in induction slots. Left
    /// out of a stored notice when unset, so older notices read as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_reduction_hours_per_month: Option<u32>,
    /// The capabilities reduced; every capability of the site when empty.
    pub capabilities: Vec<AffectedCapability>,
    /// First day of reduced capacity.
    pub start: NaiveDate,
    /// Last day capacity is expected to be reduced (inclusive); not before `start`.
    pub expected_end: NaiveDate,
    /// What happened, in words.
    pub text: String,
}

/// A disruption as the coordinator holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disruption {
    /// `{PROVIDER}.{name}`; its resource name is `disruptions/{id}`.
    pub id: String,
    /// What the provider declared, as last updated.
    pub draft: DisruptionDraft,
    /// Active or resolved.
    pub state: DisruptionState,
    /// Why it is over, once resolved.
    pub resolution: Option<String>,
    /// Originators of the orders it affected when it was last committed:
    /// they may see it (for their orders).
    pub affected_parties: Vec<PartyId>,
    /// Version, +1 on every change.
    pub version: i64,
    /// Declared.
    pub create_time: DateTime<Utc>,
    /// Last changed.
    pub update_time: DateTime<Utc>,
}

impl Disruption {
    /// Whether `viewer` may see this disruption: coordinators, its provider,
    /// and the parties whose orders it affected.
    pub fn visible_to(&self, viewer: &Party) -> bool {
        viewer.kind == PartyKind::Coordinator
            || viewer.id == self.draft.provider
            || self.affected_parties.contains(&viewer.id)
    }

    /// Whether it reduces `label` at `level` (the disruption's capability
    /// list, or every capability when the list is empty).
    pub fn covers(&self, label: &str, level: MaintenanceLevel) -> bool {
        self.draft.capabilities.is_empty() || self.draft.capabilities.iter().any(|c| c.covers(label, level))
    }

    /// The share of capacity it takes on `day` from `at`: 0.0 to 1.0. An
    /// hours effect is judged against `site_hours`, the labor hours the
    /// site offers `at`'s capability that day (asked only when needed).
    fn reduction_on(&self, at: &SiteCapability<'_>, day: NaiveDate, site_hours: &mut dyn FnMut() -> f64) -> f64 {
        let applies = self.state == DisruptionState::Active
            && &self.draft.provider == at.provider
            && self.draft.site == at.site
            && self.draft.start <= day
            && day <= self.draft.expected_end
            && self.covers(at.label, at.level);
        if !applies {
            return 0.0;
        }
        match self.draft.capacity_reduction_hours_per_month {
            None => f64::from(self.draft.capacity_reduction_percent.min(100)) / 100.0,
            Some(_) if at.unit != CapacityUnit::LaborHours => 0.0,
            Some(hours) => {
                let offered = site_hours();
                if offered <= 0.0 { 0.0 } else { (f64::from(hours) / days_in_month(day) / offered).min(1.0) }
            }
        }
    }
}

/// One capability of one provider's site, in one unit of capacity: what a
/// disruption's effect is judged on.
#[derive(Debug, Clone, Copy)]
pub struct SiteCapability<'a> {
    /// The provider.
    pub provider: &'a PartyId,
    /// Its site's name.
    pub site: &'a str,
    /// TMS or component family, as offers name it.
    pub label: &'a str,
    /// Maintenance level.
    pub level: MaintenanceLevel,
    /// The unit of the capacity being reduced.
    pub unit: CapacityUnit,
}

fn days_in_month(day: NaiveDate) -> f64 {
    use chrono::Datelike;
    let first = day.with_day(1).unwrap_or(day);
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
    ((next - first).num_days()).max(1) as f64
}

/// The labor hours `offers` give `at`'s capability at its site on `day`: each
/// period's capacity spread evenly over its days, an offer's capacity shared
/// evenly among its capabilities (as the capacity comparison counts it).
pub fn site_hours_on(offers: &[CapacityOffer], at: &SiteCapability<'_>, day: NaiveDate) -> f64 {
    offers
        .iter()
        .filter(|o| {
            let d = &o.draft;
            &d.provider == at.provider && d.site.name == at.site && d.unit == CapacityUnit::LaborHours
        })
        .map(|o| {
            let d = &o.draft;
            let covers =
                d.capabilities.iter().filter(|c| capability_label(c) == at.label && c.maintenance_level == at.level);
            let share = covers.count() as f64 / d.capabilities.len().max(1) as f64;
            let per_day: f64 = d
                .periods
                .iter()
                .filter(|p| p.start <= day && day <= p.end)
                .map(|p| p.capacity / ((p.end - p.start).num_days() + 1).max(1) as f64)
                .sum();
            per_day * share
        })
        .sum()
}

/// The effect a notice declares, as given: a percentage of 0 to 100, or 1
/// to [`MAX_HOURS_PER_MONTH`] labor hours per month with the percentage 0
/// (not both). On a refusal, the field to name and why.
pub fn parse_effect(percent: u32, hours_per_month: u32) -> Result<(u8, Option<u32>), (&'static str, String)> {
    match (percent, hours_per_month) {
        (p, 0) => u8::try_from(p)
            .ok()
            .filter(|p| *p <= 100)
            .map(|p| (p, None))
            .ok_or(("capacity_reduction_percent", format!("{p}: expected 0 to 100"))),
        (0, h) if h <= MAX_HOURS_PER_MONTH => Ok((0, Some(h))),
        (0, h) => Err(("capacity_reduction_hours_per_month", format!("{h}: expected 1 to {MAX_HOURS_PER_MONTH}"))),
        (_, _) => Err((
            "capacity_reduction_hours_per_month",
            "give the capacity lost as a percentage or as hours per month, not both".into(),
        )),
    }
}

/// The effect in words: "60%" or "400 h/month".
pub fn effect_label(d: &DisruptionDraft) -> String {
    match d.capacity_reduction_hours_per_month {
        Some(h) => format!("{h} h/month"),
        None => format!("{}%", d.capacity_reduction_percent),
    }
}

/// The label (TMS or component family) an offer's capability is counted under.
pub fn capability_label(c: &Capability) -> String {
    c.tms.as_ref().map(ToString::to_string).or_else(|| c.component_family.clone()).unwrap_or_default()
}

/// The label an order is matched to capabilities by.
pub fn order_label(o: &RepairOrder) -> String {
    o.draft.component_family.clone().unwrap_or_else(|| o.draft.tms.to_string())
}

/// The share of the capacity at `at` that remains over the days
/// `from..=to` (the mean of each day's remainder, as capacity is spread
/// evenly over an offer period's days). On each day the largest reduction
/// in effect counts: two notices about one site do not add up past what
/// either says was lost. An hours effect takes its hours from the labor
/// hours `offers` (any offers; those of `at`'s site count) give `at`'s
/// capability that day, so a site's offers together lose exactly those
/// hours, or everything when they offer fewer.
pub fn remaining_share(
    disruptions: &[Disruption],
    offers: &[CapacityOffer],
    at: &SiteCapability<'_>,
    from: NaiveDate,
    to: NaiveDate,
) -> f64 {
    let relevant: Vec<&Disruption> = disruptions
        .iter()
        .filter(|d| d.state == DisruptionState::Active && &d.draft.provider == at.provider && d.draft.site == at.site)
        .filter(|d| d.draft.start <= to && from <= d.draft.expected_end)
        .collect();
    if relevant.is_empty() || to < from {
        return 1.0;
    }
    let (mut days, mut remaining) = (0.0, 0.0);
    let mut day = from;
    while day <= to {
        let mut hours: Option<f64> = None;
        let mut site_hours = || *hours.get_or_insert_with(|| site_hours_on(offers, at, day));
        let lost = relevant.iter().map(|d| d.reduction_on(at, day, &mut site_hours)).fold(0.0, f64::max);
        remaining += 1.0 - lost;
        days += 1.0;
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    remaining / days
}

/// The offer as allocation should count it while `disruptions` are in
/// effect: each period's capacity and surge scaled by the share that
/// remains for the offer's most reduced capability (a plan never counts on
/// capacity a disruption may have taken). `offers` are the current offers
/// an hours effect is judged against (see [`remaining_share`]).
pub fn reduced_offer(offer: &CapacityOffer, offers: &[CapacityOffer], disruptions: &[Disruption]) -> CapacityOffer {
    let d = &offer.draft;
    let mut out = offer.clone();
    for p in &mut out.draft.periods {
        let share = d
            .capabilities
            .iter()
            .map(|c| {
                let label = capability_label(c);
                let at = SiteCapability {
                    provider: &d.provider,
                    site: &d.site.name,
                    label: &label,
                    level: c.maintenance_level,
                    unit: d.unit,
                };
                remaining_share(disruptions, offers, &at, p.start, p.end)
            })
            .fold(1.0, f64::min);
        p.capacity *= share;
        p.surge_capacity *= share;
    }
    out
}

/// Whether `order` is stranded by `disruption`: held by its provider and
/// not yet inducted (PROPOSED or ACCEPTED), for a capability the disruption
/// reduces that one of the provider's offers at the site (`site_capabilities`)
/// covers.
pub fn affects_order(disruption: &Disruption, order: &RepairOrder, site_capabilities: &[Capability]) -> bool {
    disruption.state == DisruptionState::Active
        && holds_unstarted(order, &disruption.draft.provider)
        && disruption.covers(&order_label(order), order.draft.maintenance_level)
        && fits_capabilities(order, site_capabilities)
}

/// Whether `provider` holds `order` and has not begun it: PROPOSED or
/// ACCEPTED to it, not yet inducted (the work still waits on its capacity).
pub fn holds_unstarted(order: &RepairOrder, provider: &PartyId) -> bool {
    order.provider.as_ref() == Some(provider)
        && matches!(order.state, RepairOrderState::Proposed | RepairOrderState::Accepted)
}

/// Whether one of `capabilities` covers `order`: its TMS or component
/// family, its maintenance level and (when the capability names any) its
/// repair type.
pub fn fits_capabilities(order: &RepairOrder, capabilities: &[Capability]) -> bool {
    let label = order_label(order);
    capabilities.iter().any(|c| {
        capability_label(c) == label
            && c.maintenance_level == order.draft.maintenance_level
            && (c.repair_types.is_empty() || c.repair_types.contains(&order.draft.repair_type))
    })
}

/// A stranded order as allocation judges it when re-planning: open again
/// (SUBMITTED), held by no one.
pub fn reopened(order: &RepairOrder) -> RepairOrder {
    let mut o = order.clone();
    o.state = RepairOrderState::Submitted;
    o.provider = None;
    o
}

/// Why a disruption step is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisruptionError {
    /// Coordinating offices do not provide capacity, so declare nothing.
    NotAProvider,
    /// The site is not one the caller offers capacity at.
    NotYourSite(String),
    /// The site already has [`MAX_ACTIVE_PER_SITE`] active disruptions.
    TooManyAtSite,
    /// Only the declaring provider updates or resolves it.
    NotTheDeclarer,
    /// An update tried to move the disruption to another site.
    SiteChanged,
    /// It was resolved; it can no longer change.
    Resolved,
    /// Only a coordinator moves stranded work.
    NotACoordinator,
    /// The order is not stranded by this disruption.
    OrderNotAffected(RepairOrderState),
    /// The work would stay with the disrupted provider or go to its own originator.
    NotAnotherProvider,
}

impl fmt::Display for DisruptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisruptionError::NotAProvider => {
                f.write_str("only a providing party declares a disruption; a coordinating office offers no capacity")
            }
            DisruptionError::NotYourSite(s) => write!(f, "{s:?} is not the site of any capacity offer of yours"),
            DisruptionError::TooManyAtSite => write!(
                f,
                "the site already has {MAX_ACTIVE_PER_SITE} active disruptions; update or resolve one instead"
            ),
            DisruptionError::NotTheDeclarer => {
                f.write_str("only the provider that declared the disruption may change it")
            }
            DisruptionError::SiteChanged => {
                f.write_str("a disruption stays at the site it was declared for; resolve it and declare another")
            }
            DisruptionError::Resolved => f.write_str("the disruption is RESOLVED; it can no longer change"),
            DisruptionError::NotACoordinator => f.write_str("only a coordinator moves work off a disrupted site"),
            DisruptionError::OrderNotAffected(s) => write!(
                f,
                "the order ({s}) is not PROPOSED or ACCEPTED to the disrupted provider for a capability the \
                 disruption reduces"
            ),
            DisruptionError::NotAnotherProvider => {
                f.write_str("the work must move to a provider other than the disrupted one and the order's originator")
            }
        }
    }
}

/// Whether `caller` may declare `draft`: a providing party (not a
/// coordinator) declaring for itself, at a site one of its offers names
/// (`own_sites`, the site names of every offer it holds), which has fewer
/// than [`MAX_ACTIVE_PER_SITE`] active disruptions (`active_at_site`).
pub fn check_declare(
    caller: &Party,
    draft: &DisruptionDraft,
    own_sites: &[String],
    active_at_site: usize,
) -> Result<(), DisruptionError> {
    if caller.kind == PartyKind::Coordinator {
        return Err(DisruptionError::NotAProvider);
    }
    if draft.provider != caller.id {
        return Err(DisruptionError::NotTheDeclarer);
    }
    if !own_sites.iter().any(|s| s == &draft.site) {
        return Err(DisruptionError::NotYourSite(draft.site.clone()));
    }
    if active_at_site >= MAX_ACTIVE_PER_SITE {
        return Err(DisruptionError::TooManyAtSite);
    }
    Ok(())
}

impl Disruption {
    /// A notice just declared as `id` (`{PROVIDER}.{name}`), affecting no
    /// one yet: who it strands is the coordinator's to find (it holds the orders).
    pub fn declared(id: String, draft: DisruptionDraft, time: DateTime<Utc>) -> Disruption {
        Disruption {
            id,
            draft,
            state: DisruptionState::Active,
            resolution: None,
            affected_parties: vec![],
            version: 1,
            create_time: time,
            update_time: time,
        }
    }
}

/// What `existing` becomes when its provider changes it to `draft` at
/// `time` (after [`check_update`]); whom it affects is found again by the
/// coordinator.
pub fn updated(mut existing: Disruption, draft: DisruptionDraft, time: DateTime<Utc>) -> Disruption {
    existing.draft = draft;
    existing.version += 1;
    existing.update_time = time;
    existing
}

/// What `existing` becomes when its provider resolves it, saying why
/// (after [`check_resolve`]).
pub fn resolved(mut existing: Disruption, resolution: String, time: DateTime<Utc>) -> Disruption {
    existing.state = DisruptionState::Resolved;
    existing.resolution = Some(resolution);
    existing.version += 1;
    existing.update_time = time;
    existing
}

/// Whether `caller` may change `existing` into `draft`: its declarer, while
/// it is active, at the same site.
pub fn check_update(existing: &Disruption, caller: &PartyId, draft: &DisruptionDraft) -> Result<(), DisruptionError> {
    if caller != &existing.draft.provider {
        return Err(DisruptionError::NotTheDeclarer);
    }
    if existing.state == DisruptionState::Resolved {
        return Err(DisruptionError::Resolved);
    }
    if draft.site != existing.draft.site {
        return Err(DisruptionError::SiteChanged);
    }
    Ok(())
}

/// Whether `caller` may resolve `existing` (the resolution text itself is
/// required by the request's parser).
pub fn check_resolve(existing: &Disruption, caller: &PartyId) -> Result<(), DisruptionError> {
    if caller != &existing.draft.provider {
        return Err(DisruptionError::NotTheDeclarer);
    }
    if existing.state == DisruptionState::Resolved {
        return Err(DisruptionError::Resolved);
    }
    Ok(())
}

/// The step that moves `order`, stranded by `disruption`, to `to`: the
/// order is PROPOSED to the new provider (who still accepts or declines),
/// taken by a coordinator only. The lifecycle's own PROPOSE is for open
/// orders; this is the one way a PROPOSED or ACCEPTED order changes hands.
pub fn check_move(
    disruption: &Disruption,
    order: &RepairOrder,
    site_capabilities: &[Capability],
    to: &PartyId,
    actor_is_coordinator: bool,
) -> Result<Step, DisruptionError> {
    if !actor_is_coordinator {
        return Err(DisruptionError::NotACoordinator);
    }
    if disruption.state == DisruptionState::Resolved {
        return Err(DisruptionError::Resolved);
    }
    if !affects_order(disruption, order, site_capabilities) {
        return Err(DisruptionError::OrderNotAffected(order.state));
    }
    if to == &disruption.draft.provider || to == &order.draft.originator {
        return Err(DisruptionError::NotAnotherProvider);
    }
    Ok(Step { to: RepairOrderState::Proposed, provider: Some(to.clone()) })
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::records::{CapacityOfferDraft, CapacityPeriod};
    use crate::vocab::{CapacityUnit, Nation, Region, RepairType, Site, Tms};

    fn id(s: &str) -> PartyId {
        PartyId::parse(s).unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn party(p: &str, kind: PartyKind) -> Party {
        Party {
            id: id(p),
            kind,
            nation: Nation::parse("JPN").unwrap(),
            department: None,
            display_name: p.into(),
            suspended: false,
        }
    }

    fn draft(percent: u8, capabilities: Vec<AffectedCapability>) -> DisruptionDraft {
        DisruptionDraft {
            provider: id("JPN-MHI-KOMAKI"),
            site: "Komaki South".into(),
            cause: DisruptionCause::NaturalDisaster,
            capacity_reduction_percent: percent,
            capacity_reduction_hours_per_month: None,
            capabilities,
            start: day("2027-03-01"),
            expected_end: day("2027-03-31"),
            text: "Typhoon: hangar roof lost".into(),
        }
    }

    fn disruption(percent: u8, capabilities: Vec<AffectedCapability>) -> Disruption {
        Disruption {
            id: "JPN-MHI-KOMAKI.typhoon".into(),
            draft: draft(percent, capabilities),
            state: DisruptionState::Active,
            resolution: None,
            affected_parties: vec![id("US-USAF-OOALC")],
            version: 1,
            create_time: Utc::now(),
            update_time: Utc::now(),
        }
    }

    pub(crate) fn capability(tms: &str) -> Capability {
        Capability {
            tms: Some(Tms::parse(tms).unwrap()),
            component_family: None,
            maintenance_level: MaintenanceLevel::Depot,
            repair_types: vec![],
        }
    }

    fn at<'a>(provider: &'a PartyId, site: &'a str, label: &'a str, unit: CapacityUnit) -> SiteCapability<'a> {
        SiteCapability { provider, site, label, level: MaintenanceLevel::Depot, unit }
    }

    fn f16() -> AffectedCapability {
        AffectedCapability { tms_or_family: "F-16C".into(), maintenance_level: None }
    }

    #[test]
    fn only_a_provider_declares_and_only_at_a_site_it_offers_from() {
        let mhi = party("JPN-MHI-KOMAKI", PartyKind::Contractor);
        let sites = vec!["Komaki South".to_owned()];
        assert_eq!(check_declare(&mhi, &draft(50, vec![]), &sites, 0), Ok(()));
        assert_eq!(
            check_declare(&mhi, &draft(50, vec![]), &sites, MAX_ACTIVE_PER_SITE),
            Err(DisruptionError::TooManyAtSite)
        );
        assert_eq!(
            check_declare(&mhi, &draft(50, vec![]), &["Gifu".to_owned()], 0),
            Err(DisruptionError::NotYourSite("Komaki South".into()))
        );
        let coord = party("US-INDOPACOM-J4", PartyKind::Coordinator);
        let mut d = draft(50, vec![]);
        d.provider = coord.id.clone();
        assert_eq!(check_declare(&coord, &d, &sites, 0), Err(DisruptionError::NotAProvider));
        let kai = party("KOR-KAI-SACHEON", PartyKind::Contractor);
        assert_eq!(check_declare(&kai, &draft(50, vec![]), &sites, 0), Err(DisruptionError::NotTheDeclarer));
    }

    #[test]
    fn only_the_declarer_updates_or_resolves_and_never_after_resolution() {
        let d = disruption(50, vec![]);
        let mhi = id("JPN-MHI-KOMAKI");
        let kai = id("KOR-KAI-SACHEON");
        assert_eq!(check_update(&d, &mhi, &draft(80, vec![])), Ok(()));
        assert_eq!(check_update(&d, &kai, &draft(80, vec![])), Err(DisruptionError::NotTheDeclarer));
        let mut moved = draft(80, vec![]);
        moved.site = "Gifu".into();
        assert_eq!(check_update(&d, &mhi, &moved), Err(DisruptionError::SiteChanged));
        assert_eq!(check_resolve(&d, &kai), Err(DisruptionError::NotTheDeclarer));
        assert_eq!(check_resolve(&d, &mhi), Ok(()));
        let mut done = d.clone();
        done.state = DisruptionState::Resolved;
        assert_eq!(check_resolve(&done, &mhi), Err(DisruptionError::Resolved));
        assert_eq!(check_update(&done, &mhi, &draft(10, vec![])), Err(DisruptionError::Resolved));
    }

    #[test]
    fn capacity_is_reduced_only_in_the_disrupted_days_capabilities_and_site() {
        let d = vec![disruption(60, vec![f16()])];
        let mhi = id("JPN-MHI-KOMAKI");
        let slots = CapacityUnit::InductionSlots;
        let share = |site: &str, label: &str, from: &str, to: &str| {
            remaining_share(&d, &[], &at(&mhi, site, label, slots), day(from), day(to))
        };
        assert!((share("Komaki South", "F-16C", "2027-03-01", "2027-03-31") - 0.4).abs() < 1e-9);
        // Half of a 62-day window (March and April) is disrupted.
        assert!((share("Komaki South", "F-16C", "2027-03-01", "2027-04-30") - (31.0 * 0.4 + 30.0) / 61.0).abs() < 1e-9);
        assert_eq!(share("Komaki South", "F-16C", "2027-04-01", "2027-04-30"), 1.0);
        assert_eq!(share("Komaki South", "F-35A", "2027-03-01", "2027-03-31"), 1.0);
        assert_eq!(share("Gifu", "F-16C", "2027-03-01", "2027-03-31"), 1.0);
        let kai = id("KOR-KAI-SACHEON");
        let other = at(&kai, "Komaki South", "F-16C", slots);
        assert_eq!(remaining_share(&d, &[], &other, day("2027-03-01"), day("2027-03-31")), 1.0);
        // Two notices on the same days: the larger loss counts, never more.
        let both = vec![disruption(60, vec![]), disruption(100, vec![])];
        let x = at(&mhi, "Komaki South", "X", slots);
        assert_eq!(remaining_share(&both, &[], &x, day("2027-03-10"), day("2027-03-10")), 0.0);
        let mut resolved = disruption(100, vec![]);
        resolved.state = DisruptionState::Resolved;
        assert_eq!(remaining_share(&[resolved], &[], &x, day("2027-03-10"), day("2027-03-10")), 1.0);
    }

    pub(crate) fn offer(unit: CapacityUnit, capabilities: Vec<Capability>, monthly: f64) -> CapacityOffer {
        let period = |start: &str, end: &str| CapacityPeriod {
            start: day(start),
            end: day(end),
            capacity: monthly,
            surge_capacity: monthly / 5.0,
        };
        CapacityOffer {
            id: "JPN-MHI-KOMAKI.o".into(),
            draft: CapacityOfferDraft {
                provider: id("JPN-MHI-KOMAKI"),
                site: Site {
                    name: "Komaki South".into(),
                    nation: Nation::parse("JPN").unwrap(),
                    region: Region::Indopacom,
                    latitude: 35.25,
                    longitude: 136.92,
                },
                capabilities,
                unit,
                periods: vec![period("2027-03-01", "2027-03-31"), period("2027-04-01", "2027-04-30")],
                valid_from: day("2027-01-01"),
                valid_until: day("2027-12-31"),
                lead_time_days: 0,
                rate: None,
                certifications: vec![],
                authorizations: vec![],
                releasability: Default::default(),
            },
            state: crate::records::OfferState::Active,
            version: 1,
            create_time: Utc::now(),
            update_time: Utc::now(),
        }
    }

    fn hours(per_month: u32, capabilities: Vec<AffectedCapability>) -> Disruption {
        let mut d = disruption(0, capabilities);
        d.draft.capacity_reduction_hours_per_month = Some(per_month);
        d
    }

    #[test]
    fn an_hours_effect_takes_its_hours_from_the_sites_labor_hour_capacity() {
        // 3,100 F-16C hours a month at the site, in two offers (one shares its hours with F-35A).
        let own = offer(CapacityUnit::LaborHours, vec![capability("F-16C")], 2100.0);
        let shared = offer(CapacityUnit::LaborHours, vec![capability("F-16C"), capability("F-35A")], 2000.0);
        let offers = vec![own.clone(), shared.clone()];
        let d = vec![hours(620, vec![f16()])];
        let mhi = id("JPN-MHI-KOMAKI");
        let here = |label, unit| at(&mhi, "Komaki South", label, unit);
        let march =
            |label, unit| remaining_share(&d, &offers, &here(label, unit), day("2027-03-01"), day("2027-03-31"));
        // 620 of 3,100 hours: a fifth lost, whichever offer the hours sit in.
        assert!((march("F-16C", CapacityUnit::LaborHours) - 0.8).abs() < 1e-9);
        assert_eq!(march("F-35A", CapacityUnit::LaborHours), 1.0, "another capability keeps its hours");
        assert_eq!(march("F-16C", CapacityUnit::InductionSlots), 1.0, "slots are not hours");
        let sum = |o: &CapacityOffer| {
            let r = reduced_offer(o, &offers, &d);
            (r.draft.periods[0].capacity, r.draft.periods[1].capacity)
        };
        let ((own_march, own_april), (shared_march, _)) = (sum(&own), sum(&shared));
        assert!((own_march - 2100.0 * 0.8).abs() < 1e-6 && own_april == 2100.0);
        // The shared offer counts only its F-16C half in the site's hours but its most reduced capability rules.
        assert!((shared_march - 2000.0 * 0.8).abs() < 1e-6);
        // The site's hours taken together lose exactly the 620 declared.
        assert!(((2100.0 + 1000.0) - (own_march + shared_march / 2.0) - 620.0).abs() < 1e-6);
        // More hours than the site offers: everything is lost, never less than nothing.
        let all = vec![hours(MAX_HOURS_PER_MONTH, vec![])];
        assert_eq!(
            remaining_share(
                &all,
                &offers,
                &here("F-16C", CapacityUnit::LaborHours),
                day("2027-03-05"),
                day("2027-03-05")
            ),
            0.0
        );
        // A site offering no hours for the capability loses nothing it has.
        assert_eq!(
            remaining_share(&d, &[], &here("F-16C", CapacityUnit::LaborHours), day("2027-03-05"), day("2027-03-05")),
            1.0
        );
        // A percentage and an hours notice on the same day: the larger loss counts.
        let both = vec![hours(620, vec![]), disruption(50, vec![])];
        assert!(
            (remaining_share(
                &both,
                &offers,
                &here("F-16C", CapacityUnit::LaborHours),
                day("2027-03-05"),
                day("2027-03-05")
            ) - 0.5)
                .abs()
                < 1e-9
        );
    }

    #[test]
    fn an_effect_is_a_percentage_or_hours_per_month_not_both() {
        assert_eq!(parse_effect(60, 0), Ok((60, None)));
        assert_eq!(parse_effect(0, 0), Ok((0, None)));
        assert_eq!(parse_effect(0, 400), Ok((0, Some(400))));
        assert_eq!(parse_effect(0, MAX_HOURS_PER_MONTH), Ok((0, Some(MAX_HOURS_PER_MONTH))));
        assert_eq!(parse_effect(101, 0).unwrap_err().0, "capacity_reduction_percent");
        assert_eq!(parse_effect(0, MAX_HOURS_PER_MONTH + 1).unwrap_err().0, "capacity_reduction_hours_per_month");
        assert!(parse_effect(50, 400).unwrap_err().1.contains("not both"));
        let mut d = draft(0, vec![]);
        d.capacity_reduction_hours_per_month = Some(400);
        assert_eq!((effect_label(&d), effect_label(&draft(60, vec![]))), ("400 h/month".into(), "60%".into()));
    }

    #[test]
    fn a_reduced_offer_counts_what_its_most_reduced_capability_keeps() {
        let offer = offer(CapacityUnit::InductionSlots, vec![capability("F-16C"), capability("F-35A")], 10.0);
        let reduced = reduced_offer(&offer, &[], &[disruption(50, vec![f16()])]);
        assert!((reduced.draft.periods[0].capacity - 5.0).abs() < 1e-9);
        assert!((reduced.draft.periods[0].surge_capacity - 1.0).abs() < 1e-9);
        assert_eq!(reduced.draft.periods[1].capacity, 10.0);
        assert_eq!(reduced_offer(&offer, &[], &[]), offer);
    }

    #[test]
    fn a_disruption_is_seen_by_coordinators_its_provider_and_the_owners_it_affects() {
        let d = disruption(50, vec![]);
        assert!(d.visible_to(&party("US-INDOPACOM-J4", PartyKind::Coordinator)));
        assert!(d.visible_to(&party("JPN-MHI-KOMAKI", PartyKind::Contractor)));
        assert!(d.visible_to(&party("US-USAF-OOALC", PartyKind::Organic)));
        assert!(!d.visible_to(&party("KOR-KAI-SACHEON", PartyKind::Contractor)));
        // Not by nation either.
        assert!(!d.visible_to(&party("JPN-KHI-GIFU", PartyKind::Contractor)));
    }

    pub(crate) fn order(state: RepairOrderState, provider: Option<&str>, tms: &str) -> RepairOrder {
        use crate::records::{Controls, Funding, Item, RepairOrderDraft, WorkProgress};
        RepairOrder {
            id: "US-USAF-OOALC.o1".into(),
            draft: RepairOrderDraft {
                originator: id("US-USAF-OOALC"),
                tms: Tms::parse(tms).unwrap(),
                system_category: crate::vocab::SystemCategory::Aircraft,
                component_family: None,
                item: Item {
                    nsn: None,
                    part_number: None,
                    cage_code: None,
                    serial_number: None,
                    nomenclature: "x".into(),
                },
                quantity: 1,
                maintenance_level: MaintenanceLevel::Depot,
                repair_type: RepairType::RepairAndReturn,
                priority: 2,
                required_by: day("2027-06-01"),
                location: Site {
                    name: "Kadena".into(),
                    nation: Nation::parse("JPN").unwrap(),
                    region: Region::Indopacom,
                    latitude: 26.35,
                    longitude: 127.77,
                },
                retrograde: None,
                controls: Controls::default(),
                funding: Funding {
                    source: None,
                    estimated_cost: None,
                    actual_cost: None,
                    fmf_funded: false,
                    dsca_waiver_reference: None,
                },
                department: None,
                estimated_labor_hours: 100.0,
            },
            state,
            provider: provider.map(id),
            version: 3,
            parent: None,
            create_time: Utc::now(),
            update_time: Utc::now(),
            progress: WorkProgress::default(),
        }
    }

    #[test]
    fn stranded_orders_move_to_another_provider_by_a_coordinators_proposal_only() {
        use RepairOrderState as S;
        let d = disruption(100, vec![f16()]);
        let site = vec![capability("F-16C"), capability("F-35A")];
        let kai = id("KOR-KAI-SACHEON");
        let accepted = order(S::Accepted, Some("JPN-MHI-KOMAKI"), "F-16C");
        assert!(affects_order(&d, &accepted, &site));
        assert_eq!(
            check_move(&d, &accepted, &site, &kai, true),
            Ok(Step { to: S::Proposed, provider: Some(kai.clone()) })
        );
        assert_eq!(check_move(&d, &accepted, &site, &kai, false), Err(DisruptionError::NotACoordinator));
        assert_eq!(
            check_move(&d, &accepted, &site, &id("JPN-MHI-KOMAKI"), true),
            Err(DisruptionError::NotAnotherProvider)
        );
        assert_eq!(
            check_move(&d, &accepted, &site, &id("US-USAF-OOALC"), true),
            Err(DisruptionError::NotAnotherProvider)
        );
        let inducted = order(S::Inducted, Some("JPN-MHI-KOMAKI"), "F-16C");
        assert_eq!(check_move(&d, &inducted, &site, &kai, true), Err(DisruptionError::OrderNotAffected(S::Inducted)));
        assert!(!affects_order(&d, &order(S::Proposed, Some("KOR-KAI-SACHEON"), "F-16C"), &site));
        assert!(!affects_order(&d, &order(S::Proposed, Some("JPN-MHI-KOMAKI"), "F-35A"), &site));
        assert!(!affects_order(&d, &order(S::Proposed, Some("JPN-MHI-KOMAKI"), "F-16C"), &[capability("F-35A")]));
        let mut resolved = d.clone();
        resolved.state = DisruptionState::Resolved;
        assert_eq!(check_move(&resolved, &accepted, &site, &kai, true), Err(DisruptionError::Resolved));
    }
}
