//! Carrying a resolution out: one conditional write through the store's normal write path
//! (`Store::apply_as`, so the history records it with its author), with the lock checked in
//! the same critical section, as `routes/item.rs` does for a single write.

use std::sync::Arc;

use axum::http::Method;
use serde_json::Value;

use super::Request;
use crate::conflicts::record::{v1_tag, Choice, Record};
use crate::lock::{now, Refusal};
use crate::merge_patch;
use crate::problem::{Problem, ProblemKind};
use crate::routes::items::canonical_json;
use crate::routes::lock::lock_path;
use crate::routes::lock_response::refused_by_lock;
use crate::routes::response::internal;
use crate::routes::{blocking, AppState};
use crate::storage::{Applied, Decision, Document};

/// What a resolution did.
#[derive(Debug)]
pub(super) struct Outcome {
    pub(super) choice: Choice,
    /// The document after it (`None`: deleted or absent).
    pub(super) doc: Option<Document>,
}

/// What a resolution writes, decided before the store is touched.
#[derive(Debug, Clone)]
enum Action {
    Keep,
    Put(Vec<u8>),
    Patch(Value),
    Delete,
}

/// How the decision inside the store went.
enum Step {
    Done,
    Locked(Refusal),
    Stale,
    CorruptStoredDocument,
}

/// Resolves `record` as `request` asks, written by `author`.
pub(super) async fn plan(
    app: &AppState,
    record: &Record,
    request: Request,
    author: Option<String>,
    instance: &str,
) -> Result<Outcome, Problem> {
    let action = action(record, &request, instance)?;
    let Some(id) = record.doc_id.clone() else {
        // A refused create names no document: only `theirs` (nothing to write) gets here.
        return Ok(Outcome {
            choice: request.choice,
            doc: None,
        });
    };
    let locks = Arc::clone(&app.locks);
    let expected = request
        .expected
        .as_ref()
        .map(|tag| (tag.is_weak(), v1_tag(tag)));
    let token = request.lock_token;
    let key = id.clone();
    let (applied, step) = blocking(&app.store, move |store| {
        let mut step = Step::Done;
        let applied = store.apply_as(&key, author.as_deref(), &mut |doc| {
            let mut table = locks.table();
            if !matches!(action, Action::Keep) {
                if let Err(refusal) = table.authorize_write(&key, token.as_ref(), now()) {
                    step = Step::Locked(refusal);
                    return Decision::Abort;
                }
            }
            let holds = match (&expected, doc) {
                (None, None) => true,
                (Some((false, tag)), Some(doc)) => *tag == v1_tag(&doc.etag),
                _ => false,
            };
            if !holds {
                step = Step::Stale;
                return Decision::Abort;
            }
            match (&action, doc) {
                (Action::Keep, _) => Decision::Abort,
                (Action::Put(body), _) => Decision::Write(body.clone()),
                (Action::Patch(patch), Some(doc)) => match serde_json::from_slice(&doc.body) {
                    Ok(target) => {
                        Decision::Write(canonical_json(&merge_patch::apply(target, patch)))
                    }
                    Err(_) => {
                        step = Step::CorruptStoredDocument;
                        Decision::Abort
                    }
                },
                (Action::Delete, Some(_)) => {
                    // The document's lock ends with it, as for a DELETE.
                    table.destroy(&key);
                    Decision::Delete
                }
                // A patch or delete of a document that is absent as expected: nothing to do.
                (Action::Patch(_) | Action::Delete, None) => Decision::Abort,
            }
        })?;
        Ok((applied, step))
    })
    .await
    .map_err(|err| internal(&err, instance))?;
    let doc = match (step, applied) {
        (Step::Locked(refusal), _) => {
            return Err(refused_by_lock(&refusal, instance, &lock_path(&id)))
        }
        (Step::Stale, Applied::Aborted { current }) => {
            return Err(stale(
                record,
                request.expected.as_ref(),
                current.as_ref(),
                instance,
            ))
        }
        (Step::CorruptStoredDocument, _) => {
            tracing::error!(%instance, "stored document is not JSON");
            return Err(Problem::new(
                ProblemKind::Internal,
                instance,
                "the stored document could not be read; nothing was changed. Report it if it persists",
            ));
        }
        (_, Applied::Written { doc, .. }) => Some(doc),
        (_, Applied::Aborted { current }) => current,
        (_, Applied::Deleted) => None,
    };
    Ok(Outcome {
        choice: request.choice,
        doc,
    })
}

/// What the choice writes; 400 when it cannot be carried out.
fn action(record: &Record, request: &Request, instance: &str) -> Result<Action, Problem> {
    let refuse = |detail: String| Problem::new(ProblemKind::MalformedBody, instance, detail);
    if record.doc_id.is_none() && request.choice != Choice::Theirs {
        return Err(refuse(format!(
            "{} is a refused create (POST /items), which names no document to write; send the POST again (without the precondition that failed), or resolve it as theirs",
            record.id
        )));
    }
    match request.choice {
        Choice::Theirs => Ok(Action::Keep),
        Choice::Merged => Ok(Action::Put(canonical_json(
            request.document.as_ref().unwrap_or(&Value::Null),
        ))),
        Choice::Mine => {
            let Some(rejected) = &record.rejected else {
                return Err(refuse(format!(
                    "{} is a transaction conflict, which keeps no single write to replay; resolve it as theirs, or as merged with the document to write",
                    record.id
                )));
            };
            let method = record.method.as_str();
            if method == Method::DELETE {
                return Ok(Action::Delete);
            }
            let Some(body) = &rejected.body else {
                return Err(refuse(format!(
                    "the body of {} was larger than the server keeps (--conflict-body-limit), so it cannot be replayed; resolve it as merged with the document to write",
                    record.id
                )));
            };
            Ok(if method == Method::PATCH {
                Action::Patch(body.clone())
            } else {
                Action::Put(canonical_json(body))
            })
        }
    }
}

/// 412 for a document that changed since the version the resolution is conditional on.
fn stale(
    record: &Record,
    expected: Option<&crate::etag::EntityTag>,
    current: Option<&Document>,
    instance: &str,
) -> Problem {
    let was = expected.map_or_else(|| "absent".to_owned(), |tag| format!("at {tag}"));
    let now = current.map_or_else(
        || "it is absent".to_owned(),
        |doc| format!("it is at {}", doc.etag),
    );
    let advice = current.map_or_else(
        || "resolve it again with the version you want to replace".to_owned(),
        |doc| {
            format!(
                "read it again and resolve with \"if_match\": {:?}",
                doc.etag.to_string()
            )
        },
    );
    Problem::new(
        ProblemKind::PreconditionFailed,
        instance,
        format!(
            "{} changed since the resolution's version: it was {was}, and {now}. Nothing was changed and {} stays open; {advice}",
            record.resource, record.id
        ),
    )
    .with_current_etag(current.map(|doc| doc.etag.clone()))
}
