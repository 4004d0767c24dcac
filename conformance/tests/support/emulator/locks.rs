//! The emulated server's lock table, and the gates that make writes (and, with a
//! fault, reads) of a locked document answer 423 or 412.
//!
//! wiremock answers synchronously, so a request that waits in the queue cannot be
//! woken by a release: its answer is decided when it arrives and sent later
//! (`set_delay`). A waiter is therefore given the lock at the moment the leases
//! before it end by their TTL; a release does not hand over early. Every lease,
//! current or promised to a waiter, is a time span, and "held" means "some span
//! that was not released covers now".

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use wiremock::{Request, ResponseTemplate};

use super::{Emulator, State};
use crate::support::faults::Fault;

/// Longest lease the emulator grants.
pub const MAX_LOCK_TTL_MS: u64 = 60_000;
/// Requests that may wait for one lock; one more gets 503.
pub const MAX_LOCK_WAITERS: usize = 4;
/// `RacyGrant`: time between checking that the lock is free and taking it.
pub(super) const RACE_WINDOW: Duration = Duration::from_millis(50);

/// One grant of a lock, current or promised to a waiter.
#[derive(Debug, Clone)]
pub(super) struct Lease {
    pub token: String,
    pub owner: Option<String>,
    pub start: Instant,
    pub end: Instant,
    /// The expiry the holder was told (`RenewDoesNotExtend` tells one it does not keep).
    pub told_end: Instant,
    pub ttl_ms: u64,
    pub fencing: u64,
    pub released: bool,
}

impl Lease {
    pub fn active(&self, now: Instant) -> bool {
        !self.released && self.start <= now && now < self.end
    }

    pub fn promised(&self, now: Instant) -> bool {
        !self.released && self.start > now
    }
}

/// Every document's leases and the answer times of its waiting requests.
#[derive(Debug, Default)]
pub(super) struct LockTable {
    pub leases: HashMap<String, Vec<Lease>>,
    pub waiting: HashMap<String, Vec<Instant>>,
    pub fencing: u64,
}

/// Unix milliseconds of a moment on the monotonic clock.
pub(super) fn unix_ms(at: Instant) -> u64 {
    let now = Instant::now();
    let wall = if at >= now {
        SystemTime::now() + (at - now)
    } else {
        SystemTime::now() - (now - at)
    };
    wall.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Whole seconds until `at`, rounded up, at least 1: a `Retry-After`.
pub(super) fn seconds_until(at: Instant) -> u64 {
    let left = at.saturating_duration_since(Instant::now());
    left.as_millis().div_ceil(1000).max(1) as u64
}

/// The bare token of the request's `Lock-Token`, if it sent one.
pub(super) fn token_of(req: &Request) -> Option<String> {
    let value = req.headers.get("lock-token")?.to_str().ok()?.trim();
    let bare = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('<').and_then(|v| v.strip_suffix('>')))
        .unwrap_or(value);
    Some(bare.to_owned())
}

impl Emulator {
    /// The lease that makes the lock busy for a new lock request, if any.
    pub(super) fn busy_for_locker(&self, st: &State, id: &str, now: Instant) -> Option<Lease> {
        let leases = st.locks.leases.get(id)?;
        let counts = |l: &&Lease| {
            if self.has(Fault::ExpiredLockStillBusy) && !l.released && l.start <= now {
                return true;
            }
            // A racy server decides on what it sees now; grants still being made are invisible.
            l.active(now) || (!self.has(Fault::RacyGrant) && l.promised(now))
        };
        leases.iter().filter(counts).max_by_key(|l| l.end).cloned()
    }

    /// The lease that makes the lock busy for a write or a read, if any.
    pub(super) fn busy_for_writer(st: &State, id: &str, now: Instant) -> Option<Lease> {
        let leases = st.locks.leases.get(id)?;
        leases
            .iter()
            .filter(|l| l.active(now) || l.promised(now))
            .min_by_key(|l| l.start)
            .cloned()
    }

    /// The current lease with this token.
    pub(super) fn held_with<'a>(
        st: &'a mut State,
        id: &str,
        token: &str,
        now: Instant,
    ) -> Option<&'a mut Lease> {
        st.locks
            .leases
            .get_mut(id)?
            .iter_mut()
            .find(|l| l.active(now) && l.token == token)
    }

    /// `locked` (423): someone else holds (or was promised) the lock.
    pub(super) fn locked(
        &self,
        lease: &Lease,
        detail: &str,
        retry_after: bool,
    ) -> ResponseTemplate {
        let mut members = Map::new();
        members.insert("expires_at_ms".into(), json!(unix_ms(lease.told_end)));
        members.insert("owner".into(), json!(lease.owner));
        let refused = self.problem_with(423, "locked", detail, None, members);
        if !retry_after {
            return refused;
        }
        refused.insert_header("Retry-After", seconds_until(lease.end).to_string().as_str())
    }

    /// `lock-token-invalid` (412): the token sent is not the current lock's.
    pub(super) fn token_invalid(&self) -> ResponseTemplate {
        self.problem(
            412,
            "lock-token-invalid",
            "the Lock-Token is not the current lock's; take a new lock",
            None,
        )
    }

    /// Lets a write of an existing document (or a PUT creating one) through, or
    /// refuses it: 423 without the holder's token, 412 with a token that holds
    /// nothing. `Ok(true)` when the holder's token came with it.
    pub(super) fn write_gate(
        &self,
        st: &mut State,
        req: &Request,
        id: &str,
    ) -> Result<bool, ResponseTemplate> {
        let now = Instant::now();
        let busy = Self::busy_for_writer(st, id, now);
        if let Some(token) = token_of(req) {
            if Self::held_with(st, id, &token, now).is_some() {
                return Ok(true);
            }
            // The fencing bug: a token is only compared with a lock that exists.
            let unchecked = self.has(Fault::StaleTokenAccepted) && busy.is_none();
            return if unchecked {
                Ok(false)
            } else {
                Err(self.token_invalid())
            };
        }
        match busy {
            Some(lease) if !self.has(Fault::WritesIgnoreLock) => Err(self.locked(
                &lease,
                "locked by someone else; nothing was changed. Send the holder's Lock-Token",
                true,
            )),
            _ => Ok(false),
        }
    }

    /// With `ReadsLocked`, a read without the holder's token is refused too.
    pub(super) fn read_gate(
        &self,
        st: &State,
        req: &Request,
        id: &str,
    ) -> Option<ResponseTemplate> {
        if !self.has(Fault::ReadsLocked) {
            return None;
        }
        let now = Instant::now();
        let lease = Self::busy_for_writer(st, id, now).filter(|l| l.active(now))?;
        if token_of(req).as_deref() == Some(lease.token.as_str()) {
            return None;
        }
        Some(self.locked(&lease, "locked, reads too (the ReadsLocked fault)", true))
    }

    /// A deleted document takes its lock (and the promises to its waiters) with it.
    pub(super) fn forget_locks(st: &mut State, id: &str) {
        st.locks.leases.remove(id);
        st.locks.waiting.remove(id);
    }
}

/// The grant as the holder sees it: `{token, owner, expires_at_ms, ttl_ms, fencing}`.
pub(super) fn grant_body(lease: &Lease) -> Value {
    json!({
        "token": lease.token,
        "owner": lease.owner,
        "expires_at_ms": unix_ms(lease.told_end),
        "ttl_ms": lease.ttl_ms,
        "fencing": lease.fencing,
    })
}
