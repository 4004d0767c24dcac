//! Retry settings and their presets.

use std::time::Duration;

/// What to do when a server asks for a wait longer than [`RetryConfig::max_retry_after`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LongWaitPolicy {
    /// Fail at once with [`crate::Error::RetryAfterTooLong`], carrying the requested delay.
    Fail,
    /// Wait `max_retry_after` instead, then try again (likely early; the server may throttle again).
    Clamp,
}

/// How `update()` and the HTTP verbs retry: version conflicts, throttling (429/503) and the
/// per-host retry budget.
///
/// # Defaults
///
/// | setting | default | why |
/// |---|---|---|
/// | `max_attempts` | 3 | throttled requests, and reads whose answer was lost: the AWS SDKs' standard mode sends 3 attempts |
/// | `initial_delay` | 1 s | throttle backoff base without a server hint (AWS standard mode: 1 s) |
/// | `max_delay` | 20 s | cap of one backoff wait (AWS standard mode's 20 s cap) |
/// | `factor` | 2.0 | exponential growth per throttle retry (AWS: 2) |
/// | `jitter` | full, unseeded | full jitter spreads synchronized clients best (AWS architecture blog) |
/// | `min_delay` | 100 ms | floor of every throttle wait: `Retry-After: 0` must not become a tight loop |
/// | `total_deadline` | 60 s | no single call takes longer than a minute in total (requests, waits and conflict retries; enforced as a timeout) |
/// | `max_retry_after` | 30 s | longer server hints usually mean "come back later", not "wait inline" |
/// | `long_wait` | [`LongWaitPolicy::Fail`] | an early retry after a clamped hint only earns another 429 |
/// | `max_conflict_attempts` | 5 | writes in one `update()`, as client-go's `DefaultRetry` (5 steps) |
/// | `conflict_delay` | 10 ms | pause before re-writing after a conflict (client-go: 10 ms) |
/// | `conflict_factor` | 1.0 | client-go `DefaultRetry` does not grow its 10 ms step |
/// | `conflict_max_delay` | 1 s | cap of one conflict pause |
/// | `conflict_representation` | on natively, off on wasm32 | `update()` asks (`Prefer: return=representation`) that a refusal carry the current document, saving the re-read; in browsers the field would make every cross-origin write need a server that allows `Prefer` in CORS preflights |
/// | `conflict_rtt_scale` | none | pauses in fixed milliseconds, as client-go |
/// | `budget_capacity` | 500 tokens | the AWS SDKs' retry quota per client, kept per host here |
/// | `budget_retry_cost` | 5 tokens | AWS: a throttling retry costs 5 |
/// | `budget_success_refund` | 1 token | AWS: a success returns 1 |
///
/// client-go applies jitter 0.1 to its 10 ms step; this crate uses full jitter everywhere, so a
/// conflict pause is uniformly drawn from `[0, 10 ms)`: losers of a race spread out instead of
/// colliding again in lockstep.
///
/// ```
/// use std::time::Duration;
/// use ifmatch::RetryConfig;
///
/// let config = RetryConfig::default()
///     .with_max_attempts(5)
///     .with_jitter_seed(7)
///     .with_max_retry_after(Duration::from_secs(10));
/// assert_eq!(config.max_attempts(), 5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryConfig {
    throttle: Throttle,
    conflicts: Conflicts,
    budget: Budget,
}

/// Waiting out 429/503 and the bounds of one call.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Throttle {
    max_attempts: u32,
    initial_delay: Duration,
    max_delay: Duration,
    factor: f32,
    jitter: bool,
    seed: Option<u64>,
    total_deadline: Option<Duration>,
    min_delay: Duration,
    max_retry_after: Duration,
    long_wait: LongWaitPolicy,
}

/// Rewrites after a version conflict in `update()`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Conflicts {
    max_writes: u32,
    delay: Duration,
    factor: f32,
    max_delay: Duration,
    rtt_scale: Option<f32>,
    ask_representation: bool,
}

