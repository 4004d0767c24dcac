//! A place in a lock queue kept in the database, owned by the HTTP request waiting in it.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{sleep, sleep_until};

use super::super::lease::Grant;
use super::super::wait::Waited;
use super::sql::{self, Standing};
use super::{SharedLocks, POLL, WAITER_LEASE};
use crate::storage::StoreError;

/// The deadline a waiter's row gets with `left` to wait: a second past its own deadline (it
/// leaves the queue itself then), but at most [`WAITER_LEASE`] from now.
pub(super) fn lease(left: Duration) -> Duration {
    (left + Duration::from_secs(1)).min(WAITER_LEASE)
}

/// A queued lock request. Dropping it (the client went away) leaves the queue, and passes the
/// lock on at once if it was handed over in the meantime.
#[derive(Debug)]
pub(crate) struct SharedTicket {
    locks: Arc<SharedLocks>,
    id: String,
    ticket: Option<i64>,
    wake: broadcast::Receiver<String>,
}

impl SharedTicket {
    pub(super) fn new(
        locks: Arc<SharedLocks>,
        id: String,
        ticket: i64,
        wake: broadcast::Receiver<String>,
    ) -> Self {
        locks.waiting.fetch_add(1, Ordering::Relaxed);
        Self {
            locks,
            id,
            ticket: Some(ticket),
            wake,
        }
    }

    /// Waits until the lock is handed over, the document is deleted, or `deadline` passes.
    /// Looks at the queue when told the document's lock moved (on any replica), and at least
    /// every [`POLL`] and at the holder's expiry, whichever comes first.
    pub(crate) async fn wait(mut self, deadline: Instant) -> Result<Waited, StoreError> {
        let deadline = tokio::time::Instant::from_std(deadline);
        loop {
            let Some(ticket) = self.ticket else {
                return Ok(Waited::TimedOut(None));
            };
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let nap = match self.stand(ticket, Look::Renew(lease(left))).await? {
                Standing::Granted(grant) => return Ok(self.granted(grant)),
                Standing::Out { gone } => return Ok(self.out(gone)),
                Standing::Waiting(snapshot) => {
                    snapshot.map_or(POLL, |s| s.lease.remaining(Instant::now()).min(POLL))
                }
            };
            let id = self.id.clone();
            tokio::select! {
                biased;
                () = sleep_until(deadline) => break,
                () = heard(&mut self.wake, &id) => {}
                () = sleep(nap) => {}
            }
        }
        // Out of time: leave the queue, unless the lock came just now.
        let Some(ticket) = self.ticket else {
            return Ok(Waited::TimedOut(None));
        };
        match self.stand(ticket, Look::Leave).await? {
            Standing::Granted(grant) => Ok(self.granted(grant)),
            Standing::Out { gone } => Ok(self.out(gone)),
            Standing::Waiting(snapshot) => {
                self.ticket = None;
                Ok(Waited::TimedOut(snapshot))
            }
        }
    }

    fn granted(&mut self, grant: Grant) -> Waited {
        self.ticket = None;
        Waited::Granted(grant)
    }

    fn out(&mut self, gone: bool) -> Waited {
        self.ticket = None;
        if gone {
            Waited::Gone
        } else {
            Waited::TimedOut(None)
        }
    }

    /// Where the ticket stands now; still in the queue, it then renews its lease or leaves.
    async fn stand(&self, ticket: i64, look: Look) -> Result<Standing, StoreError> {
        let id = self.id.clone();
        self.locks
            .run(move |this| {
                this.locked(&id, |tx, epoch| {
                    let standing = sql::standing(tx, epoch, &id, ticket)?;
                    if matches!(standing, Standing::Waiting(_)) {
                        match look {
                            Look::Renew(lease) => sql::renew_lease(tx, ticket, lease)?,
                            Look::Leave => sql::dequeue(tx, ticket)?,
                        }
                    }
                    Ok(standing)
                })
            })
            .await
    }
}

/// What a look at the queue does when the ticket is still in it.
#[derive(Debug, Clone, Copy)]
enum Look {
    /// Keeps its place for `lease` more.
    Renew(Duration),
    /// Leaves the queue (out of time).
    Leave,
}

/// Returns once some replica said the lock of `id` moved (or notifications were missed).
async fn heard(wake: &mut broadcast::Receiver<String>, id: &str) {
    loop {
        match wake.recv().await {
            Ok(moved) if moved == id => return,
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => return,
            Err(RecvError::Closed) => std::future::pending().await,
        }
    }
}

impl Drop for SharedTicket {
    fn drop(&mut self) {
        self.locks.waiting.fetch_sub(1, Ordering::Relaxed);
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (locks, id) = (Arc::clone(&self.locks), self.id.clone());
        runtime.spawn_blocking(move || {
            let left = locks.locked(&id, |tx, epoch| {
                match sql::standing(tx, epoch, &id, ticket)? {
                    // Nobody will ever see this token: the next in line gets the lock.
                    Standing::Granted(grant) => {
                        sql::end(tx, epoch, &id, Some(&grant.token))?;
                    }
                    Standing::Waiting(_) => sql::dequeue(tx, ticket)?,
                    Standing::Out { .. } => {}
                }
                Ok(())
            });
            if let Err(err) = left {
                tracing::warn!(error = %err, "leaving a lock queue failed; the entry expires at its deadline");
            }
        });
    }
}
