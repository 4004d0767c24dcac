//! Committing a transaction: in one store critical section, check every pinned version, check
//! the locks, then apply every staged write. Store first, then the lock table, as every write.

use super::outcome::{CommitResult, Conflict, Outcome};
use super::shared::Recorder;
use super::state::Plan;
use crate::lock::{Gate, LockManager};
use crate::storage::{Finish, Store, StoreError};

/// Applies `plan` all or nothing as `author`'s writes, or says why not. A storage failure
/// applies nothing. `record`, when given, writes "committed" in the same unit of work as the
/// writes (a transaction kept in the database).
pub(crate) fn commit(
    store: &dyn Store,
    locks: &LockManager,
    plan: &Plan,
    author: Option<&str>,
    record: Option<&Recorder>,
) -> Result<Outcome, StoreError> {
    // Held until after the store commits, so the lock of a deleted document ends only once the
    // delete is sure to land, and no lock changes hands in between.
    let mut held: Option<Gate<'_>> = None;
    let mut outcome = None;
    let mut deleted = Vec::new();
    let finish = store.atomically_as(author, &mut |txn| {
        let mut conflicts = Vec::new();
        for (id, read_etag) in &plan.pins {
            let current_etag = txn.get(id)?.map(|doc| doc.etag);
            let unchanged = match (read_etag, &current_etag) {
                (None, None) => true,
                (Some(read), Some(current)) => read.strong_eq(current),
                _ => false,
            };
            if !unchanged {
                conflicts.push(Conflict {
                    id: id.clone(),
                    read_etag: read_etag.clone(),
                    current_etag,
                });
            }
        }
        if !conflicts.is_empty() {
            outcome = Some(Outcome::Conflict(conflicts));
            return Ok(Finish::Rollback);
        }
        let gate = held.insert(locks.gate());
        for write in &plan.writes {
            // Reading locks the document for the rest of the unit of work (on PostgreSQL, its
            // advisory lock), as the shared lock check needs.
            txn.get(&write.id)?;
            if let Err(refusal) = gate.authorize_write(&write.id, write.lock_token.as_ref())? {
                outcome = Some(Outcome::Locked {
                    id: write.id.clone(),
                    refusal,
                });
                return Ok(Finish::Rollback);
            }
        }
        let mut results = Vec::with_capacity(plan.writes.len());
        deleted.clear();
        for write in &plan.writes {
            let result = match &write.body {
                Some(body) => {
                    let written = txn.write(&write.id, body.clone())?;
                    CommitResult {
                        id: write.id.clone(),
                        status: if written.created { 201 } else { 200 },
                        etag: Some(written.doc.etag),
                    }
                }
                None => {
                    // A document created and deleted again inside the transaction was never
                    // stored: nothing to delete, and the answer is still the delete's 204.
                    if txn.delete(&write.id)? {
                        deleted.push(write.id.clone());
                    }
                    CommitResult {
                        id: write.id.clone(),
                        status: 204,
                        etag: None,
                    }
                }
            };
            results.push(result);
        }
        if gate.is_shared() {
            // In the database, a deleted document's lock ends inside the unit of work, while
            // its advisory lock is still held (see `Gate::is_shared`).
            for id in &deleted {
                gate.destroy(id)?;
            }
        }
        let committed = Outcome::Committed(results);
        if let Some(recorder) = record {
            recorder.record(txn, &committed)?;
        }
        outcome = Some(committed);
        Ok(Finish::Commit)
    })?;
    if finish == Finish::Commit {
        if let Some(gate) = held.as_mut().filter(|gate| !gate.is_shared()) {
            // A deleted document's lock ends with it (RFC 4918 §9.6), as for a single DELETE.
            for id in &deleted {
                gate.destroy(id)?;
            }
        }
    }
    outcome.ok_or_else(|| StoreError::from_message("the commit ended without an outcome"))
}
