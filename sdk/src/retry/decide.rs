//! The pure throttling decision: retry a 429/503 after some delay, or give up and why.

use std::time::Duration;

use super::{backoff::Backoff, HintSource, LongWaitPolicy, RetryConfig};

/// What the shell knows about one throttled response.
pub(crate) struct Throttled {
    /// The server's wait hint, if a usable one was sent.
    pub hint: Option<(Duration, HintSource)>,
    /// Attempts sent so far, this one included.
    pub attempts: u32,
    /// Time spent in this call so far.
    pub elapsed: Duration,
    /// Whether sending the request again cannot apply it twice.
    pub retry_safe: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ThrottleDecision {
    /// Wait this long, then send again.
    Wait(Duration),
    /// Stop; the response becomes an error.
    GiveUp(GiveUp),
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum GiveUp {
    /// Repeating the request could apply it twice (e.g. a POST without Idempotency-Key).
    NotRetrySafe,
    /// `max_attempts` reached.
    AttemptsExhausted,
    /// The next wait would pass the total deadline.
    DeadlineExceeded,
    /// The hint exceeds `max_retry_after` and the policy is to fail.
    HintTooLong(Duration),
}

pub(crate) fn decide_throttle(
    t: &Throttled,
    config: &RetryConfig,
    backoff: &mut Backoff,
) -> ThrottleDecision {
    if !t.retry_safe {
        return ThrottleDecision::GiveUp(GiveUp::NotRetrySafe);
    }
    if t.attempts >= config.max_attempts() {
        return ThrottleDecision::GiveUp(GiveUp::AttemptsExhausted);
    }
    let delay = match t.hint {
        Some((hint, _)) if hint > config.max_retry_after() => match config.long_wait() {
            LongWaitPolicy::Fail => return ThrottleDecision::GiveUp(GiveUp::HintTooLong(hint)),
            LongWaitPolicy::Clamp => config.max_retry_after(),
        },
        // The server's own hint is exact; jitter would only make the client early or late.
        Some((hint, _)) => hint,
        None => backoff.next_delay(),
    }
    .max(config.min_delay());
    if let Some(deadline) = config.total_deadline() {
        if t.elapsed.saturating_add(delay) > deadline {
            return ThrottleDecision::GiveUp(GiveUp::DeadlineExceeded);
        }
    }
    ThrottleDecision::Wait(delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn throttled(hint: Option<u64>, attempts: u32) -> Throttled {
        Throttled {
            hint: hint.map(|s| (secs(s), HintSource::RetryAfterSeconds)),
            attempts,
            elapsed: Duration::ZERO,
            retry_safe: true,
        }
    }

    fn no_jitter(config: &RetryConfig) -> Backoff {
        Backoff::new(
            config.initial_delay(),
            config.factor(),
            config.max_delay(),
            None,
        )
    }

    #[test]
    fn hint_is_used_exactly() {
        let config = RetryConfig::new();
        let mut b = no_jitter(&config);
        assert_eq!(
            decide_throttle(&throttled(Some(7), 1), &config, &mut b),
            ThrottleDecision::Wait(secs(7))
        );
    }

    #[test]
    fn without_hint_the_backoff_decides() {
        let config = RetryConfig::new().with_max_attempts(5);
        let mut b = no_jitter(&config);
        let delays: Vec<_> = (1..5)
            .map(|n| decide_throttle(&throttled(None, n), &config, &mut b))
            .collect();
        assert_eq!(
            delays,
            Vec::from([1, 2, 4, 8].map(|s| ThrottleDecision::Wait(secs(s))))
        );
    }

    #[test]
    fn a_zero_hint_still_waits_the_minimum_delay() {
        let config = RetryConfig::new();
        let mut b = no_jitter(&config);
        assert_eq!(
            decide_throttle(&throttled(Some(0), 1), &config, &mut b),
            ThrottleDecision::Wait(Duration::from_millis(100))
        );
        let none = RetryConfig::new().with_min_delay(Duration::ZERO);
        assert_eq!(
            decide_throttle(&throttled(Some(0), 1), &none, &mut no_jitter(&none)),
            ThrottleDecision::Wait(Duration::ZERO)
        );
    }

    #[test]
    fn unsafe_requests_are_never_retried() {
        let config = RetryConfig::new();
        let mut t = throttled(Some(1), 1);
        t.retry_safe = false;
        assert_eq!(
            decide_throttle(&t, &config, &mut no_jitter(&config)),
            ThrottleDecision::GiveUp(GiveUp::NotRetrySafe)
        );
    }

    #[test]
    fn attempts_are_bounded() {
        let config = RetryConfig::new().with_max_attempts(3);
        assert_eq!(
            decide_throttle(&throttled(Some(1), 3), &config, &mut no_jitter(&config)),
            ThrottleDecision::GiveUp(GiveUp::AttemptsExhausted)
        );
    }

    #[test]
    fn long_hints_fail_or_clamp_per_policy() {
        let fail = RetryConfig::new().with_max_retry_after(secs(10));
        assert_eq!(
            decide_throttle(&throttled(Some(11), 1), &fail, &mut no_jitter(&fail)),
            ThrottleDecision::GiveUp(GiveUp::HintTooLong(secs(11)))
        );
        let clamp = fail.with_long_wait(LongWaitPolicy::Clamp);
        assert_eq!(
            decide_throttle(&throttled(Some(11), 1), &clamp, &mut no_jitter(&clamp)),
            ThrottleDecision::Wait(secs(10))
        );
    }

    #[test]
    fn the_total_deadline_stops_waiting() {
        let config = RetryConfig::new().with_total_deadline(Some(secs(10)));
        let mut t = throttled(Some(4), 1);
        t.elapsed = secs(7);
        assert_eq!(
            decide_throttle(&t, &config, &mut no_jitter(&config)),
            ThrottleDecision::GiveUp(GiveUp::DeadlineExceeded)
        );
        t.elapsed = secs(6);
        assert_eq!(
            decide_throttle(&t, &config, &mut no_jitter(&config)),
            ThrottleDecision::Wait(secs(4))
        );
    }
}
