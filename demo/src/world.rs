//! The demo's world: the parties of a regional sustainment exchange in three
//! combatant commands (INDOPACOM, where the pilots run; EUCOM, with NATO
//! partner depots and fleets; SOUTHCOM, with its partners), their bases,
//! fleets and repair capabilities, a catalog of
//! repairable items with real-looking NSNs, and the capacity the providers
//! offer. Synthetic but plausible.
//!
//! Data only: no I/O, no clock, no randomness (that is [`crate::scenario`]'s).

use cosx_proto::v1 as pb;

/// A place.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    /// Its name.
    pub name: &'static str,
    /// ISO 3166-1 alpha-3.
    pub nation: &'static str,
    /// Combatant command area.
    pub region: pb::Region,
    /// WGS 84 degrees.
    pub lat: f64,
    /// WGS 84 degrees.
    pub lon: f64,
}

impl Place {
    /// As the API's `Site`.
    pub fn site(&self) -> pb::Site {
        pb::Site {
            name: self.name.into(),
            nation: self.nation.into(),
            region: self.region as i32,
            latitude: self.lat,
            longitude: self.lon,
        }
    }
}

const fn place(name: &'static str, nation: &'static str, region: pb::Region, lat: f64, lon: f64) -> Place {
    Place { name, nation, region, lat, lon }
}

use pb::Region::{Eucom, Indopacom, Northcom, Southcom};

/// A party of the exchange.
#[derive(Debug, Clone, Copy)]
pub struct PartySpec {
    /// Party id.
    pub id: &'static str,
    /// ORGANIC, PARTNER_GOVERNMENT, CONTRACTOR or COORDINATOR.
    pub kind: &'static str,
    /// ISO 3166-1 alpha-3.
    pub nation: &'static str,
    /// Military Department, for US organic depots.
    pub department: Option<&'static str>,
    /// Display name.
    pub name: &'static str,
}

/// The coordinating office; it talks to the coordinator directly.
pub const COORDINATOR: &str = "US-INDOPACOM-J4";
/// The party whose node is cut off for part of the run.
pub const CUT_OFF: &str = "PHL-PAF-CLARK";

