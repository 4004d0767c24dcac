//! The conflict-notification part of [`Config`]: how many records the log keeps, how much of
//! a refused body it keeps, and the stream's heartbeat and subscriber limit.

use std::time::Duration;

use crate::Config;

/// The default number of conflict records kept: 1000.
pub const DEFAULT_CONFLICT_LOG_SIZE: usize = 1000;

/// The default largest refused body a record keeps: 65536 bytes.
pub const DEFAULT_CONFLICT_BODY_LIMIT: usize = 64 * 1024;

/// The default heartbeat of `GET /conflicts/stream`: 15 s.
pub const DEFAULT_SSE_HEARTBEAT: Duration = Duration::from_secs(15);

/// The default number of conflict streams open at once: 100.
pub const DEFAULT_MAX_SUBSCRIBERS: usize = 100;

/// The default number of conflict streams one client may hold open at once: 16 (a browser
/// allows 6 connections per host over HTTP/1.1, so a few tabs of one user fit; one client
/// cannot take the whole server's 100).
pub const DEFAULT_MAX_SUBSCRIBERS_PER_CLIENT: usize = 16;

/// What [`Config`] keeps about conflict notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConflictSettings {
    pub(crate) log_size: usize,
    pub(crate) body_limit: usize,
    pub(crate) heartbeat: Duration,
    pub(crate) max_subscribers: usize,
    pub(crate) max_subscribers_per_client: usize,
}

impl ConflictSettings {
    pub(crate) const fn new() -> Self {
        Self {
            log_size: DEFAULT_CONFLICT_LOG_SIZE,
            body_limit: DEFAULT_CONFLICT_BODY_LIMIT,
            heartbeat: DEFAULT_SSE_HEARTBEAT,
            max_subscribers: DEFAULT_MAX_SUBSCRIBERS,
            max_subscribers_per_client: DEFAULT_MAX_SUBSCRIBERS_PER_CLIENT,
        }
    }
}

impl Default for ConflictSettings {
    fn default() -> Self {
        Self::new()
    }
}

/// Conflict-notification setters; see `docs/server.md` ("Conflict notifications").
impl Config {
    /// How many conflict records the log keeps (the newest; older ones are forgotten,
    /// resolved or not). At least 1 (0 counts as 1).
    pub const fn with_conflict_log_size(mut self, n: usize) -> Self {
        self.conflicts.log_size = if n == 0 { 1 } else { n };
        self
    }

    /// The largest refused body (in bytes) a conflict record keeps; a larger one is recorded
    /// as `"body": null, "truncated": true` and cannot be replayed by a `mine` resolution.
    pub const fn with_conflict_body_limit(mut self, bytes: usize) -> Self {
        self.conflicts.body_limit = bytes;
        self
    }

    /// How long a conflict stream may stay silent before the server sends `: heartbeat`.
    /// At least 1 ms (zero counts as 1 ms).
    pub const fn with_sse_heartbeat(mut self, every: Duration) -> Self {
        self.conflicts.heartbeat = if every.is_zero() {
            Duration::from_millis(1)
        } else {
            every
        };
        self
    }

    /// How many conflict streams may be open at once; one more answers 503.
    pub const fn with_max_subscribers(mut self, n: usize) -> Self {
        self.conflicts.max_subscribers = n;
        self
    }

    /// How many conflict streams one client (its token's name, else its peer address) may
    /// hold open at once; one more answers 429. At least 1 (0 counts as 1). Requests with
    /// neither (the router served without connection info) are held to the total only.
    pub const fn with_max_subscribers_per_client(mut self, n: usize) -> Self {
        self.conflicts.max_subscribers_per_client = if n == 0 { 1 } else { n };
        self
    }

    /// How many conflict records the log keeps.
    pub const fn conflict_log_size(&self) -> usize {
        self.conflicts.log_size
    }

    /// The largest refused body a conflict record keeps.
    pub const fn conflict_body_limit(&self) -> usize {
        self.conflicts.body_limit
    }

    /// The heartbeat of conflict streams.
    pub const fn sse_heartbeat(&self) -> Duration {
        self.conflicts.heartbeat
    }

    /// How many conflict streams may be open at once.
    pub const fn max_subscribers(&self) -> usize {
        self.conflicts.max_subscribers
    }

    /// How many conflict streams one client may hold open at once.
    pub const fn max_subscribers_per_client(&self) -> usize {
        self.conflicts.max_subscribers_per_client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones_and_zero_is_floored() {
        let config = Config::new();
        assert_eq!(config.conflict_log_size(), 1000);
        assert_eq!(config.conflict_body_limit(), 65_536);
        assert_eq!(config.sse_heartbeat(), Duration::from_millis(15_000));
        assert_eq!(config.max_subscribers(), 100);
        assert_eq!(config.max_subscribers_per_client(), 16);
        assert!(!config.require_auth());
        const FLOORED: Config = Config::new()
            .with_conflict_log_size(0)
            .with_sse_heartbeat(Duration::ZERO)
            .with_max_subscribers(0)
            .with_max_subscribers_per_client(0);
        assert_eq!(FLOORED.conflict_log_size(), 1);
        assert_eq!(FLOORED.sse_heartbeat(), Duration::from_millis(1));
        assert_eq!(FLOORED.max_subscribers(), 0);
        assert_eq!(FLOORED.max_subscribers_per_client(), 1);
    }
}
