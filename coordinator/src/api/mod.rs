//! The gRPC surface: thin adapters from `cosx.v1` services to the
//! coordinator core. Each handler authenticates the caller from its client
//! certificate, parses the request into domain types, calls the core, and
//! maps the answer back. This is the only module that knows protobuf.

mod alerts;
mod answers;
mod availability_rows;
mod balance;
mod comments;
mod disruptions;
mod encoded;
mod exceptions;
mod exchange;
mod export;
mod feed;
mod quotes;
mod registry;
mod signals;

use std::sync::Arc;

use cosx_domain::Caller;
pub(crate) use cosx_edge::convert;
pub(crate) use cosx_edge::request::{request_key, valid};
use tonic::{Request, Status};

use crate::coordinator::Coordinator;

pub use balance::AllocationService;
pub use comments::{CommentsService, UpdateRequestsService};
pub use disruptions::DisruptionsService;
pub use exceptions::ExceptionsService;
pub use exchange::ExchangeService;
pub use export::ExportService;
pub use feed::{FeedRoutes, FeedService};
pub use quotes::QuotesService;
pub use registry::RegistryService;
pub use signals::{SignalsRoutes, SignalsService};

/// Identifies the caller from the verified client certificate of the
/// connection, and records it on the request's span.
pub(crate) fn authenticate<T>(core: &Coordinator, request: &Request<T>) -> Result<Caller, Status> {
    let certs = request.peer_certs();
    let leaf = certs.as_ref().and_then(|c| c.first()).map(|c| c.as_ref());
    let caller = core.authenticate(leaf)?;
    tracing::Span::current().record("party", caller.id().as_str());
    Ok(caller)
}

/// As [`authenticate`], for a write: also the message and its idempotency
/// key (`request_id` picks the caller's request id from the message).
pub(crate) fn authenticate_write<'r, M: prost::Message>(
    core: &Coordinator,
    request: &'r Request<M>,
    request_id: impl FnOnce(&M) -> &str,
) -> Result<(Caller, &'r M, cosx_edge::request::RequestKey), Status> {
    let caller = authenticate(core, request)?;
    let r = request.get_ref();
    let key = request_key(request_id(r), r)?;
    Ok((caller, r, key))
}

/// The coordinator's services, sharing one core.
#[derive(Clone)]
pub struct Services {
    /// The shared core.
    pub core: Arc<Coordinator>,
}
