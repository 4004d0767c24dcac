//! Transactions through the SDK against the reference server: commit and cache, rollback and
//! drop, a refused commit, and many tasks on one shared client transferring between accounts
//! with `client.transaction(...)`: no money created or lost, no successful transfer lost.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use ifmatch::{Client, Precondition, RetryConfig};
use ifmatch_server::{spawn, Config};
use serde_json::{json, Value};

fn client(base: &str, retry: RetryConfig) -> Client {
    Client::builder()
        .base_url(base)
        .unwrap()
        .retry(retry)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_committed_transaction_is_applied_and_its_tags_cached() {
    let server = spawn(Config::new()).await.unwrap();
    let client = client(&server.base_url(), RetryConfig::default());
    let a = client
        .create("/items", &json!({"n": 1}))
        .await
        .unwrap()
        .location
        .unwrap();

    let tx = client.begin().ttl(Duration::from_secs(10)).await.unwrap();
    assert!(tx.id().starts_with("tx-"), "{}", tx.id());
    let read = tx.get::<Value>(&a).await.unwrap();
    let staged = tx.put(&a, &json!({"n": 2}), &read).await.unwrap();
    let created = tx.create("/items", &json!({"new": true})).await.unwrap();
    let new_path = created.location.clone().unwrap();
    // Nothing is visible outside before the commit.
    assert_eq!(
        client.get::<Value>(&a).await.unwrap().value,
        json!({"n": 1})
    );
    assert!(client
        .get::<Value>(&new_path)
        .await
        .unwrap_err()
        .is_not_found());
    // Inside, the transaction sees its own writes under the provisional tag.
    let inside = tx.get::<Value>(&a).await.unwrap();
    assert_eq!(
        (inside.value, inside.etag),
        (json!({"n": 2}), staged.etag.clone())
    );

    let done = tx.commit().await.unwrap();
    assert_eq!(done.len(), 2);
    let written = done.find(&a).unwrap();
    assert_ne!(
        written.etag(),
        staged.etag.as_ref(),
        "the provisional tag is gone"
    );
    let after = client.get::<Value>(&a).await.unwrap();
    assert!(
        after.from_cache,
        "the commit's tag was cached with the body written"
    );
    assert_eq!(
        (after.value, after.etag.as_ref()),
        (json!({"n": 2}), written.etag())
    );
    assert_eq!(
        client.get::<Value>(&new_path).await.unwrap().value,
        json!({"new": true})
    );
    assert_eq!(client.stats().transactions_committed, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn a_commit_after_a_change_outside_is_refused_and_applies_nothing() {
    let server = spawn(Config::new()).await.unwrap();
    let client = client(&server.base_url(), RetryConfig::default());
    let a = client
        .create("/items", &json!({"n": 1}))
        .await
        .unwrap()
        .location
        .unwrap();
    let tx = client.begin().await.unwrap();
    let read = tx.get::<Value>(&a).await.unwrap();
    let outside = client.get::<Value>(&a).await.unwrap();
    client.put(&a, &json!({"n": 10}), &outside).await.unwrap();
    // Repeatable read: the transaction still sees the version it pinned.
    assert_eq!(tx.get::<Value>(&a).await.unwrap().value, json!({"n": 1}));
    tx.put(&a, &json!({"n": 2}), &read).await.unwrap();
    let err = tx.commit().await.unwrap_err();
    assert_eq!(err.code(), "transaction_conflict", "{err}");
    assert!(err.is_conflict());
    let stale = err.stale_reads();
    assert_eq!(stale.len(), 1, "{err}");
    assert_eq!(stale[0].url(), a);
    assert_eq!(stale[0].read_etag(), read.etag.as_ref());
    assert_eq!(
        client.get::<Value>(&a).await.unwrap().value,
        json!({"n": 10})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_rolled_back_or_dropped_transaction_applies_nothing() {
    let server = spawn(Config::new()).await.unwrap();
    let base = server.base_url();
    let client = client(&base, RetryConfig::default());
    let a = client
        .create("/items", &json!({"n": 1}))
        .await
        .unwrap()
        .location
        .unwrap();
    let tx = client.begin().await.unwrap();
    tx.put(&a, &json!({"n": 2}), Precondition::unconditional())
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let dropped = client.begin().await.unwrap();
    dropped
        .put(&a, &json!({"n": 3}), Precondition::unconditional())
        .await
        .unwrap();
    let dropped_url = dropped.url().to_owned();
    drop(dropped);
    let mut gone = false;
    for _ in 0..50 {
        // Outside any transaction, as a raw GET of the transaction resource.
        let state = client
            .request(ifmatch::http::Method::GET, &dropped_url)
            .await;
        if state.is_err() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "the dropped transaction was rolled back");
    assert_eq!(
        client.get::<Value>(&a).await.unwrap().value,
        json!({"n": 1})
    );
    server.shutdown().await;
}

const ACCOUNTS: usize = 4;
const TASKS: usize = 8;
const TRANSFERS_PER_TASK: usize = 6;
const INITIAL: i64 = 1_000;

/// One transfer: read both accounts, move `amount` if the source has it.
async fn transfer(
    tx: ifmatch::Transaction,
    from: String,
    to: String,
    amount: i64,
) -> Result<bool, ifmatch::Error> {
    let source = tx.get::<Value>(&from).await?;
    let target = tx.get::<Value>(&to).await?;
    let have = source.value["balance"].as_i64().unwrap();
    if have < amount {
        return Ok(false);
    }
    let gets = target.value["balance"].as_i64().unwrap();
    tx.patch(&from, &json!({"balance": have - amount}), &source)
        .await?;
    tx.patch(&to, &json!({"balance": gets + amount}), &target)
        .await?;
    Ok(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_transfers_on_one_shared_client_conserve_the_total() {
    let server = spawn(Config::new()).await.unwrap();
    // Many conflicts by design: allow enough runs that most transfers get through.
    let retry = RetryConfig::contended().with_max_conflict_attempts(50);
    let client = client(&server.base_url(), retry);
    let mut accounts = Vec::new();
    for _ in 0..ACCOUNTS {
        let created = client
            .create("/items", &json!({"balance": INITIAL}))
            .await
            .unwrap();
        accounts.push(created.location.unwrap());
    }
    let applied: Arc<Mutex<Vec<(usize, usize, i64)>>> = Arc::default();
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (client, accounts, applied) = (client.clone(), accounts.clone(), applied.clone());
        tasks.push(tokio::spawn(async move {
            let mut refused = 0;
            for n in 0..TRANSFERS_PER_TASK {
                let from = (task + n) % ACCOUNTS;
                let to = (task + 2 * n + 1) % ACCOUNTS;
                let to = if to == from { (to + 1) % ACCOUNTS } else { to };
                let amount = 1 + ((task * 7 + n * 13) % 50) as i64;
                let (source, target) = (accounts[from].clone(), accounts[to].clone());
                let moved = client
                    .transaction(move |tx| transfer(tx, source.clone(), target.clone(), amount))
                    .ttl(Duration::from_secs(20))
                    .await;
                match moved {
                    Ok(true) => applied.lock().unwrap().push((from, to, amount)),
                    Ok(false) => {}
                    // Out of runs: nothing of it was applied.
                    Err(e) if e.code() == "transaction_conflict" => refused += 1,
                    Err(e) => panic!("transfer {task}/{n} failed: {e}"),
                }
            }
            refused
        }));
    }
    let mut refused = 0;
    for task in tasks {
        refused += task.await.unwrap();
    }

    let mut expected = vec![INITIAL; ACCOUNTS];
    let applied = applied.lock().unwrap().clone();
    for (from, to, amount) in &applied {
        expected[*from] -= amount;
        expected[*to] += amount;
    }
    let reader = self::client(&server.base_url(), RetryConfig::default());
    let mut balances = Vec::new();
    for account in &accounts {
        let now = reader.get::<Value>(account).await.unwrap();
        balances.push(now.value["balance"].as_i64().unwrap());
    }
    let stats = client.stats();
    server.shutdown().await;
    assert_eq!(
        balances.iter().sum::<i64>(),
        INITIAL * ACCOUNTS as i64,
        "money was created or lost: {balances:?}"
    );
    assert_eq!(
        balances, expected,
        "a committed transfer is missing, or one reported failed was applied"
    );
    assert_eq!(
        stats.transactions_committed,
        (TASKS * TRANSFERS_PER_TASK - refused) as u64,
        "{stats:?}"
    );
    assert!(!applied.is_empty(), "no transfer went through");
    // 8 tasks over 4 accounts collide often (about 60 refused commits per run, measured): the
    // reruns are what is tested here.
    assert!(
        stats.transaction_conflicts > 0,
        "no commit was refused, so no rerun was tested: {stats:?}"
    );
}
