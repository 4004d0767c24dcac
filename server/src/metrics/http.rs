//! The middleware that counts and times every answered request.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::Metrics;

/// The `route` label of a request no route matched. Raw paths are never used as labels: every
/// distinct URL would become a new series (unbounded cardinality).
pub(crate) const UNMATCHED: &str = "unmatched";

/// Middleware: records `ifmatch_http_requests_total`, `ifmatch_http_request_duration_seconds`
/// and `ifmatch_refusals_total` for every answer, labelled by the route template
/// (`/items/{id}`) axum matched. Must wrap the rate limit (be layered after it), so that 429s
/// are counted.
pub(crate) async fn track(
    State(metrics): State<Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.request_answered(
        &route,
        method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The `method` label: the standard methods by name, any other (extension methods are
/// arbitrary tokens) as `other`, so the label set stays bounded.
pub(crate) fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
