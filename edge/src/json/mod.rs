//! The HTTP/JSON face of `cosx.v1`, served on the same listener as gRPC:
//! a transcoder in the manner of Envoy's gRPC-JSON transcoder, driven by
//! the `google.api.http` annotations in the protos ([`routes`]).
//!
//! An HTTP request is matched to its method, its JSON body, path variables
//! and query parameters become the method's request message (unknown
//! fields refused by name), and the message is sent, in process, to the
//! very gRPC service a gRPC client reaches ([`local`]), carrying the same
//! TLS identity; admission (limits, rate, who is admitted) has already
//! run on the HTTP request. The answer goes back as canonical proto3 JSON,
//! or as an AIP-193 error ([`errors`]). Streams go as newline-delimited
//! JSON (or server-sent events for `GET /v1/events`).
//!
//! `Idempotency-Key` fills `request_id`, `If-Match` fills `version` (a
//! stale one answers 412), and answers carry `ETag` from `version`.
//!
//! Must never: decide who may do or see anything (the services do), hold
//! a per-method handler (the annotations are the mapping), or answer with
//! anything but what the service answered.

pub mod errors;
pub mod local;
pub mod openapi;
pub mod routes;

use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::{HeaderMap, Method, StatusCode, header};
use prost::Message as _;
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage, Value,
};
use tonic::Code;

pub use errors::HttpError;
pub use local::Local;
use routes::{BodyRule, Route};

/// The body type of the listener's answers.
pub type Body = axum::body::Body;

/// The largest JSON body the face reads for a unary call; admission's
/// message limit is usually the lower one.
const MAX_JSON_BODY: usize = 16 * 1024 * 1024;

/// The API's HTTP bindings, read once per process from the annotations.
static ROUTES: std::sync::LazyLock<Vec<Route>> =
    std::sync::LazyLock::new(|| descriptors().ok().and_then(|pool| routes::routes(&pool).ok()).unwrap_or_default());

/// The gRPC path an HTTP request maps to (`POST /v1/repairOrders` →
/// `/cosx.v1.Exchange/CreateRepairOrder`), so admission applies the same
/// per-method limits to both faces; `None` for unmapped requests.
pub fn grpc_path_of(verb: &Method, path: &str) -> Option<String> {
    route_of(&ROUTES, verb, path).map(|(route, _)| route.grpc_path())
}

/// The route `verb path` takes, with its captured variables.
fn route_of<'r>(routes: &'r [Route], verb: &Method, path: &str) -> Option<(&'r Route, Vec<(String, String)>)> {
    routes
        .iter()
        .find_map(|route| (route.verb == verb).then(|| route.template.matches(path)).flatten().map(|c| (route, c)))
}

/// The HTTP/JSON face of one listener.
#[derive(Clone)]
pub struct JsonApi {
    inner: Arc<Inner>,
}

struct Inner {
    openapi: Bytes,
    local: Local,
}

impl JsonApi {
    /// The face over `local`, mapped by the API's own annotations.
    pub fn new(local: Local) -> anyhow::Result<JsonApi> {
        let pool = descriptors()?;
        // Built here, not lazily, so a bad binding fails the start with its reason.
        let routes = routes::routes(&pool)?;
        let openapi = Bytes::from(serde_json::to_vec_pretty(&openapi::document(&pool, &routes))?);
        Ok(JsonApi { inner: Arc::new(Inner { openapi, local }) })
    }

    /// Answers one HTTP request (any request the gRPC routes did not take).
    pub async fn handle(&self, request: http::Request<Body>) -> http::Response<Body> {
        if is_grpc(request.headers()) {
            // A gRPC call to a method this listener does not serve.
            return tonic::Status::unimplemented(format!("{} is not served here", request.uri().path()))
                .into_http::<Body>();
        }
        match self.dispatch(request).await {
            Ok(mut response) => {
                response.extensions_mut().insert(errors::AnsweredCode(Code::Ok));
                response
            }
            Err(e) => e.response(),
        }
    }

