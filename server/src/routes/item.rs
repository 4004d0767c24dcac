//! One document, `/items/{id}`: read, create-or-replace, merge-patch, delete.

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::items::canonical_json;
use super::request::{
    item_id, parse_json, preconditions, read_body, require_json, require_merge_patch,
};
use super::response::{document, internal, item_path, not_found, not_modified, refused, written};
use super::{blocking, AppState};
use crate::merge_patch;
use crate::precondition::{Current, Method, Preconditions, Verdict};
use crate::problem::{Problem, ProblemKind};
use crate::storage::{Applied, Decision, Document};
use crate::MismatchStatus;

type IdPath = Result<Path<String>, PathRejection>;

fn current(doc: Option<&Document>) -> Current<'_> {
    doc.map_or(Current::Missing, |doc| Current::Tagged(&doc.etag))
}

/// 428 when the server demands conditional writes and the request has no condition.
fn require_condition(
    app: &AppState,
    pre: &Preconditions,
    method: &str,
    instance: &str,
) -> Result<(), Problem> {
    if app.require_preconditions && pre.is_unconditional() {
        return Err(Problem::new(
            ProblemKind::PreconditionRequired,
            instance,
            format!(
                "{method} {instance} must be conditional on this server: send If-Match with the ETag you last read (or If-None-Match: * to create a new document)"
            ),
        ));
    }
    Ok(())
}

/// `GET`/`HEAD /items/{id}` → 200 with the tag, or 304 when `If-None-Match` matches.
pub(super) async fn read(
    State(app): State<AppState>,
    path: IdPath,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = item_id(path, instance)?;
    let pre = preconditions(&headers, instance)?;
    let doc = blocking(&app.store, move |store| store.get(&id))
        .await
        .map_err(|err| internal(&err, instance))?
        .ok_or_else(|| not_found(instance))?;
    match pre.evaluate(Current::Tagged(&doc.etag), Method::Read) {
        Verdict::Proceed => Ok(document(StatusCode::OK, &doc, None)),
        Verdict::NotModified => Ok(not_modified(&doc.etag)),
        // The 409 profile is about writes; a read's failed If-Match stays 412.
        verdict => Err(refused(
            verdict,
            Some(&doc),
            MismatchStatus::PreconditionFailed,
            instance,
        )),
    }
}

/// `PUT /items/{id}`: create (201) or replace (200), compare-and-swap on the preconditions.
pub(super) async fn put(
    State(app): State<AppState>,
    path: IdPath,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = item_id(path, instance)?;
    let pre = preconditions(&headers, instance)?;
    require_condition(&app, &pre, "PUT", instance)?;
    require_json(&headers, instance)?;
    let bytes = read_body(&headers, body, app.max_body_bytes, instance).await?;
    let canonical = canonical_json(&parse_json(&bytes, instance)?);
    let location = item_path(&id);
    let (applied, verdict) = blocking(&app.store, move |store| {
        let mut verdict = Verdict::Proceed;
        let mut body = Some(canonical);
        let applied = store.apply(&id, &mut |doc| {
            verdict = pre.evaluate(current(doc), Method::Write);
            match verdict {
                Verdict::Proceed => body.take().map_or(Decision::Abort, Decision::Write),
                _ => Decision::Abort,
            }
        })?;
        Ok((applied, verdict))
    })
    .await
    .map_err(|err| internal(&err, instance))?;
    match applied {
        Applied::Written { doc, created: true } => {
            Ok(written(StatusCode::CREATED, &doc, &location))
        }
        Applied::Written {
            doc,
            created: false,
        } => Ok(written(StatusCode::OK, &doc, &location)),
        Applied::Aborted { current } => {
            Err(refused(verdict, current.as_ref(), app.mismatch, instance))
        }
        Applied::Deleted => Err(unexpected(instance)),
    }
}

/// How a PATCH decision went, for the answer.
enum PatchStep {
    Missing,
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
    body: Body,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = item_id(path, instance)?;
    let pre = preconditions(&headers, instance)?;
    require_condition(&app, &pre, "PATCH", instance)?;
    require_merge_patch(&headers, instance)?;
    let bytes = read_body(&headers, body, app.max_body_bytes, instance).await?;
    let patch = parse_json(&bytes, instance)?;
    let location = item_path(&id);
    let (applied, step) = blocking(&app.store, move |store| {
        let mut step = PatchStep::Applied;
        let applied = store.apply(&id, &mut |doc| {
            let Some(doc) = doc else {
                step = PatchStep::Missing;
                return Decision::Abort;
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
        Ok((applied, step))
    })
    .await
    .map_err(|err| internal(&err, instance))?;
    match (applied, step) {
        (Applied::Written { doc, .. }, _) => Ok(written(StatusCode::OK, &doc, &location)),
        (_, PatchStep::Missing) => Err(not_found(instance)),
        (Applied::Aborted { current }, PatchStep::Refused(verdict)) => {
            Err(refused(verdict, current.as_ref(), app.mismatch, instance))
        }
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
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = item_id(path, instance)?;
    let pre = preconditions(&headers, instance)?;
    require_condition(&app, &pre, "DELETE", instance)?;
    let (applied, verdict) = blocking(&app.store, move |store| {
        let mut verdict = Verdict::Proceed;
        let applied = store.apply(&id, &mut |doc| {
            if doc.is_none() {
                return Decision::Abort;
            }
            verdict = pre.evaluate(current(doc), Method::Write);
            match verdict {
                Verdict::Proceed => Decision::Delete,
                _ => Decision::Abort,
            }
        })?;
        Ok((applied, verdict))
    })
    .await
    .map_err(|err| internal(&err, instance))?;
    match applied {
        Applied::Deleted => Ok(StatusCode::NO_CONTENT.into_response()),
        Applied::Aborted { current: None } => Err(not_found(instance)),
        Applied::Aborted { current } => {
            Err(refused(verdict, current.as_ref(), app.mismatch, instance))
        }
        Applied::Written { .. } => Err(unexpected(instance)),
    }
}

/// A storage outcome the decision could not have asked for.
fn unexpected(instance: &str) -> Problem {
    tracing::error!(%instance, "storage returned an outcome that contradicts the decision");
    Problem::new(
        ProblemKind::Internal,
        instance,
        "the server reached an inconsistent state while handling this request; retry, and report it if it persists",
    )
}
