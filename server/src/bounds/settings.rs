//! The connection part of [`Config`]: defaults, setters and getters.

use std::time::Duration;

use crate::Config;

/// The default largest request head (request line and header fields): 64 KiB.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;

/// The default time a client has to send a request head, and the longest an idle keep-alive
/// connection waits for its next request: 30 s.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// The default time a client has to send a whole request body: 60 s.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// The default longest a write of an answer may wait for a client that reads nothing: 60 s.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// The default number of connections served at once: 1024.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// The smallest head limit: hyper's read buffer cannot be smaller than 8 KiB, and a head limit
/// below 1 KiB would refuse ordinary requests.
const MIN_HEADER_BYTES: usize = 1024;

/// What [`Config`] keeps about connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectionSettings {
    pub(crate) max_header_bytes: usize,
    pub(crate) header_timeout: Duration,
    pub(crate) body_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) max_connections: usize,
}

impl ConnectionSettings {
    pub(crate) const fn new() -> Self {
        Self {
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// The head size at which hyper itself gives up reading (431 without a body, and the
    /// connection closed): twice the limit, so that heads between the limit and this get the
    /// server's problem+json 431 instead.
    pub(crate) const fn hard_header_bytes(&self) -> usize {
        self.max_header_bytes.saturating_mul(2)
    }
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self::new()
    }
}

/// Connection setters; see `docs/server.md` ("Bounds").
impl Config {
    /// The largest request head (request line plus header fields, in bytes); a larger one
    /// answers 431. At least 1024 (smaller values count as 1024).
    pub const fn with_max_header_bytes(mut self, bytes: usize) -> Self {
        self.connections.max_header_bytes = if bytes < MIN_HEADER_BYTES {
            MIN_HEADER_BYTES
        } else {
            bytes
        };
        self
    }

    /// How long a client may take to send a request head; also how long an idle keep-alive
    /// connection waits for its next request. The connection is closed after it. At least 1 ms.
    pub const fn with_header_timeout(mut self, timeout: Duration) -> Self {
        self.connections.header_timeout = at_least_a_millisecond(timeout);
        self
    }

    /// How long a client may take to send a whole request body, counted from the end of its
    /// head; a slower one answers 408 and nothing is written. At least 1 ms.
    pub const fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.connections.body_timeout = at_least_a_millisecond(timeout);
        self
    }

    /// How long a write of an answer may wait while the client reads nothing (its socket
    /// buffers are full): then the connection is closed. Covers SSE subscribers that stop
    /// reading. At least 1 ms.
    pub const fn with_write_timeout(mut self, timeout: Duration) -> Self {
        self.connections.write_timeout = at_least_a_millisecond(timeout);
        self
    }

    /// How many connections are served at once; further ones wait in the listen backlog
    /// until one closes. At least 1 (0 counts as 1).
    pub const fn with_max_connections(mut self, n: usize) -> Self {
        self.connections.max_connections = if n == 0 { 1 } else { n };
        self
    }

    /// The largest request head accepted.
    pub const fn max_header_bytes(&self) -> usize {
        self.connections.max_header_bytes
    }

    /// How long a client may take to send a request head (and stay idle between requests).
    pub const fn header_timeout(&self) -> Duration {
        self.connections.header_timeout
    }

    /// How long a client may take to send a request body.
    pub const fn body_timeout(&self) -> Duration {
        self.connections.body_timeout
    }

    /// How long a write may wait for a client that reads nothing.
    pub const fn write_timeout(&self) -> Duration {
        self.connections.write_timeout
    }

    /// How many connections are served at once.
    pub const fn max_connections(&self) -> usize {
        self.connections.max_connections
    }
}

const fn at_least_a_millisecond(timeout: Duration) -> Duration {
    if timeout.is_zero() {
        Duration::from_millis(1)
    } else {
        timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = Config::new();
        assert_eq!(config.max_header_bytes(), 65_536);
        assert_eq!(config.header_timeout(), Duration::from_secs(30));
        assert_eq!(config.body_timeout(), Duration::from_secs(60));
        assert_eq!(config.write_timeout(), Duration::from_secs(60));
        assert_eq!(config.max_connections(), 1024);
    }

    #[test]
    fn degenerate_values_are_raised_to_the_smallest_useful_one() {
        const TIGHT: Config = Config::new()
            .with_max_header_bytes(10)
            .with_header_timeout(Duration::ZERO)
            .with_body_timeout(Duration::ZERO)
            .with_max_connections(0);
        assert_eq!(TIGHT.max_header_bytes(), 1024);
        assert_eq!(TIGHT.header_timeout(), Duration::from_millis(1));
        assert_eq!(TIGHT.body_timeout(), Duration::from_millis(1));
        assert_eq!(TIGHT.max_connections(), 1);
        assert_eq!(TIGHT.connections.hard_header_bytes(), 2048);
    }
}
