//! One client never conflicts with itself: the updates of one resource issued through one
//! client take turns, so only other clients cause version conflicts (issue #18, item 1). Also
//! the asynchronous change of `update_async` (item 6a). Against the embedded reference server.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use ifmatch::{CancelToken, ChangeError, Client, Precondition, RetryConfig};
use ifmatch_server::{spawn, Config, RunningServer};
use serde_json::{json, Value};
use tokio::sync::Notify;

async fn counter(retry: RetryConfig) -> (RunningServer, Client, String) {
    let server = spawn(Config::new()).await.unwrap();
    let client = Client::builder()
        .base_url(&server.base_url())
        .unwrap()
        .retry(retry)
        .build()
        .unwrap();
    let item = client
        .create("/items", &json!({"n": 0}))
        .await
        .unwrap()
        .location
        .unwrap();
    (server, client, item)
}

fn increment(doc: &mut Value) -> Result<(), ChangeError> {
    doc["n"] = (doc["n"].as_i64().unwrap_or(0) + 1).into();
    Ok(())
}

/// `n` tasks share ONE client with the default settings (5 writes per update) and each
/// increments the counter once, all at the same time. Before the queue, 6-7 of 20 and 7 of 50
/// succeeded (the others ran out of attempts against their own client's writes).
async fn one_client_many_tasks(n: usize) {
    let (server, client, item) = counter(RetryConfig::default()).await;
    let before = client.stats();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (client, item) = (client.clone(), item.clone());
            tokio::spawn(async move { client.update::<Value>(&item, increment).await })
        })
        .collect();
    let (mut succeeded, mut writes) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(out) => {
                succeeded += 1;
                writes += out.attempts;
            }
            Err(e) => eprintln!("{e}"),
        }
    }
    let stats = client.stats();
    let doc = client.get::<Value>(&item).await.unwrap().value;
    server.shutdown().await;
    eprintln!(
        "{n} concurrent updates through one client: {succeeded} succeeded, {writes} writes, {} conflicts, {} requests",
        stats.conflicts_412 + stats.conflicts_409,
        stats.requests - before.requests
    );
    assert_eq!(succeeded, n, "every update must succeed");
    assert_eq!(doc["n"], json!(n), "{doc}");
    assert_eq!(stats.conflicts_412 + stats.conflicts_409, 0, "{stats:?}");
    assert_eq!(writes as usize, n, "one write per update");
    // Each update starts from the document (and strong ETag) the previous one wrote: at most
    // one read (the first update's, when the create did not fill the cache), no read per update.
    assert!(
        stats.requests - before.requests <= n as u64 + 1,
        "{} requests for {n} updates",
        stats.requests - before.requests
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_updates_through_one_client_never_conflict() {
    one_client_many_tasks(20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_updates_through_one_client_never_conflict() {
    one_client_many_tasks(50).await;
}

/// Another client writing between an update's read and its write still causes a conflict,
/// which the update recovers from: the queue orders one client's updates, it hides nobody.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_client_still_causes_recovered_conflicts() {
    let (server, client, item) = counter(RetryConfig::default()).await;
    let other = Client::builder()
        .base_url(&server.base_url())
        .unwrap()
        .build()
        .unwrap();
    let interfered = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (client, other, item, interfered) = (
            client.clone(),
            other.clone(),
            item.clone(),
            interfered.clone(),
        );
        let url = item.clone();
        tasks.push(tokio::spawn(async move {
            client
                .update_async(&url, move |mut doc: Value| {
                    let (other, item, interfered) =
                        (other.clone(), item.clone(), interfered.clone());
                    async move {
                        // Once, the other client writes after this change's read.
                        if !interfered.swap(true, Ordering::SeqCst) {
                            other.update::<Value>(&item, increment).await?;
                        }
                        increment(&mut doc)?;
                        Ok(doc)
                    }
                })
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let stats = client.stats();
    let doc = client.get::<Value>(&item).await.unwrap().value;
    server.shutdown().await;
    assert_eq!(doc["n"], json!(21), "{doc}");
    assert_eq!(stats.conflicts_412, 1, "{stats:?}");
    assert_eq!(stats.retries, 1, "{stats:?}");
}

/// An update whose change is still running holds the turn; a second update waiting behind it is
/// cancelled; a third still gets its turn as soon as the first is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_waiter_does_not_block_the_queue() {
    let (server, client, item) = counter(RetryConfig::default()).await;
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let first = {
        let (client, item, started, release) = (
            client.clone(),
            item.clone(),
            started.clone(),
            release.clone(),
        );
        tokio::spawn(async move {
            client
                .update_async(&item, move |mut doc: Value| {
                    let (started, release) = (started.clone(), release.clone());
                    async move {
                        started.notify_one();
                        release.notified().await;
                        increment(&mut doc)?;
                        Ok(doc)
                    }
                })
                .await
        })
    };
    started.notified().await;
    let token = CancelToken::new();
    let second = {
        let (client, item, token) = (client.clone(), item.clone(), token.clone());
        tokio::spawn(async move {
            client
                .update::<Value>(&item, |_| {
                    panic!("a cancelled update must not run its change")
                })
                .cancel_on(&token)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let third = {
        let (client, item) = (client.clone(), item.clone());
        tokio::spawn(async move { client.update::<Value>(&item, increment).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!third.is_finished(), "the third must wait for the first");
    token.cancel();
    assert!(second.await.unwrap().unwrap_err().is_cancelled());
    release.notify_one();
    assert_eq!(first.await.unwrap().unwrap().value["n"], 1);
    let third = tokio::time::timeout(Duration::from_secs(5), third)
        .await
        .expect("the cancelled waiter must not block the third update");
    let third = third.unwrap().unwrap();
    assert_eq!((third.value["n"].clone(), third.attempts), (json!(2), 1));
    server.shutdown().await;
}

/// A change that panics ends its update, and the turn passes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_panicking_change_releases_the_turn() {
    let (server, client, item) = counter(RetryConfig::default()).await;
    let panicked = {
        let (client, item) = (client.clone(), item.clone());
        tokio::spawn(async move {
            client
                .update::<Value>(&item, |_| panic!("the change failed"))
                .await
        })
    };
    assert!(panicked.await.unwrap_err().is_panic());
    let next = tokio::time::timeout(
        Duration::from_secs(5),
        client.update::<Value>(&item, increment),
    )
    .await
    .expect("the panicked update must have released its turn");
    assert_eq!(next.unwrap().value["n"], 1);
    server.shutdown().await;
}

/// Writes with a version of their own (`put` with what the caller read) are not queued: they
/// carry the caller's precondition, and a stale one is refused as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn puts_with_their_own_version_are_not_queued() {
    let (server, client, item) = counter(RetryConfig::default()).await;
    let read = client.get::<Value>(&item).await.unwrap();
    client.update::<Value>(&item, increment).await.unwrap();
    let stale = client
        .put(&item, &json!({"n": 7}), &read)
        .await
        .unwrap_err();
    assert!(stale.is_precondition_failed(), "{stale}");
    let unconditional = client
        .put(&item, &json!({"n": 7}), Precondition::unconditional())
        .await
        .unwrap();
    assert_eq!(unconditional.value["n"], 7);
    server.shutdown().await;
}

/// The asynchronous change: its result is written; its error ends the update as a change
/// error, with nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn async_changes_are_awaited_and_their_errors_kept() {
    let (server, client, item) = counter(RetryConfig::default()).await;
    let out = client
        .update_async(&item, |mut doc: Value| async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            increment(&mut doc)?;
            Ok(doc)
        })
        .await
        .unwrap();
    assert_eq!((out.value["n"].clone(), out.attempts), (json!(1), 1));
    let err = client
        .update_async(&item, |_: Value| async move {
            Err::<Value, _>(ChangeError::msg("the price service is down"))
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "change_failed", "{err}");
    let source = std::error::Error::source(&err).map(ToString::to_string);
    assert_eq!(source.as_deref(), Some("the price service is down"));
    assert_eq!(client.get::<Value>(&item).await.unwrap().value["n"], 1);
    server.shutdown().await;
}
