//! Comments at a node: adding, editing and withdrawing are checked with
//! the coordinator's parsing and rules (`cosx_domain::comments`, through
//! `local`) against the replica, stored in the outbox and answered; each
//! is forwarded once, with its request id, after the node's earlier writes
//! to the commented record. Reading passes through.
//!
//! A comment has no visibility rule of its own: every write first reads
//! the commented record from the replica as the party may see it (the
//! coordinator's `may_see`), so a comment on a record the party cannot see
//! is NOT_FOUND here as it is there, and nothing is queued. A demand cell
//! is no record the replica holds: its rule (`DemandCell::visible_to`,
//! coordinators) is applied to the node's party. A new comment is named
//! from its request id (`records::named_by_request`), as the coordinator
//! names it. What the coordinator refuses shows in `Node.ListWrites` (and,
//! for a new comment, on the commented record it was ordered after).
//!
//! Thin handlers: never a rule of their own.

use cosx_domain::comments::{DemandCell, RecordRef};
use cosx_edge::convert::{comment_content_in, comment_name_in, comment_parent_in};

use super::*;

/// Comments at a node.
pub struct NodeComments(pub Arc<Node>);

type CommentsUpstream = pb::comments_client::CommentsClient<tonic::transport::Channel>;

impl NodeComments {
    /// Refuses, as NOT_FOUND `name`, a comment write about `record` when
    /// the party may not see it (or the replica does not hold it).
    async fn check_record(&self, record: &RecordRef, name: &str) -> Result<(), Status> {
        let n = &self.0;
        let visible = match record {
            RecordRef::DemandCells(_) => n.me().await?.is_some_and(|me| DemandCell::visible_to(&me)),
            _ => n.view(record.name()).await.is_ok(),
        };
        if visible { Ok(()) } else { Err(missing(name)) }
    }

    /// Edits (`body`) or withdraws (`None`) the comment `name`.
    #[allow(clippy::too_many_arguments)]
    async fn change(
        &self,
        name: &str,
        version: i64,
        body: Option<cosx_domain::comments::CommentBody>,
        request_id: &str,
        hash: &str,
        method: Method,
        up: Vec<u8>,
    ) -> Result<pb::Comment, Status> {
        let n = &self.0;
        let mut v = Violations::new();
        let parsed = comment_name_in(&mut v, "name", name);
        let (record, subject) = valid(v, parsed)?;
        self.check_record(&record, &subject).await?;
        let next = |comment| local::changed_comment(&comment, &n.party, version, body, Utc::now());
        n.replace((request_id, hash), &subject, method, up, next).await
    }
}

#[tonic::async_trait]
impl pb::comments_server::Comments for NodeComments {
    async fn add_comment(&self, request: Request<pb::AddCommentRequest>) -> Result<Response<pb::Comment>, Status> {
        let n = &self.0;
        let (r, request_id, hash) = n.admit_write(request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let record = comment_parent_in(&mut v, &r.parent, &r.demand_cell);
        let body = comment_content_in(&mut v, "content", &r.content);
        let (record, body) = valid(v, record.zip(body))?;
        self.check_record(&record, &record.name()).await?;
        // Named as the coordinator will name it, from the request id that travels with it.
        let name = cosx_domain::records::named_by_request(&n.party, &request_id, new_id);
        let comment = local::added_comment(record.clone(), &name, &n.party, body, Utc::now());
        let subject = comment.name.clone();
        let up = pb::AddCommentRequest { request_id: request_id.clone(), ..r };
        let ordered_by = after_writes_to(&record);
        let added = n
            .create((&request_id, &hash), &subject, Method::AddComment, up.encode_to_vec(), comment, ordered_by)
            .await?;
        Ok(Response::new(added))
    }

    async fn edit_comment(&self, request: Request<pb::EditCommentRequest>) -> Result<Response<pb::Comment>, Status> {
        let n = &self.0;
        let (r, request_id, hash) = n.admit_write(request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let body = comment_content_in(&mut v, "content", &r.content);
        version_in(&mut v, "version", r.version, "comment");
        let body = valid(v, body)?;
        let up = pb::EditCommentRequest { request_id: request_id.clone(), ..r.clone() };
        let edited = self
            .change(&r.name, r.version, Some(body), &request_id, &hash, Method::EditComment, up.encode_to_vec())
            .await?;
        Ok(Response::new(edited))
    }

    async fn withdraw_comment(
        &self,
        request: Request<pb::WithdrawCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        let n = &self.0;
        let (r, request_id, hash) = n.admit_write(request, |r| &r.request_id)?;
        let mut v = Violations::new();
        version_in(&mut v, "version", r.version, "comment");
        valid(v, Some(()))?;
        let up = pb::WithdrawCommentRequest { request_id: request_id.clone(), ..r.clone() };
        let withdrawn = self
            .change(&r.name, r.version, None, &request_id, &hash, Method::WithdrawComment, up.encode_to_vec())
            .await?;
        Ok(Response::new(withdrawn))
    }

    async fn get_comment(&self, request: Request<pb::GetCommentRequest>) -> Result<Response<pb::Comment>, Status> {
        pass_through!(self, request, CommentsUpstream, get_comment)
    }

    async fn list_comments(
        &self,
        request: Request<pb::ListCommentsRequest>,
    ) -> Result<Response<pb::ListCommentsResponse>, Status> {
        pass_through!(self, request, CommentsUpstream, list_comments)
    }
}
