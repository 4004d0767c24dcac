//! Compare-and-swap under concurrent writers: exactly one writer per version wins.

mod support;

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use support::{etag_of, Backend, TestServer};

both_storages!(
    concurrent_conditional_increments_lose_no_update,
    concurrent_v2_increments_with_a_body_version_lose_no_update,
    writers_racing_on_one_version_have_exactly_one_winner,
    concurrent_unconditional_patches_lose_no_member,
);

const TASKS: usize = 32;
const INCREMENTS: usize = 25;
/// Generous bound so that a broken server fails the test instead of looping forever.
const MAX_ATTEMPTS_PER_TASK: usize = 20_000;

/// 32 tasks × 25 increments, each a GET → PUT If-Match loop until it wins.
async fn concurrent_conditional_increments_lose_no_update(backend: Backend) {
    race_increments(backend, |server: Arc<TestServer>| async move {
        let (doc, etag) = server.read("/items/counter").await;
        let next = json!({"n": doc["n"].as_u64().unwrap() + 1}).to_string();
        server
            .put("/items/counter", &[("if-match", &etag)], &next)
            .await
            .status()
    })
    .await;
}

/// The same increments through API v2, each conditional on the `version` member of its body
/// (no `If-Match`): the body version is checked in the same critical section as the write.
async fn concurrent_v2_increments_with_a_body_version_lose_no_update(backend: Backend) {
    race_increments(backend, |server: Arc<TestServer>| async move {
        let (envelope, _) = server.read("/v2/items/counter").await;
        let n = envelope["data"]["n"].as_u64().unwrap();
        let next = json!({"data": {"n": n + 1}, "version": envelope["version"]});
        server
            .put("/v2/items/counter", &[], &next.to_string())
            .await
            .status()
    })
    .await;
}

/// Seeds `/items/counter` at 0 and runs [`TASKS`] tasks that each repeat `attempt` (read,
/// increment, conditional write; 200 = won, 412 = refused) until it has won [`INCREMENTS`]
/// times; then the counter must read exactly `TASKS * INCREMENTS` and every attempt that did
/// not win must have been answered 412, and nothing else.
async fn race_increments<F, Fut>(backend: Backend, attempt: F)
where
    F: Fn(Arc<TestServer>) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = StatusCode> + Send,
{
    let server = Arc::new(TestServer::start_default(backend).await);
    server.seed("/items/counter", r#"{"n":0}"#).await;
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (server, attempt) = (Arc::clone(&server), attempt.clone());
        tasks.push(tokio::spawn(async move {
            let (mut wins, mut refused, mut attempts) = (0usize, 0usize, 0usize);
            while wins < INCREMENTS {
                attempts += 1;
                assert!(attempts <= MAX_ATTEMPTS_PER_TASK, "task starved");
                match attempt(Arc::clone(&server)).await {
                    StatusCode::OK => wins += 1,
                    StatusCode::PRECONDITION_FAILED => refused += 1,
                    other => panic!("unexpected status {other}"),
                }
            }
            (wins, refused, attempts)
        }));
    }
    let (mut wins, mut refused, mut attempts) = (0, 0, 0);
    for task in tasks {
        let (w, r, a) = task.await.expect("task completes");
        wins += w;
        refused += r;
        attempts += a;
    }
    let (doc, _) = server.read("/items/counter").await;
    assert_eq!(doc, json!({"n": TASKS * INCREMENTS}));
    assert_eq!(wins, TASKS * INCREMENTS);
    // Every attempt that did not win was answered 412, and nothing else.
    assert_eq!(attempts - wins, refused);
    Arc::into_inner(server)
        .expect("tasks done")
        .shutdown()
        .await;
}

/// All writers hold the same ETag; exactly one PUT may succeed and its body must be stored.
async fn writers_racing_on_one_version_have_exactly_one_winner(backend: Backend) {
    let server = Arc::new(TestServer::start_default(backend).await);
    let etag = server.seed("/items/doc", r#"{"writer":null}"#).await;
    let mut tasks = Vec::new();
    for writer in 0..TASKS {
        let server = Arc::clone(&server);
        let etag = etag.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"writer": writer}).to_string();
            let response = server
                .put("/items/doc", &[("if-match", &etag)], &body)
                .await;
            let status = response.status();
            let new_etag = (status == StatusCode::OK).then(|| etag_of(response.headers()));
            (writer, status, new_etag)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (writer, status, new_etag) = task.await.expect("task completes");
        match status {
            StatusCode::OK => winners.push((writer, new_etag.unwrap())),
            StatusCode::PRECONDITION_FAILED => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let (writer, winner_etag) = winners.remove(0);
    assert_eq!(
        server.read("/items/doc").await,
        (json!({"writer": writer}), winner_etag)
    );
    Arc::into_inner(server)
        .expect("tasks done")
        .shutdown()
        .await;
}

/// Merge patches read-modify-write inside the store, so even without If-Match no member is lost.
async fn concurrent_unconditional_patches_lose_no_member(backend: Backend) {
    const PATCHES: usize = 5;
    let server = Arc::new(TestServer::start_default(backend).await);
    server.seed("/items/doc", "{}").await;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let server = Arc::clone(&server);
        tasks.push(tokio::spawn(async move {
            for patch in 0..PATCHES {
                let body = json!({ format!("t{task}p{patch}"): true }).to_string();
                let response = server.patch("/items/doc", &[], &body).await;
                assert_eq!(response.status(), StatusCode::OK);
            }
        }));
    }
    for task in tasks {
        task.await.expect("task completes");
    }
    let (doc, _) = server.read("/items/doc").await;
    assert_eq!(doc.as_object().unwrap().len(), TASKS * PATCHES, "{doc}");
    Arc::into_inner(server)
        .expect("tasks done")
        .shutdown()
        .await;
}
