//! One document, `/items/{id}`: read, create-or-replace, merge-patch, delete.
//!
//! Writes respect pessimistic locks. The lock check runs inside the store's critical section,
//! right before the write is decided, while holding the lock table: a lock cannot be released,
//! broken, expire or change hands between "this token holds the lock" and the write. (The other
//! way, holding a per-document lock of the lock manager while the store writes, would need an
//! async mutex per document held across storage I/O; the store already serializes every write,
//! and the table is held inside it only for a few comparisons.) A lock that changes hands just
//! after the decision is fine: the new holder can read only through the store, so it sees the
//! write. The order is always store first, then table; lock requests take them in that order
//! too, and nothing holds the table while waiting for the store.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::items::canonical_json;
use super::lock::lock_path;
use super::lock_response::refused_by_lock;
use super::prefer::wants_representation;
use super::request::{
    item_id, lock_token, read_body, require_json, require_merge_patch, transaction_id,
};
use super::response::{internal, not_found};
use super::{blocking, inside, AppState};
use crate::api_version::Api;
use crate::auth::Author;
use crate::lock::{Gate, LockManager, LockToken, Refusal};
use crate::merge_patch;
use crate::precondition::{Current, Method, Preconditions, Verdict};
use crate::problem::{Problem, ProblemKind};
use crate::storage::{Applied, Decision, Document, StoreError};

pub(super) type IdPath = Result<Path<String>, PathRejection>;

fn current(doc: Option<&Document>) -> Current<'_> {
    doc.map_or(Current::Missing, |doc| Current::Tagged(&doc.etag))
}

/// 428 when the server demands conditional writes and the request has no condition. A lock
/// token counts as one: while it is valid, nobody else can have written since the holder read.
fn require_condition(
    app: &AppState,
    pre: &Preconditions,
    token: Option<&LockToken>,
    method: &str,
    instance: &str,
) -> Result<(), Problem> {
    if app.require_preconditions && pre.is_unconditional() && token.is_none() {
        return Err(Problem::new(
            ProblemKind::PreconditionRequired,
            instance,
            format!(
                "{method} {instance} must be conditional on this server: send If-Match with the ETag you last read (or If-None-Match: * to create a new document, or the Lock-Token of a lock you hold)"
            ),
        ));
    }
    Ok(())
}

/// Whether a write carrying `token` may touch `id` now; called inside the store's critical
/// section (see the module documentation). An in-memory table stays locked as long as the
/// caller keeps the gate, so a DELETE can end the lock in the same step.
fn lock_gate<'a>(
    locks: &'a LockManager,
    id: &str,
    token: Option<&LockToken>,
) -> Result<Result<Gate<'a>, Refusal>, StoreError> {
    let mut gate = locks.gate();
    Ok(gate.authorize_write(id, token)?.map(|()| gate))
}

/// `GET`/`HEAD /items/{id}` → 200 with the tag, or 304 when `If-None-Match` matches.
pub(super) async fn read(
    State(app): State<AppState>,
    path: IdPath,
    uri: Uri,
    headers: HeaderMap,
    api: Api,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = item_id(path, instance)?;
    if let Some(tx) = transaction_id(&headers, instance)? {
        return Ok(inside::read(&app, api, tx, id, instance, &headers).await);
    }
    let pre = api.preconditions(&headers, instance)?;
    let key = id.clone();
    let doc = blocking(&app.store, move |store| store.get(&key))
        .await
        .map_err(|err| internal(&err, instance))?
        .ok_or_else(|| not_found(instance))?;
    api.read(&pre, &id, &doc, instance)
}

