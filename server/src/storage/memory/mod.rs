//! In-memory storage: a map behind one mutex. Each id has a record: its current document (if
//! it exists) and its history, newest first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

mod txn;

use self::txn::MemoryTxn;
use super::history::Entry as Age;
use super::{
    fits, new_id, random_hex, version_tag, Applied, Clock, Decision, Document, Finish,
    HistoryPolicy, Lookup, Store, StoreError, Txn, VersionInfo, Written,
};

/// How often (in writes) the store sweeps out the records of deleted documents whose
/// tombstone expired and that nobody asked about since.
const SWEEP_EVERY: u64 = 1024;

/// Documents in process memory; tags carry a random per-boot epoch.
pub(crate) struct MemoryStore {
    epoch: String,
    policy: HistoryPolicy,
    clock: Arc<dyn Clock>,
    /// The most documents held at once (0: no cap).
    max_documents: u64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    generation: u64,
    /// Writes since the last sweep.
    since_sweep: u64,
    /// Documents that exist now (records with a current version).
    live: u64,
    docs: HashMap<String, Record>,
}

#[derive(Clone, Default)]
struct Record {
    current: Option<Entry>,
    /// Newest first.
    history: VecDeque<Kept>,
}

#[derive(Clone)]
struct Entry {
    doc: Document,
    /// Generation at creation, for listing in creation order.
    created: u64,
}

/// One kept version; `body` is `None` for a tombstone.
#[derive(Clone)]
struct Kept {
    version: u64,
    at_ms: u64,
    author: Option<String>,
    body: Option<Vec<u8>>,
}

/// What every write of one critical section shares.
struct Ctx<'a> {
    epoch: &'a str,
    policy: HistoryPolicy,
    now_ms: u64,
    author: Option<&'a str>,
}

impl MemoryStore {
    pub(crate) fn new(policy: HistoryPolicy, clock: Arc<dyn Clock>) -> Self {
        Self {
            epoch: random_hex(),
            policy,
            clock,
            max_documents: 0,
            state: Mutex::new(State::default()),
        }
    }

    /// Holds at most `max` documents (0: no cap); a write that would create one more fails
    /// with [`StoreError::full`].
    pub(crate) fn with_max_documents(mut self, max: u64) -> Self {
        self.max_documents = max;
        self
    }

    /// Refuses a write that would create a document in a full store.
    fn room_for_one(&self, state: &State) -> Result<(), StoreError> {
        if fits(self.max_documents, state.live, state.live + 1) {
            Ok(())
        } else {
            Err(StoreError::full(self.max_documents))
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written record (a unit of work
        // that panics is undone by `MemoryTxn`'s `Drop`, and each single write changes the
        // record before pruning it), so the data behind a poisoned lock is still consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn ctx<'a>(&'a self, author: Option<&'a str>) -> Ctx<'a> {
        Ctx {
            epoch: &self.epoch,
            policy: self.policy,
            now_ms: self.clock.now_ms(),
            author,
        }
    }
}

impl Record {
    fn prune(&mut self, policy: HistoryPolicy, now_ms: u64) {
        let ages: Vec<Age> = self
            .history
            .iter()
            .map(|kept| Age {
                at_ms: kept.at_ms,
                deleted: kept.body.is_none(),
            })
            .collect();
        let mut kept = policy.kept(&ages, now_ms).into_iter();
        self.history.retain(|_| kept.next().unwrap_or(false));
    }

    fn is_empty(&self) -> bool {
        self.current.is_none() && self.history.is_empty()
    }
}

impl State {
    fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.since_sweep += 1;
        self.generation
    }

    fn current(&self, id: &str) -> Option<&Document> {
        self.docs.get(id)?.current.as_ref().map(|entry| &entry.doc)
    }

    fn fresh_id(&self) -> String {
        loop {
            let id = new_id();
            if !self.docs.contains_key(&id) {
                return id;
            }
        }
    }

    /// Stores `body` under `id` with the next generation's tag, and records it.
    fn store(&mut self, ctx: &Ctx<'_>, id: &str, body: Vec<u8>) -> Written {
        let generation = self.next_generation();
        let doc = Document {
            etag: version_tag(ctx.epoch, generation),
            body,
            at_ms: ctx.now_ms,
        };
        let record = self.docs.entry(id.to_owned()).or_default();
        let created = match &mut record.current {
            Some(entry) => {
                entry.doc = doc.clone();
                false
            }
            None => {
                record.current = Some(Entry {
                    doc: doc.clone(),
                    created: generation,
                });
                self.live += 1;
                true
            }
        };
        record.history.push_front(Kept {
            version: generation,
            at_ms: ctx.now_ms,
            author: ctx.author.map(str::to_owned),
            body: Some(doc.body.clone()),
        });
        record.prune(ctx.policy, ctx.now_ms);
        Written { doc, created }
    }

    /// Removes `id`'s document and records the tombstone; whether there was one.
    fn remove(&mut self, ctx: &Ctx<'_>, id: &str) -> bool {
        if self.current(id).is_none() {
            return false;
        }
        let generation = self.next_generation();
        let Some(record) = self.docs.get_mut(id) else {
            return false;
        };
        record.current = None;
        self.live -= 1;
        record.history.push_front(Kept {
            version: generation,
            at_ms: ctx.now_ms,
            author: ctx.author.map(str::to_owned),
            body: None,
        });
        record.prune(ctx.policy, ctx.now_ms);
        if record.is_empty() {
            self.docs.remove(id);
        }
        true
    }

    /// Prunes `id`'s history as of `now_ms` (reads prune lazily) and forgets an empty record.
    fn pruned(&mut self, id: &str, policy: HistoryPolicy, now_ms: u64) -> Option<&Record> {
        let record = self.docs.get_mut(id)?;
        record.prune(policy, now_ms);
        if record.is_empty() {
            self.docs.remove(id);
            return None;
        }
        self.docs
            .get(id)
            .filter(|record| !record.history.is_empty())
    }

    /// Every [`SWEEP_EVERY`] writes, forgets deleted documents whose tombstone expired.
    fn sweep_if_due(&mut self, ctx: &Ctx<'_>) {
        if self.since_sweep < SWEEP_EVERY {
            return;
        }
        self.since_sweep = 0;
        self.docs.retain(|_, record| {
            if record.current.is_none() {
                record.prune(ctx.policy, ctx.now_ms);
            }
            !record.is_empty()
        });
    }
}

impl Store for MemoryStore {
    fn list(&self) -> Result<Vec<(String, Document)>, StoreError> {
        let state = self.lock();
        let mut entries: Vec<_> = state
            .docs
            .iter()
            .filter_map(|(id, record)| Some((id, record.current.as_ref()?)))
            .collect();
        entries.sort_by_key(|(_, entry)| entry.created);
        Ok(entries
            .into_iter()
            .map(|(id, entry)| (id.clone(), entry.doc.clone()))
            .collect())
    }

