//! The web console: server-rendered pages (maud, escaped output, inline SVG
//! charts) served on the listener beside gRPC and the HTTP/JSON face, as the
//! party of the TLS client certificate the browser presents.
//!
//! Every figure and record on a page comes from the listener's own gRPC
//! services through [`Local::call`], as the page's party: a page shows what
//! the API would show that party and nothing else. Must never: read a store,
//! compute a figure itself, name a party other than the caller's
//! certificate, or change anything on a request that may come from another
//! site (see [`same_origin`]).

mod availability;
mod balance;
mod chart;
mod csv;
mod pages;
mod records;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cosx_edge::json::Local;

/// The console's stylesheet, served from `/console/static/console.css`.
const CSS: &str = include_str!("../static/console.css");
/// The console's script (live alerts over SSE), from `/console/static/console.js`.
const JS: &str = include_str!("../static/console.js");

/// The console's routes, all under `/console`, over the listener's services.
pub fn router(local: Local) -> Router {
    Router::new()
        .route("/console", get(pages::overview))
        .route("/console/orders", get(pages::orders))
        .route("/console/orders/{id}", get(pages::order))
        .route("/console/demand", get(pages::demand))
        .route("/console/demand/cell", get(pages::demand_cell))
        .route("/console/capacity", get(pages::capacity))
        .route("/console/balance", get(balance::balance))
        .route("/console/availability", get(availability::availability))
        .route("/console/availability/fleet", get(availability::fleet))
        .route("/console/offers", get(records::offers))
        .route("/console/offers/{id}", get(records::offer))
        .route("/console/reports", get(records::reports))
        .route("/console/reports/{id}", get(records::report))
        .route("/console/allocation", get(pages::allocation))
        .route("/console/allocation/propose", post(pages::propose))
        .route("/console/allocation/commit", post(pages::commit))
        .route("/console/static/console.css", get(|| async { asset("text/css; charset=utf-8", CSS) }))
        .route("/console/static/console.js", get(|| async { asset("text/javascript; charset=utf-8", JS) }))
        // Browsers ask for it on every site; an empty answer keeps their consoles quiet.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(local)
}

/// A [`cosx_edge::listener::WebFace`] serving the console.
pub fn web_face() -> cosx_edge::listener::WebFace {
    Box::new(router)
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "max-age=300")], body).into_response()
}

/// Adds the security headers to every console answer.
async fn security_headers(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // `same-origin`, not `no-referrer`: with no-referrer a browser sends
    // `Origin: null` on the console's own form posts.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Whether a state-changing request comes from the console's own pages: a
/// browser sends the client certificate on cross-site requests too, so a
/// POST is refused when `Sec-Fetch-Site` says another site (anything but
/// `same-origin`) or `Origin` names another host than `Host` (or, over
/// HTTP/2, which carries no `Host`, the request's `:authority`).
pub fn same_origin(headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    if let Some(site) = headers.get("sec-fetch-site")
        && site.as_bytes() != b"same-origin"
    {
        return false;
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).or(uri.authority().map(|a| a.as_str()));
        let origin_host = origin.to_str().ok().and_then(|o| o.split_once("://").map(|(_, rest)| rest.to_owned()));
        return match (host, origin_host) {
            (Some(host), Some(origin_host)) => host.eq_ignore_ascii_case(&origin_host),
            _ => false,
        };
    }
    true
}

/// A refused or failed page: the gRPC status as its HTTP status and a page
/// saying why.
#[derive(Debug)]
pub struct PageError {
    pub(crate) status: StatusCode,
    title: &'static str,
    message: String,
}

impl PageError {
    fn forbidden(message: &str) -> PageError {
        PageError { status: StatusCode::FORBIDDEN, title: "Refused", message: message.into() }
    }

    fn bad_request(message: String) -> PageError {
        PageError { status: StatusCode::BAD_REQUEST, title: "Bad request", message }
    }
}

impl From<tonic::Status> for PageError {
    fn from(s: tonic::Status) -> PageError {
        use tonic::Code;
        // The HTTP status is the JSON face's, from the one table of them.
        let status = cosx_edge::json::errors::http_status(s.code());
        let title = match s.code() {
            Code::InvalidArgument | Code::OutOfRange => "Bad request",
            Code::FailedPrecondition => "Not possible now",
            Code::NotFound => "Not found",
            Code::AlreadyExists | Code::Aborted => "Conflict",
            Code::PermissionDenied => "Not allowed",
            Code::Unauthenticated => "Not identified",
            Code::ResourceExhausted => "Too many requests",
            Code::Unavailable => "Unavailable",
            Code::DeadlineExceeded => "Timed out",
            _ => "Error",
        };
        if status.is_server_error() {
            tracing::warn!(code = ?s.code(), message = s.message(), "console page failed");
        }
        // NOT_FOUND says the same for a missing record and one the party may not see.
        let message = if s.code() == Code::NotFound { "No such record.".to_owned() } else { s.message().to_owned() };
        PageError { status, title, message }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let body = pages::layout(
            self.title,
            maud::html! {
                h1 { (self.title) }
                p.error { (self.message) }
                p { a href="/console" { "Back to the overview" } }
            },
        );
        (self.status, body).into_response()
    }
}
