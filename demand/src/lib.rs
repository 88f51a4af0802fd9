//! `cosx-demand`: demand signals for the co-sustainment exchange.
//!
//! Repair orders (open and historical, every lifecycle state except
//! `CANCELLED`) are aggregated into cells of region × TMS/family ×
//! maintenance level × period (month, US fiscal quarter, US fiscal year) by
//! submitted and by required-by date ([`cube`]); each cell's series is
//! classified and forecast with a method made for intermittent demand
//! ([`forecast`](mod@forecast), with the recursions of [`methods`] equal to
//! Nixtla's statsforecast); demand is set against capacity offered to find
//! bottlenecks ([`capacity`]); and what non-coordinators see is protected
//! by small-cell suppression that survives differencing ([`disclosure`]).
//!
//! Pure domain code: no I/O, no clock, no async, no storage — the server
//! feeds orders in and serves the results.

pub mod capacity;
pub mod cube;
pub mod disclosure;
pub mod error;
pub mod forecast;
pub mod methods;
pub mod order;
pub mod period;

pub use capacity::{
    BalanceRow, BottleneckAlert, BottleneckThresholds, CapacityEntry, CapacityUnit, DemandKind, DemandPoint,
    actual_demand, compare, forecast_demand,
};
pub use cube::{Breakdown, CellKey, CellQuery, DateBasis, DemandCell, DemandCube, Measure, Measures};
pub use disclosure::{
    DisclosureControl, Released, ReleasedCell, SeriesRelease, Viewer, orders_counted, released_cells, series_release,
};
pub use error::DemandError;
pub use forecast::{
    Accuracy, BandInfo, CellForecast, Classification, DemandPattern, Fit, Forecast, ForecastConfig, ForecastMethod,
    ForecastParams, ForecastPoint, ForecastWindow, backtest, classify, fit, forecast, forecast_cell, forecast_windows,
};
pub use order::{DemandOrder, LaborHours, MaintenanceLevel, Region, RepairType};
pub use period::{Granularity, Period};
