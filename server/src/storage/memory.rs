//! In-memory storage: a map behind one mutex.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::{
    new_id, random_hex, version_tag, Applied, Decision, Document, Finish, Store, StoreError, Txn,
    Written,
};

/// Documents in process memory; tags carry a random per-boot epoch.
pub(crate) struct MemoryStore {
    epoch: String,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    generation: u64,
    docs: HashMap<String, Entry>,
}

#[derive(Clone)]
struct Entry {
    doc: Document,
    /// Generation at creation, for listing in creation order.
    created: u64,
}

impl MemoryStore {
    pub(crate) fn new() -> Self {
        Self {
            epoch: random_hex(),
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written entry (each write is a
        // single map operation, and a unit of work that panics is undone by `MemoryTxn`'s
        // `Drop`), so the data behind a poisoned lock is still consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }

    fn fresh_id(&self) -> String {
        loop {
            let id = new_id();
            if !self.docs.contains_key(&id) {
                return id;
            }
        }
    }

    /// Stores `body` under `id` with the next generation's tag.
    fn store(&mut self, epoch: &str, id: &str, body: Vec<u8>) -> Written {
        let generation = self.next_generation();
        let doc = Document {
            etag: version_tag(epoch, generation),
            body,
        };
        let created = match self.docs.get_mut(id) {
            Some(entry) => {
                entry.doc = doc.clone();
                false
            }
            None => {
                let entry = Entry {
                    doc: doc.clone(),
                    created: generation,
                };
                self.docs.insert(id.to_owned(), entry);
                true
            }
        };
        Written { doc, created }
    }
}

/// One unit of work on the locked map. Writes go straight into the map; the first time a
/// document is touched its previous entry is kept, so that a rollback (or a panic, through
/// `Drop`) can put every document back. The generation counter is not put back: tags handed
/// out by undone writes stay used.
struct MemoryTxn<'a> {
    epoch: &'a str,
    state: &'a mut State,
    undo: HashMap<String, Option<Entry>>,
    committed: bool,
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
        Ok(self.state.docs.get(id).map(|entry| entry.doc.clone()))
    }

    fn write(&mut self, id: &str, body: Vec<u8>) -> Result<Written, StoreError> {
        self.remember(id);
        Ok(self.state.store(self.epoch, id, body))
    }

    fn delete(&mut self, id: &str) -> Result<bool, StoreError> {
        self.remember(id);
        Ok(self.state.docs.remove(id).is_some())
    }

    fn insert_new(&mut self, body: Vec<u8>) -> Result<(String, Document), StoreError> {
        let id = self.state.fresh_id();
        self.remember(&id);
        let written = self.state.store(self.epoch, &id, body);
        Ok((id, written.doc))
    }
}

impl Drop for MemoryTxn<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        for (id, before) in self.undo.drain() {
            match before {
                Some(entry) => self.state.docs.insert(id, entry),
                None => self.state.docs.remove(&id),
            };
        }
    }
}

impl Store for MemoryStore {
    fn list(&self) -> Result<Vec<(String, Document)>, StoreError> {
        let state = self.lock();
        let mut entries: Vec<_> = state.docs.iter().collect();
        entries.sort_by_key(|(_, entry)| entry.created);
        Ok(entries
            .into_iter()
            .map(|(id, entry)| (id.clone(), entry.doc.clone()))
            .collect())
    }

    fn get(&self, id: &str) -> Result<Option<Document>, StoreError> {
        Ok(self.lock().docs.get(id).map(|entry| entry.doc.clone()))
    }

    fn insert_new(&self, body: Vec<u8>) -> Result<(String, Document), StoreError> {
        let mut state = self.lock();
        let id = state.fresh_id();
        let written = state.store(&self.epoch, &id, body);
        Ok((id, written.doc))
    }

    fn apply(
        &self,
        id: &str,
        decide: &mut dyn FnMut(Option<&Document>) -> Decision,
    ) -> Result<Applied, StoreError> {
        let mut state = self.lock();
        let current = state.docs.get(id).map(|entry| &entry.doc);
        match decide(current) {
            Decision::Abort => Ok(Applied::Aborted {
                current: current.cloned(),
            }),
            Decision::Delete => Ok(match state.docs.remove(id) {
                Some(_) => Applied::Deleted,
                None => Applied::Aborted { current: None },
            }),
            Decision::Write(body) => {
                let Written { doc, created } = state.store(&self.epoch, id, body);
                Ok(Applied::Written { doc, created })
            }
        }
    }

    fn atomically(
        &self,
        work: &mut dyn FnMut(&mut dyn Txn) -> Result<Finish, StoreError>,
    ) -> Result<Finish, StoreError> {
        let mut state = self.lock();
        let mut txn = MemoryTxn {
            epoch: &self.epoch,
            state: &mut state,
            undo: HashMap::new(),
            committed: false,
        };
        let finish = work(&mut txn)?;
        txn.committed = finish == Finish::Commit;
        Ok(finish)
    }
}
