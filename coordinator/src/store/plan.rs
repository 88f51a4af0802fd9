//! Deciding a group of commits in memory: what each commit's outcome is and
//! what the group leaves behind, from what the database said about the
//! records, natural keys and idempotency keys the group names — the same
//! decisions the statements of each commit would make one after the other.
//! Backends read those facts under their write lock, call
//! [`Decider::decide_batch`], write the [`Plan`] with bulk statements, and
//! fall back to one savepoint per commit if the database disagrees (a check
//! only it can make, such as a unique lifecycle step, failed).
//!
//! Must never: touch the database, or decide differently from the
//! statement-by-statement path.

use std::collections::HashMap;

use cosx_domain::audit::entry_hash;

use super::group::Outcome;
use super::{Commit, Committed, IdempotencyKey, NewEvent, RecordWrite, StoreError, TransitionWrite};

/// What the batch knows about a record.
#[derive(Clone)]
pub(crate) struct Known {
    pub(crate) kind: String,
    pub(crate) version: i64,
    pub(crate) superseded: bool,
    pub(crate) natural_key: Option<String>,
}

/// How a record the batch touched must look when the batch commits.
pub(crate) enum Final<'a> {
    /// Created in this batch (as event `position`), last written by `latest`.
    New { insert: &'a RecordWrite, latest: &'a RecordWrite, position: i64, superseded: bool },
    /// Existed at version `before`; last written by `latest`, if at all.
    Old { before: i64, latest: Option<&'a RecordWrite>, supersede: bool },
}

/// A batch decided in memory.
#[derive(Default)]
pub(crate) struct Plan<'a> {
    /// One per commit, in order.
    pub(crate) outcomes: Vec<Outcome>,
    /// Each record touched, in first-touched order.
    pub(crate) finals: Vec<(String, Final<'a>)>,
    /// Lifecycle steps of stored commits, with their sequence.
    pub(crate) transitions: Vec<(&'a TransitionWrite, i64)>,
    /// Events of stored commits: sequence, event, previous hash, hash.
    pub(crate) events: Vec<(i64, &'a NewEvent, String, String)>,
    /// Idempotency keys of stored commits, with their response.
    pub(crate) keys: Vec<(&'a IdempotencyKey, &'a str)>,
    /// The log head after the batch.
    pub(crate) head: (i64, String),
}

/// What the batch knows: read once, then kept up to date commit by commit.
#[derive(Default)]
pub(crate) struct Decider {
    /// Records by id (`None`: known not to exist).
    pub(crate) records: HashMap<String, Option<Known>>,
    /// Current (not superseded) record by natural key (`None`: there is none).
    pub(crate) current: HashMap<String, Option<String>>,
    /// Stored idempotency keys: (caller, request id) → (request hash, response).
    pub(crate) keys: HashMap<(String, String), (String, String)>,
}

impl Decider {
    /// Notes every record id (and superseded id) and natural key `batch`
    /// names as unknown, and returns them: the backend reads those rows and
    /// fills in what exists before [`Decider::decide_batch`].
    pub(crate) fn expect<'b>(&mut self, batch: &'b [Commit]) -> (Vec<&'b str>, Vec<&'b str>) {
        let mut ids: Vec<&str> = Vec::new();
        let mut natural: Vec<&str> = Vec::new();
        for r in batch.iter().flat_map(|c| &c.records) {
            ids.push(&r.id);
            ids.extend(r.supersedes.as_deref());
            natural.extend(r.natural_key.as_deref());
        }
        for id in &ids {
            self.records.insert((*id).to_owned(), None);
        }
        for key in &natural {
            self.current.insert((*key).to_owned(), None);
        }
        (ids, natural)
    }

    fn record(&self, pending: &HashMap<String, Option<Known>>, id: &str) -> Option<Known> {
        pending.get(id).or_else(|| self.records.get(id)).cloned().flatten()
    }

    fn current(&self, pending: &HashMap<String, Option<String>>, key: &str) -> Option<String> {
        pending.get(key).or_else(|| self.current.get(key)).cloned().flatten()
    }

    /// Decides one commit's records, in order; on success returns what it changes.
    #[allow(clippy::type_complexity)]
    fn decide(
        &self,
        commit: &Commit,
    ) -> Result<(HashMap<String, Option<Known>>, HashMap<String, Option<String>>), StoreError> {
        let mut records: HashMap<String, Option<Known>> = HashMap::new();
        let mut current: HashMap<String, Option<String>> = HashMap::new();
        for r in &commit.records {
            if let Some(old) = &r.supersedes {
                match self.record(&records, old) {
                    Some(mut k) if !k.superseded => {
                        k.superseded = true;
                        if let Some(key) = &k.natural_key {
                            current.insert(key.clone(), None);
                        }
                        records.insert(old.clone(), Some(k));
                    }
                    _ => return Err(StoreError::Conflict(old.clone())),
                }
            }
            match r.expected_version {
                None => {
                    let taken = r.natural_key.as_deref().is_some_and(|key| self.current(&current, key).is_some());
                    if taken || self.record(&records, &r.id).is_some() {
                        return Err(StoreError::Conflict(r.id.clone()));
                    }
                    if let Some(key) = &r.natural_key {
                        current.insert(key.clone(), Some(r.id.clone()));
                    }
                    let known = Known {
                        kind: r.kind.as_str().to_owned(),
                        version: r.version,
                        superseded: false,
                        natural_key: r.natural_key.clone(),
                    };
                    records.insert(r.id.clone(), Some(known));
                }
                Some(expected) => match self.record(&records, &r.id) {
                    Some(mut k) if k.kind == r.kind.as_str() && k.version == expected => {
                        k.version = r.version;
                        records.insert(r.id.clone(), Some(k));
                    }
                    _ => return Err(StoreError::Conflict(r.id.clone())),
                },
            }
        }
        Ok((records, current))
    }

    /// Decides every commit of `batch` in order after `head`, as the
    /// statements would one after the other. Needs, read under the write
    /// lock: every id the batch names (and the ids it supersedes), every
    /// natural key it names, and its idempotency keys.
    pub(crate) fn decide_batch<'b>(mut self, batch: &'b [Commit], mut head: (i64, String)) -> Plan<'b> {
        let before: HashMap<String, i64> =
            self.records.iter().filter_map(|(id, k)| Some((id.clone(), k.as_ref()?.version))).collect();

        let mut plan = Plan::default();
        let mut finals: HashMap<String, usize> = HashMap::new();
        for commit in batch {
            if let Some(key) = &commit.idempotency
                && let Some((hash, response)) = self.keys.get(&(key.caller.clone(), key.request_id.clone()))
            {
                plan.outcomes.push(replay(key, hash, response.clone()));
                continue;
            }
            let (records, current) = match self.decide(commit) {
                Ok(changes) => changes,
                Err(refused) => {
                    plan.outcomes.push(Err(refused));
                    continue;
                }
            };
            self.records.extend(records);
            self.current.extend(current);
            let sequence = head.0 + 1;
            for r in &commit.records {
                if let Some(old) = &r.supersedes {
                    let at = *finals.entry(old.clone()).or_insert_with(|| {
                        let old_before = before.get(old).copied().unwrap_or_default();
                        plan.finals
                            .push((old.clone(), Final::Old { before: old_before, latest: None, supersede: false }));
                        plan.finals.len() - 1
                    });
                    match &mut plan.finals[at].1 {
                        Final::New { superseded, .. } => *superseded = true,
                        Final::Old { supersede, .. } => *supersede = true,
                    }
                }
                match r.expected_version {
                    None => {
                        finals.insert(r.id.clone(), plan.finals.len());
                        let row = Final::New { insert: r, latest: r, position: sequence, superseded: false };
                        plan.finals.push((r.id.clone(), row));
                    }
                    Some(_) => {
                        let at = *finals.entry(r.id.clone()).or_insert_with(|| {
                            let was = before.get(&r.id).copied().unwrap_or_default();
                            plan.finals
                                .push((r.id.clone(), Final::Old { before: was, latest: None, supersede: false }));
                            plan.finals.len() - 1
                        });
                        match &mut plan.finals[at].1 {
                            Final::New { latest, .. } => *latest = r,
                            Final::Old { latest, .. } => *latest = Some(r),
                        }
                    }
                }
            }
            plan.transitions.extend(commit.transitions.iter().map(|t| (t, sequence)));
            plan.events.extend(chain(commit, &mut head));
            if let Some(key) = &commit.idempotency {
                self.keys.insert(
                    (key.caller.clone(), key.request_id.clone()),
                    (key.request_hash.clone(), commit.response.clone()),
                );
                plan.keys.push((key, &commit.response));
            }
            plan.outcomes.push(Ok(Committed::New { sequence }));
        }
        plan.head = head;
        plan
    }
}

