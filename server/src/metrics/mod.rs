//! `GET /metrics`: the server's metrics in the OpenMetrics text format, built with the
//! `prometheus-client` crate (`docs/server.md`, "Metrics"; `docs/monitoring.md` says what to
//! alert on).
//!
//! One [`Metrics`] handle (cheap to clone) lives in the router state. Everything is recorded
//! through its methods:
//!
//! - HTTP requests and refusals by the [`track`] middleware, which wraps every route from the
//!   outside (the rate limit included, so throttled requests count). Routes are labelled by
//!   their template (`/items/{id}`), never the raw path, so the label set stays bounded.
//! - Locks by the lock table, which calls the handle as its [`LockObserver`] on every grant
//!   and every end of a hold; transactions by the transaction registry ([`TxnObserver`]).
//! - Batches by the batch handler; conflicts and subscribers dropped for falling behind by the
//!   conflict log ([`ConflictObserver`]).
//! - The gauges of things owned elsewhere (the conflict log's size, open SSE streams, the
//!   history's size) are read at each scrape (`scrape.rs`).

mod http;
mod scrape;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

pub(crate) use http::track;
pub(crate) use scrape::{method_not_allowed, scrape};

use crate::conflicts::ConflictObserver;
use crate::lock::{HoldEnd, LockObserver};
use crate::txn::{Outcome, TxnObserver};

/// The `kind` of a recorded conflict (the problem type's last segment).
pub(crate) const CONFLICT_KINDS: [&str; 4] = [
    "precondition-failed",
    "version-conflict",
    "locked",
    "transaction-conflict",
];

/// The statuses `ifmatch_refusals_total` counts.
pub(crate) const REFUSAL_STATUSES: [u16; 5] = [409, 412, 423, 428, 429];

const TRANSACTION_OUTCOMES: [&str; 4] = ["committed", "conflict", "rolled_back", "expired"];
const BATCH_OUTCOMES: [&str; 2] = ["committed", "refused"];

