//! Server configuration: a builder with documented defaults, and the text forms the CLI accepts.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::auth::AuthSettings;
use crate::conflicts::ConflictSettings;
use crate::Error;

/// How the server is set up. Build one with [`Config::new`] and the `with_*` setters.
///
/// # Defaults
/// - address `127.0.0.1:0` (an ephemeral port on loopback)
/// - [`Storage::Memory`]
/// - [`MismatchStatus::PreconditionFailed`] (a stale `If-Match` answers 412)
/// - preconditions not required
/// - no rate limit
/// - request bodies up to 1 MiB (1,048,576 bytes)
/// - locks granted for at most 300 s ([`DEFAULT_MAX_LOCK_TTL`]), 30 s when a request names no TTL
/// - at most 64 requests waiting for one document's lock ([`DEFAULT_MAX_LOCK_WAITERS`])
/// - at most 100 operations per batch ([`DEFAULT_MAX_BATCH_OPERATIONS`]), and at most 100
///   documents per transaction (the same limit)
/// - at most 1000 open transactions ([`DEFAULT_MAX_TRANSACTIONS`])
/// - transactions granted for at most 60 s ([`DEFAULT_MAX_TRANSACTION_TTL`]), 30 s when a
///   request names no TTL
/// - history: at most 20 versions per document ([`crate::DEFAULT_HISTORY_MAX_VERSIONS`]),
///   none older than 7 days ([`crate::DEFAULT_HISTORY_MAX_AGE`]; the current version always
///   stays), and a deleted document's history forgotten 1 day after the delete
///   ([`crate::DEFAULT_TOMBSTONE_TTL`])
/// - authentication off: no tokens, anonymous requests allowed (see
///   [`Config::with_client_token`])
/// - conflict log of 1000 records ([`crate::DEFAULT_CONFLICT_LOG_SIZE`]) keeping refused
///   bodies up to 65536 bytes ([`crate::DEFAULT_CONFLICT_BODY_LIMIT`]); conflict streams send
///   a heartbeat after 15 s of silence ([`crate::DEFAULT_SSE_HEARTBEAT`]), at most 100 open at
///   once ([`crate::DEFAULT_MAX_SUBSCRIBERS`])
/// - v1 answers announce `Deprecation` at 2026-06-01T00:00:00Z
///   ([`crate::DEFAULT_V1_DEPRECATION`]) and `Sunset` at 2027-06-01T00:00:00Z
///   ([`crate::DEFAULT_V1_SUNSET`]); see [`Config::with_v1_deprecation`]
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
    rate_limit: Option<RateLimit>,
    max_body_bytes: usize,
    max_lock_ttl: Duration,
    max_lock_waiters: usize,
    max_batch_operations: usize,
    max_transactions: usize,
    max_transaction_ttl: Duration,
    /// Version history retention (setters in `crate::storage`).
    pub(crate) history: crate::storage::HistorySettings,
    /// Tokens and `--require-auth` (setters in `crate::auth`).
    pub(crate) auth: AuthSettings,
    /// The conflict log and stream (setters in `crate::conflicts`).
    pub(crate) conflicts: ConflictSettings,
    /// The v1 `Deprecation` and `Sunset` (setters in `crate::api_version`).
    pub(crate) retirement: crate::api_version::Retirement,
}

/// The default request body limit: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The default longest lock: 300 s (5 minutes).
pub const DEFAULT_MAX_LOCK_TTL: Duration = Duration::from_secs(300);

/// The largest maximum lock TTL a server keeps (one day); [`Config::with_max_lock_ttl`] cuts
/// larger values to it, so lock deadlines never overflow the clock.
pub const MAX_LOCK_TTL_CEILING: Duration = Duration::from_secs(24 * 60 * 60);

/// The default number of requests that may wait for one document's lock.
pub const DEFAULT_MAX_LOCK_WAITERS: usize = 64;

