//! Pessimistic locks on documents: a lock table shared by every request of one server process.
//!
//! With memory or SQLite storage the table lives in memory, next to the store: one server
//! process owns its store, so one process-wide table sees every lock and every write. A restart
//! forgets every lock; tokens embed a per-boot epoch, so a token from before the restart is
//! refused afterwards instead of matching a stranger's lock. With PostgreSQL storage, several
//! replicas share one database, and the locks live in it (see `shared`), so they survive a
//! restart and every replica sees the same ones.
//!
//! Every lock decision (grant, queue, renew, release, break, expiry, and whether a write may
//! proceed) is taken while holding the table's one mutex, and the mutex is never held across
//! an `.await`. How a write's check stays atomic with the write itself is explained in
//! `routes/item.rs`.

mod gate;
mod lease;
mod observer;
mod shared;
mod table;
mod token;
mod wait;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

pub(crate) use gate::Gate;
pub(crate) use lease::{millis, Grant, Lease, LockRequest, Now, Snapshot};
pub(crate) use observer::{HoldEnd, LockObserver};
pub(crate) use shared::{SharedAcquired, SharedLocks, SharedTicket};
pub(crate) use table::{Acquired, LockTable, Refusal};
pub(crate) use token::LockToken;
pub(crate) use wait::{Ticket, Waited};

/// The lock a request gets when it names no `ttl_ms` (capped by the server's maximum).
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(30);
pub(crate) use crate::config::MAX_LOCK_TTL_CEILING as CEILING_TTL;

/// The server's lock limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LockLimits {
    /// The longest lock granted, and the longest a request waits in a queue.
    pub(crate) max_ttl: Duration,
    /// How many requests may wait for one document's lock.
    pub(crate) max_waiters: usize,
    /// How many requests may wait for locks, all documents together.
    pub(crate) max_total_waiters: usize,
}

impl LockLimits {
    /// The TTL granted for `asked` milliseconds (the default when `None`), capped.
    pub(crate) fn ttl(self, asked: Option<u64>) -> Duration {
        asked
            .map_or(DEFAULT_TTL, Duration::from_millis)
            .min(self.max_ttl)
    }

    /// How long a request that asked to wait `asked` milliseconds may wait: a queued request
    /// holds a connection, so it is cut to the longest lock the server would grant.
    pub(crate) fn wait(self, asked: u64) -> Duration {
        Duration::from_millis(asked).min(self.max_ttl)
    }
}

/// The lock table and the limits, shared by the router.
#[derive(Debug)]
pub(crate) struct LockManager {
    table: Mutex<LockTable>,
    limits: LockLimits,
    /// The database's locks, when the store is PostgreSQL; the table then stays empty.
    shared: Option<Arc<SharedLocks>>,
}

impl LockManager {
    /// An empty table with a fresh epoch; `max_ttl` is kept within 1 ms ..= one day.
    pub(crate) fn new(max_ttl: Duration, max_waiters: usize) -> Self {
        Self {
            table: Mutex::new(LockTable::new(crate::storage::random_hex())),
            limits: LockLimits {
                max_ttl: max_ttl.clamp(Duration::from_millis(1), CEILING_TTL),
                max_waiters,
                max_total_waiters: usize::MAX,
            },
            shared: None,
        }
    }

    /// The same manager, queueing at most `n` requests over all documents together.
    pub(crate) fn with_total_waiters(mut self, n: usize) -> Self {
        self.limits.max_total_waiters = n;
        self.table
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .limit_total_waiters(n);
        self
    }

    /// The same manager, keeping its locks in `shared` instead of in the process.
    pub(crate) fn with_shared(mut self, mut shared: SharedLocks) -> Self {
        shared.limit_total_waiters(self.limits.max_total_waiters);
        self.shared = Some(Arc::new(shared));
        self
    }

    /// The database's locks, when they live there.
    pub(crate) fn shared(&self) -> Option<&Arc<SharedLocks>> {
        self.shared.as_ref()
    }

    /// The same manager, whose table tells `observer` about every grant and end of a hold.
    pub(crate) fn with_observer(mut self, observer: Arc<dyn LockObserver>) -> Self {
        self.table
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .observe(observer);
        self
    }

    /// The table, for one decision. Hold it briefly and never across an `.await`.
    pub(crate) fn table(&self) -> MutexGuard<'_, LockTable> {
        // Every table method leaves the table consistent before it can panic (the only
        // panics would be allocation failures), so a poisoned lock still guards valid data.
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn limits(&self) -> LockLimits {
        self.limits
    }
}

/// The present moment, read from the system clocks.
pub(crate) fn now() -> Now {
    let unix_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, millis);
    Now {
        instant: Instant::now(),
        unix_ms,
    }
}
