//! What the coordinator makes of the records: adapters from stored domain
//! records to the pure cores (`cosx-availability`, `cosx-demand` and
//! `cosx-allocation`) and the queries over them. The adapters do no I/O:
//! the coordinator gathers the records a caller may see and hands them here.
//! `views` keeps the demand cube, the workload balance, the orders open for
//! allocation, the quotes that may price them and the alert state
//! up to date from the event log (reading it through the coordinator), and
//! `alerts` runs the task that raises bottleneck and 50/50 alerts on the feed.

pub mod alerts;
pub mod availability;
pub mod balance;
pub mod demand;
pub mod open_orders;
pub mod open_quotes;
pub mod order_counts;
pub mod views;
pub mod workload;
