//! `client.lock(path)`: acquire a lock, keep it alive in the background, release it.

mod guard;
mod renewal;
mod request;

use std::{sync::Arc, time::Duration};

use http::Method;
use web_time::Instant;

use crate::{
    lock::{Holder, LockState},
    Error,
};

use super::Client;

pub use guard::LockGuard;
pub use request::{LockRequest, DEFAULT_LOCK_TTL};

impl Client {
    /// Requests a lock on the resource at `path`; see [`LockRequest`] and [`LockGuard`].
    ///
    /// ```no_run
    /// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
    /// use std::time::Duration;
    ///
    /// let lock = client
    ///     .lock("/items/1")
    ///     .ttl(Duration::from_secs(10))
    ///     .wait(Duration::from_secs(5))
    ///     .await?;
    /// let read = client.get::<serde_json::Value>("/items/1").await?;
    /// client.put("/items/1", &read.value, &read).await?; // carries the lock token
    /// lock.release().await?;
    /// # Ok(()) }
    /// ```
    pub fn lock(&self, path: &str) -> LockRequest {
        LockRequest::new(self.clone(), path)
    }

    /// The lock a write of `url` is made under: the guard named with `.under(&lock)`, else the
    /// client's only guard on that resource. Refuses a write under a lost lock, and one whose
    /// lock is ambiguous (tasks sharing the client each hold a guard on the resource).
    pub(super) fn lock_for(
        &self,
        url: &str,
        under: Option<&Arc<LockState>>,
    ) -> Result<Option<Arc<LockState>>, Error> {
        let state = match (under, self.inner.locks.holder(&self.key(url))) {
            (Some(state), _) if state.url != url => {
                return Err(Error::Config {
                    field: "lock",
                    reason: format!(
                        "the write to {url} was made under the lock on {}, another resource; a lock's token is for its own resource only",
                        state.url
                    ),
                })
            }
            (Some(state), _) => state.clone(),
            (None, Holder::None) => return Ok(None),
            (None, Holder::One(state)) => state,
            (None, Holder::Several) => {
                return Err(Error::Config {
                    field: "lock",
                    reason: format!(
                        "this client holds several locks on {url} (tasks sharing it each took one); say which one a write is made under with .under(&lock)"
                    ),
                })
            }
        };
        match state.unusable(Instant::now()) {
            Some(reason) => Err(Error::LockLost {
                url: url.to_owned(),
                reason,
            }),
            None => Ok(Some(state)),
        }
    }

    /// Records that a write under `lock` succeeded: a DELETE ends the lock with the resource.
    pub(super) fn lock_used(&self, lock: Option<&LockState>, method: &Method) {
        if let (Some(state), &Method::DELETE) = (lock, method) {
            state.end_by_delete();
        }
    }

    /// Records a lock the server says is gone, when a write under it was refused for its token
    /// (412 lock-token-invalid, or 423: someone else holds the lock now). A version conflict
    /// under a valid lock stays a conflict.
    pub(super) fn lock_refused(&self, lock: Option<&LockState>, err: Error) -> Error {
        let about_the_lock = matches!(err, Error::LockLost { .. } | Error::Locked { .. });
        match lock {
            Some(state) if about_the_lock => self.lost_if_refused(state, err),
            _ => err,
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
