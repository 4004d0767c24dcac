//! Limits on locks, batches and transactions: their defaults, setters and getters.

use std::time::Duration;

use super::Config;

/// The default longest lock: 300 s (5 minutes).
pub const DEFAULT_MAX_LOCK_TTL: Duration = Duration::from_secs(300);

/// The largest maximum lock TTL a server keeps (one day); [`Config::with_max_lock_ttl`] cuts
/// larger values to it, so lock deadlines never overflow the clock.
pub const MAX_LOCK_TTL_CEILING: Duration = Duration::from_secs(24 * 60 * 60);

/// The default number of requests that may wait for one document's lock.
pub const DEFAULT_MAX_LOCK_WAITERS: usize = 64;

/// The default number of requests that may wait for locks, all documents together.
pub const DEFAULT_MAX_LOCK_WAITERS_TOTAL: usize = 1024;

/// The default largest number of operations in one `POST /batch`, and of documents one
/// transaction may read or write.
pub const DEFAULT_MAX_BATCH_OPERATIONS: usize = 100;

/// The default number of transactions that may be open at once.
pub const DEFAULT_MAX_TRANSACTIONS: usize = 1000;

/// The default number of transactions one client may keep open at once.
pub const DEFAULT_MAX_CLIENT_TRANSACTIONS: usize = 64;

/// The default longest transaction: 60 s.
pub const DEFAULT_MAX_TRANSACTION_TTL: Duration = Duration::from_secs(60);

impl Config {
    /// The longest lock granted (longer requests are cut to it, and the answer says so), and
    /// the longest a lock request waits in a queue. Kept within 1 ms ..= 24 h.
    pub const fn with_max_lock_ttl(mut self, ttl: Duration) -> Self {
        self.max_lock_ttl = ttl;
        self
    }

    /// How many requests may wait for one document's lock; one more answers 503.
    /// 0 turns waiting off (every request that asks to wait answers 503 while the lock is held).
    pub const fn with_max_lock_waiters(mut self, n: usize) -> Self {
        self.max_lock_waiters = n;
        self
    }

    /// How many requests may wait for locks, all documents together; one more answers 503
    /// `lock-queue-full` naming `--max-lock-waiters-total`. 0 turns waiting off.
    pub const fn with_max_lock_waiters_total(mut self, n: usize) -> Self {
        self.max_lock_waiters_total = n;
        self
    }

    /// How many requests may wait for locks, all documents together.
    pub const fn max_lock_waiters_total(&self) -> usize {
        self.max_lock_waiters_total
    }

    /// The most operations one `POST /batch` may carry, and the most documents one
    /// transaction may read or write; more answer 400. At least 1 (0 counts as 1).
    pub const fn with_max_batch_operations(mut self, n: usize) -> Self {
        self.max_batch_operations = if n == 0 { 1 } else { n };
        self
    }

    /// How many transactions may be open at once; one more `POST /transactions` answers 503.
    /// At least 1 (0 counts as 1).
    pub const fn with_max_transactions(mut self, n: usize) -> Self {
        self.max_transactions = if n == 0 { 1 } else { n };
        self
    }

    /// How many transactions one client (its token's name, else its address) may keep open
    /// at once; one more `POST /transactions` from it answers 429
    /// `too-many-client-transactions`, while other clients still begin. At least 1 (0 counts
    /// as 1).
    pub const fn with_max_client_transactions(mut self, n: usize) -> Self {
        self.max_client_transactions = if n == 0 { 1 } else { n };
        self
    }

    /// The longest transaction granted (a longer `ttl_ms` is cut to it, and the answer says
    /// so). Kept within 1 ms ..= 24 h.
    pub const fn with_max_transaction_ttl(mut self, ttl: Duration) -> Self {
        self.max_transaction_ttl = ttl;
        self
    }

    /// The longest lock granted.
    pub const fn max_lock_ttl(&self) -> Duration {
        self.max_lock_ttl
    }

    /// How many requests may wait for one document's lock.
    pub const fn max_lock_waiters(&self) -> usize {
        self.max_lock_waiters
    }

    /// The most operations one batch may carry (and documents one transaction may touch).
    pub const fn max_batch_operations(&self) -> usize {
        self.max_batch_operations
    }

    /// How many transactions may be open at once.
    pub const fn max_transactions(&self) -> usize {
        self.max_transactions
    }

    /// How many transactions one client may keep open at once.
    pub const fn max_client_transactions(&self) -> usize {
        self.max_client_transactions
    }

    /// The longest transaction granted.
    pub const fn max_transaction_ttl(&self) -> Duration {
        self.max_transaction_ttl
    }
}
