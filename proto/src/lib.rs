//! The `cosx.v1` gRPC API, generated from `proto/cosx/v1/*.proto`.
//!
//! Messages and service stubs come from tonic-prost-build; their proto3 JSON
//! mapping (used by the CLI's `--file` input and `--json` output) from pbjson.
//! Besides the wire's own names (`names`), this crate holds no logic: converting these messages into domain types is
//! the server's and client's job, at the API boundary.

#![allow(missing_docs, unreachable_pub, clippy::all)]

/// Package `cosx.v1`.
pub mod v1 {
    tonic::include_proto!("cosx.v1");
    include!(concat!(env!("OUT_DIR"), "/cosx.v1.serde.rs"));
}

/// Encoded `FileDescriptorSet` of the whole API, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/cosx_descriptor.bin"));

pub mod names;

pub use pbjson_types;
