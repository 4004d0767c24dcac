//! Interactive transactions: a table of open transactions shared by every request of one
//! server process, like the lock table; on PostgreSQL storage, a table in the database shared
//! by every replica instead (see `shared`; the routes call `handle.rs`, which picks one).
//!
//! A transaction is optimistic: it pins the committed version of every document it touches,
//! stages its writes in memory, and its commit checks the pins and applies the writes in one
//! store critical section (see `commit.rs`). Nothing is locked while it runs.
//!
//! Each transaction sits behind its own async mutex, so the requests of one transaction run
//! one at a time (a read and the pin it makes cannot interleave with a commit) while
//! different transactions never wait for each other. The registry (ids to transactions, and
//! the ended ones still remembered) has a short std mutex that is never held across an
//! `.await` or while waiting for another lock. The order is: a transaction's mutex, then the
//! store, then the lock table; the registry is only ever taken last, or alone.
//!
//! Expiry is lazy, as for locks: a request that finds its transaction past `expires_at` ends
//! it, and `begin` sweeps out expired transactions every so often and whenever the table is
//! full.

mod commit;
mod handle;
mod id;
mod observer;
mod outcome;
pub(crate) mod shared;
mod state;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub(crate) use commit::commit;
pub(crate) use handle::{Begun, Opened, TxGuard};
pub(crate) use id::TxId;
pub(crate) use observer::TxnObserver;
pub(crate) use outcome::{CommitResult, Conflict, Ended, Outcome};
pub(crate) use state::{Phase, Summary, Tx};

use crate::lock::Now;

/// The TTL of a transaction whose begin names none (cut to the server's maximum).
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(30);

/// How long an ended transaction is remembered at least (if its TTL runs out later, until
/// then): a client that lost the commit's answer can commit again and hear the same.
pub(crate) const REMEMBER_FOR: Duration = Duration::from_secs(60);

/// How often `begin` sweeps out expired and forgotten transactions.
const SWEEP_EVERY: u32 = 64;

/// The server's transaction limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TxnLimits {
    /// Open transactions at once.
    pub(crate) max_open: usize,
    /// The longest TTL granted.
    pub(crate) max_ttl: Duration,
    /// Documents one transaction may read or write.
    pub(crate) max_docs: usize,
    /// Open transactions of one client at once.
    pub(crate) max_per_client: usize,
}

impl TxnLimits {
    /// The TTL granted for `asked` milliseconds (the default when `None`), capped.
    pub(crate) fn ttl(self, asked: Option<u64>) -> Duration {
        asked
            .map_or(DEFAULT_TTL, Duration::from_millis)
            .min(self.max_ttl)
    }
}

/// One transaction, behind the mutex its requests take turns on.
pub(crate) type Slot = Arc<tokio::sync::Mutex<Tx>>;

/// What an id names.
#[derive(Debug)]
pub(crate) enum Found {
    Open(Slot),
    Ended(Arc<Ended>),
    Unknown,
}

/// The table of transactions and the limits, shared by the router.
#[derive(Debug)]
pub(crate) struct TxnManager {
    registry: Mutex<Registry>,
    limits: TxnLimits,
    /// The database's transactions, when they live there (PostgreSQL storage).
    shared: Option<Arc<shared::SharedTxns>>,
}

#[derive(Debug)]
struct Registry {
    epoch: String,
    seq: u64,
    since_sweep: u32,
    open: HashMap<TxId, OpenEntry>,
    ended: HashMap<TxId, Arc<Ended>>,
    /// Open transactions per client (only clients with one or more).
    per_client: HashMap<String, usize>,
    /// Told how every transaction ended.
    observer: Arc<dyn TxnObserver>,
}

#[derive(Debug)]
struct OpenEntry {
    expires_at: Instant,
    client: String,
    slot: Slot,
}

impl TxnManager {
    pub(crate) fn new(limits: TxnLimits) -> Self {
        Self {
            registry: Mutex::new(Registry {
                epoch: crate::storage::random_hex(),
                seq: 0,
                since_sweep: 0,
                open: HashMap::new(),
                ended: HashMap::new(),
                per_client: HashMap::new(),
                observer: Arc::new(observer::Unobserved),
            }),
            limits,
            shared: None,
        }
    }

    /// The same manager, keeping transactions in the database (shared by the replicas).
    pub(crate) fn with_shared(mut self, shared: shared::SharedTxns) -> Self {
        self.shared = Some(Arc::new(shared));
        self
    }

    fn observer(&self) -> Arc<dyn TxnObserver> {
        Arc::clone(&self.registry().observer)
    }

    pub(crate) fn limits(&self) -> TxnLimits {
        self.limits
    }

    /// The same manager, telling `observer` how every transaction ends.
    pub(crate) fn with_observer(mut self, observer: Arc<dyn TxnObserver>) -> Self {
        self.registry
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .observer = observer;
        self
    }

