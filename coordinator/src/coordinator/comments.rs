//! Comments on repair orders, capacity offers, availability reports and
//! (coordinators only) demand cells: adding, editing (a new version),
//! withdrawing, reading and listing them.
//!
//! Part of the core. A comment has no visibility rule of its own: every
//! step first reads the commented record through that record's own read
//! path (`get_order`, `get_offer`, `get_report`, i.e. `may_see` and the
//! store's `VISIBLE`), so a comment is shown exactly to those who may see
//! its record, and a record the caller may not see answers NOT_FOUND just
//! as reading it would. A demand cell is no record: its rule is
//! `DemandCell::visible_to` (coordinators), and to anyone else it answers
//! NOT_FOUND exactly as a hidden record does. Never touches protobuf.

use cosx_domain::comments::{self, Comment, CommentBody, CommentState, Commented, DemandCell, RecordRef};

use super::*;

fn comment_write(c: &Comment, expected_version: Option<i64>, audience: Audience) -> Result<RecordWrite> {
    Ok(RecordWrite {
        kind: RecordKind::Comment,
        id: c.id.clone(),
        expected_version,
        version: c.version,
        audience,
        state: Some(c.state.as_str().to_owned()),
        tms: None,
        region: None,
        natural_key: None,
        supersedes: None,
        body: to_json(c)?,
    })
}

impl Coordinator {
    /// Reads `record` as the caller (NOT_FOUND exactly as reading it would
    /// be) and answers who may see it now, in the store's form: the audience
    /// its own write gives it. A comment's row and event carry it.
    pub(super) async fn commented_record(&self, caller: &Caller, record: &RecordRef) -> Result<Audience> {
        Ok(match record {
            RecordRef::RepairOrders(id) => order_write(&self.get_order(caller, id).await?, None)?.audience,
            RecordRef::CapacityOffers(id) => offer_write(&self.get_offer(caller, id).await?, None)?.audience,
            RecordRef::AvailabilityReports(id) => {
                let r = self.get_report(caller, id).await?;
                audience(&r.draft.reporter, None, &r.draft.releasability)
            }
            RecordRef::DemandCells(_) => {
                if !DemandCell::visible_to(&caller.party) {
                    return Err(CoreError::NotFound(record.name()));
                }
                // Coordinators only: the exchange's own audience.
                Audience { owner: SYSTEM_ACTOR.to_owned(), ..Audience::default() }
            }
        })
    }

    /// The record's audience, with a hidden record answered as the comment
    /// `name` not existing (a comment on a record one may not see is as
    /// absent as a comment that was never written).
    async fn comment_scope(&self, caller: &Caller, record: &RecordRef, name: &str) -> Result<Audience> {
        match self.commented_record(caller, record).await {
            Err(CoreError::NotFound(_)) => Err(CoreError::NotFound(name.to_owned())),
            other => other,
        }
    }

    /// Comments on a record the caller may see.
    pub async fn add_comment(
        &self,
        caller: &Caller,
        record: RecordRef,
        body: CommentBody,
        key: &RequestKey,
    ) -> Result<Comment> {
        if let Some(done) = self.replay(caller, key).await? {
            return Ok(done);
        }
        let audience = self.commented_record(caller, &record).await?;
        let time = now();
        let name = cosx_domain::records::named_by_request(caller.id(), &key.request_id, new_id);
        let comment = Comment::written(record, &name, caller.id(), body, time);
        self.commit_comment(caller, key, comment, None, audience, "COMMENT_ADDED").await
    }

    async fn commit_comment(
        &self,
        caller: &Caller,
        key: &RequestKey,
        comment: Comment,
        expected: Option<i64>,
        audience: Audience,
        kind: &'static str,
    ) -> Result<Comment> {
        let time = comment.update_time;
        let change = Change {
            records: vec![comment_write(&comment, expected, audience.clone())?],
            transitions: vec![],
            kind,
            subject: comment.id.clone(),
            audience,
            content: EventContent::Comment { comment: comment.clone() },
            time,
        };
        Ok(self.commit(caller, key, change, &comment).await?.unwrap_or(comment))
    }

