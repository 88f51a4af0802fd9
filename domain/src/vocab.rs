//! The exchange's vocabulary as types that cannot hold invalid values:
//! party ids, nations, NSNs, CAGE codes, enumerations, dates and money.
//! Each `parse` returns an error text fit to follow a field name.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Longest free-text value we store (names, references, reasons).
pub const MAX_TEXT: usize = 256;

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::parse(s)
            }
        }
    };
}

string_newtype!(
    /// A party's stable id, e.g. `US-USAF-OOALC`, `JPN-MHI-KOMAKI`: 2-64
    /// characters, words of A-Z 0-9 joined by single hyphens (see [`PartyId::parse`]).
    PartyId
);
string_newtype!(
    /// ISO 3166-1 alpha-3 nation code, e.g. `USA`, `JPN`.
    Nation
);
string_newtype!(
    /// National Stock Number, stored as `NNNN-NN-NNN-NNNN`.
    Nsn
);
string_newtype!(
    /// Commercial and Government Entity code: 5 characters A-Z 0-9.
    CageCode
);
string_newtype!(
    /// Type-model-series (`F-35A`, `C-130J`, `DDG-51`) or ship class: 1-32 of A-Z 0-9 - / space.
    Tms
);

impl PartyId {
    /// The prefix of ids the exchange keeps for its own actors (`COSX-SIGNALS`);
    /// no party may be registered under it.
    pub const RESERVED_PREFIX: &'static str = "COSX-";

    /// Parses a party id: 2-64 characters, words of `A-Z 0-9` joined by
    /// single hyphens, starting with a letter. The syntax is closed on
    /// purpose: no character that a store, a filter or a resource name
    /// could read as anything but itself (no `_`, `%`, `,`, `.`, `/`, no
    /// lower case), and no two ids that differ only in punctuation.
    pub fn parse(s: &str) -> Result<Self, String> {
        let words_ok =
            s.split('-').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        let ok = (2..=64).contains(&s.len()) && s.as_bytes()[0].is_ascii_uppercase() && words_ok;
        if ok {
            Ok(PartyId(s.to_owned()))
        } else {
            Err(format!(
                "{s:?} is not a party id: expected 2-64 characters, words of A-Z 0-9 joined by single hyphens, starting with a letter"
            ))
        }
    }

    /// Whether the id belongs to the exchange itself (an alert's actor).
    pub fn is_reserved(&self) -> bool {
        self.0.starts_with(Self::RESERVED_PREFIX)
    }
}

/// ISO 3166-1 alpha-3 codes of the nations cosx expects to meet; any other
/// three upper-case letters are refused so a typo cannot create a new nation.
const NATIONS: &[&str] = &[
    "USA", "JPN", "KOR", "AUS", "SGP", "PHL", "NZL", "IND", "IDN", "MYS", "THA", "VNM", "TWN", "CAN", "GBR", "FRA",
    "DEU", "ITA", "ESP", "NLD", "BEL", "NOR", "DNK", "SWE", "FIN", "POL", "CZE", "SVK", "HUN", "ROU", "BGR", "GRC",
    "TUR", "PRT", "EST", "LVA", "LTU", "HRV", "SVN", "ALB", "MNE", "MKD", "LUX", "ISL", "ISR", "SAU", "ARE", "QAT",
    "KWT", "BHR", "JOR", "EGY", "MAR", "BRA", "CHL", "COL", "PER", "MEX", "ARG", "ZAF", "KEN", "HND", "GTM", "SLV",
    "CRI", "PAN", "DOM", "ECU", "URY", "PRY", "BLZ", "JAM", "TTO", "GUY",
];

impl Nation {
    /// Parses an ISO 3166-1 alpha-3 code.
    pub fn parse(s: &str) -> Result<Self, String> {
        if NATIONS.contains(&s) {
            Ok(Nation(s.to_owned()))
        } else {
            Err(format!("{s:?} is not a known ISO 3166-1 alpha-3 nation code (e.g. USA, JPN, KOR, AUS)"))
        }
    }

    /// The United States.
    pub fn usa() -> Self {
        Nation("USA".to_owned())
    }
}

