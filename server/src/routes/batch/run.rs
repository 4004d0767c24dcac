//! Running checked operations in one store critical section while holding the lock table:
//! each operation is judged against the state the earlier ones left, and the first refusal
//! rolls everything back.

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use serde_json::Value;

use super::parse::{OpKind, Operation, Target};
use crate::lock::{Gate, LockManager, LockToken, Refusal};
use crate::merge_patch;
use crate::precondition::{Current, Method, Verdict};
use crate::problem::{Problem, ProblemKind};
use crate::routes::item::unexpected;
use crate::routes::items::canonical_json;
use crate::routes::lock::lock_path;
use crate::routes::lock_response::refused_by_lock;
use crate::routes::response::{item_path, not_found, refused};
use crate::storage::{Document, Finish, Store, StoreError, Txn};
use crate::MismatchStatus;

/// What one operation did.
#[derive(Debug)]
pub(super) struct Step {
    pub(super) kind: OpKind,
    pub(super) status: StatusCode,
    pub(super) id: String,
    /// The version it wrote or checked; `None` for a delete.
    pub(super) doc: Option<Document>,
}

/// The operation that stopped the batch, and why.
#[derive(Debug)]
pub(super) struct Failed {
    pub(super) index: usize,
    pub(super) kind: OpKind,
    /// The document's id, when the operation names one.
    pub(super) id: Option<String>,
    /// The single request's problem, about the document.
    pub(super) problem: Problem,
}

/// Runs `ops` all or nothing as `author`'s writes. `Ok(Err(_))` is a refusal: nothing was
/// changed.
pub(super) fn run(
    store: &dyn Store,
    locks: &LockManager,
    ops: &[Operation],
    mismatch: MismatchStatus,
    author: Option<&str>,
) -> Result<Result<Vec<Step>, Failed>, StoreError> {
    // The table stays held until after the commit, so a deleted document's lock ends only
    // once the batch is sure to commit, and no lock decision slips in between.
    let mut held: Option<Gate<'_>> = None;
    let mut outcome = None;
    let finish = store.atomically_as(author, &mut |txn| {
        let gate = held.insert(locks.gate());
        let mut batch = Batch {
            txn,
            gate,
            mismatch,
            created: vec![None; ops.len()],
            written_by: HashMap::new(),
            ended_locks: HashSet::new(),
        };
        let mut steps = Vec::with_capacity(ops.len());
        for (index, op) in ops.iter().enumerate() {
            match batch.step(index, op)? {
                Ok(step) => steps.push(step),
                Err(failed) => {
                    outcome = Some(Err(failed));
                    return Ok(Finish::Rollback);
                }
            }
        }
        if batch.gate.is_shared() {
            // In the database, a deleted document's lock ends inside the unit of work, while
            // its advisory lock is still held (see `Gate::is_shared`).
            for id in &batch.ended_locks {
                batch.gate.destroy(id)?;
            }
        }
        outcome = Some(Ok((steps, batch.ended_locks)));
        Ok(Finish::Commit)
    })?;
    let Some(outcome) = outcome else {
        return Err(StoreError::from_message(
            "the batch ended without an outcome",
        ));
    };
    match (finish, outcome) {
        (Finish::Commit, Ok((steps, ended_locks))) => {
            if let Some(gate) = held.as_mut().filter(|gate| !gate.is_shared()) {
                for id in &ended_locks {
                    gate.destroy(id)?;
                }
            }
            Ok(Ok(steps))
        }
        (_, Err(failed)) => Ok(Err(failed)),
        (Finish::Rollback, Ok(_)) => Err(StoreError::from_message(
            "the batch was rolled back without a refusal",
        )),
    }
}

struct Batch<'a, 't, 'g> {
    txn: &'a mut dyn Txn,
    gate: &'t mut Gate<'g>,
    mismatch: MismatchStatus,
    /// The id each `create` got, by operation index, for `ref`.
    created: Vec<Option<String>>,
    /// Which operation last wrote a document, for refusals against the batch's own writes.
    written_by: HashMap<String, usize>,
    /// Documents deleted by the batch: their lock ends with them, at commit.
    ended_locks: HashSet<String>,
}

type Judged = Result<Step, Failed>;

