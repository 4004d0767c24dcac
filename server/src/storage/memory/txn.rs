//! [`MemoryTxn`], the [`Txn`] of a unit of work on the memory store, and how it is undone.

use std::collections::HashMap;

use super::{Ctx, Record, State};
use crate::storage::{Document, StoreError, Txn, Written};

/// One unit of work on the locked map. Writes go straight into the map; the first time an id
/// is touched its previous record is kept, so that a rollback (or a panic, through `Drop`) can
/// put every document and its history back. The generation counter is not put back: tags
/// handed out by undone writes stay used.
pub(super) struct MemoryTxn<'a> {
    pub(super) ctx: Ctx<'a>,
    pub(super) state: &'a mut State,
    pub(super) undo: HashMap<String, Option<Record>>,
    pub(super) committed: bool,
}

impl MemoryTxn<'_> {
    fn remember(&mut self, id: &str) {
        if !self.undo.contains_key(id) {
            let before = self.state.docs.get(id).cloned();
            self.undo.insert(id.to_owned(), before);
        }
    }
}

impl Txn for MemoryTxn<'_> {
    fn get(&mut self, id: &str) -> Result<Option<Document>, StoreError> {
        Ok(self.state.current(id).cloned())
    }

    fn write(&mut self, id: &str, body: Vec<u8>) -> Result<Written, StoreError> {
        self.remember(id);
        Ok(self.state.store(&self.ctx, id, body))
    }

    fn delete(&mut self, id: &str) -> Result<bool, StoreError> {
        self.remember(id);
        Ok(self.state.remove(&self.ctx, id))
    }

    fn insert_new(&mut self, body: Vec<u8>) -> Result<(String, Document), StoreError> {
        let id = self.state.fresh_id();
        self.remember(&id);
        let written = self.state.store(&self.ctx, &id, body);
        Ok((id, written.doc))
    }
}

impl Drop for MemoryTxn<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        for (id, before) in self.undo.drain() {
            let exists_now = self.state.current(&id).is_some();
            let existed = before
                .as_ref()
                .is_some_and(|record| record.current.is_some());
            match (existed, exists_now) {
                (true, false) => self.state.live += 1,
                (false, true) => self.state.live -= 1,
                _ => {}
            }
            match before {
                Some(record) => self.state.docs.insert(id, record),
                None => self.state.docs.remove(&id),
            };
        }
    }
}