/// The answer to a request id seen before: its first response if the
/// payload is the same, otherwise a refusal (a replay writes nothing).
pub(crate) fn replay(key: &IdempotencyKey, stored_hash: &str, response: String) -> Outcome {
    if stored_hash == key.request_hash {
        Ok(Committed::Replayed { response })
    } else {
        Err(StoreError::IdempotencyMismatch(key.request_id.clone()))
    }
}

/// The events of `commit` appended after `head`, each chained on the one
/// before: (sequence, event, previous hash, hash). Advances `head` to the last.
pub(crate) fn chain<'a>(commit: &'a Commit, head: &mut (i64, String)) -> Vec<(i64, &'a NewEvent, String, String)> {
    let mut events = Vec::with_capacity(commit.more_events.len() + 1);
    for (e, at) in commit.events().zip(head.0 + 1..) {
        let hash = entry_hash(at, &e.time, &e.kind, &e.actor, &e.actor_cert, &e.content, &head.1);
        events.push((at, e, std::mem::replace(&mut head.1, hash.clone()), hash));
        head.0 = at;
    }
    events
}

impl<'a> Plan<'a> {
    /// The records the batch creates: (first write, last write, position, superseded).
    pub(crate) fn new_rows(&self) -> Vec<(&'a RecordWrite, &'a RecordWrite, i64, bool)> {
        self.finals
            .iter()
            .filter_map(|(_, row)| match row {
                Final::New { insert, latest, position, superseded } => Some((*insert, *latest, *position, *superseded)),
                Final::Old { .. } => None,
            })
            .collect()
    }
}
