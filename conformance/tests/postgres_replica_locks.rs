//! Pessimistic locks across three reference servers (replicas) on one PostgreSQL database:
//! the replicas behave as one server. A lock taken on one replica refuses writes without its
//! token on another (423) and admits them with it; waiters on different replicas are served
//! first come, first served when the holder releases on yet another; an expired holder hands
//! over to a waiter on another replica; `stress --strategy lock` spread over the replicas loses
//! no update.
//!
//! Each test starts a throwaway PostgreSQL cluster (Debian's `postgresql`, see
//! `server/src/storage/postgres/cluster.rs`); without it installed the tests print why they
//! are skipped, except under `CI=true`, where that is a failure.

mod pg;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ifmatch_conformance::stress::{self, StrategyArg, StressConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};

use pg::{bases, create, replicas, shutdown};

/// `POST …/lock` with `body`; the status and the token, if granted.
async fn lock(http: &reqwest::Client, base: &str, id: &str, body: Value) -> (StatusCode, String) {
    let answer = http
        .post(format!("{base}/items/{id}/lock"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let body: Value = answer.json().await.unwrap();
    let token = body["token"].as_str().unwrap_or_default().to_owned();
    (status, token)
}

/// An unconditional `PUT` of `{"n": n}`, with `token` as `Lock-Token` when given.
async fn put(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    n: u32,
    token: Option<&str>,
) -> StatusCode {
    let mut request = http
        .put(format!("{base}/items/{id}"))
        .json(&json!({"n": n}));
    if let Some(token) = token {
        request = request.header("lock-token", format!("\"{token}\""));
    }
    request.send().await.unwrap().status()
}

async fn release(http: &reqwest::Client, base: &str, id: &str, token: &str) -> StatusCode {
    http.delete(format!("{base}/items/{id}/lock"))
        .header("lock-token", format!("\"{token}\""))
        .send()
        .await
        .unwrap()
        .status()
}

/// `GET …/lock` through `base`: how many wait (`None` when nobody holds the lock).
async fn waiters(http: &reqwest::Client, base: &str, id: &str) -> Option<u64> {
    let answer = http
        .get(format!("{base}/items/{id}/lock"))
        .send()
        .await
        .unwrap();
    if answer.status() == StatusCode::NOT_FOUND {
        return None;
    }
    let body: Value = answer.json().await.unwrap();
    body["waiters"].as_u64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lock_taken_on_one_replica_binds_writes_on_the_others() {
    let Some((_cluster, _, servers)) = replicas("replica locks: one lock", 3).await else {
        return;
    };
    let http = reqwest::Client::new();
    let [a, b, c] = <[String; 3]>::try_from(bases(&servers)).unwrap();
    create(&http, &a, "doc").await;
    let (status, token) = lock(&http, &a, "doc", json!({"ttl_ms": 60_000})).await;
    assert_eq!(status, StatusCode::CREATED);
    // Seen by every replica: a second locker and a write without the token are refused.
    assert_eq!(
        lock(&http, &c, "doc", json!({})).await.0,
        StatusCode::LOCKED
    );
    assert_eq!(put(&http, &b, "doc", 1, None).await, StatusCode::LOCKED);
    assert_eq!(waiters(&http, &c, "doc").await, Some(0));
    // The holder writes through any replica with its token.
    assert_eq!(put(&http, &b, "doc", 2, Some(&token)).await, StatusCode::OK);
    assert_eq!(put(&http, &c, "doc", 3, Some(&token)).await, StatusCode::OK);
    assert_eq!(
        release(&http, &b, "doc", &token).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(waiters(&http, &a, "doc").await, None);
    // The released token is refused everywhere, even once somebody else holds a new lock.
    assert_eq!(
        put(&http, &a, "doc", 4, Some(&token)).await,
        StatusCode::PRECONDITION_FAILED
    );
    let (status, second) = lock(&http, &c, "doc", json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(second, token);
    assert_eq!(
        put(&http, &b, "doc", 5, Some(&token)).await,
        StatusCode::PRECONDITION_FAILED
    );
    assert_eq!(
        release(&http, &a, "doc", &token).await,
        StatusCode::PRECONDITION_FAILED
    );
    let read: Value = http
        .get(format!("{a}/items/doc"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read, json!({"n": 3}));
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn waiters_on_three_replicas_get_the_lock_in_arrival_order() {
    let Some((_cluster, _, servers)) = replicas("replica locks: FIFO", 3).await else {
        return;
    };
    let http = reqwest::Client::new();
    let bases = bases(&servers);
    create(&http, &bases[0], "fifo").await;
    let (status, first) = lock(&http, &bases[0], "fifo", json!({"ttl_ms": 60_000})).await;
    assert_eq!(status, StatusCode::CREATED);
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut waiting = Vec::new();
    // Waiter n queues on replica n+1 (mod 3), only once the previous one is in line.
    for n in 0..3_usize {
        let (client, order) = (http.clone(), Arc::clone(&order));
        let (on, off) = (bases[(n + 1) % 3].clone(), bases[(n + 2) % 3].clone());
        waiting.push(tokio::spawn(async move {
            let body = json!({"ttl_ms": 60_000, "wait_ms": 60_000, "owner": format!("w{n}")});
            let (status, token) = lock(&client, &on, "fifo", body).await;
            assert_eq!(status, StatusCode::CREATED, "waiter {n}");
            order.lock().unwrap().push(n);
            // Released through another replica, which hands it to the next in line.
            assert_eq!(
                release(&client, &off, "fifo", &token).await,
                StatusCode::NO_CONTENT
            );
        }));
        let queued = u64::try_from(n + 1).unwrap();
        let mut looks = 0;
        while waiters(&http, &bases[0], "fifo").await != Some(queued) {
            looks += 1;
            assert!(looks < 3000, "waiter {n} never joined the queue");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    assert_eq!(
        release(&http, &bases[2], "fifo", &first).await,
        StatusCode::NO_CONTENT
    );
    for waiter in waiting {
        waiter.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2]);
    assert_eq!(waiters(&http, &bases[1], "fifo").await, None);
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_lock_on_one_replica_goes_to_a_waiter_on_another() {
    let Some((_cluster, _, servers)) = replicas("replica locks: expiry", 3).await else {
        return;
    };
    let http = reqwest::Client::new();
    let [a, b, _] = <[String; 3]>::try_from(bases(&servers)).unwrap();
    create(&http, &a, "exp").await;
    // Never released: its holder went away.
    let (status, abandoned) = lock(&http, &a, "exp", json!({"ttl_ms": 300})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, token) = lock(&http, &b, "exp", json!({"wait_ms": 30_000})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(token, abandoned);
    assert_eq!(
        put(&http, &a, "exp", 1, Some(&abandoned)).await,
        StatusCode::PRECONDITION_FAILED
    );
    assert_eq!(put(&http, &a, "exp", 2, None).await, StatusCode::LOCKED);
    assert_eq!(put(&http, &a, "exp", 3, Some(&token)).await, StatusCode::OK);
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stress_with_locks_over_three_replicas_loses_no_update() {
    let Some((_cluster, _, servers)) = replicas("replica locks: stress", 3).await else {
        return;
    };
    let bases = bases(&servers);
    let mut config = StressConfig::new(&bases[0]);
    config.base_urls = bases.clone();
    config.clients = 6;
    config.updates = 15;
    config.strategy = StrategyArg::Lock;
    config.max_duration = Duration::from_secs(120);
    let s = stress::run(&config).await.unwrap();
    assert_eq!(s.lost_updates, 0, "{s:#?}");
    assert_eq!(s.acknowledged, 90, "{s:#?}");
    assert_eq!(s.final_value, 90, "{s:#?}");
    assert!(s.base_urls.iter().all(|b| b.acknowledged > 0), "{s:#?}");
    shutdown(servers).await;
}
