//! The lock table's rules, with a clock the tests move by hand.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::lease::{Grant, LockRequest, Now};
use super::table::{Acquired, Handoff, Left, LockTable, Queued, Refusal};
use super::{LockLimits, LockManager, Ticket, Waited, CEILING_TTL, DEFAULT_TTL};

const TTL: Duration = Duration::from_secs(10);

fn start() -> Now {
    Now {
        instant: Instant::now(),
        unix_ms: 1_000_000,
    }
}

fn after(now: Now, d: Duration) -> Now {
    Now {
        instant: now.instant + d,
        unix_ms: now.unix_ms + u64::try_from(d.as_millis()).unwrap(),
    }
}

fn request(owner: &str) -> LockRequest {
    LockRequest {
        owner: Some(owner.to_owned()),
        ttl: TTL,
    }
}

fn granted(acquired: Acquired) -> Grant {
    match acquired {
        Acquired::Granted(grant) => grant,
        other => panic!("expected a grant, got {other:?}"),
    }
}

fn queued(acquired: Acquired) -> Queued {
    match acquired {
        Acquired::Queued(queued) => queued,
        other => panic!("expected a place in the queue, got {other:?}"),
    }
}

fn handed(queued: &mut Queued) -> Option<Grant> {
    match queued.receiver.try_recv() {
        Ok(Handoff::Granted(grant)) => Some(grant),
        Ok(Handoff::Gone) => panic!("unexpected Gone"),
        Err(_) => None,
    }
}

#[test]
fn a_free_lock_is_granted_with_expiry_and_a_growing_fencing_number() {
    let mut table = LockTable::new("e".to_owned());
    let now = start();
    let first = granted(table.acquire("a", request("alice"), None, now));
    assert_eq!(first.lease.owner.as_deref(), Some("alice"));
    assert_eq!(first.lease.expires_at, now.instant + TTL);
    assert_eq!(first.lease.expires_at_ms, 1_010_000);
    let other = granted(table.acquire("b", request("bob"), None, now));
    assert!(other.lease.fencing > first.lease.fencing);
    assert_ne!(other.token, first.token);
}

#[test]
fn a_held_lock_is_busy_without_waiting_and_full_when_the_queue_is() {
    let mut table = LockTable::new("e".to_owned());
    let now = start();
    granted(table.acquire("a", request("alice"), None, now));
    assert!(matches!(
        table.acquire("a", request("bob"), None, now),
        Acquired::Busy(s) if s.lease.owner.as_deref() == Some("alice")
    ));
    let _bob = queued(table.acquire("a", request("bob"), Some(1), now));
    assert!(matches!(
        table.acquire("a", request("carol"), Some(1), now),
        Acquired::QueueFull(s) if s.waiters == 1
    ));
}

#[test]
fn releases_hand_the_lock_to_waiters_in_arrival_order() {
    let mut table = LockTable::new("e".to_owned());
    let now = start();
    let mut holder = granted(table.acquire("a", request("h"), None, now));
    let mut waiters: Vec<Queued> = ["w1", "w2", "w3"]
        .iter()
        .map(|owner| queued(table.acquire("a", request(owner), Some(8), now)))
        .collect();
    assert_eq!(table.snapshot("a", now).unwrap().waiters, 3);
    for (index, name) in ["w1", "w2", "w3"].iter().enumerate() {
        table.release("a", &holder.token, now).unwrap();
        let grant = handed(&mut waiters[index]).expect("the first in line gets it");
        assert_eq!(grant.lease.owner.as_deref(), Some(*name));
        for later in &mut waiters[index + 1..] {
            assert!(handed(later).is_none(), "only one waiter is served");
        }
        holder = grant;
    }
    table.release("a", &holder.token, now).unwrap();
    assert_eq!(table.snapshot("a", now), None);
    assert_eq!(table.tracked(), 0, "a free document is forgotten");
}

#[test]
fn a_waiter_that_went_away_is_skipped() {
    let mut table = LockTable::new("e".to_owned());
    let now = start();
    let holder = granted(table.acquire("a", request("h"), None, now));
    let gone = queued(table.acquire("a", request("gone"), Some(8), now));
    let mut next = queued(table.acquire("a", request("next"), Some(8), now));
    drop(gone);
    assert_eq!(table.snapshot("a", now).unwrap().waiters, 1);
    table.release("a", &holder.token, now).unwrap();
    let grant = handed(&mut next).unwrap();
    assert_eq!(grant.lease.owner.as_deref(), Some("next"));
}

