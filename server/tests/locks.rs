//! Pessimistic locks: take, show, renew, release, break; tokens; expiry; bad input.
//! Writes under a lock are in `lock_writes.rs`, queues and concurrent lockers in `lock_queue.rs`.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ifmatch_server::{spawn, Config, Storage};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::locks::unix_ms;
use support::{expect_problem, Backend, TestServer};

both_storages!(
    acquire_show_renew_release_and_acquire_again,
    breaking_frees_the_lock_and_voids_its_token,
    locking_a_missing_document_is_404,
    ttl_is_capped_at_the_server_maximum,
    tokens_are_unique_and_fencing_numbers_grow,
    an_expired_lock_goes_to_the_next_locker_without_a_release,
    malformed_lock_requests_are_explained,
);

async fn acquire_show_renew_release_and_acquire_again(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/doc", r#"{"n":1}"#).await;
    let before = unix_ms();
    let response = server
        .lock("/items/doc", r#"{"owner":"alice","ttl_ms":5000}"#)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["location"], "/items/doc/lock");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let token_header = response.headers()["lock-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let granted: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        token_header,
        format!("\"{}\"", granted["token"].as_str().unwrap())
    );
    assert_eq!(granted["owner"], "alice");
    assert_eq!(granted["ttl_ms"], 5000);
    let expires = granted["expires_at_ms"].as_u64().unwrap();
    assert!(
        (before + 5000..=unix_ms() + 5000).contains(&expires),
        "{granted}"
    );
    let fencing = granted["fencing"].as_u64().unwrap();

    let shown = server.lock_state("/items/doc").await.expect("locked");
    assert_eq!(
        shown,
        json!({"owner":"alice","expires_at_ms":expires,"ttl_ms":5000,"fencing":fencing,"waiters":0}),
        "GET shows the lock without its token"
    );

    let renewed = server
        .send(
            Method::PUT,
            "/items/doc/lock",
            &[
                ("lock-token", &token_header),
                ("content-type", "application/json"),
            ],
            Some(r#"{"ttl_ms":10000}"#),
        )
        .await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let renewed: serde_json::Value = renewed.json().await.unwrap();
    assert_eq!(renewed["token"], granted["token"]);
    assert_eq!(renewed["fencing"], fencing);
    assert_eq!(renewed["ttl_ms"], 10000);
    assert!(renewed["expires_at_ms"].as_u64().unwrap() > expires);
    let again = server
        .send(
            Method::PUT,
            "/items/doc/lock",
            &[("lock-token", &token_header)],
            None,
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again["ttl_ms"], 10000, "no body keeps the last TTL");

    let released = server
        .delete("/items/doc/lock", &[("lock-token", &token_header)])
        .await;
    assert_eq!(released.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.lock_state("/items/doc").await, None);

    let next = server.acquire("/items/doc", "").await;
    assert_eq!(next.body["owner"], serde_json::Value::Null);
    assert_eq!(next.body["ttl_ms"], 30_000, "the default TTL");
    assert!(next.body["fencing"].as_u64().unwrap() > fencing);
    assert_ne!(next.body["token"], granted["token"]);
    server.shutdown().await;
}

async fn breaking_frees_the_lock_and_voids_its_token(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let etag = server.seed("/items/doc", r#"{"n":1}"#).await;
    let held = server.acquire("/items/doc", r#"{"owner":"alice"}"#).await;
    for _ in 0..2 {
        let broken = server.delete("/items/doc/lock?break=true", &[]).await;
        assert_eq!(
            broken.status(),
            StatusCode::NO_CONTENT,
            "break is idempotent"
        );
    }
    assert_eq!(server.lock_state("/items/doc").await, None);
    let (name, value) = held.header();
    let write = server
        .put("/items/doc", &[(name, &value)], r#"{"n":2}"#)
        .await;
    expect_problem(write, 412, "lock-token-invalid").await;
    let release = server.delete("/items/doc/lock", &[(name, &value)]).await;
    expect_problem(release, 412, "lock-token-invalid").await;
    assert_eq!(server.read("/items/doc").await, (json!({"n":1}), etag));
    server.shutdown().await;
}

async fn locking_a_missing_document_is_404(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    expect_problem(server.lock("/items/absent", "{}").await, 404, "not-found").await;
    expect_problem(
        server.get("/items/absent/lock", &[]).await,
        404,
        "not-found",
    )
    .await;
    server.shutdown().await;
}

async fn ttl_is_capped_at_the_server_maximum(backend: Backend) {
    let config = Config::new().with_max_lock_ttl(Duration::from_millis(2000));
    let server = TestServer::start(backend, config).await;
    server.seed("/items/doc", "{}").await;
    let held = server.acquire("/items/doc", r#"{"ttl_ms":60000}"#).await;
    assert_eq!(held.body["ttl_ms"], 2000);
    let (name, value) = held.header();
    let renewed = server
        .send(
            Method::PUT,
            "/items/doc/lock",
            &[(name, &value), ("content-type", "application/json")],
            Some(r#"{"ttl_ms":99999}"#),
        )
        .await;
    assert_eq!(
        renewed.json::<serde_json::Value>().await.unwrap()["ttl_ms"],
        2000
    );
    server.release("/items/doc", &held).await;
    let default = server.acquire("/items/doc", "").await;
    assert_eq!(
        default.body["ttl_ms"], 2000,
        "the 30 s default is capped too"
    );
    server.shutdown().await;
}

async fn tokens_are_unique_and_fencing_numbers_grow(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/a", "{}").await;
    server.seed("/items/b", "{}").await;
    let (mut tokens, mut last_fencing) = (HashSet::new(), 0);
    for round in 0..50 {
        let path = if round % 2 == 0 {
            "/items/a"
        } else {
            "/items/b"
        };
        let held = server.acquire(path, "{}").await;
        assert!(
            tokens.insert(held.token.clone()),
            "token reused in round {round}"
        );
        let fencing = held.body["fencing"].as_u64().unwrap();
        assert!(
            fencing > last_fencing,
            "fencing {fencing} after {last_fencing}"
        );
        last_fencing = fencing;
        server.release(path, &held).await;
    }
    server.shutdown().await;
}

async fn an_expired_lock_goes_to_the_next_locker_without_a_release(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/doc", "{}").await;
    let acquired = Instant::now();
    server
        .acquire("/items/doc", r#"{"owner":"alice","ttl_ms":1000}"#)
        .await;
    let busy = server.lock("/items/doc", r#"{"owner":"bob"}"#).await;
    if acquired.elapsed() < Duration::from_millis(900) {
        expect_problem(busy, 423, "locked").await;
    }
    // A queued request is woken at the expiry, not by polling or a release.
    let waited = server
        .lock("/items/doc", r#"{"owner":"bob","wait_ms":20000}"#)
        .await;
    assert_eq!(waited.status(), StatusCode::CREATED);
    assert!(
        acquired.elapsed() >= Duration::from_millis(990),
        "{:?}",
        acquired.elapsed()
    );
    let bob: serde_json::Value = waited.json().await.unwrap();
    assert_eq!(bob["owner"], "bob");
    assert_eq!(
        server.lock_state("/items/doc").await.unwrap()["owner"],
        "bob"
    );
    server.shutdown().await;
}

async fn malformed_lock_requests_are_explained(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/doc", "{}").await;
    for body in [
        "{",
        r#"{"ttl":5}"#,
        r#"{"ttl_ms":0}"#,
        r#"{"ttl_ms":-1}"#,
        r#"{"wait_ms":"soon"}"#,
        &format!(r#"{{"owner":"{}"}}"#, "x".repeat(257)),
    ] {
        expect_problem(server.lock("/items/doc", body).await, 400, "malformed-body").await;
    }
    let text = server
        .send(
            Method::POST,
            "/items/doc/lock",
            &[("content-type", "text/plain")],
            Some("x"),
        )
        .await;
    expect_problem(text, 415, "unsupported-media-type").await;
    assert_eq!(
        server.lock_state("/items/doc").await,
        None,
        "no lock was taken"
    );
    let held = server.acquire("/items/doc", "{}").await;
    for method in [Method::PUT, Method::DELETE] {
        let response = server.send(method, "/items/doc/lock", &[], None).await;
        let body = expect_problem(response, 400, "invalid-header").await;
        assert!(
            body["detail"].as_str().unwrap().contains("Lock-Token"),
            "{body}"
        );
    }
    let bad = server
        .put("/items/doc", &[("lock-token", "\"open")], "{}")
        .await;
    expect_problem(bad, 400, "invalid-header").await;
    let query = server.delete("/items/doc/lock?break=maybe", &[]).await;
    expect_problem(query, 400, "invalid-query").await;
    let patch = server
        .send(Method::PATCH, "/items/doc/lock", &[], None)
        .await;
    assert_eq!(patch.headers()["allow"], "GET, HEAD, POST, PUT, DELETE");
    expect_problem(patch, 405, "method-not-allowed").await;
    assert!(
        server.lock_state("/items/doc").await.is_some(),
        "still held"
    );
    server.release("/items/doc", &held).await;
    server.shutdown().await;
}

/// Locks live in the server process: a restart forgets them, and a token from before the
/// restart names no lock afterwards, even though the SQLite file keeps the documents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_two_boots_differ_and_old_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new().with_storage(Storage::Sqlite(dir.path().join("items.db")));
    let client = reqwest::Client::new();
    let lock = |base: String| {
        let client = client.clone();
        async move {
            let response = client
                .post(format!("{base}/items/doc/lock"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::CREATED);
            response.headers()["lock-token"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    let first = spawn(config.clone()).await.unwrap();
    let created = client
        .put(format!("{}/items/doc", first.base_url()))
        .header("content-type", "application/json")
        .body(r#"{"n":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let before = lock(first.base_url()).await;
    first.shutdown().await;

    let second = spawn(config).await.unwrap();
    let base = second.base_url();
    let stale = client
        .put(format!("{base}/items/doc"))
        .header("content-type", "application/json")
        .header("lock-token", &before)
        .body(r#"{"n":2}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let after = lock(base.clone()).await;
    assert_ne!(before, after);
    let doc: serde_json::Value = client
        .get(format!("{base}/items/doc"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc, json!({"n":1}));
    second.shutdown().await;
}
