//! The process suite: the real `cosx-server` binary run as its users run
//! it (the demo, a coordinator, a party node), killed with SIGKILL at random
//! moments or stopped with SIGTERM, and restarted on the same database. One
//! module per behaviour, one binary; it lives in the `cosx-server` package
//! because only that package's tests are handed the built binary.

mod crash;
mod demo;
mod harness;
mod node_crash;
mod node_webhooks;
mod shutdown;
