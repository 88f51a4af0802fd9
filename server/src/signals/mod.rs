//! What the coordinator makes of the records: adapters from stored domain
//! records to the pure cores (`cosx-availability`, and as they are wired,
//! `cosx-demand` and `cosx-allocation`) and the queries over them. No I/O:
//! the coordinator gathers the records a caller may see and hands them here.

pub mod availability;
pub mod balance;
pub mod demand;
