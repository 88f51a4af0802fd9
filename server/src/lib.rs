//! The cosx coordinator: the authority that orders and stores what parties
//! submit, over mutually authenticated gRPC.
//!
//! Layers, outside in: [`tls`] accepts connections and proves identities;
//! [`api`] turns protobuf into domain types and back and maps errors to
//! gRPC statuses (the only module that knows about protobuf);
//! [`coordinator`] authorizes, applies the domain rules and builds commits;
//! [`store`] makes them durable. [`config`] and [`telemetry`] set it up.

pub mod api;
pub mod audit;
pub mod config;
pub mod coordinator;
pub mod demo;
pub mod edge;
pub mod fuzzing;
pub mod limits;
pub mod log;
pub mod metrics;
pub mod node;
pub mod server;
pub mod signals;
pub mod store;
pub mod telemetry;
pub mod tls;
