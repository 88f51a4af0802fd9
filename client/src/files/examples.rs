//! One valid example record of each type, for `cosx import template`: the
//! smallest record the coordinator accepts that still shows the common
//! columns filled in. `party` is the caller's own party id (a record's
//! originator, provider or reporter must be the caller).

use cosx_proto::v1 as pb;

/// A repair order from `party`.
pub fn repair_order(party: &str) -> pb::RepairOrder {
    pb::RepairOrder {
        originator: party.into(),
        tms: "F-35A".into(),
        system_category: pb::SystemCategory::Aircraft as i32,
        component_family: "F135 engine module".into(),
        item: Some(pb::Item {
            nsn: "2840-01-602-2317".into(),
            nomenclature: "MODULE, FAN, F135".into(),
            serial_number: "F135-00412".into(),
            ..Default::default()
        }),
        quantity: 2,
        maintenance_level: pb::MaintenanceLevel::Depot as i32,
        repair_type: pb::RepairType::RepairAndReturn as i32,
        priority: 3,
        required_by: "2027-09-30".into(),
        location: Some(pb::Site {
            name: "Kadena AB".into(),
            nation: "JPN".into(),
            region: pb::Region::Indopacom as i32,
            latitude: 26.3516,
            longitude: 127.7692,
        }),
        retrograde: Some(pb::Retrograde {
            distance_km: 1450.0,
            transit_days: 3.0,
            weight_kg: 410.0,
            ..Default::default()
        }),
        funding: Some(pb::Funding {
            source: Some(pb::funding::Source::UsAppropriation(pb::funding::UsAppropriation {
                department: pb::MilitaryDepartment::AirForce as i32,
                appropriation: "3400 O&M, Air Force".into(),
                fiscal_year: 2027,
            })),
            estimated_cost: Some(pb::Money { currency_code: "USD".into(), amount_minor: 18_000_000 }),
            ..Default::default()
        }),
        department: pb::MilitaryDepartment::AirForce as i32,
        estimated_labor_hours: 480.0,
        ..Default::default()
    }
}

/// A capacity offer from `party`.
pub fn capacity_offer(party: &str) -> pb::CapacityOffer {
    pb::CapacityOffer {
        provider: party.into(),
        site: Some(pb::Site {
            name: "Komaki South".into(),
            nation: "JPN".into(),
            region: pb::Region::Indopacom as i32,
            latitude: 35.2553,
            longitude: 136.9244,
        }),
        capabilities: vec![pb::Capability {
            tms: "F-35A".into(),
            maintenance_level: pb::MaintenanceLevel::Depot as i32,
            repair_types: vec![pb::RepairType::RepairAndReturn as i32],
            ..Default::default()
        }],
        unit: pb::CapacityUnit::LaborHours as i32,
        periods: vec![pb::CapacityPeriod {
            start_date: "2027-01-01".into(),
            end_date: "2027-03-31".into(),
            capacity: 4000.0,
            surge_capacity: 1000.0,
        }],
        valid_from: "2026-12-01".into(),
        valid_until: "2027-12-31".into(),
        lead_time_days: 14,
        rate: Some(pb::Money { currency_code: "USD".into(), amount_minor: 18_500 }),
        certifications: vec!["AS9110C".into()],
        ..Default::default()
    }
}

/// A fleet-level availability report from `party`.
pub fn availability_report(party: &str) -> pb::AvailabilityReport {
    pb::AvailabilityReport {
        reporter: party.into(),
        tms: "F-35A".into(),
        system_category: pb::SystemCategory::Aircraft as i32,
        department: pb::MilitaryDepartment::AirForce as i32,
        region: pb::Region::Indopacom as i32,
        timeframe_start: "2026-10-01".into(),
        timeframe_end: "2026-10-31".into(),
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
        tai_time: Some(pb::TimeByCategory { available: 520.0, nmcm: 90.0, nmcs: 60.0, depot: 62.0, upnr: 12.0 }),
        pmai_time: Some(pb::TimeByCategory { available: 470.0, nmcm: 70.0, nmcs: 50.0, depot: 20.0, upnr: 10.0 }),
        costs: vec![pb::CostElementAmount {
            element: "3.2".into(),
            amount: Some(pb::Money { currency_code: "USD".into(), amount_minor: 25_000_000 }),
        }],
        ..Default::default()
    }
}
