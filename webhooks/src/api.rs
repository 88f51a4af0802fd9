//! `cosx.v1.Webhooks` over gRPC and HTTP/JSON: the parked deliveries of a
//! program's webhooks, listed and released through the same functions as
//! `cosx-server node webhooks list|retry` ([`crate::list_parked`],
//! [`crate::retry_parked`]).
//!
//! The node and the coordinator each serve [`WebhooksService`] with their
//! own admission rule ([`Admit`]): a node, its own party; the coordinator,
//! coordinating parties. Must never: answer before the rule has admitted
//! the caller, create a cursor file, or change anything but the parked row
//! it was asked to release.

use std::path::PathBuf;
use std::sync::Arc;

use cosx_domain::Violations;
use cosx_edge::CoreError;
use cosx_proto::v1 as pb;
use tonic::{Request, Response, Status};

use crate::deliver::name_problem;
use crate::error::WebhookError;
use crate::store::ParkedDelivery;

/// Who may manage the webhooks: given the verified client certificate of
/// the call (DER, if any), admits or refuses it.
pub type Admit = Arc<dyn Fn(Option<&[u8]>) -> Result<(), Status> + Send + Sync>;

/// `cosx.v1.Webhooks` for one program's cursor file.
pub struct WebhooksService {
    /// The cursor file (`<database>.webhooks`); `None` when the program
    /// keeps none (its database is not a SQLite file): nothing is parked.
    store: Option<PathBuf>,
    admit: Admit,
}

impl WebhooksService {
    /// The service over the cursor file at `store`, admitting callers by `admit`.
    pub fn new(store: Option<PathBuf>, admit: Admit) -> Self {
        WebhooksService { store, admit }
    }

    fn admit<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let certs = request.peer_certs();
        let leaf = certs.as_ref().and_then(|c| c.first()).map(|c| c.as_ref());
        (self.admit)(leaf)
    }

    /// The cursor file, if there is one yet: listing never creates it.
    fn existing_store(&self) -> Option<&std::path::Path> {
        self.store.as_deref().filter(|p| p.exists())
    }
}

fn store_failed(e: WebhookError) -> Status {
    tracing::error!(error = %e, "webhook store failed");
    Status::unavailable("the webhook store is unavailable; retry")
}

fn invalid(field: &str, description: impl Into<String>) -> Status {
    let mut v = Violations::new();
    v.add(field, description.into());
    CoreError::Invalid(v).into()
}

/// A parked row as the API shows it.
fn parked_message(p: ParkedDelivery) -> Result<pb::ParkedDelivery, Status> {
    let event: pb::Event = serde_json::from_str(&p.event_json).map_err(|e| {
        tracing::error!(webhook = %p.webhook, sequence = p.sequence, error = %e, "a parked event does not read back");
        Status::internal("a parked delivery could not be read back")
    })?;
    Ok(pb::ParkedDelivery {
        webhook: p.webhook,
        sequence: p.sequence,
        kind: pb::EventKind::from_str_name(&p.kind).map_or(event.kind, |k| k as i32),
        attempts: p.attempts,
        last_error: p.last_error,
        park_time: Some(cosx_proto::pbjson_types::Timestamp { seconds: p.parked_at, nanos: 0 }),
        event: Some(event),
    })
}

/// What a retry request names: one webhook, or every one (`None`).
fn retry_target(r: &pb::RetryParkedDeliveryRequest) -> Result<Option<&str>, Status> {
    match (r.webhook.is_empty(), r.all) {
        (true, false) => Err(invalid("webhook", "is required (or set all to release every webhook's)")),
        (false, true) => Err(invalid("all", "cannot be set with webhook; give one or the other")),
        (true, true) => Ok(None),
        (false, false) => match name_problem(&r.webhook) {
            Some(problem) => Err(invalid("webhook", problem)),
            None => Ok(Some(r.webhook.as_str())),
        },
    }
}

#[tonic::async_trait]
impl pb::webhooks_server::Webhooks for WebhooksService {
    async fn list_parked_deliveries(
        &self,
        request: Request<pb::ListParkedDeliveriesRequest>,
    ) -> Result<Response<pb::ListParkedDeliveriesResponse>, Status> {
        self.admit(&request)?;
        let parked = match self.existing_store() {
            Some(path) => crate::list_parked(path).await.map_err(store_failed)?,
            None => Vec::new(),
        };
        let parked_deliveries = parked.into_iter().map(parked_message).collect::<Result<_, _>>()?;
        Ok(Response::new(pb::ListParkedDeliveriesResponse { parked_deliveries }))
    }

    async fn retry_parked_delivery(
        &self,
        request: Request<pb::RetryParkedDeliveryRequest>,
    ) -> Result<Response<pb::RetryParkedDeliveryResponse>, Status> {
        self.admit(&request)?;
        let r = request.into_inner();
        let target = retry_target(&r)?;
        let released = match (self.existing_store(), target) {
            (Some(path), _) => match crate::retry_parked(path, target).await {
                Ok(n) => n,
                Err(WebhookError::NothingParked(name)) => {
                    return Err(CoreError::NotFound(format!("a parked delivery of webhook {name:?}")).into());
                }
                Err(e) => return Err(store_failed(e)),
            },
            (None, None) => 0,
            (None, Some(name)) => {
                return Err(CoreError::NotFound(format!("a parked delivery of webhook {name:?}")).into());
            }
        };
        tracing::info!(webhook = %r.webhook, all = r.all, released, "parked webhook deliveries released");
        Ok(Response::new(pb::RetryParkedDeliveryResponse { released: i64::try_from(released).unwrap_or(i64::MAX) }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fields(s: &Status) -> String {
        s.message().to_owned()
    }

    #[test]
    fn a_retry_names_one_webhook_or_all_and_a_bad_one_is_refused_by_field() {
        let r = |webhook: &str, all: bool| pb::RetryParkedDeliveryRequest { webhook: webhook.into(), all };
        assert_eq!(retry_target(&r("erp", false)).unwrap(), Some("erp"));
        assert_eq!(retry_target(&r("", true)).unwrap(), None);
        let e = retry_target(&r("", false)).unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert!(fields(&e).contains("webhook: is required"), "{}", fields(&e));
        let e = retry_target(&r("erp", true)).unwrap_err();
        assert!(fields(&e).contains("all: cannot be set with webhook"), "{}", fields(&e));
        for bad in ["*", "erp/../x", "a b", &"x".repeat(5000)] {
            let e = retry_target(&r(bad, false)).unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "{bad}");
            assert!(fields(&e).contains("webhook: "), "{}", fields(&e));
            assert!(fields(&e).len() < 300, "a huge name is not echoed whole");
        }
    }
}