/// Every party; all but the coordinating office run a node.
pub const PARTIES: &[PartySpec] = &[
    PartySpec {
        id: COORDINATOR,
        kind: "COORDINATOR",
        nation: "USA",
        department: None,
        name: "INDOPACOM J4 regional sustainment coordination (with EUCOM and SOUTHCOM)",
    },
    PartySpec {
        id: "US-PACAF-A4",
        kind: "ORGANIC",
        nation: "USA",
        department: Some("AIR_FORCE"),
        name: "Pacific Air Forces A4, fleet owner",
    },
    PartySpec {
        id: "US-PACFLT-N4",
        kind: "ORGANIC",
        nation: "USA",
        department: Some("NAVY"),
        name: "US Pacific Fleet N4, fleet owner",
    },
    PartySpec {
        id: "US-USARPAC-G4",
        kind: "ORGANIC",
        nation: "USA",
        department: Some("ARMY"),
        name: "US Army Pacific G4, fleet owner",
    },
    PartySpec {
        id: "US-USAF-OOALC",
        kind: "ORGANIC",
        nation: "USA",
        department: Some("AIR_FORCE"),
        name: "Ogden Air Logistics Complex, Hill AFB",
    },
    PartySpec {
        id: "US-USN-FRCW",
        kind: "ORGANIC",
        nation: "USA",
        department: Some("NAVY"),
        name: "Fleet Readiness Center West, NAS Lemoore",
    },
    PartySpec {
        id: "US-ARMY-ANAD",
        kind: "ORGANIC",
        nation: "USA",
        department: Some("ARMY"),
        name: "Anniston Army Depot",
    },
    PartySpec {
        id: "JPN-JMSDF-YOKOSUKA",
        kind: "PARTNER_GOVERNMENT",
        nation: "JPN",
        department: None,
        name: "JMSDF Yokosuka ship repair facility",
    },
    PartySpec {
        id: "JPN-MHI-KOMAKI",
        kind: "CONTRACTOR",
        nation: "JPN",
        department: None,
        name: "Mitsubishi Heavy Industries, Komaki South",
    },
    PartySpec {
        id: "KOR-KAI-SACHEON",
        kind: "CONTRACTOR",
        nation: "KOR",
        department: None,
        name: "Korea Aerospace Industries, Sacheon",
    },
    PartySpec {
        id: "AUS-RAAF-AMBERLEY",
        kind: "PARTNER_GOVERNMENT",
        nation: "AUS",
        department: None,
        name: "RAAF Base Amberley, No. 501 Wing",
    },
    PartySpec {
        id: "SGP-STE-PAYALEBAR",
        kind: "CONTRACTOR",
        nation: "SGP",
        department: None,
        name: "ST Engineering Aerospace and Marine, Singapore",
    },
    PartySpec {
        id: CUT_OFF,
        kind: "PARTNER_GOVERNMENT",
        nation: "PHL",
        department: None,
        name: "Philippine Air Force 410th Maintenance Wing, Clark AB",
    },
    PartySpec {
        id: "US-LM-MARIETTA",
        kind: "CONTRACTOR",
        nation: "USA",
        department: None,
        name: "Lockheed Martin Aeronautics, Marietta",
    },
    PartySpec {
        id: "US-GAASI-POWAY",
        kind: "CONTRACTOR",
        nation: "USA",
        department: None,
        name: "General Atomics Aeronautical Systems, Poway",
    },
    // EUCOM: a US fleet owner, a NATO partner fleet and NATO partner depots.
    PartySpec {
        id: "US-USAFE-A4",
        kind: "ORGANIC",
        nation: "USA",
        department: Some("AIR_FORCE"),
        name: "US Air Forces in Europe A4, fleet owner",
    },
    PartySpec {
        id: "NOR-RNOAF-ORLAND",
        kind: "PARTNER_GOVERNMENT",
        nation: "NOR",
        department: None,
        name: "Royal Norwegian Air Force 132 Air Wing, Orland",
    },
    PartySpec {
        id: "NOR-KONGSBERG-RYGGE",
        kind: "CONTRACTOR",
        nation: "NOR",
        department: None,
        name: "Kongsberg Aviation Maintenance Services, Rygge",
    },
    PartySpec {
        id: "ITA-LEONARDO-CAMERI",
        kind: "CONTRACTOR",
        nation: "ITA",
        department: None,
        name: "Leonardo, Cameri final assembly and MRO&U",
    },
    PartySpec {
        id: "POL-WZL2-BYDGOSZCZ",
        kind: "PARTNER_GOVERNMENT",
        nation: "POL",
        department: None,
        name: "Military Aviation Works No. 2, Bydgoszcz",
    },
    // SOUTHCOM: a US fleet owner, a partner fleet, a partner depot and the
    // US organic depot for the type.
    PartySpec {
        id: "US-ARSOUTH-G4",
        kind: "ORGANIC",
        nation: "USA",
        department: Some("ARMY"),
        name: "US Army South G4, fleet owner",
    },
    PartySpec {
        id: "COL-FAC-CATAM",
        kind: "PARTNER_GOVERNMENT",
        nation: "COL",
        department: None,
        name: "Colombian Aerospace Force, CATAM Bogota",
    },
    PartySpec {
        id: "COL-CIAC-MADRID",
        kind: "PARTNER_GOVERNMENT",
        nation: "COL",
        department: None,
        name: "Corporacion de la Industria Aeronautica Colombiana, Madrid",
    },
    PartySpec {
        id: "US-ARMY-CCAD",
        kind: "ORGANIC",
        nation: "USA",
        department: Some("ARMY"),
        name: "Corpus Christi Army Depot",
    },
];

/// A repairable item.
#[derive(Debug, Clone, Copy)]
pub struct ItemSpec {
    /// National Stock Number.
    pub nsn: &'static str,
    /// Nomenclature.
    pub nomenclature: &'static str,
    /// Labor hours per unit.
    pub hours: f64,
    /// Repair cost per unit, US dollars.
    pub cost_usd: i64,
    /// Packed weight per unit, kg.
    pub weight_kg: f64,
    /// Most units in one order.
    pub max_quantity: u32,
    /// How it is repaired.
    pub repair: pb::RepairType,
    /// USML category, if ITAR-controlled.
    pub usml: &'static str,
    /// ECCN, if EAR-controlled.
    pub eccn: &'static str,
    /// Sensitive: US organic depots only.
    pub organic_only: bool,
}

