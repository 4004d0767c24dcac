//! `POST /batch`: several writes applied all or none.
//!
//! The shape follows JSON:API's atomic operations extension (an ordered list of operations, a
//! local id `lid` for a document created earlier in the batch), with this server's documents
//! and preconditions. The request is read and checked whole before the store is touched; the
//! operations then run in one store critical section while holding the lock table (store
//! first, then table, as every write takes them), so nothing of a batch is visible before all
//! of it is, and the first refusal rolls every earlier operation back.

mod parse;
mod run;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use self::parse::{OpKind, Operation, Target};
use self::run::{Failed, Step};
use super::request::{parse_json, read_body, require_json, transaction_id};
use super::response::{internal, item_path};
use super::{blocking, AppState};
use crate::auth::Author;
use crate::problem::{Problem, ProblemKind};

/// `POST /batch` → 200 with one result per operation, or the first operation's refusal.
pub(super) async fn batch(
    State(app): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Author(author): Author,
    body: Body,
) -> Result<Response, Problem> {
    let instance = uri.path();
    if transaction_id(&headers, instance)?.is_some() {
        return Err(Problem::new(
            ProblemKind::InvalidHeader,
            instance,
            "a batch cannot run inside a transaction: it is applied at once, on its own. Send the batch without Transaction-Id, or send its writes as requests inside the transaction",
        ));
    }
    require_json(&headers, instance)?;
    let bytes = read_body(&headers, body, app.max_body_bytes, instance).await?;
    let ops = parse::operations(
        parse_json(&bytes, instance)?,
        app.max_batch_operations,
        instance,
    )?;
    if app.require_preconditions {
        require_conditions(&ops, instance).inspect_err(|_| app.metrics.batch_refused())?;
    }
    let locks = Arc::clone(&app.locks);
    let mismatch = app.mismatch;
    let outcome = blocking(&app.store, move |store| {
        run::run(store, &locks, &ops, mismatch, author.as_deref())
    })
    .await
    .map_err(|err| internal(&err, instance))?;
    match outcome {
        Ok(steps) => {
            app.metrics.batch_committed();
            Ok(results(&steps))
        }
        Err(failed) => {
            app.metrics.batch_refused();
            Err(refusal(failed, instance))
        }
    }
}

/// 428 for the first `put`, `patch` or `delete` without `if_match`, `if_none_match` or
/// `lock_token`, before anything runs.
fn require_conditions(ops: &[Operation], instance: &str) -> Result<(), Problem> {
    let unconditional = ops.iter().enumerate().find(|(_, op)| {
        matches!(op.kind, OpKind::Put | OpKind::Patch | OpKind::Delete) && !op.is_conditional()
    });
    let Some((index, op)) = unconditional else {
        return Ok(());
    };
    let mut problem = Problem::new(
        ProblemKind::PreconditionRequired,
        instance,
        format!(
            "operation {index} ({}) must be conditional on this server: give it if_match with the ETag you last read (or if_none_match \"*\" to create a new document, or the lock_token of a lock you hold). Nothing was changed",
            op.kind.name()
        ),
    )
    .with_member("operation", Value::from(index))
    .with_member("op", Value::from(op.kind.name()));
    if let Target::Id(id) = &op.target {
        problem = problem.with_member("path", Value::from(item_path(id)));
    }
    Err(problem)
}

/// The refusal of the operation that stopped the batch: its status and type, located by
/// `operation`, `op` and `path`.
fn refusal(failed: Failed, instance: &str) -> Problem {
    let path = failed.id.as_deref().map(item_path);
    let context = match &path {
        Some(path) => format!(
            "operation {} ({} {path}) failed, so nothing of the batch was applied",
            failed.index,
            failed.kind.name()
        ),
        None => format!(
            "operation {} ({}) failed, so nothing of the batch was applied",
            failed.index,
            failed.kind.name()
        ),
    };
    let mut problem = failed
        .problem
        .within(instance, &context)
        .with_member("operation", Value::from(failed.index))
        .with_member("op", Value::from(failed.kind.name()));
    if let Some(path) = path {
        problem = problem.with_member("path", Value::from(path));
    }
    problem
}

/// `200 {"results": [...]}`. Stored bodies are canonical JSON already, so they are spliced in
/// as they are: every `body` is byte for byte what a later GET returns.
fn results(steps: &[Step]) -> Response {
    let mut body = b"{\"results\":[".to_vec();
    for (index, step) in steps.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        let mut result = json!({
            "op": step.kind.name(),
            "status": step.status.as_u16(),
            "path": item_path(&step.id),
        });
        if let Some(doc) = &step.doc {
            result["etag"] = Value::from(doc.etag.to_string());
        }
        // Serializing a `Value` cannot fail.
        let mut text = serde_json::to_vec(&result).unwrap_or_default();
        let with_body = matches!(step.kind, OpKind::Create | OpKind::Put | OpKind::Patch);
        if let (true, Some(doc)) = (with_body, &step.doc) {
            text.pop();
            text.extend_from_slice(b",\"body\":");
            text.extend_from_slice(&doc.body);
            text.push(b'}');
        }
        body.extend_from_slice(&text);
    }
    body.extend_from_slice(b"]}");
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ),
        // The results describe one moment; a cached copy would mislead.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    (StatusCode::OK, headers, body).into_response()
}
