//! Typed async client for the cosx exchange, and the code behind the `cosx`
//! command-line tool.
//!
//! [`Client`] opens one mutually authenticated TLS channel to a node or the
//! coordinator and hands out the generated tonic clients for the `Registry`,
//! `Exchange` and `Feed` services over it. [`render_status`] turns a refused
//! call into a message a person can act on, field violations included.
//! [`records`] reads proto3-JSON record files, [`enums`] parses the short
//! enum spellings the CLI accepts, and [`cli`] is the `cosx` tool itself.
//!
//! This crate holds no domain rules: the server decides what is valid, and
//! the client reports what the server said. It never prints or logs private
//! key material.

pub mod cli;
mod connection;
pub mod enums;
mod error;
pub mod files;
pub mod records;
mod status;

pub use connection::{Client, ConnectionSettings};
pub use error::ClientError;
pub use status::{code_name, render_ingest_result, render_status};

/// The generated `cosx.v1` API, re-exported so callers need no direct
/// dependency on `cosx-proto`.
pub use cosx_proto::v1 as proto;