const fn item(nsn: &'static str, nomenclature: &'static str, hours: f64, cost_usd: i64, weight_kg: f64) -> ItemSpec {
    ItemSpec {
        nsn,
        nomenclature,
        hours,
        cost_usd,
        weight_kg,
        max_quantity: 1,
        repair: pb::RepairType::RepairAndReturn,
        usml: "",
        eccn: "",
        organic_only: false,
    }
}

impl ItemSpec {
    const fn qty(mut self, n: u32) -> Self {
        self.max_quantity = n;
        self
    }
    const fn usml(mut self, c: &'static str) -> Self {
        self.usml = c;
        self
    }
    const fn eccn(mut self, c: &'static str) -> Self {
        self.eccn = c;
        self
    }
    const fn overhaul(mut self) -> Self {
        self.repair = pb::RepairType::Overhaul;
        self
    }
    const fn exchange(mut self) -> Self {
        self.repair = pb::RepairType::DirectExchange;
        self
    }
    const fn organic(mut self) -> Self {
        self.organic_only = true;
        self
    }
}

/// A fleet whose owner reports its availability and raises its repairs.
#[derive(Debug, Clone, Copy)]
pub struct Fleet {
    /// Owning party (for US fleets, the operating command).
    pub owner: &'static str,
    /// Type-model-series.
    pub tms: &'static str,
    /// Aircraft, ship, ground vehicle.
    pub category: pb::SystemCategory,
    /// Military Department, for US fleets.
    pub department: Option<pb::MilitaryDepartment>,
    /// Where it is based.
    pub base: Place,
    /// Total active inventory.
    pub tai: u32,
    /// Primary mission inventory.
    pub pmai: u32,
    /// Mean materiel availability the fleet achieves.
    pub availability: f64,
    /// The owner's A_M and A_O targets.
    pub target: (f64, f64),
    /// Depot repairs raised per month, on average.
    pub failures: f64,
    /// What breaks.
    pub items: &'static [ItemSpec],
}

use pb::MilitaryDepartment::{AirForce, Army, Navy};
use pb::SystemCategory::{Aircraft, GroundVehicle, Ship};

