//! The event log as parties read it, system events the views commit, and the feed's bookkeeping.
//!
//! Part of the core: each write authorizes, applies the domain rule and
//! commits through the machinery in the parent module; never touches
//! protobuf, and never reads a record without the visibility rule.

use super::*;

impl Coordinator {
    /// Events after `after` the caller may see, at most `limit`.
    ///
    /// Served from the events this process committed lately as far as they
    /// follow on without a gap (the stores' `VISIBLE` predicate applied in
    /// memory, [`Audience::visible_to`]), and from the store after that: a
    /// thousand live feed subscribers woken by one commit read memory, not
    /// the database, and share each event instead of copying it.
    pub async fn events(&self, caller: &Caller, after: i64, limit: u32) -> Result<Vec<Arc<Event>>> {
        let viewer = viewer(caller);
        let limit_len = limit as usize;
        let (mut events, scanned) = {
            let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
            let mut events = Vec::new();
            let mut scanned = after;
            for ((sequence, (event, audience)), expected) in recent.range(after + 1..).zip(after + 1..) {
                if *sequence != expected || events.len() == limit_len {
                    break;
                }
                if audience.visible_to(&viewer) {
                    events.push(Arc::clone(event));
                }
                scanned = *sequence;
            }
            (events, scanned)
        };
        if events.len() < limit_len && scanned < *self.head.borrow() {
            let wanted = limit - u32::try_from(events.len()).unwrap_or(limit);
            for stored in self.store.events(&viewer, scanned, wanted).await? {
                events.push(Arc::new(event_from(stored)?));
            }
        }
        Ok(events)
    }

    /// Commits an event the coordinator raises by itself (an alert) as
    /// [`SYSTEM_ACTOR`], visible to coordinators only. `change_id` names the
    /// state change deterministically (the n-th change of one alert), and is
    /// stored as an idempotency key: when replicas judging the same log
    /// decide the same change, the first commit wins and the others find it
    /// there. Returns whether this call appended the event.
    pub async fn commit_system_event(
        &self,
        kind: &'static str,
        subject: String,
        content: EventContent,
        change_id: &str,
    ) -> Result<bool> {
        let audience = Audience { owner: SYSTEM_ACTOR.to_owned(), ..Audience::default() };
        let change = Change { records: vec![], transitions: vec![], kind, subject, audience, content, time: now() };
        self.commit_as_system(change, change_id).await
    }

    /// Commits a change the coordinator makes by itself, as [`SYSTEM_ACTOR`],
    /// under the deterministic idempotency key `change_id`; whether this call
    /// stored it (false: another replica or round did first, or the record
    /// moved on meanwhile; a conflict needs a record, so an event alone
    /// never meets one). The change itself is what must be unique: the
    /// same change decided from an older view may carry other figures, so
    /// `change_id` is also the key's hash.
    pub(super) async fn commit_as_system(&self, change: Change, change_id: &str) -> Result<bool> {
        let Change { records, transitions, kind, subject, audience, content, time } = change;
        let time = rfc3339(time);
        // Kept for live subscribers like every other commit of this process:
        // a gap in `recent` would send each of them to the store at once.
        let event =
            Event { sequence: 0, time: parse_time(&time)?, kind: kind.to_owned(), actor: SYSTEM_ACTOR.into(), content };
        let commit = Commit {
            idempotency: Some(IdempotencyKey {
                caller: SYSTEM_ACTOR.to_owned(),
                request_id: change_id.to_owned(),
                request_hash: change_id.to_owned(),
            }),
            party: None,
            records,
            transitions,
            event: NewEvent {
                time,
                kind: kind.to_owned(),
                actor: SYSTEM_ACTOR.to_owned(),
                actor_cert: "system".to_owned(),
                subject,
                audience: audience.clone(),
                content: to_json(&event.content)?,
            },
            more_events: vec![],
            response: "null".to_owned(),
        };
        match self.store.commit(commit).await {
            Ok(Committed::New { sequence }) => {
                self.remember(Event { sequence, ..event }, audience);
                self.advance_head(sequence);
                Ok(true)
            }
            Ok(Committed::Replayed { .. }) | Err(StoreError::IdempotencyMismatch(_)) | Err(StoreError::Conflict(_)) => {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every event after `after`, as a coordinator sees them: for the
    /// aggregates that are kept up to date from the log.
    ///
    /// Served from the events this process committed lately as far as they
    /// follow on without a gap, and from the store after that (events other
    /// processes or other paths committed, and everything older).
    pub async fn all_events(&self, after: i64, limit: u32) -> Result<Vec<Arc<Event>>> {
        let mut events: Vec<Arc<Event>> = {
            let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
            recent
                .range(after + 1..)
                .zip(after + 1..)
                .take_while(|((sequence, _), expected)| *sequence == expected)
                .take(limit as usize)
                .map(|((_, (e, _)), _)| e.clone())
                .collect()
        };
        let last = events.last().map_or(after, |e| e.sequence);
        let wanted = limit.saturating_sub(u32::try_from(events.len()).unwrap_or(u32::MAX));
        if wanted > 0 && last < *self.head.borrow() {
            let everyone = Viewer { party: String::new(), nation: String::new(), coordinator: true };
            for stored in self.store.events(&everyone, last, wanted).await? {
                events.push(Arc::new(event_from(stored)?));
            }
        }
        Ok(events)
    }

    /// Whether any entry after `after` up to `upto` concerns `caller`, if
    /// this process holds them all (`None`: ask the store). A feed
    /// subscriber woken by a commit that does not concern it goes back to
    /// sleep without a query, so a commit costs in proportion to the
    /// subscribers it concerns.
    pub fn concerns(&self, caller: &Caller, after: i64, upto: i64) -> Option<bool> {
        if upto <= after {
            return Some(false);
        }
        let viewer = viewer(caller);
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let mut expected = after + 1;
        let mut concerned = false;
        for (sequence, (_, audience)) in recent.range(after + 1..=upto) {
            if *sequence != expected {
                return None;
            }
            expected += 1;
            concerned |= audience.visible_to(&viewer);
        }
        (expected == upto + 1).then_some(concerned)
    }

    /// Keeps an event just committed for [`Self::all_events`].
    pub(super) fn remember(&self, event: Event, audience: Audience) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.insert(event.sequence, (Arc::new(event), audience));
        while recent.len() > RECENT_EVENTS {
            recent.pop_first();
        }
    }

    /// Moves the log head this process knows on to `sequence`, waking feed
    /// subscribers, unless it is there already (or further).
    pub(super) fn advance_head(&self, sequence: i64) {
        self.head.send_if_modified(|h| {
            let newer = sequence > *h;
            *h = (*h).max(sequence);
            newer
        });
    }

    /// The feed's subscriptions, counted per party.
    pub fn subscriptions(&self) -> &Subscriptions {
        &self.subscriptions
    }

    /// How far the furthest-behind open subscription is from `head`, in
    /// log entries.
    pub fn feed_lag(&self, head: i64) -> i64 {
        self.subscriptions.furthest_behind().map_or(0, |cursor| (head - cursor).max(0))
    }
}
