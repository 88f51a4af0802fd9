//! The webhook signature: `Cosx-Signature: v1=<hex HMAC-SHA256(secret,
//! "{timestamp}.{body}")>`, with `Cosx-Timestamp` the Unix time in seconds of
//! the attempt (as Stripe signs its events).
//!
//! Signing the timestamp with the body lets a receiver refuse a replay of an
//! old, validly signed request: it checks the timestamp is within a tolerance
//! of its own clock, then uses `Cosx-Event-Sequence` as its idempotency key.
//! [`verify`] is the reference receivers copy (README has it in Python); it
//! compares in constant time and never says which byte differed.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The scheme of the signatures this crate writes.
pub const SCHEME: &str = "v1";

/// How far a receiver should accept a timestamp from its own clock, by default.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Why a request's signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// `Cosx-Timestamp` is not a whole number of seconds.
    #[error("Cosx-Timestamp {0:?}: expected Unix seconds")]
    BadTimestamp(String),
    /// The timestamp is further from now than the tolerance (a replay, or a
    /// badly wrong clock).
    #[error("Cosx-Timestamp {timestamp} is {skew_seconds}s from now, more than the tolerance")]
    OutsideTolerance {
        /// The timestamp received.
        timestamp: i64,
        /// How far from now it is.
        skew_seconds: i64,
    },
    /// No `v1=` signature in `Cosx-Signature`.
    #[error("Cosx-Signature holds no v1=<hex> signature")]
    NoSignature,
    /// No `v1` signature matches the secret, timestamp and body.
    #[error("Cosx-Signature does not match the body and timestamp")]
    Mismatch,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC accepts any key"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Cosx-Signature` value for `body` sent at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("{SCHEME}={}", hex::encode(mac(secret, timestamp, body).finalize().into_bytes()))
}

/// Checks a received request: `timestamp` and `signature` are the header
/// values, `now` the receiver's Unix time. Several comma-separated `v1=`
/// values are accepted (a sender rotating its secret); one must match.
/// Returns the verified timestamp.
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<i64, VerifyError> {
    let ts: i64 = timestamp.trim().parse().map_err(|_| VerifyError::BadTimestamp(timestamp.to_owned()))?;
    let skew = now.saturating_sub(ts).saturating_abs();
    if u64::try_from(skew).unwrap_or(u64::MAX) > tolerance.as_secs() {
        return Err(VerifyError::OutsideTolerance { timestamp: ts, skew_seconds: skew });
    }
    let mut any = false;
    for part in signature.split(',') {
        let Some(hex_sig) = part.trim().strip_prefix("v1=") else { continue };
        any = true;
        let Ok(bytes) = hex::decode(hex_sig) else { continue };
        if mac(secret, ts, body).verify_slice(&bytes).is_ok() {
            return Ok(ts);
        }
    }
    Err(if any { VerifyError::Mismatch } else { VerifyError::NoSignature })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec-0123456789abcdef";
    const BODY: &[u8] = br#"{"sequence":"7","kind":"EVENT_KIND_REPAIR_ORDER_CREATED"}"#;

    #[test]
    fn a_signature_verifies_with_the_same_secret_timestamp_and_body() {
        let sig = sign(SECRET, 1_800_000_000, BODY);
        assert!(sig.starts_with("v1=") && sig.len() == 3 + 64, "{sig}");
        assert_eq!(verify(SECRET, "1800000000", &sig, BODY, 1_800_000_010, DEFAULT_TOLERANCE), Ok(1_800_000_000));
    }

    #[test]
    fn the_known_answer_matches_pythons_hmac() {
        // hmac.new(b"whsec-0123456789abcdef", b'1800000000.{"a":1}', hashlib.sha256).hexdigest()
        assert_eq!(
            sign(SECRET, 1_800_000_000, br#"{"a":1}"#),
            "v1=d056fd5474ba03ed9cdbe1076f08cb25926142f7e99899ec3944232a3357657a"
        );
    }

    #[test]
    fn a_forged_body_a_wrong_secret_or_a_moved_timestamp_is_refused() {
        let sig = sign(SECRET, 1_800_000_000, BODY);
        let forged = br#"{"sequence":"8","kind":"EVENT_KIND_REPAIR_ORDER_CREATED"}"#;
        let now = 1_800_000_000;
        assert_eq!(verify(SECRET, "1800000000", &sig, forged, now, DEFAULT_TOLERANCE), Err(VerifyError::Mismatch));
        assert_eq!(
            verify(b"another-secret-xyz", "1800000000", &sig, BODY, now, DEFAULT_TOLERANCE),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(verify(SECRET, "1800000001", &sig, BODY, now, DEFAULT_TOLERANCE), Err(VerifyError::Mismatch));
        assert_eq!(verify(SECRET, "1800000000", "v1=zz", BODY, now, DEFAULT_TOLERANCE), Err(VerifyError::Mismatch));
        assert_eq!(
            verify(SECRET, "1800000000", "sha1=abc", BODY, now, DEFAULT_TOLERANCE),
            Err(VerifyError::NoSignature)
        );
    }

    #[test]
    fn a_replay_outside_the_tolerance_is_refused_even_when_signed() {
        let sig = sign(SECRET, 1_800_000_000, BODY);
        let later = 1_800_000_000 + 301;
        assert_eq!(
            verify(SECRET, "1800000000", &sig, BODY, later, DEFAULT_TOLERANCE),
            Err(VerifyError::OutsideTolerance { timestamp: 1_800_000_000, skew_seconds: 301 })
        );
        assert_eq!(
            verify(SECRET, "soon", &sig, BODY, later, DEFAULT_TOLERANCE),
            Err(VerifyError::BadTimestamp("soon".into()))
        );
    }

    #[test]
    fn one_matching_signature_among_several_is_enough() {
        let sig = format!("v1={}, {}", "00".repeat(32), sign(SECRET, 5, BODY));
        assert_eq!(verify(SECRET, "5", &sig, BODY, 5, DEFAULT_TOLERANCE), Ok(5));
    }
}