    async fn dispatch(&self, request: http::Request<Body>) -> Result<http::Response<Body>, HttpError> {
        let path = request.uri().path().to_owned();
        if path == openapi::PATH {
            if request.method() != Method::GET {
                return Err(HttpError::new(Code::Unimplemented, format!("{path} answers GET only")));
            }
            return Ok(json_response(StatusCode::OK, self.inner.openapi.clone(), None));
        }
        let Some((route, captured)) = route_of(&ROUTES, request.method(), &path) else {
            let allowed: Vec<&str> =
                ROUTES.iter().filter(|r| r.template.matches(&path).is_some()).map(|r| r.verb.as_str()).collect();
            if allowed.is_empty() {
                return Err(HttpError::new(Code::NotFound, format!("no cosx.v1 method is mapped to {path}")));
            }
            let mut e = HttpError::new(
                Code::Unimplemented,
                format!("{path} answers {}, not {}", allowed.join(", "), request.method()),
            );
            e.status = StatusCode::METHOD_NOT_ALLOWED;
            return Err(e);
        };
        let input = route.method.input();
        let (parts, mut body) = request.into_parts();
        let streaming_in = route.method.is_client_streaming();
        let mut message = DynamicMessage::new(input.clone());
        let mut if_match = false;
        if !streaming_in {
            let bytes = read_body(std::mem::replace(&mut body, Body::empty())).await?;
            fill_from_body(&mut message, &route.body, &bytes, &parts.headers)?;
            for (field, value) in &captured {
                set_path(&mut message, field, value)
                    .map_err(|why| HttpError::bad_request(why.clone(), vec![(field.clone(), why)]))?;
            }
            fill_from_query(&mut message, parts.uri.query().unwrap_or(""), route)?;
            fill_from_headers(&mut message, &route.body, &parts.headers, &mut if_match)?;
        }
        let grpc_path = route.grpc_path();
        let output = route.method.output();
        if route.method.is_server_streaming() {
            let sse = accepts_event_stream(&parts.headers);
            if sse && let Some(last) = parts.headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
                set_path(&mut message, "after_sequence", last)
                    .map_err(|why| HttpError::bad_request(why.clone(), vec![("Last-Event-ID".into(), why)]))?;
            }
            let refused_line = Arc::new(std::sync::Mutex::new(None));
            let sent: futures::stream::BoxStream<'static, Bytes> = if streaming_in {
                lines_of(body, input, refused_line.clone()).boxed()
            } else {
                futures::stream::iter([Bytes::from(message.encode_to_vec())]).boxed()
            };
            let answers = self
                .inner
                .local
                .streaming(&parts.extensions, &grpc_path, sent)
                .await
                .map_err(|s| HttpError::from_status(&s))?;
            return Ok(stream_response(answers, output, sse, refused_line));
        }
        let answer =
            self.inner.local.unary(&parts.extensions, &grpc_path, Bytes::from(message.encode_to_vec())).await.map_err(
                |status| {
                    let mut e = HttpError::from_status(&status);
                    if if_match && status.code() == Code::Aborted {
                        e.status = StatusCode::PRECONDITION_FAILED;
                    }
                    e
                },
            )?;
        let answer = DynamicMessage::decode(output, answer)
            .map_err(|e| HttpError::new(Code::Internal, format!("undecodable answer: {e}")))?;
        let etag = etag_of(&answer);
        let body = serde_json::to_vec(&answer).map_err(|e| HttpError::new(Code::Internal, e.to_string()))?;
        Ok(json_response(StatusCode::OK, Bytes::from(body), etag))
    }
}

/// The API's descriptors, with the HTTP annotations.
pub fn descriptors() -> anyhow::Result<DescriptorPool> {
    Ok(DescriptorPool::decode(cosx_proto::FILE_DESCRIPTOR_SET)?)
}

/// Whether a request is a gRPC call rather than HTTP/JSON.
pub fn is_grpc(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/grpc"))
}

fn accepts_event_stream(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/event-stream"))
}

fn json_response(status: StatusCode, body: Bytes, etag: Option<String>) -> http::Response<Body> {
    let mut response = http::Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    if let Some(etag) = etag.and_then(|e| http::HeaderValue::from_str(&e).ok()) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

async fn read_body(body: Body) -> Result<Bytes, HttpError> {
    use http_body_util::BodyExt;
    match http_body_util::Limited::new(body, MAX_JSON_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => {
            // Admission's own refusal (the method's message limit, a stalled
            // body) is answered as gRPC would: its code and its words.
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e.as_ref());
            while let Some(c) = cause {
                if let Some(status) = c.downcast_ref::<tonic::Status>() {
                    let mut err = HttpError::new(status.code(), status.message().to_owned());
                    if status.code() == Code::OutOfRange {
                        // Over the method's message limit: HTTP has its own word for it.
                        err.status = StatusCode::PAYLOAD_TOO_LARGE;
                    }
                    return Err(err);
                }
                cause = c.source();
            }
            let mut err = HttpError::new(Code::ResourceExhausted, format!("request body refused: {e}"));
            err.status = StatusCode::PAYLOAD_TOO_LARGE;
            err.retry_after = None;
            Err(err)
        }
    }
}

