//! The in-process transaction table: limits, expiry, remembering ended transactions.

use super::*;

fn manager(max_open: usize) -> TxnManager {
    TxnManager::new(TxnLimits {
        max_open,
        max_ttl: Duration::from_secs(60),
        max_docs: 10,
        max_per_client: 64,
    })
}

/// Begins for one client, as the tests before the per-client cap did.
fn begin(manager: &TxnManager, ttl: Duration, now: Now) -> Option<(TxId, Duration, u64)> {
    match manager.begin_local(ttl, "client", now) {
        Begun::Open(id, ttl, expires_at_ms) => Some((id, ttl, expires_at_ms)),
        Begun::Full | Begun::ClientFull => None,
    }
}

fn at(instant: Instant) -> Now {
    Now {
        instant,
        unix_ms: 5_000,
    }
}

#[test]
fn ttls_default_to_30_s_and_are_capped() {
    let limits = manager(1).limits();
    assert_eq!(limits.ttl(None), Duration::from_secs(30));
    assert_eq!(limits.ttl(Some(100)), Duration::from_millis(100));
    assert_eq!(limits.ttl(Some(600_000)), Duration::from_secs(60));
}

#[test]
fn a_full_table_refuses_until_a_transaction_expires() {
    let manager = manager(2);
    let start = Instant::now();
    let short = Duration::from_millis(10);
    let (first, _, _) = begin(&manager, short, at(start)).unwrap();
    begin(&manager, Duration::from_secs(10), at(start)).unwrap();
    assert!(begin(&manager, short, at(start)).is_none());
    let later = start + Duration::from_millis(20);
    assert!(
        begin(&manager, short, at(later)).is_some(),
        "the expired one made room"
    );
    assert_eq!(manager.open_count(), 2);
    let Found::Ended(ended) = manager.find(&first, later) else {
        panic!("the expired transaction is remembered");
    };
    assert_eq!(ended.state(), "expired");
    assert!(ended.is_gone());
}

#[test]
fn ended_transactions_are_remembered_for_a_while_then_forgotten() {
    let manager = manager(4);
    let start = Instant::now();
    let (id, _, _) = begin(&manager, Duration::from_secs(1), at(start)).unwrap();
    let Found::Open(slot) = manager.find(&id, start) else {
        panic!("open");
    };
    let mut tx = slot.try_lock().unwrap();
    assert!(manager.settle(&mut tx, at(start)).is_none());
    manager.end(&mut tx, Outcome::Committed(Vec::new()), at(start));
    assert!(manager.settle(&mut tx, at(start)).is_some());
    drop(tx);
    assert!(matches!(
        manager.find(&id, start + REMEMBER_FOR - Duration::from_millis(1)),
        Found::Ended(_)
    ));
    assert!(matches!(
        manager.find(&id, start + REMEMBER_FOR),
        Found::Unknown
    ));
    assert_eq!(manager.open_count(), 0);
}

#[test]
fn a_busy_expired_transaction_is_left_to_its_request() {
    let manager = manager(1);
    let start = Instant::now();
    let (id, _, _) = begin(&manager, Duration::from_millis(1), at(start)).unwrap();
    let Found::Open(slot) = manager.find(&id, start) else {
        panic!("open");
    };
    let mut tx = slot.try_lock().unwrap();
    let later = start + Duration::from_millis(5);
    assert!(begin(&manager, Duration::from_secs(1), at(later)).is_none());
    let ended = manager.settle(&mut tx, at(later)).expect("expired");
    assert_eq!(ended.state(), "expired");
    drop(tx);
    assert!(begin(&manager, Duration::from_secs(1), at(later)).is_some());
}

#[test]
fn a_client_at_its_cap_does_not_stop_another_client() {
    let manager = TxnManager::new(TxnLimits {
        max_open: 10,
        max_ttl: Duration::from_secs(60),
        max_docs: 10,
        max_per_client: 2,
    });
    let start = Instant::now();
    let ttl = Duration::from_secs(10);
    let Begun::Open(first, _, _) = manager.begin_local(ttl, "x", at(start)) else {
        panic!("x begins");
    };
    assert!(matches!(
        manager.begin_local(ttl, "x", at(start)),
        Begun::Open(..)
    ));
    assert!(matches!(
        manager.begin_local(ttl, "x", at(start)),
        Begun::ClientFull
    ));
    assert!(matches!(
        manager.begin_local(ttl, "y", at(start)),
        Begun::Open(..)
    ));
    let Found::Open(slot) = manager.find(&first, start) else {
        panic!("open");
    };
    let mut tx = slot.try_lock().unwrap();
    manager.end(&mut tx, Outcome::RolledBack, at(start));
    drop(tx);
    assert!(
        matches!(manager.begin_local(ttl, "x", at(start)), Begun::Open(..)),
        "ending one of x's transactions makes room for x"
    );
}
