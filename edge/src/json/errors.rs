//! AIP-193 errors for the HTTP/JSON face: the HTTP status of each gRPC
//! code, and the `{"error": {code, status, message, details}}` body with
//! every bad field named (in the JSON body's own camelCase names).
//!
//! This is the only translation of a gRPC status into HTTP; the statuses
//! themselves come from [`crate::status`]. Must never: invent a status the
//! service did not give, or put internal detail in a message.

use std::time::Duration;

use serde_json::{Value, json};
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// HTTP status for a gRPC code, as `google.rpc.Code` documents it.
pub fn http_status(code: Code) -> http::StatusCode {
    use http::StatusCode as H;
    match code {
        Code::Ok => H::OK,
        Code::Cancelled => H::from_u16(499).unwrap_or(H::BAD_REQUEST),
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => H::BAD_REQUEST,
        Code::DeadlineExceeded => H::GATEWAY_TIMEOUT,
        Code::NotFound => H::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => H::CONFLICT,
        Code::PermissionDenied => H::FORBIDDEN,
        Code::Unauthenticated => H::UNAUTHORIZED,
        Code::ResourceExhausted => H::TOO_MANY_REQUESTS,
        Code::Unimplemented => H::NOT_IMPLEMENTED,
        Code::Unavailable => H::SERVICE_UNAVAILABLE,
        Code::Unknown | Code::Internal | Code::DataLoss => H::INTERNAL_SERVER_ERROR,
    }
}

pub use cosx_proto::names::{code_name, json_field_path};

/// The gRPC code an HTTP answer stands for, carried on the response (not
/// sent) so admission's call metrics count HTTP/JSON and console calls by
/// the same codes as gRPC ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnsweredCode(pub Code);

impl AnsweredCode {
    /// The code of `response`: its `grpc-status`, else the one the face
    /// carried, else OK for a success and UNKNOWN for anything else.
    pub fn of<B>(response: &http::Response<B>) -> Code {
        if let Some(status) = Status::from_header_map(response.headers()) {
            return status.code();
        }
        match response.extensions().get::<AnsweredCode>() {
            Some(AnsweredCode(code)) => *code,
            None if response.status().is_success() || response.status().is_redirection() => Code::Ok,
            None => Code::Unknown,
        }
    }
}

/// An HTTP error answer: status, headers and AIP-193 body.
#[derive(Debug, Clone)]
pub struct HttpError {
    /// The HTTP status.
    pub status: http::StatusCode,
    /// The gRPC code it stands for.
    pub code: Code,
    /// The message, as the service gave it.
    pub message: String,
    /// `google.rpc` details as JSON objects.
    pub details: Vec<Value>,
    /// Seconds to wait, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl HttpError {
    /// An error the face itself finds (a bad path, body or parameter).
    pub fn new(code: Code, message: impl Into<String>) -> HttpError {
        HttpError::from_status(&Status::new(code, message))
    }

    /// A bad request naming each field: `(field path, description)`.
    pub fn bad_request(message: impl Into<String>, fields: Vec<(String, String)>) -> HttpError {
        let mut e = HttpError::new(Code::InvalidArgument, message);
        e.details.push(bad_request_detail(fields));
        e
    }

    /// The error a service's status becomes.
    pub fn from_status(status: &Status) -> HttpError {
        let code = status.code();
        let details = status.get_error_details();
        let mut out = Vec::new();
        if let Some(bad) = details.bad_request() {
            out.push(bad_request_detail(
                bad.field_violations.iter().map(|v| (json_field_path(&v.field), v.description.clone())).collect(),
            ));
        }
        let retry_info = details.retry_info().and_then(|r| r.retry_delay);
        if let Some(delay) = retry_info {
            out.push(json!({
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": format!("{:.3}s", delay.as_secs_f64()),
            }));
        }
        let retry_after = match code {
            Code::ResourceExhausted | Code::Unavailable => {
                Some(retry_info.unwrap_or(Duration::from_secs(1)).as_secs_f64().ceil().max(1.0) as u64)
            }
            _ => None,
        };
        HttpError { status: http_status(code), code, message: status.message().to_owned(), details: out, retry_after }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({
            "error": {
                "code": self.status.as_u16(),
                "status": code_name(self.code),
                "message": self.message,
                "details": self.details,
            }
        })
    }

    /// The whole answer, with any body type.
    pub fn response<B: From<String>>(&self) -> http::Response<B> {
        let mut response = http::Response::new(B::from(self.body().to_string()));
        *response.status_mut() = self.status;
        response.extensions_mut().insert(AnsweredCode(self.code));
        let headers = response.headers_mut();
        headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
        if let Some(secs) = self.retry_after {
            headers.insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
        response
    }
}

fn bad_request_detail(fields: Vec<(String, String)>) -> Value {
    json!({
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": fields
            .into_iter()
            .map(|(field, description)| json!({"field": field, "description": description}))
            .collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::{ErrorDetails, FieldViolation};

    #[test]
    fn field_violations_are_named_as_the_json_body_names_them() {
        let status = Status::with_error_details(
            Code::InvalidArgument,
            "invalid request",
            ErrorDetails::with_bad_request(vec![
                FieldViolation::new("repair_order.item.nsn", "is required"),
                FieldViolation::new("repair_order.required_by", "is not a date"),
            ]),
        );
        let e = HttpError::from_status(&status);
        assert_eq!(e.status, 400);
        let body = e.body();
        assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
        let fields: Vec<&str> = body["error"]["details"][0]["fieldViolations"]
            .as_array()
            .expect("violations")
            .iter()
            .map(|v| v["field"].as_str().expect("field"))
            .collect();
        assert_eq!(fields, ["repairOrder.item.nsn", "repairOrder.requiredBy"]);
    }

    #[test]
    fn throttling_says_when_to_retry() {
        let status = Status::with_error_details(
            Code::ResourceExhausted,
            "rate limit",
            ErrorDetails::with_retry_info(Some(Duration::from_millis(1500))),
        );
        let e = HttpError::from_status(&status);
        assert_eq!((e.status.as_u16(), e.retry_after), (429, Some(2)));
        assert_eq!(HttpError::from_status(&Status::unavailable("down")).retry_after, Some(1));
        assert_eq!(HttpError::from_status(&Status::not_found("x")).retry_after, None);
    }
}
