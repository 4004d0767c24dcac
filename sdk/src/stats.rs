//! Client-wide counters.

use std::{
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::Duration,
};

/// A snapshot of the client's counters since it was built.
///
/// ```
/// let client = ifmatch::Client::builder().build()?;
/// assert_eq!(client.stats(), ifmatch::Stats::default());
/// # Ok::<(), ifmatch::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// HTTP requests sent (every attempt counts).
    pub requests: u64,
    /// Conditional GETs answered 304 and served from the cache.
    pub not_modified_hits: u64,
    /// Writes refused with a version-conflict 409.
    pub conflicts_409: u64,
    /// Writes refused with 412 Precondition Failed.
    pub conflicts_412: u64,
    /// Requests sent again (throttle retries plus conflict re-writes).
    pub retries: u64,
    /// Successful three-way merges.
    pub merges: u64,
    /// Throttled responses (429/503, and 502/504 to reads) the client waited after.
    pub throttle_waits: u64,
    /// Total time spent waiting after throttled responses.
    pub throttle_wait_total: Duration,
    /// Requests the adaptive limiter held back before sending (see
    /// `ClientBuilder::adaptive_pacing`).
    pub paced_requests: u64,
    /// Total time requests were held back by the adaptive limiter.
    pub pacing_wait_total: Duration,
    /// Retries refused by the per-host retry budget.
    pub budget_exhausted: u64,
    /// Rate-limit or ETag headers that were present but malformed (and so ignored).
    pub malformed_headers: u64,
    /// Transactions committed.
    pub transactions_committed: u64,
    /// Transaction commits refused because a document read had changed (409
    /// `transaction-conflict`); `client.transaction(...)` runs the closure again after one.
    pub transaction_conflicts: u64,
    /// Conflict subscriptions' connections answered with a stream (the first and every
    /// reconnection).
    pub conflict_stream_connects: u64,
    /// Of those, the reconnections (after an error, the server closing, or a stall).
    pub conflict_stream_reconnects: u64,
    /// Answers that carried `Deprecation` (RFC 9745) or `Sunset` (RFC 8594); each distinct
    /// notice is in `Client::deprecations` and was reported once as `Event::Deprecated`.
    pub deprecated_responses: u64,
    /// Requests sent again after their answer was lost (a transport error or an attempt
    /// timeout): reads (GET, HEAD, OPTIONS), and keyed writes, with the same
    /// `Idempotency-Key`, to a server declared to honour keys
    /// (`ClientBuilder::server_honours_idempotency_keys`).
    pub lost_answer_resends: u64,
    /// Answers marked `Idempotent-Replayed: true`: the server sent the outcome of an earlier
    /// attempt of the same write instead of applying it again.
    pub replayed_answers: u64,
    /// The earliest `Sunset` any answer announced: when something this client uses stops
    /// working. (The notices themselves are in `Client::deprecations`, since `Stats` is `Copy`.)
    pub earliest_sunset: Option<std::time::SystemTime>,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub not_modified_hits: AtomicU64,
    pub conflicts_409: AtomicU64,
    pub conflicts_412: AtomicU64,
    pub retries: AtomicU64,
    pub merges: AtomicU64,
    pub throttle_waits: AtomicU64,
    pub throttle_wait_micros: AtomicU64,
    pub paced_requests: AtomicU64,
    pub pacing_wait_micros: AtomicU64,
    pub budget_exhausted: AtomicU64,
    pub malformed_headers: AtomicU64,
    pub transactions_committed: AtomicU64,
    pub transaction_conflicts: AtomicU64,
    pub conflict_stream_connects: AtomicU64,
    pub conflict_stream_reconnects: AtomicU64,
    pub lost_answer_resends: AtomicU64,
    pub replayed_answers: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn add_wait(&self, wait: Duration) {
        Self::bump(&self.throttle_waits);
        let micros = u64::try_from(wait.as_micros()).unwrap_or(u64::MAX);
        self.throttle_wait_micros.fetch_add(micros, Relaxed);
    }

    pub(crate) fn add_pacing_wait(&self, wait: Duration) {
        Self::bump(&self.paced_requests);
        let micros = u64::try_from(wait.as_micros()).unwrap_or(u64::MAX);
        self.pacing_wait_micros.fetch_add(micros, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            requests: self.requests.load(Relaxed),
            not_modified_hits: self.not_modified_hits.load(Relaxed),
            conflicts_409: self.conflicts_409.load(Relaxed),
            conflicts_412: self.conflicts_412.load(Relaxed),
            retries: self.retries.load(Relaxed),
            merges: self.merges.load(Relaxed),
            throttle_waits: self.throttle_waits.load(Relaxed),
            throttle_wait_total: Duration::from_micros(self.throttle_wait_micros.load(Relaxed)),
            paced_requests: self.paced_requests.load(Relaxed),
            pacing_wait_total: Duration::from_micros(self.pacing_wait_micros.load(Relaxed)),
            budget_exhausted: self.budget_exhausted.load(Relaxed),
            malformed_headers: self.malformed_headers.load(Relaxed),
            transactions_committed: self.transactions_committed.load(Relaxed),
            transaction_conflicts: self.transaction_conflicts.load(Relaxed),
            conflict_stream_connects: self.conflict_stream_connects.load(Relaxed),
            conflict_stream_reconnects: self.conflict_stream_reconnects.load(Relaxed),
            lost_answer_resends: self.lost_answer_resends.load(Relaxed),
            replayed_answers: self.replayed_answers.load(Relaxed),
            // Filled in by the client, which keeps the notices.
            deprecated_responses: 0,
            earliest_sunset: None,
        }
    }
}