/// `PUT /items/{id}`: create (201) or replace (200), compare-and-swap on the preconditions.
pub(super) async fn put(
    State(app): State<AppState>,
    path: IdPath,
    uri: Uri,
    headers: HeaderMap,
    api: Api,
    Author(author): Author,
    body: Body,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = item_id(path, instance)?;
    if let Some(tx) = transaction_id(&headers, instance)? {
        return Ok(inside::put(&app, api, tx, id, instance, &headers, body).await);
    }
    let mut pre = api.preconditions(&headers, instance)?;
    let token = lock_token(&headers, instance)?;
    if api.conditions_in_headers_only() {
        require_condition(&app, &pre, token.as_ref(), "PUT", instance)?;
    }
    require_json(&headers, instance)?;
    let bytes = read_body(&headers, body, app.max_body_bytes, instance).await?;
    let canonical = canonical_json(&api.write_body(&bytes, &mut pre, instance)?);
    require_condition(&app, &pre, token.as_ref(), "PUT", instance)?;
    let judged = pre.clone();
    let doc_id = id.clone();
    let locks_path = lock_path(&id);
    let locks = Arc::clone(&app.locks);
    let (applied, verdict, refusal) = blocking(&app.store, move |store| {
        let mut verdict = Verdict::Proceed;
        let mut refusal = None;
        let mut body = Some(canonical);
        let mut failure = None;
        let applied = store.apply_as(&id, author.as_deref(), &mut |doc| {
            let _gate = match lock_gate(&locks, &id, token.as_ref()) {
                Ok(Ok(gate)) => gate,
                Ok(Err(refused)) => {
                    refusal = Some(refused);
                    return Decision::Abort;
                }
                Err(err) => {
                    failure = Some(err);
                    return Decision::Abort;
                }
            };
            verdict = pre.evaluate(current(doc), Method::Write);
            match verdict {
                Verdict::Proceed => body.take().map_or(Decision::Abort, Decision::Write),
                _ => Decision::Abort,
            }
        })?;
        failure.map_or(Ok(()), Err)?;
        Ok((applied, verdict, refusal))
    })
    .await
    .map_err(|err| internal(&err, instance))?;
    if let Some(refusal) = refusal {
        return Err(refused_by_lock(&refusal, instance, &locks_path).with_observed(seen(&applied)));
    }
    match applied {
        Applied::Written { doc, created: true } => {
            Ok(api.written(StatusCode::CREATED, &doc_id, &doc))
        }
        Applied::Written {
            doc,
            created: false,
        } => Ok(api.written(StatusCode::OK, &doc_id, &doc)),
        Applied::Aborted { current } => Err(api.with_representation(
            api.refused(verdict, &judged, current.as_ref(), app.mismatch, instance),
            wants_representation(&headers),
            &doc_id,
            current.as_ref(),
        )),
        Applied::Deleted => Err(unexpected(instance)),
    }
}

/// How a PATCH decision went, for the answer.
enum PatchStep {
    Missing,
    Locked(Refusal),
    Refused(Verdict),
    CorruptStoredDocument(String),
    Applied,
}

/// `PATCH /items/{id}` with a JSON Merge Patch, applied inside the store's critical section.
pub(super) async fn patch(
    State(app): State<AppState>,
    path: IdPath,
    uri: Uri,
    headers: HeaderMap,
    api: Api,
    Author(author): Author,
    body: Body,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = item_id(path, instance)?;
    if let Some(tx) = transaction_id(&headers, instance)? {
        return Ok(inside::patch(&app, api, tx, id, instance, &headers, body).await);
    }
    let mut pre = api.preconditions(&headers, instance)?;
    let token = lock_token(&headers, instance)?;
    if api.conditions_in_headers_only() {
        require_condition(&app, &pre, token.as_ref(), "PATCH", instance)?;
    }
    require_merge_patch(&headers, instance)?;
    let bytes = read_body(&headers, body, app.max_body_bytes, instance).await?;
    let patch = api.write_body(&bytes, &mut pre, instance)?;
    require_condition(&app, &pre, token.as_ref(), "PATCH", instance)?;
    let judged = pre.clone();
    let doc_id = id.clone();
    let locks_path = lock_path(&id);
    let locks = Arc::clone(&app.locks);
    let (applied, step) = blocking(&app.store, move |store| {
        let mut step = PatchStep::Applied;
        let mut failure = None;
        let applied = store.apply_as(&id, author.as_deref(), &mut |doc| {
            let Some(doc) = doc else {
                step = PatchStep::Missing;
                return Decision::Abort;
            };
            let _gate = match lock_gate(&locks, &id, token.as_ref()) {
                Ok(Ok(gate)) => gate,
                Ok(Err(refusal)) => {
                    step = PatchStep::Locked(refusal);
                    return Decision::Abort;
                }
                Err(err) => {
                    failure = Some(err);
                    return Decision::Abort;
                }
            };
            let verdict = pre.evaluate(current(Some(doc)), Method::Write);
            if verdict != Verdict::Proceed {
                step = PatchStep::Refused(verdict);
                return Decision::Abort;
            }
            match serde_json::from_slice(&doc.body) {
                Ok(target) => Decision::Write(canonical_json(&merge_patch::apply(target, &patch))),
                Err(err) => {
                    step = PatchStep::CorruptStoredDocument(err.to_string());
                    Decision::Abort
                }
            }
        })?;
        failure.map_or(Ok(()), Err)?;
        Ok((applied, step))
    })
    .await
    .map_err(|err| internal(&err, instance))?;
    match (applied, step) {
        (Applied::Written { doc, .. }, _) => Ok(api.written(StatusCode::OK, &doc_id, &doc)),
        (_, PatchStep::Missing) => Err(not_found(instance)),
        (applied, PatchStep::Locked(refusal)) => {
            Err(refused_by_lock(&refusal, instance, &locks_path).with_observed(seen(&applied)))
        }
        (Applied::Aborted { current }, PatchStep::Refused(verdict)) => Err(api
            .with_representation(
                api.refused(verdict, &judged, current.as_ref(), app.mismatch, instance),
                wants_representation(&headers),
                &doc_id,
                current.as_ref(),
            )),
        (_, PatchStep::CorruptStoredDocument(reason)) => {
            tracing::error!(%instance, %reason, "stored document is not JSON");
            Err(unexpected(instance))
        }
        _ => Err(unexpected(instance)),
    }
}

