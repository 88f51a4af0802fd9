//! Admission control for every call, as one tower layer in front of all
//! services, in this order: the caller's certificate must name a party the
//! program admits (registered and not suspended; `PERMISSION_DENIED`
//! otherwise, before anything is held); a per-caller token bucket
//! (`RESOURCE_EXHAUSTED` with a `google.rpc.RetryInfo` hint); a cap on the
//! calls one party has in flight and a process-wide cap, both shedding at
//! once (`RESOURCE_EXHAUSTED`, never a queue); a maximum request message
//! size per method (`OUT_OF_RANGE`); a time limit for each request message
//! to arrive (`DEADLINE_EXCEEDED`), so a call that never sends its body
//! frees its slot; and the caller's deadline (`grpc-timeout`, answered with
//! `DEADLINE_EXCEEDED` and the handler dropped).
//!
//! It decides from the request line, the verified peer certificate and the
//! gRPC frame headers only: it never decodes a message, touches the store,
//! or knows what a method does. Whom to admit is the program's answer
//! ([`Admit`]), asked here so that every method inherits it.

use std::collections::{BTreeMap, HashMap};
use std::future::Future as _;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tonic::body::Body;
use tonic::codegen::{Bytes, Service, http};
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::config::Limits;

/// Whether the party a certificate names may be served at all (the
/// coordinator: registered and not suspended; a node: its own party), and
/// if not, why (the `PERMISSION_DENIED` message).
pub type Admit = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// What every call is admitted against; shared by all connections.
struct Shared {
    admit: Admit,
    calls: Arc<tokio::sync::Semaphore>,
    max_calls: usize,
    per_party_calls: Mutex<HashMap<String, usize>>,
    max_calls_per_party: usize,
    message_timeout: Duration,
    buckets: Mutex<HashMap<String, Bucket>>,
    rate: f64,
    burst: f64,
    max_message_bytes: usize,
    per_method: BTreeMap<String, usize>,
    trust_domain: String,
}

/// A token bucket: `burst` calls at once, refilled at `rate` per second.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// Takes one token, or says how long until one is available.
    fn take(&mut self, now: Instant, rate: f64, burst: f64) -> Result<(), Duration> {
        self.tokens = (self.tokens + now.saturating_duration_since(self.last).as_secs_f64() * rate).min(burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / rate))
        }
    }
}

/// Buckets kept before idle, full ones are forgotten.
const MAX_BUCKETS: usize = 4096;

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("max_calls", &self.max_calls).finish_non_exhaustive()
    }
}

/// One of a party's calls in flight; counted down when the call ends.
struct PartySlot {
    shared: Arc<Shared>,
    key: String,
}

impl Drop for PartySlot {
    fn drop(&mut self) {
        let mut calls = self.shared.per_party_calls.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = calls.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                calls.remove(&self.key);
            }
        }
    }
}

impl Shared {
    /// Takes one of `key`'s call slots, if it has one left.
    fn take_party_slot(self: &Arc<Self>, key: &str) -> Option<PartySlot> {
        let mut calls = self.per_party_calls.lock().unwrap_or_else(|e| e.into_inner());
        let n = calls.entry(key.to_owned()).or_insert(0);
        if *n >= self.max_calls_per_party {
            return None;
        }
        *n += 1;
        Some(PartySlot { shared: self.clone(), key: key.to_owned() })
    }

    fn take_token(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate < burst);
        }
        buckets
            .entry(key.to_owned())
            .or_insert(Bucket { tokens: self.burst, last: now })
            .take(now, self.rate, self.burst)
    }

    /// The largest request message `path` accepts: its own entry, else its
    /// service's (`/pkg.Service/`), else the default.
    fn max_message_bytes(&self, path: &str) -> usize {
        if let Some(&n) = self.per_method.get(path) {
            return n;
        }
        let service = path.rfind('/').map_or(path, |i| &path[..=i]);
        self.per_method.get(service).copied().unwrap_or(self.max_message_bytes)
    }
}