const F35A: &[ItemSpec] = &[
    item("2840-01-602-2317", "MODULE, FAN, F135", 620.0, 1_450_000, 410.0).usml("XIX(f)"),
    item("1680-01-650-1182", "ACTUATOR, ELECTRO-HYDROSTATIC", 85.0, 96_000, 38.0).qty(3).usml("VIII(h)"),
    item("1560-01-649-0327", "PANEL, ACCESS, LOW OBSERVABLE", 140.0, 210_000, 22.0).usml("VIII(h)").organic(),
    item("6130-01-637-7761", "CONVERTER, POWER, INTEGRATED", 60.0, 74_000, 17.0).qty(2).usml("VIII(h)"),
];
const F16C: &[ItemSpec] = &[
    item("2840-01-355-4325", "MODULE, FAN, F110-GE-129", 430.0, 690_000, 520.0).usml("XIX(f)"),
    item("1650-01-388-3927", "SERVOCYLINDER, FLIGHT CONTROL", 45.0, 38_000, 29.0).qty(4).usml("VIII(h)"),
    item("5841-01-535-6734", "ANTENNA ARRAY, AN/APG-83", 120.0, 240_000, 41.0).usml("XI(c)"),
    item("1560-01-481-2212", "BULKHEAD, WING ATTACH, FS 341", 900.0, 520_000, 180.0).overhaul().usml("VIII(h)"),
];
const C130J: &[ItemSpec] = &[
    item("2840-01-482-9712", "ENGINE, TURBOPROP, AE 2100D3", 380.0, 610_000, 790.0).eccn("9A619"),
    item("1610-01-493-6281", "BLADE, PROPELLER, R391", 18.0, 21_000, 35.0).qty(6).exchange().eccn("9A610"),
    item("1620-01-507-3341", "STRUT, MAIN LANDING GEAR", 110.0, 88_000, 240.0).qty(2).eccn("9A610"),
];
const KC135: &[ItemSpec] = &[
    item("2840-01-325-1066", "ENGINE, TURBOFAN, F108-CF-100", 520.0, 880_000, 2_100.0).eccn("9A619"),
    item("1560-01-247-8511", "BOOM, AERIAL REFUELING", 760.0, 940_000, 1_200.0).overhaul().usml("VIII(h)"),
    item("1630-00-937-7735", "BRAKE ASSEMBLY, MULTIPLE DISK", 24.0, 19_500, 95.0).qty(4),
];
const MQ9: &[ItemSpec] = &[
    item("2840-01-626-1105", "ENGINE, TURBOPROP, TPE331-10T", 190.0, 230_000, 180.0).usml("VIII(h)"),
    item("6720-01-589-2230", "TURRET, SENSOR, MTS-B", 130.0, 410_000, 95.0).usml("XII(c)"),
    item("5895-01-601-7350", "TERMINAL, SATCOM DATA LINK", 55.0, 120_000, 26.0).usml("XI(c)").organic(),
];
const FA18E: &[ItemSpec] = &[
    item("2840-01-516-0312", "MODULE, HP TURBINE, F414-GE-400", 450.0, 720_000, 260.0).usml("XIX(f)"),
    item("1680-01-474-8855", "ACTUATOR, LEADING EDGE FLAP", 70.0, 64_000, 31.0).qty(2).usml("VIII(h)"),
    item("5841-01-566-0431", "ANTENNA, AN/APG-79 AESA", 210.0, 380_000, 72.0).usml("XI(c)"),
];
const DDG51: &[ItemSpec] = &[
    item("2835-01-474-6032", "ENGINE, GAS TURBINE, LM2500", 1_150.0, 1_900_000, 22_000.0).overhaul(),
    item("4320-01-388-5536", "PUMP, CENTRIFUGAL, FIRE MAIN", 160.0, 95_000, 640.0).qty(2),
    item("2010-01-473-3309", "SEAL ASSEMBLY, PROPULSION SHAFT", 300.0, 240_000, 410.0),
    item("5840-01-598-4177", "TRANSMITTER GROUP, AN/SPY-1D(V)", 800.0, 2_600_000, 1_900.0).usml("XI(c)").organic(),
];
const LCS: &[ItemSpec] = &[
    item("2815-01-633-6145", "ENGINE, DIESEL, MTU 20V 8000", 640.0, 870_000, 9_800.0).overhaul(),
    item("2010-01-607-5590", "WATERJET, STEERABLE, KAMEWA", 520.0, 610_000, 6_400.0),
    item("5840-01-615-2213", "RADAR SET, AN/SPS-75", 240.0, 330_000, 520.0).usml("XI(c)"),
];
const M1A2: &[ItemSpec] = &[
    item("2835-01-520-8812", "ENGINE, GAS TURBINE, AGT1500", 610.0, 560_000, 1_130.0).overhaul(),
    item("2520-01-476-9823", "TRANSMISSION, HYDROKINETIC, X1100-3B", 340.0, 310_000, 1_960.0),
    item("1240-01-529-1160", "SIGHT, COMMANDER'S INDEPENDENT THERMAL", 120.0, 290_000, 64.0).usml("XII(c)").organic(),
    item("2530-01-549-1210", "ROADWHEEL ASSEMBLY, DUAL", 9.0, 4_800, 120.0).qty(8),
];
const C130H: &[ItemSpec] = &[
    item("2840-00-134-4803", "ENGINE, TURBOPROP, T56-A-15", 420.0, 520_000, 880.0),
    item("1610-00-150-6617", "PROPELLER, 54H60-91", 95.0, 88_000, 410.0).exchange(),
];
const FA50: &[ItemSpec] = &[
    item("2840-01-556-6208", "ENGINE, TURBOFAN, F404-GE-102", 360.0, 470_000, 1_040.0),
    item("1680-01-671-0234", "ACTUATOR, HORIZONTAL TAIL", 40.0, 36_000, 28.0).qty(2),
];

const UH60M: &[ItemSpec] = &[
    item("2840-01-548-5385", "ENGINE, TURBOSHAFT, T700-GE-701D", 310.0, 420_000, 200.0).usml("XIX(f)"),
    item("1615-01-290-9598", "BLADE, MAIN ROTOR, UH-60", 140.0, 180_000, 110.0).qty(4).usml("VIII(h)"),
    item("1615-01-463-4611", "GEARBOX, MAIN TRANSMISSION", 260.0, 350_000, 520.0).overhaul().usml("VIII(h)"),
];

