//! The ETag cache: a bounded LRU of validators and last-seen representations (merge bases),
//! capped by entries and by bytes (each entry counted as its URL, partition, tag and the
//! body's compact JSON length).
//!
//! Keys are the absolute URL plus an optional partition (an identity such as a user id), so one
//! user's cached body never becomes another user's merge base in a shared client.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex, MutexGuard},
};

use lru::LruCache;
use serde_json::Value;

use crate::EntityTag;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    pub partition: Option<Arc<str>>,
    pub url: String,
}

/// What the client knows about one resource.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CacheEntry {
    pub etag: EntityTag,
    /// The representation the ETag belongs to (the base for three-way merges).
    pub body: Arc<Value>,
}

/// The entries with their sizes, and the sum of the sizes.
struct Entries {
    lru: LruCache<CacheKey, (CacheEntry, usize)>,
    bytes: usize,
    max_bytes: usize,
}

/// `capacity` 0 (or `max_bytes` 0) disables caching: every lookup misses.
pub(crate) struct EtagCache {
    entries: Option<Mutex<Entries>>,
}

/// What one entry counts for: its key, its tag and its body as compact JSON.
fn size_of(key: &CacheKey, entry: &CacheEntry) -> usize {
    let body = serde_json::to_vec(&*entry.body).map_or(0, |bytes| bytes.len());
    key.url.len()
        + key.partition.as_deref().map_or(0, str::len)
        + entry.etag.to_string().len()
        + body
}

impl EtagCache {
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Self {
        Self {
            entries: NonZeroUsize::new(capacity)
                .filter(|_| max_bytes > 0)
                .map(|cap| {
                    Mutex::new(Entries {
                        lru: LruCache::new(cap),
                        bytes: 0,
                        max_bytes,
                    })
                }),
        }
    }

    pub(crate) fn get(&self, key: &CacheKey) -> Option<CacheEntry> {
        self.lock()?.lru.get(key).map(|(entry, _)| entry.clone())
    }

    /// Keeps `entry`, evicting the least recently used entries until the bytes fit. An entry
    /// larger than the whole budget is not kept (and replaces no older one: that is forgotten).
    pub(crate) fn put(&self, key: CacheKey, entry: CacheEntry) {
        let Some(mut entries) = self.lock() else {
            return;
        };
        let size = size_of(&key, &entry);
        if size > entries.max_bytes {
            if let Some((_, old)) = entries.lru.pop(&key) {
                entries.bytes -= old;
            }
            return;
        }
        if let Some((_, (_, old))) = entries.lru.push(key, (entry, size)) {
            entries.bytes -= old;
        }
        entries.bytes += size;
        while entries.bytes > entries.max_bytes {
            match entries.lru.pop_lru() {
                Some((_, (_, old))) => entries.bytes -= old,
                None => break,
            }
        }
    }

    pub(crate) fn remove(&self, key: &CacheKey) {
        if let Some(mut entries) = self.lock() {
            if let Some((_, old)) = entries.lru.pop(key) {
                entries.bytes -= old;
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().map_or(0, |entries| entries.lru.len())
    }

    /// The bytes the entries count for now.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.lock().map_or(0, |entries| entries.bytes)
    }

    fn lock(&self) -> Option<MutexGuard<'_, Entries>> {
        // Entries are replaced whole, so a panic elsewhere cannot leave one half-written.
        self.entries
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(partition: Option<&str>, url: &str) -> CacheKey {
        CacheKey {
            partition: partition.map(Arc::from),
            url: url.to_owned(),
        }
    }

    fn entry(tag: &str) -> CacheEntry {
        CacheEntry {
            etag: EntityTag::strong(tag).unwrap(),
            body: Arc::new(Value::from(tag)),
        }
    }

    #[test]
    fn least_recently_used_entry_is_evicted_at_capacity() {
        let cache = EtagCache::new(2, usize::MAX);
        cache.put(key(None, "a"), entry("1"));
        cache.put(key(None, "b"), entry("2"));
        assert!(cache.get(&key(None, "a")).is_some()); // touch a, so b is older
        cache.put(key(None, "c"), entry("3"));
        assert!(cache.get(&key(None, "b")).is_none());
        assert!(cache.get(&key(None, "a")).is_some());
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn partitions_never_share_entries() {
        let cache = EtagCache::new(8, usize::MAX);
        cache.put(key(Some("alice"), "u"), entry("a"));
        assert!(cache.get(&key(Some("bob"), "u")).is_none());
        assert!(cache.get(&key(None, "u")).is_none());
        assert_eq!(cache.get(&key(Some("alice"), "u")), Some(entry("a")));
    }

    #[test]
    fn zero_capacity_disables_the_cache() {
        let cache = EtagCache::new(0, usize::MAX);
        cache.put(key(None, "a"), entry("1"));
        assert!(cache.get(&key(None, "a")).is_none());
        assert_eq!(cache.len(), 0);
    }

    fn sized(n: usize) -> CacheEntry {
        CacheEntry {
            etag: EntityTag::strong("1").unwrap(),
            body: Arc::new(Value::from("x".repeat(n))),
        }
    }

    #[test]
    fn the_byte_budget_evicts_the_least_recently_used_entries() {
        // Each entry: key "k0" (2) + tag "\"1\"" (3) + body "\"x…x\"" (1000 + 2) = 1007 bytes.
        let cache = EtagCache::new(100, 3000);
        for i in 0..10 {
            cache.put(key(None, &format!("k{i}")), sized(1000));
            assert!(cache.bytes() <= 3000, "{} bytes kept", cache.bytes());
        }
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.bytes(), 2 * 1007);
        assert!(cache.get(&key(None, "k9")).is_some());
        assert!(cache.get(&key(None, "k8")).is_some());
        assert!(cache.get(&key(None, "k7")).is_none());
        // Replacing an entry counts its new size, not both.
        cache.put(key(None, "k9"), sized(10));
        assert_eq!(cache.bytes(), 1007 + 17);
        cache.remove(&key(None, "k9"));
        assert_eq!(cache.bytes(), 1007);
    }

    #[test]
    fn an_entry_larger_than_the_budget_is_not_kept_and_forgets_the_older_one() {
        let cache = EtagCache::new(100, 3000);
        cache.put(key(None, "a"), sized(10));
        cache.put(key(None, "b"), sized(10));
        cache.put(key(None, "a"), sized(5000));
        assert!(
            cache.get(&key(None, "a")).is_none(),
            "a stale merge base is not kept"
        );
        assert!(cache.get(&key(None, "b")).is_some());
        assert_eq!(cache.len(), 1);
        assert_eq!(EtagCache::new(100, 0).len(), 0);
    }

    #[test]
    fn remove_forgets_the_entry() {
        let cache = EtagCache::new(2, usize::MAX);
        cache.put(key(None, "a"), entry("1"));
        cache.remove(&key(None, "a"));
        assert!(cache.get(&key(None, "a")).is_none());
    }
}