/// `DELETE /items/{id}` → 204; a missing document is 404 whatever the preconditions say.
pub(super) async fn delete(
    State(app): State<AppState>,
    path: IdPath,
    uri: Uri,
    headers: HeaderMap,
    api: Api,
    Author(author): Author,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = item_id(path, instance)?;
    if let Some(tx) = transaction_id(&headers, instance)? {
        return Ok(inside::delete(&app, api, tx, id, instance, &headers).await);
    }
    let pre = api.preconditions(&headers, instance)?;
    let judged = pre.clone();
    let token = lock_token(&headers, instance)?;
    require_condition(&app, &pre, token.as_ref(), "DELETE", instance)?;
    let doc_id = id.clone();
    let locks_path = lock_path(&id);
    let locks = Arc::clone(&app.locks);
    let (applied, verdict, refusal) = blocking(&app.store, move |store| {
        let mut verdict = Verdict::Proceed;
        let mut refusal = None;
        let mut failure = None;
        let applied = store.apply_as(&id, author.as_deref(), &mut |doc| {
            if doc.is_none() {
                return Decision::Abort;
            }
            let mut gate = match lock_gate(&locks, &id, token.as_ref()) {
                Ok(Ok(gate)) => gate,
                Ok(Err(refused)) => {
                    refusal = Some(refused);
                    return Decision::Abort;
                }
                Err(err) => {
                    failure = Some(err);
                    return Decision::Abort;
                }
            };
            verdict = pre.evaluate(current(doc), Method::Write);
            match verdict {
                Verdict::Proceed => {
                    // A deleted document's lock ends with it (RFC 4918 §9.6), and those
                    // waiting for it are told it is gone. Should the storage then fail to
                    // delete, the holder has lost its lock for nothing; it gets a 500 and can
                    // lock again.
                    match gate.destroy(&id) {
                        Ok(()) => Decision::Delete,
                        Err(err) => {
                            failure = Some(err);
                            Decision::Abort
                        }
                    }
                }
                _ => Decision::Abort,
            }
        })?;
        failure.map_or(Ok(()), Err)?;
        Ok((applied, verdict, refusal))
    })
    .await
    .map_err(|err| internal(&err, instance))?;
    if let Some(refusal) = refusal {
        return Err(refused_by_lock(&refusal, instance, &locks_path).with_observed(seen(&applied)));
    }
    match applied {
        Applied::Deleted => Ok(StatusCode::NO_CONTENT.into_response()),
        Applied::Aborted { current: None } => Err(not_found(instance)),
        Applied::Aborted { current } => Err(api.with_representation(
            api.refused(verdict, &judged, current.as_ref(), app.mismatch, instance),
            wants_representation(&headers),
            &doc_id,
            current.as_ref(),
        )),
        Applied::Written { .. } => Err(unexpected(instance)),
    }
}

/// The tag a refused write saw, for the conflict log (`Problem::with_observed`).
fn seen(applied: &Applied) -> Option<crate::etag::EntityTag> {
    match applied {
        Applied::Aborted { current } => current.as_ref().map(|doc| doc.etag.clone()),
        _ => None,
    }
}

/// A storage outcome the decision could not have asked for.
pub(super) fn unexpected(instance: &str) -> Problem {
    tracing::error!(%instance, "storage returned an outcome that contradicts the decision");
    Problem::new(
        ProblemKind::Internal,
        instance,
        "the server reached an inconsistent state while handling this request; retry, and report it if it persists",
    )
}
