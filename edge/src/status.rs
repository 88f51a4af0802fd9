//! The one table from core errors to gRPC statuses, for the coordinator
//! and the node alike. Bad input carries `google.rpc.BadRequest` field
//! violations; a database that failed is `UNAVAILABLE` (retry with the same
//! request id); misconfiguration and corrupt data are logged here with
//! their detail and reach the caller as a bare `INTERNAL`.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

use crate::error::{CoreError, StoreError};

impl From<CoreError> for Status {
    fn from(e: CoreError) -> Status {
        match e {
            CoreError::Unauthenticated(m) => Status::unauthenticated(m),
            CoreError::PermissionDenied(m) => Status::permission_denied(m),
            CoreError::Invalid(v) => {
                let message = format!("invalid request: {v}");
                let violations =
                    v.0.into_iter().map(|f| FieldViolation::new(f.field, f.description)).collect::<Vec<_>>();
                Status::with_error_details(Code::InvalidArgument, message, ErrorDetails::with_bad_request(violations))
            }
            CoreError::NotFound(what) => Status::not_found(format!("{what} not found")),
            CoreError::Aborted(m) => Status::aborted(m),
            CoreError::FailedPrecondition(m) => Status::failed_precondition(m),
            CoreError::AlreadyExists(m) => Status::already_exists(m),
            CoreError::ResourceExhausted(m) => Status::resource_exhausted(m),
            // Misconfiguration and unreadable data do not heal by retrying.
            CoreError::Store(StoreError::Config(m)) => {
                tracing::error!(error = %m, "store misconfigured");
                Status::internal("internal error")
            }
            CoreError::Store(StoreError::Corrupt(m)) => {
                tracing::error!(error = %m, "stored data is corrupt");
                Status::internal("internal error")
            }
            CoreError::Store(e) => {
                tracing::error!(error = %e, "store failed");
                Status::unavailable("storage is unavailable; retry with the same request_id")
            }
        }
    }
}
