//! The text forms the CLI accepts: storage, mismatch status and rate limit.

use std::path::PathBuf;
use std::str::FromStr;

use crate::Error;

/// Where documents are kept. Text form: `memory`, `sqlite:PATH` or a PostgreSQL URL
/// (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`, also `postgresql://`).
///
/// ```
/// use ifmatch_server::Storage;
///
/// assert_eq!("memory".parse::<Storage>().unwrap(), Storage::Memory);
/// assert_eq!(
///     "sqlite:/tmp/items.db".parse::<Storage>().unwrap(),
///     Storage::Sqlite("/tmp/items.db".into())
/// );
/// assert_eq!(
///     "postgres://ifmatch@127.0.0.1:5432/items".parse::<Storage>().unwrap(),
///     Storage::Postgres("postgres://ifmatch@127.0.0.1:5432/items".into())
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
    /// A PostgreSQL database, given by its URL; its tables are created (and migrated) at
    /// start. Several servers (replicas) may share one database.
    Postgres(String),
}

impl FromStr for Storage {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        if text == "memory" {
            return Ok(Self::Memory);
        }
        let invalid = || {
            Error::InvalidValue {
            what: "storage",
            value: text.to_owned(),
            expected: "`memory`, `sqlite:PATH` (e.g. sqlite:items.db) or a PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)",
        }
        };
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return match crate::storage::postgres_url_is_valid(text) {
                true => Ok(Self::Postgres(text.to_owned())),
                false => Err(invalid()),
            };
        }
        match text.strip_prefix("sqlite:") {
            Some(path) if !path.is_empty() => Ok(Self::Sqlite(PathBuf::from(path))),
            _ => Err(invalid()),
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
