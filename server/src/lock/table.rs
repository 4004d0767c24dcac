//! The lock table: who holds which lock and who waits for it. Pure state, no I/O and no
//! clock of its own: every method is told the time, so tests can move it at will.
//!
//! Expiry is lazy. There is no background task; every method first *settles* the resource it
//! touches (drops an expired holder, forgets waiters that went away, hands a free lock to the
//! first waiter). Queued lockers also wake at the holder's expiry and settle it themselves,
//! so a queue moves on when a holder vanishes even if nobody else calls in.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::lease::{Grant, Lease, LockRequest, Now, Snapshot};
use super::observer::{HoldEnd, LockObserver, Unobserved};
use super::token::LockToken;

/// What a queued locker is eventually told.
#[derive(Debug)]
pub(crate) enum Handoff {
    /// The lock is now yours.
    Granted(Grant),
    /// The document was deleted (by the holder) while you waited.
    Gone,
}

/// A place in a queue: the id to leave it by, and where the lock will be handed over.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) id: u64,
    pub(crate) receiver: oneshot::Receiver<Handoff>,
}

/// The answer to a lock request.
#[derive(Debug)]
pub(crate) enum Acquired {
    Granted(Grant),
    Queued(Queued),
    /// Held by someone else, and the request did not want to wait.
    Busy(Snapshot),
    /// Held by someone else, and the queue is full.
    QueueFull(Snapshot),
    /// Held by someone else, and as many requests as the server queues wait, all documents
    /// together.
    AllQueuesFull(Snapshot),
}

/// Why a request that uses (or should use) a lock token was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Someone else holds the lock and the request carried no token.
    Locked(Snapshot),
    /// The token is not the current holder's: expired, released, broken, from an earlier boot,
    /// or never issued. Carries the current lock, if any.
    TokenInvalid(Option<Snapshot>),
}

/// Where leaving a queue left the waiter.
#[derive(Debug)]
pub(crate) enum Left {
    /// The lock was handed over just before the waiter left: it is the waiter's now.
    Granted(Grant),
    Gone,
    /// Still held by someone else (or, rarely, free again).
    NotGranted(Option<Snapshot>),
}

/// How often [`LockTable::acquire`] sweeps out expired locks nobody touches any more.
const SWEEP_EVERY: u32 = 256;

/// All locks of one server process.
#[derive(Debug)]
pub(crate) struct LockTable {
    minter: Minter,
    next_waiter: u64,
    since_sweep: u32,
    /// The most requests waiting, all documents together.
    max_total_waiters: usize,
    resources: HashMap<String, Resource>,
}

#[derive(Debug, Default)]
struct Resource {
    holder: Option<Grant>,
    /// When the holder got the lock (for the observer's hold times).
    held_since: Option<Instant>,
    queue: VecDeque<Waiter>,
}

#[derive(Debug)]
struct Waiter {
    id: u64,
    request: LockRequest,
    sender: oneshot::Sender<Handoff>,
    /// When it joined the queue (for the observer's wait times).
    since: Instant,
}

/// Issues grants: tokens and fencing numbers from one counter that only grows. Also carries
/// the observer told about grants and ends, since every place that grants or ends a hold has
/// the minter at hand.
#[derive(Debug)]
struct Minter {
    epoch: String,
    seq: u64,
    observer: Arc<dyn LockObserver>,
}

impl Minter {
    fn grant(&mut self, request: LockRequest, now: Now) -> Grant {
        self.seq += 1;
        let mut lease = Lease {
            owner: request.owner,
            ttl: request.ttl,
            expires_at: now.instant,
            expires_at_ms: now.unix_ms,
            fencing: self.seq,
        };
        lease.extend(request.ttl, now);
        Grant {
            token: LockToken::mint(&self.epoch, self.seq),
            lease,
        }
    }
}

impl Resource {
    fn is_idle(&self) -> bool {
        self.holder.is_none() && self.queue.is_empty()
    }

    fn snapshot(&self) -> Option<Snapshot> {
        self.holder.as_ref().map(|holder| Snapshot {
            lease: holder.lease.clone(),
            waiters: self.queue.len(),
        })
    }

    /// Brings the resource up to `now`: forgets waiters whose request went away, drops an
    /// expired holder, and hands a free lock to the first waiter still there.
    fn settle(&mut self, minter: &mut Minter, now: Now) {
        self.queue.retain(|waiter| !waiter.sender.is_closed());
        if let Some(expired_at) = self.holder.as_ref().filter(|h| h.lease.expired(now)) {
            let expired_at = expired_at.lease.expires_at;
            self.end_hold(minter, expired_at, HoldEnd::Expired);
        }
        if self.holder.is_none() {
            self.hand_off(minter, now);
        }
    }

    /// First come, first served. A waiter that left between the check above and the send is
    /// skipped; its grant number is simply never used.
    fn hand_off(&mut self, minter: &mut Minter, now: Now) {
        while let Some(waiter) = self.queue.pop_front() {
            let grant = minter.grant(waiter.request, now);
            if waiter.sender.send(Handoff::Granted(grant.clone())).is_ok() {
                minter
                    .observer
                    .granted(now.instant.saturating_duration_since(waiter.since));
                self.hold(grant, now);
                return;
            }
        }
    }

