//! Server configuration: a builder with documented defaults, and the text forms the CLI accepts.

mod limits;
mod rate_limits;
mod values;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::auth::AuthSettings;
use crate::conflicts::ConflictSettings;

pub use limits::{
    DEFAULT_MAX_BATCH_OPERATIONS, DEFAULT_MAX_CLIENT_TRANSACTIONS, DEFAULT_MAX_LOCK_TTL,
    DEFAULT_MAX_LOCK_WAITERS, DEFAULT_MAX_LOCK_WAITERS_TOTAL, DEFAULT_MAX_TRANSACTIONS,
    DEFAULT_MAX_TRANSACTION_TTL, MAX_LOCK_TTL_CEILING,
};
pub use rate_limits::{RateLimitScope, RateLimits, DEFAULT_RATE_LIMIT_CLIENTS};
pub use values::{MismatchStatus, RateLimit, Storage};

/// How the server is set up. Build one with [`Config::new`] and the `with_*` setters.
///
/// # Defaults
/// - address `127.0.0.1:0` (an ephemeral port on loopback)
/// - [`Storage::Memory`]; with PostgreSQL storage, at most 60 pooled connections
///   ([`crate::DEFAULT_POSTGRES_CONNECTIONS`]; see [`Config::with_postgres_connections`])
/// - [`MismatchStatus::PreconditionFailed`] (a stale `If-Match` answers 412)
/// - preconditions not required
/// - no rate limit; with one, at most 10,000 clients tracked per policy
///   ([`DEFAULT_RATE_LIMIT_CLIENTS`]), and on PostgreSQL storage the buckets shared by the
///   replicas in the database ([`RateLimitScope::Shared`])
/// - no CORS (no `Access-Control-*` fields; see [`Config::with_cors_origin`])
/// - request bodies up to 1 MiB (1,048,576 bytes)
/// - locks granted for at most 300 s ([`DEFAULT_MAX_LOCK_TTL`]), 30 s when a request names no TTL
/// - at most 64 requests waiting for one document's lock ([`DEFAULT_MAX_LOCK_WAITERS`]), and
///   at most 1024 waiting for locks over all documents ([`DEFAULT_MAX_LOCK_WAITERS_TOTAL`])
/// - at most 100 operations per batch ([`DEFAULT_MAX_BATCH_OPERATIONS`]), and at most 100
///   documents per transaction (the same limit)
/// - at most 1000 open transactions ([`DEFAULT_MAX_TRANSACTIONS`]), at most 64 of them one
///   client's ([`DEFAULT_MAX_CLIENT_TRANSACTIONS`])
/// - transactions granted for at most 60 s ([`DEFAULT_MAX_TRANSACTION_TTL`]), 30 s when a
///   request names no TTL
/// - history: at most 20 versions per document ([`crate::DEFAULT_HISTORY_MAX_VERSIONS`]),
///   none older than 7 days ([`crate::DEFAULT_HISTORY_MAX_AGE`]; the current version always
///   stays), and a deleted document's history forgotten 1 day after the delete
///   ([`crate::DEFAULT_TOMBSTONE_TTL`])
/// - at most 1,000,000 documents ([`crate::DEFAULT_MAX_DOCUMENTS`]; see
///   [`Config::with_max_documents`])
/// - authentication off: no tokens, anonymous requests allowed (see
///   [`Config::with_client_token`])
/// - conflict log of 1000 records ([`crate::DEFAULT_CONFLICT_LOG_SIZE`]) keeping refused
///   bodies up to 65536 bytes ([`crate::DEFAULT_CONFLICT_BODY_LIMIT`]); conflict streams send
///   a heartbeat after 15 s of silence ([`crate::DEFAULT_SSE_HEARTBEAT`]), at most 100 open at
///   once ([`crate::DEFAULT_MAX_SUBSCRIBERS`]), at most 16 of them per client
///   ([`crate::DEFAULT_MAX_SUBSCRIBERS_PER_CLIENT`])
/// - request heads up to 64 KiB ([`crate::DEFAULT_MAX_HEADER_BYTES`]), sent within 30 s
///   ([`crate::DEFAULT_HEADER_TIMEOUT`], also how long an idle connection stays open); bodies
///   sent within 60 s ([`crate::DEFAULT_BODY_TIMEOUT`]); at most 1024 connections at once
///   ([`crate::DEFAULT_MAX_CONNECTIONS`])
/// - no fault injection (see [`Config::with_faults`])
/// - v1 answers announce `Deprecation` at 2026-06-01T00:00:00Z
///   ([`crate::DEFAULT_V1_DEPRECATION`]) and `Sunset` at 2027-06-01T00:00:00Z
///   ([`crate::DEFAULT_V1_SUNSET`]); see [`Config::with_v1_deprecation`]
/// - idempotency keys honoured on every write; records live 24 h
///   ([`crate::DEFAULT_IDEMPOTENCY_TTL`]), at most 10,000 at once
///   ([`crate::DEFAULT_IDEMPOTENCY_MAX_KEYS`]) keeping at most 64 MiB of answers
///   ([`crate::DEFAULT_IDEMPOTENCY_MAX_BYTES`]), the oldest evicted first
///
/// ```
/// use std::time::Duration;
/// use ifmatch_server::{Config, MismatchStatus, RateLimit, Storage};
///
/// let config = Config::new()
///     .with_storage(Storage::Memory)
///     .with_mismatch_status(MismatchStatus::Conflict)
///     .with_require_preconditions(true)
///     .with_rate_limit(Some(RateLimit { per_second: 10, burst: 20 }))
///     .with_max_body_bytes(64 * 1024)
///     .with_max_lock_ttl(Duration::from_secs(60))
///     .with_max_lock_waiters(8)
///     .with_max_batch_operations(20)
///     .with_max_transactions(50)
///     .with_max_transaction_ttl(Duration::from_secs(10))
///     .with_history_max_versions(5)
///     .with_history_max_age(Duration::from_secs(3600))
///     .with_tombstone_ttl(Duration::from_secs(60));
/// assert_eq!(config.mismatch_status().as_u16(), 409);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    addr: SocketAddr,
    storage: Storage,
    mismatch_status: MismatchStatus,
    require_preconditions: bool,
    rate_limit: Option<RateLimits>,
    rate_limit_clients: usize,
    rate_limit_scope: RateLimitScope,
    /// The origins allowed by CORS (setters in `crate::cors`).
    pub(crate) cors_origins: Vec<String>,
    max_body_bytes: usize,
    max_lock_ttl: Duration,
    max_lock_waiters: usize,
    max_lock_waiters_total: usize,
    max_batch_operations: usize,
    max_transactions: usize,
    max_client_transactions: usize,
    max_transaction_ttl: Duration,
    postgres_connections: usize,
    /// Version history retention (setters in `crate::storage`).
    pub(crate) history: crate::storage::HistorySettings,
    /// Tokens and `--require-auth` (setters in `crate::auth`).
    pub(crate) auth: AuthSettings,
    /// The conflict log and stream (setters in `crate::conflicts`).
    pub(crate) conflicts: ConflictSettings,
    /// The v1 `Deprecation` and `Sunset` (setters in `crate::api_version`).
    pub(crate) retirement: crate::api_version::Retirement,
    /// Idempotency records' lifetime and caps (setters in `crate::idempotency`).
    pub(crate) idempotency: crate::idempotency::IdempotencySettings,
    /// Head size, timeouts and the connection cap (setters in `crate::bounds`).
    pub(crate) connections: crate::bounds::ConnectionSettings,
    /// Fault injection, off when `None` (setters in `crate::faults`).
    pub(crate) faults: Option<crate::FaultSpec>,
}

