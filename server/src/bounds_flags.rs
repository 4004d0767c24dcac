//! The `ifmatch-server` flags that bound connections and the number of documents.

use std::time::Duration;

use ifmatch_server::{
    Config, DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_DOCUMENTS, DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_LOCK_WAITERS_TOTAL,
    DEFAULT_WRITE_TIMEOUT, MAX_LOCK_TTL_CEILING,
};

const DEFAULT_HEADER_TIMEOUT_MS: u64 = DEFAULT_HEADER_TIMEOUT.as_secs() * 1000;
const DEFAULT_BODY_TIMEOUT_MS: u64 = DEFAULT_BODY_TIMEOUT.as_secs() * 1000;
const DEFAULT_WRITE_TIMEOUT_MS: u64 = DEFAULT_WRITE_TIMEOUT.as_secs() * 1000;
const CEILING_MS: u64 = MAX_LOCK_TTL_CEILING.as_secs() * 1000;

/// Bounds on connections and on the number of documents.
#[derive(Debug, clap::Args)]
pub(crate) struct BoundsFlags {
    /// Largest request head (request line and header fields) in bytes; larger ones get 431.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_MAX_HEADER_BYTES,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..=16_777_216)
    )]
    max_header_bytes: usize,

    /// Milliseconds a client has to send a request head, and that an idle keep-alive connection
    /// stays open waiting for its next request; then the connection is closed.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = DEFAULT_HEADER_TIMEOUT_MS,
        value_parser = clap::value_parser!(u64).range(1..=CEILING_MS)
    )]
    header_timeout: u64,

    /// Milliseconds a client has to send a whole request body after its head; a slower one
    /// gets 408 and nothing is written.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = DEFAULT_BODY_TIMEOUT_MS,
        value_parser = clap::value_parser!(u64).range(1..=CEILING_MS)
    )]
    body_timeout: u64,

    /// Milliseconds a write of an answer may wait while the client reads nothing (an SSE
    /// subscriber that stopped reading, say); then the connection is closed.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = DEFAULT_WRITE_TIMEOUT_MS,
        value_parser = clap::value_parser!(u64).range(1..=CEILING_MS)
    )]
    write_timeout: u64,

    /// Connections served at once; further ones wait in the listen backlog until one closes.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_MAX_CONNECTIONS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    max_connections: usize,

    /// Documents the store holds at most; a write that would create one more gets 507 and
    /// writes nothing (updates and deletes still work). 0: no cap.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_DOCUMENTS)]
    max_documents: u64,

    /// Requests that may wait for locks, all documents together (each one holds a
    /// connection); one more gets 503. 0 turns waiting off.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_LOCK_WAITERS_TOTAL)]
    max_lock_waiters_total: usize,
}

impl BoundsFlags {
    pub(crate) fn apply(self, config: Config) -> Config {
        config
            .with_max_header_bytes(self.max_header_bytes)
            .with_header_timeout(Duration::from_millis(self.header_timeout))
            .with_body_timeout(Duration::from_millis(self.body_timeout))
            .with_write_timeout(Duration::from_millis(self.write_timeout))
            .with_max_connections(self.max_connections)
            .with_max_documents(self.max_documents)
            .with_max_lock_waiters_total(self.max_lock_waiters_total)
    }
}