    fn hold(&mut self, grant: Grant, now: Now) {
        self.holder = Some(grant);
        self.held_since = Some(now.instant);
    }

    /// Ends the current hold, if any, at `at`, and tells the observer why. Returns whether
    /// there was one.
    fn end_hold(&mut self, minter: &Minter, at: Instant, end: HoldEnd) -> bool {
        if self.holder.take().is_none() {
            return false;
        }
        let since = self.held_since.take().unwrap_or(at);
        minter
            .observer
            .ended(at.saturating_duration_since(since), end);
        true
    }
}

impl LockTable {
    /// An empty table; `epoch` must differ between boots (tokens embed it).
    pub(crate) fn new(epoch: String) -> Self {
        Self {
            minter: Minter {
                epoch,
                seq: 0,
                observer: Arc::new(Unobserved),
            },
            next_waiter: 0,
            since_sweep: 0,
            max_total_waiters: usize::MAX,
            resources: HashMap::new(),
        }
    }

    /// From now on, tells `observer` about every grant and every end of a hold.
    pub(crate) fn observe(&mut self, observer: Arc<dyn LockObserver>) {
        self.minter.observer = observer;
    }

    /// Settles `key` and returns it, if the table knows it.
    fn settled(&mut self, key: &str, now: Now) -> Option<&mut Resource> {
        let resource = self.resources.get_mut(key)?;
        resource.settle(&mut self.minter, now);
        Some(resource)
    }

    /// Forgets `key` when nobody holds or waits for it, so the table does not grow forever.
    fn tidy(&mut self, key: &str) {
        if self.resources.get(key).is_some_and(Resource::is_idle) {
            self.resources.remove(key);
        }
    }

    /// Queues at most `n` requests, all documents together.
    pub(crate) fn limit_total_waiters(&mut self, n: usize) {
        self.max_total_waiters = n;
    }

    /// Requests waiting now, all documents together (not counting ones that went away).
    pub(crate) fn total_waiters(&self) -> usize {
        self.resources
            .values()
            .flat_map(|resource| &resource.queue)
            .filter(|waiter| !waiter.sender.is_closed())
            .count()
    }

    /// Grants the lock when it is free. Otherwise: `queue_limit` `None` answers busy at once;
    /// `Some(limit)` queues the request behind the others unless `limit` already wait, or the
    /// table's total of waiters is reached.
    pub(crate) fn acquire(
        &mut self,
        key: &str,
        request: LockRequest,
        queue_limit: Option<usize>,
        now: Now,
    ) -> Acquired {
        self.maybe_sweep(now);
        // Counted only for a request that may queue: a walk over the table's queues.
        let all_queues_full =
            queue_limit.is_some() && self.total_waiters() >= self.max_total_waiters;
        let resource = self.resources.entry(key.to_owned()).or_default();
        resource.settle(&mut self.minter, now);
        let Some(snapshot) = resource.snapshot() else {
            let grant = self.minter.grant(request, now);
            self.minter.observer.granted(Duration::ZERO);
            resource.hold(grant.clone(), now);
            return Acquired::Granted(grant);
        };
        match queue_limit {
            None => Acquired::Busy(snapshot),
            Some(limit) if resource.queue.len() >= limit => Acquired::QueueFull(snapshot),
            Some(_) if all_queues_full => Acquired::AllQueuesFull(snapshot),
            Some(_) => {
                self.next_waiter += 1;
                let (sender, receiver) = oneshot::channel();
                let id = self.next_waiter;
                resource.queue.push_back(Waiter {
                    id,
                    request,
                    sender,
                    since: now.instant,
                });
                Acquired::Queued(Queued { id, receiver })
            }
        }
    }

    /// Extends the holder's lock by `ttl` from now (by its last TTL when `None`).
    pub(crate) fn renew(
        &mut self,
        key: &str,
        token: &LockToken,
        ttl: Option<Duration>,
        now: Now,
    ) -> Result<Grant, Option<Snapshot>> {
        let result = match self.settled(key, now) {
            Some(resource) => match &mut resource.holder {
                Some(holder) if holder.token == *token => {
                    let ttl = ttl.unwrap_or(holder.lease.ttl);
                    holder.lease.extend(ttl, now);
                    Ok(holder.clone())
                }
                _ => Err(resource.snapshot()),
            },
            None => Err(None),
        };
        self.tidy(key);
        result
    }

    /// Ends the holder's lock; the next waiter, if any, gets it.
    pub(crate) fn release(
        &mut self,
        key: &str,
        token: &LockToken,
        now: Now,
    ) -> Result<(), Option<Snapshot>> {
        let result = match self.resources.get_mut(key) {
            Some(resource) => {
                resource.settle(&mut self.minter, now);
                if resource.holder.as_ref().is_some_and(|h| h.token == *token) {
                    resource.end_hold(&self.minter, now.instant, HoldEnd::Released);
                    resource.hand_off(&mut self.minter, now);
                    Ok(())
                } else {
                    Err(resource.snapshot())
                }
            }
            None => Err(None),
        };
        self.tidy(key);
        result
    }

