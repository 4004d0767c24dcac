//! `GET /metrics`.

use axum::extract::State;
use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};

use crate::lock::now;
use crate::problem::{Problem, ProblemKind};
use crate::routes::{blocking, AppState};

/// The OpenMetrics text format, which Prometheus asks for and parses.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /metrics` → 200, every metric in the OpenMetrics text format. Expiry of locks and
/// transactions is lazy, so it first settles both: `locks_held` then counts no expired lock,
/// and expiries show up in `lock_hold_seconds{end="expired"}` and
/// `transactions_total{outcome="expired"}` without waiting for the next request to notice.
/// The gauges of the conflict log, its subscribers, the history's size and the lock queues
/// are read now too (the history is one `count(*)` with SQLite). With PostgreSQL storage the
/// lock gauges count the database's locks and queues, every replica's (one query).
pub(crate) async fn scrape(State(app): State<AppState>) -> Response {
    let now = now();
    let waiting = {
        let mut table = app.locks.table();
        table.sweep(now);
        table.total_waiters()
    };
    app.txns.sweep(now);
    match app.locks.shared() {
        None => app
            .metrics
            .set_lock_waiters(u64::try_from(waiting).unwrap_or(u64::MAX)),
        // The locks are the database's: count every replica's.
        Some(shared) => match shared.counts().await {
            Ok((held, waiting)) => {
                app.metrics.set_locks_held(held);
                app.metrics.set_lock_waiters(waiting);
            }
            Err(err) => tracing::warn!(error = %err, "/metrics could not count the locks"),
        },
    }
    app.metrics
        .set_conflict_log_records(app.conflicts.log.records_kept());
    app.metrics
        .set_sse_subscribers(app.conflicts.log.subscribers());
    match blocking(&app.store, |store| store.history_versions()).await {
        Ok(versions) => app.metrics.set_history_versions(versions),
        // The gauge keeps its last value; the rest of the scrape is still worth answering.
        Err(err) => tracing::warn!(error = %err, "/metrics could not count the history"),
    }
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE)),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    (headers, app.metrics.encode()).into_response()
}

/// Any other method on `/metrics`: 405 problem+json with `Allow`, like every other route.
pub(crate) async fn method_not_allowed(method: Method) -> Problem {
    Problem::new(
        ProblemKind::MethodNotAllowed,
        "/metrics",
        format!("{method} is not supported on /metrics; use one of GET, HEAD"),
    )
    .with_header(header::ALLOW, HeaderValue::from_static("GET, HEAD"))
}
