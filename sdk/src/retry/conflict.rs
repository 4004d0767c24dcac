//! The pure decision after a version conflict in `update()`: write again after a pause, or stop.

use std::time::Duration;

use super::RetryConfig;

/// What `update()` does after its write number `writes` was refused as a version conflict.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AfterConflict {
    /// Pause this long, then write again.
    Retry(Duration),
    /// Stop: `max_conflict_attempts` writes were sent.
    OutOfAttempts,
    /// Stop: the pause would pass the total deadline.
    OutOfTime,
}

/// `pause` is the next drawn conflict pause; `elapsed` the time the update has taken so far.
pub(crate) fn after_conflict(
    writes: u32,
    elapsed: Duration,
    pause: Duration,
    config: &RetryConfig,
) -> AfterConflict {
    if writes >= config.max_conflict_attempts() {
        AfterConflict::OutOfAttempts
    } else if config
        .total_deadline()
        .is_some_and(|deadline| elapsed.saturating_add(pause) > deadline)
    {
        AfterConflict::OutOfTime
    } else {
        AfterConflict::Retry(pause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn conflicts_are_retried_until_the_attempts_or_the_deadline_run_out() {
        let config = RetryConfig::new(); // 5 writes, 60 s
        let table = [
            (1, 0, 10, AfterConflict::Retry(ms(10))),
            (4, 0, 10, AfterConflict::Retry(ms(10))),
            (5, 0, 10, AfterConflict::OutOfAttempts),
            (1, 59_995, 10, AfterConflict::OutOfTime),
            (1, 59_990, 10, AfterConflict::Retry(ms(10))),
        ];
        for (writes, elapsed, pause, expected) in table {
            assert_eq!(
                after_conflict(writes, ms(elapsed), ms(pause), &config),
                expected,
                "writes {writes}, elapsed {elapsed} ms"
            );
        }
        let unbounded = RetryConfig::new().with_total_deadline(None);
        assert_eq!(
            after_conflict(1, Duration::MAX, ms(10), &unbounded),
            AfterConflict::Retry(ms(10))
        );
    }
}