const LAKENHEATH: Place = place("RAF Lakenheath", "GBR", Eucom, 52.4093, 0.5610);
const SPANGDAHLEM: Place = place("Spangdahlem AB", "DEU", Eucom, 49.9727, 6.6925);
const ORLAND: Place = place("Orland Main Air Station", "NOR", Eucom, 63.6989, 9.6040);
const SOTO_CANO: Place = place("Soto Cano AB", "HND", Southcom, 14.3824, -87.6212);
const CATAM: Place = place("CATAM, Bogota", "COL", Southcom, 4.7016, -74.1469);

const KADENA: Place = place("Kadena AB", "JPN", Indopacom, 26.3516, 127.7692);
const MISAWA: Place = place("Misawa AB", "JPN", Indopacom, 40.7032, 141.3686);
const YOKOTA: Place = place("Yokota AB", "JPN", Indopacom, 35.7485, 139.3485);
const ANDERSEN: Place = place("Andersen AFB, Guam", "USA", Indopacom, 13.5840, 144.9300);
const IWAKUNI: Place = place("MCAS Iwakuni", "JPN", Indopacom, 34.1439, 132.2356);
const YOKOSUKA: Place = place("Fleet Activities Yokosuka", "JPN", Indopacom, 35.2924, 139.6650);
const CHANGI: Place = place("Changi Naval Base", "SGP", Indopacom, 1.3190, 104.0160);
const HUMPHREYS: Place = place("Camp Humphreys", "KOR", Indopacom, 36.9631, 127.0311);
const MACTAN: Place = place("Benito Ebuen AB, Mactan", "PHL", Indopacom, 10.3075, 123.9794);
const BASA: Place = place("Basa AB", "PHL", Indopacom, 14.9864, 120.4928);

