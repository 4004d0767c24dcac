//! What the client knows about a lock it holds, and the registry writes consult.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, MutexGuard,
    },
    time::Duration,
};

use http::{HeaderMap, HeaderValue};
use web_time::Instant;

use crate::{cache::CacheKey, client::RequestOptions, CancelToken};

/// One held lock. Shared by the guard, the registry and the renewal task.
#[derive(Debug)]
pub(crate) struct LockState {
    /// The locked resource's absolute URL.
    pub url: String,
    /// The `Lock-Token` header value, exactly as the server gave it.
    pub header: HeaderValue,
    pub token: String,
    pub fencing: Option<u64>,
    pub owner: Option<String>,
    inner: Mutex<Lease>,
    /// Cancelled on release, which also wakes the renewal task at once.
    released: CancelToken,
    /// The holder deleted the resource, which ended the lock (nothing left to release).
    ended_by_delete: AtomicBool,
    /// Headers the acquire was sent with, repeated on renewals and the release.
    headers: Mutex<HeaderMap>,
}

#[derive(Debug)]
struct Lease {
    expires_at: Instant,
    ttl: Duration,
    lost: Option<String>,
}

impl LockState {
    pub(crate) fn new(
        url: String,
        header: HeaderValue,
        token: String,
        fencing: Option<u64>,
        owner: Option<String>,
        ttl: Duration,
        now: Instant,
    ) -> Self {
        Self {
            url,
            header,
            token,
            fencing,
            owner,
            inner: Mutex::new(Lease {
                expires_at: now + ttl,
                ttl,
                lost: None,
            }),
            released: CancelToken::new(),
            ended_by_delete: AtomicBool::new(false),
            headers: Mutex::new(HeaderMap::new()),
        }
    }

    pub(crate) fn set_headers(&self, headers: HeaderMap) {
        *self.headers.lock().unwrap_or_else(|p| p.into_inner()) = headers;
    }

    /// Per-request options for renewals and the release: the acquire's headers.
    pub(crate) fn options(&self) -> RequestOptions {
        RequestOptions::with_headers(
            self.headers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        )
    }

    pub(crate) fn released_signal(&self) -> CancelToken {
        self.released.clone()
    }

    pub(crate) fn end_by_delete(&self) {
        self.ended_by_delete.store(true, Ordering::SeqCst);
        self.release();
    }

    pub(crate) fn ended_by_delete(&self) -> bool {
        self.ended_by_delete.load(Ordering::SeqCst)
    }

    fn lease(&self) -> MutexGuard<'_, Lease> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a renewal the server granted.
    pub(crate) fn renewed(&self, ttl: Duration, now: Instant) {
        let mut lease = self.lease();
        lease.ttl = ttl;
        lease.expires_at = now + ttl;
    }

    /// Marks the lock lost (the first reason wins); returns whether this call lost it.
    pub(crate) fn lose(&self, reason: &str) -> bool {
        let mut lease = self.lease();
        if lease.lost.is_some() {
            return false;
        }
        lease.lost = Some(reason.to_owned());
        true
    }

    /// Why the lock is no longer usable: lost, or past its expiry by the client's clock.
    pub(crate) fn unusable(&self, now: Instant) -> Option<String> {
        let lease = self.lease();
        if let Some(reason) = &lease.lost {
            return Some(reason.clone());
        }
        (now >= lease.expires_at).then(|| "it expired before it was renewed".to_owned())
    }

    pub(crate) fn expires_at(&self) -> Instant {
        self.lease().expires_at
    }

    pub(crate) fn ttl(&self) -> Duration {
        self.lease().ttl
    }

    /// When to renew: a third of the lease before it ends, so one failed renewal can be retried.
    pub(crate) fn renew_in(&self, now: Instant) -> Duration {
        let lease = self.lease();
        let margin = lease.ttl / 3;
        lease
            .expires_at
            .checked_sub(margin)
            .map_or(Duration::ZERO, |at| at.saturating_duration_since(now))
    }

