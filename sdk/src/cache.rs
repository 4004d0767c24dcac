//! The ETag cache: a bounded LRU of validators and last-seen representations (merge bases).
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

/// `capacity` 0 disables caching: every lookup misses.
pub(crate) struct EtagCache {
    entries: Option<Mutex<LruCache<CacheKey, CacheEntry>>>,
}

impl EtagCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: NonZeroUsize::new(capacity).map(|cap| Mutex::new(LruCache::new(cap))),
        }
    }

    pub(crate) fn get(&self, key: &CacheKey) -> Option<CacheEntry> {
        self.lock()?.get(key).cloned()
    }

    pub(crate) fn put(&self, key: CacheKey, entry: CacheEntry) {
        if let Some(mut entries) = self.lock() {
            entries.put(key, entry);
        }
    }

    pub(crate) fn remove(&self, key: &CacheKey) {
        if let Some(mut entries) = self.lock() {
            entries.pop(key);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().map_or(0, |entries| entries.len())
    }

    fn lock(&self) -> Option<MutexGuard<'_, LruCache<CacheKey, CacheEntry>>> {
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
        let cache = EtagCache::new(2);
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
        let cache = EtagCache::new(8);
        cache.put(key(Some("alice"), "u"), entry("a"));
        assert!(cache.get(&key(Some("bob"), "u")).is_none());
        assert!(cache.get(&key(None, "u")).is_none());
        assert_eq!(cache.get(&key(Some("alice"), "u")), Some(entry("a")));
    }

    #[test]
    fn zero_capacity_disables_the_cache() {
        let cache = EtagCache::new(0);
        cache.put(key(None, "a"), entry("1"));
        assert!(cache.get(&key(None, "a")).is_none());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn remove_forgets_the_entry() {
        let cache = EtagCache::new(2);
        cache.put(key(None, "a"), entry("1"));
        cache.remove(&key(None, "a"));
        assert!(cache.get(&key(None, "a")).is_none());
    }
}