/// The fleets of the scenario.
pub const FLEETS: &[Fleet] = &[
    Fleet {
        owner: "US-PACAF-A4",
        tms: "F-35A",
        category: Aircraft,
        department: Some(AirForce),
        base: KADENA,
        tai: 26,
        pmai: 22,
        availability: 0.66,
        target: (0.70, 0.65),
        failures: 3.2,
        items: F35A,
    },
    Fleet {
        owner: "US-PACAF-A4",
        tms: "F-16C",
        category: Aircraft,
        department: Some(AirForce),
        base: MISAWA,
        tai: 36,
        pmai: 31,
        availability: 0.72,
        target: (0.75, 0.70),
        failures: 2.6,
        items: F16C,
    },
    Fleet {
        owner: "US-PACAF-A4",
        tms: "C-130J",
        category: Aircraft,
        department: Some(AirForce),
        base: YOKOTA,
        tai: 14,
        pmai: 12,
        availability: 0.78,
        target: (0.75, 0.72),
        failures: 1.8,
        items: C130J,
    },
    Fleet {
        owner: "US-PACAF-A4",
        tms: "KC-135",
        category: Aircraft,
        department: Some(AirForce),
        base: KADENA,
        tai: 15,
        pmai: 13,
        // An ageing tanker fleet well below its target: the exception flag.
        availability: 0.49,
        target: (0.75, 0.70),
        failures: 1.6,
        items: KC135,
    },
    Fleet {
        owner: "US-PACAF-A4",
        tms: "MQ-9",
        category: Aircraft,
        department: Some(AirForce),
        base: ANDERSEN,
        tai: 8,
        pmai: 7,
        availability: 0.81,
        target: (0.80, 0.75),
        failures: 1.0,
        items: MQ9,
    },
    Fleet {
        owner: "US-PACFLT-N4",
        tms: "F/A-18E",
        category: Aircraft,
        department: Some(Navy),
        base: IWAKUNI,
        tai: 44,
        pmai: 38,
        availability: 0.70,
        target: (0.73, 0.68),
        failures: 2.4,
        items: FA18E,
    },
    Fleet {
        owner: "US-PACFLT-N4",
        tms: "DDG-51",
        category: Ship,
        department: Some(Navy),
        base: YOKOSUKA,
        tai: 8,
        pmai: 7,
        availability: 0.77,
        target: (0.80, 0.75),
        failures: 1.5,
        items: DDG51,
    },
    Fleet {
        owner: "US-PACFLT-N4",
        tms: "LCS",
        category: Ship,
        department: Some(Navy),
        base: CHANGI,
        tai: 5,
        pmai: 4,
        // Littoral combat ships: chronic engineering casualties.
        availability: 0.52,
        target: (0.75, 0.70),
        failures: 1.2,
        items: LCS,
    },
    Fleet {
        owner: "US-USARPAC-G4",
        tms: "M1A2",
        category: GroundVehicle,
        department: Some(Army),
        base: HUMPHREYS,
        tai: 90,
        pmai: 80,
        availability: 0.86,
        target: (0.90, 0.85),
        failures: 2.2,
        items: M1A2,
    },
    Fleet {
        owner: CUT_OFF,
        tms: "C-130H",
        category: Aircraft,
        department: None,
        base: MACTAN,
        tai: 4,
        pmai: 3,
        availability: 0.55,
        target: (0.70, 0.65),
        failures: 0.7,
        items: C130H,
    },
    Fleet {
        owner: CUT_OFF,
        tms: "FA-50PH",
        category: Aircraft,
        department: None,
        base: BASA,
        tai: 12,
        pmai: 10,
        availability: 0.63,
        target: (0.70, 0.65),
        failures: 0.9,
        items: FA50,
    },
    Fleet {
        owner: "US-USAFE-A4",
        tms: "F-35A",
        category: Aircraft,
        department: Some(AirForce),
        base: LAKENHEATH,
        tai: 27,
        pmai: 24,
        availability: 0.69,
        target: (0.70, 0.65),
        failures: 2.8,
        items: F35A,
    },
    Fleet {
        owner: "US-USAFE-A4",
        tms: "F-16C",
        category: Aircraft,
        department: Some(AirForce),
        base: SPANGDAHLEM,
        tai: 24,
        pmai: 21,
        availability: 0.73,
        target: (0.75, 0.70),
        failures: 1.9,
        items: F16C,
    },
    Fleet {
        owner: "NOR-RNOAF-ORLAND",
        tms: "F-35A",
        category: Aircraft,
        department: None,
        base: ORLAND,
        tai: 20,
        pmai: 17,
        availability: 0.71,
        target: (0.72, 0.68),
        failures: 1.6,
        items: F35A,
    },
    Fleet {
        owner: "US-ARSOUTH-G4",
        tms: "UH-60M",
        category: Aircraft,
        department: Some(Army),
        base: SOTO_CANO,
        tai: 18,
        pmai: 15,
        availability: 0.74,
        target: (0.80, 0.75),
        failures: 1.4,
        items: UH60M,
    },
    Fleet {
        owner: "COL-FAC-CATAM",
        tms: "UH-60M",
        category: Aircraft,
        department: None,
        base: CATAM,
        tai: 20,
        pmai: 16,
        availability: 0.66,
        target: (0.75, 0.70),
        failures: 1.2,
        items: UH60M,
    },
];

/// What a provider offers.
#[derive(Debug, Clone, Copy)]
pub struct OfferSpec {
    /// Providing party.
    pub provider: &'static str,
    /// Where the work is done.
    pub site: Place,
    /// TMS × level it repairs (all repair types of its items).
    pub capabilities: &'static [(&'static str, pb::MaintenanceLevel)],
    /// Labor hours per month.
    pub hours_per_month: f64,
    /// Extra hours per month in a crisis.
    pub surge_per_month: f64,
    /// US dollars per labor hour.
    pub rate_usd: i64,
    /// Days from acceptance to induction.
    pub lead_time_days: u32,
    /// Owner nations it holds third-country transfer approval for.
    pub transfer_nations: &'static [&'static str],
    /// Export classifications it is licensed for.
    pub licences: &'static [&'static str],
    /// Certifications.
    pub certifications: &'static [&'static str],
}

use pb::MaintenanceLevel::Depot;

