//! Calling a listener's own gRPC services in process, as the party of an
//! HTTP request: the request's connection facts (its TLS peer
//! certificates) go with the call, so the service identifies, authorizes
//! and filters exactly as it does for a gRPC client.
//!
//! The HTTP/JSON face and the web console reach the core only through
//! this, so each answers what the gRPC API answers and nothing else. Must
//! never: name a party itself, or skip the services for a shortcut into a
//! store.

use std::convert::Infallible;

use bytes::{Buf, Bytes, BytesMut};
use futures::{Stream, StreamExt};
use http_body_util::{BodyExt, StreamBody};
use tonic::Status;
use tonic::service::Routes;

/// The largest message this side decodes from a service (the services'
/// own limit on what they send is far below it).
const MAX_RESPONSE_MESSAGE: usize = 64 * 1024 * 1024;

/// A handle on the listener's gRPC routes.
#[derive(Clone)]
pub struct Local {
    routes: Routes,
}

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Local")
    }
}

/// Messages a streaming call answers with, still encoded.
pub type Answers = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, Status>> + Send>>;

impl Local {
    /// Wraps the routes the listener serves.
    pub fn new(routes: Routes) -> Local {
        Local { routes }
    }

    /// A unary call with a typed message: what the console uses.
    pub async fn call<Req, Resp>(&self, caller: &http::Extensions, path: &str, request: &Req) -> Result<Resp, Status>
    where
        Req: prost::Message,
        Resp: prost::Message + Default,
    {
        let bytes = self.unary(caller, path, Bytes::from(request.encode_to_vec())).await?;
        Resp::decode(bytes).map_err(|e| Status::internal(format!("undecodable answer from {path}: {e}")))
    }

    /// A unary call with an encoded message.
    pub async fn unary(&self, caller: &http::Extensions, path: &str, message: Bytes) -> Result<Bytes, Status> {
        let mut answers = self.streaming(caller, path, futures::stream::iter([message])).await?;
        let first = answers.next().await.ok_or_else(|| Status::internal(format!("{path} answered no message")))??;
        Ok(first)
    }

    /// Any call: the messages sent (one for unary and server-streaming
    /// methods) and the messages answered, ending with the call's status.
    pub async fn streaming(
        &self,
        caller: &http::Extensions,
        path: &str,
        messages: impl Stream<Item = Bytes> + Send + 'static,
    ) -> Result<Answers, Status> {
        let frames = messages.map(|m| Ok::<_, Infallible>(http_body::Frame::data(frame(&m))));
        let mut request = http::Request::builder()
            .method(http::Method::POST)
            .uri(path)
            .header(http::header::CONTENT_TYPE, "application/grpc")
            .header(http::header::TE, "trailers")
            .body(tonic::body::Body::new(StreamBody::new(frames)))
            .map_err(|e| Status::internal(format!("bad in-process request: {e}")))?;
        *request.extensions_mut() = caller.clone();
        let mut routes = self.routes.clone();
        let response = match tower::Service::call(&mut routes, request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        // A trailers-only answer carries the status in its headers.
        if let Some(status) = Status::from_header_map(response.headers())
            && status.code() != tonic::Code::Ok
        {
            return Err(status);
        }
        let body = response.into_body();
        Ok(Box::pin(decode(body)))
    }
}

fn frame(message: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(message.len() + 5);
    out.extend_from_slice(&[0]);
    out.extend_from_slice(&u32::try_from(message.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(message);
    out.freeze()
}

/// The messages of a gRPC response body, then its status (an error ends
/// the stream; OK just ends it).
fn decode(body: tonic::body::Body) -> impl Stream<Item = Result<Bytes, Status>> + Send {
    struct State {
        body: tonic::body::Body,
        buffer: BytesMut,
        done: bool,
    }
    futures::stream::unfold(State { body, buffer: BytesMut::new(), done: false }, |mut s| async move {
        loop {
            if s.done {
                return None;
            }
            if s.buffer.len() >= 5 {
                let compressed = s.buffer[0];
                let len = u32::from_be_bytes([s.buffer[1], s.buffer[2], s.buffer[3], s.buffer[4]]) as usize;
                if compressed != 0 || len > MAX_RESPONSE_MESSAGE {
                    s.done = true;
                    return Some((Err(Status::internal("unreadable answer from the service")), s));
                }
                if s.buffer.len() >= 5 + len {
                    s.buffer.advance(5);
                    let message = s.buffer.split_to(len).freeze();
                    return Some((Ok(message), s));
                }
            }
            match s.body.frame().await {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => s.buffer.extend_from_slice(&data),
                    Err(frame) => {
                        s.done = true;
                        let status = frame.trailers_ref().and_then(Status::from_header_map);
                        return match status {
                            Some(status) if status.code() != tonic::Code::Ok => Some((Err(status), s)),
                            _ => None,
                        };
                    }
                },
                Some(Err(e)) => {
                    s.done = true;
                    return Some((Err(Status::unavailable(format!("the call broke off: {e}"))), s));
                }
                None => return None,
            }
        }
    })
}
