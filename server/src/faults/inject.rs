//! The middleware that injects the faults: one seeded draw per request.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{FaultCounts, FaultKind, FaultSpec};
use crate::etag::EntityTag;
use crate::problem::{Problem, ProblemKind};

/// Every malformed or stale tag the faults hand out contains this, so a client that sends
/// one back is caught.
pub(crate) const FAULT_TAG_MARK: &str = "ifmatch-fault";
/// The `Retry-After` of an `absurd-retry-after` fault: 10^12 seconds.
pub(crate) const ABSURD_RETRY_AFTER: &str = "1000000000000";
/// Largest answer body a body fault reads whole; larger answers are left alone.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// The faults of one server: the spec, the seeded generator and what was injected.
#[derive(Debug)]
pub(crate) struct Injector {
    spec: FaultSpec,
    rng: Mutex<fastrand::Rng>,
    injected: [AtomicU64; FaultKind::ALL.len()],
    echoed: AtomicU64,
    serial: AtomicU64,
}

impl Injector {
    pub(crate) fn new(spec: FaultSpec) -> Self {
        Injector {
            rng: Mutex::new(fastrand::Rng::with_seed(spec.seed())),
            spec,
            injected: Default::default(),
            echoed: AtomicU64::new(0),
            serial: AtomicU64::new(0),
        }
    }

    fn draw(&self) -> Option<FaultKind> {
        let u = self
            .rng
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .u32(..super::spec::MILLION);
        self.spec.pick(u)
    }

    fn count(&self, kind: FaultKind) {
        if let Some(i) = FaultKind::ALL.iter().position(|k| *k == kind) {
            self.injected[i].fetch_add(1, Ordering::Relaxed);
        }
        tracing::debug!(fault = %kind, "fault injected");
    }

    /// What was injected so far.
    pub(crate) fn counts(&self) -> FaultCounts {
        let injected: BTreeMap<FaultKind, u64> = FaultKind::ALL
            .iter()
            .zip(&self.injected)
            .map(|(k, n)| (*k, n.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect();
        FaultCounts {
            injected,
            fault_tags_sent_back: self.echoed.load(Ordering::Relaxed),
        }
    }

    /// Counts a request that sends back one of the faults' tags in a precondition.
    fn watch(&self, headers: &HeaderMap) {
        let echoed = [header::IF_MATCH, header::IF_NONE_MATCH]
            .iter()
            .flat_map(|name| headers.get_all(name))
            .any(|v| String::from_utf8_lossy(v.as_bytes()).contains(FAULT_TAG_MARK));
        if echoed {
            self.echoed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("a client sent back a tag the fault injection made up");
        }
    }

    /// A made-up tag: the `n`-th, malformed (three shapes in turn) or, for `stale`, well formed.
    fn made_up_tag(&self, stale: bool) -> String {
        let n = self.serial.fetch_add(1, Ordering::Relaxed);
        if stale {
            return format!("\"{FAULT_TAG_MARK}-stale-{n}\"");
        }
        match n % 3 {
            0 => format!("{FAULT_TAG_MARK}-{n}"),
            1 => format!("\"{FAULT_TAG_MARK}-{n}"),
            _ => format!("W/{FAULT_TAG_MARK}-{n}"),
        }
    }
}

/// The fault layer: draws a fault for each request and injects it.
pub(crate) async fn inject(
    State(injector): State<Arc<Injector>>,
    request: Request,
    next: Next,
) -> Response {
    injector.watch(request.headers());
    let Some(kind) = injector.draw() else {
        return next.run(request).await;
    };
    let path = request.uri().path().to_owned();
    match kind {
        FaultKind::DropBefore => {
            injector.count(kind);
            dropped()
        }
        FaultKind::DropAfter => {
            // The routes commit before they answer: the write is applied, then the answer lost.
            drop(next.run(request).await);
            injector.count(kind);
            dropped()
        }
        FaultKind::Status500 | FaultKind::Status502 | FaultKind::Status503 => {
            injector.count(kind);
            unapplied(kind, &path, None)
        }
        FaultKind::Status503RetryAfter => {
            injector.count(kind);
            unapplied(kind, &path, Some("1"))
        }
        FaultKind::AbsurdRetryAfter => {
            injector.count(kind);
            unapplied(kind, &path, Some(ABSURD_RETRY_AFTER))
        }
        FaultKind::Stale409 if is_versioned_write(&request) => {
            injector.count(kind);
            let tag = EntityTag::parse(&injector.made_up_tag(true));
            Problem::new(
                ProblemKind::VersionConflict,
                &path,
                "injected fault stale-409: the request was not applied, and the ETag is not the current one",
            )
            .with_current_etag(tag)
            .into_response()
        }
        FaultKind::Stale409 => next.run(request).await,
        FaultKind::Delay => {
            injector.count(kind);
            tokio::time::sleep(injector.spec.delay()).await;
            next.run(request).await
        }
        FaultKind::BadEtag => {
            let mut response = next.run(request).await;
            if response.headers().contains_key(header::ETAG) {
                let bad = injector.made_up_tag(false);
                if let Ok(value) = HeaderValue::from_str(&bad) {
                    response.headers_mut().insert(header::ETAG, value);
                    injector.count(kind);
                }
            }
            response
        }
        FaultKind::TruncatedBody | FaultKind::NonJsonBody => {
            let head = request.method() == Method::HEAD;
            let response = next.run(request).await;
            if head || !is_json(response.headers()) {
                return response;
            }
            spoil_body(&injector, kind, response).await
        }
    }
}

/// A write that names a version: the only kind a version conflict can answer.
fn is_versioned_write(request: &Request) -> bool {
    matches!(
        *request.method(),
        Method::PUT | Method::PATCH | Method::DELETE
    ) && request.headers().contains_key(header::IF_MATCH)
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"))
}

/// Cuts the body in half, or replaces it with HTML; the other headers stay.
async fn spoil_body(injector: &Injector, kind: FaultKind, response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        // Too large or failed: the answer is lost anyway, as with a dropped connection.
        return dropped();
    };
    if bytes.is_empty() {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let spoiled = match kind {
        FaultKind::TruncatedBody => bytes.slice(..bytes.len() / 2),
        _ => Bytes::from_static(b"<html><body><h1>Welcome to nginx!</h1></body></html>\n"),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    injector.count(kind);
    Response::from_parts(parts, Body::from(spoiled))
}

/// A 5xx problem for a request that was not applied.
fn unapplied(kind: FaultKind, path: &str, retry_after: Option<&'static str>) -> Response {
    let status = match kind {
        FaultKind::Status500 => StatusCode::INTERNAL_SERVER_ERROR,
        FaultKind::Status502 => StatusCode::BAD_GATEWAY,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    let body = serde_json::json!({
        "type": "urn:ifmatch:problem:injected-fault",
        "title": "Injected fault",
        "status": status.as_u16(),
        "detail": format!("injected fault {kind}: the request was not applied"),
        "instance": path,
    });
    let mut response = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(crate::problem::PROBLEM_JSON),
        )],
        body.to_string(),
    )
        .into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
    }
    response
}

/// An answer whose body fails before its first byte: hyper then closes the connection
/// without writing the status line it had buffered, so the client gets no answer at all.
fn dropped() -> Response {
    Body::from_stream(FailAtOnce).into_response()
}

/// A body stream whose first poll is an error.
struct FailAtOnce;

impl futures_core::Stream for FailAtOnce {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "injected fault: connection dropped",
        ))))
    }
}
