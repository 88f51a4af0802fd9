//! The one error type of this crate: bad input, naming the offending field
//! (`orders[3].estimated_hours: ...`). Planning outcomes such as "no capacity"
//! are not errors; they are reported per order in the plan.

use thiserror::Error;

/// Input rejected before any computation, naming the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InputError {
    /// A field holds a value outside its domain.
    #[error("{field}: {problem}")]
    InvalidField {
        /// Path of the field, e.g. `offers[2].periods[0].end`.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// Two records share an id that must be unique.
    #[error("{field}: duplicate id {id:?}")]
    DuplicateId {
        /// Path of the field holding the duplicate.
        field: String,
        /// The repeated id.
        id: String,
    },
}

pub(crate) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> InputError {
    InputError::InvalidField { field: field.into(), problem: problem.into() }
}
