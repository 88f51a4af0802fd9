//! Domain vocabulary shared by balance accounting and allocation: military
//! departments, fiscal years, provider kinds, maintenance levels, nations and
//! coordinates.
//!
//! Values that can be invalid (a nation code, a priority) are parsed once into
//! types that cannot hold a bad value. Nothing here does I/O.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::InputError;

/// A US Military Department; the 50/50 rule is counted per department.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Department {
    /// Department of the Army.
    Army,
    /// Department of the Navy (including the Marine Corps).
    Navy,
    /// Department of the Air Force.
    AirForce,
}

pub use cosx_domain::FiscalYear;

/// What kind of party performs the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProviderKind {
    /// A US government depot (organic, federal performance).
    Organic,
    /// A partner nation's government depot.
    PartnerGovernment,
    /// A commercial contractor.
    Contractor,
}

impl ProviderKind {
    /// Whether work by this kind of provider counts as contract (non-organic)
    /// performance for 10 U.S.C. § 2466. Partner-government depots are
    /// non-organic unless `partner_government_is_organic` is configured.
    pub fn counts_as_contract(self, partner_government_is_organic: bool) -> bool {
        match self {
            ProviderKind::Organic => false,
            ProviderKind::Contractor => true,
            ProviderKind::PartnerGovernment => !partner_government_is_organic,
        }
    }
}

/// The exchange's one vocabulary (`cosx_domain`): only `MaintenanceLevel::Depot`
/// counts toward the 50/50 rule.
pub use cosx_domain::{MaintenanceLevel, Region, RepairType};

/// An ISO 3166-1 alpha-3 nation code (three upper-case ASCII letters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nation(String);

impl Nation {
    /// Parses a nation code such as `USA` or `JPN`.
    pub fn parse(code: &str) -> Result<Self, InputError> {
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Nation(code.to_owned()))
        } else {
            Err(InputError::InvalidField {
                field: "nation".into(),
                problem: format!("expected ISO 3166-1 alpha-3 (three upper-case letters), got {code:?}"),
            })
        }
    }

    /// The United States.
    pub fn usa() -> Self {
        Nation("USA".to_owned())
    }

    /// The code as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Nation {
    type Error = InputError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Nation::parse(&value)
    }
}

impl From<Nation> for String {
    fn from(n: Nation) -> Self {
        n.0
    }
}

impl fmt::Display for Nation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Repair priority, 1 (highest) to 15 (lowest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Priority(u8);

impl Priority {
    /// Highest priority.
    pub const HIGHEST: Priority = Priority(1);
    /// Lowest priority.
    pub const LOWEST: Priority = Priority(15);

    /// Parses a priority in 1..=15.
    pub fn new(value: u8) -> Result<Self, InputError> {
        if (1..=15).contains(&value) {
            Ok(Priority(value))
        } else {
            Err(InputError::InvalidField {
                field: "priority".into(),
                problem: format!("expected 1 (highest) to 15 (lowest), got {value}"),
            })
        }
    }

    /// The numeric value, 1..=15.
    pub fn value(self) -> u8 {
        self.0
    }

    /// Weight of one served unit of quantity: `16 - priority` (15 for priority 1).
    pub fn weight(self) -> u64 {
        16 - u64::from(self.0)
    }
}

impl TryFrom<u8> for Priority {
    type Error = InputError;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Priority::new(value)
    }
}

impl From<Priority> for u8 {
    fn from(p: Priority) -> Self {
        p.0
    }
}

/// A point on the Earth in decimal degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Latitude, -90..=90.
    pub lat: f64,
    /// Longitude, -180..=180.
    pub lon: f64,
}

impl GeoPoint {
    /// Builds a point, rejecting out-of-range or non-finite coordinates.
    pub fn new(lat: f64, lon: f64) -> Result<Self, InputError> {
        let p = GeoPoint { lat, lon };
        p.check("point")?;
        Ok(p)
    }

    pub(crate) fn check(&self, field: &str) -> Result<(), InputError> {
        if !(self.lat.is_finite() && (-90.0..=90.0).contains(&self.lat)) {
            return Err(InputError::InvalidField {
                field: format!("{field}.lat"),
                problem: format!("expected -90..=90, got {}", self.lat),
            });
        }
        if !(self.lon.is_finite() && (-180.0..=180.0).contains(&self.lon)) {
            return Err(InputError::InvalidField {
                field: format!("{field}.lon"),
                problem: format!("expected -180..=180, got {}", self.lon),
            });
        }
        Ok(())
    }

    /// Great-circle (haversine) distance in kilometres, mean Earth radius 6371.0088 km.
    pub fn distance_km(&self, other: &GeoPoint) -> f64 {
        const R: f64 = 6371.0088;
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * R * a.sqrt().min(1.0).asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fiscal_year_2027_starts_on_first_of_october_2026() {
        let d = |y, m, dd| chrono::NaiveDate::from_ymd_opt(y, m, dd).unwrap_or_default();
        assert_eq!(FiscalYear::containing(d(2026, 10, 1)), FiscalYear(2027));
        assert_eq!(FiscalYear::containing(d(2026, 9, 30)), FiscalYear(2026));
        assert_eq!(FiscalYear::containing(d(2027, 9, 30)), FiscalYear(2027));
        assert_eq!(FiscalYear(2027).first_day(), Some(d(2026, 10, 1)));
        assert_eq!(FiscalYear(2027).last_day(), Some(d(2027, 9, 30)));
    }

    #[test]
    fn haversine_matches_known_distances() {
        // One degree of longitude on the equator: 2*pi*R/360.
        let a = GeoPoint { lat: 0.0, lon: 0.0 };
        let b = GeoPoint { lat: 0.0, lon: 1.0 };
        assert!((a.distance_km(&b) - 111.195).abs() < 0.01);
        // Antipodes: half the circumference.
        let c = GeoPoint { lat: 0.0, lon: 180.0 };
        assert!((a.distance_km(&c) - std::f64::consts::PI * 6371.0088).abs() < 1e-6);
        // London Heathrow to New York JFK: 5,540 km on the sphere (5,554 km
        // on the WGS 84 ellipsoid, as airline tables quote it).
        let lhr = GeoPoint { lat: 51.4700, lon: -0.4543 };
        let jfk = GeoPoint { lat: 40.6413, lon: -73.7781 };
        let d = lhr.distance_km(&jfk);
        assert!((5535.0..5545.0).contains(&d), "{d}");
    }

    #[test]
    fn parses_reject_bad_values_naming_the_field() {
        assert!(Nation::parse("usa").is_err());
        assert!(Nation::parse("US").is_err());
        assert_eq!(Nation::parse("JPN").map(|n| n.to_string()).ok(), Some("JPN".into()));
        assert!(Priority::new(0).is_err());
        assert!(Priority::new(16).is_err());
        assert_eq!(Priority::new(1).map(Priority::weight).ok(), Some(15));
        let e = GeoPoint::new(91.0, 0.0).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("point.lat"), "{e}");
    }
}