impl Batch<'_, '_, '_> {
    fn step(&mut self, index: usize, op: &Operation) -> Result<Judged, StoreError> {
        let id = match &op.target {
            Target::New => return self.create(index, op),
            Target::Id(id) => id.clone(),
            Target::Created(by) => match self.created.get(*by).cloned().flatten() {
                Some(id) => id,
                None => {
                    return Err(StoreError::from_message(
                        "a ref to a create that did not run",
                    ))
                }
            },
        };
        let fail = |problem: Problem| Failed {
            index,
            kind: op.kind,
            id: Some(id.clone()),
            problem,
        };
        let path = item_path(&id);
        let current = self.txn.get(&id)?;
        if current.is_none() && op.kind != OpKind::Put {
            return Ok(Err(fail(not_found(&path))));
        }
        // Reads never check locks, so a check looks at the lock only to confirm a token.
        if op.kind != OpKind::Check || op.lock_token.is_some() {
            if let Err(refusal) = self.gate(&id, op.lock_token.as_ref())? {
                let seen = current.as_ref().map(|doc| doc.etag.clone());
                let problem = refused_by_lock(&refusal, &path, &lock_path(&id));
                return Ok(Err(fail(problem.with_observed(seen))));
            }
        }
        let verdict = op.preconditions.evaluate(
            current
                .as_ref()
                .map_or(Current::Missing, |doc| Current::Tagged(&doc.etag)),
            Method::Write,
        );
        if verdict != Verdict::Proceed {
            return Ok(Err(fail(self.refused(verdict, current.as_ref(), &id))));
        }
        let step = |status, doc| Step {
            kind: op.kind,
            status,
            id: id.clone(),
            doc,
        };
        Ok(Ok(match (op.kind, current) {
            (OpKind::Check, current) => step(StatusCode::OK, current),
            (OpKind::Delete, _) => {
                self.txn.delete(&id)?;
                self.written_by.remove(&id);
                self.ended_locks.insert(id.clone());
                step(StatusCode::NO_CONTENT, None)
            }
            (OpKind::Patch, Some(current)) => {
                let Ok(target) = serde_json::from_slice::<Value>(&current.body) else {
                    tracing::error!(%path, "stored document is not JSON");
                    return Ok(Err(fail(unexpected(&path))));
                };
                let patch = op.body.as_ref().unwrap_or(&Value::Null);
                let body = canonical_json(&merge_patch::apply(target, patch));
                let written = self.txn.write(&id, body)?;
                self.written_by.insert(id.clone(), index);
                step(StatusCode::OK, Some(written.doc))
            }
            (OpKind::Patch, None) => return Ok(Err(fail(not_found(&path)))),
            (OpKind::Put | OpKind::Create, _) => {
                let body = canonical_json(op.body.as_ref().unwrap_or(&Value::Null));
                let written = self.txn.write(&id, body)?;
                self.written_by.insert(id.clone(), index);
                let status = if written.created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                step(status, Some(written.doc))
            }
        }))
    }

    /// `create`: judged like `POST /items`, against the collection, which has no tag.
    fn create(&mut self, index: usize, op: &Operation) -> Result<Judged, StoreError> {
        let verdict = op.preconditions.evaluate(Current::Untagged, Method::Write);
        if verdict != Verdict::Proceed {
            return Ok(Err(Failed {
                index,
                kind: op.kind,
                id: None,
                problem: refused(verdict, None, self.mismatch, "/items"),
            }));
        }
        let body = canonical_json(op.body.as_ref().unwrap_or(&Value::Null));
        let (id, doc) = self.txn.insert_new(body)?;
        self.created[index] = Some(id.clone());
        self.written_by.insert(id.clone(), index);
        Ok(Ok(Step {
            kind: op.kind,
            status: StatusCode::CREATED,
            id,
            doc: Some(doc),
        }))
    }

    /// The lock check of a write, as the batch left the table: a document deleted earlier in
    /// the batch has no lock any more (it ends at commit).
    fn gate(
        &mut self,
        id: &str,
        token: Option<&LockToken>,
    ) -> Result<Result<(), Refusal>, StoreError> {
        if self.ended_locks.contains(id) {
            return Ok(match token {
                None => Ok(()),
                Some(_) => Err(Refusal::TokenInvalid(None)),
            });
        }
        self.gate.authorize_write(id, token)
    }

    /// The precondition refusal. Against a version an earlier operation of this batch wrote,
    /// it names that operation and no tag: the version was never stored, since the batch fails.
    fn refused(&self, verdict: Verdict, current: Option<&Document>, id: &str) -> Problem {
        let path = item_path(id);
        let Some(by) = current.and(self.written_by.get(id)) else {
            return refused(verdict, current, self.mismatch, &path);
        };
        let kind = match (verdict, self.mismatch) {
            (Verdict::IfMatchFailed | Verdict::WeakIfMatch, MismatchStatus::Conflict) => {
                ProblemKind::VersionConflict
            }
            _ => ProblemKind::PreconditionFailed,
        };
        let detail = match verdict {
            Verdict::IfNoneMatchFailed | Verdict::NotModified => format!(
                "if_none_match matched the version of {path} that operation {by} of this batch wrote"
            ),
            _ => format!(
                "if_match did not match the version of {path} that operation {by} of this batch wrote. A batch cannot know the tags of its own writes: leave if_match out (or use \"*\") for a document an earlier operation wrote"
            ),
        };
        Problem::new(kind, &path, detail)
    }
}
