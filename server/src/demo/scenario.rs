//! The demo's world and its seeded generator: the parties of an
//! INDOPACOM regional sustainment exchange, their fleets and repair
//! capabilities, a catalog of repairable items with real-looking NSNs, and
//! the functions that turn a seed and a simulated month into availability
//! reports, repair orders, capacity offers and the providers' decisions.
//!
//! Everything here is synthetic but plausible, and pure: no I/O, no clock.
//! The same seed gives the same records (and, because record ids are chosen
//! here too, the same names).

use chrono::{Datelike, Months, NaiveDate};
use cosx_proto::v1 as pb;

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

use pb::Region::{Indopacom, Northcom};

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
        name: "INDOPACOM J4 regional sustainment coordination",
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
];

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
        None => pb::funding::Source::FmsCase(pb::funding::FmsCase { loa_id: "RP-D-QAF".into() }),
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