    /// Ends expired transactions nobody is using now (`/metrics` calls it, so that
    /// `transactions_total{outcome="expired"}` does not wait for the next `begin`).
    pub(crate) fn sweep(&self, now: Now) {
        self.registry().sweep(now);
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        // Every registry method leaves the maps consistent before it could panic.
        self.registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Opens a transaction with `ttl` for `client`, unless `max_open` are open already or
    /// the client has `max_per_client` open.
    pub(crate) fn begin_local(&self, ttl: Duration, client: &str, now: Now) -> Begun {
        let mut registry = self.registry();
        registry.since_sweep += 1;
        let client_full = |r: &Registry| {
            r.per_client.get(client).copied().unwrap_or(0) >= self.limits.max_per_client
        };
        if registry.since_sweep >= SWEEP_EVERY
            || registry.open.len() >= self.limits.max_open
            || client_full(&registry)
        {
            registry.since_sweep = 0;
            registry.sweep(now);
        }
        if registry.open.len() >= self.limits.max_open {
            return Begun::Full;
        }
        if client_full(&registry) {
            return Begun::ClientFull;
        }
        registry.seq += 1;
        let id = TxId::mint(&registry.epoch, registry.seq);
        let tx = Tx::new(id.clone(), ttl, now);
        let answer = Begun::Open(id.clone(), ttl, tx.expires_at_ms);
        let entry = OpenEntry {
            expires_at: tx.expires_at,
            client: client.to_owned(),
            slot: Arc::new(tokio::sync::Mutex::new(tx)),
        };
        registry.open.insert(id, entry);
        *registry.per_client.entry(client.to_owned()).or_insert(0) += 1;
        answer
    }

    /// What `id` names now.
    pub(crate) fn find(&self, id: &TxId, now: Instant) -> Found {
        let mut registry = self.registry();
        if let Some(entry) = registry.open.get(id) {
            return Found::Open(Arc::clone(&entry.slot));
        }
        match registry.ended.get(id) {
            Some(ended) if ended.forget_at > now => Found::Ended(Arc::clone(ended)),
            Some(_) => {
                registry.ended.remove(id);
                Found::Unknown
            }
            None => Found::Unknown,
        }
    }

    /// Brings a locked transaction up to `now`: ends it when it has expired. Returns how it
    /// ended, if it has.
    pub(crate) fn settle(&self, tx: &mut Tx, now: Now) -> Option<Arc<Ended>> {
        if let Phase::Ended(ended) = &tx.phase {
            return Some(Arc::clone(ended));
        }
        if !tx.expired(now.instant) {
            return None;
        }
        Some(self.end(tx, Outcome::Expired, now))
    }

    /// Ends a locked, open transaction with `outcome`.
    pub(crate) fn end(&self, tx: &mut Tx, outcome: Outcome, now: Now) -> Arc<Ended> {
        let mut registry = self.registry();
        registry.end(tx, outcome, now)
    }

    /// How many transactions are open (tests check that the table shrinks again).
    #[cfg(test)]
    pub(crate) fn open_count(&self) -> usize {
        self.registry().open.len()
    }
}

impl Registry {
    fn end(&mut self, tx: &mut Tx, outcome: Outcome, now: Now) -> Arc<Ended> {
        let ended = Arc::new(Ended {
            outcome,
            ttl: tx.ttl,
            expires_at_ms: tx.expires_at_ms,
            ended_at_ms: now.unix_ms,
            forget_at: tx.expires_at.max(now.instant + REMEMBER_FOR),
            summary: tx.summary(),
        });
        self.observer.ended(&ended.outcome);
        tx.end(Arc::clone(&ended));
        if let Some(entry) = self.open.remove(&tx.id) {
            if let Some(count) = self.per_client.get_mut(&entry.client) {
                *count -= 1;
                if *count == 0 {
                    self.per_client.remove(&entry.client);
                }
            }
        }
        self.ended.insert(tx.id.clone(), Arc::clone(&ended));
        ended
    }

    /// Ends expired transactions nobody is using right now (one that is busy ends when its
    /// request finishes and the next one settles it) and forgets ended ones past `forget_at`.
    fn sweep(&mut self, now: Now) {
        let expired: Vec<Slot> = self
            .open
            .values()
            .filter(|entry| entry.expires_at <= now.instant)
            .map(|entry| Arc::clone(&entry.slot))
            .collect();
        for slot in expired {
            if let Ok(mut tx) = slot.try_lock() {
                if matches!(tx.phase, Phase::Open) {
                    self.end(&mut tx, Outcome::Expired, now);
                }
            }
        }
        self.ended.retain(|_, ended| ended.forget_at > now.instant);
    }
}

#[cfg(test)]
mod tests;
