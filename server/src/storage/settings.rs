//! The storage part of [`Config`]: how much of each document's past the store keeps, and how
//! many documents it holds.

use std::time::Duration;

use super::HistoryPolicy;
use crate::Config;

/// The default number of history entries kept per document: 20.
pub const DEFAULT_HISTORY_MAX_VERSIONS: usize = 20;

/// The default age after which past versions are dropped: 7 days.
pub const DEFAULT_HISTORY_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The default time a deleted document's history is kept after the delete: 1 day.
pub const DEFAULT_TOMBSTONE_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The default most documents a store holds: 1,000,000.
pub const DEFAULT_MAX_DOCUMENTS: u64 = 1_000_000;

/// What [`Config`] keeps about history retention and the document cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HistorySettings {
    max_versions: usize,
    max_age: Duration,
    tombstone_ttl: Duration,
    max_documents: u64,
}

impl HistorySettings {
    pub(crate) const fn new() -> Self {
        Self {
            max_versions: DEFAULT_HISTORY_MAX_VERSIONS,
            max_age: DEFAULT_HISTORY_MAX_AGE,
            tombstone_ttl: DEFAULT_TOMBSTONE_TTL,
            max_documents: DEFAULT_MAX_DOCUMENTS,
        }
    }

    /// The retention the stores apply.
    pub(crate) fn policy(&self) -> HistoryPolicy {
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        HistoryPolicy {
            max_versions: self.max_versions,
            max_age_ms: millis(self.max_age),
            tombstone_ttl_ms: millis(self.tombstone_ttl),
        }
    }
}

impl Config {
    /// The most history entries (versions and deletion entries) kept per document. At least
    /// 1 (0 counts as 1): the current version is always kept.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ifmatch_server::{Config, DEFAULT_TOMBSTONE_TTL};
    ///
    /// let config = Config::new()
    ///     .with_history_max_versions(0)
    ///     .with_history_max_age(Duration::ZERO);
    /// assert_eq!(config.history_max_versions(), 1);
    /// assert_eq!(config.tombstone_ttl(), DEFAULT_TOMBSTONE_TTL);
    /// ```
    pub const fn with_history_max_versions(mut self, n: usize) -> Self {
        self.history.max_versions = if n == 0 { 1 } else { n };
        self
    }

    /// Past versions older than this are dropped (the current version stays whatever its
    /// age); [`Duration::ZERO`] keeps them regardless of age.
    pub const fn with_history_max_age(mut self, age: Duration) -> Self {
        self.history.max_age = age;
        self
    }

    /// How long after a delete the document's tombstone, and its history before it, are kept.
    pub const fn with_tombstone_ttl(mut self, ttl: Duration) -> Self {
        self.history.tombstone_ttl = ttl;
        self
    }

    /// The most documents the store holds at once; 0 means no cap. A write that would create
    /// one more (`POST /items`, a `PUT` to a new id, a batch or transaction that adds more
    /// than it deletes) answers 507 and writes nothing; updates and deletes always work. The
    /// count is checked in the same critical section as the write, on every storage, so
    /// concurrent creates (on any number of PostgreSQL replicas) cannot overshoot it.
    pub const fn with_max_documents(mut self, n: u64) -> Self {
        self.history.max_documents = n;
        self
    }

    /// The most documents the store holds at once (0: no cap).
    pub const fn max_documents(&self) -> u64 {
        self.history.max_documents
    }

    /// The most history entries kept per document.
    pub const fn history_max_versions(&self) -> usize {
        self.history.max_versions
    }

    /// The age after which past versions are dropped ([`Duration::ZERO`]: never).
    pub const fn history_max_age(&self) -> Duration {
        self.history.max_age
    }

    /// How long a deleted document's history is kept after the delete.
    pub const fn tombstone_ttl(&self) -> Duration {
        self.history.tombstone_ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = Config::new();
        assert_eq!(config.history_max_versions(), 20);
        assert_eq!(config.history_max_age(), Duration::from_millis(604_800_000));
        assert_eq!(config.tombstone_ttl(), Duration::from_millis(86_400_000));
        assert_eq!(config.max_documents(), 1_000_000);
        assert_eq!(Config::new().with_max_documents(0).max_documents(), 0);
        assert_eq!(
            config.history.policy(),
            HistoryPolicy {
                max_versions: 20,
                max_age_ms: 604_800_000,
                tombstone_ttl_ms: 86_400_000,
            }
        );
    }

    #[test]
    fn setters_work_in_const_context_and_keep_at_least_one_version() {
        const KEEP_ONE: Config = Config::new()
            .with_history_max_versions(0)
            .with_history_max_age(Duration::ZERO)
            .with_tombstone_ttl(Duration::from_millis(5));
        assert_eq!(KEEP_ONE.history_max_versions(), 1);
        assert_eq!(KEEP_ONE.history_max_age(), Duration::ZERO);
        assert_eq!(KEEP_ONE.tombstone_ttl(), Duration::from_millis(5));
        assert_eq!(KEEP_ONE.history.policy().max_age_ms, 0);
    }
}