/// The per-host retry budget.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Budget {
    capacity: u32,
    retry_cost: u32,
    success_refund: u32,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl RetryConfig {
    /// The documented defaults (see the table above).
    pub const fn new() -> Self {
        Self {
            throttle: Throttle {
                max_attempts: 3,
                initial_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(20),
                factor: 2.0,
                jitter: true,
                seed: None,
                total_deadline: Some(Duration::from_secs(60)),
                min_delay: Duration::from_millis(100),
                max_retry_after: Duration::from_secs(30),
                long_wait: LongWaitPolicy::Fail,
            },
            conflicts: Conflicts {
                max_writes: 5,
                delay: Duration::from_millis(10),
                factor: 1.0,
                max_delay: Duration::from_secs(1),
                rtt_scale: None,
                ask_representation: cfg!(not(target_arch = "wasm32")),
            },
            budget: Budget {
                capacity: 500,
                retry_cost: 5,
                success_refund: 1,
            },
        }
    }

    /// For a hot resource many writers update at once: 32 writes per `update()`, conflict pauses
    /// growing from 5 ms by 1.5x up to 250 ms (full jitter), throttling as the defaults. For
    /// pauses in proportion to the network instead, add
    /// `.with_conflict_rtt_scale(Some(RetryConfig::CONTENDED_RTT_SCALE))` (measured in
    /// `docs/performance.md`: on a loopback server it did not beat these fixed pauses).
    pub const fn contended() -> Self {
        Self::new()
            .with_max_conflict_attempts(32)
            .with_conflict_delay(Duration::from_millis(5))
            .with_conflict_factor(1.5)
            .with_conflict_max_delay(Duration::from_millis(250))
    }

    /// A first conflict pause of two round trips of the refused write (before jitter), the
    /// scale measured against [`RetryConfig::contended`]'s fixed pauses.
    pub const CONTENDED_RTT_SCALE: f32 = 2.0;

    /// For background synchronisation that may wait: 10 throttle attempts, 60 s cap, 15 minute
    /// deadline, server hints up to 5 minutes honoured, 10 conflict writes.
    pub const fn background_sync() -> Self {
        Self::new()
            .with_max_attempts(10)
            .with_max_delay(Duration::from_secs(60))
            .with_total_deadline(Some(Duration::from_secs(15 * 60)))
            .with_max_retry_after(Duration::from_secs(5 * 60))
            .with_max_conflict_attempts(10)
            .with_conflict_delay(Duration::from_millis(100))
            .with_conflict_factor(2.0)
            .with_conflict_max_delay(Duration::from_secs(10))
    }

    /// No automatic retries at all: one attempt, no conflict recovery, no idempotency keys.
    pub const fn disabled() -> Self {
        Self::new()
            .with_max_attempts(1)
            .with_max_conflict_attempts(1)
    }

    /// Total attempts for a throttled (429/503) request, or for a read (or a keyed write to a
    /// server that honours keys) whose answer was lost, first one included; at least 1.
    pub const fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.throttle.max_attempts = attempts;
        self
    }

    /// Base of the exponential throttle backoff used when the server gives no hint.
    pub const fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.throttle.initial_delay = delay;
        self
    }

    /// Cap of one computed backoff wait.
    pub const fn with_max_delay(mut self, delay: Duration) -> Self {
        self.throttle.max_delay = delay;
        self
    }

    /// Growth per throttle retry; at least 1.0.
    pub const fn with_factor(mut self, factor: f32) -> Self {
        self.throttle.factor = factor;
        self
    }

    /// Turns full jitter on or off (server hints never get jitter).
    pub const fn with_jitter(mut self, jitter: bool) -> Self {
        self.throttle.jitter = jitter;
        self
    }

    /// Seeds the jitter generator so a delay sequence is reproducible (tests, simulations).
    pub const fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.throttle.seed = Some(seed);
        self
    }

    /// Floor of every throttle wait, the server's hint included (a `Retry-After: 0` answered
    /// again and again would otherwise resend in a tight loop).
    pub const fn with_min_delay(mut self, delay: Duration) -> Self {
        self.throttle.min_delay = delay;
        self
    }

    /// Upper bound on the time one call takes in total: requests, throttle waits and conflict
    /// retries. A wait that would pass it is not started (the call fails with the server's
    /// error); a call still running when it passes ends with [`crate::Error::Timeout`].
    /// `None` means no bound.
    pub const fn with_total_deadline(mut self, deadline: Option<Duration>) -> Self {
        self.throttle.total_deadline = deadline;
        self
    }

    /// The longest server-requested wait (`Retry-After` and friends) honoured inline.
    pub const fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.throttle.max_retry_after = max;
        self
    }

    /// What to do with a longer hint.
    pub const fn with_long_wait(mut self, policy: LongWaitPolicy) -> Self {
        self.throttle.long_wait = policy;
        self
    }

    /// Writes sent by one `update()` before a version conflict is returned; at least 1.
    pub const fn with_max_conflict_attempts(mut self, attempts: u32) -> Self {
        self.conflicts.max_writes = attempts;
        self
    }

    /// The first pause before re-writing after a conflict (full jitter: drawn from `[0, delay)`).
    pub const fn with_conflict_delay(mut self, delay: Duration) -> Self {
        self.conflicts.delay = delay;
        self
    }

    /// Growth of the conflict pause per rewrite; at least 1.0.
    pub const fn with_conflict_factor(mut self, factor: f32) -> Self {
        self.conflicts.factor = factor;
        self
    }

    /// Cap of one conflict pause; at least the first pause.
    pub const fn with_conflict_max_delay(mut self, delay: Duration) -> Self {
        self.conflicts.max_delay = delay;
        self
    }

    /// Scales conflict pauses to the network: when `Some(n)`, the first pause after a refused
    /// write is `n` times that write's round-trip time (instead of `conflict_delay`), still
    /// growing by `conflict_factor`, capped by `conflict_max_delay` and jittered. `None` (the
    /// default) keeps fixed pauses. Must be finite and above 0.
    pub const fn with_conflict_rtt_scale(mut self, scale: Option<f32>) -> Self {
        self.conflicts.rtt_scale = scale;
        self
    }

    /// Whether `update()` asks, with `Prefer: return=representation` (RFC 7240) on its writes,
    /// that a 412/409 carry the current document (the problem member `current`, as the
    /// reference server sends it). When the refusal has it with a strong `current_etag`, the
    /// change is re-applied to it without a GET; otherwise the document is read as before.
    pub const fn with_conflict_representation(mut self, ask: bool) -> Self {
        self.conflicts.ask_representation = ask;
        self
    }

    /// Tokens in the per-host retry budget (and its starting balance).
    pub const fn with_budget_capacity(mut self, tokens: u32) -> Self {
        self.budget.capacity = tokens;
        self
    }

    /// Tokens one throttle retry costs; 0 disables the budget.
    pub const fn with_budget_retry_cost(mut self, tokens: u32) -> Self {
        self.budget.retry_cost = tokens;
        self
    }

    /// Tokens a successful request returns to its host's budget.
    pub const fn with_budget_success_refund(mut self, tokens: u32) -> Self {
        self.budget.success_refund = tokens;
        self
    }

    /// Total attempts for a throttled request.
    pub const fn max_attempts(&self) -> u32 {
        self.throttle.max_attempts
    }
    /// Base throttle backoff.
    pub const fn initial_delay(&self) -> Duration {
        self.throttle.initial_delay
    }
    /// Cap of one backoff wait.
    pub const fn max_delay(&self) -> Duration {
        self.throttle.max_delay
    }
    /// Throttle backoff growth factor.
    pub const fn factor(&self) -> f32 {
        self.throttle.factor
    }
    /// Whether full jitter is applied to computed backoff.
    pub const fn jitter(&self) -> bool {
        self.throttle.jitter
    }
    /// The jitter seed, if fixed.
    pub const fn jitter_seed(&self) -> Option<u64> {
        self.throttle.seed
    }
    /// Total time bound of one call.
    pub const fn total_deadline(&self) -> Option<Duration> {
        self.throttle.total_deadline
    }
    /// Floor of every throttle wait.
    pub const fn min_delay(&self) -> Duration {
        self.throttle.min_delay
    }
    /// Longest honoured server hint.
    pub const fn max_retry_after(&self) -> Duration {
        self.throttle.max_retry_after
    }
    /// Policy for longer hints.
    pub const fn long_wait(&self) -> LongWaitPolicy {
        self.throttle.long_wait
    }
    /// Writes per `update()`.
    pub const fn max_conflict_attempts(&self) -> u32 {
        self.conflicts.max_writes
    }
    /// First conflict pause.
    pub const fn conflict_delay(&self) -> Duration {
        self.conflicts.delay
    }
    /// Conflict pause growth factor.
    pub const fn conflict_factor(&self) -> f32 {
        self.conflicts.factor
    }
    /// Cap of one conflict pause.
    pub const fn conflict_max_delay(&self) -> Duration {
        self.conflicts.max_delay
    }
    /// Whether `update()` asks refusals to carry the current document.
    pub const fn conflict_representation(&self) -> bool {
        self.conflicts.ask_representation
    }
    /// Conflict pauses in round trips of the refused write, if scaled.
    pub const fn conflict_rtt_scale(&self) -> Option<f32> {
        self.conflicts.rtt_scale
    }
    /// Retry budget capacity per host.
    pub const fn budget_capacity(&self) -> u32 {
        self.budget.capacity
    }
    /// Tokens one throttle retry costs.
    pub const fn budget_retry_cost(&self) -> u32 {
        self.budget.retry_cost
    }
    /// Tokens a success returns.
    pub const fn budget_success_refund(&self) -> u32 {
        self.budget.success_refund
    }
    /// Whether any automatic retry can happen (and so POSTs get an `Idempotency-Key`).
    pub const fn retries_enabled(&self) -> bool {
        self.throttle.max_attempts > 1 || self.conflicts.max_writes > 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_table() {
        let c = RetryConfig::default();
        assert_eq!(c.max_attempts(), 3);
        assert_eq!(c.initial_delay(), Duration::from_secs(1));
        assert_eq!(c.max_delay(), Duration::from_secs(20));
        assert_eq!(c.factor(), 2.0);
        assert!(c.jitter());
        assert_eq!(c.jitter_seed(), None);
        assert_eq!(c.total_deadline(), Some(Duration::from_secs(60)));
        assert_eq!(c.min_delay(), Duration::from_millis(100));
        assert_eq!(c.max_retry_after(), Duration::from_secs(30));
        assert_eq!(c.long_wait(), LongWaitPolicy::Fail);
        assert_eq!(c.max_conflict_attempts(), 5);
        assert_eq!(c.conflict_delay(), Duration::from_millis(10));
        assert_eq!(c.conflict_factor(), 1.0);
        assert_eq!(c.conflict_max_delay(), Duration::from_secs(1));
        assert_eq!(c.conflict_rtt_scale(), None);
        assert_eq!(
            c.conflict_representation(),
            cfg!(not(target_arch = "wasm32"))
        );
        assert_eq!(c.budget_capacity(), 500);
        assert_eq!(c.budget_retry_cost(), 5);
        assert_eq!(c.budget_success_refund(), 1);
        assert!(c.retries_enabled());
    }

    #[test]
    fn presets_differ_from_defaults_where_documented() {
        let contended = RetryConfig::contended();
        assert_eq!(contended.max_conflict_attempts(), 32);
        assert_eq!(contended.conflict_delay(), Duration::from_millis(5));
        assert_eq!(contended.conflict_rtt_scale(), None);
        let sync = RetryConfig::background_sync();
        assert_eq!(sync.max_attempts(), 10);
        assert_eq!(sync.max_retry_after(), Duration::from_secs(300));
        assert_eq!(sync.total_deadline(), Some(Duration::from_secs(900)));
        assert!(!RetryConfig::disabled().retries_enabled());
    }
}
