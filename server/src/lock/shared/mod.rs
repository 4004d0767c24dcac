//! Locks kept in PostgreSQL, so that every replica on one database sees the same locks.
//!
//! - **State**: `ifmatch_locks` (one row per held lock: token, owner, grant number, TTL, expiry)
//!   and `ifmatch_lock_waiters` (the FIFO queue: one row per waiting request, its ticket from
//!   the sequence `ifmatch_lock_ticket`, and a deadline). Expiry and deadlines are read from
//!   the database clock (`clock_timestamp()`), so replicas whose clocks disagree still agree.
//! - **Atomicity**: every decision runs in a transaction holding the document's advisory lock,
//!   the same one every write of the document takes (`storage::pg_lock_document`). Lock
//!   requests take it themselves, on connections of their own ([`SharedLocks::ops`]). A write
//!   already holds it on its store connection when it asks whether it may write, so that check
//!   runs on a second pool ([`SharedLocks::gate`]) and never waits for a lock: it touches only
//!   the rows of the document whose advisory lock its replica holds. Two pools, because a
//!   write holding a document's lock must never wait for a connection that a lock request,
//!   itself waiting for that document's lock, holds.
//! - **Tokens** embed the database's tag epoch and a grant number from the sequence
//!   `ifmatch_lock_grant`, plus a random nonce: no two grants on any replica share a token.
//! - **Waking waiters**: a change to a lock or a queue `NOTIFY`s the channel `ifmatch_locks`
//!   with the document id. Each replica's listening connection (`storage::PgListener`, shared
//!   with the conflict log) hands the ids to this replica, which fans them out to its queued
//!   requests; each also re-checks at least every [`POLL`], so a lost
//!   notification (a dropped listening connection) delays a handoff, never hangs it, and a
//!   holder that expires is replaced without anybody calling in.

mod sql;
mod ticket;

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use postgres::Transaction;
use tokio::sync::broadcast;

use super::lease::{Grant, LockRequest, Snapshot};
use super::table::Refusal;
use super::token::LockToken;
use crate::storage::{pg_lock_document, PgBudget, PgListener, PgPool, StoreError};

pub(crate) use ticket::SharedTicket;

/// The longest a queued request goes without looking at the database again (it also looks
/// when notified and at the holder's expiry). Each look takes the document's advisory lock, so
/// a short poll multiplies with the queue: 72 waiters at 250 ms kept 8 connections busy enough
/// that a request to be refused at once (queue full) waited for one under load.
pub(crate) const POLL: Duration = Duration::from_secs(1);
/// How long a queued request keeps its place without its replica looking at it: a waiter
/// renews its row's deadline to this (or its own deadline, if sooner) at every look, at least
/// every [`POLL`]. A replica that dies leaves rows nobody renews; they are dropped from the
/// queue after this. A lock handed over to a queued request is claimed at its next look; one
/// not claimed within this ends, and goes to the next in line. Before, a dead replica's request
/// stayed queued until its own deadline, and a lock handed to it sat with nobody until its TTL
/// ran out.
pub(crate) const WAITER_LEASE: Duration = Duration::from_secs(5);
/// Connections per replica for lock requests (which wait for documents' advisory locks).
const OPS_POOL: usize = 8;
/// Connections per replica for the lock checks of writes (which never wait).
const GATE_POOL: usize = 4;

/// The answer to a lock request.
#[derive(Debug)]
pub(crate) enum SharedAcquired {
    /// No such document.
    Missing,
    Granted(Grant),
    Queued(SharedTicket),
    Busy(Snapshot),
    QueueFull(Snapshot),
    /// As many requests as this replica queues wait, all documents together.
    AllQueuesFull(Snapshot),
}

/// The locks of every replica on one PostgreSQL database.
pub(crate) struct SharedLocks {
    epoch: String,
    ops: PgPool,
    gate: PgPool,
    wake: broadcast::Sender<String>,
    /// Set on drop: the listener then forgets this replica's handler.
    stop: Arc<AtomicBool>,
    /// Keeps the replica's listening connection open while these locks exist.
    _listener: PgListener,
    /// Requests queued through this replica now (each holds one of its connections), and the
    /// most it queues.
    waiting: AtomicUsize,
    max_waiting: usize,
}

impl std::fmt::Debug for SharedLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLocks").finish_non_exhaustive()
    }
}