    fn get(&self, id: &str) -> Result<Option<Document>, StoreError> {
        Ok(self.lock().current(id).cloned())
    }

    fn insert_new_as(
        &self,
        author: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(String, Document), StoreError> {
        let mut state = self.lock();
        self.room_for_one(&state)?;
        let ctx = self.ctx(author);
        let id = state.fresh_id();
        let written = state.store(&ctx, &id, body);
        state.sweep_if_due(&ctx);
        Ok((id, written.doc))
    }

    fn apply_as(
        &self,
        id: &str,
        author: Option<&str>,
        decide: &mut dyn FnMut(Option<&Document>) -> Decision,
    ) -> Result<Applied, StoreError> {
        let mut state = self.lock();
        let ctx = self.ctx(author);
        let current = state.current(id);
        let applied = match decide(current) {
            Decision::Abort => Applied::Aborted {
                current: current.cloned(),
            },
            Decision::Delete => match state.remove(&ctx, id) {
                true => Applied::Deleted,
                false => Applied::Aborted { current: None },
            },
            Decision::Write(body) => {
                if current.is_none() {
                    self.room_for_one(&state)?;
                }
                let Written { doc, created } = state.store(&ctx, id, body);
                Applied::Written { doc, created }
            }
        };
        state.sweep_if_due(&ctx);
        Ok(applied)
    }

    fn atomically_as(
        &self,
        author: Option<&str>,
        work: &mut dyn FnMut(&mut dyn Txn) -> Result<Finish, StoreError>,
    ) -> Result<Finish, StoreError> {
        let mut state = self.lock();
        let before = state.live;
        let mut txn = MemoryTxn {
            ctx: self.ctx(author),
            state: &mut state,
            undo: HashMap::new(),
            committed: false,
        };
        let finish = work(&mut txn)?;
        // The cap counts what the whole unit of work leaves behind, so a batch that deletes
        // as many documents as it creates fits in a full store.
        if finish == Finish::Commit && !fits(self.max_documents, before, txn.state.live) {
            return Err(StoreError::full(self.max_documents));
        }
        txn.committed = finish == Finish::Commit;
        let ctx = self.ctx(author);
        drop(txn);
        state.sweep_if_due(&ctx);
        Ok(finish)
    }

    fn policy(&self) -> HistoryPolicy {
        self.policy
    }

    fn blocks(&self) -> bool {
        false
    }

    fn history_versions(&self) -> Result<u64, StoreError> {
        let state = self.lock();
        let kept: usize = state.docs.values().map(|record| record.history.len()).sum();
        Ok(u64::try_from(kept).unwrap_or(u64::MAX))
    }

    fn history(&self, id: &str) -> Result<Option<Vec<VersionInfo>>, StoreError> {
        let mut state = self.lock();
        let now_ms = self.clock.now_ms();
        let Some(record) = state.pruned(id, self.policy, now_ms) else {
            return Ok(None);
        };
        Ok(Some(
            record
                .history
                .iter()
                .map(|kept| info(&self.epoch, kept))
                .collect(),
        ))
    }

    fn version(&self, id: &str, version: u64) -> Result<Lookup, StoreError> {
        let mut state = self.lock();
        let now_ms = self.clock.now_ms();
        let Some(record) = state.pruned(id, self.policy, now_ms) else {
            return Ok(Lookup::NoHistory);
        };
        let found = record.history.iter().find(|kept| kept.version == version);
        Ok(match found {
            Some(Kept {
                body: Some(body),
                at_ms,
                ..
            }) => Lookup::Found(Document {
                etag: version_tag(&self.epoch, version),
                body: body.clone(),
                at_ms: *at_ms,
            }),
            _ => Lookup::NotKept {
                oldest: record.history.back().map_or(0, |kept| kept.version),
            },
        })
    }
}

fn info(epoch: &str, kept: &Kept) -> VersionInfo {
    VersionInfo {
        version: kept.version,
        etag: kept.body.as_ref().map(|_| version_tag(epoch, kept.version)),
        at_ms: kept.at_ms,
        author: kept.author.clone(),
        deleted: kept.body.is_none(),
        size: kept.body.as_ref().map_or(0, Vec::len),
    }
}
