//! The pure decisions after a version conflict in `update()`: how long to pause, and whether to
//! write again after that pause or stop.

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

/// The ceiling of the pause before write number `writes + 1`, after write number `writes` was
/// refused: `conflict_delay`, or with [`RetryConfig::conflict_rtt_scale`] that many times
/// `rtt` (the refused write's round trip), grown by `conflict_factor` per earlier refusal and
/// capped by `conflict_max_delay`. A pause scaled to the round trip stays in proportion on a
/// fast loopback (a fraction of a millisecond) and on a slow network (tens of milliseconds)
/// alike, where a fixed 5–10 ms is 25–50 local round trips of idling.
pub(crate) fn pause_ceiling(config: &RetryConfig, rtt: Duration, writes: u32) -> Duration {
    let first = match config.conflict_rtt_scale() {
        Some(scale) => rtt.as_secs_f64() * f64::from(scale),
        None => config.conflict_delay().as_secs_f64(),
    };
    let grown = f64::from(config.conflict_factor()).powi(writes.saturating_sub(1).min(64) as i32);
    let cap = config.conflict_max_delay();
    // Computed in seconds, where nothing overflows; anything past the cap is the cap.
    let seconds = first * grown;
    if seconds.is_finite() && seconds < cap.as_secs_f64() {
        Duration::from_secs_f64(seconds)
    } else {
        cap
    }
}

/// Whether the document a refusal carried is still worth writing on after `pause`: only when
/// the pause is no longer than the refused write's round trip. Other writers go on writing
/// during a pause, so after a longer one a fresh read (one round trip) is likelier to be
/// current than the carried copy, and a write on a stale copy is only refused again.
pub(crate) fn carried_still_fresh(pause: Duration, rtt: Duration) -> bool {
    pause <= rtt
}

/// The pause itself: full jitter draws it from `[0, ceiling)` with `unit` in `[0, 1)`; `None`
/// (jitter off) pauses the whole ceiling. Whole microseconds keep seeded sequences exact.
pub(crate) fn jittered(ceiling: Duration, unit: Option<f64>) -> Duration {
    match unit {
        Some(u) => Duration::from_micros((ceiling.as_micros() as f64 * u.clamp(0.0, 1.0)) as u64),
        None => ceiling,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn pauses_follow_the_fixed_schedule_without_an_rtt_scale() {
        // client-go's DefaultRetry: 10 ms steps that do not grow, whatever the round trip.
        let config = RetryConfig::new();
        for (rtt, writes) in [(us(100), 1), (ms(40), 1), (us(100), 4)] {
            assert_eq!(pause_ceiling(&config, rtt, writes), ms(10));
        }
        let growing = RetryConfig::contended();
        let seq: Vec<_> = (1..=12)
            .map(|w| pause_ceiling(&growing, us(100), w).as_micros())
            .collect();
        assert_eq!(
            seq,
            [
                5_000, 7_500, 11_250, 16_875, 25_312, 37_968, 56_953, 85_429, 128_144, 192_216,
                250_000, 250_000
            ]
        );
    }

    #[test]
    fn pauses_scale_with_the_observed_round_trip_and_stop_at_the_cap() {
        let config = RetryConfig::new()
            .with_conflict_rtt_scale(Some(2.0))
            .with_conflict_factor(2.0)
            .with_conflict_max_delay(ms(50));
        assert_eq!(pause_ceiling(&config, us(150), 1), us(300));
        assert_eq!(pause_ceiling(&config, us(150), 2), us(600));
        assert_eq!(pause_ceiling(&config, us(150), 3), us(1_200));
        // The same policy on a network ten times slower pauses ten times longer.
        assert_eq!(pause_ceiling(&config, us(1_500), 3), us(12_000));
        assert_eq!(pause_ceiling(&config, ms(20), 2), ms(50), "capped");
        assert_eq!(pause_ceiling(&config, Duration::MAX, 1), ms(50));
        assert_eq!(pause_ceiling(&config, us(150), u32::MAX), ms(50));
        assert_eq!(pause_ceiling(&config, Duration::ZERO, 3), Duration::ZERO);
    }

    #[test]
    fn a_carried_document_is_used_only_after_a_pause_within_one_round_trip() {
        assert!(carried_still_fresh(Duration::ZERO, us(100)));
        assert!(carried_still_fresh(us(100), us(100)));
        assert!(!carried_still_fresh(us(101), us(100)));
    }

    #[test]
    fn jitter_draws_below_the_ceiling_and_none_keeps_it() {
        assert_eq!(jittered(ms(4), None), ms(4));
        assert_eq!(jittered(ms(4), Some(0.0)), Duration::ZERO);
        assert_eq!(jittered(ms(4), Some(0.25)), ms(1));
        assert_eq!(
            jittered(ms(4), Some(7.0)),
            ms(4),
            "a unit out of range is clamped"
        );
    }

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
