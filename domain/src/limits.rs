//! The exchange's size limits, one place for all of them: how many parts a
//! split may make, how many entries any list in a request may hold, how long
//! an offer may run. They bound what one accepted write can cost every later
//! reader (the store, the feed, the views), so that no party can make the
//! exchange slow or stuck for the others with a single request.
//!
//! Every face (gRPC, node, files) parses through the same checks; the
//! values are listed in SECURITY.md. Nothing here does I/O.

/// Longest free-text value we store (names, references, reasons).
pub const MAX_TEXT: usize = crate::vocab::MAX_TEXT;

/// Most entries in any list inside a record: releasability parties and
/// nations, capabilities, repair types, certifications, authorizations.
pub const MAX_LIST: usize = 64;

/// Most parts one split makes. A split shares an order among providers;
/// each part is a whole order in the split's one event, so the bound keeps
/// that event far below what a feed subscriber accepts ([`MAX_EVENT_BYTES`]).
pub const MAX_SPLIT_PARTS: usize = 32;

/// Most capacity periods in one offer.
pub const MAX_OFFER_PERIODS: usize = 120;

/// Longest an offer may be valid, in days (five years and a day for leap
/// years): capacity further out is not a commitment anyone plans on. With
/// every period inside the validity, an offer's cost to a comparison is
/// bounded by this span, however its periods are spelled.
pub const MAX_OFFER_VALIDITY_DAYS: i64 = 5 * 365 + 2;

/// Largest event the coordinator will append, as stored JSON. Subscribers
/// decode messages of up to 4 MiB (tonic's default); an event is well
/// below that, so no accepted write can stop a feed. A write whose event
/// would be larger is refused, changing nothing.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// Items in a page when the caller asks for none in particular.
pub const DEFAULT_PAGE: u32 = 100;

/// Most items in one page; a larger `page_size` is served this many.
pub const MAX_PAGE: u32 = 1000;

/// The page size to serve for a requested `page_size` (AIP-158): 0 is the
/// default, anything above [`MAX_PAGE`] is clamped to it, negative is an
/// error. The coordinator and every node page alike.
pub fn page_size(requested: i32) -> Result<u32, &'static str> {
    match requested {
        0 => Ok(DEFAULT_PAGE),
        n if n < 0 => Err("must be >= 0"),
        n => Ok(u32::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE)),
    }
}
