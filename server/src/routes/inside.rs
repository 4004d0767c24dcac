//! `/items` requests with `Transaction-Id`: they act inside an open transaction. They answer
//! as they would outside (status, `ETag`, `Location`, body, problems), plus `Transaction-Id`
//! and `Cache-Control: no-store`, but change nothing outside: reads pin the committed version
//! on first touch (repeatable read) and see the transaction's own writes; writes are judged
//! against that view and staged under provisional tags until the commit.
//!
//! `--require-preconditions` does not apply here: the commit checks every version the
//! transaction saw, which is the condition. Locks are checked at each write (someone else's
//! lock is 423 at once) and again at commit.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::item::unexpected;
use super::items::canonical_json;
use super::lock::lock_path;
use super::lock_response::refused_by_lock;
use super::request::{lock_token, read_body, require_json, require_merge_patch};
use super::response::{internal, not_found};
use super::transactions::in_open_tx;
use super::txn_response::{inside, too_large};
use super::{blocking, AppState};
use crate::api_version::Api;
use crate::lock::{now, LockToken};
use crate::merge_patch;
use crate::precondition::{Current, Method, Preconditions, Verdict};
use crate::problem::Problem;
use crate::storage::{new_id, Document};
use crate::txn::{Tx, TxId};
use crate::MismatchStatus;

/// What the transaction sees of `id`, pinning the committed version when it first touches it.
async fn view(
    app: &AppState,
    tx: &mut Tx,
    id: &str,
    instance: &str,
) -> Result<Option<Document>, Problem> {
    if let Some(view) = tx.view(id) {
        return Ok(view.cloned());
    }
    let limit = app.txns.limits().max_docs;
    tx.room_for_one_more(limit)
        .map_err(|_| too_large(&tx.id, limit, instance))?;
    let key = id.to_owned();
    let doc = blocking(&app.store, move |store| store.get(&key))
        .await
        .map_err(|err| internal(&err, instance))?;
    tx.pin(id, doc.clone(), limit)
        .map_err(|_| too_large(&tx.id, limit, instance))?;
    Ok(doc)
}

/// Someone else's lock refuses the write now; the commit checks again.
async fn gate(
    app: &AppState,
    id: &str,
    token: Option<&LockToken>,
    instance: &str,
) -> Result<(), Problem> {
    let verdict = match app.locks.shared() {
        Some(shared) => shared
            .check(id, token)
            .await
            .map_err(|err| internal(&err, instance))?,
        None => app.locks.table().authorize_write(id, token, now()),
    };
    verdict.map_err(|refusal| refused_by_lock(&refusal, instance, &lock_path(id)))
}

fn judge(
    api: Api,
    pre: &Preconditions,
    current: Option<&Document>,
    mismatch: MismatchStatus,
    instance: &str,
) -> Result<(), Problem> {
    let state = current.map_or(Current::Missing, |doc| Current::Tagged(&doc.etag));
    match pre.evaluate(state, Method::Write) {
        Verdict::Proceed => Ok(()),
        verdict => Err(api.refused(verdict, pre, current, mismatch, instance)),
    }
}

/// `GET`/`HEAD /items/{id}` inside `tx_id`.
pub(super) async fn read(
    app: &AppState,
    api: Api,
    tx_id: TxId,
    id: String,
    instance: &str,
    headers: &HeaderMap,
) -> Response {
    let answer = async {
        let pre = api.preconditions(headers, instance)?;
        in_open_tx(app, &tx_id, instance, async |tx| {
            let doc = view(app, tx, &id, instance)
                .await?
                .ok_or_else(|| not_found(instance))?;
            api.read(&pre, &id, &doc, instance)
        })
        .await
    };
    inside(&tx_id, answer.await)
}