impl Drop for SharedLocks {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl SharedLocks {
    /// Locks in the database `config` names, whose schema the store has migrated already,
    /// told of other replicas' changes through the replica's `listener`.
    pub(crate) fn open(
        config: &postgres::Config,
        budget: PgBudget,
        listener: &PgListener,
    ) -> Result<Self, StoreError> {
        let ops = PgPool::new(config.clone(), budget.share(OPS_POOL));
        let gate = PgPool::new(config.clone(), budget.share(GATE_POOL));
        // The client blocks on a runtime of its own: never on an async worker thread.
        let epoch = std::thread::scope(|scope| {
            scope
                .spawn(|| -> Result<String, StoreError> {
                    let row = ops
                        .get()?
                        .query_one("SELECT value FROM ifmatch_meta WHERE key = 'epoch'", &[])?;
                    Ok(row.get(0))
                })
                .join()
                .unwrap_or_else(|_| Err(StoreError::from_message("postgres: reading panicked")))
        })?;
        let (wake, _) = broadcast::channel(1024);
        let stop = Arc::new(AtomicBool::new(false));
        let (relay, stopped) = (wake.clone(), Arc::clone(&stop));
        listener.subscribe(
            sql::CHANNEL,
            Box::new(move |ids| {
                for id in ids {
                    // Nobody waiting on this replica is not an error.
                    let _ = relay.send(id.clone());
                }
                !stopped.load(Ordering::Relaxed)
            }),
        );
        let listener = listener.clone();
        Ok(Self {
            epoch,
            ops,
            gate,
            wake,
            stop,
            _listener: listener,
            waiting: AtomicUsize::new(0),
            max_waiting: usize::MAX,
        })
    }

    /// Queues at most `n` requests through this replica, all documents together.
    pub(crate) fn limit_total_waiters(&mut self, n: usize) {
        self.max_waiting = n;
    }