/// Seconds to answer a request: 1 ms to 10 s.
const HTTP_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
/// Seconds a lock request waited: 1 ms up to the default longest wait (300 s).
const LOCK_WAIT_BUCKETS: [f64; 12] = [
    0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 300.0,
];
/// Seconds a lock was held: 10 ms up to a day (the longest TTL).
const LOCK_HOLD_BUCKETS: [f64; 12] = [
    0.01, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 86400.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndLabel {
    end: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

type HistogramFamily<S> = Family<S, Histogram, fn() -> Histogram>;

/// The server's metrics: a handle shared by the router state, the lock table and the
/// transaction registry. Cloning it is cheap; every clone records into the same registry.
#[derive(Clone, Debug)]
pub(crate) struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: HistogramFamily<RouteLabels>,
    conflicts: Family<KindLabel, Counter>,
    refusals: Family<StatusLabel, Counter>,
    lock_wait: Histogram,
    lock_hold: HistogramFamily<EndLabel>,
    locks_held: Gauge,
    lock_waiters: Gauge,
    transactions: Family<OutcomeLabel, Counter>,
    batches: Family<OutcomeLabel, Counter>,
    sse_subscribers: Gauge,
    sse_dropped: Counter,
    history_versions: Gauge,
    conflict_log_records: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered under the prefix `ifmatch_`, and every series
    /// with a fixed label set (refusal statuses, conflict kinds, outcomes, hold ends) present
    /// from the start at zero, so that `rate()` and alerts see them before their first event.
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("ifmatch");
        let http_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Answered HTTP requests, by route template, method and status",
            http_requests.clone(),
        );
        let http_duration: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(|| Histogram::new(HTTP_BUCKETS));
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request (until the response head), by route template and method",
            Unit::Seconds,
            http_duration.clone(),
        );
        let conflicts = Family::<KindLabel, Counter>::default();
        registry.register(
            "conflicts",
            "Conflicts recorded in the conflict log, by kind",
            conflicts.clone(),
        );
        let refusals = Family::<StatusLabel, Counter>::default();
        registry.register(
            "refusals",
            "Answers 409, 412, 423, 428 and 429 on any route, by status",
            refusals.clone(),
        );
        let lock_wait = Histogram::new(LOCK_WAIT_BUCKETS);
        registry.register_with_unit(
            "lock_wait",
            "Time granted lock requests waited in the queue (0 when the lock was free)",
            Unit::Seconds,
            lock_wait.clone(),
        );
        let lock_hold: HistogramFamily<EndLabel> =
            Family::new_with_constructor(|| Histogram::new(LOCK_HOLD_BUCKETS));
        registry.register_with_unit(
            "lock_hold",
            "Time locks were held, by how the hold ended (expired: abandoned by its holder)",
            Unit::Seconds,
            lock_hold.clone(),
        );
        let locks_held = Gauge::default();
        registry.register("locks_held", "Locks held now", locks_held.clone());
        let lock_waiters = Gauge::default();
        registry.register(
            "lock_waiters",
            "Lock requests waiting in a queue now",
            lock_waiters.clone(),
        );
        let transactions = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "transactions",
            "Ended transactions, by outcome",
            transactions.clone(),
        );
        let batches = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "batches",
            "Batches applied (committed) or refused as a whole",
            batches.clone(),
        );
        let sse_subscribers = Gauge::default();
        registry.register(
            "sse_subscribers",
            "Open conflict streams (GET /conflicts/stream)",
            sse_subscribers.clone(),
        );
        let sse_dropped = Counter::default();
        registry.register(
            "sse_subscribers_dropped",
            "Conflict streams disconnected because the subscriber fell behind (its queue was full)",
            sse_dropped.clone(),
        );
        let history_versions = Gauge::default();
        registry.register(
            "history_versions",
            "Versions kept in history, all documents",
            history_versions.clone(),
        );
        let conflict_log_records = Gauge::default();
        registry.register(
            "conflict_log_records",
            "Conflicts kept in the log",
            conflict_log_records.clone(),
        );
        let inner = Inner {
            registry,
            http_requests,
            http_duration,
            conflicts,
            refusals,
            lock_wait,
            lock_hold,
            locks_held,
            lock_waiters,
            transactions,
            batches,
            sse_subscribers,
            sse_dropped,
            history_versions,
            conflict_log_records,
        };
        inner.touch_fixed_series();
        Self {
            inner: Arc::new(inner),
        }
    }

    /// A request on `route` (a template, or `unmatched`) was answered with `status` after
    /// `elapsed`.
    pub(crate) fn request_answered(
        &self,
        route: &str,
        method: &'static str,
        status: u16,
        elapsed: Duration,
    ) {
        let inner = &self.inner;
        inner
            .http_requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method,
                status,
            })
            .inc();
        inner
            .http_duration
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                method,
            })
            .observe(elapsed.as_secs_f64());
        if REFUSAL_STATUSES.contains(&status) {
            inner.refusals.get_or_create(&StatusLabel { status }).inc();
        }
    }

    /// A conflict of `kind` (`precondition-failed`, `version-conflict`, `locked`,
    /// `transaction-conflict`) was recorded in the conflict log. Any other kind counts as
    /// `other`, so a new kind cannot grow the label set unnoticed.
    pub(crate) fn conflict_recorded(&self, kind: &str) {
        let kind = CONFLICT_KINDS
            .iter()
            .find(|known| **known == kind)
            .copied()
            .unwrap_or("other");
        self.inner
            .conflicts
            .get_or_create(&KindLabel { kind })
            .inc();
    }

    /// `held` locks are held now (with PostgreSQL storage, on every replica together; in the
    /// process, the lock table counts them itself as its observer).
    pub(crate) fn set_locks_held(&self, held: u64) {
        self.inner
            .locks_held
            .set(i64::try_from(held).unwrap_or(i64::MAX));
    }

    /// A lock kept in PostgreSQL was granted through this replica after `waited` in its queue
    /// (`locks_held` is read from the database at each scrape instead).
    pub(crate) fn shared_lock_granted(&self, waited: Duration) {
        self.inner.lock_wait.observe(waited.as_secs_f64());
    }

    /// `waiting` lock requests wait in a queue now.
    pub(crate) fn set_lock_waiters(&self, waiting: u64) {
        self.inner
            .lock_waiters
            .set(i64::try_from(waiting).unwrap_or(i64::MAX));
    }

    /// The conflict log keeps `records` conflicts now.
    pub(crate) fn set_conflict_log_records(&self, records: usize) {
        self.inner.conflict_log_records.set(gauge_value(records));
    }

    /// `subscribers` conflict streams are open now.
    pub(crate) fn set_sse_subscribers(&self, subscribers: usize) {
        self.inner.sse_subscribers.set(gauge_value(subscribers));
    }

    /// A subscriber fell too far behind and was disconnected.
    pub(crate) fn sse_subscriber_dropped(&self) {
        self.inner.sse_dropped.inc();
    }

    /// The history keeps `versions` versions now, all documents together.
    pub(crate) fn set_history_versions(&self, versions: u64) {
        self.inner
            .history_versions
            .set(i64::try_from(versions).unwrap_or(i64::MAX));
    }

    /// A batch was applied.
    pub(crate) fn batch_committed(&self) {
        self.batch("committed");
    }

    /// A batch was refused as a whole (an operation's 412/409/423/404, or 428).
    pub(crate) fn batch_refused(&self) {
        self.batch("refused");
    }

    fn batch(&self, outcome: &'static str) {
        self.inner
            .batches
            .get_or_create(&OutcomeLabel { outcome })
            .inc();
    }

    /// The text of a scrape: every metric, then `# EOF`.
    pub(crate) fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a `String` cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.inner.registry);
        text
    }

    /// This handle as the lock table's observer.
    pub(crate) fn lock_observer(&self) -> Arc<dyn LockObserver> {
        Arc::new(self.clone())
    }

    /// This handle as the conflict log's observer.
    pub(crate) fn conflict_observer(&self) -> Arc<dyn ConflictObserver> {
        Arc::new(self.clone())
    }

    /// This handle as the transaction registry's observer.
    pub(crate) fn txn_observer(&self) -> Arc<dyn TxnObserver> {
        Arc::new(self.clone())
    }
}