fn options() -> DeserializeOptions {
    DeserializeOptions::new().deny_unknown_fields(true)
}

/// Parses JSON into a message of `desc`, naming the field at fault by its
/// path in the document (`repairOrder.item.nsn`), under `what` when the
/// document is one field of the request.
fn parse_json(desc: MessageDescriptor, bytes: &[u8], what: &str) -> Result<DynamicMessage, HttpError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    let parsed = DynamicMessage::deserialize_with_options(
        desc,
        serde_path_to_error::Deserializer::new(&mut de, &mut track),
        &options(),
    )
    .and_then(|m| de.end().map(|()| m));
    parsed.map_err(|e| {
        let description = e.to_string();
        let path = track.path().to_string();
        let inner = match (path.as_str(), unknown_field(&description)) {
            // The path ends at the object holding an unknown field.
            (".", Some(name)) => name,
            (p, Some(name)) => format!("{p}.{name}"),
            (".", None) => String::new(),
            (p, None) => p.to_owned(),
        };
        let field = match (what, inner.is_empty()) {
            ("body" | "line", true) => what.to_owned(),
            ("body" | "line", false) => inner,
            (_, true) => what.to_owned(),
            (_, false) => format!("{what}.{inner}"),
        };
        HttpError::bad_request(
            format!("the request {what} is not valid: {field}: {description}"),
            vec![(field, description)],
        )
    })
}

/// The field named by an "unrecognized field name 'x'" error, if that is
/// the error.
fn unknown_field(description: &str) -> Option<String> {
    let rest = description.strip_prefix("unrecognized field name '")?;
    Some(rest[..rest.find('\'')?].to_owned())
}

fn fill_from_body(
    message: &mut DynamicMessage,
    rule: &BodyRule,
    bytes: &[u8],
    headers: &HeaderMap,
) -> Result<(), HttpError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    if *rule == BodyRule::None {
        let why = "this method takes no body: give its fields as query parameters";
        return Err(HttpError::bad_request(why, vec![("body".to_owned(), why.to_owned())]));
    }
    if let Some(kind) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
        && !kind.starts_with("application/json")
    {
        let mut e = HttpError::new(Code::InvalidArgument, format!("the body must be application/json, not {kind}"));
        e.status = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        return Err(e);
    }
    match rule {
        BodyRule::None => Ok(()),
        BodyRule::All => {
            *message = parse_json(message.descriptor(), bytes, "body")?;
            Ok(())
        }
        BodyRule::Field(name) => {
            let field = field_of(&message.descriptor(), name)
                .ok_or_else(|| HttpError::new(Code::Internal, format!("body field {name} is not in the request")))?;
            let Kind::Message(desc) = field.kind() else {
                return Err(HttpError::new(Code::Internal, format!("body field {name} is not a message")));
            };
            let inner = parse_json(desc, bytes, &errors::json_field_path(name))?;
            message.set_field(&field, Value::Message(inner));
            Ok(())
        }
    }
}

/// A field by its proto name or its JSON name.
fn field_of(desc: &MessageDescriptor, name: &str) -> Option<FieldDescriptor> {
    desc.get_field_by_name(name).or_else(|| desc.get_field_by_json_name(name))
}

/// Sets the field at a dotted path (proto or JSON names) from its text.
/// Repeated fields get the value appended.
fn set_path(message: &mut DynamicMessage, path: &str, text: &str) -> Result<(), String> {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let desc = message.descriptor();
    let field = field_of(&desc, head).ok_or_else(|| format!("{} has no field {head:?}", desc.name()))?;
    match rest {
        Some(rest) => {
            if field.is_list() || field.is_map() {
                return Err(format!("{head} is repeated; its fields cannot be set one by one"));
            }
            match message.get_field_mut(&field) {
                Value::Message(inner) => set_path(inner, rest, text),
                _ => Err(format!("{head} is not a message")),
            }
        }
        None => {
            if field.is_map() {
                return Err(format!("{head} is a map; send it in the body"));
            }
            let value = scalar(&field, text)?;
            if field.is_list() {
                if let Value::List(list) = message.get_field_mut(&field) {
                    list.push(value);
                }
            } else {
                message.set_field(&field, value);
            }
            Ok(())
        }
    }
}

