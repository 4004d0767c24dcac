//! The sans-IO adaptive limiter of one rate-limit partition: a client-side token bucket whose
//! fill rate follows CUBIC, like the AWS SDKs' adaptive retry mode, with two additions for
//! servers that send `RateLimit`: a remaining under half the quota counts as congestion too (so
//! the clients of a shared quota slow down before the server has to refuse anyone), and one over
//! three quarters lets the rate grow faster than CUBIC would (the server has room to spare).
//!
//! Pure: every method takes the current instant; nothing here sleeps. The caller sleeps for the
//! wait [`Limiter::reserve`] returns (with the client's injected sleeper).

use std::time::Duration;

use web_time::Instant;

/// CUBIC's scaling constant, in requests/s per s³ (AWS adaptive mode: 0.4).
const SCALE: f64 = 0.4;
/// The fill rate kept after a congestion signal, as a share of the rate sent (AWS: 0.7).
const BETA: f64 = 0.7;
/// The slowest pace (AWS adaptive mode: 0.5 requests/s).
const MIN_RATE: f64 = 0.5;
/// The fastest send rate the measurement reports (a clock that did not move between two sends
/// would otherwise mean an infinite rate).
const MAX_MEASURED: f64 = 1_000_000.0;
/// The bucket holds this many seconds of the fill rate (at least one request), enough to ride
/// out timer granularity without letting a client burst far above its pace.
const BURST_SECONDS: f64 = 0.05;
/// Weight of the newest gap between two sends in the measured send interval.
const GAP_WEIGHT: f64 = 0.125;
/// Growth per round trip while the server reports room to spare (TCP slow start doubles; a
/// quarter is enough to find a shared quota within a second and overshoots it less).
const BOOST: f64 = 1.25;

/// What one response says about the partition's capacity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Signal {
    /// The server refused the request with 429 (with the quota's average rate, when known).
    Throttled(Option<f64>),
    /// The server's `RateLimit` remaining is low: slow down before it reaches zero (with the
    /// quota's average rate, `RateLimit-Policy`'s q/w).
    Low(Option<f64>),
    /// Nothing to slow down for.
    Clear,
    /// The server reports most of its quota left: there is room to go faster.
    Plenty,
}

/// One partition's pace.
#[derive(Clone, Debug)]
pub(crate) struct Limiter {
    /// Pacing starts with the first congestion signal; until then nothing waits.
    active: bool,
    /// Requests per second the bucket refills with.
    fill_rate: f64,
    /// Tokens in the bucket; negative while reservations wait for tokens not yet refilled.
    tokens: f64,
    last_refill: Option<Instant>,
    /// Smoothed gap between two sends, in seconds (`None` before the second send).
    gap: Option<f64>,
    last_send: Option<Instant>,
    /// CUBIC: the rate at the last congestion and when it happened.
    last_max_rate: f64,
    last_congestion: Option<Instant>,
    /// Reservations made so far; a reservation's number is its sequence.
    sent: u64,
    /// The sequence number reserved last before the last change of rate: answers to requests
    /// sent before it describe the old pace and change nothing (TCP's once per window).
    changed_before: u64,
}

impl Default for Limiter {
    fn default() -> Self {
        Self::new()
    }
}

impl Limiter {
    pub(crate) fn new() -> Self {
        Self {
            active: false,
            fill_rate: 0.0,
            tokens: 0.0,
            last_refill: None,
            gap: None,
            last_send: None,
            last_max_rate: 0.0,
            last_congestion: None,
            sent: 0,
            changed_before: 0,
        }
    }

    /// Takes a token for one request at `now`: its sequence number and how long to wait before
    /// sending it (zero when a token is there or pacing has not started).
    pub(crate) fn reserve(&mut self, now: Instant) -> (u64, Duration) {
        self.sent += 1;
        let mut wait = Duration::ZERO;
        if self.active {
            self.refill(now);
            self.tokens -= 1.0;
            if self.tokens < 0.0 {
                wait = Duration::from_secs_f64(-self.tokens / self.fill_rate);
            }
        }
        self.measure_send(now + wait);
        (self.sent, wait)
    }

    /// Feeds the answer to the request reserved as `seq` (`None`: not known) at `now`.
    pub(crate) fn observe(&mut self, now: Instant, seq: Option<u64>, signal: Signal) {
        let fresh = seq.is_none_or(|s| s > self.changed_before);
        match signal {
            Signal::Throttled(ceiling) | Signal::Low(ceiling) if fresh => {
                self.slow_down(now, ceiling);
            }
            Signal::Plenty if fresh && self.active => self.speed_up(now, BOOST),
            Signal::Clear | Signal::Plenty if self.active => self.speed_up(now, 1.0),
            _ => {}
        }
    }

