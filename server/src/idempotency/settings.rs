//! The idempotency part of [`Config`]: how long records live and how many the server keeps.

use std::time::Duration;

use crate::Config;

/// The default lifetime of an idempotency record: 24 hours from its request's arrival.
pub const DEFAULT_IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The default number of idempotency records kept at once: 10,000 (the oldest is evicted for
/// a new one).
pub const DEFAULT_IDEMPOTENCY_MAX_KEYS: usize = 10_000;

/// The default budget for the answers kept by idempotency records: 64 MiB (the oldest records
/// are evicted to stay under it).
pub const DEFAULT_IDEMPOTENCY_MAX_BYTES: usize = 64 * 1024 * 1024;

/// What [`Config`] keeps about idempotency records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IdempotencySettings {
    pub(crate) ttl: Duration,
    pub(crate) max_keys: usize,
    pub(crate) max_bytes: usize,
}

impl IdempotencySettings {
    pub(crate) const fn new() -> Self {
        Self {
            ttl: DEFAULT_IDEMPOTENCY_TTL,
            max_keys: DEFAULT_IDEMPOTENCY_MAX_KEYS,
            max_bytes: DEFAULT_IDEMPOTENCY_MAX_BYTES,
        }
    }

    pub(crate) const fn limits(&self) -> super::Limits {
        super::Limits {
            ttl: self.ttl,
            max_keys: self.max_keys,
            max_bytes: self.max_bytes,
        }
    }
}

impl Default for IdempotencySettings {
    fn default() -> Self {
        Self::new()
    }
}

/// Idempotency-key setters; see `docs/server.md` ("Idempotency keys").
impl Config {
    /// How long a keyed request's record (and so its replay) lives, from the request's
    /// arrival; a retry after that is processed as a new request. At least 1 ms.
    pub const fn with_idempotency_ttl(mut self, ttl: Duration) -> Self {
        self.idempotency.ttl = if ttl.is_zero() {
            Duration::from_millis(1)
        } else {
            ttl
        };
        self
    }

    /// How many idempotency records are kept at once; the oldest is evicted for a new one.
    /// At least 1 (0 counts as 1).
    pub const fn with_idempotency_max_keys(mut self, n: usize) -> Self {
        self.idempotency.max_keys = if n == 0 { 1 } else { n };
        self
    }

    /// How many bytes of answers idempotency records keep at most; the oldest records are
    /// evicted to stay under it, and an answer larger than this is not kept.
    pub const fn with_idempotency_max_bytes(mut self, bytes: usize) -> Self {
        self.idempotency.max_bytes = bytes;
        self
    }

    /// How long an idempotency record lives.
    pub const fn idempotency_ttl(&self) -> Duration {
        self.idempotency.ttl
    }

    /// How many idempotency records are kept at once.
    pub const fn idempotency_max_keys(&self) -> usize {
        self.idempotency.max_keys
    }

    /// How many bytes of answers idempotency records keep at most.
    pub const fn idempotency_max_bytes(&self) -> usize {
        self.idempotency.max_bytes
    }
}
