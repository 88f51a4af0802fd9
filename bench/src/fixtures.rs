//! Valid records, varied by index so that demand cells, report keys and
//! serials spread out (adapted from the end-to-end tests' fixtures).

use chrono::{Datelike, NaiveDate};
use cosx_client::files::examples;
use cosx_proto::v1 as pb;

/// TMS designators the generated records spread over.
pub(crate) const TMS: [&str; 8] = ["F-35A", "F-16C", "C-130J", "KC-135R", "F-15E", "C-17A", "A-10C", "B-52H"];

/// The `i`th repair order from `originator`: the import template's example
/// with its TMS, serial, quantity, level, priority, due date and hours
/// varied, no component family, and a USML category.
pub(crate) fn repair_order(originator: &str, i: usize) -> pb::RepairOrder {
    let month = i % 24;
    let level = if i.is_multiple_of(3) { pb::MaintenanceLevel::Intermediate } else { pb::MaintenanceLevel::Depot };
    let mut order = examples::repair_order(originator);
    order.tms = TMS[i % TMS.len()].into();
    order.component_family.clear();
    if let Some(item) = order.item.as_mut() {
        item.serial_number = format!("SN-{i:09}");
    }
    order.quantity = 1 + (i % 4) as u32;
    order.maintenance_level = level as i32;
    order.priority = 1 + (i % 15) as u32;
    order.required_by = format!("{}-{:02}-15", 2027 + month / 12, month % 12 + 1);
    order.controls = Some(pb::Controls { usml_category: "XIX(f)".into(), ..Default::default() });
    order.estimated_labor_hours = 40.0 + (i % 200) as f64;
    order
}

/// The `i`th capacity offer from `provider`: the template's example for
/// the `i`th TMS at both levels, every quarter of 2027 and 2028.
pub(crate) fn capacity_offer(provider: &str, i: usize) -> pb::CapacityOffer {
    let mut offer = examples::capacity_offer(provider);
    if let Some(site) = offer.site.as_mut() {
        site.name = format!("Komaki South {i}");
    }
    // Both levels the orders ask for, so every order of the TMS is capable.
    offer.capabilities = [pb::MaintenanceLevel::Depot, pb::MaintenanceLevel::Intermediate]
        .into_iter()
        .map(|level| pb::Capability {
            tms: TMS[i % TMS.len()].into(),
            maintenance_level: level as i32,
            repair_types: vec![pb::RepairType::RepairAndReturn as i32],
            ..Default::default()
        })
        .collect();
    // Every quarter the orders fall due in (2027 and 2028), with room
    // for the share of the orders a provider gets, so a plan can place most.
    offer.periods = (0..8)
        .map(|q| {
            let (year, first) = (2027 + q / 4, 1 + 3 * (q % 4));
            let last_day = if first == 1 || first == 10 { 31 } else { 30 };
            pb::CapacityPeriod {
                start_date: format!("{year}-{first:02}-01"),
                end_date: format!("{year}-{:02}-{last_day}", first + 2),
                capacity: 40_000.0,
                surge_capacity: 10_000.0,
            }
        })
        .collect();
    offer.valid_until = "2028-12-31".into();
    offer.certifications.clear();
    offer.authorizations = vec![
        pb::ProviderAuthorization {
            kind: pb::provider_authorization::Kind::ThirdCountryTransfer as i32,
            tms: TMS[i % TMS.len()].into(),
            reference: "DSP-5 050-123456".into(),
            nations: vec!["USA".into()],
            ..Default::default()
        },
        // The orders' USML category: without it a foreign provider is
        // ineligible for every one of them (EXPORT_CONTROL).
        pb::ProviderAuthorization {
            kind: pb::provider_authorization::Kind::ExportLicense as i32,
            tms: TMS[i % TMS.len()].into(),
            reference: "DSP-5 050-654321".into(),
            export_classification: "XIX(f)".into(),
            ..Default::default()
        },
    ];
    offer
}

/// The `i`th fleet-level availability report from `reporter`: one TMS and
/// one calendar month each, so no two share a natural key.
pub(crate) fn availability_report(reporter: &str, i: usize) -> pb::AvailabilityReport {
    // Monthly reports going back from December 2026, within the years the
    // exchange accepts (2000 on): after 27 years of months the same
    // reporter, TMS and month come round again, as a revised report that
    // supersedes the earlier one.
    let m = (i / TMS.len()) % (27 * 12);
    let (year, month) = (2026 - (m / 12) as i32, 12 - (m % 12) as u32);
    let start = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    let next =
        if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1) } else { NaiveDate::from_ymd_opt(year, month + 1, 1) }
            .unwrap_or_default();
    let end = next.pred_opt().unwrap_or(start);
    let days = f64::from(end.day());
    pb::AvailabilityReport {
        reporter: reporter.into(),
        tms: TMS[i % TMS.len()].into(),
        system_category: pb::SystemCategory::Aircraft as i32,
        department: pb::MilitaryDepartment::AirForce as i32,
        region: pb::Region::Indopacom as i32,
        timeframe_start: start.format("%Y-%m-%d").to_string(),
        timeframe_end: end.format("%Y-%m-%d").to_string(),
        time_unit: pb::TimeUnit::Days as i32,
        inventory: Some(pb::Inventory {
            tai: 24,
            pai: Some(20),
            bai: Some(2),
            pwr: Some(0),
            ar: Some(2),
            pmai: 20,
            ..Default::default()
        }),
        tai_time: Some(pb::TimeByCategory {
            available: 24.0 * days - 224.0,
            nmcm: 90.0,
            nmcs: 60.0,
            depot: 62.0,
            upnr: 12.0,
        }),
        pmai_time: Some(pb::TimeByCategory {
            available: 20.0 * days - 150.0,
            nmcm: 70.0,
            nmcs: 50.0,
            depot: 20.0,
            upnr: 10.0,
        }),
        costs: vec![pb::CostElementAmount {
            element: "3.2".into(),
            amount: Some(pb::Money { currency_code: "USD".into(), amount_minor: 25_000_000 }),
        }],
        ..Default::default()
    }
}
