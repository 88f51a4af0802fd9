//! The Feed at a node (the coordinator's events as the node received them) and `cosx.v1.Node`, where the node stands.
//!
//! Thin handlers: parsing and the write and visibility rules are the
//! edge's and the domain's; never a rule of its own.

use super::*;

/// The Feed at a node: the coordinator's events as the node received them,
/// with the coordinator's sequence numbers, replayed and then followed.
pub struct NodeFeed(pub Arc<Node>);

#[tonic::async_trait]
impl pb::feed_server::Feed for NodeFeed {
    type SubscribeStream = ReceiverStream<Result<pb::Event, Status>>;

    async fn subscribe(
        &self,
        request: Request<pb::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        self.0.authenticate(&request)?;
        let r = request.into_inner();
        if r.after_sequence < 0 {
            let mut v = cosx_domain::Violations::new();
            v.add("after_sequence", "must be >= 0");
            return Err(CoreError::Invalid(v).into());
        }
        let store = self.0.store.clone();
        let mut head = store.watch_events();
        let kinds = cosx_edge::request::KindFilter::new(&r.kinds);
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            let mut cursor = r.after_sequence;
            loop {
                head.borrow_and_update();
                let events = match store.events_after(cursor, 256).await {
                    Ok(events) => events,
                    Err(e) => {
                        let _ = tx.send(Err(e.into())).await;
                        return;
                    }
                };
                let full = events.len() == 256;
                for event in events {
                    cursor = event.sequence;
                    if kinds.admits(event.kind) && tx.send(Ok(event)).await.is_err() {
                        return;
                    }
                }
                if full {
                    continue;
                }
                tokio::select! {
                    changed = head.changed() => if changed.is_err() { return },
                    () = tx.closed() => return,
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// `cosx.v1.Node`: where the node stands.
pub struct NodeStatusService(pub Arc<Node>);

#[tonic::async_trait]
impl pb::node_server::Node for NodeStatusService {
    async fn get_status(&self, request: Request<pb::GetNodeStatusRequest>) -> Result<Response<pb::NodeStatus>, Status> {
        self.0.authenticate(&request)?;
        Ok(Response::new(status(&self.0).await?))
    }

    async fn list_writes(
        &self,
        request: Request<pb::ListWritesRequest>,
    ) -> Result<Response<pb::ListWritesResponse>, Status> {
        self.0.authenticate(&request)?;
        let r = request.into_inner();
        let state = match pb::WriteState::try_from(r.state) {
            Ok(pb::WriteState::Unspecified) => None,
            Ok(pb::WriteState::Queued) => Some(WriteState::Queued),
            Ok(pb::WriteState::Delivered) => Some(WriteState::Delivered),
            Ok(pb::WriteState::Rejected) => Some(WriteState::Rejected),
            Err(_) => {
                let mut v = cosx_domain::Violations::new();
                v.add("state", format!("{} is not a known WriteState value", r.state));
                return Err(CoreError::Invalid(v).into());
            }
        };
        let limit = page_size_of(r.page_size)?;
        let before: i64 = if r.page_token.is_empty() {
            0
        } else {
            r.page_token.parse().map_err(|_| {
                let mut v = cosx_domain::Violations::new();
                v.add("page_token", "is not a token this node issued");
                Status::from(CoreError::Invalid(v))
            })?
        };
        let writes = self.0.store.writes(state, before, limit).await?;
        let next_page_token = if writes.len() == limit as usize {
            writes.last().map(|w| w.sequence.to_string()).unwrap_or_default()
        } else {
            String::new()
        };
        let writes = writes
            .into_iter()
            .map(|w| pb::Write {
                sequence: w.sequence,
                request_id: w.request_id,
                method: w.method.as_str().to_owned(),
                subject: w.subject,
                state: match w.state {
                    WriteState::Queued => pb::WriteState::Queued,
                    WriteState::Delivered => pb::WriteState::Delivered,
                    WriteState::Rejected => pb::WriteState::Rejected,
                } as i32,
                attempts: w.attempts,
                create_time: timestamp(w.create_time),
                error_code: w.error_code.unwrap_or_default(),
                error_message: w.error_message.unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(pb::ListWritesResponse { writes, next_page_token }))
    }
}

/// The node's status, as `Node.GetStatus` and the metrics report it.
pub async fn status(node: &Node) -> Result<pb::NodeStatus, Status> {
    let counts = node.store.counts().await?;
    let sync = node.store.sync_point().await?;
    let (connected, last_error) = node.upstream.health();
    let age = counts.oldest_queued.map_or(0.0, |t| (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0);
    Ok(pb::NodeStatus {
        party: node.party.to_string(),
        upstream: node.upstream.endpoint().to_owned(),
        upstream_connected: connected,
        queued_writes: counts.queued,
        oldest_queued_age_seconds: age,
        rejected_writes: counts.rejected,
        delivered_writes: counts.delivered,
        last_sync_time: sync.last_sync_time.and_then(timestamp),
        synced_sequence: sync.cursor,
        upstream_head: sync.head,
        feed_lag_events: (sync.head - sync.cursor).max(0),
        last_error,
    })
}
