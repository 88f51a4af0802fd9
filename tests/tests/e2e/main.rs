//! The end-to-end suite: real coordinators and nodes on `127.0.0.1:0`, real
//! mutual TLS with certificates made at test time, real SQLite files and
//! (when `COSX_TEST_DATABASE_URL` is set) a real PostgreSQL. One module per
//! behaviour, all in one test binary so the whole suite links once; the
//! harness lives in the `cosx-tests` kit crate (`tests/src`).
//!
//! Nothing here mocks our own code across a network boundary: every test
//! talks to the exchange the way a party would.

mod adversarial;
mod alerts;
mod audit;
mod availability;
mod balance;
mod cli;
mod comments;
mod demand;
mod disruptions;
mod exceptions;
mod export;
mod feed;
mod files;
mod hardening_fuzz;
mod hardening_limits;
mod hardening_paging;
mod hardening_revocation;
mod hardening_rotation;
mod hardening_storage;
mod http_json;
mod idempotency;
mod identity;
mod lifecycle;
mod node;
mod quoted_orders;
mod quotes;
mod records;
mod replicas;
mod store_conformance;
mod validation;
mod visibility;
