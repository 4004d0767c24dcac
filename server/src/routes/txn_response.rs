//! The answers about transactions: the begin, the state, the commit, and the refusals.

use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::lock::lock_path;
use super::lock_response::refused_by_lock;
use super::request::TRANSACTION_ID;
use super::response::item_path;
use crate::etag::EntityTag;
use crate::lock::millis;
use crate::problem::{Problem, ProblemKind};
use crate::txn::{CommitResult, Conflict, Ended, Outcome, Summary, TxId};

/// `/transactions/{id}`.
pub(super) fn transaction_path(id: &TxId) -> String {
    format!("/transactions/{id}")
}

fn json_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // A transaction changes by itself (expiry); a cached copy would be wrong at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers
}

/// `201` for `POST /transactions`.
pub(super) fn begun(id: &TxId, ttl: Duration, expires_at_ms: u64) -> Response {
    let body = json!({
        "id": id.as_str(),
        "state": "open",
        "expires_at_ms": expires_at_ms,
        "ttl_ms": millis(ttl),
    });
    let mut headers = json_headers();
    if let Ok(value) = HeaderValue::from_str(&transaction_path(id)) {
        headers.insert(header::LOCATION, value);
    }
    (StatusCode::CREATED, headers, body.to_string()).into_response()
}

fn tag_value(etag: Option<&EntityTag>) -> Value {
    etag.map_or(Value::Null, |tag| Value::from(tag.to_string()))
}

fn pairs(list: &[(String, Option<EntityTag>)]) -> Value {
    list.iter()
        .map(|(id, etag)| json!({"path": item_path(id), "etag": tag_value(etag.as_ref())}))
        .collect()
}

/// `200` for `GET /transactions/{id}`: `reads` are the versions the commit will check (`etag`
/// null: absent), `writes` the staged documents with their provisional tags (null: deleted).
pub(super) fn shown(
    id: &TxId,
    state: &str,
    ttl: Duration,
    expires_at_ms: u64,
    summary: &Summary,
) -> Response {
    let body = json!({
        "id": id.as_str(),
        "state": state,
        "expires_at_ms": expires_at_ms,
        "ttl_ms": millis(ttl),
        "reads": pairs(&summary.reads),
        "writes": pairs(&summary.writes),
    });
    (StatusCode::OK, json_headers(), body.to_string()).into_response()
}

/// `GET /transactions/{id}` of an ended transaction the server still shows (committed, aborted).
pub(super) fn shown_ended(id: &TxId, ended: &Ended) -> Response {
    shown(
        id,
        ended.state(),
        ended.ttl,
        ended.expires_at_ms,
        &ended.summary,
    )
}