/// The layer to put in front of the coordinator's services.
#[derive(Debug, Clone)]
pub struct AdmissionLayer(Arc<Shared>);

impl AdmissionLayer {
    /// Admission under `limits`, identifying parties in `trust_domain` and
    /// serving those `admit` accepts.
    pub fn new(limits: &Limits, trust_domain: &str, admit: Admit) -> Self {
        AdmissionLayer(Arc::new(Shared {
            admit,
            calls: Arc::new(tokio::sync::Semaphore::new(limits.max_concurrent_calls)),
            max_calls: limits.max_concurrent_calls,
            per_party_calls: Mutex::new(HashMap::new()),
            max_calls_per_party: limits.max_concurrent_calls_per_party.max(1),
            message_timeout: limits.request_message_timeout,
            buckets: Mutex::new(HashMap::new()),
            rate: limits.calls_per_second_per_party,
            burst: f64::from(limits.burst_per_party),
            max_message_bytes: limits.max_message_bytes,
            per_method: limits.max_message_bytes_per_method.clone(),
            trust_domain: trust_domain.to_owned(),
        }))
    }

    /// The largest message limit configured anywhere, which the services'
    /// own decoders must allow so that this layer's limit is the one felt.
    pub fn largest_message_limit(&self) -> usize {
        self.0.per_method.values().copied().chain([self.0.max_message_bytes]).max().unwrap_or(0)
    }
}

impl<S> tower::Layer<S> for AdmissionLayer {
    type Service = Admission<S>;

    fn layer(&self, inner: S) -> Admission<S> {
        Admission { inner, shared: self.0.clone() }
    }
}

/// The service [`AdmissionLayer`] wraps around the routes.
#[derive(Debug, Clone)]
pub struct Admission<S> {
    inner: S,
    shared: Arc<Shared>,
}

/// Who is calling: the party its certificate names, or the certificate's
/// fingerprint when it names none (such calls are refused, but still pay
/// for their attempts). `None` only without TLS (in-process tests).
enum Peer {
    Party(String),
    Unnamed(String, String),
}

impl Peer {
    fn of(request: &http::Request<Body>, trust_domain: &str) -> Option<Peer> {
        let certs = request.extensions().get::<TlsConnectInfo<TcpConnectInfo>>()?.peer_certs()?;
        let leaf = certs.first()?;
        Some(match cosx_certs::party_id_from_cert(leaf.as_ref(), trust_domain) {
            Ok(party) => Peer::Party(party),
            Err(why) => Peer::Unnamed(format!("cert:{}", cosx_certs::fingerprint(leaf.as_ref())), why.to_string()),
        })
    }

    fn key(&self) -> &str {
        match self {
            Peer::Party(k) | Peer::Unnamed(k, _) => k,
        }
    }
}

/// Methods any CA-issued certificate may call, registered or not: they
/// reach no party's data (health, and the API's own schema).
fn open_to_any_certificate(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/")
        || path.starts_with("/grpc.reflection.")
        || path == crate::json::openapi::PATH
}

