//! The HTTP surface: routes, the shared state, and problem+json fallbacks.

mod batch;
mod inside;
mod item;
mod item_routes;
pub(crate) mod items;
pub(crate) mod lock;
pub(crate) mod lock_response;
mod prefer;
mod representation;
pub(crate) mod request;
pub(crate) mod response;
mod transactions;
mod txn_response;
mod versions;

use std::sync::Arc;

use axum::http::{header, HeaderValue, Method, Uri};
use axum::routing::{get, post};
use axum::Router;

use crate::conflicts::{self, Conflicts};
use crate::lock::LockManager;
use crate::problem::{Problem, ProblemKind};
use crate::storage::{Store, StoreError};
use crate::txn::TxnManager;
use crate::MismatchStatus;

/// What every handler needs.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) mismatch: MismatchStatus,
    pub(crate) require_preconditions: bool,
    pub(crate) max_body_bytes: usize,
    /// The most operations one batch may carry.
    pub(crate) max_batch_operations: usize,
    /// The locks of this server process (see `crate::lock` for why they live in memory).
    pub(crate) locks: Arc<LockManager>,
    /// The transactions of this server process (see `crate::txn`).
    pub(crate) txns: Arc<TxnManager>,
    /// The server's metrics (see `crate::metrics`), served at `/metrics`.
    pub(crate) metrics: crate::metrics::Metrics,
    /// When v1 is deprecated and sunset, as its answers announce it.
    pub(crate) retirement: crate::api_version::Retirement,
    /// The conflict log and its subscribers (see `crate::conflicts`).
    pub(crate) conflicts: Arc<Conflicts>,
}

/// The routes of the reference server, without rate limiting.
pub(crate) fn routes(state: AppState) -> Router {
    Router::new()
        .merge(item_routes::routes(state.retirement))
        .route("/batch", post(batch::batch))
        .route("/transactions", post(transactions::begin))
        .route(
            "/transactions/{id}",
            get(transactions::show).delete(transactions::rollback),
        )
        .route("/transactions/{id}/commit", post(transactions::commit))
        .route("/conflicts", get(conflicts::list))
        .route("/conflicts/stream", get(conflicts::stream))
        .route("/conflicts/{id}", get(conflicts::show))
        .route("/conflicts/{id}/resolve", post(conflicts::resolve))
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// Runs a storage call: on the blocking pool when the store may wait on I/O (SQLite,
/// PostgreSQL), on this thread when it does not (memory). Handing a call to the pool and back
/// costs two thread wake-ups, which were most of a memory write's CPU time (in the kernel;
/// docs/performance.md, "Reference server throughput").
pub(crate) async fn blocking<T, F>(store: &Arc<dyn Store>, f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
{
    if !store.blocks() {
        // A panicking call fails like one on the pool does: a storage error, not a lost task.
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&**store)))
            .unwrap_or_else(|_| Err(StoreError::from_message("storage task failed: it panicked")));
    }
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(&*store))
        .await
        .unwrap_or_else(|err| Err(StoreError::from_task(&err)))
}

async fn unknown_route(uri: Uri) -> Problem {
    if let Some(problem) = crate::api_version::unknown_prefix(uri.path()) {
        return problem;
    }
    Problem::new(
        ProblemKind::NotFound,
        uri.path(),
        format!(
            "nothing is served at {}; this server serves /items, /items/{{id}}, /items/{{id}}/lock, /items/{{id}}/versions, /items/{{id}}/versions/{{n}} (also under /v1 and /v2), /batch, /transactions, /transactions/{{id}}, /transactions/{{id}}/commit, /conflicts, /conflicts/stream, /conflicts/{{id}} and /conflicts/{{id}}/resolve",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> Problem {
    let allowed = if let Some(allowed) = item_routes::allowed(uri.path()) {
        allowed
    } else if uri.path() == "/items" {
        "GET, HEAD, POST"
    } else if uri.path() == "/batch"
        || uri.path() == "/transactions"
        || is_commit_path(uri.path())
        || is_resolve_path(uri.path())
    {
        "POST"
    } else if uri.path() == "/conflicts" || uri.path().starts_with("/conflicts/") {
        "GET, HEAD"
    } else if uri.path().starts_with("/transactions/") {
        "GET, HEAD, DELETE"
    } else if is_lock_path(uri.path()) {
        "GET, HEAD, POST, PUT, DELETE"
    } else {
        "GET, HEAD, PUT, PATCH, DELETE"
    };
    Problem::new(
        ProblemKind::MethodNotAllowed,
        uri.path(),
        format!(
            "{method} is not supported on {}; use one of {allowed}",
            uri.path()
        ),
    )
    .with_header(header::ALLOW, HeaderValue::from_static(allowed))
}

/// `/transactions/{id}/commit`.
fn is_commit_path(path: &str) -> bool {
    path.strip_prefix("/transactions/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(id, tail)| !id.is_empty() && tail == "commit")
}

/// `/conflicts/{id}/resolve`.
fn is_resolve_path(path: &str) -> bool {
    path.strip_prefix("/conflicts/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(id, tail)| !id.is_empty() && tail == "resolve")
}

/// `/items/{id}/lock`, as opposed to a document whose id happens to be `lock`.
fn is_lock_path(path: &str) -> bool {
    path.strip_prefix("/items/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(id, tail)| !id.is_empty() && tail == "lock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_paths_are_told_from_documents_named_lock() {
        assert!(is_lock_path("/items/a/lock"));
        assert!(!is_lock_path("/items/lock"));
        assert!(!is_lock_path("/items//lock"));
        assert!(!is_lock_path("/items/a/lock/x"));
    }

    #[test]
    fn commit_paths_are_told_from_transactions() {
        assert!(is_commit_path("/transactions/tx-1/commit"));
        assert!(!is_commit_path("/transactions/commit"));
        assert!(!is_commit_path("/transactions/tx-1"));
    }
}
