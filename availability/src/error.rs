//! The one error type of this crate, and field violations that name the
//! offending input by its path inside an `AvailabilityReport`
//! (`assets[3].time.nmcm`, `tai_time.available`, `inventory.tai`).
//!
//! Never does I/O and never maps to transport codes: the server does that.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One bad input field: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldViolation {
    /// Path of the field, relative to the input checked, e.g. `assets[3].time.nmcm`.
    pub field: String,
    /// What is wrong and what is expected.
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self { field: field.into(), description: description.into() }
    }
}

impl fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.description)
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AvailabilityError {
    /// The input was checked whole; these are all of its bad fields.
    #[error("invalid availability input: {}", join(.0))]
    Invalid(Vec<FieldViolation>),
    /// A sum of cost in cents does not fit in an `i64`.
    #[error("cost total overflows 64-bit cents")]
    CostOverflow,
    /// A calendar computation left chrono's supported date range.
    #[error("date out of range: {0}")]
    DateOutOfRange(String),
}

fn join(violations: &[FieldViolation]) -> String {
    violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Collects violations so an input is checked whole.
#[derive(Debug, Default)]
pub(crate) struct Violations(pub(crate) Vec<FieldViolation>);

impl Violations {
    pub(crate) fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    pub(crate) fn into_result(self) -> Result<(), AvailabilityError> {
        if self.0.is_empty() { Ok(()) } else { Err(AvailabilityError::Invalid(self.0)) }
    }
}