/// The default largest number of operations in one `POST /batch`, and of documents one
/// transaction may read or write.
pub const DEFAULT_MAX_BATCH_OPERATIONS: usize = 100;

/// The default number of transactions that may be open at once.
pub const DEFAULT_MAX_TRANSACTIONS: usize = 1000;

/// The default longest transaction: 60 s.
pub const DEFAULT_MAX_TRANSACTION_TTL: Duration = Duration::from_secs(60);

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
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_lock_ttl: DEFAULT_MAX_LOCK_TTL,
            max_lock_waiters: DEFAULT_MAX_LOCK_WAITERS,
            max_batch_operations: DEFAULT_MAX_BATCH_OPERATIONS,
            max_transactions: DEFAULT_MAX_TRANSACTIONS,
            max_transaction_ttl: DEFAULT_MAX_TRANSACTION_TTL,
            history: crate::storage::HistorySettings::new(),
            auth: AuthSettings::new(),
            conflicts: ConflictSettings::new(),
            retirement: crate::api_version::Retirement::DEFAULT,
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

    /// A token bucket shared by all clients, or `None` for no limit.
    pub const fn with_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// The largest request body accepted; larger bodies answer 413.
    pub const fn with_max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// The longest lock granted (longer requests are cut to it, and the answer says so), and
    /// the longest a lock request waits in a queue. Kept within 1 ms ..= 24 h.
    pub const fn with_max_lock_ttl(mut self, ttl: Duration) -> Self {
        self.max_lock_ttl = ttl;
        self
    }

    /// How many requests may wait for one document's lock; one more answers 503.
    /// 0 turns waiting off (every request that asks to wait answers 503 while the lock is held).
    pub const fn with_max_lock_waiters(mut self, n: usize) -> Self {
        self.max_lock_waiters = n;
        self
    }

    /// The most operations one `POST /batch` may carry, and the most documents one
    /// transaction may read or write; more answer 400. At least 1 (0 counts as 1).
    pub const fn with_max_batch_operations(mut self, n: usize) -> Self {
        self.max_batch_operations = if n == 0 { 1 } else { n };
        self
    }

    /// How many transactions may be open at once; one more `POST /transactions` answers 503.
    /// At least 1 (0 counts as 1).
    pub const fn with_max_transactions(mut self, n: usize) -> Self {
        self.max_transactions = if n == 0 { 1 } else { n };
        self
    }

    /// The longest transaction granted (a longer `ttl_ms` is cut to it, and the answer says
    /// so). Kept within 1 ms ..= 24 h.
    pub const fn with_max_transaction_ttl(mut self, ttl: Duration) -> Self {
        self.max_transaction_ttl = ttl;
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

    /// The rate limit, if any.
    pub const fn rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit
    }

    /// The largest request body accepted.
    pub const fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// The longest lock granted.
    pub const fn max_lock_ttl(&self) -> Duration {
        self.max_lock_ttl
    }

    /// How many requests may wait for one document's lock.
    pub const fn max_lock_waiters(&self) -> usize {
        self.max_lock_waiters
    }

    /// The most operations one batch may carry (and documents one transaction may touch).
    pub const fn max_batch_operations(&self) -> usize {
        self.max_batch_operations
    }

    /// How many transactions may be open at once.
    pub const fn max_transactions(&self) -> usize {
        self.max_transactions
    }

    /// The longest transaction granted.
    pub const fn max_transaction_ttl(&self) -> Duration {
        self.max_transaction_ttl
    }
}

/// Where documents are kept. Text form: `memory` or `sqlite:PATH`.
///
/// ```
/// use ifmatch_server::Storage;
///
/// assert_eq!("memory".parse::<Storage>().unwrap(), Storage::Memory);
/// assert_eq!(
///     "sqlite:/tmp/items.db".parse::<Storage>().unwrap(),
///     Storage::Sqlite("/tmp/items.db".into())
/// );
/// assert!("redis".parse::<Storage>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Storage {
    /// In process memory; lost on exit.
    #[default]
    Memory,
    /// A SQLite database file, created if absent; survives restarts.
    Sqlite(PathBuf),
}

