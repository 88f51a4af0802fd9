//! The cosx domain: what the exchange's records are and the rules they obey.
//!
//! Everything here is pure: no I/O, no clocks read, no protobuf, no SQL.
//! Values are parsed once at the API boundary into these types, which cannot
//! hold invalid values (`PartyId`, `Nsn`, `Nation`, ...); rules such as the
//! repair-order lifecycle, who may see what, and the audit hash chain are
//! functions over them, tested without a server or a database.

pub mod audit;
pub mod comments;
pub mod disruptions;
pub mod exceptions;
pub mod field;
pub mod fiscal;
pub mod lifecycle;
pub mod limits;
pub mod offers;
pub mod party;
pub mod quotes;
pub mod records;
pub mod update_requests;
pub mod visibility;
pub mod vocab;

pub use field::{FieldViolation, Violations};
pub use fiscal::FiscalYear;
pub use lifecycle::{Action, LifecycleError, RepairOrderState};
pub use party::{Caller, Party};
pub use records::{AvailabilityReport, CapacityOffer, RepairOrder};
pub use vocab::*;
