//! `cosx.v1.Feed`: replay from a sequence, then follow live events.
//!
//! Each subscriber pulls from the log in pages from its own cursor, so a slow
//! subscriber costs one bounded channel and a cursor, never a growing queue:
//! when it stops reading, its task waits. New commits only wake it. A party
//! suspended while subscribed is cut off. When the server shuts down, each
//! stream ends with `UNAVAILABLE` naming the sequence to resume after.
//! Subscribers served from memory run side by side; those that must read
//! the store take turns ([`STORE_READERS`] at a time), so a thousand
//! subscribers reconnecting at once queue here instead of starving the
//! store's pool for every other call.
//!
//! An event's wire form is the same for everyone who may see it
//! ([`event_out`] reads the event alone), so each event is encoded once
//! and its frame shared by every subscriber it is sent to ([`Frames`]);
//! who receives it is still decided per subscriber, by the core.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use cosx_proto::v1 as pb;
use prost::Message;
use prost::bytes::Bytes;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::codegen::http;
use tonic::{Request, Response, Status};

use super::alerts::*;
use super::authenticate;
use super::convert::*;
use super::encoded::{self, RouteFuture};
use crate::coordinator::{Coordinator, Event, EventContent};

/// The Feed service: the core, a flag that turns true when the server
/// begins shutting down, and how many subscriptions one party may hold.
pub struct FeedService {
    core: Arc<Coordinator>,
    closing: watch::Receiver<bool>,
    max_per_party: usize,
    store_readers: Arc<Semaphore>,
    frames: Arc<Frames>,
}

impl FeedService {
    /// The service over `core`, ending streams when `closing` turns true.
    pub fn new(core: Arc<Coordinator>, closing: watch::Receiver<bool>, max_per_party: usize) -> Self {
        FeedService {
            core,
            closing,
            max_per_party,
            store_readers: Arc::new(Semaphore::new(STORE_READERS)),
            frames: Arc::new(Frames::default()),
        }
    }
}

/// The latest events encoded, by sequence: a sequence names one event of
/// the append-only log, so its frame never changes. At most [`FRAMES`].
#[derive(Default)]
struct Frames {
    kept: Mutex<BTreeMap<i64, Bytes>>,
}

impl Frames {
    /// `e` encoded as a `pb::Event`, once for every subscriber it goes to.
    fn of(&self, e: &Event) -> Bytes {
        if let Some(frame) = self.kept.lock().unwrap_or_else(PoisonError::into_inner).get(&e.sequence) {
            return frame.clone();
        }
        let frame = Bytes::from(event_out(e).encode_to_vec());
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.insert(e.sequence, frame.clone());
        while kept.len() > FRAMES {
            kept.pop_first();
        }
        frame
    }
}

/// The status a stream ends with at shutdown: resumable from `cursor`.
fn shutting_down(cursor: i64) -> Status {
    Status::unavailable(format!("server shutting down; resume from sequence {cursor}"))
}

/// Events fetched from the log per page.
const PAGE: u32 = 256;
/// Checkpoints go out this often to subscribers that ask (and at once after
/// events of their own): a heartbeat on a fixed clock, so their timing says
/// nothing about other parties' commits.
const HEARTBEAT: Duration = Duration::from_millis(250);
/// Subscribers reading the store at once, at most (a quarter of the
/// SQLite pool, a fraction of PostgreSQL's).
const STORE_READERS: usize = 2;
/// Events buffered per subscriber.
const BUFFER: usize = 64;
/// Encoded events kept for subscribers that follow live (about 1 kB each).
const FRAMES: usize = 4096;

fn kind_of(kind: &str) -> pb::EventKind {
    pb::EventKind::from_str_name(&format!("EVENT_KIND_{kind}")).unwrap_or(pb::EventKind::Unspecified)
}

/// An event for a subscriber.
pub(crate) fn event_out(e: &Event) -> pb::Event {
    use pb::event::Subject;
    let mut out = pb::Event {
        sequence: e.sequence,
        time: timestamp(e.time),
        kind: kind_of(&e.kind) as i32,
        actor: e.actor.clone(),
        subject: None,
        transition: None,
        split_parts: vec![],
        accepted_quote: None,
        repair_exception: None,
    };
    match &e.content {
        EventContent::RepairOrder { order, transition, quote, exception } => {
            out.subject = Some(Subject::RepairOrder(repair_order_out(order)));
            out.transition = transition.as_ref().map(|t| transition_out(t, e.sequence));
            out.accepted_quote = quote.as_deref().map(quote_out);
            out.repair_exception = exception.as_deref().map(exception_out);
        }
        EventContent::Quote { quote } => out.subject = Some(Subject::Quote(quote_out(quote))),
        EventContent::QuoteRelease { order } => out.subject = Some(Subject::RepairOrder(repair_order_out(order))),
        EventContent::Comment { comment } => out.subject = Some(Subject::Comment(comment_out(comment))),
        EventContent::UpdateRequest { request } => {
            out.subject = Some(Subject::UpdateRequest(update_request_out(request)))
        }
        EventContent::Disruption { disruption } => out.subject = Some(Subject::Disruption(disruption_out(disruption))),
        EventContent::Split { parent, parts } => {
            out.subject = Some(Subject::RepairOrder(repair_order_out(parent)));
            out.split_parts = parts.iter().map(repair_order_out).collect();
        }
        EventContent::CapacityOffer { offer } => out.subject = Some(Subject::CapacityOffer(capacity_offer_out(offer))),
        EventContent::AvailabilityReport { report } => {
            out.subject = Some(Subject::AvailabilityReport(availability_report_out(report)))
        }
        EventContent::Party { party } => out.subject = Some(Subject::Party(party_out(party, 0))),
        EventContent::DepotBaseline { .. } => {}
        EventContent::AvailabilityTarget { target } => {
            out.subject = Some(Subject::AvailabilityTarget(availability_target_out(target)))
        }
        EventContent::Bottleneck { alert } => out.subject = Some(Subject::BottleneckAlert(bottleneck_alert_out(alert))),
        EventContent::WorkloadBalance { alert } => out.subject = Some(Subject::BalanceAlert(balance_alert_out(alert))),
    }
    out
}

