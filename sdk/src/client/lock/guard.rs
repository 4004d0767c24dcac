//! The held lock: what it says about itself, renewing and releasing it.

use std::{sync::Arc, time::Duration};

use web_time::Instant;

#[cfg(doc)]
use crate::Event;
use crate::{cache::CacheKey, lock::LockState, rt::spawn, Error};

use super::Client;

/// A held lock. While it lives, every write the client makes to the resource carries its token
/// (`Lock-Token`), and a background task renews it before it expires. If the lock is lost (a
/// renewal refused, or it expired), [`Event::LockLost`] is emitted and writes fail with
/// [`Error::LockLost`] instead of being sent. [`LockGuard::release`] releases it; dropping the
/// guard releases it too, best effort, in the background.
///
/// Tasks sharing one client: a write carries the token of the client's only live guard on the
/// resource. If several tasks each hold a guard on it (one of them has lost its lock and another
/// took it), a write must say which with `.under(&lock)`; otherwise it is refused with
/// `invalid_config` rather than sent with a token that is not its own.
#[derive(Debug)]
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard {
    pub(super) client: Client,
    pub(super) key: CacheKey,
    pub(super) state: Arc<LockState>,
    pub(super) released: bool,
}

impl LockGuard {
    /// The shared state, for writes made explicitly under this lock (`.under(&lock)`).
    pub(crate) fn state(&self) -> &Arc<LockState> {
        &self.state
    }

    /// The locked resource's absolute URL.
    pub fn url(&self) -> &str {
        &self.state.url
    }

    /// The lock token (sent as `Lock-Token` with writes).
    pub fn token(&self) -> &str {
        &self.state.token
    }

    /// The server's fencing number: higher for every later lock, so a store can refuse writes
    /// from an older holder.
    pub fn fencing(&self) -> Option<u64> {
        self.state.fencing
    }

    /// The holder's name, if one was given or granted.
    pub fn owner(&self) -> Option<&str> {
        self.state.owner.as_deref()
    }

    /// The lease the server granted.
    pub fn ttl(&self) -> Duration {
        self.state.ttl()
    }

    /// Time left before the lock ends unless renewed.
    pub fn expires_in(&self) -> Duration {
        self.state
            .expires_at()
            .saturating_duration_since(Instant::now())
    }

    /// Why the lock is no longer held, if it is not.
    pub fn lost(&self) -> Option<String> {
        self.state.unusable(Instant::now())
    }

    /// Renews the lease now (the guard also does this by itself before it ends).
    ///
    /// # Errors
    /// [`Error::LockLost`] when the server no longer honours the token; timeouts and transport
    /// errors (the lock is then kept until it expires).
    pub async fn renew(&self) -> Result<(), Error> {
        self.client.renew_lock(&self.state).await
    }

    /// Releases the lock; later writes to the resource carry no token.
    ///
    /// # Errors
    /// [`Error::LockLost`] when the lock had already been lost (so writes made under it may have
    /// been refused); timeouts and transport errors (the lock then ends at its expiry).
    pub async fn release(mut self) -> Result<(), Error> {
        self.released = true;
        self.state.release();
        self.client.inner.locks.remove(&self.key, &self.state);
        self.client.release_lock(&self.state).await
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        self.state.release();
        self.client.inner.locks.remove(&self.key, &self.state);
        let (client, state) = (self.client.clone(), self.state.clone());
        // Best effort: a lock not released here ends at its expiry anyway.
        let spawned = spawn(Box::pin(async move {
            let _ = client.release_lock(&state).await;
        }));
        if !spawned {
            tracing::debug!(url = %self.state.url, "dropped lock left to expire");
        }
    }
}
