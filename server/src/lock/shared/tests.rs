//! Locks in PostgreSQL seen through two replicas' `SharedLocks` on one database: tokens,
//! fencing numbers and refusals are shared; a deleted document's waiters hear it is gone; a
//! waiter that goes away leaves the queue. (The HTTP-level behaviour across three replicas is
//! proved by `conformance/tests/postgres_replica_locks.rs`.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{SharedAcquired, SharedLocks};
use crate::lock::{LockRequest, Refusal, Waited};
use crate::storage::{
    parse_postgres, pg_test_database, system_clock, HistoryPolicy, PostgresStore, Store,
};

const POLICY: HistoryPolicy = HistoryPolicy {
    max_versions: 10,
    max_age_ms: 0,
    tombstone_ttl_ms: u64::MAX,
};

/// A replica's listening connection.
fn listener(config: &postgres::Config) -> crate::storage::PgListener {
    crate::storage::PgListener::start(config).unwrap()
}

/// Two replicas' locks on a fresh database holding the document `doc`, and its store.
async fn replicas() -> Option<(Arc<SharedLocks>, Arc<SharedLocks>, Arc<PostgresStore>)> {
    let url = pg_test_database()?;
    let opened = tokio::task::spawn_blocking(move || {
        let config = parse_postgres(&url).unwrap();
        let store = PostgresStore::open(&config, POLICY, system_clock()).unwrap();
        store
            .apply_as("doc", None, &mut |_| {
                crate::storage::Decision::Write(b"{}".to_vec())
            })
            .unwrap();
        let a = SharedLocks::open(
            &config,
            crate::storage::PgBudget::DEFAULT,
            &listener(&config),
        )
        .unwrap();
        let b = SharedLocks::open(
            &config,
            crate::storage::PgBudget::DEFAULT,
            &listener(&config),
        )
        .unwrap();
        (Arc::new(a), Arc::new(b), Arc::new(store))
    });
    Some(opened.await.unwrap())
}

