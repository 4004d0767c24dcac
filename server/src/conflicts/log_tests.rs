use super::*;
use crate::conflicts::record::{Choice, Draft};
use crate::idempotency::Client;

fn draft(resource: &str) -> Draft {
    Draft {
        kind: "precondition-failed".into(),
        status: 412,
        method: "PUT".into(),
        doc_id: resource.strip_prefix("/items/").map(str::to_owned),
        resource: resource.into(),
        client: None,
        based_on: None,
        current: None,
        rejected: None,
        origin: None,
    }
}

fn resolution() -> Resolution {
    Resolution {
        choice: Choice::Theirs,
        by: None,
        at_ms: 1,
        etag: None,
        version: None,
    }
}

fn seqs(events: &[Arc<Event>]) -> Vec<(Option<u64>, Kind)> {
    events.iter().map(|e| (e.seq, e.kind)).collect()
}

fn drain(live: &mut mpsc::Receiver<Arc<Event>>) -> Vec<Arc<Event>> {
    let mut events = Vec::new();
    while let Ok(event) = live.try_recv() {
        events.push(event);
    }
    events
}

#[test]
fn records_are_numbered_bounded_and_paged() {
    let log = Log::new(3, 8);
    for n in 0..5 {
        log.record(draft(&format!("/items/{n}")), 0);
    }
    assert_eq!(log.get(1), None);
    assert_eq!(log.get(3).map(|r| r.id), Some("c-3".to_owned()));
    let all = Filter::default();
    let (page, next) = log.list(&all, 0, 2);
    assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), [3, 4]);
    assert_eq!(next, Some(4));
    let (page, next) = log.list(&all, 4, 2);
    assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), [5]);
    assert_eq!(next, None);
    let only = Filter {
        resources: vec!["/items/3".into()],
        ..Filter::default()
    };
    assert_eq!(log.list(&only, 0, 10).0.len(), 1);
}

#[test]
fn a_repeated_origin_names_the_same_record() {
    let log = Log::new(10, 8);
    let first = log.record(
        Draft {
            origin: Some("/transactions/tx-1/commit".into()),
            ..draft("/items/a")
        },
        0,
    );
    let again = log.record(
        Draft {
            origin: Some("/transactions/tx-1/commit".into()),
            ..draft("/items/a")
        },
        0,
    );
    assert_eq!(first.seq, again.seq);
    assert_eq!(log.list(&Filter::default(), 0, 10).0.len(), 1);
}

#[test]
fn replay_then_live_misses_and_repeats_nothing() {
    let log = Arc::new(Log::new(10, 8));
    let a = log.record(draft("/items/a"), 0);
    log.record(draft("/items/b"), 0);
    log.resolve(&a, resolution()).unwrap();
    let mut sub = log
        .subscribe(Filter::default(), Some(1), &Admission::anyone(10))
        .unwrap();
    assert_eq!(
        seqs(&sub.replay),
        [(Some(2), Kind::Conflict), (Some(3), Kind::Resolved)]
    );
    log.record(draft("/items/c"), 0);
    assert_eq!(seqs(&drain(&mut sub.live)), [(Some(4), Kind::Conflict)]);
    // From the start: the conflict event of a since-resolved record shows it open.
    let from_start = log
        .subscribe(Filter::default(), Some(0), &Admission::anyone(10))
        .unwrap();
    assert!(from_start.replay[0].data.contains("\"state\":\"open\""));
    assert_eq!(from_start.replay.len(), 4);
    // No Last-Event-ID: live only.
    assert!(log
        .subscribe(Filter::default(), None, &Admission::anyone(10))
        .unwrap()
        .replay
        .is_empty());
}

