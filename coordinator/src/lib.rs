//! The cosx coordinator: the authority that orders and stores what parties
//! submit, and turns it into the signals every party shares.
//!
//! Layers, outside in: the edge (`cosx-edge`) accepts connections, proves
//! identities and parses requests; [`api`] holds the thin gRPC services
//! that call the core; [`coordinator`] authorizes, applies the domain rules
//! and builds commits; [`log`] is the schema of the hash-chained event log;
//! [`store`] makes commits durable (SQLite or PostgreSQL); [`signals`] are
//! the views kept from the log (demand, balance, alerts, availability).
//! [`server`] assembles it all behind the one listener; [`config`] loads it.
//!
//! Must never: speak to another coordinator or a node as a client (it
//! answers, it does not call out), or let a view decide what a party may
//! see — visibility is `cosx_domain::visibility`, applied by the core.

pub mod api;
pub mod audit;
pub mod config;
pub mod coordinator;
pub mod fuzzing;
pub mod log;
pub mod server;
pub mod signals;
pub mod store;
