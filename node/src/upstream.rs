//! The node's link to the coordinator: forwards the outbox in order, with
//! retries and backoff, idempotently (each write's request id travels with
//! it); and follows the coordinator's feed from the stored cursor into the
//! replica. Both keep going across outages, restarts and dropped
//! connections: whatever was accepted stays queued until the coordinator
//! has answered it.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cosx_client::code_name;
use cosx_proto::v1 as pb;
use futures::FutureExt;
use prost::Message;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Request, Status};

use super::config::{RetryConfig, UpstreamConfig};
use super::store::{Method, NodeStore, Record, Write};

/// The link: one lazily connected mTLS channel, and what the node last
/// heard over it.
pub struct Upstream {
    channel: Channel,
    endpoint: String,
    retry: RetryConfig,
    connected: AtomicBool,
    last_error: Mutex<String>,
}

/// Reads one PEM file, naming the setting when it cannot.
pub fn read_pem(setting: &str, path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{setting} {}: {e}", path.display()))
}

impl Upstream {
    /// A link that connects on first use and reconnects by itself.
    pub fn new(config: &UpstreamConfig, retry: &RetryConfig) -> anyhow::Result<Upstream> {
        let ca = read_pem("upstream.ca", &config.ca)?;
        let cert = read_pem("upstream.cert", &config.cert)?;
        let key = read_pem("upstream.key", &config.key)?;
        let mut tls =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)).identity(Identity::from_pem(cert, key));
        if let Some(name) = &config.server_name {
            tls = tls.domain_name(name.clone());
        }
        let channel = Endpoint::from_shared(config.endpoint.clone())?
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(10))
            .tls_config(tls)?
            .connect_lazy();
        Ok(Upstream {
            channel,
            endpoint: config.endpoint.clone(),
            retry: retry.clone(),
            connected: AtomicBool::new(false),
            last_error: Mutex::new("not connected yet".into()),
        })
    }

    /// The channel, for calls the node passes through (signals, allocation).
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// The coordinator's address.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether the last call succeeded, and the last error if not.
    pub fn health(&self) -> (bool, String) {
        let connected = self.connected.load(Ordering::Relaxed);
        let error =
            if connected { String::new() } else { self.last_error.lock().map(|e| e.clone()).unwrap_or_default() };
        (connected, error)
    }

    fn heard(&self, outcome: Result<(), &Status>) {
        match outcome {
            Ok(()) => self.connected.store(true, Ordering::Relaxed),
            Err(status) => {
                self.connected.store(false, Ordering::Relaxed);
                if let Ok(mut e) = self.last_error.lock() {
                    *e = format!("{}: {}", code_name(status.code()), status.message());
                }
            }
        }
    }

    /// The wait before attempt `attempts + 1`: exponential, capped, with
    /// jitter so that many nodes do not retry in step.
    fn backoff(&self, attempts: u32) -> Duration {
        let base = self.retry.initial_backoff.saturating_mul(1u32 << attempts.saturating_sub(1).min(16));
        let capped = base.min(self.retry.max_backoff);
        let jitter = std::collections::hash_map::RandomState::new().build_hasher().finish() % 1000;
        capped.mul_f64(0.5 + jitter as f64 / 2000.0)
    }

    fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.set_timeout(self.retry.call_timeout);
        request
    }

    fn exceptions(&self) -> pb::repair_exceptions_client::RepairExceptionsClient<Channel> {
        pb::repair_exceptions_client::RepairExceptionsClient::new(self.channel.clone())
    }

    fn quotes(&self) -> pb::quotes_client::QuotesClient<Channel> {
        pb::quotes_client::QuotesClient::new(self.channel.clone())
    }

    fn comments(&self) -> pb::comments_client::CommentsClient<Channel> {
        pb::comments_client::CommentsClient::new(self.channel.clone())
    }

    fn update_requests(&self) -> pb::update_requests_client::UpdateRequestsClient<Channel> {
        pb::update_requests_client::UpdateRequestsClient::new(self.channel.clone())
    }

    fn disruptions(&self) -> pb::disruptions_client::DisruptionsClient<Channel> {
        pb::disruptions_client::DisruptionsClient::new(self.channel.clone())
    }

    /// Sends one outbox write; the records are what the coordinator answered.
    async fn send(&self, write: &Write) -> Result<Vec<Record>, Status> {
        fn decode<M: Message + Default>(bytes: &[u8]) -> Result<M, Status> {
            M::decode(bytes).map_err(|_| Status::data_loss("the node's outbox holds an unreadable request"))
        }
        let mut exchange = pb::exchange_client::ExchangeClient::new(self.channel.clone());
        let bytes = write.request.as_slice();
        Ok(match write.method {
            Method::CreateRepairOrder => vec![Record::RepairOrder(
                exchange.create_repair_order(self.request(decode(bytes)?)).await?.into_inner(),
            )],
            Method::TransitionRepairOrder => vec![Record::RepairOrder(
                exchange.transition_repair_order(self.request(decode(bytes)?)).await?.into_inner(),
            )],
            Method::SplitRepairOrder => {
                let done = exchange.split_repair_order(self.request(decode(bytes)?)).await?.into_inner();
                done.parent.into_iter().chain(done.parts).map(Record::RepairOrder).collect()
            }
            Method::CreateCapacityOffer => vec![Record::CapacityOffer(
                exchange.create_capacity_offer(self.request(decode(bytes)?)).await?.into_inner(),
            )],
            Method::UpdateCapacityOffer => vec![Record::CapacityOffer(
                exchange.update_capacity_offer(self.request(decode(bytes)?)).await?.into_inner(),
            )],
            Method::WithdrawCapacityOffer => vec![Record::CapacityOffer(
                exchange.withdraw_capacity_offer(self.request(decode(bytes)?)).await?.into_inner(),
            )],
            Method::SubmitAvailabilityReport => vec![Record::AvailabilityReport(
                exchange.submit_availability_report(self.request(decode(bytes)?)).await?.into_inner(),
            )],
            Method::SetAvailabilityTarget => vec![Record::AvailabilityTarget(
                exchange.set_availability_target(self.request(decode(bytes)?)).await?.into_inner(),
            )],
            Method::RaiseException => vec![Record::RepairException(
                self.exceptions().raise_exception(self.request(decode(bytes)?)).await?.into_inner(),
            )],
            Method::AnswerException => vec![Record::RepairException(
                self.exceptions().answer_exception(self.request(decode(bytes)?)).await?.into_inner(),
            )],
            Method::RequestQuotes => {
                let done = self.quotes().request_quotes(self.request(decode(bytes)?)).await?.into_inner();
                done.quotes.into_iter().map(Record::Quote).collect()
            }
            Method::SubmitQuote => {
                vec![Record::Quote(self.quotes().submit_quote(self.request(decode(bytes)?)).await?.into_inner())]
            }
            Method::AcceptQuote => {
                let done = self.quotes().accept_quote(self.request(decode(bytes)?)).await?.into_inner();
                done.quote.map(Record::Quote).into_iter().chain(done.repair_order.map(Record::RepairOrder)).collect()
            }
            Method::AddComment => {
                vec![Record::Comment(self.comments().add_comment(self.request(decode(bytes)?)).await?.into_inner())]
            }
            Method::EditComment => {
                vec![Record::Comment(self.comments().edit_comment(self.request(decode(bytes)?)).await?.into_inner())]
            }
            Method::WithdrawComment => vec![Record::Comment(
                self.comments().withdraw_comment(self.request(decode(bytes)?)).await?.into_inner(),
            )],
            Method::RequestUpdate => vec![Record::UpdateRequest(
                self.update_requests().request_update(self.request(decode(bytes)?)).await?.into_inner(),
            )],
            Method::AnswerUpdateRequest => vec![Record::UpdateRequest(
                self.update_requests().answer_update_request(self.request(decode(bytes)?)).await?.into_inner(),
            )],
            Method::WithdrawUpdateRequest => vec![Record::UpdateRequest(
                self.update_requests().withdraw_update_request(self.request(decode(bytes)?)).await?.into_inner(),
            )],
            Method::DeclareDisruption => vec![Record::Disruption(
                self.disruptions().declare_disruption(self.request(decode(bytes)?)).await?.into_inner(),
            )],
            Method::UpdateDisruption => vec![Record::Disruption(
                self.disruptions().update_disruption(self.request(decode(bytes)?)).await?.into_inner(),
            )],
            Method::ResolveDisruption => vec![Record::Disruption(
                self.disruptions().resolve_disruption(self.request(decode(bytes)?)).await?.into_inner(),
            )],
        })
    }
}