impl Inner {
    fn touch_fixed_series(&self) {
        for kind in CONFLICT_KINDS {
            drop(self.conflicts.get_or_create(&KindLabel { kind }));
        }
        for status in REFUSAL_STATUSES {
            drop(self.refusals.get_or_create(&StatusLabel { status }));
        }
        for end in HoldEnd::ALL {
            drop(self.lock_hold.get_or_create(&EndLabel { end: end.name() }));
        }
        for outcome in TRANSACTION_OUTCOMES {
            drop(self.transactions.get_or_create(&OutcomeLabel { outcome }));
        }
        for outcome in BATCH_OUTCOMES {
            drop(self.batches.get_or_create(&OutcomeLabel { outcome }));
        }
    }
}

fn gauge_value(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl LockObserver for Metrics {
    fn granted(&self, waited: Duration) {
        self.inner.lock_wait.observe(waited.as_secs_f64());
        self.inner.locks_held.inc();
    }

    fn ended(&self, held: Duration, end: HoldEnd) {
        self.inner
            .lock_hold
            .get_or_create(&EndLabel { end: end.name() })
            .observe(held.as_secs_f64());
        self.inner.locks_held.dec();
    }
}

impl TxnObserver for Metrics {
    fn ended(&self, outcome: &Outcome) {
        self.inner
            .transactions
            .get_or_create(&OutcomeLabel {
                outcome: outcome.metric_name(),
            })
            .inc();
    }
}

impl ConflictObserver for Metrics {
    fn recorded(&self, kind: &str) {
        self.conflict_recorded(kind);
    }

    fn subscriber_dropped(&self) {
        self.sse_subscriber_dropped();
    }
}