impl Nsn {
    /// Parses an NSN written `NNNN-NN-NNN-NNNN` or as 13 bare digits.
    pub fn parse(s: &str) -> Result<Self, String> {
        let digits: String = s.chars().filter(|c| *c != '-').collect();
        let dashed_ok = !s.contains('-') || (s.len() == 16 && [4, 7, 11].iter().all(|&i| s.as_bytes()[i] == b'-'));
        if digits.len() == 13 && digits.bytes().all(|b| b.is_ascii_digit()) && dashed_ok {
            Ok(Nsn(format!("{}-{}-{}-{}", &digits[0..4], &digits[4..6], &digits[6..9], &digits[9..13])))
        } else {
            Err(format!("{s:?}: expected 13 digits as NNNN-NN-NNN-NNNN"))
        }
    }

    /// The federal supply class (first four digits), used as a component family.
    pub fn supply_class(&self) -> &str {
        &self.0[0..4]
    }
}

impl CageCode {
    /// Parses a CAGE code.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() == 5 && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            Ok(CageCode(s.to_owned()))
        } else {
            Err(format!("{s:?}: expected 5 characters A-Z 0-9"))
        }
    }
}

impl Tms {
    /// Parses a TMS designator.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = (1..=32).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"-/ ".contains(&b))
            && s.bytes().any(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(Tms(s.to_owned()))
        } else {
            Err(format!("{s:?}: expected a TMS such as F-35A: 1-32 of A-Z 0-9 - / space"))
        }
    }
}

/// Checks free text: at most [`MAX_TEXT`] characters, no control characters.
pub fn parse_text(s: &str) -> Result<String, String> {
    if s.chars().count() > MAX_TEXT {
        Err(format!("too long: {} characters, at most {MAX_TEXT}", s.chars().count()))
    } else if s.chars().any(char::is_control) {
        Err("must not contain control characters".to_owned())
    } else {
        Ok(s.to_owned())
    }
}

/// Parses a calendar date `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| (2000..=2100).contains(&chrono::Datelike::year(d)))
        .ok_or_else(|| format!("{s:?}: expected a date YYYY-MM-DD between 2000 and 2100"))
}

/// Parses an optional date: empty means none.
pub fn parse_optional_date(s: &str) -> Result<Option<NaiveDate>, String> {
    if s.is_empty() { Ok(None) } else { parse_date(s).map(Some) }
}

/// Checks a non-negative finite quantity (hours, km, kg ...).
pub fn parse_non_negative(x: f64) -> Result<f64, String> {
    if x.is_finite() && x >= 0.0 { Ok(x) } else { Err(format!("{x}: must be a finite number >= 0")) }
}

macro_rules! domain_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value's name as written in configuration and storage.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!("{s:?}: expected one of {}", [$($text),+].join(", "))),
                }
            }
        }
    };
}

domain_enum!(
    /// What kind of party a participant is.
    PartyKind {
        /// A US government ("organic") depot.
        Organic = "ORGANIC",
        /// A partner nation's government or government depot.
        PartnerGovernment = "PARTNER_GOVERNMENT",
        /// A commercial contractor.
        Contractor = "CONTRACTOR",
        /// A coordinating office.
        Coordinator = "COORDINATOR",
    }
);

domain_enum!(
    /// US Military Department: the 50/50 rule is counted per department.
    MilitaryDepartment {
        /// Department of the Army.
        Army = "ARMY",
        /// Department of the Navy, including the Marine Corps.
        Navy = "NAVY",
        /// Department of the Air Force.
        AirForce = "AIR_FORCE",
    }
);

domain_enum!(
    /// Combatant command area of responsibility.
    Region {
        /// Indo-Pacific Command.
        Indopacom = "INDOPACOM",
        /// European Command.
        Eucom = "EUCOM",
        /// Central Command.
        Centcom = "CENTCOM",
        /// Southern Command.
        Southcom = "SOUTHCOM",
        /// Northern Command.
        Northcom = "NORTHCOM",
        /// Africa Command.
        Africom = "AFRICOM",
    }
);

domain_enum!(
    /// Level at which maintenance is done.
    MaintenanceLevel {
        /// Organizational (field level).
        Organizational = "ORGANIZATIONAL",
        /// Intermediate (field level).
        Intermediate = "INTERMEDIATE",
        /// Depot level: what 10 U.S.C. 2466 counts.
        Depot = "DEPOT",
    }
);