/// The capacity offered.
pub const OFFERS: &[OfferSpec] = &[
    OfferSpec {
        provider: "US-USAF-OOALC",
        site: place("Hill AFB, Utah", "USA", Northcom, 41.1239, -111.9731),
        capabilities: &[("F-35A", Depot), ("F-16C", Depot), ("C-130J", Depot), ("KC-135", Depot), ("MQ-9", Depot)],
        hours_per_month: 1_900.0,
        surge_per_month: 600.0,
        rate_usd: 168,
        lead_time_days: 21,
        transfer_nations: &[],
        licences: &[],
        certifications: &["AS9110C"],
    },
    OfferSpec {
        provider: "US-USN-FRCW",
        site: place("NAS Lemoore, California", "USA", Northcom, 36.3331, -119.9522),
        capabilities: &[("F/A-18E", Depot)],
        hours_per_month: 900.0,
        surge_per_month: 300.0,
        rate_usd: 152,
        lead_time_days: 21,
        transfer_nations: &[],
        licences: &[],
        certifications: &["AS9110C", "NAVAIR 4790"],
    },
    OfferSpec {
        provider: "US-ARMY-ANAD",
        site: place("Anniston Army Depot, Alabama", "USA", Northcom, 33.6270, -85.9670),
        capabilities: &[("M1A2", Depot)],
        hours_per_month: 1_400.0,
        surge_per_month: 500.0,
        rate_usd: 121,
        lead_time_days: 30,
        transfer_nations: &[],
        licences: &[],
        certifications: &["ISO 9001"],
    },
    OfferSpec {
        provider: "JPN-JMSDF-YOKOSUKA",
        site: place("Yokosuka ship repair facility", "JPN", Indopacom, 35.2880, 139.6610),
        capabilities: &[("DDG-51", Depot)],
        hours_per_month: 1_300.0,
        surge_per_month: 700.0,
        rate_usd: 139,
        lead_time_days: 10,
        transfer_nations: &["USA"],
        licences: &["XI(c)"],
        certifications: &["NAVSEA MSRA"],
    },
    OfferSpec {
        provider: "JPN-MHI-KOMAKI",
        site: place("Komaki South", "JPN", Indopacom, 35.2553, 136.9244),
        capabilities: &[("F-35A", Depot)],
        hours_per_month: 900.0,
        surge_per_month: 400.0,
        rate_usd: 184,
        lead_time_days: 14,
        transfer_nations: &["USA"],
        licences: &["VIII(h)", "XIX(f)"],
        certifications: &["AS9110C", "JSF MRO&U"],
    },
    OfferSpec {
        provider: "KOR-KAI-SACHEON",
        site: place("KAI Sacheon", "KOR", Indopacom, 35.0886, 128.0703),
        capabilities: &[("F-16C", Depot), ("FA-50PH", Depot)],
        hours_per_month: 1_200.0,
        surge_per_month: 500.0,
        rate_usd: 118,
        lead_time_days: 14,
        transfer_nations: &["USA", "PHL"],
        licences: &["VIII(h)", "XI(c)", "XIX(f)"],
        certifications: &["AS9100D"],
    },
    OfferSpec {
        provider: "AUS-RAAF-AMBERLEY",
        site: place("RAAF Base Amberley", "AUS", Indopacom, -27.6406, 152.7119),
        capabilities: &[("F/A-18E", Depot), ("C-130J", Depot)],
        hours_per_month: 800.0,
        surge_per_month: 300.0,
        rate_usd: 131,
        lead_time_days: 14,
        transfer_nations: &["USA"],
        licences: &["VIII(h)", "XI(c)", "XIX(f)", "9A610", "9A619"],
        certifications: &["DASR 145"],
    },
    OfferSpec {
        provider: "SGP-STE-PAYALEBAR",
        site: place("ST Engineering Aerospace, Paya Lebar", "SGP", Indopacom, 1.3604, 103.9090),
        capabilities: &[("C-130J", Depot), ("KC-135", Depot), ("C-130H", Depot)],
        hours_per_month: 1_100.0,
        surge_per_month: 500.0,
        rate_usd: 109,
        lead_time_days: 10,
        transfer_nations: &["USA", "PHL"],
        licences: &["VIII(h)", "9A610", "9A619"],
        certifications: &["AS9110C", "FAA Part 145"],
    },
    OfferSpec {
        provider: "SGP-STE-PAYALEBAR",
        site: place("ST Engineering Marine, Benoi", "SGP", Indopacom, 1.3150, 103.6300),
        capabilities: &[("LCS", Depot), ("DDG-51", Depot)],
        hours_per_month: 700.0,
        surge_per_month: 400.0,
        rate_usd: 97,
        lead_time_days: 7,
        transfer_nations: &["USA"],
        licences: &["XI(c)"],
        certifications: &["NAVSEA MSRA"],
    },
    OfferSpec {
        provider: CUT_OFF,
        site: place("Clark AB, Pampanga", "PHL", Indopacom, 15.1859, 120.5600),
        // Its own C-130H fleet's depot work it does outside the exchange.
        capabilities: &[("C-130J", Depot)],
        hours_per_month: 500.0,
        surge_per_month: 200.0,
        rate_usd: 74,
        lead_time_days: 7,
        transfer_nations: &["USA"],
        licences: &["9A610", "9A619"],
        certifications: &["PAF MRO"],
    },
    OfferSpec {
        provider: "US-LM-MARIETTA",
        site: place("Lockheed Martin, Marietta", "USA", Northcom, 33.9160, -84.5163),
        capabilities: &[("C-130J", Depot), ("C-130H", Depot)],
        hours_per_month: 1_000.0,
        surge_per_month: 400.0,
        rate_usd: 212,
        lead_time_days: 21,
        transfer_nations: &["PHL"],
        licences: &["VIII(h)", "9A610", "9A619"],
        certifications: &["AS9100D", "OEM"],
    },
    OfferSpec {
        provider: "US-GAASI-POWAY",
        site: place("General Atomics, Poway", "USA", Northcom, 32.9530, -117.0360),
        capabilities: &[("MQ-9", Depot)],
        hours_per_month: 500.0,
        surge_per_month: 150.0,
        rate_usd: 226,
        lead_time_days: 14,
        transfer_nations: &[],
        // The allocation core asks every provider but a US organic depot for a
        // licence for controlled items, a US contractor at home included.
        licences: &["VIII(h)", "XI(c)", "XII(c)"],
        certifications: &["AS9100D", "OEM"],
    },
    OfferSpec {
        provider: "NOR-KONGSBERG-RYGGE",
        site: place("Kongsberg Aviation Maintenance Services, Rygge", "NOR", Eucom, 59.3783, 10.7856),
        capabilities: &[("F-35A", Depot)],
        hours_per_month: 800.0,
        surge_per_month: 300.0,
        rate_usd: 176,
        lead_time_days: 14,
        transfer_nations: &["USA"],
        licences: &["VIII(h)", "XIX(f)"],
        certifications: &["AS9110C", "F135 regional depot"],
    },
    OfferSpec {
        provider: "ITA-LEONARDO-CAMERI",
        site: place("Cameri FACO and MRO&U", "ITA", Eucom, 45.5296, 8.6692),
        capabilities: &[("F-35A", Depot)],
        hours_per_month: 900.0,
        surge_per_month: 300.0,
        rate_usd: 171,
        lead_time_days: 14,
        transfer_nations: &["USA", "NOR"],
        licences: &["VIII(h)", "XIX(f)"],
        certifications: &["AS9110C", "JSF MRO&U"],
    },
    OfferSpec {
        provider: "POL-WZL2-BYDGOSZCZ",
        site: place("WZL-2, Bydgoszcz", "POL", Eucom, 53.0968, 17.9777),
        capabilities: &[("F-16C", Depot)],
        hours_per_month: 700.0,
        surge_per_month: 250.0,
        rate_usd: 96,
        lead_time_days: 14,
        transfer_nations: &["USA"],
        licences: &["VIII(h)", "XI(c)", "XIX(f)"],
        certifications: &["AQAP-2110"],
    },
    OfferSpec {
        provider: "COL-CIAC-MADRID",
        site: place("CIAC, Madrid, Cundinamarca", "COL", Southcom, 4.7297, -74.2642),
        capabilities: &[("UH-60M", Depot)],
        hours_per_month: 600.0,
        surge_per_month: 250.0,
        rate_usd: 88,
        lead_time_days: 10,
        transfer_nations: &["USA"],
        licences: &["VIII(h)", "XIX(f)"],
        certifications: &["AS9110C"],
    },
    OfferSpec {
        provider: "US-ARMY-CCAD",
        site: place("Corpus Christi Army Depot, Texas", "USA", Northcom, 27.6926, -97.2911),
        capabilities: &[("UH-60M", Depot)],
        hours_per_month: 1_500.0,
        surge_per_month: 500.0,
        rate_usd: 129,
        lead_time_days: 30,
        transfer_nations: &["COL"],
        licences: &[],
        certifications: &["ISO 9001", "AS9110C"],
    },
];
