//! Sustainment health metrics exactly as DoD Instruction 3110.05 (24 April
//! 2024) defines them: materiel availability A_M, operational availability
//! A_O, cost per day of availability C/DA, the inventory categories and
//! not-available time behind them, and the high non-availability and
//! excessive C/DA flags.
//!
//! Flow: a Service's [`AvailabilityReport`] (fleet totals or one line per
//! asset, in hours or days) is checked whole by
//! [`AvailabilityReport::validate`], the newest version of each report is
//! picked by [`effective_reports`], and [`assess`] turns it into a
//! [`ReportAssessment`] in days, with UPNR reconciled so that available +
//! not available == possible. Assessments roll up by any key
//! ([`roll_up`]), by TMS and timeframe, and by fiscal year for C/DA; the
//! flags judge a six-month rolling average against a [`Target`] and C/DA
//! growth across the three fiscal years before a review year, both only for
//! a fleet whose size ([`fleet_size`], any reporting cadence) reaches the
//! category's threshold. [`fleet_health`] judges one owner's weapon system
//! whole; [`Ledger`] keeps the same answers up to date report by report. [`export`] flattens it all into rows.
//!
//! This crate must never do I/O, read a clock, or round: it is pure
//! functions over values, and every output carries the figures it was
//! computed from so a reader can redo the arithmetic. Money is integer cents.

pub mod assessment;
pub mod corrections;
pub mod cost;
pub mod error;
pub mod export;
pub mod fiscal;
pub mod flags;
pub mod fleet;
pub mod health;
pub mod inventory;
pub mod ledger;
pub mod record;
pub mod report;
pub mod rolling;
pub mod rollup;
pub mod target;
pub mod time;

pub use assessment::{
    AssetAccount, ReportAssessment, TimeAccount, assess, cost_per_day_of_availability, missing_serials,
};
pub use corrections::effective_reports;
pub use cost::{CDA_COST_ELEMENTS, CostBreakdown, counts_toward_cda};
pub use error::{AvailabilityError, FieldViolation};
pub use fiscal::FiscalYear;
pub use flags::{
    CdaGrowth, ExcessiveCda, HighNonAvailability, NonAvailabilityCheck, excessive_cda, high_non_availability,
    review_fiscal_year,
};
pub use fleet::{FleetSize, InventorySource, fleet_size};
pub use health::{FleetHealth, fleet_health, judge};
pub use inventory::Inventory;
pub use ledger::{Applied, FleetKey, Ledger};
pub use report::{AssetReport, AvailabilityReport, CategoryTimes, CostLine, FleetTimes, ReportDetail, SystemCategory};
pub use rolling::{RollingAvailability, latest_six_month_rolling, six_month_rolling};
pub use rollup::{FiscalYearCda, Rollup, TmsTimeframe, by_tms_and_timeframe, cda_by_fiscal_year, roll_up};
pub use target::{Target, find_target};
pub use time::{Days, TimeUnit, Timeframe};
