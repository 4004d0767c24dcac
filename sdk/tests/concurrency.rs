//! Many writers, one counter, the in-process reference server: no update may be lost.

mod support;

use std::sync::Arc;

use ifmatch::{merge::Resolution, Client, RetryConfig, Strategy};
use ifmatch_server::{spawn, Config, MismatchStatus};
use serde_json::{json, Value};
use support::YieldSleeper;
use tokio::sync::Barrier;

const TASKS: usize = 16;
const INCREMENTS: usize = 50;

/// Counters merge by adding both sides' increments; nothing else may overlap.
fn counter_merge() -> Strategy {
    Strategy::three_way_merge_with(|path, base, mine, theirs| match path {
        "/n" => {
            let n = |v: Option<&Value>| v.and_then(Value::as_i64).unwrap_or(0);
            Resolution::Use((n(theirs) + n(mine) - n(base)).into())
        }
        _ => Resolution::Fail,
    })
}

fn client(base: &str) -> Client {
    // A separate client per writer, so every writer has its own (soon stale) cache.
    Client::builder()
        .base_url(base)
        .unwrap()
        // Correctness, not bounded attempts, is under test: allow as many rewrites as needed.
        .retry(RetryConfig::contended().with_max_conflict_attempts(10_000))
        .sleeper(YieldSleeper)
        .build()
        .unwrap()
}

/// Runs TASKS writers; in each of INCREMENTS rounds all of them start an update together.
async fn run(mismatch: MismatchStatus, strategy: fn() -> Strategy) -> (Value, u64) {
    let server = spawn(Config::new().with_mismatch_status(mismatch))
        .await
        .unwrap();
    let base = server.base_url();
    let created = client(&base)
        .create("/items", &json!({"n": 0, "by": {}}))
        .await
        .unwrap();
    let item = created.location.unwrap();
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut writers = Vec::new();
    for task in 0..TASKS {
        let (client, item, barrier) = (client(&base), item.clone(), barrier.clone());
        writers.push(tokio::spawn(async move {
            for _ in 0..INCREMENTS {
                barrier.wait().await;
                client
                    .update::<Value>(&item, move |doc| {
                        doc["n"] = (doc["n"].as_i64().unwrap_or(0) + 1).into();
                        let mine = &mut doc["by"][format!("t{task}")];
                        *mine = (mine.as_i64().unwrap_or(0) + 1).into();
                        Ok(())
                    })
                    .strategy(strategy())
                    .send()
                    .await
                    .unwrap();
            }
            let stats = client.stats();
            stats.conflicts_409 + stats.conflicts_412
        }));
    }
    let mut conflicts = 0;
    for writer in writers {
        conflicts += writer.await.unwrap();
    }
    let last = client(&base).get::<Value>(&item).await.unwrap().value;
    server.shutdown().await;
    eprintln!(
        "{mismatch:?} / {}: {conflicts} conflicts recovered",
        strategy().name()
    );
    (last, conflicts)
}

fn assert_nothing_lost(doc: &Value, conflicts: u64) {
    assert_eq!(doc["n"], json!(TASKS * INCREMENTS), "{doc}");
    for task in 0..TASKS {
        assert_eq!(
            doc["by"][format!("t{task}")],
            json!(INCREMENTS),
            "writer {task}: {doc}"
        );
    }
    assert!(conflicts > 0, "the workload must actually contend");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reapply_loses_nothing_with_412() {
    let (doc, conflicts) = run(MismatchStatus::PreconditionFailed, || Strategy::Reapply).await;
    assert_nothing_lost(&doc, conflicts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reapply_loses_nothing_with_409() {
    let (doc, conflicts) = run(MismatchStatus::Conflict, || Strategy::Reapply).await;
    assert_nothing_lost(&doc, conflicts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_way_merge_loses_nothing_with_412() {
    let (doc, conflicts) = run(MismatchStatus::PreconditionFailed, counter_merge).await;
    assert_nothing_lost(&doc, conflicts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_way_merge_loses_nothing_with_409() {
    let (doc, conflicts) = run(MismatchStatus::Conflict, counter_merge).await;
    assert_nothing_lost(&doc, conflicts);
}

/// The same 16 × 50 increments with plain GET-then-PUT and no If-Match. The barrier between the
/// read and the write makes the writers' read-modify-write windows overlap every round, as they
/// do by chance under real load, so the outcome is deterministic rather than lucky.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn naive_unconditional_client_loses_updates() {
    let server = spawn(Config::new()).await.unwrap();
    let http = reqwest::Client::new();
    let collection = format!("{}/items", server.base_url());
    let created = http
        .post(&collection)
        .json(&json!({"n": 0}))
        .send()
        .await
        .unwrap();
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let item = format!("{}{location}", server.base_url());
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut writers = Vec::new();
    for _ in 0..TASKS {
        let (http, item, barrier) = (http.clone(), item.clone(), barrier.clone());
        writers.push(tokio::spawn(async move {
            for _ in 0..INCREMENTS {
                let mut doc: Value = http.get(&item).send().await.unwrap().json().await.unwrap();
                barrier.wait().await;
                doc["n"] = (doc["n"].as_i64().unwrap() + 1).into();
                let put = http.put(&item).json(&doc).send().await.unwrap();
                assert!(
                    put.status().is_success(),
                    "the naive write is accepted: {}",
                    put.status()
                );
                barrier.wait().await;
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let doc: Value = http.get(&item).send().await.unwrap().json().await.unwrap();
    server.shutdown().await;
    let n = doc["n"].as_u64().unwrap();
    assert!(
        n < (TASKS * INCREMENTS) as u64,
        "expected lost updates, got {n}"
    );
    // Every round all writers read the same value, so each round nets exactly one increment.
    assert_eq!(n, INCREMENTS as u64);
}
