//! What the lock table tells the outside world (the server's metrics) about grants and the
//! ends of holds. The table calls its observer under its own mutex, so an observer must be
//! quick and must never take the table.

use std::fmt::Debug;
use std::time::Duration;

/// Why a hold ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HoldEnd {
    /// Its holder released it (`DELETE …/lock` with the token).
    Released,
    /// Its TTL ran out: the holder went away or forgot to renew (an abandoned lock).
    Expired,
    /// Broken by `DELETE …/lock?break=true`.
    Broken,
    /// The holder deleted the document.
    Deleted,
}

impl HoldEnd {
    /// The `end` label of `ifmatch_lock_hold_seconds`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Released => "released",
            Self::Expired => "expired",
            Self::Broken => "broken",
            Self::Deleted => "deleted",
        }
    }

    /// Every end, in the order the metrics list them.
    pub(crate) const ALL: [Self; 4] = [Self::Released, Self::Expired, Self::Broken, Self::Deleted];
}

/// Told about every grant and every end of a hold.
pub(crate) trait LockObserver: Send + Sync + Debug {
    /// A lock was granted, after `waited` in the queue (zero when it was free).
    fn granted(&self, waited: Duration);
    /// A hold ended after `held` (for an expiry: until the moment it expired).
    fn ended(&self, held: Duration, end: HoldEnd);
}

/// The observer of a table nobody watches.
#[derive(Debug)]
pub(crate) struct Unobserved;

impl LockObserver for Unobserved {
    fn granted(&self, _: Duration) {}
    fn ended(&self, _: Duration, _: HoldEnd) {}
}