/// The caller's deadline from `grpc-timeout` (`<digits><H|M|S|m|u|n>`).
fn grpc_timeout(request: &http::Request<Body>) -> Option<Duration> {
    let value = request.headers().get("grpc-timeout")?.to_str().ok()?;
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// A refusal in the caller's protocol: a gRPC status, or an AIP-193 JSON
/// error for the HTTP/JSON face and the console.
fn refuse(status: Status, grpc: bool) -> http::Response<Body> {
    if grpc {
        status.into_http()
    } else {
        crate::json::HttpError::from_status(&status).response::<String>().map(Body::new)
    }
}

impl<S> Service<http::Request<Body>> for Admission<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let shared = &self.shared;
        let path = request.uri().path().to_owned();
        let peer = Peer::of(&request, &shared.trust_domain);
        let grpc = crate::json::is_grpc(request.headers());
        // Whom the program serves, decided before the call holds anything.
        if !open_to_any_certificate(&path) {
            let refused = match &peer {
                Some(Peer::Party(party)) => (shared.admit)(party).err().map(Status::permission_denied),
                Some(Peer::Unnamed(_, why)) => Some(Status::unauthenticated(why.clone())),
                _ => None,
            };
            if let Some(status) = refused {
                tracing::info!(caller = peer.as_ref().map_or("", Peer::key), %path, "call refused: not admitted");
                crate::metrics::call_refused("not admitted");
                return Box::pin(std::future::ready(Ok(refuse(status, grpc))));
            }
        }
        if let Some(key) = peer.as_ref().map(Peer::key)
            && let Err(wait) = shared.take_token(key)
        {
            tracing::info!(caller = %key, %path, "call refused: party rate limit");
            crate::metrics::call_refused("party rate");
            let wait_ms = wait.as_millis().max(1);
            let status = Status::with_error_details(
                Code::ResourceExhausted,
                format!("rate limit for {key} exceeded; retry after {wait_ms} ms"),
                ErrorDetails::with_retry_info(Some(wait.max(Duration::from_millis(1)))),
            );
            return Box::pin(std::future::ready(Ok(refuse(status, grpc))));
        }
        let party_slot = match peer.as_ref().map(Peer::key) {
            Some(key) => match shared.take_party_slot(key) {
                Some(slot) => Some(slot),
                None => {
                    tracing::warn!(caller = %key, max = shared.max_calls_per_party, %path, "call shed: party at its concurrency limit");
                    crate::metrics::call_refused("party calls in flight");
                    let status = Status::resource_exhausted(format!(
                        "{key} has its limit of {} calls in flight; retry with backoff",
                        shared.max_calls_per_party
                    ));
                    return Box::pin(std::future::ready(Ok(refuse(status, grpc))));
                }
            },
            None => None,
        };
        let Ok(permit) = shared.calls.clone().try_acquire_owned() else {
            tracing::warn!(max = shared.max_calls, %path, "call shed: server at its concurrency limit");
            crate::metrics::call_refused("calls in flight");
            let status = Status::resource_exhausted(format!(
                "server is handling its limit of {} calls; retry with backoff",
                shared.max_calls
            ));
            return Box::pin(std::future::ready(Ok(refuse(status, grpc))));
        };
        // An HTTP/JSON call is limited, and counted, as the method it maps to.
        let path = if grpc { path } else { crate::json::grpc_path_of(request.method(), &path).unwrap_or(path) };
        let limit = shared.max_message_bytes(&path);
        let deadline = grpc_timeout(&request);
        let timeout = shared.message_timeout;
        let framing = Framing::of(&request, grpc);
        let request =
            request.map(|body| Body::new(MessageLimit::new(body, limit).with_framing(framing).with_timeout(timeout)));
        // Take the service that was polled ready; leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let call = inner.call(request);
        let method = path;
        Box::pin(async move {
            let _permit = (permit, party_slot);
            let started = Instant::now();
            let answer = match deadline {
                // Answer a millisecond before tonic's own timer would, so the
                // caller hears DEADLINE_EXCEEDED rather than CANCELLED.
                Some(d) => match tokio::time::timeout(d.saturating_sub(Duration::from_millis(1)), call).await {
                    Ok(answer) => answer,
                    Err(_) => {
                        Ok(refuse(Status::deadline_exceeded("deadline exceeded before the call completed"), grpc))
                    }
                },
                None => call.await,
            };
            if let Ok(response) = &answer {
                let code = crate::json::errors::AnsweredCode::of(response);
                crate::metrics::call_answered(&method, code, started.elapsed());
            }
            answer
        })
    }
}