/// Whether a failed forward may succeed later unchanged: the link or the
/// coordinator was down or busy. Anything else is the coordinator's answer
/// about the write itself, and is final.
fn worth_retrying(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Unknown
            | Code::Internal
            | Code::Cancelled
    )
}

/// Writes sent to the coordinator at once, at most (see `forward`): enough
/// for the coordinator to commit them together. The window halves after a
/// round with a failure, down to one, so a link that cuts every connection
/// within 20–320 ms (`tests/tests/e2e/node`) still gets rounds that finish.
const WINDOW: u32 = 64;

/// What became of one forwarded write.
enum Outcome {
    Delivered(Vec<Record>),
    Refused(Status),
    Failed(Status),
}

/// Forwards the outbox until the process ends, oldest writes first. Writes
/// to different records go out together (up to [`WINDOW`]); a write waits
/// for every earlier queued write that touches one of its records, so each
/// record's writes reach the coordinator in the order they were accepted.
/// A write that fails for a reason worth retrying holds back the later
/// writes to its records until it goes through.
pub async fn forward(store: Arc<NodeStore>, upstream: Arc<Upstream>) {
    // Halved after a round with failures, doubled after a clean one: a flaky
    // link that cuts connections gets small rounds that can finish in time.
    let mut window = WINDOW;
    loop {
        let queued = match store.queued(window).await {
            Ok(queued) => queued,
            Err(e) => {
                tracing::error!(error = %e, "reading the outbox");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if queued.is_empty() {
            tokio::select! {
                () = store.queued_notify().notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            continue;
        }
        // This round: each write none of whose records an earlier queued write touches.
        let mut touched = std::collections::HashSet::new();
        let mut round = Vec::new();
        for (write, subjects) in queued {
            if subjects.iter().all(|s| !touched.contains(s)) {
                round.push(write);
            }
            touched.extend(subjects);
        }
        let outcomes = futures::future::join_all(round.iter().map(|w| async {
            match upstream.send(w).await {
                Ok(records) => Outcome::Delivered(records),
                Err(status) if worth_retrying(status.code()) => Outcome::Failed(status),
                Err(status) => Outcome::Refused(status),
            }
        }))
        .await;
        let failed = outcomes.iter().any(|o| matches!(o, Outcome::Failed(_)));
        window = if failed { (window / 2).max(1) } else { (window * 2).min(WINDOW) };
        if let Err(e) = settle(&store, &upstream, round, outcomes).await {
            tracing::error!(error = %e, "recording forwarded writes");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Records a round's outcomes; waits out the backoff if any write failed.
async fn settle(
    store: &NodeStore,
    upstream: &Upstream,
    round: Vec<Write>,
    outcomes: Vec<Outcome>,
) -> Result<(), super::store::NodeStoreError> {
    let mut delivered = Vec::new();
    let mut backoff = None;
    for (write, outcome) in round.into_iter().zip(outcomes) {
        match outcome {
            Outcome::Delivered(records) => {
                upstream.heard(Ok(()));
                delivered.push((write.sequence, records));
            }
            Outcome::Refused(status) => {
                upstream.heard(Ok(()));
                tracing::warn!(request_id = %write.request_id, subject = %write.subject, %status, "coordinator refused a write");
                store.rejected(write.sequence, code_name(status.code()), status.message()).await?;
            }
            Outcome::Failed(status) => {
                upstream.heard(Err(&status));
                let attempts = store.attempt_failed(write.sequence, code_name(status.code()), status.message()).await?;
                if upstream.retry.max_attempts > 0 && attempts >= upstream.retry.max_attempts {
                    let message = format!("gave up after {attempts} attempts; last: {}", status.message());
                    store.rejected(write.sequence, code_name(status.code()), &message).await?;
                } else {
                    tracing::debug!(request_id = %write.request_id, attempts, %status, "forward failed; will retry");
                    backoff = backoff.max(Some(attempts));
                }
            }
        }
    }
    store.delivered(&delivered).await?;
    if let Some(attempts) = backoff {
        tokio::time::sleep(upstream.backoff(attempts)).await;
    }
    Ok(())
}

/// Events applied per transaction at most.
const BATCH: usize = 256;
/// A feed that says nothing for this long is taken as dead (the coordinator
/// sends a checkpoint at least every 5 s).
const SILENCE: Duration = Duration::from_secs(20);

/// Follows the coordinator's feed into the replica until the process ends,
/// resuming after the stored cursor on every reconnect.
pub async fn follow(store: Arc<NodeStore>, upstream: Arc<Upstream>) {
    let mut failures = 0u32;
    loop {
        match follow_once(&store, &upstream).await {
            Ok(()) => failures = 0,
            Err(status) => {
                upstream.heard(Err(&status));
                failures = failures.saturating_add(1);
                tracing::debug!(%status, "feed from the coordinator interrupted");
            }
        }
        tokio::time::sleep(upstream.backoff(failures.max(1))).await;
    }
}

async fn follow_once(store: &NodeStore, upstream: &Upstream) -> Result<(), Status> {
    let cursor = store.sync_point().await?.cursor;
    let mut feed = pb::feed_client::FeedClient::new(upstream.channel());
    let request = pb::SubscribeRequest { after_sequence: cursor, kinds: vec![], checkpoints: true };
    let mut stream = feed.subscribe(request).await?.into_inner();
    upstream.heard(Ok(()));
    loop {
        let first = match tokio::time::timeout(SILENCE, stream.message()).await {
            Ok(next) => next?,
            Err(_) => return Err(Status::deadline_exceeded("the coordinator's feed went silent")),
        };
        let Some(first) = first else {
            return Ok(());
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match stream.message().now_or_never() {
                Some(Ok(Some(event))) => batch.push(event),
                Some(Err(status)) => {
                    apply(store, &batch).await?;
                    return Err(status);
                }
                Some(Ok(None)) | None => break,
            }
        }
        apply(store, &batch).await?;
        upstream.heard(Ok(()));
    }
}

async fn apply(store: &NodeStore, batch: &[pb::Event]) -> Result<(), Status> {
    let checkpoint = pb::EventKind::Checkpoint as i32;
    let events: Vec<pb::Event> = batch.iter().filter(|e| e.kind != checkpoint).cloned().collect();
    store.apply_events(&events).await?;
    if let Some(last) = batch.iter().rev().find(|e| e.kind == checkpoint) {
        let as_of = last
            .time
            .as_ref()
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
            .unwrap_or_else(chrono::Utc::now);
        store.checkpoint(last.sequence, as_of).await?;
    }
    Ok(())
}
