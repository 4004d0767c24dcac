//! Transactions in PostgreSQL seen through two replicas' `SharedTxns` on one database: the
//! state round-trips through its row, the open count is shared, the requests of one
//! transaction take turns, and a commit's outcome lands with its writes. (The HTTP-level
//! behaviour across three replicas is proved by `conformance/tests/postgres_replica_txns.rs`.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::codec::{decode_ended, decode_tx, encode_ended, encode_tx};
use super::{Recorder, SharedBegin, SharedFound, SharedTxns};
use crate::etag::EntityTag;
use crate::lock::{now, LockManager, LockToken, Now};
use crate::storage::{
    parse_postgres, pg_test_database, system_clock, Document, HistoryPolicy, PostgresStore,
};
use crate::txn::{commit, Outcome, Tx, TxId};

const POLICY: HistoryPolicy = HistoryPolicy {
    max_versions: 10,
    max_age_ms: 0,
    tombstone_ttl_ms: u64::MAX,
};

fn staged() -> Tx {
    let at = Now {
        instant: Instant::now(),
        unix_ms: 1_000,
    };
    let mut tx = Tx::new(TxId::mint("e", 1), Duration::from_secs(10), at);
    let doc = Document {
        etag: EntityTag::strong("e-1".to_owned()),
        body: b"{\"n\":1}".to_vec(),
        at_ms: 7,
    };
    tx.pin("a", Some(doc), 10).unwrap();
    tx.pin("b", None, 10).unwrap();
    let token = Some(LockToken::from_stored("lock-x".to_owned()));
    tx.stage("b", Some(vec![0xff, 0x00, b'{']), token, 9);
    tx.pin("c", None, 10).unwrap();
    tx.stage("c", Some(b"{}".to_vec()), None, 9);
    tx.stage("c", None, None, 9);
    tx
}

#[test]
fn staged_state_and_outcomes_round_trip_through_their_text() {
    let tx = staged();
    let back = decode_tx(
        tx.id.clone(),
        tx.ttl,
        Duration::from_secs(5),
        tx.expires_at_ms,
        &encode_tx(&tx),
    )
    .unwrap();
    assert_eq!(back.summary(), tx.summary());
    assert_eq!(back.view("b"), tx.view("b"), "a non-UTF-8 body comes back");
    assert_eq!(back.view("c"), Some(None));
    let plan = back.plan();
    assert_eq!(plan.writes[0].lock_token, tx.plan().writes[0].lock_token);
    assert_eq!(back.provisional, tx.provisional);
    let outcome = Outcome::Conflict(vec![crate::txn::Conflict {
        id: "a".to_owned(),
        read_etag: Some(EntityTag::strong("e-1".to_owned())),
        current_etag: None,
    }]);
    let text = encode_ended(&outcome, 42, &tx.summary());
    let ended = decode_ended(&text, tx.ttl, 11_000, Duration::from_secs(60), 50).unwrap();
    assert_eq!(format!("{:?}", ended.outcome), format!("{outcome:?}"));
    assert_eq!(ended.ended_at_ms, 42);
    assert_eq!(ended.summary, tx.summary());
    assert!(decode_tx(tx.id.clone(), tx.ttl, Duration::ZERO, 0, "{\"docs\":1}").is_err());
}

/// Two replicas' transactions on one fresh database, and its store.
async fn replicas() -> Option<(Arc<SharedTxns>, Arc<SharedTxns>, Arc<PostgresStore>)> {
    let url = pg_test_database()?;
    let opened = tokio::task::spawn_blocking(move || {
        let config = parse_postgres(&url).unwrap();
        let store = PostgresStore::open(&config, POLICY, system_clock()).unwrap();
        let a = SharedTxns::open(&config, crate::storage::PgBudget::DEFAULT);
        let b = SharedTxns::open(&config, crate::storage::PgBudget::DEFAULT);
        (Arc::new(a), Arc::new(b), Arc::new(store))
    });
    Some(opened.await.unwrap())
}