    /// Whether requests are paced.
    #[cfg(test)]
    pub(crate) fn is_active(&self) -> bool {
        self.active
    }

    /// The current fill rate in requests per second (0 before pacing starts).
    #[cfg(test)]
    pub(crate) fn fill_rate(&self) -> f64 {
        self.fill_rate
    }

    /// The rate requests are sent at; `None` before the second send.
    fn measured_rate(&self) -> Option<f64> {
        self.gap.map(|gap| {
            if gap > 0.0 {
                (1.0 / gap).min(MAX_MEASURED)
            } else {
                MAX_MEASURED
            }
        })
    }

    fn measure_send(&mut self, at: Instant) {
        if let Some(last) = self.last_send {
            let gap = at.saturating_duration_since(last).as_secs_f64();
            self.gap = Some(match self.gap {
                Some(old) => old + GAP_WEIGHT * (gap - old),
                None => gap,
            });
        }
        self.last_send = Some(self.last_send.map_or(at, |last| last.max(at)));
    }

    fn refill(&mut self, now: Instant) {
        let capacity = (self.fill_rate * BURST_SECONDS).max(1.0);
        if let Some(last) = self.last_refill {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.fill_rate).min(capacity);
        }
        self.last_refill = Some(self.last_refill.map_or(now, |last| last.max(now)));
    }

    /// `ceiling`: the quota's average rate, a bound for the first slow-down (the rate sent
    /// before any pacing is no measure of what the server accepts).
    /// Without a measured rate nor a ceiling there is nothing to pace from (a first request
    /// answered 429): the signal is ignored, and the 429's own wait is all there is.
    fn slow_down(&mut self, now: Instant, ceiling: Option<f64>) {
        let measured = self.measured_rate();
        let rate = if self.active {
            self.refill(now);
            measured.map_or(self.fill_rate, |m| m.min(self.fill_rate))
        } else {
            let Some(rate) = measured.into_iter().chain(ceiling).reduce(f64::min) else {
                return;
            };
            // An empty bucket: requests already in flight have spent what the server had left.
            self.tokens = 0.0;
            self.last_refill = Some(now);
            rate
        };
        self.active = true;
        self.last_max_rate = rate;
        self.last_congestion = Some(now);
        self.fill_rate = (rate * BETA).max(MIN_RATE);
        self.changed_before = self.sent;
    }

    /// Grows the rate: CUBIC's curve since the last congestion or `factor` times the current
    /// rate, whichever is higher (never lower than now), at most twice the rate actually sent
    /// (an idle client must not earn an unlimited rate).
    fn speed_up(&mut self, now: Instant, factor: f64) {
        let since = self
            .last_congestion
            .map_or(0.0, |at| now.saturating_duration_since(at).as_secs_f64());
        let k = super::cbrt::cbrt(self.last_max_rate * (1.0 - BETA) / SCALE);
        let cubic = SCALE * (since - k).powi(3) + self.last_max_rate;
        let wanted = cubic.max(self.fill_rate * factor);
        let cap = self.measured_rate().map_or(f64::INFINITY, |m| 2.0 * m);
        let rate = wanted.min(cap).max(MIN_RATE);
        self.refill(now);
        self.fill_rate = rate;
        if factor > 1.0 {
            self.changed_before = self.sent;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, millis: u64) -> Instant {
        start + Duration::from_millis(millis)
    }

    /// A limiter that sent `rate` requests per second for one second, then met `signal`.
    fn after_steady_sends(start: Instant, rate: u64, signal: Signal) -> Limiter {
        let mut limiter = Limiter::new();
        for i in 0..rate {
            limiter.reserve(at(start, i * 1000 / rate));
        }
        limiter.observe(at(start, 1000), None, signal);
        limiter
    }

    #[test]
    fn nothing_waits_before_the_first_signal() {
        let start = Instant::now();
        let mut limiter = Limiter::new();
        for i in 0..1000 {
            assert_eq!(limiter.reserve(start).1, Duration::ZERO, "request {i}");
        }
        limiter.observe(start, Some(1000), Signal::Clear);
        assert!(!limiter.is_active());
        assert_eq!(limiter.reserve(start).1, Duration::ZERO);
    }

    #[test]
    fn a_429_paces_at_seven_tenths_of_the_measured_rate() {
        let start = Instant::now();
        let mut limiter = after_steady_sends(start, 100, Signal::Throttled(None));
        assert!(limiter.is_active());
        let rate = limiter.fill_rate();
        assert!((69.0..71.0).contains(&rate), "{rate}");
        // An empty bucket, then one request every 1/70 s.
        let now = at(start, 1000);
        let waits: Vec<_> = (0..3).map(|_| limiter.reserve(now).1).collect();
        let step = 1.0 / rate;
        for (i, wait) in waits.iter().enumerate() {
            let expected = step * (i + 1) as f64;
            assert!((wait.as_secs_f64() - expected).abs() < 1e-6, "{waits:?}");
        }
    }

    #[test]
    fn a_low_remaining_slows_down_like_a_429() {
        let start = Instant::now();
        let limiter = after_steady_sends(start, 100, Signal::Low(None));
        assert!(limiter.is_active());
        assert!((69.0..71.0).contains(&limiter.fill_rate()));
    }

    #[test]
    fn answers_to_requests_sent_before_a_slow_down_do_not_slow_down_again() {
        let start = Instant::now();
        let mut limiter = after_steady_sends(start, 100, Signal::Throttled(None));
        let rate = limiter.fill_rate();
        // Requests 1..=100 were in flight at the old pace; their 429s say nothing new.
        for seq in [50, 99, 100] {
            limiter.observe(at(start, 1001), Some(seq), Signal::Throttled(None));
            assert_eq!(limiter.fill_rate(), rate);
        }
        let (seq, _) = limiter.reserve(at(start, 1001));
        limiter.observe(at(start, 1002), Some(seq), Signal::Throttled(None));
        assert!(limiter.fill_rate() < rate);
    }

    #[test]
    fn the_rate_recovers_along_the_cubic_and_probes_beyond() {
        let start = Instant::now();
        let mut limiter = after_steady_sends(start, 100, Signal::Throttled(None));
        // K = cbrt(100 * 0.3 / 0.4) ≈ 4.2 s: back at the old maximum then, above it after.
        let mut rates = Vec::new();
        for millis in (1000..=9000).step_by(10) {
            let now = at(start, millis);
            limiter.reserve(now);
            limiter.observe(now, None, Signal::Clear);
            if millis % 1000 == 0 {
                rates.push(limiter.fill_rate().round() as u64);
            }
        }
        // 70 right after the 429, concave back to 100 by K, convex beyond it.
        assert_eq!(rates, vec![70, 87, 96, 99, 100, 100, 102, 109, 122]);
    }

    #[test]
    fn the_first_slow_down_starts_from_the_quota_rate_when_lower() {
        let start = Instant::now();
        let limiter = after_steady_sends(start, 100, Signal::Low(Some(20.0)));
        assert!((13.9..14.1).contains(&limiter.fill_rate()));
        let limiter = after_steady_sends(start, 100, Signal::Throttled(Some(500.0)));
        assert!((69.0..71.0).contains(&limiter.fill_rate()));
    }

    #[test]
    fn room_to_spare_grows_the_rate_a_quarter_per_round_trip() {
        let start = Instant::now();
        let mut limiter = after_steady_sends(start, 100, Signal::Low(Some(20.0)));
        let mut now = at(start, 1000);
        let mut rates = Vec::new();
        for _ in 0..4 {
            let (seq, wait) = limiter.reserve(now);
            now += wait;
            // Two answers to the same round trip: only the first grows the rate.
            limiter.observe(now, Some(seq), Signal::Plenty);
            limiter.observe(now, Some(seq), Signal::Plenty);
            rates.push((limiter.fill_rate() * 10.0).round() / 10.0);
        }
        assert_eq!(rates, vec![17.5, 21.9, 27.3, 34.2]);
    }

    #[test]
    fn a_first_request_answered_429_gives_nothing_to_pace_from() {
        let start = Instant::now();
        let mut limiter = Limiter::new();
        let (seq, _) = limiter.reserve(start);
        limiter.observe(start, Some(seq), Signal::Throttled(None));
        assert!(!limiter.is_active());
        assert_eq!(limiter.reserve(at(start, 100)).1, Duration::ZERO);
        // With the quota's rate known, that is where pacing starts.
        let mut limiter = Limiter::new();
        let (seq, _) = limiter.reserve(start);
        limiter.observe(start, Some(seq), Signal::Throttled(Some(10.0)));
        assert_eq!(limiter.fill_rate(), 7.0);
    }

    #[test]
    fn the_pace_never_drops_below_the_minimum() {
        let start = Instant::now();
        let mut limiter = Limiter::new();
        limiter.reserve(start);
        for i in 1..50 {
            let (seq, _) = limiter.reserve(at(start, i));
            limiter.observe(at(start, i), Some(seq), Signal::Throttled(None));
        }
        assert_eq!(limiter.fill_rate(), MIN_RATE);
    }

    #[test]
    fn an_idle_bucket_fills_only_to_its_burst() {
        let start = Instant::now();
        let mut limiter = after_steady_sends(start, 1000, Signal::Throttled(None));
        // 700/s with 50 ms of burst: 35 tokens after a long pause, then waits again.
        let later = at(start, 60_000);
        let free = (0..100)
            .take_while(|_| limiter.reserve(later).1 == Duration::ZERO)
            .count();
        assert_eq!(free, 35);
    }
}