fn scalar(field: &FieldDescriptor, text: &str) -> Result<Value, String> {
    let bad = |what: &str| format!("{text:?} is not {what}");
    Ok(match field.kind() {
        Kind::String => Value::String(text.to_owned()),
        Kind::Bool => Value::Bool(match text {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return Err(bad("true or false")),
        }),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(text.parse().map_err(|_| bad("an integer"))?),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(text.parse().map_err(|_| bad("an integer"))?),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(text.parse().map_err(|_| bad("a non-negative integer"))?),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(text.parse().map_err(|_| bad("a non-negative integer"))?),
        Kind::Double => Value::F64(text.parse().map_err(|_| bad("a number"))?),
        Kind::Float => Value::F32(text.parse().map_err(|_| bad("a number"))?),
        Kind::Enum(e) => match e.get_value_by_name(text) {
            Some(v) => Value::EnumNumber(v.number()),
            None => {
                let names: Vec<String> = e.values().map(|v| v.name().to_owned()).collect();
                return Err(format!("{text:?} is not one of {}", names.join(", ")));
            }
        },
        Kind::Bytes | Kind::Message(_) => return Err("cannot be given as a query parameter".to_owned()),
    })
}

fn fill_from_query(message: &mut DynamicMessage, query: &str, route: &Route) -> Result<(), HttpError> {
    let mut bad = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(k), Some(v)) =
            (routes::percent_decode(&k.replace('+', " ")), routes::percent_decode(&v.replace('+', " ")))
        else {
            bad.push((pair.to_owned(), "is not valid percent-encoding".to_owned()));
            continue;
        };
        if route.body == BodyRule::All {
            bad.push((k.clone(), "this method takes its fields in the body, not the query".to_owned()));
            continue;
        }
        if let Err(why) = set_path(message, &k, &v) {
            bad.push((k, why));
        }
    }
    if bad.is_empty() { Ok(()) } else { Err(HttpError::bad_request("invalid query parameters", bad)) }
}

/// `Idempotency-Key` into `request_id`, `If-Match` into `version`.
fn fill_from_headers(
    message: &mut DynamicMessage,
    rule: &BodyRule,
    headers: &HeaderMap,
    if_match: &mut bool,
) -> Result<(), HttpError> {
    if let Some(key) = headers.get("idempotency-key") {
        let key = key.to_str().map_err(|_| header_error("Idempotency-Key", "is not visible ASCII"))?;
        let desc = message.descriptor();
        let field = desc.get_field_by_name("request_id").ok_or_else(|| {
            header_error(
                "Idempotency-Key",
                "this method has no request id: it changes nothing or is idempotent by nature",
            )
        })?;
        match message.get_field(&field).as_str() {
            Some("") | None => message.set_field(&field, Value::String(key.to_owned())),
            Some(body) if body == key => {}
            Some(_) => return Err(header_error("Idempotency-Key", "differs from requestId in the body")),
        }
    }
    if let Some(tag) = headers.get(header::IF_MATCH) {
        let tag = tag.to_str().map_err(|_| header_error("If-Match", "is not visible ASCII"))?;
        let version: i64 = tag
            .trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .parse()
            .map_err(|_| header_error("If-Match", "must be the ETag of the record, a version such as \"3\""))?;
        let holder: &mut DynamicMessage = match (message.descriptor().get_field_by_name("version"), rule) {
            (Some(_), _) => message,
            (None, BodyRule::Field(name)) => match message.get_field_by_name_mut(name.as_str()) {
                Some(Value::Message(inner)) if inner.descriptor().get_field_by_name("version").is_some() => inner,
                _ => return Err(header_error("If-Match", "this method takes no version")),
            },
            (None, _) => return Err(header_error("If-Match", "this method takes no version")),
        };
        let field =
            holder.descriptor().get_field_by_name("version").ok_or_else(|| header_error("If-Match", "no version"))?;
        match holder.get_field(&field).as_i64() {
            Some(0) | None => holder.set_field(&field, Value::I64(version)),
            Some(v) if v == version => {}
            Some(_) => return Err(header_error("If-Match", "differs from version in the body")),
        }
        *if_match = true;
    }
    Ok(())
}

