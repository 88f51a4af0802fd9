//! The edge of cosx: everything between a socket and a program's core that
//! the coordinator and a party node share, so that both listen, admit,
//! parse and answer alike.
//!
//! - [`listener`] assembles the one kind of listener: mutual TLS
//!   ([`tls`]: reloadable certificates, CRLs, handshake limits), admission
//!   ([`limits`]: concurrency, per-party rate and call caps, message sizes
//!   and timeouts), health and reflection, and a shutdown grace period.
//! - [`request`] and [`convert`] turn protobuf into domain types, naming
//!   every bad field, and domain types back into protobuf.
//! - [`error`] is the exchange's error vocabulary; [`status`] is the one
//!   table from it to gRPC statuses.
//! - [`json`] is the HTTP/JSON face of the same API, mapped by the protos'
//!   `google.api.http` annotations, with AIP-193 errors and the OpenAPI
//!   document; it calls the gRPC services in process.
//! - [`metrics`] and [`telemetry`] count and log; [`config`] holds the
//!   sections of configuration every listener takes.
//!
//! Must never: authorize a request, open a database, or hold a record. It
//! knows protobuf and domain types, never the coordinator's or a node's
//! state; the programs plug their services into [`listener::serve`].

pub mod config;
pub mod convert;
pub mod error;
pub mod json;
pub mod limits;
pub mod listener;
pub mod metrics;
pub mod request;
pub mod status;
pub mod telemetry;
pub mod tls;

pub use error::{CoreError, StoreError};
