//! The lock metrics of `/metrics` with three reference servers (replicas) on one PostgreSQL
//! database: every replica reports the database's locks and queues, whichever replica took
//! them (`ifmatch_locks_held`, `ifmatch_lock_waiters`, read by SQL at each scrape); grants
//! (`ifmatch_lock_wait_seconds`) are counted by the replica that made them.
//!
//! Starts a throwaway PostgreSQL cluster (Debian's `postgresql`, see
//! `server/src/storage/postgres/cluster.rs`); without it installed the test prints why it is
//! skipped, except under `CI=true`, where that is a failure.

mod pg;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use pg::{bases, create, replicas, shutdown};

/// The value of the sample `name` (no labels) in `base`'s `/metrics`.
async fn gauge(http: &reqwest::Client, base: &str, name: &str) -> f64 {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
        .parse()
        .unwrap()
}

async fn lock(http: &reqwest::Client, base: &str, id: &str, body: Value) -> (StatusCode, Value) {
    let answer = http
        .post(format!("{base}/items/{id}/lock"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (answer.status(), answer.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn locks_and_waiters_of_one_replica_show_in_another_replicas_metrics_and_grants_where_made() {
    let Some((_cluster, _, servers)) = replicas("replica lock metrics", 3).await else {
        return;
    };
    let http = reqwest::Client::new();
    let [a, b, c] = <[String; 3]>::try_from(bases(&servers)).unwrap();
    for id in ["one", "two"] {
        create(&http, &a, id).await;
    }
    assert_eq!(gauge(&http, &b, "ifmatch_locks_held").await, 0.0);
    // Two locks taken through A: B, which took none, counts both (it counted 0 before).
    let (status, first) = lock(&http, &a, "one", json!({"ttl_ms": 60_000})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = lock(&http, &a, "two", json!({"ttl_ms": 60_000})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(gauge(&http, &b, "ifmatch_locks_held").await, 2.0);
    assert_eq!(gauge(&http, &b, "ifmatch_lock_waiters").await, 0.0);
    // A request queued through C shows as a waiter in B's metrics.
    let queued = tokio::spawn({
        let (http, c) = (http.clone(), c.clone());
        async move { lock(&http, &c, "one", json!({"wait_ms": 30_000})).await }
    });
    let mut waiting = 0.0;
    for _ in 0..100 {
        waiting = gauge(&http, &b, "ifmatch_lock_waiters").await;
        if waiting > 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        waiting, 1.0,
        "the queued request never showed in B's metrics"
    );
    // Released through B: the waiter on C gets the lock, nobody waits, two are still held.
    let token = first["token"].as_str().unwrap();
    let released = http
        .delete(format!("{b}/items/one/lock"))
        .header("lock-token", format!("\"{token}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(released.status(), StatusCode::NO_CONTENT);
    assert_eq!(queued.await.unwrap().0, StatusCode::CREATED);
    for base in [&a, &b, &c] {
        assert_eq!(gauge(&http, base, "ifmatch_locks_held").await, 2.0);
        assert_eq!(gauge(&http, base, "ifmatch_lock_waiters").await, 0.0);
    }
    // Grants are counted by the replica that made them: two through A, the queued one
    // through C, none through B.
    let grants = "ifmatch_lock_wait_seconds_count";
    assert_eq!(gauge(&http, &a, grants).await, 2.0);
    assert_eq!(gauge(&http, &a, "ifmatch_lock_wait_seconds_sum").await, 0.0);
    assert_eq!(gauge(&http, &b, grants).await, 0.0);
    assert_eq!(gauge(&http, &c, grants).await, 1.0);
    assert!(gauge(&http, &c, "ifmatch_lock_wait_seconds_sum").await > 0.0);
    shutdown(servers).await;
}