fn header_error(name: &str, why: &str) -> HttpError {
    HttpError::bad_request(format!("header {name} {why}"), vec![(name.to_owned(), why.to_owned())])
}

fn etag_of(answer: &DynamicMessage) -> Option<String> {
    match answer.get_field_by_name("version").as_deref() {
        Some(Value::I64(v)) if *v > 0 => return Some(format!("\"{v}\"")),
        _ => {}
    }
    match answer.get_field_by_name("etag").as_deref() {
        Some(Value::String(s)) if !s.is_empty() => Some(format!("\"{s}\"")),
        _ => None,
    }
}

/// The request messages of a streaming call, one JSON object per line of
/// the body. A line that does not parse ends the stream there; the answer
/// then ends with an error line naming it (left in `refused`).
fn lines_of(body: Body, desc: MessageDescriptor, refused: RefusedLine) -> impl Stream<Item = Bytes> + Send + 'static {
    struct State {
        data: axum::body::BodyDataStream,
        buffer: Vec<u8>,
        ended: bool,
        line: usize,
        desc: MessageDescriptor,
        refused: RefusedLine,
    }
    let state = State { data: body.into_data_stream(), buffer: Vec::new(), ended: false, line: 0, desc, refused };
    futures::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(end) = s.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = s.buffer.drain(..=end).collect();
                s.line += 1;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return match parse_json(s.desc.clone(), &line, "line") {
                    Ok(m) => Some((Bytes::from(m.encode_to_vec()), s)),
                    Err(mut e) => {
                        e.message = format!("line {}: {}", s.line, e.message);
                        if let Ok(mut slot) = s.refused.lock() {
                            *slot = Some(e);
                        }
                        None
                    }
                };
            }
            if s.ended {
                if s.buffer.iter().all(u8::is_ascii_whitespace) {
                    return None;
                }
                s.buffer.push(b'\n');
                continue;
            }
            match s.data.next().await {
                Some(Ok(chunk)) => s.buffer.extend_from_slice(&chunk),
                Some(Err(_)) | None => s.ended = true,
            }
        }
    })
}

/// Where a streamed request leaves the line it could not read.
type RefusedLine = Arc<std::sync::Mutex<Option<HttpError>>>;

/// A streamed answer: NDJSON, or SSE with the event sequence as its id.
fn stream_response(
    answers: local::Answers,
    output: MessageDescriptor,
    sse: bool,
    refused: RefusedLine,
) -> http::Response<Body> {
    let lines = answers.map(move |answer| {
        let text = match answer.map(|bytes| DynamicMessage::decode(output.clone(), bytes)) {
            Ok(Ok(message)) => {
                let json = serde_json::to_string(&message).unwrap_or_default();
                if sse {
                    let id = match message.get_field_by_name("sequence").as_deref() {
                        Some(Value::I64(s)) => format!("id: {s}\n"),
                        _ => String::new(),
                    };
                    format!("{id}data: {json}\n\n")
                } else {
                    format!("{json}\n")
                }
            }
            Ok(Err(e)) => error_line(&HttpError::new(Code::Internal, format!("undecodable answer: {e}")), sse),
            Err(status) => error_line(&HttpError::from_status(&status), sse),
        };
        Ok::<_, std::convert::Infallible>(Bytes::from(text))
    });
    let refusal = futures::stream::once(async move { refused.lock().ok().and_then(|mut slot| slot.take()) })
        .filter_map(move |e| async move { e.map(|e| Ok(Bytes::from(error_line(&e, sse)))) });
    let lines = lines.chain(refusal);
    let mut response = http::Response::new(Body::from_stream(lines));
    let kind = if sse { "text/event-stream" } else { "application/x-ndjson" };
    response.headers_mut().insert(header::CONTENT_TYPE, http::HeaderValue::from_static(kind));
    response.headers_mut().insert(header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}

fn error_line(e: &HttpError, sse: bool) -> String {
    if sse { format!("event: error\ndata: {}\n\n", e.body()) } else { format!("{}\n", e.body()) }
}
