//! The rate-limit policies (`--rate-limit`): one for every request, or separate ones for reads
//! and writes; how many clients are tracked; and, on PostgreSQL, whether the replicas share
//! the buckets (`--rate-limit-scope`).

use std::str::FromStr;

use super::{Config, RateLimit};
use crate::Error;

/// The default number of clients whose buckets a policy tracks at once (see
/// [`Config::with_rate_limit_clients`]).
pub const DEFAULT_RATE_LIMIT_CLIENTS: usize = 10_000;

/// Which token buckets guard the server. Every client (the authenticated name, else the peer
/// address) gets its own bucket per policy.
///
/// Text form: `RPS[:BURST]` (one policy, named `default`, for every request), or
/// `reads=RPS[:BURST],writes=RPS[:BURST]` (either part may be left out: that kind of request is
/// then not limited). Reads are `GET` and `HEAD`; every other method is a write.
///
/// ```
/// use ifmatch_server::{RateLimit, RateLimits};
///
/// let all: RateLimits = "5:20".parse().unwrap();
/// assert_eq!(all, RateLimits::All(RateLimit { per_second: 5, burst: 20 }));
/// let split: RateLimits = "reads=100:200,writes=10".parse().unwrap();
/// assert_eq!(
///     split,
///     RateLimits::Split {
///         reads: Some(RateLimit { per_second: 100, burst: 200 }),
///         writes: Some(RateLimit { per_second: 10, burst: 10 }),
///     }
/// );
/// assert!("reads=1,reads=2".parse::<RateLimits>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimits {
    /// One bucket per client for every request; the policy is named `default`.
    All(RateLimit),
    /// Separate buckets per client for reads (policy `reads`) and writes (policy `writes`);
    /// `None` leaves that kind of request unlimited.
    Split {
        /// `GET` and `HEAD` requests.
        reads: Option<RateLimit>,
        /// Every other method.
        writes: Option<RateLimit>,
    },
}

impl From<RateLimit> for RateLimits {
    fn from(limit: RateLimit) -> Self {
        Self::All(limit)
    }
}

/// Where the buckets live on PostgreSQL storage (memory and SQLite storage always keep them in
/// the process: one server, one set of buckets).
///
/// ```
/// use ifmatch_server::RateLimitScope;
///
/// assert_eq!("shared".parse::<RateLimitScope>().unwrap(), RateLimitScope::Shared);
/// assert_eq!("replica".parse::<RateLimitScope>().unwrap(), RateLimitScope::Replica);
/// assert!("cluster".parse::<RateLimitScope>().is_err());
/// assert_eq!(RateLimitScope::default(), RateLimitScope::Shared);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RateLimitScope {
    /// One bucket per client and policy in the database (`ifmatch_rate_limits`), shared by
    /// every replica: N replicas admit a client at the configured rate in total. Costs one
    /// SQL statement per request. The default.
    #[default]
    Shared,
    /// Each replica keeps its own buckets in memory: N replicas admit a client at up to N times
    /// the configured rate. No database round trip.
    Replica,
}

impl FromStr for RateLimitScope {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        match text.trim() {
            "shared" => Ok(Self::Shared),
            "replica" => Ok(Self::Replica),
            _ => Err(Error::InvalidValue {
                what: "rate-limit scope",
                value: text.to_owned(),
                expected: "shared (the replicas on one PostgreSQL database share each client's buckets) or replica (each replica keeps its own)",
            }),
        }
    }
}

impl std::fmt::Display for RateLimitScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Shared => "shared",
            Self::Replica => "replica",
        })
    }
}

const EXPECTED: &str = "RPS or RPS:BURST (one policy for every request, e.g. 10:50), or reads=RPS[:BURST],writes=RPS[:BURST] (e.g. reads=100:200,writes=10:20), with whole numbers of at least 1";

