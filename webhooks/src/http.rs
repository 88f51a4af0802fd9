//! One HTTP/1.1 connection to one webhook endpoint, kept open between
//! deliveries, over TCP or rustls; and what an answer means for the delivery.
//!
//! Why hyper's connection API rather than a full client (reqwest): a webhook
//! sends one request at a time to one origin, so a pool, redirects, cookies
//! and proxies are not wanted; hyper, rustls and tokio-rustls are already in
//! the tree (tonic), so this adds only `webpki-roots`. Redirects are never
//! followed (a 3xx parks the delivery: the signed body must not go elsewhere).
//! This module never logs a body or a header value.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// How much of an answer's body is read (and kept for a parked delivery's
/// `last_error`).
const MAX_ANSWER: usize = 16 * 1024;

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// 2xx: the endpoint has the event.
    Delivered,
    /// Connect failure, timeout, 408, 429 or 5xx: try again, not before
    /// `not_before` when the endpoint said (`Retry-After`).
    Retry { reason: String, not_before: Option<Duration> },
    /// Any other answer: the endpoint refuses this request; trying again
    /// would get the same.
    Refused { reason: String },
}

/// Where to POST, and the connection kept to it.
pub(crate) struct Endpoint {
    uri: Uri,
    host: String,
    port: u16,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    connect_timeout: Duration,
    request_timeout: Duration,
    conn: Option<SendRequest<Full<Bytes>>>,
}

/// Why a URL cannot be used.
pub(crate) fn parse_url(url: &str) -> Result<(Uri, String, u16, bool), String> {
    let uri: Uri = url.parse().map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(format!("{url:?}: expected https://host[:port]/path (or http:// for a local sidecar)")),
    };
    let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(|| format!("{url:?}: no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    Ok((uri, host, port, tls))
}

impl Endpoint {
    /// An endpoint for `url`; for https, `roots` are the CAs trusted.
    pub(crate) fn new(
        url: &str,
        roots: Option<rustls::RootCertStore>,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> Result<Self, String> {
        let (uri, host, port, https) = parse_url(url)?;
        let tls = if https {
            let roots =
                roots.unwrap_or_else(|| rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() });
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS: {e}"))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            let name = ServerName::try_from(host.clone()).map_err(|e| format!("{url:?}: host: {e}"))?;
            Some((TlsConnector::from(Arc::new(config)), name))
        } else {
            None
        };
        Ok(Endpoint { uri, host, port, tls, connect_timeout, request_timeout, conn: None })
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let tcp = tokio::time::timeout(self.connect_timeout, TcpStream::connect((self.host.as_str(), self.port)))
            .await
            .map_err(|_| format!("connect timed out after {:?}", self.connect_timeout))?
            .map_err(|e| format!("connect: {e}"))?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => handshake(tcp).await,
            Some((connector, name)) => {
                let tls = tokio::time::timeout(self.connect_timeout, connector.connect(name.clone(), tcp))
                    .await
                    .map_err(|_| format!("TLS handshake timed out after {:?}", self.connect_timeout))?
                    .map_err(|e| format!("TLS handshake: {e}"))?;
                handshake(tls).await
            }
        }
    }

    /// POSTs `body` with `headers`; reuses the open connection when there is one.
    pub(crate) async fn post(&mut self, headers: &[(&'static str, String)], body: Bytes) -> Outcome {
        match tokio::time::timeout(self.request_timeout, self.attempt(headers, body)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                // The connection is in an unknown state: never reuse it.
                self.conn = None;
                Outcome::Retry { reason: format!("no answer within {:?}", self.request_timeout), not_before: None }
            }
        }
    }

    async fn attempt(&mut self, headers: &[(&'static str, String)], body: Bytes) -> Outcome {
        let retry = |reason: String| Outcome::Retry { reason, not_before: None };
        let mut sender = match self.conn.take() {
            Some(s) if !s.is_closed() => s,
            _ => match self.connect().await {
                Ok(s) => s,
                Err(reason) => return retry(reason),
            },
        };
        if let Err(e) = sender.ready().await {
            return retry(format!("connection: {e}"));
        }
        let authority = self.uri.authority().map(|a| a.as_str().to_owned()).unwrap_or_else(|| self.host.clone());
        let path = self.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
        let mut request = Request::post(path)
            .header(header::HOST, authority)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, concat!("cosx-webhooks/", env!("CARGO_PKG_VERSION")));
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let request = match request.body(Full::new(body)) {
            Ok(r) => r,
            Err(e) => return Outcome::Refused { reason: format!("request: {e}") },
        };
        let response = match sender.send_request(request).await {
            Ok(r) => r,
            Err(e) => return retry(format!("send: {e}")),
        };
        let status = response.status();
        let retry_after = response.headers().get(header::RETRY_AFTER).and_then(retry_after);
        let answer = match Limited::new(response.into_body(), MAX_ANSWER).collect().await {
            Ok(b) => {
                // The whole answer was read: the connection can carry the next delivery.
                self.conn = Some(sender);
                b.to_bytes()
            }
            Err(_) => Bytes::new(),
        };
        classify(status, &answer, retry_after)
    }
}

async fn handshake<T>(io: T) -> Result<SendRequest<Full<Bytes>>, String>
where
    T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(io)).await.map_err(|e| format!("HTTP: {e}"))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "webhook connection closed");
        }
    });
    Ok(sender)
}