impl FromStr for Storage {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        if text == "memory" {
            return Ok(Self::Memory);
        }
        match text.strip_prefix("sqlite:") {
            Some(path) if !path.is_empty() => Ok(Self::Sqlite(PathBuf::from(path))),
            _ => Err(Error::InvalidValue {
                what: "storage",
                value: text.to_owned(),
                expected: "`memory` or `sqlite:PATH` (e.g. sqlite:items.db)",
            }),
        }
    }
}

/// The status a failed `If-Match` on an existing resource gets. Text form: `412` or `409`.
///
/// ```
/// use ifmatch_server::MismatchStatus;
///
/// let status: MismatchStatus = "409".parse().unwrap();
/// assert_eq!(status, MismatchStatus::Conflict);
/// assert_eq!(status.as_u16(), 409);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MismatchStatus {
    /// 412 Precondition Failed, as RFC 9110 §13.1.1 asks.
    #[default]
    PreconditionFailed,
    /// 409 Conflict: the declared non-strict profile many real APIs use.
    Conflict,
}

impl MismatchStatus {
    /// The numeric HTTP status.
    pub const fn as_u16(self) -> u16 {
        match self {
            Self::PreconditionFailed => 412,
            Self::Conflict => 409,
        }
    }
}

impl FromStr for MismatchStatus {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        match text {
            "412" => Ok(Self::PreconditionFailed),
            "409" => Ok(Self::Conflict),
            _ => Err(Error::InvalidValue {
                what: "mismatch status",
                value: text.to_owned(),
                expected: "`412` or `409`",
            }),
        }
    }
}

/// A token bucket: `burst` requests at once, refilled at `per_second` tokens a second.
/// Text form: `RPS[:BURST]`; the burst defaults to the rate.
///
/// ```
/// use ifmatch_server::RateLimit;
///
/// assert_eq!("5".parse::<RateLimit>().unwrap(), RateLimit { per_second: 5, burst: 5 });
/// assert_eq!("5:20".parse::<RateLimit>().unwrap(), RateLimit { per_second: 5, burst: 20 });
/// assert!("0".parse::<RateLimit>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Tokens added per second; at least 1.
    pub per_second: u32,
    /// Bucket size: how many requests may arrive at once; at least 1.
    pub burst: u32,
}

impl FromStr for RateLimit {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = || Error::InvalidValue {
            what: "rate limit",
            value: text.to_owned(),
            expected: "RPS or RPS:BURST with whole numbers of at least 1 (e.g. 10 or 10:50)",
        };
        let positive = |part: &str| match part.parse::<u32>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(invalid()),
        };
        let (rate, burst) = match text.split_once(':') {
            Some((rate, burst)) => (positive(rate)?, positive(burst)?),
            None => {
                let rate = positive(text)?;
                (rate, rate)
            }
        };
        Ok(Self {
            per_second: rate,
            burst,
        })
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
        assert_eq!(config.storage(), &Storage::Memory);
        assert_eq!(config.mismatch_status(), MismatchStatus::PreconditionFailed);
        assert!(!config.require_preconditions());
        assert_eq!(config.rate_limit(), None);
        assert_eq!(config.max_body_bytes(), 1_048_576);
        assert_eq!(config.max_lock_ttl(), Duration::from_millis(300_000));
        assert_eq!(config.max_lock_waiters(), 64);
        assert_eq!(config.max_batch_operations(), 100);
        assert_eq!(config.max_transactions(), 1000);
        assert_eq!(config.max_transaction_ttl(), Duration::from_millis(60_000));
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
        for bad in ["", "sqlite:", "Memory", "postgres:x"] {
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
