//! Audit tools over the event log: verify the hash chain in a database, and
//! export it as JSON lines that an auditor verifies offline with nothing but
//! this program (or any SHA-256 implementation and the documented format).

use std::io::{BufRead, Write};

use cosx_domain::audit::{self, AuditEntry, BrokenLink};

use crate::store::Store;

/// Entries read per page.
const PAGE: u32 = 10_000;

/// Walks the whole log in the store; the number of entries verified, or the first broken link.
pub async fn verify_store(store: &dyn Store) -> anyhow::Result<Result<u64, BrokenLink>> {
    let mut after = 0;
    let mut prev: Option<AuditEntry> = None;
    let mut count = 0;
    loop {
        let page = store.audit_entries(after, PAGE).await?;
        if page.is_empty() {
            return Ok(Ok(count));
        }
        // Verify each page together with the last entry of the previous one.
        let chain: Vec<&AuditEntry> = prev.iter().chain(page.iter()).collect();
        if let Err(broken) = verify_from(&chain) {
            return Ok(Err(broken));
        }
        count += page.len() as u64;
        after = page.last().map_or(after, |e| e.sequence);
        prev = page.last().cloned();
    }
}

/// Verifies a run of entries that may start anywhere in the log: the first
/// entry is checked against its own stored hash and the rest are chained to it.
fn verify_from(entries: &[&AuditEntry]) -> Result<(), BrokenLink> {
    let Some(first) = entries.first() else {
        return Ok(());
    };
    if first.sequence == 1 {
        return audit::verify(entries.iter().copied()).map(|_| ());
    }
    let own = audit::entry_hash(
        first.sequence,
        &first.time,
        &first.kind,
        &first.actor,
        &first.actor_cert,
        &first.content,
        &first.prev_hash,
    );
    if own != first.hash {
        return Err(BrokenLink { sequence: first.sequence, reason: "content does not match its hash".into() });
    }
    for pair in entries.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b.sequence != a.sequence + 1 {
            return Err(BrokenLink { sequence: b.sequence, reason: format!("expected sequence {}", a.sequence + 1) });
        }
        if b.prev_hash != a.hash {
            return Err(BrokenLink {
                sequence: b.sequence,
                reason: "previous-hash does not match the entry before it".into(),
            });
        }
        let h = audit::entry_hash(b.sequence, &b.time, &b.kind, &b.actor, &b.actor_cert, &b.content, &b.prev_hash);
        if h != b.hash {
            return Err(BrokenLink { sequence: b.sequence, reason: "content does not match its hash".into() });
        }
    }
    Ok(())
}

/// Writes the whole log as JSON lines, one entry per line.
pub async fn export(store: &dyn Store, out: &mut dyn Write) -> anyhow::Result<u64> {
    let mut after = 0;
    let mut count = 0;
    loop {
        let page = store.audit_entries(after, PAGE).await?;
        if page.is_empty() {
            return Ok(count);
        }
        for e in &page {
            serde_json::to_writer(&mut *out, e)?;
            out.write_all(b"\n")?;
        }
        count += page.len() as u64;
        after = page.last().map_or(after, |e| e.sequence);
    }
}

/// Verifies an exported log file offline.
pub fn verify_export(input: impl BufRead) -> anyhow::Result<Result<u64, BrokenLink>> {
    let mut entries = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let entry: AuditEntry =
            serde_json::from_str(&line).map_err(|e| anyhow::anyhow!("line {}: not an audit entry: {e}", i + 1))?;
        entries.push(entry);
    }
    Ok(audit::verify(&entries))
}