fn retry_after(value: &HeaderValue) -> Option<Duration> {
    value.to_str().ok()?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// What an answer means: 2xx delivered; 408, 429 and 5xx worth another try;
/// anything else (3xx, other 4xx) a refusal.
pub(crate) fn classify(status: StatusCode, answer: &[u8], not_before: Option<Duration>) -> Outcome {
    let text = String::from_utf8_lossy(&answer[..answer.len().min(200)]);
    let reason = format!("HTTP {}: {}", status.as_u16(), text.trim()).trim_end_matches([':', ' ']).to_owned();
    if status.is_success() {
        Outcome::Delivered
    } else if status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
    {
        Outcome::Retry { reason, not_before }
    } else {
        Outcome::Refused { reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_delivered_retried_or_refused_by_status() {
        assert_eq!(classify(StatusCode::NO_CONTENT, b"", None), Outcome::Delivered);
        for s in [500, 502, 503, 408, 429] {
            let status = StatusCode::from_u16(s).unwrap_or(StatusCode::OK);
            assert!(matches!(classify(status, b"busy", None), Outcome::Retry { .. }), "{s}");
        }
        for s in [301, 400, 401, 403, 404, 410, 422] {
            let status = StatusCode::from_u16(s).unwrap_or(StatusCode::OK);
            assert!(matches!(classify(status, b"", None), Outcome::Refused { .. }), "{s}");
        }
        assert_eq!(
            classify(StatusCode::BAD_REQUEST, b"unknown field \"foo\"\n", None),
            Outcome::Refused { reason: "HTTP 400: unknown field \"foo\"".into() }
        );
    }

    #[test]
    fn a_url_must_be_http_or_https_with_a_host() {
        assert_eq!(parse_url("https://erp.example/h").map(|u| (u.1, u.2, u.3)), Ok(("erp.example".into(), 443, true)));
        assert_eq!(parse_url("http://127.0.0.1:9/h").map(|u| (u.1, u.2, u.3)), Ok(("127.0.0.1".into(), 9, false)));
        assert!(parse_url("ftp://erp.example/h").is_err());
        assert!(parse_url("erp.example/h").is_err());
        assert!(parse_url("https:///h").is_err());
    }

    #[test]
    fn retry_after_in_seconds_is_honoured_and_dates_are_ignored() {
        assert_eq!(retry_after(&HeaderValue::from_static("7")), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(&HeaderValue::from_static("Wed, 21 Oct 2026 07:28:00 GMT")), None);
    }
}
