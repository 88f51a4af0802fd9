//! The tamper-evident audit log: every accepted change is an entry whose
//! hash covers its content and the previous entry's hash, so changing any
//! byte of any entry breaks the chain from there on. Verification is pure
//! and needs nothing but the entries, so an auditor can check an exported
//! log offline.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hash that precedes the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry of the log, as stored and exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 1, gap-free.
    pub sequence: i64,
    /// RFC 3339 UTC time the change was accepted.
    pub time: String,
    /// Event kind, e.g. `REPAIR_ORDER_CREATED`.
    pub kind: String,
    /// Party that caused the change.
    pub actor: String,
    /// SHA-256 fingerprint of the certificate the actor presented.
    pub actor_cert: String,
    /// Canonical content of the change (JSON of the record after it).
    pub content: String,
    /// Hash of the previous entry (or [`GENESIS`]).
    pub prev_hash: String,
    /// Hash of this entry.
    pub hash: String,
}

/// Computes the hash of an entry from its fields and the previous hash.
pub fn entry_hash(
    sequence: i64,
    time: &str,
    kind: &str,
    actor: &str,
    actor_cert: &str,
    content: &str,
    prev_hash: &str,
) -> String {
    let mut h = Sha256::new();
    // Length-prefix every field so that no two different entries hash alike
    // by moving bytes across field boundaries.
    for field in [sequence.to_string().as_str(), time, kind, actor, actor_cert, content, prev_hash] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit log broken at sequence {sequence}: {reason}")]
pub struct BrokenLink {
    /// The first entry that does not verify.
    pub sequence: i64,
    /// Why.
    pub reason: String,
}

/// Walks entries in order and reports the first broken link; returns the
/// number of entries verified.
pub fn verify<'a>(entries: impl IntoIterator<Item = &'a AuditEntry>) -> Result<u64, BrokenLink> {
    let mut prev = GENESIS.to_owned();
    let mut count = 0;
    for (expected_seq, e) in (1..).zip(entries) {
        let broken = |reason: String| BrokenLink { sequence: e.sequence, reason };
        if e.sequence != expected_seq {
            return Err(broken(format!("expected sequence {expected_seq}")));
        }
        if e.prev_hash != prev {
            return Err(broken("previous-hash does not match the entry before it".into()));
        }
        let h = entry_hash(e.sequence, &e.time, &e.kind, &e.actor, &e.actor_cert, &e.content, &e.prev_hash);
        if h != e.hash {
            return Err(broken("content does not match its hash".into()));
        }
        prev = e.hash.clone();
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|sequence| {
                let content = format!("{{\"n\":{sequence}}}");
                let hash = entry_hash(sequence, "2026-11-25T00:00:00Z", "K", "US-X", "ab", &content, &prev);
                let e = AuditEntry {
                    sequence,
                    time: "2026-11-25T00:00:00Z".into(),
                    kind: "K".into(),
                    actor: "US-X".into(),
                    actor_cert: "ab".into(),
                    content,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    #[test]
    fn an_untouched_log_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
    }

    #[test]
    fn changing_any_byte_of_any_entry_names_that_entry() {
        let log = chain(4);
        for i in 0..log.len() {
            for field in 0..8 {
                let mut bad = log.clone();
                let e = &mut bad[i];
                let s: &mut String = match field {
                    0 => &mut e.time,
                    1 => &mut e.kind,
                    2 => &mut e.actor,
                    3 => &mut e.actor_cert,
                    4 => &mut e.content,
                    5 => &mut e.prev_hash,
                    6 => &mut e.hash,
                    _ => {
                        e.sequence += 10;
                        let err = verify(&bad).err();
                        assert_eq!(err.map(|b| b.sequence), Some(log[i].sequence + 10));
                        continue;
                    }
                };
                s.push('x');
                assert_eq!(verify(&bad).err().map(|b| b.sequence), Some(log[i].sequence), "entry {i} field {field}");
            }
        }
    }
}
