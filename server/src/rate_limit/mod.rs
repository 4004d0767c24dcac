//! Per-client token buckets in front of every route, with 429 and the IETF RateLimit fields.
//!
//! Every request is counted against one policy: `default` (one bucket for every request) or,
//! with separate policies, `reads` (`GET`, `HEAD`) or `writes` (every other method). Each
//! client has its own bucket per policy: the authenticated client's name when its bearer token
//! is known, else the peer address (the router embedded without connection info: one bucket
//! for all anonymous clients). See [`table`] for how the number of buckets stays bounded.
//!
//! On PostgreSQL storage the buckets live in the database by default ([`shared`]), so that
//! every replica draws on the same ones; `--rate-limit-scope replica` keeps them in memory.

mod shared;
mod table;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{Authenticator, Identified};
use crate::problem::{Problem, ProblemKind};
use crate::routes::response;
use crate::{RateLimit, RateLimits};
pub(crate) use shared::{SharedBuckets, Verdict};
pub(crate) use table::{ClientKey, Policy};

const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// The policies, and the tokens that tell clients apart: the middleware's state.
pub(crate) struct Limiter {
    reads: Option<Arc<Policy>>,
    writes: Option<Arc<Policy>>,
    auth: Option<Arc<Authenticator>>,
    /// The buckets in the database, when the replicas share them; else the policies' own.
    shared: Option<Arc<SharedBuckets>>,
}

impl Limiter {
    /// `None` when no policy limits anything. With `shared`, the buckets are the database's.
    pub(crate) fn new(
        limits: RateLimits,
        clients: usize,
        auth: Option<Arc<Authenticator>>,
        shared: Option<SharedBuckets>,
    ) -> Option<Self> {
        let policy = |name, limit: Option<RateLimit>| {
            limit.and_then(|limit| Policy::new(name, limit, clients).map(Arc::new))
        };
        let (reads, writes) = match limits {
            RateLimits::All(limit) => {
                let both = policy("default", Some(limit));
                (both.clone(), both)
            }
            RateLimits::Split { reads, writes } => {
                (policy("reads", reads), policy("writes", writes))
            }
        };
        if reads.is_none() && writes.is_none() {
            return None;
        }
        Some(Self {
            reads,
            writes,
            auth,
            shared: shared.map(Arc::new),
        })
    }

    /// The policy a request with `method` counts against, if any.
    fn policy(&self, method: &Method) -> Option<&Policy> {
        let read = *method == Method::GET || *method == Method::HEAD;
        if read {
            self.reads.as_deref()
        } else {
            self.writes.as_deref()
        }
    }
}

/// `RateLimit-Policy: "<name>";q=<burst>;w=<seconds to refill the whole burst>`.
pub(crate) fn policy_value(name: &str, limit: RateLimit) -> String {
    format!("\"{name}\";q={};w={}", limit.burst, window_secs(limit))
}

/// The policy window: how long an empty bucket takes to refill completely, at least 1 s.
pub(crate) fn window_secs(limit: RateLimit) -> u64 {
    u64::from(limit.burst)
        .div_ceil(u64::from(limit.per_second.max(1)))
        .max(1)
}

/// Whole seconds to wait, rounded up and at least 1, so a client never retries too early.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    whole.max(1)
}

/// Whole seconds until a bucket is full again, rounded up (0 when it is full).
pub(crate) fn reset_secs(full_in: Duration) -> u64 {
    full_in.as_secs() + u64::from(full_in.subsec_nanos() > 0)
}

/// Seconds until a bucket with `remaining` tokens is full again.
pub(crate) fn refill_secs(limit: RateLimit, remaining: u32) -> u64 {
    u64::from(limit.burst.saturating_sub(remaining)).div_ceil(u64::from(limit.per_second.max(1)))
}

/// Middleware: spends one of the client's tokens of the request's policy, or answers 429.
/// It also identifies the client (when tokens are configured) and hands the result on to the
/// authentication middleware, so a token is looked up once per request.
pub(crate) async fn enforce(
    State(limiter): State<Arc<Limiter>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(policy) = limiter.policy(request.method()) else {
        return next.run(request).await;
    };
    let mut key = None;
    if let Some(auth) = &limiter.auth {
        let identified = auth.identify(request.headers());
        if let Ok(Some(identity)) = &identified {
            key = Some(ClientKey::Client(identity.name.clone()));
        }
        request.extensions_mut().insert(Identified(identified));
    }
    let key = key.unwrap_or_else(|| {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(ClientKey::Unknown, |info| ClientKey::Address(info.0.ip()))
    });
    let (name, limit) = (policy.name, policy.limit);
    let policy_field = HeaderValue::from_str(&policy_value(name, limit)).ok();
    let verdict = match &limiter.shared {
        Some(shared) => match shared.check(name, limit, &key).await {
            Ok(verdict) => verdict,
            // As any storage access: 503 with Retry-After when the database is unreachable.
            Err(err) => return response::internal(&err, request.uri().path()).into_response(),
        },
        None => match policy.check(key, Instant::now()) {
            Ok(remaining) => Verdict::Admitted {
                remaining,
                full_in: Duration::from_secs(refill_secs(limit, remaining)),
            },
            Err(wait) => Verdict::Refused { wait },
        },
    };
    match verdict {
        Verdict::Admitted { remaining, full_in } => {
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            let state = format!("\"{name}\";r={remaining};t={}", reset_secs(full_in));
            if let (Some(policy), Ok(state)) = (policy_field, HeaderValue::from_str(&state)) {
                headers.insert(RATELIMIT_POLICY, policy);
                headers.insert(RATELIMIT, state);
            }
            response
        }
        Verdict::Refused { wait } => {
            let seconds = retry_after_secs(wait);
            let what = if name == "default" { "requests" } else { name };
            let mut problem = Problem::new(
                ProblemKind::RateLimited,
                request.uri().path(),
                format!(
                    "this server accepts {} {what} per second from each client, with bursts of {}; wait {seconds} s (Retry-After) and retry",
                    limit.per_second, limit.burst
                ),
            )
            .with_header(header::RETRY_AFTER, HeaderValue::from(seconds));
            if let (Some(policy), Ok(state)) = (
                policy_field,
                HeaderValue::from_str(&format!("\"{name}\";r=0;t={seconds}")),
            ) {
                problem = problem
                    .with_header(RATELIMIT_POLICY, policy)
                    .with_header(RATELIMIT, state);
            }
            problem.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: RateLimit = RateLimit {
        per_second: 2,
        burst: 5,
    };

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_of_at_least_one() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1000)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
    }

    #[test]
    fn policy_window_is_the_time_to_refill_the_burst() {
        assert_eq!(policy_value("default", LIMIT), "\"default\";q=5;w=3");
        let fast = RateLimit {
            per_second: 100,
            burst: 10,
        };
        assert_eq!(window_secs(fast), 1);
    }

    #[test]
    fn refill_time_counts_missing_tokens() {
        assert_eq!(refill_secs(LIMIT, 5), 0);
        assert_eq!(refill_secs(LIMIT, 4), 1);
        assert_eq!(refill_secs(LIMIT, 0), 3);
    }
}