/// The default request body limit: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// The default configuration (see [`Config`] for the values).
    pub const fn new() -> Self {
        Self {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            storage: Storage::Memory,
            mismatch_status: MismatchStatus::PreconditionFailed,
            require_preconditions: false,
            rate_limit: None,
            rate_limit_clients: DEFAULT_RATE_LIMIT_CLIENTS,
            rate_limit_scope: RateLimitScope::Shared,
            cors_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_lock_ttl: DEFAULT_MAX_LOCK_TTL,
            max_lock_waiters: DEFAULT_MAX_LOCK_WAITERS,
            max_lock_waiters_total: DEFAULT_MAX_LOCK_WAITERS_TOTAL,
            max_batch_operations: DEFAULT_MAX_BATCH_OPERATIONS,
            max_transactions: DEFAULT_MAX_TRANSACTIONS,
            max_client_transactions: DEFAULT_MAX_CLIENT_TRANSACTIONS,
            max_transaction_ttl: DEFAULT_MAX_TRANSACTION_TTL,
            postgres_connections: crate::storage::DEFAULT_POSTGRES_CONNECTIONS,
            history: crate::storage::HistorySettings::new(),
            auth: AuthSettings::new(),
            conflicts: ConflictSettings::new(),
            retirement: crate::api_version::Retirement::DEFAULT,
            idempotency: crate::idempotency::IdempotencySettings::new(),
            connections: crate::bounds::ConnectionSettings::new(),
            faults: None,
        }
    }

    /// The address to listen on; port 0 picks a free port.
    pub const fn with_addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Where documents are kept.
    pub fn with_storage(mut self, storage: Storage) -> Self {
        self.storage = storage;
        self
    }

    /// With PostgreSQL storage, how many connections this server (one replica) opens at most,
    /// all its pools together; each pool gets its share of the default
    /// ([`DEFAULT_POSTGRES_CONNECTIONS`](crate::DEFAULT_POSTGRES_CONNECTIONS)), one listening
    /// connection and one for a conflict resolution come on top. Size PostgreSQL's
    /// `max_connections` for replicas × (N + 2) plus other clients. At least
    /// [`MIN_POSTGRES_CONNECTIONS`](crate::MIN_POSTGRES_CONNECTIONS) (smaller values count as
    /// that). A request that finds no connection free within 30 s is answered 503
    /// `storage-unavailable`.
    pub const fn with_postgres_connections(mut self, n: usize) -> Self {
        self.postgres_connections = if n < crate::storage::MIN_POSTGRES_CONNECTIONS {
            crate::storage::MIN_POSTGRES_CONNECTIONS
        } else {
            n
        };
        self
    }

    /// How many connections to PostgreSQL this server opens at most.
    pub const fn postgres_connections(&self) -> usize {
        self.postgres_connections
    }

    /// The status a stale or weak `If-Match` gets.
    pub const fn with_mismatch_status(mut self, status: MismatchStatus) -> Self {
        self.mismatch_status = status;
        self
    }

    /// When on, PUT/PATCH/DELETE without `If-Match` or `If-None-Match` answer 428.
    pub const fn with_require_preconditions(mut self, on: bool) -> Self {
        self.require_preconditions = on;
        self
    }

    /// The largest request body accepted; larger bodies answer 413.
    pub const fn with_max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// The address to listen on.
    pub const fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where documents are kept.
    pub const fn storage(&self) -> &Storage {
        &self.storage
    }

    /// The status a stale or weak `If-Match` gets.
    pub const fn mismatch_status(&self) -> MismatchStatus {
        self.mismatch_status
    }

    /// Whether unconditional writes answer 428.
    pub const fn require_preconditions(&self) -> bool {
        self.require_preconditions
    }

    /// The largest request body accepted.
    pub const fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = Config::new();
        assert_eq!(config, Config::default());
        assert_eq!(config.addr(), "127.0.0.1:0".parse().unwrap());
        assert_eq!(config.postgres_connections(), 60);
        assert_eq!(
            Config::new()
                .with_postgres_connections(2)
                .postgres_connections(),
            7
        );
        assert_eq!(config.storage(), &Storage::Memory);
        assert_eq!(config.mismatch_status(), MismatchStatus::PreconditionFailed);
        assert!(!config.require_preconditions());
        assert_eq!(config.rate_limit(), None);
        assert_eq!(config.rate_limit_scope(), RateLimitScope::Shared);
        assert_eq!(config.max_body_bytes(), 1_048_576);
        assert_eq!(config.max_lock_ttl(), Duration::from_millis(300_000));
        assert_eq!(config.max_lock_waiters(), 64);
        assert_eq!(config.max_batch_operations(), 100);
        assert_eq!(config.max_transactions(), 1000);
        assert_eq!(config.max_client_transactions(), 64);
        assert_eq!(config.max_transaction_ttl(), Duration::from_millis(60_000));
        assert_eq!(config.faults(), None);
    }

    #[test]
    fn setters_work_in_const_context() {
        const STRICT: Config = Config::new()
            .with_require_preconditions(true)
            .with_max_body_bytes(10)
            .with_max_lock_ttl(Duration::from_secs(1))
            .with_max_lock_waiters(0)
            .with_max_batch_operations(0)
            .with_max_transactions(0)
            .with_max_transaction_ttl(Duration::from_millis(200));
        assert!(STRICT.require_preconditions());
        assert_eq!(STRICT.max_batch_operations(), 1);
        assert_eq!(STRICT.max_transactions(), 1);
        assert_eq!(STRICT.max_transaction_ttl(), Duration::from_millis(200));
        assert_eq!(STRICT.max_body_bytes(), 10);
        assert_eq!(STRICT.max_lock_ttl(), Duration::from_secs(1));
        assert_eq!(STRICT.max_lock_waiters(), 0);
    }

    #[test]
    fn malformed_text_values_are_rejected_with_the_expected_form() {
        for bad in [
            "",
            "sqlite:",
            "Memory",
            "postgres:x",
            "postgres://h:99999999/db",
        ] {
            let err = bad.parse::<Storage>().unwrap_err().to_string();
            assert!(err.contains("sqlite:PATH"), "{err}");
        }
        for bad in ["", "400", "412 "] {
            assert!(bad.parse::<MismatchStatus>().is_err(), "{bad:?}");
        }
        for bad in [
            "",
            "0",
            "1:0",
            "-1",
            "a",
            "1:",
            ":1",
            "1:2:3",
            "99999999999",
        ] {
            let err = bad.parse::<RateLimit>().unwrap_err().to_string();
            assert!(err.contains("RPS:BURST"), "{bad:?}: {err}");
        }
    }
}
