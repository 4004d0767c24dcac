//! Computed backoff: backon's exponential schedule with full jitter drawn from a seedable RNG.
//!
//! backon's own jitter adds `[0, d)` on top of the delay `d` (so waits land in `[d, 2d)` and can
//! exceed the cap); full jitter draws the whole wait from `[0, d)`, which spreads synchronized
//! clients best. So backon supplies the capped exponential schedule and this module the jitter.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};

pub(crate) struct Backoff {
    schedule: ExponentialBackoff,
    jitter: Option<fastrand::Rng>,
}

impl Backoff {
    /// A schedule `initial, initial*factor, ...` capped at `max`; `jitter_seed` `None` = no jitter.
    pub(crate) fn new(
        initial: Duration,
        factor: f32,
        max: Duration,
        jitter_seed: Option<u64>,
    ) -> Self {
        let schedule = ExponentialBuilder::new()
            .with_min_delay(initial)
            .with_factor(factor)
            .with_max_delay(max)
            .without_max_times()
            .build();
        Self {
            schedule,
            jitter: jitter_seed.map(fastrand::Rng::with_seed),
        }
    }

    /// The next wait.
    pub(crate) fn next_delay(&mut self) -> Duration {
        // Without max_times and total_delay, backon's iterator never ends; the fallback is defensive.
        let ceiling = round_to_millis(self.schedule.next().unwrap_or(Duration::ZERO));
        match &mut self.jitter {
            // Whole microseconds keep seeded sequences exact across platforms.
            Some(rng) => Duration::from_micros((ceiling.as_micros() as f64 * rng.f64()) as u64),
            None => ceiling,
        }
    }
}

/// backon computes in f32 seconds (200 ms comes out as 200.000003 ms); timers have millisecond
/// resolution anyway, so the schedule is rounded to whole milliseconds.
fn round_to_millis(d: Duration) -> Duration {
    Duration::from_millis(((d.as_micros() + 500) / 1000) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn without_jitter_the_schedule_is_exponential_and_capped() {
        let mut b = Backoff::new(ms(100), 2.0, ms(500), None);
        let seq: Vec<_> = (0..5).map(|_| b.next_delay()).collect();
        assert_eq!(seq, vec![ms(100), ms(200), ms(400), ms(500), ms(500)]);
    }

    #[test]
    fn full_jitter_stays_below_the_unjittered_delay() {
        let mut plain = Backoff::new(ms(100), 2.0, ms(1000), None);
        let mut jittered = Backoff::new(ms(100), 2.0, ms(1000), Some(1));
        for _ in 0..10 {
            let ceiling = plain.next_delay();
            assert!(jittered.next_delay() <= ceiling);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let run = |seed| {
            let mut b = Backoff::new(ms(100), 2.0, ms(1000), Some(seed));
            (0..6).map(|_| b.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }
}
