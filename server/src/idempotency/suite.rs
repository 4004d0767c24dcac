//! The cases every [`IdempotencyStore`] passes: the memory store's tests (`store.rs`) and
//! PostgreSQL's (`postgres.rs`) instantiate them all with [`idempotency_suite!`], so the shared
//! records keep exactly the memory store's expiry, count and byte caps.
//!
//! Clocks are the callers' `now_ms`, so expiry is tested without waiting.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode};

use super::key::{Client, Fingerprint, Scope};
use super::store::{Begin, IdempotencyStore, StoredResponse, Ticket};

/// A store under test, and what it holds now: `(records, bytes of their answers)`.
pub(crate) trait Probe: IdempotencyStore {
    fn usage(&self) -> (usize, usize);
}

/// Instantiates every case for `$make(max_keys, max_bytes) -> Option<store>` (`None`: skip,
/// the backend is not installed). The TTL the store is made with must be 60 s.
#[macro_export]
#[doc(hidden)]
macro_rules! idempotency_suite {
    ($make:path) => {
        $crate::idempotency_suite!(@cases $make;
            fresh_in_flight_replayed_mismatched,
            abandoned_keys_are_fresh_again,
            records_expire_after_the_ttl,
            the_oldest_record_is_evicted_when_the_count_is_reached,
            the_byte_budget_evicts_the_oldest_and_never_keeps_an_oversized_answer,
            a_late_completion_does_not_overwrite_a_newer_record
        );
    };
    (@cases $make:path; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                let cap = $crate::idempotency::suite::caps(stringify!($case));
                if let Some(store) = $make(cap.0, cap.1) {
                    $crate::idempotency::suite::$case(&store);
                }
            }
        )*
    };
}

/// The `(max_keys, max_bytes)` each case makes its store with.
pub(crate) fn caps(case: &str) -> (usize, usize) {
    match case {
        "the_oldest_record_is_evicted_when_the_count_is_reached" => (2, 1 << 20),
        "the_byte_budget_evicts_the_oldest_and_never_keeps_an_oversized_answer" => (100, 300),
        "a_late_completion_does_not_overwrite_a_newer_record" => (1, 1 << 20),
        _ => (10, 1 << 20),
    }
}

const FP: Fingerprint = Fingerprint(1, 2);

fn scope(key: &str) -> Scope {
    Scope {
        client: Client::Named("alice".into()),
        key: key.into(),
    }
}

fn answer(body: &str) -> StoredResponse {
    StoredResponse {
        status: StatusCode::CREATED,
        headers: vec![(axum::http::header::ETAG, HeaderValue::from_static("\"1\""))],
        body: Bytes::from(body.to_owned()),
    }
}

fn fresh(begin: Begin) -> Ticket {
    match begin {
        Begin::Fresh(ticket) => ticket,
        other => panic!("expected a fresh key, got {other:?}"),
    }
}

pub(crate) fn fresh_in_flight_replayed_mismatched(s: &dyn Probe) {
    let t = fresh(s.begin(&scope("k"), FP, 0));
    assert_eq!(s.begin(&scope("k"), FP, 1), Begin::InFlight);
    s.complete(&scope("k"), t, answer("{}"), 2);
    assert_eq!(
        s.begin(&scope("k"), FP, 3),
        Begin::Replay(Arc::new(answer("{}")))
    );
    assert_eq!(s.begin(&scope("k"), Fingerprint(9, 9), 4), Begin::Mismatch);
    // Another client's key of the same name is its own.
    let bob = Scope {
        client: Client::Named("bob".into()),
        key: "k".into(),
    };
    fresh(s.begin(&bob, FP, 5));
}

pub(crate) fn abandoned_keys_are_fresh_again(s: &dyn Probe) {
    let t = fresh(s.begin(&scope("k"), FP, 0));
    s.abandon(&scope("k"), t);
    fresh(s.begin(&scope("k"), Fingerprint(7, 7), 1));
    assert_eq!(s.usage().0, 1);
}

pub(crate) fn records_expire_after_the_ttl(s: &dyn Probe) {
    let t = fresh(s.begin(&scope("k"), FP, 0));
    s.complete(&scope("k"), t, answer("{}"), 0);
    assert!(matches!(s.begin(&scope("k"), FP, 59_999), Begin::Replay(_)));
    fresh(s.begin(&scope("k"), FP, 60_000));
}

pub(crate) fn the_oldest_record_is_evicted_when_the_count_is_reached(s: &dyn Probe) {
    for (n, key) in ["a", "b", "c"].into_iter().enumerate() {
        let t = fresh(s.begin(&scope(key), FP, n as u64));
        s.complete(&scope(key), t, answer(key), n as u64);
    }
    assert_eq!(s.usage().0, 2);
    fresh(s.begin(&scope("a"), FP, 10)); // forgotten: processed again
    assert!(matches!(s.begin(&scope("c"), FP, 10), Begin::Replay(_)));
}

pub(crate) fn the_byte_budget_evicts_the_oldest_and_never_keeps_an_oversized_answer(s: &dyn Probe) {
    let ta = fresh(s.begin(&scope("a"), FP, 0));
    s.complete(&scope("a"), ta, answer(&"x".repeat(150)), 0);
    let tb = fresh(s.begin(&scope("b"), FP, 1));
    s.complete(&scope("b"), tb, answer(&"y".repeat(150)), 1);
    let (count, bytes) = s.usage();
    assert!(bytes <= 300, "{bytes}");
    assert_eq!(count, 1, "a was evicted for b");
    assert!(matches!(s.begin(&scope("b"), FP, 2), Begin::Replay(_)));
    let tc = fresh(s.begin(&scope("c"), FP, 3));
    s.complete(&scope("c"), tc, answer(&"z".repeat(400)), 3);
    fresh(s.begin(&scope("c"), FP, 4));
}

pub(crate) fn a_late_completion_does_not_overwrite_a_newer_record(s: &dyn Probe) {
    let old = fresh(s.begin(&scope("k"), FP, 0));
    let _other = fresh(s.begin(&scope("x"), FP, 1)); // evicts k
    let new = fresh(s.begin(&scope("k"), Fingerprint(3, 3), 2)); // evicts x
    s.complete(&scope("k"), old, answer("old"), 3);
    assert_eq!(s.begin(&scope("k"), Fingerprint(3, 3), 4), Begin::InFlight);
    s.complete(&scope("k"), new, answer("new"), 5);
    assert_eq!(
        s.begin(&scope("k"), Fingerprint(3, 3), 6),
        Begin::Replay(Arc::new(answer("new")))
    );
}
