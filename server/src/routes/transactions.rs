//! `/transactions`: begin (POST), show (GET), roll back (DELETE) and commit
//! (`POST /transactions/{id}/commit`) interactive transactions. What happens inside one is in
//! `inside.rs`; the commit's critical section in `crate::txn::commit`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::OwnedMutexGuard;

use super::request::{read_body, require_json};
use super::response::internal;
use super::txn_response::{begun, commit_answer, not_found, shown, shown_ended, too_many};
use super::{blocking, AppState};
use crate::auth::Author;
use crate::lock::now;
use crate::problem::{Problem, ProblemKind};
use crate::txn::{commit as commit_plan, Found, Outcome, Phase, Tx, TxId};

type TxPath = Result<Path<String>, PathRejection>;

/// The body of `POST /transactions`; every member is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BeginBody {
    ttl_ms: Option<u64>,
}

/// The id of `/transactions/{id}`; one that cannot be an id names no transaction (404).
fn path_id(path: TxPath, instance: &str) -> Result<TxId, Problem> {
    let raw = path.map(|Path(id)| id).unwrap_or_default();
    TxId::parse(raw.as_bytes()).map_err(|_| {
        Problem::new(
            ProblemKind::TransactionNotFound,
            instance,
            format!("{instance} names no transaction; use the Location that POST /transactions answered"),
        )
    })
}

/// The open transaction `id`, locked for this request (requests of one transaction take
/// turns); 404 when it is over or unknown.
pub(super) async fn open_tx(
    app: &AppState,
    id: &TxId,
    instance: &str,
) -> Result<OwnedMutexGuard<Tx>, Problem> {
    match app.txns.find(id, Instant::now()) {
        Found::Open(slot) => {
            let mut tx = slot.lock_owned().await;
            match app.txns.settle(&mut tx, now()) {
                Some(ended) => Err(not_found(id, Some(&ended), instance)),
                None => Ok(tx),
            }
        }
        Found::Ended(ended) => Err(not_found(id, Some(&ended), instance)),
        Found::Unknown => Err(not_found(id, None, instance)),
    }
}

/// `POST /transactions` → 201 with the id; 503 when too many are open.
pub(super) async fn begin(
    State(app): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let bytes = read_body(&headers, body, app.max_body_bytes, instance).await?;
    let asked = if bytes.trim_ascii().is_empty() {
        BeginBody::default()
    } else {
        require_json(&headers, instance)?;
        serde_json::from_slice(&bytes).map_err(|err| {
            Problem::new(
                ProblemKind::MalformedBody,
                instance,
                format!("the transaction options are not valid ({err}); send a JSON object with the optional member ttl_ms (whole milliseconds), or no body for the default"),
            )
        })?
    };
    if asked.ttl_ms == Some(0) {
        return Err(Problem::new(
            ProblemKind::MalformedBody,
            instance,
            "ttl_ms must be at least 1 (milliseconds); leave it out for the default of 30000",
        ));
    }
    let limits = app.txns.limits();
    let ttl = limits.ttl(asked.ttl_ms);
    match app.txns.begin(ttl, now()) {
        Some((id, ttl, expires_at_ms)) => Ok(begun(&id, ttl, expires_at_ms)),
        None => Err(too_many(limits.max_open, instance)),
    }
}

/// `GET /transactions/{id}` → 200 with its state, what it read and what it staged.
pub(super) async fn show(
    State(app): State<AppState>,
    path: TxPath,
    uri: Uri,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = path_id(path, instance)?;
    match app.txns.find(&id, Instant::now()) {
        Found::Open(slot) => {
            let mut tx = slot.lock_owned().await;
            match app.txns.settle(&mut tx, now()) {
                None => Ok(shown(&id, "open", tx.ttl, tx.expires_at_ms, &tx.summary())),
                Some(ended) if !ended.is_gone() => Ok(shown_ended(&id, &ended)),
                Some(ended) => Err(not_found(&id, Some(&ended), instance)),
            }
        }
        Found::Ended(ended) if !ended.is_gone() => Ok(shown_ended(&id, &ended)),
        Found::Ended(ended) => Err(not_found(&id, Some(&ended), instance)),
        Found::Unknown => Err(not_found(&id, None, instance)),
    }
}

/// `DELETE /transactions/{id}` → 204: rolled back, nothing applied.
pub(super) async fn rollback(
    State(app): State<AppState>,
    path: TxPath,
    uri: Uri,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = path_id(path, instance)?;
    let mut tx = open_tx(&app, &id, instance).await?;
    app.txns.end(&mut tx, Outcome::RolledBack, now());
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /transactions/{id}/commit` → 200 with the real tags, 409 when a version it read
/// changed, 423 when a document it writes is locked by someone else. Committing again answers
/// the same while the server remembers the transaction.
pub(super) async fn commit(
    State(app): State<AppState>,
    path: TxPath,
    uri: Uri,
    Author(author): Author,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = path_id(path, instance)?;
    let slot = match app.txns.find(&id, Instant::now()) {
        Found::Open(slot) => slot,
        Found::Ended(ended) => {
            return commit_answer(&id, &ended, instance)
                .ok_or_else(|| not_found(&id, Some(&ended), instance))
        }
        Found::Unknown => return Err(not_found(&id, None, instance)),
    };
    // A second commit of the same transaction waits here for the first, then repeats its answer.
    let mut tx = slot.lock_owned().await;
    if let Some(ended) = app.txns.settle(&mut tx, now()) {
        return commit_answer(&id, &ended, instance)
            .ok_or_else(|| not_found(&id, Some(&ended), instance));
    }
    debug_assert!(matches!(tx.phase, Phase::Open));
    let plan = tx.plan();
    let locks = Arc::clone(&app.locks);
    // A storage failure applies nothing and leaves the transaction open: commit again.
    // The versions it writes are the committing client's.
    let outcome = blocking(&app.store, move |store| {
        commit_plan(store, &locks, &plan, author.as_deref())
    })
    .await
    .map_err(|err| internal(&err, instance))?;
    let ended = app.txns.end(&mut tx, outcome, now());
    drop(tx);
    commit_answer(&id, &ended, instance).ok_or_else(|| not_found(&id, Some(&ended), instance))
}