    /// Runs `work` in a transaction of its own that first takes the advisory lock of `id`.
    fn locked<T>(
        &self,
        id: &str,
        work: impl FnOnce(&mut Transaction<'_>, &str) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.ops.get()?;
        let mut tx = conn.transaction()?;
        pg_lock_document(&mut tx, id)?;
        let out = work(&mut tx, &self.epoch)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `work` for a write whose replica holds the advisory lock of the document already.
    fn gated<T>(
        &self,
        work: impl FnOnce(&mut Transaction<'_>, &str) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.gate.get()?;
        let mut tx = conn.transaction()?;
        let out = work(&mut tx, &self.epoch)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `work` on the blocking pool (the client blocks).
    async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Self) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || work(&this))
            .await
            .map_err(|err| StoreError::from_task(&err))?
    }

    /// Grants the lock of `id` when it is free; otherwise queues the request for up to `wait`
    /// behind at most `queue_limit` others (answers busy at once when `queue_limit` is `None`).
    pub(crate) async fn acquire(
        self: &Arc<Self>,
        id: &str,
        request: LockRequest,
        queue_limit: Option<usize>,
        wait: Duration,
    ) -> Result<SharedAcquired, StoreError> {
        // Listening before queueing, so no handoff can slip by unheard.
        let wake = self.wake.subscribe();
        let key = id.to_owned();
        let outcome = self
            .run(move |this| {
                this.locked(&key, |tx, epoch| {
                    let exists = tx
                        .query_opt("SELECT 1 FROM ifmatch_items WHERE id = $1", &[&key])?
                        .is_some();
                    if !exists {
                        return Ok(Decided::Missing);
                    }
                    sql::settle(tx, epoch, &key)?;
                    let Some(snapshot) = sql::snapshot(tx, &key)? else {
                        return Ok(Decided::Granted(sql::grant(
                            tx, epoch, &key, request, None,
                        )?));
                    };
                    Ok(match queue_limit {
                        None => Decided::Busy(snapshot),
                        Some(limit) if snapshot.waiters >= limit => Decided::QueueFull(snapshot),
                        Some(_) if this.waiting.load(Ordering::Relaxed) >= this.max_waiting => {
                            Decided::AllQueuesFull(snapshot)
                        }
                        // Leased (see `WAITER_LEASE`): a request whose replica vanished
                        // leaves the queue when its lease runs out; one still waiting renews
                        // it, and leaves the queue itself at its own deadline.
                        Some(_) => {
                            Decided::Queued(sql::enqueue(tx, &key, &request, ticket::lease(wait))?)
                        }
                    })
                })
            })
            .await?;
        Ok(match outcome {
            Decided::Missing => SharedAcquired::Missing,
            Decided::Granted(grant) => SharedAcquired::Granted(grant),
            Decided::Busy(snapshot) => SharedAcquired::Busy(snapshot),
            Decided::QueueFull(snapshot) => SharedAcquired::QueueFull(snapshot),
            Decided::AllQueuesFull(snapshot) => SharedAcquired::AllQueuesFull(snapshot),
            Decided::Queued(ticket) => SharedAcquired::Queued(SharedTicket::new(
                Arc::clone(self),
                id.to_owned(),
                ticket,
                wake,
            )),
        })
    }

    /// Locks held now (not expired) and requests queued now (before their deadline), on every
    /// replica together: the lock gauges of `/metrics`. Takes no lock, so it runs on the pool
    /// of writes' checks, which never waits (the other pool may be held by queued requests).
    pub(crate) async fn counts(self: &Arc<Self>) -> Result<(u64, u64), StoreError> {
        self.run(|this| {
            let row = this.gate.get()?.query_one(
                "SELECT
                     (SELECT count(*) FROM ifmatch_locks WHERE expires_at > clock_timestamp()),
                     (SELECT count(*) FROM ifmatch_lock_waiters
                      WHERE deadline > clock_timestamp())",
                &[],
            )?;
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            Ok((count(row.get(0)), count(row.get(1))))
        })
        .await
    }

    /// Extends the holder's lock (see the in-memory table's `renew`).
    pub(crate) async fn renew(
        self: &Arc<Self>,
        id: &str,
        token: &LockToken,
        ttl: Option<Duration>,
    ) -> Result<Result<Grant, Option<Snapshot>>, StoreError> {
        let (key, token) = (id.to_owned(), token.clone());
        self.run(move |this| {
            this.locked(&key, |tx, epoch| sql::renew(tx, epoch, &key, &token, ttl))
        })
        .await
    }

    /// Ends the holder's lock; the next waiter gets it.
    pub(crate) async fn release(
        self: &Arc<Self>,
        id: &str,
        token: &LockToken,
    ) -> Result<Result<(), Option<Snapshot>>, StoreError> {
        let (key, token) = (id.to_owned(), token.clone());
        self.run(move |this| {
            this.locked(&key, |tx, epoch| {
                if sql::end(tx, epoch, &key, Some(&token))? {
                    Ok(Ok(()))
                } else {
                    Ok(Err(sql::snapshot(tx, &key)?))
                }
            })
        })
        .await
    }

    /// Ends whoever's lock is on `id`; whether there was one.
    pub(crate) async fn break_lock(self: &Arc<Self>, id: &str) -> Result<bool, StoreError> {
        let key = id.to_owned();
        self.run(move |this| this.locked(&key, |tx, epoch| sql::end(tx, epoch, &key, None)))
            .await
    }

    /// The current lock on `id`, if any.
    pub(crate) async fn snapshot(
        self: &Arc<Self>,
        id: &str,
    ) -> Result<Option<Snapshot>, StoreError> {
        let key = id.to_owned();
        self.run(move |this| {
            this.locked(&key, |tx, epoch| {
                sql::settle(tx, epoch, &key)?;
                sql::snapshot(tx, &key)
            })
        })
        .await
    }

    /// Whether a write carrying `token` could touch `id` now, asked outside any write (a
    /// transaction staging a write; its commit asks again).
    pub(crate) async fn check(
        self: &Arc<Self>,
        id: &str,
        token: Option<&LockToken>,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let (key, token) = (id.to_owned(), token.cloned());
        self.run(move |this| {
            this.locked(&key, |tx, epoch| {
                sql::authorize(tx, epoch, &key, token.as_ref())
            })
        })
        .await
    }

    /// Whether a write carrying `token` may touch `id`. Blocking; only for a caller whose
    /// replica holds the advisory lock of `id` for the write.
    pub(crate) fn authorize_write(
        &self,
        id: &str,
        token: Option<&LockToken>,
    ) -> Result<Result<(), Refusal>, StoreError> {
        self.gated(|tx, epoch| sql::authorize(tx, epoch, id, token))
    }

    /// The document `id` is being deleted: its lock and queue end (waiters hear it is gone).
    /// Blocking; only for a caller whose replica holds the advisory lock of `id`.
    pub(crate) fn destroy(&self, id: &str) -> Result<(), StoreError> {
        self.gated(|tx, _| sql::destroy(tx, id))
    }
}

/// What the acquiring transaction decided.
enum Decided {
    Missing,
    Granted(Grant),
    Queued(i64),
    Busy(Snapshot),
    QueueFull(Snapshot),
    AllQueuesFull(Snapshot),
}
