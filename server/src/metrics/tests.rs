//! The lock table's observer hooks (with a clock moved by hand), the label mappings, and the
//! encoded text.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::Method;

use super::http::method_label;
use super::Metrics;
use crate::lock::{Acquired, HoldEnd, LockObserver, LockRequest, LockTable, Now};

#[derive(Debug, Default)]
struct Recorded {
    events: Mutex<Vec<Event>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Granted(Duration),
    Ended(Duration, HoldEnd),
}

impl LockObserver for Recorded {
    fn granted(&self, waited: Duration) {
        self.events.lock().unwrap().push(Event::Granted(waited));
    }

    fn ended(&self, held: Duration, end: HoldEnd) {
        self.events.lock().unwrap().push(Event::Ended(held, end));
    }
}

impl Recorded {
    fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

const TTL: Duration = Duration::from_secs(10);

fn at(start: Instant, millis: u64) -> Now {
    Now {
        instant: start + Duration::from_millis(millis),
        unix_ms: 1_000_000 + millis,
    }
}

fn request() -> LockRequest {
    LockRequest {
        owner: None,
        ttl: TTL,
    }
}

fn observed() -> (LockTable, Arc<Recorded>) {
    let recorded = Arc::new(Recorded::default());
    let mut table = LockTable::new("e".to_owned());
    table.observe(Arc::clone(&recorded) as Arc<dyn LockObserver>);
    (table, recorded)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn grants_and_releases_report_wait_and_hold_times() {
    let (mut table, recorded) = observed();
    let start = Instant::now();
    let Acquired::Granted(first) = table.acquire("a", request(), None, at(start, 0)) else {
        panic!("free lock")
    };
    let Acquired::Queued(_waiter) = table.acquire("a", request(), Some(8), at(start, 100)) else {
        panic!("queued")
    };
    // Released at 400 ms: held 400 ms; the waiter, queued at 100 ms, waited 300 ms.
    table.release("a", &first.token, at(start, 400)).unwrap();
    assert_eq!(
        recorded.take(),
        [
            Event::Granted(Duration::ZERO),
            Event::Ended(ms(400), HoldEnd::Released),
            Event::Granted(ms(300)),
        ]
    );
    // Broken at 1 s: the waiter held it 600 ms.
    assert!(table.break_lock("a", at(start, 1_000)));
    assert_eq!(recorded.take(), [Event::Ended(ms(600), HoldEnd::Broken)]);
    assert!(
        !table.break_lock("a", at(start, 1_100)),
        "nothing left to break"
    );
    assert_eq!(recorded.take(), []);
}

#[test]
fn an_expired_hold_lasts_its_ttl_however_late_it_is_noticed() {
    let (mut table, recorded) = observed();
    let start = Instant::now();
    assert!(matches!(
        table.acquire("a", request(), None, at(start, 0)),
        Acquired::Granted(_)
    ));
    recorded.take();
    table.sweep(at(start, 60_000));
    assert_eq!(recorded.take(), [Event::Ended(TTL, HoldEnd::Expired)]);
    assert_eq!(table.tracked(), 0);
}

#[test]
fn deleting_a_locked_document_ends_the_hold_and_a_free_one_reports_nothing() {
    let (mut table, recorded) = observed();
    let start = Instant::now();
    assert!(matches!(
        table.acquire("a", request(), None, at(start, 0)),
        Acquired::Granted(_)
    ));
    recorded.take();
    table.destroy("a");
    let events = recorded.take();
    assert!(
        matches!(events.as_slice(), [Event::Ended(_, HoldEnd::Deleted)]),
        "{events:?}"
    );
    table.destroy("never-locked");
    assert_eq!(recorded.take(), []);
}

#[test]
fn the_metrics_handle_counts_locks_held_up_and_down() {
    let metrics = Metrics::new();
    let observer = metrics.lock_observer();
    observer.granted(Duration::ZERO);
    observer.granted(ms(1_500));
    observer.ended(ms(2_000), HoldEnd::Expired);
    let text = metrics.encode();
    assert!(text.contains("\nifmatch_locks_held 1\n"), "{text}");
    assert!(
        text.contains("\nifmatch_lock_wait_seconds_count 2\n"),
        "{text}"
    );
    assert!(
        text.contains("\nifmatch_lock_wait_seconds_sum 1.5\n"),
        "{text}"
    );
    assert!(
        text.contains("\nifmatch_lock_hold_seconds_count{end=\"expired\"} 1\n"),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"));
}

#[test]
fn unknown_conflict_kinds_and_methods_keep_the_label_sets_bounded() {
    let metrics = Metrics::new();
    metrics.conflict_recorded("locked");
    metrics.conflict_recorded("something-new");
    let text = metrics.encode();
    assert!(
        text.contains("ifmatch_conflicts_total{kind=\"locked\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("ifmatch_conflicts_total{kind=\"other\"} 1\n"),
        "{text}"
    );
    assert_eq!(method_label(&Method::PATCH), "PATCH");
    assert_eq!(
        method_label(&Method::from_bytes(b"PROPFIND").unwrap()),
        "other"
    );
}

#[test]
fn gauges_fed_by_other_parts_of_the_server_are_set_as_told() {
    let metrics = Metrics::new();
    metrics.set_history_versions(42);
    metrics.set_conflict_log_records(7);
    metrics.set_sse_subscribers(1);
    metrics.sse_subscriber_dropped();
    let text = metrics.encode();
    for line in [
        "ifmatch_history_versions 42",
        "ifmatch_conflict_log_records 7",
        "ifmatch_sse_subscribers 1",
        "ifmatch_sse_subscribers_dropped_total 1",
    ] {
        assert!(text.contains(&format!("\n{line}\n")), "{line} in {text}");
    }
}