#[test]
fn an_expired_lock_frees_itself_and_goes_to_the_first_waiter() {
    let mut table = LockTable::new("e".to_owned());
    let now = start();
    let holder = granted(table.acquire("a", request("h"), None, now));
    let mut waiter = queued(table.acquire("a", request("w"), Some(8), now));
    table.settle("a", after(now, TTL - Duration::from_millis(1)));
    assert!(handed(&mut waiter).is_none(), "not before expiry");
    let later = after(now, TTL);
    table.settle("a", later);
    let grant = handed(&mut waiter).expect("handed over at expiry");
    assert_eq!(grant.lease.expires_at, later.instant + TTL);
    assert_eq!(
        table
            .release("a", &holder.token, later)
            .unwrap_err()
            .unwrap()
            .lease,
        grant.lease,
        "the expired holder's token no longer works"
    );
}

#[test]
fn renewal_extends_the_holders_lock_and_refuses_other_tokens() {
    let mut table = LockTable::new("e".to_owned());
    let now = start();
    let holder = granted(table.acquire("a", request("h"), None, now));
    let later = after(now, Duration::from_secs(5));
    let renewed = table.renew("a", &holder.token, None, later).unwrap();
    assert_eq!(renewed.token, holder.token);
    assert_eq!(renewed.lease.fencing, holder.lease.fencing);
    assert_eq!(renewed.lease.expires_at, later.instant + TTL);
    let shorter = table
        .renew("a", &holder.token, Some(Duration::from_secs(1)), later)
        .unwrap();
    assert_eq!(shorter.lease.ttl, Duration::from_secs(1));
    let stranger = super::LockToken::mint("e", 99);
    assert!(table.renew("a", &stranger, None, later).is_err());
    let expired = after(later, Duration::from_secs(1));
    assert_eq!(table.renew("a", &holder.token, None, expired), Err(None));
}

#[test]
fn writes_need_the_holders_token_and_stale_tokens_fail_even_when_unlocked() {
    let mut table = LockTable::new("e".to_owned());
    let now = start();
    assert_eq!(table.authorize_write("a", None, now), Ok(()));
    let holder = granted(table.acquire("a", request("h"), None, now));
    assert_eq!(table.authorize_write("a", Some(&holder.token), now), Ok(()));
    assert!(matches!(
        table.authorize_write("a", None, now),
        Err(Refusal::Locked(s)) if s.lease.owner.as_deref() == Some("h")
    ));
    let stranger = super::LockToken::mint("e", 99);
    assert!(matches!(
        table.authorize_write("a", Some(&stranger), now),
        Err(Refusal::TokenInvalid(Some(_)))
    ));
    assert!(table.break_lock("a", now));
    assert!(!table.break_lock("a", now), "nothing left to break");
    assert_eq!(
        table.authorize_write("a", Some(&holder.token), now),
        Err(Refusal::TokenInvalid(None))
    );
    assert_eq!(table.authorize_write("a", None, now), Ok(()));
}

#[test]
fn leaving_at_the_moment_of_handover_leaves_with_the_lock() {
    let mut table = LockTable::new("e".to_owned());
    let now = start();
    let holder = granted(table.acquire("a", request("h"), None, now));
    let mut waiter = queued(table.acquire("a", request("w"), Some(8), now));
    table.release("a", &holder.token, now).unwrap();
    match table.leave("a", &mut waiter, now) {
        Left::Granted(grant) => assert_eq!(grant.lease.owner.as_deref(), Some("w")),
        other => panic!("expected the lock, got {other:?}"),
    }
    let mut late = queued(table.acquire("a", request("late"), Some(8), now));
    assert!(matches!(
        table.leave("a", &mut late, now),
        Left::NotGranted(Some(s)) if s.waiters == 0
    ));
}

#[test]
fn deleting_the_document_ends_its_lock_and_tells_the_waiters() {
    let mut table = LockTable::new("e".to_owned());
    let now = start();
    let holder = granted(table.acquire("a", request("h"), None, now));
    let mut waiter = queued(table.acquire("a", request("w"), Some(8), now));
    table.destroy("a");
    assert!(matches!(waiter.receiver.try_recv(), Ok(Handoff::Gone)));
    assert_eq!(
        table.authorize_write("a", Some(&holder.token), now),
        Err(Refusal::TokenInvalid(None))
    );
}

