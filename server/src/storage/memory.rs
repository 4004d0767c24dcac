//! In-memory storage: a map behind one mutex.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::{new_id, random_hex, version_tag, Applied, Decision, Document, Store, StoreError};

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
        // single map operation), so the data behind a poisoned lock is still consistent.
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
        let id = loop {
            let id = new_id();
            if !state.docs.contains_key(&id) {
                break id;
            }
        };
        let generation = state.next_generation();
        let doc = Document {
            etag: version_tag(&self.epoch, generation),
            body,
        };
        state.docs.insert(
            id.clone(),
            Entry {
                doc: doc.clone(),
                created: generation,
            },
        );
        Ok((id, doc))
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
                let generation = state.next_generation();
                let doc = Document {
                    etag: version_tag(&self.epoch, generation),
                    body,
                };
                let created = match state.docs.get_mut(id) {
                    Some(entry) => {
                        entry.doc = doc.clone();
                        false
                    }
                    None => {
                        let entry = Entry {
                            doc: doc.clone(),
                            created: generation,
                        };
                        state.docs.insert(id.to_owned(), entry);
                        true
                    }
                };
                Ok(Applied::Written { doc, created })
            }
        }
    }
}