async fn begin(txns: &Arc<SharedTxns>, client: &str, max_open: usize) -> SharedBegin {
    let ttl = Duration::from_secs(30);
    let (begun, _) = txns
        .begin(client.to_owned(), ttl, max_open, 2, now().unix_ms)
        .await
        .unwrap();
    begun
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_count_and_the_per_client_cap_hold_across_replicas() {
    let Some((a, b, _)) = replicas().await else {
        return;
    };
    assert!(matches!(begin(&a, "x", 3).await, SharedBegin::Begun(..)));
    assert!(matches!(begin(&b, "x", 3).await, SharedBegin::Begun(..)));
    assert!(matches!(begin(&a, "x", 3).await, SharedBegin::ClientFull));
    assert!(matches!(begin(&b, "y", 3).await, SharedBegin::Begun(..)));
    assert!(matches!(begin(&a, "z", 3).await, SharedBegin::Full));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_of_one_transaction_take_turns_across_replicas() {
    let Some((a, b, _)) = replicas().await else {
        return;
    };
    let SharedBegin::Begun(id, _) = begin(&a, "x", 10).await else {
        panic!("begins");
    };
    let SharedFound::Open(mut held) = a.find(&id, now().unix_ms).await.unwrap() else {
        panic!("open through a");
    };
    let (b2, id2) = (Arc::clone(&b), id.clone());
    let second = tokio::spawn(async move { b2.find(&id2, now().unix_ms).await.unwrap() });
    // Give the second request every chance to read the row too early, were it not locked out.
    tokio::time::sleep(Duration::from_millis(300)).await;
    held.tx.pin("a", None, 10).unwrap();
    held.tx.stage("a", Some(b"{}".to_vec()), None, 1);
    held.save().await.unwrap();
    let SharedFound::Open(seen) = second.await.unwrap() else {
        panic!("open through b");
    };
    assert!(
        seen.tx.view("a").is_some(),
        "b saw a's staged write: it waited for a's request to end"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_records_its_outcome_with_its_writes() {
    let Some((a, b, store)) = replicas().await else {
        return;
    };
    let SharedBegin::Begun(id, _) = begin(&a, "x", 10).await else {
        panic!("begins");
    };
    let SharedFound::Open(mut held) = a.find(&id, now().unix_ms).await.unwrap() else {
        panic!("open");
    };
    held.tx.pin("doc", None, 10).unwrap();
    held.tx.stage("doc", Some(b"{\"n\":1}".to_vec()), None, 1);
    let plan = held.tx.plan();
    let recorder = Recorder::new(&held.tx, 5);
    let committed = tokio::task::spawn_blocking(move || {
        let locks = LockManager::new(Duration::from_secs(60), 0);
        commit(&*store, &locks, &plan, None, Some(&recorder)).unwrap()
    })
    .await
    .unwrap();
    assert!(matches!(committed, Outcome::Committed(_)));
    // The request that committed lets go without writing anything more (as if it crashed).
    drop(held);
    let SharedFound::Ended(ended, false) = b.find(&id, now().unix_ms).await.unwrap() else {
        panic!("the other replica sees the commit's outcome");
    };
    assert_eq!(ended.state(), "committed");
    let Outcome::Committed(results) = &ended.outcome else {
        panic!("committed");
    };
    assert_eq!(results[0].id, "doc");
    assert_eq!(results[0].status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_transaction_is_ended_through_another_replica() {
    let Some((a, b, _)) = replicas().await else {
        return;
    };
    let (begun, _) = a
        .begin("x".to_owned(), Duration::from_millis(1), 10, 10, 0)
        .await
        .unwrap();
    let SharedBegin::Begun(id, _) = begun else {
        panic!("begins");
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let SharedFound::Ended(ended, true) = b.find(&id, now().unix_ms).await.unwrap() else {
        panic!("b ends it as expired");
    };
    assert_eq!(ended.state(), "expired");
    assert!(matches!(
        a.find(&id, now().unix_ms).await.unwrap(),
        SharedFound::Ended(_, false)
    ));
}