#[test]
fn sweeping_forgets_expired_locks_nobody_asks_about() {
    let mut table = LockTable::new("e".to_owned());
    let now = start();
    for n in 0..100 {
        granted(table.acquire(&format!("doc{n}"), request("h"), None, now));
    }
    let later = after(now, TTL);
    for n in 0..300 {
        granted(table.acquire(&format!("other{n}"), request("h"), None, later));
    }
    assert!(table.tracked() <= 300, "{} tracked", table.tracked());
}

#[test]
fn the_total_of_waiters_over_all_documents_is_capped() {
    let mut table = LockTable::new("e".to_owned());
    table.limit_total_waiters(2);
    let now = start();
    granted(table.acquire("a", request("alice"), None, now));
    granted(table.acquire("b", request("alice"), None, now));
    let _bob = queued(table.acquire("a", request("bob"), Some(8), now));
    let carol = queued(table.acquire("b", request("carol"), Some(8), now));
    // Each queue has room (8 per document), but two wait in all.
    assert!(matches!(
        table.acquire("a", request("dave"), Some(8), now),
        Acquired::AllQueuesFull(s) if s.waiters == 1
    ));
    // A waiter that went away no longer counts.
    drop(carol);
    let _dave = queued(table.acquire("a", request("dave"), Some(8), now));
    // A request that does not want to wait is answered as before.
    assert!(matches!(
        table.acquire("b", request("erin"), None, now),
        Acquired::Busy(_)
    ));
}

#[test]
fn limits_cap_ttl_and_wait_and_default_the_ttl() {
    let limits = LockLimits {
        max_ttl: Duration::from_secs(60),
        max_waiters: 4,
        max_total_waiters: 16,
    };
    assert_eq!(limits.ttl(None), DEFAULT_TTL);
    assert_eq!(limits.ttl(Some(500)), Duration::from_millis(500));
    assert_eq!(limits.ttl(Some(u64::MAX)), Duration::from_secs(60));
    assert_eq!(limits.wait(u64::MAX), Duration::from_secs(60));
    let tiny = LockManager::new(Duration::ZERO, 0).limits();
    assert_eq!(tiny.max_ttl, Duration::from_millis(1));
    assert_eq!(tiny.ttl(None), Duration::from_millis(1));
    let huge = LockManager::new(Duration::MAX, 0).limits();
    assert_eq!(huge.max_ttl, CEILING_TTL);
}

#[tokio::test]
async fn a_queued_request_gets_the_lock_when_the_holder_expires() {
    let manager = Arc::new(LockManager::new(Duration::from_secs(60), 8));
    let now = super::now();
    let short = LockRequest {
        owner: None,
        ttl: Duration::from_millis(100),
    };
    granted(manager.table().acquire("a", short, None, now));
    let place = queued(manager.table().acquire("a", request("w"), Some(8), now));
    let ticket = Ticket::new(Arc::clone(&manager), "a".to_owned(), place);
    let waited = ticket.wait(now.instant + Duration::from_secs(5)).await;
    assert!(
        matches!(&waited, Waited::Granted(g) if g.lease.owner.as_deref() == Some("w")),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_dropped_ticket_passes_a_lock_handed_to_it_on_to_the_next() {
    let manager = Arc::new(LockManager::new(Duration::from_secs(60), 8));
    let now = super::now();
    let holder = granted(manager.table().acquire("a", request("h"), None, now));
    let first = queued(manager.table().acquire("a", request("first"), Some(8), now));
    let ticket = Ticket::new(Arc::clone(&manager), "a".to_owned(), first);
    let mut second = queued(
        manager
            .table()
            .acquire("a", request("second"), Some(8), now),
    );
    manager.table().release("a", &holder.token, now).unwrap();
    drop(ticket);
    let grant = handed(&mut second).expect("the lock moved on");
    assert_eq!(grant.lease.owner.as_deref(), Some("second"));
}

#[tokio::test]
async fn a_wait_that_runs_out_reports_the_current_lock() {
    let manager = Arc::new(LockManager::new(Duration::from_secs(60), 8));
    let now = super::now();
    granted(manager.table().acquire("a", request("h"), None, now));
    let place = queued(manager.table().acquire("a", request("w"), Some(8), now));
    let ticket = Ticket::new(Arc::clone(&manager), "a".to_owned(), place);
    let waited = ticket.wait(now.instant + Duration::from_millis(150)).await;
    assert!(
        matches!(&waited, Waited::TimedOut(Some(s)) if s.waiters == 0),
        "{waited:?}"
    );
}
