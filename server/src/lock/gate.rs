//! The lock check of a write, wherever the locks live: the process's table (held until the
//! caller drops the gate, as before) or the database (see `shared`).

use std::sync::MutexGuard;

use super::shared::SharedLocks;
use super::table::{LockTable, Refusal};
use super::token::LockToken;
use super::{now, LockManager};
use crate::storage::StoreError;

/// Asks whether writes may proceed and ends the locks of deleted documents. Only used inside
/// the store's critical section for the document (its advisory lock, on PostgreSQL).
#[derive(Debug)]
pub(crate) enum Gate<'a> {
    /// The in-memory table, held for as long as the gate lives.
    Memory(MutexGuard<'a, LockTable>),
    /// The database's lock tables.
    Shared(&'a SharedLocks),
}

impl LockManager {
    /// The gate of this server's locks.
    pub(crate) fn gate(&self) -> Gate<'_> {
        match self.shared.as_deref() {
            Some(shared) => Gate::Shared(shared),
            None => Gate::Memory(self.table()),
        }
    }
}

impl Gate<'_> {
    /// Whether a write to `id` carrying `token` may proceed (see `LockTable::authorize_write`).
    pub(crate) fn authorize_write(
        &mut self,
        id: &str,
        token: Option<&LockToken>,
    ) -> Result<Result<(), Refusal>, StoreError> {
        match self {
            Self::Memory(table) => Ok(table.authorize_write(id, token, now())),
            Self::Shared(shared) => shared.authorize_write(id, token),
        }
    }

    /// The document `id` was (or is about to be) deleted: its lock ends and its waiters are
    /// told it is gone.
    pub(crate) fn destroy(&mut self, id: &str) -> Result<(), StoreError> {
        match self {
            Self::Memory(table) => {
                table.destroy(id);
                Ok(())
            }
            Self::Shared(shared) => shared.destroy(id),
        }
    }

    /// Whether the locks live in the database, where a deleted document's lock must end
    /// before its unit of work commits (afterwards, the document's advisory lock is gone and
    /// a new lock on a re-created document could be ended by mistake).
    pub(crate) fn is_shared(&self) -> bool {
        matches!(self, Self::Shared(_))
    }
}
