//! The HTTP surface: routes, the shared state, and problem+json fallbacks.

mod item;
mod items;
mod request;
mod response;

use std::sync::Arc;

use axum::http::{header, HeaderValue, Method, Uri};
use axum::routing::get;
use axum::Router;

use crate::problem::{Problem, ProblemKind};
use crate::storage::{Store, StoreError};
use crate::MismatchStatus;

/// What every handler needs.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) mismatch: MismatchStatus,
    pub(crate) require_preconditions: bool,
    pub(crate) max_body_bytes: usize,
}

/// The routes of the reference server, without rate limiting.
pub(crate) fn routes(state: AppState) -> Router {
    Router::new()
        .route("/items", get(items::list).post(items::create))
        .route(
            "/items/{id}",
            get(item::read)
                .put(item::put)
                .patch(item::patch)
                .delete(item::delete),
        )
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// Runs a storage call on the blocking pool, since SQLite does file I/O.
pub(crate) async fn blocking<T, F>(store: &Arc<dyn Store>, f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
{
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(&*store))
        .await
        .unwrap_or_else(|err| Err(StoreError::from_task(&err)))
}

async fn unknown_route(uri: Uri) -> Problem {
    Problem::new(
        ProblemKind::NotFound,
        uri.path(),
        format!(
            "nothing is served at {}; this server serves /items and /items/{{id}}",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> Problem {
    let allowed = if uri.path() == "/items" {
        "GET, HEAD, POST"
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
