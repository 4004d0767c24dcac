//! `GET /conflicts` and `GET /conflicts/{id}`.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::query::{self, Route};
use super::record::{parse_id, Record};
use crate::problem::{Problem, ProblemKind};
use crate::routes::response::internal;
use crate::routes::AppState;

/// `200` with JSON, not to be cached: the log changes all the time.
pub(super) fn json(status: StatusCode, body: &Value) -> Response {
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    (status, headers, body.to_string()).into_response()
}

/// `GET /conflicts` → `{"conflicts": [...], "next_after": n|null}`, oldest first.
pub(crate) async fn list(State(app): State<AppState>, uri: Uri) -> Result<Response, Problem> {
    let query = query::parse(uri.query(), Route::List, uri.path())?;
    let (records, next) = app
        .conflicts
        .list(&query.filter, query.after, query.limit)
        .await
        .map_err(|err| internal(&err, uri.path()))?;
    Ok(json(
        StatusCode::OK,
        &json!({"conflicts": records, "next_after": next}),
    ))
}

/// `GET /conflicts/{id}` → the record.
pub(crate) async fn show(
    State(app): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, Problem> {
    let record = find(&app, &id, uri.path()).await?;
    Ok(json(
        StatusCode::OK,
        &serde_json::to_value(&record).unwrap_or_default(),
    ))
}

/// The record `id` names; 404 `conflict-not-found` when unknown or forgotten.
pub(super) async fn find(app: &AppState, id: &str, instance: &str) -> Result<Record, Problem> {
    let kept = match parse_id(id) {
        Some(seq) => app
            .conflicts
            .get(seq)
            .await
            .map_err(|err| internal(&err, instance))?,
        None => None,
    };
    kept.ok_or_else(|| {
            Problem::new(
                ProblemKind::ConflictNotFound,
                instance,
                format!(
                    "no conflict `{}` is kept: it never existed, or the log (the newest {} conflicts) or a restart forgot it. List what is kept with GET /conflicts",
                    id.escape_debug(),
                    app.conflicts.settings.log_size
                ),
            )
        })
}