/// `PUT /items/{id}` inside `tx_id`: 201 or 200 with a provisional tag.
pub(super) async fn put(
    app: &AppState,
    api: Api,
    tx_id: TxId,
    id: String,
    instance: &str,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let answer = async {
        let mut pre = api.preconditions(headers, instance)?;
        let token = lock_token(headers, instance)?;
        require_json(headers, instance)?;
        let bytes = read_body(headers, body, app.max_body_bytes, instance).await?;
        let canonical = canonical_json(&api.write_body(&bytes, &mut pre, instance)?);
        in_open_tx(app, &tx_id, instance, async |tx| {
            let current = view(app, tx, &id, instance).await?;
            gate(app, &id, token.as_ref(), instance).await?;
            judge(api, &pre, current.as_ref(), app.mismatch, instance)?;
            let status = if current.is_some() {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            let doc = tx
                .stage(&id, Some(canonical), token, now().unix_ms)
                .ok_or_else(|| unexpected(instance))?;
            Ok::<_, Problem>(api.written(status, &id, &doc))
        })
        .await
    };
    inside(&tx_id, answer.await)
}

/// `PATCH /items/{id}` inside `tx_id`: the merge patch applied to the transaction's view.
pub(super) async fn patch(
    app: &AppState,
    api: Api,
    tx_id: TxId,
    id: String,
    instance: &str,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let answer = async {
        let mut pre = api.preconditions(headers, instance)?;
        let token = lock_token(headers, instance)?;
        require_merge_patch(headers, instance)?;
        let bytes = read_body(headers, body, app.max_body_bytes, instance).await?;
        let patch = api.write_body(&bytes, &mut pre, instance)?;
        in_open_tx(app, &tx_id, instance, async |tx| {
            let current = view(app, tx, &id, instance)
                .await?
                .ok_or_else(|| not_found(instance))?;
            gate(app, &id, token.as_ref(), instance).await?;
            judge(api, &pre, Some(&current), app.mismatch, instance)?;
            let Ok(target) = serde_json::from_slice::<Value>(&current.body) else {
                tracing::error!(%instance, "stored document is not JSON");
                return Err(unexpected(instance));
            };
            let body = canonical_json(&merge_patch::apply(target, &patch));
            let doc = tx
                .stage(&id, Some(body), token, now().unix_ms)
                .ok_or_else(|| unexpected(instance))?;
            Ok(api.written(StatusCode::OK, &id, &doc))
        })
        .await
    };
    inside(&tx_id, answer.await)
}

/// `DELETE /items/{id}` inside `tx_id` → 204.
pub(super) async fn delete(
    app: &AppState,
    api: Api,
    tx_id: TxId,
    id: String,
    instance: &str,
    headers: &HeaderMap,
) -> Response {
    let answer = async {
        let pre = api.preconditions(headers, instance)?;
        let token = lock_token(headers, instance)?;
        in_open_tx(app, &tx_id, instance, async |tx| {
            let current = view(app, tx, &id, instance)
                .await?
                .ok_or_else(|| not_found(instance))?;
            gate(app, &id, token.as_ref(), instance).await?;
            judge(api, &pre, Some(&current), app.mismatch, instance)?;
            tx.stage(&id, None, token, now().unix_ms);
            Ok::<_, Problem>(StatusCode::NO_CONTENT.into_response())
        })
        .await
    };
    inside(&tx_id, answer.await)
}

/// `POST /items` inside `tx_id`: 201 with a reserved id; the document is created at commit.
pub(super) async fn create(
    app: &AppState,
    api: Api,
    tx_id: TxId,
    instance: &str,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let answer = async {
        let mut pre = api.preconditions(headers, instance)?;
        require_json(headers, instance)?;
        let bytes = read_body(headers, body, app.max_body_bytes, instance).await?;
        let canonical = canonical_json(&api.write_body(&bytes, &mut pre, instance)?);
        // The collection exists but has no entity tag: only `If-Match: *` can hold.
        let verdict = pre.evaluate(Current::Untagged, Method::Write);
        if verdict != Verdict::Proceed {
            return Err(api.refused(verdict, &pre, None, app.mismatch, instance));
        }
        in_open_tx(app, &tx_id, instance, async |tx| {
            let limit = app.txns.limits().max_docs;
            tx.room_for_one_more(limit)
                .map_err(|_| too_large(&tx_id, limit, instance))?;
            let id = loop {
                let id = new_id();
                if tx.view(&id).is_some() {
                    continue;
                }
                let key = id.clone();
                let stored = blocking(&app.store, move |store| store.get(&key))
                    .await
                    .map_err(|err| internal(&err, instance))?;
                if stored.is_none() {
                    break id;
                }
            };
            // Pinned as absent: should someone create the same id before the commit, it conflicts.
            tx.pin(&id, None, limit)
                .map_err(|_| too_large(&tx_id, limit, instance))?;
            let doc = tx
                .stage(&id, Some(canonical), None, now().unix_ms)
                .ok_or_else(|| unexpected(instance))?;
            Ok(api.written(StatusCode::CREATED, &id, &doc))
        })
        .await
    };
    inside(&tx_id, answer.await)
}
