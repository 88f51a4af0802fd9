//! The errors of the exchange, in the domain's words: why a request was
//! refused ([`CoreError`]) and how a store failed ([`StoreError`]), with
//! the one mapping of domain rule failures onto them. The coordinator and
//! the node both answer with these; [`crate::status`] is the one table from
//! them to gRPC statuses.
//!
//! Never opens a database or formats a status here: a store failure is
//! only described, so that one table can decide what a caller is told.

use cosx_domain::offers::OfferChangeError;
use cosx_domain::{LifecycleError, Violations};

/// Why a request was refused. The API layer maps each to one gRPC code.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// No usable identity.
    #[error("{0}")]
    Unauthenticated(String),
    /// Known caller, not allowed.
    #[error("{0}")]
    PermissionDenied(String),
    /// Bad input, field by field.
    #[error("{0}")]
    Invalid(Violations),
    /// Not there, or not visible to the caller (the two are not told apart).
    #[error("{0} not found")]
    NotFound(String),
    /// The caller's version is stale, or a concurrent change won.
    #[error("{0}")]
    Aborted(String),
    /// The record's state does not allow the step.
    #[error("{0}")]
    FailedPrecondition(String),
    /// A request id reused for a different request.
    #[error("{0}")]
    AlreadyExists(String),
    /// The caller holds as much of a bounded resource as it may.
    #[error("{0}")]
    ResourceExhausted(String),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl CoreError {
    /// Optimistic concurrency, the one wording every face gives: `name` is
    /// at version `have`, and the caller wrote against `asked`.
    pub fn check_version(name: &str, have: i64, asked: i64) -> Result<(), CoreError> {
        if have == asked {
            return Ok(());
        }
        Err(CoreError::Aborted(format!("{name} is at version {have}, not {asked}: read it again and retry")))
    }
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => CoreError::Aborted(format!(
                "{what} was changed concurrently; read it again and retry with its new version"
            )),
            StoreError::IdempotencyMismatch(id) => {
                CoreError::AlreadyExists(format!("request_id {id:?} was already used for a different request"))
            }
            other => CoreError::Store(other),
        }
    }
}

impl From<Violations> for CoreError {
    fn from(v: Violations) -> Self {
        CoreError::Invalid(v)
    }
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A record was not at the version the writer saw (or already exists).
    #[error("{0} was changed by someone else; read it again and retry")]
    Conflict(String),
    /// The request id was used before with a different payload.
    #[error("request_id {0:?} was already used for a different request")]
    IdempotencyMismatch(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database URL or settings are wrong.
    #[error("{0}")]
    Config(String),
    /// The transaction this change was grouped into failed as a whole, or
    /// the store's writer stopped: nothing of it was stored; retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// The status a refused lifecycle step maps to.
pub fn lifecycle_error(e: LifecycleError) -> CoreError {
    match e {
        LifecycleError::WrongActor { .. } => CoreError::PermissionDenied(e.to_string()),
        _ => CoreError::FailedPrecondition(e.to_string()),
    }
}

/// The status a refused quote step maps to (coordinator and node alike):
/// a wrong actor is PERMISSION_DENIED, terms already past their validity
/// name the field, the rest is FAILED_PRECONDITION.
pub fn quote_error(name: &str, e: cosx_domain::quotes::QuoteError) -> CoreError {
    use cosx_domain::quotes::QuoteError as Q;
    match e {
        Q::NotTheOwner | Q::NotTheOwnerOrCoordinator | Q::NotTheProvider => {
            CoreError::PermissionDenied(format!("{name}: {e}"))
        }
        Q::Lifecycle(l) => lifecycle_error(l),
        Q::ValidUntilPast(_) => {
            let mut v = Violations::new();
            v.add("terms.valid_until", e.to_string());
            CoreError::Invalid(v)
        }
        _ => CoreError::FailedPrecondition(format!("{name}: {e}")),
    }
}

/// The status a refused comment change maps to (coordinator and node
/// alike): another party's comment is PERMISSION_DENIED (the caller may see
/// it, so nothing is revealed), the rest FAILED_PRECONDITION.
pub fn comment_error(name: &str, e: cosx_domain::comments::CommentError) -> CoreError {
    use cosx_domain::comments::CommentError as C;
    match e {
        C::NotTheAuthor(_) => CoreError::PermissionDenied(format!("{name}: {e}")),
        _ => CoreError::FailedPrecondition(format!("{name}: {e}")),
    }
}

/// The status a refused request-for-update step maps to: the wrong party
/// is PERMISSION_DENIED, the rest FAILED_PRECONDITION.
pub fn update_request_error(name: &str, e: cosx_domain::update_requests::UpdateRequestError) -> CoreError {
    use cosx_domain::update_requests::UpdateRequestError as U;
    match e {
        U::NotACoordinator | U::NotTheAddressee(_) | U::NotTheRequester(_) => {
            CoreError::PermissionDenied(format!("{name}: {e}"))
        }
        _ => CoreError::FailedPrecondition(format!("{name}: {e}")),
    }
}

/// The status a refused disruption step maps to (coordinator and node
/// alike): the wrong party is PERMISSION_DENIED, a site that is not the
/// caller's or a changed site names the field, the rest is FAILED_PRECONDITION.
pub fn disruption_error(name: &str, e: cosx_domain::disruptions::DisruptionError) -> CoreError {
    use cosx_domain::disruptions::DisruptionError as D;
    match e {
        D::NotAProvider | D::NotTheDeclarer | D::NotACoordinator => CoreError::PermissionDenied(format!("{name}: {e}")),
        D::NotYourSite(_) | D::SiteChanged => {
            let mut v = Violations::new();
            v.add("disruption.site", e.to_string());
            CoreError::Invalid(v)
        }
        _ => CoreError::FailedPrecondition(format!("{name}: {e}")),
    }
}

/// The status a refused offer change maps to (coordinator and node alike).
pub fn offer_change_error(name: &str, e: OfferChangeError) -> CoreError {
    match e {
        OfferChangeError::NotTheProvider { .. } => CoreError::PermissionDenied(format!("{name}: {e}")),
        OfferChangeError::NotActive(_) => CoreError::FailedPrecondition(format!("{name}: {e}")),
        OfferChangeError::Stale { .. } => CoreError::Aborted(format!("{name}: {e}")),
        OfferChangeError::ProviderChanged => {
            let mut v = Violations::new();
            v.add("capacity_offer.provider", e.to_string());
            CoreError::Invalid(v)
        }
    }
}

/// The status a refused repair-exception step maps to (coordinator and
/// node alike): a wrong actor is PERMISSION_DENIED, the rest (including a
/// lifecycle step an open exception blocks) FAILED_PRECONDITION, with the
/// reason naming the exception.
pub fn exception_error(name: &str, e: cosx_domain::exceptions::ExceptionError) -> CoreError {
    use cosx_domain::exceptions::ExceptionError as E;
    match e {
        E::NotTheOwner | E::NotTheProvider => CoreError::PermissionDenied(format!("{name}: {e}")),
        _ => CoreError::FailedPrecondition(format!("{name}: {e}")),
    }
}
