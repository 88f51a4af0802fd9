//! The gRPC surface: thin adapters from `cosx.v1` services to the
//! coordinator core. Each handler authenticates the caller from its client
//! certificate, parses the request into domain types, calls the core, and
//! maps the answer back. This is the only module that knows protobuf.

mod balance;
pub mod convert;
pub(crate) mod exchange;
mod feed;
mod registry;
mod signals;
pub mod status;

use std::sync::Arc;

use cosx_domain::{Caller, Violations};
use sha2::{Digest, Sha256};
use tonic::{Request, Status};

use crate::coordinator::{Coordinator, RequestKey};

pub use balance::AllocationService;
pub use exchange::ExchangeService;
pub use feed::FeedService;
pub use registry::RegistryService;
pub use signals::SignalsService;

/// Identifies the caller from the verified client certificate of the
/// connection, and records it on the request's span.
pub(crate) fn authenticate<T>(core: &Coordinator, request: &Request<T>) -> Result<Caller, Status> {
    let certs = request.peer_certs();
    let leaf = certs.as_ref().and_then(|c| c.first()).map(|c| c.as_ref());
    let caller = core.authenticate(leaf)?;
    tracing::Span::current().record("party", caller.id().as_str());
    Ok(caller)
}

/// The idempotency key of a request: its id and a hash of its payload.
pub(crate) fn request_key<M: prost::Message>(request_id: &str, payload: &M) -> Result<RequestKey, Status> {
    let mut v = Violations::new();
    if request_id.len() > 128 || request_id.chars().any(char::is_control) {
        v.add("request_id", "at most 128 printable characters");
    }
    if !v.is_empty() {
        return Err(crate::coordinator::CoreError::Invalid(v).into());
    }
    Ok(RequestKey {
        request_id: request_id.to_owned(),
        payload_hash: hex::encode(Sha256::digest(payload.encode_to_vec())),
        new_id: None,
    })
}

/// The idempotency key of a request that creates a record for `owner`,
/// with the id the caller chose for it (`field`; empty for none) put in the
/// owner's namespace ([`cosx_domain::records::owned_record_id`]); the
/// qualified id counts as payload, so `name` and `OWNER.name` are one request.
pub(crate) fn create_key<M: prost::Message>(
    owner: &cosx_domain::PartyId,
    request_id: &str,
    payload: &M,
    field: &str,
    new_id: &str,
) -> Result<RequestKey, Status> {
    let mut key = request_key(request_id, payload)?;
    if new_id.is_empty() {
        return Ok(key);
    }
    let id = cosx_domain::records::owned_record_id(owner, new_id).map_err(|why| {
        let mut v = Violations::new();
        v.add(field, why);
        Status::from(crate::coordinator::CoreError::Invalid(v))
    })?;
    key.payload_hash = hex::encode(Sha256::digest(format!("{}/{id}", key.payload_hash)));
    key.new_id = Some(id);
    Ok(key)
}

/// Fails with every violation when there are any.
pub(crate) fn valid<T>(v: Violations, value: Option<T>) -> Result<T, Status> {
    match value {
        Some(x) if v.is_empty() => Ok(x),
        _ => {
            let mut v = v;
            if v.is_empty() {
                v.add("request", "is incomplete");
            }
            Err(crate::coordinator::CoreError::Invalid(v).into())
        }
    }
}

/// The coordinator's services, sharing one core.
#[derive(Clone)]
pub struct Services {
    /// The shared core.
    pub core: Arc<Coordinator>,
}
