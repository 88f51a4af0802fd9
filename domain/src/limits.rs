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

/// Longest long text: a comment, a disruption's text or resolution, a
/// repair exception's text, a quote's conditions, a request for update's
/// text or answer.
pub const MAX_LONG_TEXT: usize = 5000;

/// The one check of a long text (see [`MAX_LONG_TEXT`]): at most that many
/// characters (not bytes), no control characters other than newlines and
/// tabs. `Ok(None)` when it is empty or only blanks: the caller decides
/// whether that is allowed.
pub fn long_text(s: &str) -> Result<Option<String>, String> {
    let chars = s.chars().count();
    if chars > MAX_LONG_TEXT {
        Err(format!("too long: {chars} characters, at most {MAX_LONG_TEXT}"))
    } else if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        Err("must not contain control characters other than newlines and tabs".into())
    } else {
        Ok((!s.trim().is_empty()).then(|| s.to_owned()))
    }
}

/// [`long_text`], required: 1 to [`MAX_LONG_TEXT`] characters, not only blanks.
pub fn required_long_text(s: &str) -> Result<String, String> {
    long_text(s)?.ok_or_else(|| format!("is required: 1 to {MAX_LONG_TEXT} characters"))
}

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_long_text_is_counted_in_characters_and_refuses_control_characters() {
        assert_eq!(long_text("").unwrap(), None);
        assert_eq!(long_text(" \n\t").unwrap(), None);
        assert_eq!(long_text("a\nb\tc").unwrap().as_deref(), Some("a\nb\tc"));
        assert!(long_text(&"é".repeat(MAX_LONG_TEXT)).unwrap().is_some(), "characters, not bytes");
        assert!(long_text(&"x".repeat(MAX_LONG_TEXT + 1)).unwrap_err().contains("5001"));
        assert!(long_text("bell\u{7}").unwrap_err().contains("control"));
        assert!(required_long_text(" ").unwrap_err().contains("required"));
        assert_eq!(required_long_text("x").unwrap(), "x");
    }
}
