//! One log line per request: method, path, status, latency and request id.
//!
//! The line is written when the answer's head is ready, with every field in
//! the one event, so an operator can grep a request id from a CRM's bug
//! report straight to its line. (tower-http's `TraceLayer` put method, path
//! and id in a span, which the default filter left out of the line.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::{MakeRequestId, RequestId};

/// The header that carries a request's id, in and out. A CRM may send its
/// own; the server makes one for a request without.
pub(super) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The log target of the request lines, on by default (`main.rs`).
pub const TARGET: &str = "crm_consent::http";

/// Request ids: this server's random prefix and a counter, e.g.
/// `9f3a61c2-1b`. Unique within a run and across runs (the prefix), and
/// cheap: a random UUID asked the kernel for randomness on every request.
#[derive(Clone)]
pub(super) struct Ids {
    prefix: u32,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Ids {
    pub(super) fn new() -> Self {
        let mut bytes = [0u8; 4];
        // Without randomness two runs could share ids; a log still reads.
        let _ = getrandom::fill(&mut bytes);
        Ids {
            prefix: u32::from_le_bytes(bytes),
        }
    }
}

impl MakeRequestId for Ids {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let id = format!("{:08x}-{n:x}", self.prefix);
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Logs the request once its answer is ready; a 5xx is an error line.
pub(super) async fn request(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let id = req.headers().get(&REQUEST_ID).cloned();
    let response = next.run(req).await;
    let latency_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    let id = id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("-");
    let status = response.status().as_u16();
    if response.status().is_server_error() {
        tracing::error!(target: TARGET, %method, %path, status, latency_us, %id, "request failed");
    } else {
        tracing::info!(target: TARGET, %method, %path, status, latency_us, %id, "request");
    }
    response
}