impl FromStr for RateLimits {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = || Error::InvalidValue {
            what: "rate limit",
            value: text.to_owned(),
            expected: EXPECTED,
        };
        if !text.contains('=') {
            return text.parse().map(Self::All).map_err(|_| invalid());
        }
        let (mut reads, mut writes) = (None, None);
        for part in text.split(',') {
            let (name, limit) = part.split_once('=').ok_or_else(invalid)?;
            let slot = match name.trim() {
                "reads" => &mut reads,
                "writes" => &mut writes,
                _ => return Err(invalid()),
            };
            if slot.is_some() {
                return Err(invalid());
            }
            *slot = Some(limit.trim().parse::<RateLimit>().map_err(|_| invalid())?);
        }
        Ok(Self::Split { reads, writes })
    }
}

/// Rate-limit setters and getters; see `docs/server.md` ("Rate limiting").
impl Config {
    /// One token bucket per client for every request (policy `default`), or `None` for no
    /// limit. The same as `with_rate_limits(limit.map(RateLimits::All))`.
    pub const fn with_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = match limit {
            Some(limit) => Some(RateLimits::All(limit)),
            None => None,
        };
        self
    }

    /// The rate-limit policies, or `None` for no limit.
    pub const fn with_rate_limits(mut self, limits: Option<RateLimits>) -> Self {
        self.rate_limit = limits;
        self
    }

    /// How many clients' buckets each policy tracks at once (at least 1; 0 counts as 1).
    /// Buckets that have refilled completely are forgotten (they hold nothing a new bucket
    /// would not); when the table is full of clients that are all still being limited, further
    /// clients share one overflow bucket until room frees up.
    pub const fn with_rate_limit_clients(mut self, n: usize) -> Self {
        self.rate_limit_clients = if n == 0 { 1 } else { n };
        self
    }

    /// Whether replicas on one PostgreSQL database share the buckets
    /// ([`RateLimitScope::Shared`], the default) or keep their own. Ignored on memory and SQLite
    /// storage.
    pub const fn with_rate_limit_scope(mut self, scope: RateLimitScope) -> Self {
        self.rate_limit_scope = scope;
        self
    }

    /// Whether replicas on one PostgreSQL database share the buckets.
    pub const fn rate_limit_scope(&self) -> RateLimitScope {
        self.rate_limit_scope
    }

    /// The rate-limit policies, if any.
    pub const fn rate_limit(&self) -> Option<RateLimits> {
        self.rate_limit
    }

    /// How many clients' buckets each policy tracks at once.
    pub const fn rate_limit_clients(&self) -> usize {
        self.rate_limit_clients
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn limit(per_second: u32, burst: u32) -> RateLimit {
        RateLimit { per_second, burst }
    }

    #[test]
    fn both_forms_parse() {
        assert_eq!(
            "7".parse::<RateLimits>().unwrap(),
            RateLimits::All(limit(7, 7))
        );
        assert_eq!(
            "writes=1:3".parse::<RateLimits>().unwrap(),
            RateLimits::Split {
                reads: None,
                writes: Some(limit(1, 3))
            }
        );
        assert_eq!(
            "writes=1, reads=2:4".parse::<RateLimits>().unwrap(),
            RateLimits::Split {
                reads: Some(limit(2, 4)),
                writes: Some(limit(1, 1))
            }
        );
    }

    #[test]
    fn malformed_policies_are_refused_with_both_forms_explained() {
        for bad in [
            "",
            "0",
            "reads=",
            "reads=0",
            "reads=1,reads=2",
            "posts=1",
            "reads=1,",
            "reads=1;writes=2",
            "=1",
        ] {
            let err = bad.parse::<RateLimits>().unwrap_err().to_string();
            assert!(
                err.contains("RPS:BURST") && err.contains("reads="),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn the_single_limit_setter_means_one_policy_for_everything() {
        let config = Config::new().with_rate_limit(Some(limit(1, 2)));
        assert_eq!(config.rate_limit(), Some(RateLimits::All(limit(1, 2))));
        assert_eq!(config.rate_limit_scope(), RateLimitScope::Shared);
        assert_eq!(
            config
                .with_rate_limit_scope(RateLimitScope::Replica)
                .rate_limit_scope(),
            RateLimitScope::Replica
        );
        assert_eq!(
            Config::new().rate_limit_clients(),
            DEFAULT_RATE_LIMIT_CLIENTS
        );
        assert_eq!(
            Config::new()
                .with_rate_limit_clients(0)
                .rate_limit_clients(),
            1
        );
    }
}