    /// One comment (`id` is its resource name), if the caller may see its record.
    pub async fn get_comment(&self, caller: &Caller, record: &RecordRef, id: &str) -> Result<Comment> {
        self.comment_scope(caller, record, id).await?;
        self.stored_comment(id).await
    }

    async fn stored_comment(&self, id: &str) -> Result<Comment> {
        self.store
            .record(RecordKind::Comment, id)
            .await?
            .map(|b| from_json(&b))
            .transpose()?
            .ok_or_else(|| CoreError::NotFound(id.to_owned()))
    }

    /// A page of the comments a listing covers, oldest first: on a record,
    /// NOT_FOUND exactly when reading the record is; on a demand cell or a
    /// series of them, NOT_FOUND to anyone but a coordinator.
    pub async fn list_comments(
        &self,
        caller: &Caller,
        listing: &Commented,
        include_withdrawn: bool,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<Comment>> {
        match listing {
            Commented::Record(record) => {
                self.commented_record(caller, record).await?;
            }
            Commented::CellSeries { region, tms_or_family } => {
                if !DemandCell::visible_to(&caller.party) {
                    return Err(CoreError::NotFound(format!("demandCells/{}.*.*.{tms_or_family}", region.as_str())));
                }
            }
        }
        let filter = RecordFilter {
            id_prefix: Some(listing.id_prefix()),
            state: (!include_withdrawn).then(|| CommentState::Active.as_str().to_owned()),
            ..RecordFilter::default()
        };
        // The record's read path (or the cell's rule) has decided: every
        // comment the listing covers is shown. A series reads its region's
        // cells and keeps its own (a page may then hold fewer than asked).
        let mut page = self.list_as(RecordKind::Comment, &system_viewer(), &filter, page_size, page_token).await?;
        page.items.retain(|c| listing.covers(c));
        Ok(page)
    }

    /// The author edits a comment: a new version, the current one kept.
    pub async fn edit_comment(
        &self,
        caller: &Caller,
        record: &RecordRef,
        id: &str,
        version: i64,
        body: CommentBody,
        key: &RequestKey,
    ) -> Result<Comment> {
        let edit = |c: &Comment, by: &PartyId, time| comments::edit(c, by, body, time);
        self.change_comment(caller, record, id, version, key, "COMMENT_EDITED", edit).await
    }

    /// The author withdraws a comment (kept, marked WITHDRAWN).
    pub async fn withdraw_comment(
        &self,
        caller: &Caller,
        record: &RecordRef,
        id: &str,
        version: i64,
        key: &RequestKey,
    ) -> Result<Comment> {
        self.change_comment(caller, record, id, version, key, "COMMENT_WITHDRAWN", comments::withdraw).await
    }

    /// The author's change `step` (edit or withdraw) of comment `id` at
    /// `version`, committed as a `kind` event to those who may see it.
    #[allow(clippy::too_many_arguments)]
    async fn change_comment(
        &self,
        caller: &Caller,
        record: &RecordRef,
        id: &str,
        version: i64,
        key: &RequestKey,
        kind: &'static str,
        step: impl FnOnce(&Comment, &PartyId, DateTime<Utc>) -> std::result::Result<Comment, comments::CommentError>,
    ) -> Result<Comment> {
        if let Some(done) = self.replay(caller, key).await? {
            return Ok(done);
        }
        let audience = self.comment_scope(caller, record, id).await?;
        let comment = self.stored_comment(id).await?;
        CoreError::check_version(id, comment.version, version)?;
        let next = step(&comment, caller.id(), now()).map_err(|e| comment_error(id, e))?;
        self.commit_comment(caller, key, next, Some(version), audience, kind).await
    }
}
