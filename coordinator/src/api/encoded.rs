//! A gRPC codec for methods whose answers are protobuf already: it decodes
//! the request as the generated methods do (a malformed one is refused the
//! same way) and writes each answer's bytes as they are. It lets a service
//! encode an answer once and send it to many callers, or many times.
//!
//! It never looks into an answer: what a caller receives is decided before
//! the bytes reach it.

use std::marker::PhantomData;

use prost::Message;
use prost::bytes::Bytes;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http;

/// What a route answers with: the response of one call.
pub(crate) type RouteFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<http::Response<tonic::body::Body>, std::convert::Infallible>> + Send>,
>;

/// A server for method `method` of `service` answering in bytes, refusing
/// requests over `max` bytes; `request` is named for the metrics and logs
/// as the generated servers name it.
pub(crate) fn server<R: Message + Default + Send + 'static>(
    request: &mut http::Request<tonic::body::Body>,
    service: &'static str,
    method: &'static str,
    max: usize,
) -> tonic::server::Grpc<EncodedCodec<R>> {
    request.extensions_mut().insert(tonic::GrpcMethod::new(service, method));
    tonic::server::Grpc::new(EncodedCodec::default()).apply_max_message_size_config(Some(max), None)
}

/// Decodes requests of type `R`; encodes answers that are bytes already.
pub(crate) struct EncodedCodec<R>(PhantomData<fn() -> R>);

impl<R> Default for EncodedCodec<R> {
    fn default() -> Self {
        EncodedCodec(PhantomData)
    }
}

impl<R: Message + Default + Send + 'static> Codec for EncodedCodec<R> {
    type Encode = Bytes;
    type Decode = R;
    type Encoder = EncodedCodec<R>;
    type Decoder = EncodedCodec<R>;

    fn encoder(&mut self) -> Self::Encoder {
        EncodedCodec::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        EncodedCodec::default()
    }
}

impl<R: Send + 'static> Encoder for EncodedCodec<R> {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        prost::bytes::BufMut::put(buf, item);
        Ok(())
    }
}

impl<R: Message + Default + Send + 'static> Decoder for EncodedCodec<R> {
    type Item = R;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<R>, Status> {
        R::decode(buf).map(Some).map_err(|e| Status::internal(e.to_string()))
    }
}