/// Adds `Transaction-Id` and `Cache-Control: no-store` to an answer given inside `id`: the
/// answer describes the transaction's view, which nobody else shares.
pub(super) fn inside(id: &TxId, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        headers.insert(TRANSACTION_ID, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

const BEGIN_AGAIN: &str = "begin a new one with POST /transactions";

/// `404 transaction-not-found`, saying why as far as the server remembers.
pub(super) fn not_found(id: &TxId, ended: Option<&Ended>, instance: &str) -> Problem {
    let detail = match ended.map(|ended| (&ended.outcome, ended)) {
        None => format!(
            "no transaction {id} is known to this server: it never existed, or it ended long enough ago (or before a restart) that the server forgot it. Nothing of it was applied unless its commit answered 200; {BEGIN_AGAIN}"
        ),
        Some((Outcome::Expired, ended)) => format!(
            "transaction {id} expired at expires_at_ms {} without being committed and was rolled back; nothing of it was applied. Commit sooner or ask for a longer ttl_ms, and {BEGIN_AGAIN}",
            ended.expires_at_ms
        ),
        Some((Outcome::RolledBack, ended)) => format!(
            "transaction {id} was rolled back (at {} Unix ms); nothing of it was applied. To act in a transaction again, {BEGIN_AGAIN}",
            ended.ended_at_ms
        ),
        Some((Outcome::Committed(_), _)) => format!(
            "transaction {id} is already committed, so it can no longer change (committing it again repeats the commit's answer); {BEGIN_AGAIN}"
        ),
        Some((Outcome::Conflict(_) | Outcome::Locked { .. }, _)) => format!(
            "transaction {id} is over: its commit was refused and nothing of it was applied (committing it again repeats that answer); {BEGIN_AGAIN} and run it again"
        ),
    };
    Problem::new(ProblemKind::TransactionNotFound, instance, detail)
}

/// `503 too-many-transactions` with `Retry-After: 1`.
pub(super) fn too_many(limit: usize, instance: &str) -> Problem {
    Problem::new(
        ProblemKind::TooManyTransactions,
        instance,
        format!("{limit} transactions are open, the most this server keeps at once; retry in a second (Retry-After), and commit or roll back transactions you no longer need"),
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from(1))
}

/// `400 transaction-too-large`.
/// 429, as for the other per-client caps (conflict streams): this client asks for too much,
/// the server is not full; other clients still begin.
pub(super) fn too_many_of_client(limit: usize, instance: &str) -> Problem {
    Problem::new(
        ProblemKind::TooManyClientTransactions,
        instance,
        format!("you have {limit} transactions open, the most this server keeps for one client; commit or roll back one you no longer need, or retry after Retry-After seconds"),
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from(1))
}

pub(super) fn too_large(id: &TxId, limit: usize, instance: &str) -> Problem {
    Problem::new(
        ProblemKind::TransactionTooLarge,
        instance,
        format!("transaction {id} already read or wrote {limit} documents, the most one transaction may touch on this server; this request was not carried out. Commit what you have and continue in a new transaction, or split the work"),
    )
}

/// The answer of a commit, also when repeated; `None` for transactions that ended otherwise.
pub(super) fn commit_answer(id: &TxId, ended: &Ended, instance: &str) -> Option<Response> {
    Some(match &ended.outcome {
        Outcome::Committed(results) => committed(id, results),
        Outcome::Conflict(conflicts) => conflict(id, conflicts, instance).into_response(),
        Outcome::Locked { id: doc, refusal } => {
            let path = item_path(doc);
            let context = format!(
                "the commit of transaction {id} was refused, nothing of it was applied and the transaction is over ({BEGIN_AGAIN} and run it again)"
            );
            // The commit checked every pinned version just before the locks: what it pinned
            // is what is stored.
            let seen = ended
                .summary
                .reads
                .iter()
                .find(|(read, _)| read == doc)
                .and_then(|(_, etag)| etag.clone());
            refused_by_lock(refusal, &path, &lock_path(doc))
                .with_observed(seen)
                .within(instance, &context)
                .with_member("path", Value::from(path))
                .into_response()
        }
        Outcome::RolledBack | Outcome::Expired => return None,
    })
}

fn committed(id: &TxId, results: &[CommitResult]) -> Response {
    let results: Vec<Value> = results
        .iter()
        .map(|result| {
            let mut value = json!({"path": item_path(&result.id), "status": result.status});
            if let Some(etag) = &result.etag {
                value["etag"] = Value::from(etag.to_string());
            }
            value
        })
        .collect();
    let body = json!({"id": id.as_str(), "state": "committed", "results": results});
    (StatusCode::OK, json_headers(), body.to_string()).into_response()
}

fn conflict(id: &TxId, conflicts: &[Conflict], instance: &str) -> Problem {
    let paths: Vec<String> = conflicts.iter().map(|c| item_path(&c.id)).collect();
    let list: Vec<Value> = conflicts
        .iter()
        .map(|c| {
            json!({
                "path": item_path(&c.id),
                "read_etag": tag_value(c.read_etag.as_ref()),
                "current_etag": tag_value(c.current_etag.as_ref()),
            })
        })
        .collect();
    Problem::new(
        ProblemKind::TransactionConflict,
        instance,
        format!(
            "transaction {id} read versions that changed before its commit ({}), so nothing of it was applied and it is over; {BEGIN_AGAIN} and run it again (read again, decide again, write again)",
            paths.join(", ")
        ),
    )
    .with_member("conflicts", Value::Array(list))
    .with_observed(conflicts.first().and_then(|c| c.current_etag.clone()))
}