/// A request body that fails with `OUT_OF_RANGE` as soon as a gRPC frame
/// header announces a message longer than the limit, before the message is
/// buffered, and with `DEADLINE_EXCEEDED` when the next message takes longer
/// than the timeout to arrive (from the call's start, then from the end of
/// the message before; a stream may pause between messages only that
/// long). Frames are `[compressed flag][u32 length][message]`.
struct MessageLimit {
    inner: Body,
    limit: usize,
    framing: Framing,
    header: [u8; 5],
    header_len: usize,
    body_left: usize,
    timeout: Option<Duration>,
    next_message_by: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl MessageLimit {
    fn new(inner: Body, limit: usize) -> Self {
        MessageLimit {
            inner,
            limit,
            framing: Framing::Grpc,
            header: [0; 5],
            header_len: 0,
            body_left: 0,
            timeout: None,
            next_message_by: None,
        }
    }

    fn with_framing(mut self, framing: Framing) -> Self {
        self.framing = framing;
        self
    }

    fn with_timeout(mut self, timeout: Duration) -> Self {
        if !timeout.is_zero() {
            self.timeout = Some(timeout);
            self.next_message_by = Some(Box::pin(tokio::time::sleep(timeout)));
        }
        self
    }

    /// Whether the data seen so far ends exactly at a message boundary.
    fn between_messages(&self) -> bool {
        self.header_len == 0 && self.body_left == 0
    }

    /// Walks `data` through the frame headers it contains.
    fn check(&mut self, mut data: &[u8]) -> Result<(), Status> {
        match self.framing {
            Framing::Grpc => {}
            Framing::Whole => {
                self.body_left += data.len();
                return self.within(self.body_left, "request body");
            }
            Framing::Lines => {
                for piece in data.split_inclusive(|b| *b == b'\n') {
                    self.body_left += piece.len();
                    self.within(self.body_left, "request line")?;
                    if piece.ends_with(b"\n") {
                        self.body_left = 0;
                    }
                }
                return Ok(());
            }
        }
        while !data.is_empty() {
            if self.body_left > 0 {
                let n = self.body_left.min(data.len());
                self.body_left -= n;
                data = &data[n..];
                continue;
            }
            let n = (5 - self.header_len).min(data.len());
            self.header[self.header_len..self.header_len + n].copy_from_slice(&data[..n]);
            self.header_len += n;
            data = &data[n..];
            if self.header_len == 5 {
                self.header_len = 0;
                let len = u32::from_be_bytes([self.header[1], self.header[2], self.header[3], self.header[4]]) as usize;
                if len > self.limit {
                    return Err(Status::out_of_range(format!(
                        "request message is {len} bytes; this method accepts at most {} bytes",
                        self.limit
                    )));
                }
                self.body_left = len;
            }
        }
        Ok(())
    }
}

impl MessageLimit {
    fn within(&self, len: usize, what: &str) -> Result<(), Status> {
        if len > self.limit {
            return Err(Status::out_of_range(format!(
                "{what} is over {} bytes, the most this method accepts",
                self.limit
            )));
        }
        Ok(())
    }
}

/// How a request body divides into the messages the limit applies to.
#[derive(Debug, Clone, Copy)]
enum Framing {
    /// gRPC length-prefixed messages.
    Grpc,
    /// One JSON document: the whole body.
    Whole,
    /// Newline-delimited JSON: each line.
    Lines,
}

impl Framing {
    fn of(request: &http::Request<Body>, grpc: bool) -> Framing {
        let ndjson = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-ndjson"));
        match (grpc, ndjson) {
            (true, _) => Framing::Grpc,
            (false, true) => Framing::Lines,
            (false, false) => Framing::Whole,
        }
    }
}

impl http_body::Body for MessageLimit {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Status>>> {
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            Poll::Pending => {
                if let Some(timer) = self.next_message_by.as_mut()
                    && timer.as_mut().poll(cx).is_ready()
                {
                    let waited = self.timeout.unwrap_or_default();
                    return Poll::Ready(Some(Err(Status::deadline_exceeded(format!(
                        "no complete request message arrived within {waited:?}"
                    )))));
                }
                return Poll::Pending;
            }
            other => return other,
        };
        if let Some(data) = frame.data_ref() {
            if let Err(status) = self.check(data) {
                return Poll::Ready(Some(Err(status)));
            }
            if self.between_messages()
                && let Some(timeout) = self.timeout
                && let Some(timer) = self.next_message_by.as_mut()
            {
                timer.as_mut().reset(tokio::time::Instant::now() + timeout);
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_headers_split_across_chunks_are_still_measured() {
        let mut limit = MessageLimit::new(Body::empty(), 10);
        // A 4-byte message in one chunk, then a header split 2 + 3 announcing 11 bytes.
        assert!(limit.check(&[0, 0, 0, 0, 4, 1, 2, 3, 4]).is_ok());
        assert!(limit.check(&[0, 0]).is_ok());
        let err = limit.check(&[0, 0, 11]).err().map(|s| s.code());
        assert_eq!(err, Some(Code::OutOfRange));
    }

    #[test]
    fn a_bucket_allows_its_burst_then_names_the_wait() {
        let start = Instant::now();
        let mut b = Bucket { tokens: 2.0, last: start };
        assert!(b.take(start, 10.0, 2.0).is_ok());
        assert!(b.take(start, 10.0, 2.0).is_ok());
        let wait = b.take(start, 10.0, 2.0).err().unwrap_or_default();
        assert!(wait > Duration::from_millis(90) && wait <= Duration::from_millis(100), "{wait:?}");
        assert!(b.take(start + Duration::from_millis(100), 10.0, 2.0).is_ok());
    }

    /// A service that never answers.
    #[derive(Clone)]
    struct Never;

    impl Service<http::Request<Body>> for Never {
        type Response = http::Response<Body>;
        type Error = std::convert::Infallible;
        type Future = std::future::Pending<Result<http::Response<Body>, std::convert::Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<Body>) -> Self::Future {
            std::future::pending()
        }
    }

    #[tokio::test]
    async fn a_call_past_its_deadline_is_answered_deadline_exceeded_and_frees_its_slot() {
        use tower::Layer;
        let limits = Limits { max_concurrent_calls: 1, ..Limits::default() };
        let mut svc = AdmissionLayer::new(&limits, "rsf.example", Arc::new(|_: &str| Ok(()))).layer(Never);
        let request = || {
            http::Request::builder()
                .uri("/cosx.v1.Registry/GetParty")
                .header("content-type", "application/grpc")
                .header("grpc-timeout", "50m")
                .body(Body::empty())
                .unwrap_or_default()
        };
        let started = Instant::now();
        let answer = svc.call(request()).await.unwrap_or_else(|e| match e {});
        assert!(started.elapsed() < Duration::from_secs(1));
        let status = Status::from_header_map(answer.headers()).map(|s| s.code());
        assert_eq!(status, Some(Code::DeadlineExceeded));
        // The slot it held is free again: the next call is not shed.
        let again = svc.call(request()).await.unwrap_or_else(|e| match e {});
        assert_eq!(Status::from_header_map(again.headers()).map(|s| s.code()), Some(Code::DeadlineExceeded));
    }

    #[test]
    fn per_method_limits_fall_back_to_the_service_then_the_default() {
        let mut limits = Limits { max_message_bytes: 100, ..Limits::default() };
        limits.max_message_bytes_per_method.insert("/cosx.v1.Registry/".into(), 10);
        limits.max_message_bytes_per_method.insert("/cosx.v1.Exchange/Ingest".into(), 1000);
        let layer = AdmissionLayer::new(&limits, "rsf.example", Arc::new(|_: &str| Ok(())));
        assert_eq!(layer.0.max_message_bytes("/cosx.v1.Exchange/Ingest"), 1000);
        assert_eq!(layer.0.max_message_bytes("/cosx.v1.Registry/GetParty"), 10);
        assert_eq!(layer.0.max_message_bytes("/cosx.v1.Feed/Subscribe"), 100);
        assert_eq!(layer.largest_message_limit(), 1000);
    }
}