    pub(crate) fn release(&self) {
        self.released.cancel();
    }

    pub(crate) fn is_released(&self) -> bool {
        self.released.is_cancelled()
    }
}

/// The locks a client holds, by resource (and cache partition): a write to a locked resource
/// made through the client carries its token, when that is unambiguous.
#[derive(Debug, Default)]
pub(crate) struct LockRegistry {
    held: Mutex<HashMap<CacheKey, Vec<Arc<LockState>>>>,
}

/// The token a write of one resource should carry, as far as the registry can tell.
#[derive(Debug)]
pub(crate) enum Holder {
    /// No lock on it.
    None,
    /// One guard holds it.
    One(Arc<LockState>),
    /// Several guards of this client (tasks sharing it) are alive for it, one of them perhaps
    /// lost: which one a write belongs to must be said with `.under(&lock)`.
    Several,
}

impl LockRegistry {
    fn held(&self) -> MutexGuard<'_, HashMap<CacheKey, Vec<Arc<LockState>>>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn insert(&self, key: CacheKey, state: Arc<LockState>) {
        self.held().entry(key).or_default().push(state);
    }

    pub(crate) fn holder(&self, key: &CacheKey) -> Holder {
        match self.held().get(key).map(Vec::as_slice) {
            None | Some([]) => Holder::None,
            Some([one]) => Holder::One(one.clone()),
            Some(_) => Holder::Several,
        }
    }

    /// Forgets `state` (another guard's lock on the same resource stays).
    pub(crate) fn remove(&self, key: &CacheKey, state: &Arc<LockState>) {
        let mut held = self.held();
        if let Some(states) = held.get_mut(key) {
            states.retain(|s| !Arc::ptr_eq(s, state));
            if states.is_empty() {
                held.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(ttl_ms: u64, now: Instant) -> LockState {
        LockState::new(
            "http://h/items/1".into(),
            HeaderValue::from_static("\"t\""),
            "t".into(),
            Some(1),
            None,
            Duration::from_millis(ttl_ms),
            now,
        )
    }

    #[test]
    fn renewal_is_due_a_third_of_the_lease_before_it_ends() {
        let now = Instant::now();
        let lock = state(30_000, now);
        assert_eq!(lock.renew_in(now), Duration::from_secs(20));
        assert_eq!(lock.renew_in(now + Duration::from_secs(25)), Duration::ZERO);
        lock.renewed(Duration::from_secs(3), now + Duration::from_secs(25));
        assert_eq!(
            lock.renew_in(now + Duration::from_secs(25)),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn a_lock_is_unusable_once_lost_or_past_its_expiry() {
        let now = Instant::now();
        let lock = state(1_000, now);
        assert_eq!(lock.unusable(now), None);
        assert!(lock.unusable(now + Duration::from_secs(1)).is_some());
        assert!(lock.lose("renewal refused"));
        assert!(!lock.lose("again"), "the first reason wins");
        assert_eq!(lock.unusable(now).as_deref(), Some("renewal refused"));
    }

    #[test]
    fn two_live_guards_on_one_resource_make_the_holder_ambiguous_until_one_goes() {
        let now = Instant::now();
        let registry = LockRegistry::default();
        let key = CacheKey {
            partition: None,
            url: "u".into(),
        };
        let old = Arc::new(state(1_000, now));
        let new = Arc::new(state(1_000, now));
        registry.insert(key.clone(), old.clone());
        assert!(matches!(registry.holder(&key), Holder::One(s) if Arc::ptr_eq(&s, &old)));
        registry.insert(key.clone(), new.clone());
        assert!(matches!(registry.holder(&key), Holder::Several));
        registry.remove(&key, &old);
        assert!(matches!(registry.holder(&key), Holder::One(s) if Arc::ptr_eq(&s, &new)));
        registry.remove(&key, &new);
        assert!(matches!(registry.holder(&key), Holder::None));
    }
}
