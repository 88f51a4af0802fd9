//! The demo's seeded generator: the functions that turn a seed and a
//! simulated month of the world ([`crate::world`]) into availability
//! reports, repair orders, capacity offers and the providers' decisions.
//!
//! Everything here is synthetic but plausible, and pure: no I/O, no clock.
//! The same seed gives the same records (and, because record ids are chosen
//! here too, the same names).

use chrono::{Datelike, Months, NaiveDate};
use cosx_proto::v1 as pb;

pub use crate::world::*;
use pb::MaintenanceLevel::Depot;
use pb::MilitaryDepartment::{AirForce, Navy};
use pb::SystemCategory::{GroundVehicle, Ship};

/// splitmix64: small, fast, and good enough to make a scenario.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in [lo, hi] (inclusive).
    pub fn int(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next_u64() % u64::from(hi - lo + 1)) as u32
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }

    /// A Poisson draw with mean `mean` (Knuth; fine for small means).
    pub fn poisson(&mut self, mean: f64) -> u32 {
        let limit = (-mean).exp();
        let (mut k, mut p) = (0u32, 1.0);
        loop {
            p *= self.unit();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
}

/// A simulated month. The scenario starts with the first October after
/// today, the first month of the next US fiscal year: the coordinator stamps
/// real times, and a repair order must not fall due before it was submitted.
#[derive(Debug, Clone, Copy)]
pub struct Month {
    /// 1-based.
    pub index: u32,
    /// First day.
    pub first: NaiveDate,
    /// Last day.
    pub last: NaiveDate,
}

/// The first day of the scenario: the first 1 October after `today`.
pub fn start_after(today: NaiveDate) -> NaiveDate {
    let this_year = NaiveDate::from_ymd_opt(today.year(), 10, 1).unwrap_or(today);
    if this_year > today { this_year } else { this_year + Months::new(12) }
}

impl Month {
    /// Month `index` (1-based) of a scenario starting on `start`.
    pub fn nth(start: NaiveDate, index: u32) -> Month {
        let first = start + Months::new(index.saturating_sub(1));
        let last = first + Months::new(1) - chrono::Days::new(1);
        Month { index, first, last }
    }

    /// Its length in days.
    pub fn days(&self) -> u32 {
        self.last.day()
    }

    /// "October 2026".
    pub fn label(&self) -> String {
        self.first.format("%B %Y").to_string()
    }

    /// US fiscal year it belongs to.
    pub fn fiscal_year(&self) -> i32 {
        fiscal_year(self.first)
    }

    /// US fiscal quarter, 1 (October - December) to 4.
    pub fn fiscal_quarter(&self) -> u32 {
        (self.first.month() + 2) % 12 / 3 + 1
    }

    /// "2610": used in record ids.
    pub fn code(&self) -> String {
        self.first.format("%y%m").to_string()
    }

    /// A day of this month (clamped to its length).
    pub fn day(&self, d: u32) -> NaiveDate {
        self.first.with_day(d.clamp(1, self.days())).unwrap_or(self.first)
    }
}

/// US fiscal year of a date (FY2027 starts 2026-10-01): the domain's rule.
pub fn fiscal_year(d: NaiveDate) -> i32 {
    cosx_domain::FiscalYear::containing(d).year()
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn usd(cents: i64) -> Option<pb::Money> {
    Some(pb::Money { currency_code: "USD".into(), amount_minor: cents })
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Splits `total` not-available time into NMCM, NMCS, depot and UPNR.
fn not_available(rng: &mut Rng, total: f64, depot_share: f64) -> (f64, f64, f64, f64) {
    let nmcm = round1(total * rng.between(0.34, 0.44));
    let nmcs = round1(total * rng.between(0.18, 0.28));
    let depot = round1(total * depot_share);
    let upnr = round1((total - nmcm - nmcs - depot).max(0.0));
    (nmcm, nmcs, depot, upnr)
}

/// A fleet's DoDI 3110.05 availability report for a month: fleet totals in
/// days, inventory by category, and the maintenance cost of the PMAI.
pub fn availability_report(rng: &mut Rng, fleet: &Fleet, month: &Month) -> pb::AvailabilityReport {
    report_for(rng, fleet, month.first, month.last, 1.0)
}

/// Fleets whose maintenance cost per day of availability has grown for
/// years (owner, TMS, growth per fiscal year): their owners backfill the
/// four previous fiscal years, and the excessive C/DA flag fires.
pub const CDA_HISTORY: &[(&str, &str, f64)] = &[("US-PACAF-A4", "KC-135", 0.22)];

/// A fleet's annual reports for the four fiscal years before `start`, each
/// costing `1 + growth` times the year before (and the last one a year's
/// worth of what the fleet costs now, divided by `1 + growth`).
pub fn history_reports(rng: &mut Rng, fleet: &Fleet, start: NaiveDate, growth: f64) -> Vec<pb::AvailabilityReport> {
    (1..=4)
        .rev()
        .map(|back| {
            let first = start - Months::new(12 * back);
            let last = first + Months::new(12) - chrono::Days::new(1);
            report_for(rng, fleet, first, last, (1.0 + growth).powi(-(back as i32)))
        })
        .collect()
}

fn report_for(
    rng: &mut Rng,
    fleet: &Fleet,
    first: NaiveDate,
    last: NaiveDate,
    cost_scale: f64,
) -> pb::AvailabilityReport {
    let days = ((last - first).num_days() + 1) as f64;
    let ar = u32::from(fleet.tai >= 10);
    let bai = fleet.tai - fleet.pmai - ar;
    let tai_possible = f64::from(fleet.tai) * days;
    let pmai_possible = f64::from(fleet.pmai) * days;
    // Annual figures vary less than monthly ones.
    let annual = days > 62.0;
    let noise = if annual { 0.01 } else { 0.05 };
    let a_m = (fleet.availability + rng.between(-noise, noise)).clamp(0.2, 0.97);
    let a_o = (a_m + rng.between(0.0, 0.04)).min(0.98);
    let available = round1(tai_possible * a_m);
    // A little possible time goes unreported: the UPNR reconciliation finds it.
    let unaccounted = round1(tai_possible * rng.between(0.0, 0.01));
    let depot_share = rng.between(0.12, 0.22);
    let (nmcm, nmcs, depot, upnr) = not_available(rng, (tai_possible - available - unaccounted).max(0.0), depot_share);
    let pmai_available = round1((pmai_possible * a_o).min(available));
    // PMAI is part of TAI: its not-available time follows TAI's, category by category.
    let tai_down = nmcm + nmcs + depot + upnr;
    let ratio = if tai_down > 0.0 { ((pmai_possible - pmai_available) / tai_down).min(1.0) } else { 0.0 };
    let part = |x: f64| (x * ratio * 10.0).floor() / 10.0;
    let (p_nmcm, p_nmcs, p_depot, p_upnr) = (part(nmcm), part(nmcs), part(depot), part(upnr));
    // Maintenance cost of the PMAI over the timeframe, US dollars.
    let per_month = match fleet.category {
        Ship => 2_400_000.0,
        GroundVehicle => 30_000.0,
        _ => 350_000.0,
    } * f64::from(fleet.pmai);
    let fleet_cost = per_month * days / 30.44 * cost_scale;
    let spread = if annual { 0.02 } else { 0.17 };
    let cost =
        |share: f64, rng: &mut Rng| (fleet_cost * share * rng.between(1.0 - spread, 1.0 + spread)).round() as i64;
    let costs = [("1.2", 0.45), ("3.1", 0.15), ("3.2", 0.40)]
        .into_iter()
        .map(|(element, share)| pb::CostElementAmount { element: element.into(), amount: usd(cost(share, rng) * 100) })
        .collect();
    pb::AvailabilityReport {
        reporter: fleet.owner.into(),
        tms: fleet.tms.into(),
        system_category: fleet.category as i32,
        department: fleet.department.map_or(0, |d| d as i32),
        region: fleet.base.region as i32,
        timeframe_start: date(first),
        timeframe_end: date(last),
        time_unit: pb::TimeUnit::Days as i32,
        inventory: Some(pb::Inventory {
            tai: fleet.tai,
            pai: Some(fleet.pmai),
            bai: Some(bai),
            pwr: Some(0),
            ar: Some(ar),
            pmai: fleet.pmai,
            ..Default::default()
        }),
        tai_time: Some(pb::TimeByCategory { available, nmcm, nmcs, depot, upnr }),
        pmai_time: Some(pb::TimeByCategory {
            available: pmai_available,
            nmcm: p_nmcm,
            nmcs: p_nmcs,
            depot: p_depot,
            upnr: p_upnr,
        }),
        costs,
        ..Default::default()
    }
}

/// The owner's targets for a fleet.
pub fn target(fleet: &Fleet) -> pb::AvailabilityTarget {
    pb::AvailabilityTarget {
        owner: fleet.owner.into(),
        tms: fleet.tms.into(),
        a_m: Some(fleet.target.0),
        a_o: Some(fleet.target.1),
        ..Default::default()
    }
}

/// A depot repair order raised by a failure in `fleet` during `month`.
pub fn repair_order(rng: &mut Rng, fleet: &Fleet, month: &Month, serial: u32) -> pb::RepairOrder {
    let item = *rng.pick(fleet.items);
    let quantity = rng.int(1, item.max_quantity);
    // UMMIPS priority designators: a few urgent (1-3), many routine (9-15).
    let roll = rng.unit();
    let priority = if roll < 0.12 {
        rng.int(1, 3)
    } else if roll < 0.5 {
        rng.int(4, 8)
    } else {
        rng.int(9, 15)
    };
    let failed = month.day(rng.int(1, 28));
    let lead = match priority {
        1..=3 => rng.int(35, 55),
        4..=8 => rng.int(60, 95),
        _ => rng.int(90, 150),
    };
    let required_by = failed + chrono::Days::new(u64::from(lead));
    let hours = round1(item.hours * f64::from(quantity) * rng.between(0.9, 1.15));
    let cost_cents = item.cost_usd * 100 * i64::from(quantity);
    let funding = match fleet.department {
        Some(d) => pb::funding::Source::UsAppropriation(pb::funding::UsAppropriation {
            department: d as i32,
            appropriation: match d {
                AirForce => "3400 O&M, Air Force",
                Navy => "1804 O&M, Navy",
                _ => "2020 O&M, Army",
            }
            .into(),
            fiscal_year: fiscal_year(failed),
        }),
        // A partner's depot work is bought through its Foreign Military
        // Sales case (the LOA's country code is the owner's).
        None => pb::funding::Source::FmsCase(pb::funding::FmsCase {
            loa_id: match fleet.base.nation {
                "NOR" => "NO-D-SAB",
                "COL" => "CO-B-UAC",
                _ => "RP-D-QAF",
            }
            .into(),
        }),
    };
    let criticality = match priority {
        1..=3 => pb::retrograde::Level::High,
        4..=8 => pb::retrograde::Level::Medium,
        _ => pb::retrograde::Level::Low,
    };
    pb::RepairOrder {
        originator: fleet.owner.into(),
        tms: fleet.tms.into(),
        system_category: fleet.category as i32,
        item: Some(pb::Item {
            nsn: item.nsn.into(),
            nomenclature: item.nomenclature.into(),
            serial_number: format!("{}-{:05}", fleet.tms.replace(['/', '-'], ""), 10_000 + serial * 37 % 90_000),
            ..Default::default()
        }),
        quantity,
        maintenance_level: Depot as i32,
        repair_type: item.repair as i32,
        priority,
        required_by: date(required_by),
        location: Some(fleet.base.site()),
        retrograde: Some(pb::Retrograde {
            weight_kg: item.weight_kg * f64::from(quantity),
            volume_m3: round1((item.weight_kg * f64::from(quantity) / 180.0).max(0.1)),
            handling_complexity: if item.weight_kg > 1_000.0 {
                pb::retrograde::Level::High
            } else {
                pb::retrograde::Level::Medium
            } as i32,
            criticality: criticality as i32,
            ..Default::default()
        }),
        controls: Some(pb::Controls {
            usml_category: item.usml.into(),
            eccn: item.eccn.into(),
            organic_only: item.organic_only,
            ..Default::default()
        }),
        funding: Some(pb::Funding {
            source: Some(funding),
            estimated_cost: usd(cost_cents),
            actual_cost: None,
            ..Default::default()
        }),
        department: fleet.department.map_or(0, |d| d as i32),
        estimated_labor_hours: hours,
        ..Default::default()
    }
}

/// A provider's capacity offer covering `months` months from the start,
/// plus a quarter beyond (orders are due after the month they are raised).
pub fn capacity_offer(spec: &OfferSpec, start: NaiveDate, months: u32) -> pb::CapacityOffer {
    let horizon = months + 4;
    let periods = (1..=horizon)
        .map(|i| {
            let m = Month::nth(start, i);
            pb::CapacityPeriod {
                start_date: date(m.first),
                end_date: date(m.last),
                capacity: spec.hours_per_month,
                surge_capacity: spec.surge_per_month,
            }
        })
        .collect();
    let tms: Vec<&str> = spec.capabilities.iter().map(|(t, _)| *t).collect();
    let mut authorizations = Vec::new();
    if !spec.transfer_nations.is_empty() {
        for t in &tms {
            authorizations.push(pb::ProviderAuthorization {
                kind: pb::provider_authorization::Kind::ThirdCountryTransfer as i32,
                tms: (*t).into(),
                reference: format!("DSP-5 050-{:06}", 100_000 + t.len() * 7919 % 900_000),
                nations: spec.transfer_nations.iter().map(|n| (*n).into()).collect(),
                ..Default::default()
            });
            authorizations.push(pb::ProviderAuthorization {
                kind: pb::provider_authorization::Kind::PrimeFacilityApproval as i32,
                tms: (*t).into(),
                reference: format!("PRIME-FA-{}-{}", spec.site.nation, t.replace('/', "")),
                ..Default::default()
            });
        }
    }
    for licence in spec.licences {
        authorizations.push(pb::ProviderAuthorization {
            kind: pb::provider_authorization::Kind::ExportLicense as i32,
            reference: format!("licence {licence}"),
            export_classification: (*licence).into(),
            ..Default::default()
        });
    }
    let all_types = vec![
        pb::RepairType::RepairAndReturn as i32,
        pb::RepairType::DirectExchange as i32,
        pb::RepairType::Overhaul as i32,
    ];
    pb::CapacityOffer {
        provider: spec.provider.into(),
        site: Some(spec.site.site()),
        capabilities: spec
            .capabilities
            .iter()
            .map(|(t, level)| pb::Capability {
                tms: (*t).into(),
                maintenance_level: *level as i32,
                repair_types: all_types.clone(),
                ..Default::default()
            })
            .collect(),
        unit: pb::CapacityUnit::LaborHours as i32,
        periods,
        valid_from: date(start),
        valid_until: date(Month::nth(start, horizon).last),
        lead_time_days: spec.lead_time_days,
        rate: usd(spec.rate_usd * 100),
        certifications: spec.certifications.iter().map(|c| (*c).into()).collect(),
        authorizations,
        ..Default::default()
    }
}

/// Why a provider turns a proposal down.
pub const DECLINE_REASONS: &[&str] = &[
    "induction line full this month",
    "test cell down for calibration",
    "awaiting licence amendment for this configuration",
    "no certified technicians for this item until next quarter",
];

/// Work done: actual hours and cost as a fraction of the estimate.
pub fn actual_factor(rng: &mut Rng) -> f64 {
    rng.between(0.85, 1.3)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_same_seed_makes_the_same_orders() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let m = Month::nth(start_after(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()), 2);
        for fleet in FLEETS {
            assert_eq!(repair_order(&mut a, fleet, &m, 1), repair_order(&mut b, fleet, &m, 1));
        }
    }

    #[test]
    fn months_run_from_the_next_october_through_the_fiscal_year() {
        let start = start_after(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
        assert_eq!(start, NaiveDate::from_ymd_opt(2027, 10, 1).unwrap());
        assert_eq!(start_after(NaiveDate::from_ymd_opt(2027, 9, 30).unwrap()), start);
        assert_eq!(start_after(start), NaiveDate::from_ymd_opt(2028, 10, 1).unwrap());
        assert_eq!(Month::nth(start, 1).label(), "October 2027");
        assert_eq!(Month::nth(start, 1).fiscal_year(), 2028);
        assert_eq!(Month::nth(start, 5).last, NaiveDate::from_ymd_opt(2028, 2, 29).unwrap());
        assert_eq!(Month::nth(start, 13).fiscal_year(), 2029);
        let quarters: Vec<u32> = (1..=12).map(|i| Month::nth(start, i).fiscal_quarter()).collect();
        assert_eq!(quarters, [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    }

    #[test]
    fn history_covers_the_four_previous_fiscal_years() {
        let start = NaiveDate::from_ymd_opt(2027, 10, 1).unwrap();
        let kc135 = FLEETS.iter().find(|f| f.tms == "KC-135").unwrap();
        let reports = history_reports(&mut Rng::new(3), kc135, start, 0.16);
        let spans: Vec<(&str, &str)> =
            reports.iter().map(|r| (r.timeframe_start.as_str(), r.timeframe_end.as_str())).collect();
        assert_eq!(
            spans,
            [
                ("2023-10-01", "2024-09-30"),
                ("2024-10-01", "2025-09-30"),
                ("2025-10-01", "2026-09-30"),
                ("2026-10-01", "2027-09-30")
            ]
        );
    }

    #[test]
    fn reports_never_claim_more_time_than_is_possible() {
        let mut rng = Rng::new(1);
        for i in 1..=12 {
            let m = Month::nth(NaiveDate::from_ymd_opt(2027, 10, 1).unwrap(), i);
            for fleet in FLEETS {
                let r = availability_report(&mut rng, fleet, &m);
                let t = r.tai_time.unwrap();
                let p = r.pmai_time.unwrap();
                let days = f64::from(m.days());
                assert!(t.available + t.nmcm + t.nmcs + t.depot + t.upnr <= f64::from(fleet.tai) * days + 1e-6);
                assert!(p.available + p.nmcm + p.nmcs + p.depot + p.upnr <= f64::from(fleet.pmai) * days + 1e-6);
                assert!(p.available <= t.available && p.nmcm <= t.nmcm && p.nmcs <= t.nmcs);
                assert!(p.depot <= t.depot && p.upnr <= t.upnr);
            }
        }
    }
}
