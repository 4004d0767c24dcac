//! Version history: what a store keeps of each document's past, and the retention rules both
//! stores apply. The rules are a pure function over plain data (ages and kinds of entries), so
//! they are tested without a store or a clock.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// How much history a store keeps per document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HistoryPolicy {
    /// The most entries (versions and deletion entries) kept per document; at least 1.
    pub(crate) max_versions: usize,
    /// Entries older than this many milliseconds are dropped (the newest never); 0: no limit.
    pub(crate) max_age_ms: u64,
    /// A deleted document's tombstone, and the history before it, are forgotten this many
    /// milliseconds after the delete.
    pub(crate) tombstone_ttl_ms: u64,
}

/// One entry of a document's history, without its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionInfo {
    /// The store-wide write counter at this write (the number in the version's tag).
    pub(crate) version: u64,
    /// The version's tag; `None` for the tombstone, which has no content.
    pub(crate) etag: Option<crate::etag::EntityTag>,
    /// When it was written, in Unix milliseconds.
    pub(crate) at_ms: u64,
    /// The authenticated client that wrote it; `None` for anonymous writes.
    pub(crate) author: Option<String>,
    /// Whether this entry records a delete (the tombstone) rather than a stored document.
    pub(crate) deleted: bool,
    /// The stored body's length in bytes (0 for the tombstone).
    pub(crate) size: usize,
}

/// What [`Store::version`](super::Store::version) found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The document has no history (it never existed, or its tombstone has gone).
    NoHistory,
    /// The version as it was written.
    Found(super::Document),
    /// The number was never this document's, is no longer kept, or is the tombstone's;
    /// `oldest` is the oldest entry still kept.
    NotKept { oldest: u64 },
}

/// The age and kind of one entry, all the retention rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) at_ms: u64,
    pub(crate) deleted: bool,
}

impl HistoryPolicy {
    /// Which of `entries` (newest first) to keep at `now_ms`.
    ///
    /// - A tombstone at the head (the document is deleted now) older than the tombstone TTL
    ///   takes the whole history with it.
    /// - Otherwise the head is always kept (the current version, whatever its age, or the
    ///   live tombstone), then at most `max_versions` entries in all, none older than
    ///   `max_age_ms`.
    pub(crate) fn kept(&self, entries: &[Entry], now_ms: u64) -> Vec<bool> {
        let Some(head) = entries.first() else {
            return Vec::new();
        };
        if head.deleted && now_ms.saturating_sub(head.at_ms) >= self.tombstone_ttl_ms {
            return vec![false; entries.len()];
        }
        let max_versions = self.max_versions.max(1);
        entries
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                index == 0
                    || (index < max_versions
                        && (self.max_age_ms == 0
                            || now_ms.saturating_sub(entry.at_ms) <= self.max_age_ms))
            })
            .collect()
    }
}

/// Where a store reads the time of a write. Tests pass a closure over a fake time.
pub(crate) trait Clock: Send + Sync + 'static {
    /// Now, in Unix milliseconds.
    fn now_ms(&self) -> u64;
}

impl<F: Fn() -> u64 + Send + Sync + 'static> Clock for F {
    fn now_ms(&self) -> u64 {
        self()
    }
}

/// The system's wall clock.
pub(crate) fn system_clock() -> Arc<dyn Clock> {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| {
                u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
            })
    })
}

/// The version number of a tag this server made: the digits after its last `-`.
pub(crate) fn version_of(opaque: &str) -> Option<u64> {
    opaque.rsplit_once('-')?.1.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: HistoryPolicy = HistoryPolicy {
        max_versions: 3,
        max_age_ms: 1_000,
        tombstone_ttl_ms: 500,
    };

    fn version(at_ms: u64) -> Entry {
        Entry {
            at_ms,
            deleted: false,
        }
    }

    fn tombstone(at_ms: u64) -> Entry {
        Entry {
            at_ms,
            deleted: true,
        }
    }

    #[test]
    fn at_most_max_versions_are_kept() {
        let entries: Vec<_> = (0..5).rev().map(|n| version(10_000 + n)).collect();
        assert_eq!(
            POLICY.kept(&entries, 10_005),
            [true, true, true, false, false]
        );
    }

    #[test]
    fn old_entries_go_but_the_current_version_stays_whatever_its_age() {
        let entries = [version(5_000), version(4_500), version(3_000)];
        assert_eq!(POLICY.kept(&entries, 5_400), [true, true, false]);
        assert_eq!(POLICY.kept(&entries, 100_000), [true, false, false]);
        let no_age_limit = HistoryPolicy {
            max_age_ms: 0,
            ..POLICY
        };
        assert_eq!(no_age_limit.kept(&entries, 100_000), [true, true, true]);
    }

    #[test]
    fn a_tombstone_keeps_the_history_until_its_ttl_then_takes_it_along() {
        let entries = [tombstone(5_000), version(4_900)];
        assert_eq!(POLICY.kept(&entries, 5_499), [true, true]);
        assert_eq!(POLICY.kept(&entries, 5_500), [false, false]);
    }

    #[test]
    fn a_tombstone_inside_the_history_ages_like_a_version() {
        let entries = [version(9_000), tombstone(8_500), version(7_000)];
        assert_eq!(POLICY.kept(&entries, 9_000), [true, true, false]);
        assert_eq!(POLICY.kept(&entries, 9_600), [true, false, false]);
    }

    #[test]
    fn zero_max_versions_counts_as_one_and_empty_histories_stay_empty() {
        let policy = HistoryPolicy {
            max_versions: 0,
            ..POLICY
        };
        assert_eq!(policy.kept(&[version(1), version(0)], 1), [true, false]);
        assert!(POLICY.kept(&[], 0).is_empty());
    }

    #[test]
    fn version_numbers_are_read_from_server_tags() {
        assert_eq!(version_of("3f9a0c2be1d47a65-42"), Some(42));
        assert_eq!(version_of("tx-ab-1-7"), Some(7));
        assert_eq!(version_of("nodash"), None);
        assert_eq!(version_of("a-"), None);
    }
}
