//! One global token bucket in front of every route, with 429 and the IETF RateLimit fields.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use crate::problem::{Problem, ProblemKind};
use crate::RateLimit;

const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// The bucket shared by all clients (not keyed by peer address, so the router works the same
/// when embedded behind a proxy or in tests).
pub(crate) struct Limiter {
    limit: RateLimit,
    bucket: RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>,
}

impl Limiter {
    /// `None` when a rate or burst is zero, which [`RateLimit`]'s parser never produces.
    pub(crate) fn new(limit: RateLimit) -> Option<Self> {
        let rate = std::num::NonZeroU32::new(limit.per_second)?;
        let burst = std::num::NonZeroU32::new(limit.burst)?;
        let quota = Quota::per_second(rate).allow_burst(burst);
        let bucket = RateLimiter::direct(quota).with_middleware::<StateInformationMiddleware>();
        Some(Self { limit, bucket })
    }
}

/// `RateLimit-Policy: "default";q=<burst>;w=<seconds to refill the whole burst>`.
pub(crate) fn policy_value(limit: RateLimit) -> String {
    format!("\"default\";q={};w={}", limit.burst, window_secs(limit))
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

/// Seconds until a bucket with `remaining` tokens is full again.
pub(crate) fn refill_secs(limit: RateLimit, remaining: u32) -> u64 {
    u64::from(limit.burst.saturating_sub(remaining)).div_ceil(u64::from(limit.per_second.max(1)))
}

/// Middleware: spends one token per request or answers 429.
pub(crate) async fn enforce(
    State(limiter): State<Arc<Limiter>>,
    request: Request,
    next: Next,
) -> Response {
    let limit = limiter.limit;
    let policy = HeaderValue::from_str(&policy_value(limit)).ok();
    match limiter.bucket.check() {
        Ok(snapshot) => {
            let remaining = snapshot.remaining_burst_capacity();
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            let state = format!(
                "\"default\";r={remaining};t={}",
                refill_secs(limit, remaining)
            );
            if let (Some(policy), Ok(state)) = (policy, HeaderValue::from_str(&state)) {
                headers.insert(RATELIMIT_POLICY, policy);
                headers.insert(RATELIMIT, state);
            }
            response
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = retry_after_secs(wait);
            let mut problem = Problem::new(
                ProblemKind::RateLimited,
                request.uri().path(),
                format!(
                    "this server accepts {} requests per second with bursts of {}; wait {seconds} s (Retry-After) and retry",
                    limit.per_second, limit.burst
                ),
            )
            .with_header(header::RETRY_AFTER, HeaderValue::from(seconds));
            if let (Some(policy), Ok(state)) = (
                policy,
                HeaderValue::from_str(&format!("\"default\";r=0;t={seconds}")),
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
        assert_eq!(policy_value(LIMIT), "\"default\";q=5;w=3");
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

    #[test]
    fn bucket_allows_exactly_the_burst_at_once() {
        let limiter = Limiter::new(RateLimit {
            per_second: 1,
            burst: 3,
        })
        .unwrap();
        let allowed = (0..10).filter(|_| limiter.bucket.check().is_ok()).count();
        // One extra token may refill if the loop straddles a one-second boundary.
        assert!((3..=4).contains(&allowed), "{allowed}");
    }
}
