//! Waiting in a lock queue for as long as the request allows.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::oneshot::error::RecvError;
use tokio::time::sleep_until;

use super::lease::{Grant, Snapshot};
use super::table::{Handoff, Left, Queued};
use super::{now, LockManager};

/// How a wait in the queue ended.
#[derive(Debug)]
pub(crate) enum Waited {
    Granted(Grant),
    /// The document was deleted while the request waited.
    Gone,
    /// The wait ran out; the current lock, if any.
    TimedOut(Option<Snapshot>),
}

/// A place in a lock queue, owned by the HTTP request that asked for it. Dropping it (axum
/// drops the request's future when the client disconnects) leaves the queue, and if the lock
/// was handed over in the meantime, passes it on at once rather than leaving it held by
/// nobody until it expires.
#[derive(Debug)]
pub(crate) struct Ticket {
    manager: Arc<LockManager>,
    key: String,
    queued: Option<Queued>,
}

enum Wake {
    Handoff(Result<Handoff, RecvError>),
    Deadline,
    HolderExpiry,
}

impl Ticket {
    pub(crate) fn new(manager: Arc<LockManager>, key: String, queued: Queued) -> Self {
        Self {
            manager,
            key,
            queued: Some(queued),
        }
    }

    /// Waits until the lock is handed over, the document is deleted, or `deadline` passes.
    pub(crate) async fn wait(mut self, deadline: Instant) -> Waited {
        let deadline = tokio::time::Instant::from_std(deadline);
        loop {
            let Some(queued) = self.queued.as_mut() else {
                return Waited::TimedOut(None);
            };
            // Nobody else may call in when the holder vanishes, so the waiters wake at its
            // expiry and settle the lock themselves; the first in line then gets it.
            let expiry = self.manager.table().holder_expiry(&self.key);
            let wake = tokio::select! {
                // A lock handed over at the deadline is taken, not dropped.
                biased;
                handoff = &mut queued.receiver => Wake::Handoff(handoff),
                () = sleep_until(deadline) => Wake::Deadline,
                () = sleep_until(expiry.map_or(deadline, tokio::time::Instant::from_std)),
                    if expiry.is_some() => Wake::HolderExpiry,
            };
            match wake {
                Wake::Handoff(Ok(Handoff::Granted(grant))) => {
                    self.queued = None;
                    return Waited::Granted(grant);
                }
                Wake::Handoff(Ok(Handoff::Gone)) => {
                    self.queued = None;
                    return Waited::Gone;
                }
                // The table never drops a waiter's sender without sending; should it ever,
                // leaving the queue reports the lock as it is.
                Wake::Handoff(Err(_)) | Wake::Deadline => return self.leave(),
                Wake::HolderExpiry => self.manager.table().settle(&self.key, now()),
            }
        }
    }

    fn leave(&mut self) -> Waited {
        let Some(mut queued) = self.queued.take() else {
            return Waited::TimedOut(None);
        };
        match self.manager.table().leave(&self.key, &mut queued, now()) {
            Left::Granted(grant) => Waited::Granted(grant),
            Left::Gone => Waited::Gone,
            Left::NotGranted(snapshot) => Waited::TimedOut(snapshot),
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let Some(mut queued) = self.queued.take() else {
            return;
        };
        let mut table = self.manager.table();
        let now = now();
        if let Left::Granted(grant) = table.leave(&self.key, &mut queued, now) {
            // Nobody will ever see this token: hand the lock to the next in line.
            let _ = table.release(&self.key, &grant.token, now);
        }
    }
}