fn request(owner: &str) -> LockRequest {
    LockRequest {
        owner: Some(owner.to_owned()),
        ttl: Duration::from_secs(60),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_fencing_and_refusals_are_shared_by_two_replicas() {
    let Some((a, b, _store)) = replicas().await else {
        return;
    };
    let wait = Duration::ZERO;
    let SharedAcquired::Granted(first) = a.acquire("doc", request("a"), None, wait).await.unwrap()
    else {
        panic!("a free lock is granted");
    };
    match b.acquire("doc", request("b"), None, wait).await.unwrap() {
        SharedAcquired::Busy(snapshot) => {
            assert_eq!(snapshot.lease.fencing, first.lease.fencing);
            assert_eq!(snapshot.lease.owner.as_deref(), Some("a"));
        }
        other => panic!("expected busy, got {other:?}"),
    }
    assert!(matches!(
        b.check("doc", None).await.unwrap(),
        Err(Refusal::Locked(_))
    ));
    assert_eq!(b.check("doc", Some(&first.token)).await.unwrap(), Ok(()));
    assert_eq!(b.release("doc", &first.token).await.unwrap(), Ok(()));
    assert_eq!(
        a.check("doc", Some(&first.token)).await.unwrap(),
        Err(Refusal::TokenInvalid(None))
    );
    let SharedAcquired::Granted(second) = a.acquire("doc", request("a"), None, wait).await.unwrap()
    else {
        panic!("a released lock is granted again");
    };
    assert!(second.lease.fencing > first.lease.fencing);
    assert_ne!(second.token, first.token);
    assert!(matches!(
        b.check("doc", Some(&first.token)).await.unwrap(),
        Err(Refusal::TokenInvalid(Some(_)))
    ));
    assert!(matches!(
        b.acquire("nothing-here", request("b"), None, wait)
            .await
            .unwrap(),
        SharedAcquired::Missing
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_documents_waiter_on_another_replica_hears_it_is_gone() {
    let Some((a, b, store)) = replicas().await else {
        return;
    };
    let wait = Duration::from_secs(30);
    assert!(matches!(
        a.acquire("doc", request("a"), None, wait).await.unwrap(),
        SharedAcquired::Granted(_)
    ));
    let SharedAcquired::Queued(ticket) =
        b.acquire("doc", request("b"), Some(4), wait).await.unwrap()
    else {
        panic!("a held lock queues the request");
    };
    let waiting = tokio::spawn(ticket.wait(Instant::now() + wait));
    // As `DELETE /items/doc` does: the lock ends inside the delete's critical section.
    let (destroyer, store) = (Arc::clone(&a), Arc::clone(&store));
    tokio::task::spawn_blocking(move || {
        store.apply_as("doc", None, &mut |_| {
            destroyer.destroy("doc").unwrap();
            crate::storage::Decision::Delete
        })
    })
    .await
    .unwrap()
    .unwrap();
    assert!(matches!(waiting.await.unwrap().unwrap(), Waited::Gone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_that_goes_away_leaves_the_queue() {
    let Some((a, b, _store)) = replicas().await else {
        return;
    };
    let wait = Duration::from_secs(30);
    assert!(matches!(
        a.acquire("doc", request("a"), None, wait).await.unwrap(),
        SharedAcquired::Granted(_)
    ));
    let SharedAcquired::Queued(ticket) =
        b.acquire("doc", request("b"), Some(4), wait).await.unwrap()
    else {
        panic!("a held lock queues the request");
    };
    assert_eq!(a.snapshot("doc").await.unwrap().unwrap().waiters, 1);
    drop(ticket);
    let mut looks = 0;
    while a.snapshot("doc").await.unwrap().unwrap().waiters != 0 {
        looks += 1;
        assert!(looks < 400, "the dropped ticket stayed in the queue");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_queues_at_most_its_total_of_waiters_over_all_documents() {
    let Some(url) = pg_test_database() else {
        return;
    };
    let (a, capped) = tokio::task::spawn_blocking(move || {
        let config = parse_postgres(&url).unwrap();
        let store = PostgresStore::open(&config, POLICY, system_clock()).unwrap();
        for id in ["doc", "doc2"] {
            store
                .apply_as(id, None, &mut |_| {
                    crate::storage::Decision::Write(b"{}".to_vec())
                })
                .unwrap();
        }
        let mut capped = SharedLocks::open(
            &config,
            crate::storage::PgBudget::DEFAULT,
            &listener(&config),
        )
        .unwrap();
        capped.limit_total_waiters(1);
        (
            Arc::new(
                SharedLocks::open(
                    &config,
                    crate::storage::PgBudget::DEFAULT,
                    &listener(&config),
                )
                .unwrap(),
            ),
            Arc::new(capped),
        )
    })
    .await
    .unwrap();
    let wait = Duration::from_secs(30);
    for id in ["doc", "doc2"] {
        assert!(matches!(
            a.acquire(id, request("a"), None, wait).await.unwrap(),
            SharedAcquired::Granted(_)
        ));
    }
    let first = capped
        .acquire("doc", request("c"), Some(4), wait)
        .await
        .unwrap();
    assert!(matches!(first, SharedAcquired::Queued(_)), "{first:?}");
    let second = capped
        .acquire("doc2", request("c"), Some(4), wait)
        .await
        .unwrap();
    assert!(
        matches!(second, SharedAcquired::AllQueuesFull(_)),
        "{second:?}"
    );
    // Another replica's own total is not this one's.
    let other = a
        .acquire("doc2", request("a"), Some(4), wait)
        .await
        .unwrap();
    assert!(matches!(other, SharedAcquired::Queued(_)), "{other:?}");
    drop(first);
    let again = capped
        .acquire("doc2", request("c"), Some(4), wait)
        .await
        .unwrap();
    assert!(matches!(again, SharedAcquired::Queued(_)), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_handed_to_a_waiter_whose_replica_died_goes_to_the_next_in_line() {
    let Some((a, b, _store)) = replicas().await else {
        return;
    };
    let wait = Duration::from_secs(60);
    let SharedAcquired::Granted(held) = a.acquire("doc", request("a"), None, wait).await.unwrap()
    else {
        panic!("a free lock is granted");
    };
    // A's waiter, whose replica then dies: its row stays, nobody looks at it again.
    let SharedAcquired::Queued(dead) = a
        .acquire("doc", request("dead"), Some(4), wait)
        .await
        .unwrap()
    else {
        panic!("a held lock queues the request");
    };
    std::mem::forget(dead);
    let SharedAcquired::Queued(live) = b.acquire("doc", request("b"), Some(4), wait).await.unwrap()
    else {
        panic!("a held lock queues the request");
    };
    let live_wait = Duration::from_secs(20);
    let waiting = tokio::spawn(live.wait(Instant::now() + live_wait));
    assert_eq!(a.release("doc", &held.token).await.unwrap(), Ok(()));
    // The dead request, first in line, is handed the lock and never claims it. Without the
    // claim lease it would hold the lock for its 60 s TTL, and B's waiter would time out after
    // its 20 s.
    match waiting.await.unwrap().unwrap() {
        Waited::Granted(grant) => assert_eq!(grant.lease.owner.as_deref(), Some("b")),
        other => panic!("the live waiter must get the lock, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_waiter_keeps_its_place_past_its_lease() {
    let Some((a, b, _store)) = replicas().await else {
        return;
    };
    let wait = Duration::from_secs(60);
    let SharedAcquired::Granted(held) = a.acquire("doc", request("a"), None, wait).await.unwrap()
    else {
        panic!("a free lock is granted");
    };
    let SharedAcquired::Queued(first) =
        b.acquire("doc", request("b"), Some(4), wait).await.unwrap()
    else {
        panic!("a held lock queues the request");
    };
    let waiting = tokio::spawn(first.wait(Instant::now() + wait));
    // Longer than a lease: the waiter renews its own, so it is still first in line.
    tokio::time::sleep(super::WAITER_LEASE + Duration::from_secs(2)).await;
    assert_eq!(a.snapshot("doc").await.unwrap().unwrap().waiters, 1);
    assert_eq!(a.release("doc", &held.token).await.unwrap(), Ok(()));
    match waiting.await.unwrap().unwrap() {
        Waited::Granted(grant) => assert_eq!(grant.lease.owner.as_deref(), Some("b")),
        other => panic!("the waiter must get the lock, got {other:?}"),
    }
}