    /// Ends whoever's lock is on `key` (administrative); the next waiter, if any, gets it.
    /// Returns whether there was a lock to break.
    pub(crate) fn break_lock(&mut self, key: &str, now: Now) -> bool {
        let broken = match self.resources.get_mut(key) {
            Some(resource) => {
                resource.settle(&mut self.minter, now);
                let broken = resource.end_hold(&self.minter, now.instant, HoldEnd::Broken);
                resource.hand_off(&mut self.minter, now);
                broken
            }
            None => false,
        };
        self.tidy(key);
        broken
    }

    /// The current lock on `key`, if any.
    pub(crate) fn snapshot(&mut self, key: &str, now: Now) -> Option<Snapshot> {
        let snapshot = self.settled(key, now).and_then(|r| r.snapshot());
        self.tidy(key);
        snapshot
    }

    /// When the current holder's lock runs out, as last settled; queued lockers sleep until then.
    pub(crate) fn holder_expiry(&self, key: &str) -> Option<Instant> {
        let holder = self.resources.get(key)?.holder.as_ref()?;
        Some(holder.lease.expires_at)
    }

    /// Settles `key` (see the module documentation).
    pub(crate) fn settle(&mut self, key: &str, now: Now) {
        self.settled(key, now);
        self.tidy(key);
    }

    /// Whether a write to `key` carrying `token` may proceed. It may when nobody holds the lock
    /// and no token was sent, or when the token is the holder's. A token that is not the
    /// holder's is refused even when nobody holds the lock: its holder lost the lock (expiry,
    /// break, restart) and must not write as if it still had it.
    pub(crate) fn authorize_write(
        &mut self,
        key: &str,
        token: Option<&LockToken>,
        now: Now,
    ) -> Result<(), Refusal> {
        let (is_holder, snapshot) = match self.settled(key, now) {
            Some(resource) => (
                resource
                    .holder
                    .as_ref()
                    .zip(token)
                    .is_some_and(|(holder, token)| holder.token == *token),
                resource.snapshot(),
            ),
            None => (false, None),
        };
        let verdict = match (snapshot, token) {
            (None, None) => Ok(()),
            (Some(_), Some(_)) if is_holder => Ok(()),
            (Some(snapshot), None) => Err(Refusal::Locked(snapshot)),
            (snapshot, Some(_)) => Err(Refusal::TokenInvalid(snapshot)),
        };
        self.tidy(key);
        verdict
    }

    /// The document at `key` was deleted: its lock ends and every waiter is told it is gone.
    pub(crate) fn destroy(&mut self, key: &str) {
        if let Some(mut resource) = self.resources.remove(key) {
            // The one clock read of the table: only the observer's hold time needs it.
            resource.end_hold(&self.minter, Instant::now(), HoldEnd::Deleted);
            for waiter in resource.queue {
                // A waiter that already left needs no answer.
                let _ = waiter.sender.send(Handoff::Gone);
            }
        }
    }

    /// Takes the waiter `queued` out of the queue of `key`. The resource is settled first, so
    /// a lock that frees itself at this very moment still goes to the first in line, which may
    /// be this waiter: then it leaves with the lock.
    pub(crate) fn leave(&mut self, key: &str, queued: &mut Queued, now: Now) -> Left {
        if let Some(resource) = self.settled(key, now) {
            resource.queue.retain(|waiter| waiter.id != queued.id);
        }
        // Every send happens under the table's lock, and the waiter is out of the queue now,
        // so what the channel holds at this point is final.
        let left = match queued.receiver.try_recv() {
            Ok(Handoff::Granted(grant)) => Left::Granted(grant),
            Ok(Handoff::Gone) => Left::Gone,
            Err(_) => Left::NotGranted(self.resources.get(key).and_then(Resource::snapshot)),
        };
        self.tidy(key);
        left
    }

    /// Every `SWEEP_EVERY` acquisitions, drops the expired locks of documents nobody asks about
    /// any more; lazy expiry alone would keep them in memory forever.
    fn maybe_sweep(&mut self, now: Now) {
        self.since_sweep += 1;
        if self.since_sweep < SWEEP_EVERY {
            return;
        }
        self.sweep(now);
    }

    /// Settles every lock now: drops expired ones, moves queues on, and forgets idle
    /// documents. (`/metrics` calls it, so that `locks_held` counts no expired lock.)
    pub(crate) fn sweep(&mut self, now: Now) {
        self.since_sweep = 0;
        let minter = &mut self.minter;
        self.resources.retain(|_, resource| {
            resource.settle(minter, now);
            !resource.is_idle()
        });
    }

    /// How many documents the table tracks (tests check that it shrinks again).
    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        self.resources.len()
    }
}