domain_enum!(
    /// Kind of repair asked for.
    RepairType {
        /// The same item comes back.
        RepairAndReturn = "REPAIR_AND_RETURN",
        /// A serviceable replacement is shipped; the broken one is repaired into stock.
        DirectExchange = "DIRECT_EXCHANGE",
        /// Overhaul.
        Overhaul = "OVERHAUL",
        /// Modification.
        Modification = "MODIFICATION",
        /// Inspection.
        Inspection = "INSPECTION",
        /// Battle damage repair.
        BattleDamageRepair = "BATTLE_DAMAGE_REPAIR",
    }
);

domain_enum!(
    /// Category of weapon system.
    SystemCategory {
        /// Aircraft.
        Aircraft = "AIRCRAFT",
        /// Surface ship.
        Ship = "SHIP",
        /// Submarine.
        Submarine = "SUBMARINE",
        /// Ground vehicle.
        GroundVehicle = "GROUND_VEHICLE",
    }
);

domain_enum!(
    /// Unit in which capacity is offered.
    CapacityUnit {
        /// Induction slots (one item each).
        InductionSlots = "INDUCTION_SLOTS",
        /// Labor hours.
        LaborHours = "LABOR_HOURS",
    }
);

domain_enum!(
    /// Unit of the times in an availability report.
    TimeUnit {
        /// Days.
        Days = "DAYS",
        /// Hours (converted to days for every result).
        Hours = "HOURS",
    }
);

/// An amount of money in integer minor units; never floating point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
    /// Minor units (cents).
    pub amount_minor: i64,
}

impl Money {
    /// Parses a non-negative amount in a three-letter currency.
    pub fn parse(currency: &str, amount_minor: i64) -> Result<Self, String> {
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!("currency_code {currency:?}: expected an ISO 4217 code such as USD"));
        }
        if amount_minor < 0 {
            return Err(format!("amount_minor {amount_minor}: must be >= 0"));
        }
        Ok(Money { currency: currency.to_owned(), amount_minor })
    }
}

/// A place: where an item is, or where work is done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    /// Human name.
    pub name: String,
    /// Nation the site is in.
    pub nation: Nation,
    /// Combatant command area.
    pub region: Region,
    /// WGS 84 latitude, degrees.
    pub latitude: f64,
    /// WGS 84 longitude, degrees.
    pub longitude: f64,
}

/// Checks a latitude in degrees.
pub fn parse_latitude(x: f64) -> Result<f64, String> {
    if x.is_finite() && (-90.0..=90.0).contains(&x) { Ok(x) } else { Err(format!("{x}: expected degrees in -90..90")) }
}

/// Checks a longitude in degrees.
pub fn parse_longitude(x: f64) -> Result<f64, String> {
    if x.is_finite() && (-180.0..=180.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("{x}: expected degrees in -180..180"))
    }
}

/// Who besides originator, provider and coordinators may see a record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Releasability {
    /// Nations whose parties may see it.
    pub nations: Vec<Nation>,
    /// Individual parties that may see it.
    pub parties: Vec<PartyId>,
    /// Providers asked to quote on it (orders only): released to as the
    /// parties are, but kept by the exchange, not the owner, and never
    /// shown in the record, so no asked provider learns who else was asked
    /// (`quotes::release_for_quote`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asked_to_quote: Vec<PartyId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nsn_accepts_dashed_and_bare_and_normalises() {
        assert_eq!(Nsn::parse("2840-01-123-4567").map(|n| n.0), Ok("2840-01-123-4567".to_owned()));
        assert_eq!(Nsn::parse("2840011234567").map(|n| n.0), Ok("2840-01-123-4567".to_owned()));
        assert!(Nsn::parse("2840-011-23-4567").is_err());
        assert!(Nsn::parse("2840-01-123-456").is_err());
        assert!(Nsn::parse("28A0-01-123-4567").is_err());
    }

    #[test]
    fn enums_round_trip_through_their_names() {
        for kind in PartyKind::ALL {
            assert_eq!(kind.as_str().parse::<PartyKind>(), Ok(*kind));
        }
        assert!("organic".parse::<PartyKind>().is_err());
    }

    #[test]
    fn nations_are_iso_alpha3() {
        assert!(Nation::parse("JPN").is_ok());
        assert!(Nation::parse("JP").is_err());
        assert!(Nation::parse("XYZ").is_err());
    }
}
