//! What a lock is: its lease (who, until when, which grant), the grant its holder gets, and
//! the moment everything is measured against.

use std::time::{Duration, Instant};

use super::token::LockToken;

/// One moment in the two clocks locks need: the monotonic one decides expiry (so a wall-clock
/// step never frees or extends a lock), the wall clock tells clients when (`expires_at_ms`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Now {
    pub(crate) instant: Instant,
    pub(crate) unix_ms: u64,
}

/// What a locker asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LockRequest {
    /// Who the client says it is; shown to others, never checked.
    pub(crate) owner: Option<String>,
    /// How long the lock lasts unless renewed; already capped by the server.
    pub(crate) ttl: Duration,
}

/// A lock as anyone may see it: everything but the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lease {
    pub(crate) owner: Option<String>,
    pub(crate) ttl: Duration,
    pub(crate) expires_at: Instant,
    pub(crate) expires_at_ms: u64,
    /// Grows with every grant of any lock on this server, so a later holder always has a
    /// larger number than an earlier one (Kleppmann's fencing token).
    pub(crate) fencing: u64,
}

impl Lease {
    pub(super) fn expired(&self, now: Now) -> bool {
        now.instant >= self.expires_at
    }

    pub(super) fn extend(&mut self, ttl: Duration, now: Now) {
        self.ttl = ttl;
        self.expires_at = now.instant + ttl;
        self.expires_at_ms = now.unix_ms.saturating_add(millis(ttl));
    }

    /// Time left before the lock frees itself.
    pub(crate) fn remaining(&self, now: Instant) -> Duration {
        self.expires_at.saturating_duration_since(now)
    }
}

/// Whole milliseconds of `d`, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A lock as its holder receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    pub(crate) token: LockToken,
    pub(crate) lease: Lease,
}

/// The current lock and how many wait for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub(crate) lease: Lease,
    pub(crate) waiters: usize,
}
