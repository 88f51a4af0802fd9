//! The registry: registering and suspending parties, and reading them.
//!
//! Part of the core: each write authorizes, applies the domain rule and
//! commits through the machinery in the parent module; never touches
//! protobuf, and never reads a record without the visibility rule.

use super::*;

impl Coordinator {
    /// Registers a party (coordinators only).
    pub async fn register_party(&self, caller: &Caller, party: Party, key: &RequestKey) -> Result<(Party, i64)> {
        if !caller.is_coordinator() {
            return Err(CoreError::PermissionDenied("only a COORDINATOR party may register parties".into()));
        }
        if let Some(p) = self.replay::<Party>(caller, key).await? {
            return Ok(self.party(&p.id).unwrap_or((p, 1)));
        }
        if self.party(&party.id).is_some() {
            return Err(CoreError::AlreadyExists(format!("party {} is already registered", party.id)));
        }
        let idem = (!key.request_id.is_empty()).then(|| IdempotencyKey {
            caller: caller.id().to_string(),
            request_id: key.request_id.clone(),
            request_hash: key.payload_hash.clone(),
        });
        self.commit_party(caller.id(), &caller.cert_fingerprint, party, None, idem).await
    }

    /// Suspends a party (coordinators only): its calls are refused from now on.
    pub async fn suspend_party(&self, caller: &Caller, id: &PartyId, etag: Option<i64>) -> Result<(Party, i64)> {
        if !caller.is_coordinator() {
            return Err(CoreError::PermissionDenied("only a COORDINATOR party may suspend parties".into()));
        }
        let (mut party, current) = self.party(id).ok_or_else(|| CoreError::NotFound(format!("parties/{id}")))?;
        if etag.is_some_and(|e| e != current) {
            return Err(CoreError::Aborted(format!("parties/{id} has etag {current}, not the one given")));
        }
        party.suspended = true;
        self.commit_party(caller.id(), &caller.cert_fingerprint, party, Some(current), None).await
    }

    /// One party.
    pub fn get_party(&self, _caller: &Caller, id: &PartyId) -> Result<(Party, i64)> {
        self.party(id).ok_or_else(|| CoreError::NotFound(format!("parties/{id}")))
    }

    /// Every registered party, by id.
    pub fn list_parties(&self, _caller: &Caller) -> Vec<(Party, i64)> {
        let mut all: Vec<_> = self.parties.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        all.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        all
    }

    // ----- repair orders -------------------------------------------------
}