/// A subscription's stream: encoded `pb::Event`s.
type Subscription = ReceiverStream<Result<Bytes, Status>>;

impl FeedService {
    /// `Feed.Subscribe` for the caller of `request`.
    async fn subscribe(&self, request: Request<pb::SubscribeRequest>) -> Result<Response<Subscription>, Status> {
        let caller = authenticate(&self.core, &request)?;
        let r = request.into_inner();
        if r.after_sequence < 0 {
            let mut v = cosx_domain::Violations::new();
            v.add("after_sequence", "must be >= 0");
            return Err(crate::coordinator::CoreError::Invalid(v).into());
        }
        let kinds = cosx_edge::request::KindFilter::new(&r.kinds);
        let checkpoints = r.checkpoints;
        let core = self.core.clone();
        // Refused here, before the stream starts, when the party holds its share.
        let subscription = core.subscriptions().open(caller.id(), r.after_sequence, self.max_per_party)?;
        let (tx, rx) = mpsc::channel(BUFFER);
        let mut head = core.watch_head();
        let mut closing = self.closing.clone();
        let store_readers = self.store_readers.clone();
        let frames = self.frames.clone();
        tokio::spawn(async move {
            let mut cursor = r.after_sequence;
            // Everything up to here has been read for this subscriber: the
            // next query starts here, so a wake costs the new entries only.
            let mut scanned = cursor;
            let mut checkpointed = cursor;
            // The first checkpoint goes out as soon as the subscriber is caught up.
            let mut last_checkpoint =
                tokio::time::Instant::now().checked_sub(HEARTBEAT).unwrap_or_else(tokio::time::Instant::now);
            loop {
                // The flag turned, or the server that owned it is gone.
                if *closing.borrow() || closing.has_changed().is_err() {
                    let _ = tx.send(Err(shutting_down(cursor))).await;
                    return;
                }
                if !core.still_admitted(&caller) {
                    let _ =
                        tx.send(Err(Status::permission_denied(format!("party {} is suspended", caller.id())))).await;
                    return;
                }
                // Every event up to this head that the caller may see is in the
                // pages read from here on; every commit acknowledged before
                // `caught_up_at` is at or below it (the head moves before a
                // commit is answered).
                let caught_up_at = chrono::Utc::now();
                let head_before = *head.borrow_and_update();
                let concerns = core.concerns(&caller, scanned, head_before);
                // Memory does not hold what follows `scanned`: wait for a turn at the store.
                let turn = match concerns {
                    None => match store_readers.clone().acquire_owned().await {
                        Ok(permit) => Some(permit),
                        Err(_) => return,
                    },
                    Some(_) => None,
                };
                let events = match concerns {
                    // Nothing new concerns this subscriber: no query at all.
                    Some(false) => Vec::new(),
                    _ => match core.events(&caller, scanned, PAGE).await {
                        Ok(events) => events,
                        Err(e) => {
                            let _ = tx.send(Err(e.into())).await;
                            return;
                        }
                    },
                };
                drop(turn);
                let full_page = events.len() == PAGE as usize;
                for e in &events {
                    if kinds.admits(kind_of(&e.kind) as i32) {
                        let frame = frames.of(e);
                        // A subscriber that stops reading must not hold up shutdown.
                        tokio::select! {
                            sent = tx.send(Ok(frame)) => if sent.is_err() { return },
                            _ = closing.wait_for(|c| *c) => {
                                let _ = tx.try_send(Err(shutting_down(cursor)));
                                return;
                            }
                        }
                    }
                    cursor = e.sequence;
                }
                scanned = if full_page { cursor } else { cursor.max(head_before) };
                subscription.advanced(scanned);
                if full_page {
                    continue;
                }
                // A checkpoint says "you have everything you may see, as of
                // this time": it carries the subscriber's own cursor (never
                // the log head, which would count other parties' commits) and
                // the time the head was read. It goes out after events of the
                // subscriber's own, and otherwise on the heartbeat.
                let due = last_checkpoint.elapsed() >= HEARTBEAT;
                if checkpoints && (cursor > checkpointed || due) {
                    checkpointed = cursor;
                    last_checkpoint = tokio::time::Instant::now();
                    let checkpoint = pb::Event {
                        sequence: cursor,
                        time: timestamp(caught_up_at),
                        kind: pb::EventKind::Checkpoint as i32,
                        ..pb::Event::default()
                    };
                    if tx.send(Ok(Bytes::from(checkpoint.encode_to_vec()))).await.is_err() {
                        return;
                    }
                }
                // Caught up: wait for a commit or the heartbeat, re-checking admission now and then.
                let wait = if checkpoints {
                    HEARTBEAT.saturating_sub(last_checkpoint.elapsed())
                } else {
                    Duration::from_secs(1)
                };
                tokio::select! {
                    changed = head.changed() => if changed.is_err() { return },
                    _ = tokio::time::sleep(wait) => {}
                    _ = tx.closed() => return,
                    _ = closing.wait_for(|c| *c) => {}
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// The routes of `cosx.v1.Feed`: `Subscribe` answers with frames encoded
/// once per event ([`encoded`]), decoding its request as the generated
/// server would.
#[derive(Clone)]
pub struct FeedRoutes {
    service: Arc<FeedService>,
    max_decoding_message_size: usize,
}

impl FeedRoutes {
    /// The routes of `service`, refusing requests over `max_decoding_message_size` bytes.
    pub fn new(service: FeedService, max_decoding_message_size: usize) -> Self {
        FeedRoutes { service: Arc::new(service), max_decoding_message_size }
    }
}

impl tonic::server::NamedService for FeedRoutes {
    const NAME: &'static str = pb::feed_server::SERVICE_NAME;
}

impl tonic::codegen::Service<http::Request<tonic::body::Body>> for FeedRoutes {
    type Response = http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = RouteFuture;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: http::Request<tonic::body::Body>) -> Self::Future {
        if request.uri().path() != "/cosx.v1.Feed/Subscribe" {
            return Box::pin(async { Ok(Status::unimplemented("cosx.v1.Feed has no such method").into_http()) });
        }
        let mut grpc = encoded::server::<pb::SubscribeRequest>(
            &mut request,
            pb::feed_server::SERVICE_NAME,
            "Subscribe",
            self.max_decoding_message_size,
        );
        let method = EncodedSubscribe(self.service.clone());
        Box::pin(async move { Ok(grpc.server_streaming(method, request).await) })
    }
}

/// `Subscribe`, streaming encoded events.
struct EncodedSubscribe(Arc<FeedService>);

impl tonic::server::ServerStreamingService<pb::SubscribeRequest> for EncodedSubscribe {
    type Response = Bytes;
    type ResponseStream = Subscription;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<Subscription>, Status>> + Send>>;

    fn call(&mut self, request: Request<pb::SubscribeRequest>) -> Self::Future {
        let service = self.0.clone();
        Box::pin(async move { service.subscribe(request).await })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use cosx_domain::MilitaryDepartment;
    use cosx_domain::records::DepotBaseline;

    use super::*;

    fn event(sequence: i64, actor: &str) -> Event {
        let baseline = DepotBaseline {
            id: format!("b{sequence}"),
            department: MilitaryDepartment::AirForce,
            fiscal_year: 2027,
            organic_cents: sequence,
            contract_cents: 0,
            organic_hours: 0.0,
            contract_hours: 0.0,
            version: 1,
        };
        Event {
            sequence,
            time: chrono::DateTime::from_timestamp(1_800_000_000 + sequence, 0).unwrap(),
            kind: "DEPOT_BASELINE_SET".into(),
            actor: actor.into(),
            content: EventContent::DepotBaseline { baseline },
        }
    }

    /// A frame is the event's own encoding, made once; the latest events
    /// stay kept, and an old event replayed from the store does not push
    /// them out.
    #[test]
    fn a_frame_is_the_events_encoding_and_the_latest_stay_kept() {
        let frames = Frames::default();
        for sequence in 1..=(FRAMES as i64 + 10) {
            let e = event(sequence, "US-USAF-OOALC");
            assert_eq!(frames.of(&e), event_out(&e).encode_to_vec());
        }
        let kept = || frames.kept.lock().unwrap().keys().copied().collect::<Vec<i64>>();
        assert_eq!(kept().len(), FRAMES);
        assert_eq!(kept().first(), Some(&11));
        let replayed = event(3, "US-USAF-OOALC");
        assert_eq!(frames.of(&replayed), event_out(&replayed).encode_to_vec());
        assert_eq!(kept().first(), Some(&11), "a replayed event does not evict a live one");
        // A kept event asked for again is the frame already made, not a new encoding.
        let e = event(FRAMES as i64, "US-USAF-OOALC");
        assert_eq!(frames.of(&e).as_ptr(), frames.of(&e).as_ptr());
    }
}
