//! Where keyed requests and their first answers are kept: the [`IdempotencyStore`] trait and
//! its in-memory implementation, bounded in age, count and bytes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue, StatusCode};

use super::key::{Fingerprint, Scope};

/// The first complete answer to a keyed request, sent again to every replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredResponse {
    pub(crate) status: StatusCode,
    /// The fields that matter to a client (see `key::kept_field`).
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Bytes,
}

impl StoredResponse {
    /// What the record costs in memory, roughly: its bytes plus a fixed overhead per field.
    pub(crate) fn bytes(&self) -> usize {
        self.body.len()
            + self
                .headers
                .iter()
                .map(|(name, value)| name.as_str().len() + value.len() + 64)
                .sum::<usize>()
    }
}

/// Ties a completion to the [`Begin::Fresh`] that started it, so that a record evicted and
/// begun again meanwhile is not overwritten by the earlier request's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket(pub(crate) u64);

/// What a keyed request meets.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Begin {
    /// Nobody used the key (or its record expired): process the request, then
    /// [`IdempotencyStore::complete`] or [`IdempotencyStore::abandon`] it.
    Fresh(Ticket),
    /// The same request completed before: send its answer again.
    Replay(Arc<StoredResponse>),
    /// The key was used for a different request (method, target, fields or body): 422.
    Mismatch,
    /// The same key is being processed right now: 409, try again later.
    InFlight,
    /// The records could not be read (a database store): 500, nothing was done.
    Unavailable,
}

/// Records of keyed requests, per client and key. The reference server keeps them in memory
/// ([`MemoryStore`]); a database-backed server implements this over its own tables, so that
/// replays survive a restart.
pub(crate) trait IdempotencyStore: Send + Sync {
    /// Looks `scope` up at `now_ms` (Unix milliseconds) and, when it is fresh, marks it in
    /// flight with `fingerprint`.
    fn begin(&self, scope: &Scope, fingerprint: Fingerprint, now_ms: u64) -> Begin;

    /// Stores the answer of the request begun with `ticket`.
    fn complete(&self, scope: &Scope, ticket: Ticket, response: StoredResponse, now_ms: u64);

    /// Forgets the request begun with `ticket` (it failed with 5xx, or its answer is too large
    /// to keep): a retry is processed afresh.
    fn abandon(&self, scope: &Scope, ticket: Ticket);

    /// Whether the methods block on I/O (a database), so that async callers must run them on
    /// the blocking pool. The memory store answers at once.
    fn blocks(&self) -> bool {
        false
    }
}

/// How long records live and how many the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Records older than this (since their request arrived) are forgotten.
    pub(crate) ttl: Duration,
    /// Records kept at most; the oldest is evicted for a new one.
    pub(crate) max_keys: usize,
    /// Bytes of kept answers at most; the oldest records are evicted to stay under.
    pub(crate) max_bytes: usize,
}

#[derive(Debug)]
enum State {
    InFlight,
    Done(Arc<StoredResponse>),
}

#[derive(Debug)]
struct Entry {
    seq: u64,
    fingerprint: Fingerprint,
    arrived_ms: u64,
    state: State,
    bytes: usize,
}

#[derive(Debug, Default)]
struct Table {
    entries: HashMap<Scope, Entry>,
    /// Scopes by arrival (`seq`): the oldest first, for expiry and eviction.
    order: BTreeMap<u64, Scope>,
    bytes: usize,
    next_seq: u64,
}

impl Table {
    fn remove(&mut self, scope: &Scope) {
        if let Some(entry) = self.entries.remove(scope) {
            self.order.remove(&entry.seq);
            self.bytes -= entry.bytes;
        }
    }

    fn evict_oldest(&mut self) {
        if let Some((_, scope)) = self.order.pop_first() {
            if let Some(entry) = self.entries.remove(&scope) {
                self.bytes -= entry.bytes;
            }
        }
    }

    fn expire(&mut self, now_ms: u64, ttl: Duration) {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        while let Some((_, scope)) = self.order.first_key_value() {
            let expired = self
                .entries
                .get(scope)
                .is_none_or(|e| now_ms.saturating_sub(e.arrived_ms) >= ttl_ms);
            if !expired {
                break;
            }
            self.evict_oldest();
        }
    }
}

/// The in-memory store: one table behind a mutex; lost on restart.
#[derive(Debug)]
pub(crate) struct MemoryStore {
    limits: Limits,
    table: Mutex<Table>,
}

impl MemoryStore {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            limits: Limits {
                max_keys: limits.max_keys.max(1),
                ..limits
            },
            table: Mutex::new(Table::default()),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records held now, and the bytes of their answers.
    #[cfg(test)]
    pub(crate) fn usage(&self) -> (usize, usize) {
        let table = self.table();
        (table.entries.len(), table.bytes)
    }
}

impl IdempotencyStore for MemoryStore {
    fn begin(&self, scope: &Scope, fingerprint: Fingerprint, now_ms: u64) -> Begin {
        let mut table = self.table();
        table.expire(now_ms, self.limits.ttl);
        if let Some(entry) = table.entries.get(scope) {
            return if entry.fingerprint != fingerprint {
                Begin::Mismatch
            } else {
                match &entry.state {
                    State::InFlight => Begin::InFlight,
                    State::Done(response) => Begin::Replay(Arc::clone(response)),
                }
            };
        }
        while table.entries.len() >= self.limits.max_keys {
            table.evict_oldest();
        }
        let seq = table.next_seq;
        table.next_seq += 1;
        let bytes = scope.heap_bytes();
        table.bytes += bytes;
        table.order.insert(seq, scope.clone());
        table.entries.insert(
            scope.clone(),
            Entry {
                seq,
                fingerprint,
                arrived_ms: now_ms,
                state: State::InFlight,
                bytes,
            },
        );
        Begin::Fresh(Ticket(seq))
    }

    fn complete(&self, scope: &Scope, ticket: Ticket, response: StoredResponse, now_ms: u64) {
        let mut table = self.table();
        let size = response.bytes();
        if size > self.limits.max_bytes {
            if table.entries.get(scope).is_some_and(|e| e.seq == ticket.0) {
                table.remove(scope);
            }
            return;
        }
        let Some(entry) = table.entries.get_mut(scope).filter(|e| e.seq == ticket.0) else {
            return; // expired or evicted while in flight
        };
        entry.state = State::Done(Arc::new(response));
        entry.bytes += size;
        table.bytes += size;
        while table.bytes > self.limits.max_bytes {
            table.evict_oldest();
        }
        table.expire(now_ms, self.limits.ttl);
    }

    fn abandon(&self, scope: &Scope, ticket: Ticket) {
        let mut table = self.table();
        if table.entries.get(scope).is_some_and(|e| e.seq == ticket.0) {
            table.remove(scope);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::suite::Probe;
    use super::*;

    impl Probe for MemoryStore {
        fn usage(&self) -> (usize, usize) {
            MemoryStore::usage(self)
        }
    }

    fn store(max_keys: usize, max_bytes: usize) -> Option<MemoryStore> {
        Some(MemoryStore::new(Limits {
            ttl: Duration::from_secs(60),
            max_keys,
            max_bytes,
        }))
    }

    crate::idempotency_suite!(store);
}
