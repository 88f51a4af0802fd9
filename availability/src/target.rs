//! A_M and A_O targets a Military Service sets per weapon system: per TMS,
//! per ship class for Navy vessels (DoDI 3110.05 para 4.1.d).
//!
//! Values only; no I/O. Targets are fractions in (0, 1], not percentages.

use serde::{Deserialize, Serialize};

use crate::error::{AvailabilityError, Violations};

/// Targets of one owner (Military Service) for one TMS or ship class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// The Service (or partner) that set the target; matches `AvailabilityReport::owner`.
    pub owner: String,
    /// TMS, or ship class for ships and submarines.
    pub tms: String,
    /// A_M target as a fraction, e.g. 0.65; `None` if not set.
    pub a_m: Option<f64>,
    /// A_O target as a fraction, e.g. 0.75; `None` if not set.
    pub a_o: Option<f64>,
}

impl Target {
    /// Checks the target whole: owner and TMS named, each set target in (0, 1].
    pub fn validate(&self) -> Result<(), AvailabilityError> {
        let mut v = Violations::default();
        if self.owner.trim().is_empty() {
            v.add("owner", "must not be empty");
        }
        if self.tms.trim().is_empty() {
            v.add("tms", "must not be empty");
        }
        for (name, value) in [("a_m", self.a_m), ("a_o", self.a_o)] {
            if let Some(value) = value
                && !(value.is_finite() && value > 0.0 && value <= 1.0)
            {
                v.add(name, format!("a target is a fraction in (0, 1], got {value}"));
            }
        }
        v.into_result()
    }
}

/// The target of `owner` for `tms`, if one is set.
pub fn find_target<'a>(targets: &'a [Target], owner: &str, tms: &str) -> Option<&'a Target> {
    targets.iter().find(|t| t.owner == owner && t.tms == tms)
}
