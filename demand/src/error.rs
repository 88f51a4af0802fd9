//! The one error type of the demand layer. Every variant names the field
//! (or parameter) that was wrong, so the API layer can turn it into a
//! `google.rpc.BadRequest` field violation. No I/O.

use thiserror::Error;

/// Everything that can go wrong in `cosx-demand`.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DemandError {
    /// An input value is out of its domain.
    #[error("{field}: {reason}")]
    InvalidField {
        /// Dotted path of the offending field, e.g. `demand_order.quantity`.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// `DemandCube::remove` was asked to take out an order the cube does not
    /// hold (a cell would go below zero). The cube is left unchanged.
    #[error("demand_order.order_id: {order_id:?} is not counted in the cube (cell would go negative)")]
    NotInCube {
        /// Identifier of the order that was being removed.
        order_id: String,
    },
    /// Two inputs that must share a period granularity do not.
    #[error("{field}: expected {expected} periods, found {found}")]
    GranularityMismatch {
        /// The field that carried the wrong granularity.
        field: &'static str,
        /// Granularity required there.
        expected: String,
        /// Granularity found.
        found: String,
    },
    /// The viewer may not ask for this (e.g. a non-coordinator asking for a
    /// breakdown by owner nation).
    #[error("{field}: not available to this viewer: {reason}")]
    NotPermitted {
        /// The query field that asked for too much.
        field: &'static str,
        /// Why it is refused.
        reason: String,
    },
}

pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> DemandError {
    DemandError::InvalidField { field, reason: reason.into() }
}
