//! Answers kept until what they depend on changes. A query's answer is a
//! pure function of the log, the caller, the request and the day it is
//! asked on; the service names a log position (`as_of`: the last event
//! that can change such an answer, e.g. the last report, target or party
//! event for availability) and, while that position stays, the same caller
//! asking the same thing gets the same answer without building it again.
//!
//! This is a memo of answers, never a second copy of a rule: what goes in
//! is what the service computed for that caller, and it is keyed by the
//! caller's party id, so no answer ever reaches another party. It must never
//! keep an answer past the position it was computed at, nor one computed
//! before it.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Up to `capacity` answers, all computed at one log position.
pub(crate) struct Answers<K, V> {
    kept: Mutex<Kept<K, V>>,
    capacity: usize,
}

struct Kept<K, V> {
    head: i64,
    entries: HashMap<K, Arc<V>>,
}

impl<K: Hash + Eq + Clone, V> Answers<K, V> {
    /// A memo that holds at most `capacity` answers (they can be large).
    pub(crate) fn new(capacity: usize) -> Self {
        Answers { kept: Mutex::new(Kept { head: -1, entries: HashMap::new() }), capacity }
    }

    /// The answer kept for `key` at position `head`, if there is one.
    pub(crate) fn get(&self, head: i64, key: &K) -> Option<Arc<V>> {
        let kept = self.kept.lock().ok()?;
        if kept.head != head {
            return None;
        }
        kept.entries.get(key).cloned()
    }

    /// Keeps `answer`, computed from the log at position `head` or later.
    /// An answer for an older position than the kept ones is not kept; a
    /// newer position drops every older answer.
    pub(crate) fn put(&self, head: i64, key: K, answer: Arc<V>) {
        let Ok(mut kept) = self.kept.lock() else { return };
        if head < kept.head {
            return;
        }
        if head > kept.head {
            kept.head = head;
            kept.entries.clear();
        }
        if kept.entries.len() >= self.capacity && !kept.entries.contains_key(&key) {
            // Any one will do: they are all as fresh.
            if let Some(some) = kept.entries.keys().next().cloned() {
                kept.entries.remove(&some);
            }
        }
        kept.entries.insert(key, answer);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_answer_lives_only_while_the_head_stays_and_a_stale_one_is_never_kept() {
        let answers = Answers::new(2);
        answers.put(5, "a", Arc::new(1));
        assert_eq!(answers.get(5, &"a").as_deref(), Some(&1));
        assert_eq!(answers.get(6, &"a"), None, "the log moved");
        assert_eq!(answers.get(5, &"b"), None, "another caller or request");
        answers.put(7, "b", Arc::new(2));
        assert_eq!(answers.get(5, &"a"), None, "a newer head drops the older answers");
        answers.put(6, "a", Arc::new(3));
        assert_eq!(answers.get(7, &"a"), None, "an answer older than the kept ones is not kept");
        answers.put(7, "c", Arc::new(4));
        answers.put(7, "d", Arc::new(5));
        let kept = ["b", "c", "d"].iter().filter(|k| answers.get(7, k).is_some()).count();
        assert_eq!(kept, 2, "at most the capacity");
        assert_eq!(answers.get(7, &"d").as_deref(), Some(&5));
    }
}