#[test]
fn forgotten_events_start_the_replay_with_a_gap() {
    let log = Arc::new(Log::new(2, 8));
    for n in 0..4 {
        log.record(draft(&format!("/items/{n}")), 0);
    }
    let sub = log
        .subscribe(Filter::default(), Some(1), &Admission::anyone(10))
        .unwrap();
    assert_eq!(
        seqs(&sub.replay),
        [
            (None, Kind::Gap),
            (Some(3), Kind::Conflict),
            (Some(4), Kind::Conflict)
        ]
    );
    assert_eq!(sub.replay[0].data, r#"{"after":1,"oldest":3}"#);
    let caught_up = log
        .subscribe(Filter::default(), Some(2), &Admission::anyone(10))
        .unwrap();
    assert_eq!(caught_up.replay.len(), 2);
    // An id from an earlier run of the server (beyond the last event): a gap, then everything.
    let restarted = log
        .subscribe(Filter::default(), Some(99), &Admission::anyone(10))
        .unwrap();
    assert_eq!(restarted.replay.len(), 3);
    assert_eq!(restarted.replay[0].kind, Kind::Gap);
}

#[test]
fn a_subscriber_that_falls_behind_is_disconnected_after_its_queue() {
    let log = Arc::new(Log::new(100, 2));
    let mut slow = log
        .subscribe(Filter::default(), None, &Admission::anyone(10))
        .unwrap();
    for n in 0..3 {
        log.record(draft(&format!("/items/{n}")), 0);
    }
    assert_eq!(log.subscribers(), 0);
    assert_eq!(seqs(&drain(&mut slow.live)).len(), 2);
    assert!(slow.live.is_closed());
}

#[test]
fn subscribers_are_limited_and_leave_on_drop() {
    let log = Arc::new(Log::new(10, 8));
    let first = log
        .subscribe(Filter::default(), None, &Admission::anyone(1))
        .unwrap();
    assert!(log
        .subscribe(Filter::default(), None, &Admission::anyone(1))
        .is_err());
    drop(first);
    assert!(log
        .subscribe(Filter::default(), None, &Admission::anyone(1))
        .is_ok());
}

#[test]
fn each_client_has_its_own_cap_within_the_total() {
    let log = Arc::new(Log::new(10, 8));
    let as_client = |client: Client| Admission {
        client,
        max_total: 5,
        max_per_client: 2,
    };
    let (x, y) = (
        as_client(Client::Named("x".into())),
        as_client(Client::Address("127.0.0.2".parse().unwrap())),
    );
    let subscribe = |admission: &Admission| log.subscribe(Filter::default(), None, admission);
    let x1 = subscribe(&x).unwrap();
    let _x2 = subscribe(&x).unwrap();
    assert_eq!(subscribe(&x).err(), Some(Refused::Client));
    // x at its cap takes nothing from y.
    let _y1 = subscribe(&y).unwrap();
    let _y2 = subscribe(&y).unwrap();
    assert_eq!(subscribe(&y).err(), Some(Refused::Client));
    // Leaving frees the client's slot.
    drop(x1);
    let _x3 = subscribe(&x).unwrap();
    // Clients that cannot be told apart are held to the total only: one slot is left.
    let unknown = as_client(Client::Unknown);
    let _u1 = subscribe(&unknown).unwrap();
    assert_eq!(subscribe(&unknown).err(), Some(Refused::Total));
    // At the total, a client under its own cap gets the total's refusal; one at its cap, its own.
    let z = as_client(Client::Named("z".into()));
    assert_eq!(subscribe(&z).err(), Some(Refused::Total));
    assert_eq!(subscribe(&x).err(), Some(Refused::Client));
}

#[test]
fn filters_choose_the_events_and_resolving_twice_fails() {
    let log = Arc::new(Log::new(10, 8));
    let filter = Filter {
        prefixes: vec!["/items/a".into()],
        state: Some(State::Resolved),
        ..Filter::default()
    };
    let mut sub = log.subscribe(filter, None, &Admission::anyone(10)).unwrap();
    let a = log.record(draft("/items/a1"), 0);
    let b = log.record(draft("/items/b"), 0);
    log.resolve(&b, resolution()).unwrap();
    let resolved = log.resolve(&a, resolution()).unwrap();
    assert_eq!(resolved.resolved_seq, Some(4));
    assert!(matches!(
        log.resolve(&a, resolution()),
        Err(NotResolved::Already(_))
    ));
    assert_eq!(seqs(&drain(&mut sub.live)), [(Some(4), Kind::Resolved)]);
}

#[test]
fn closing_ends_every_stream_and_lets_none_in() {
    let log = Arc::new(Log::new(10, 8));
    let mut open = log
        .subscribe(Filter::default(), None, &Admission::anyone(10))
        .unwrap();
    log.record(draft("/items/a"), 0);
    log.close();
    assert_eq!(drain(&mut open.live).len(), 1);
    assert!(open.live.is_closed());
    let mut late = log
        .subscribe(Filter::default(), Some(0), &Admission::anyone(10))
        .unwrap();
    assert_eq!(late.replay.len(), 1);
    assert!(late.live.try_recv().is_err() && late.live.is_closed());
}
