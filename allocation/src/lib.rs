//! `cosx-allocation`: workload balance under 10 U.S.C. § 2466 ("50/50") and
//! allocation of open repair orders to capacity offers.
//!
//! - [`balance`] counts depot-level work per Military Department and fiscal
//!   year, organic versus contract, and reports utilization and shares.
//! - [`allocate()`] proposes which offer takes which open order, with an
//!   explanation for every assignment and a true reason for every order left
//!   unplaced; [`allocate_quoted()`] prices an order with a provider that
//!   quoted on it at the quoted price. A proposal is only a proposal: providers accept or decline
//!   through the order lifecycle elsewhere.
//! - [`eligibility`] decides who may be proposed an order (organic-only,
//!   export control, third-country support, FMF and DSCA waivers), for the
//!   solver and for manual proposals alike.
//! - [`check`] verifies any plan against the hard constraints, independently
//!   of the solver's code paths.
//!
//! Pure domain code: no I/O, no async, no clock (the planning date is input).

pub mod allocate;
pub mod balance;
pub mod check;
pub mod domain;
pub mod eligibility;
pub mod error;
pub mod model;

pub use allocate::{allocate, allocate_quoted};
pub use balance::{
    BalanceConfig, BalanceStatus, BaselineWork, DepartmentBalance, FiscalYearBasis, MonthlyWork, ProviderUtilization,
    ShareRow, Split, WorkRecord, WorkSource, attributed_fiscal_year, department_balances, provider_utilization,
    shares_by_nation, shares_by_region,
};
pub use check::{Violation, check_plan};
pub use domain::{
    Department, FiscalYear, GeoPoint, MaintenanceLevel, Nation, Priority, ProviderKind, Region, RepairType,
};
pub use eligibility::{ineligibilities, provider_eligibility};
pub use error::InputError;
pub use model::{
    AllocationConfig, AllocationPlan, Assignment, Authorizations, Capability, CapacityOffer, CapacityPeriod,
    CapacityUnit, Explanation, FundsBalance, FundsUse, Ineligibility, OpenOrder, Optimality, OrderQuote, PeriodUse,
    QuoteUse, Unplaced, UnplacedReason,
};
