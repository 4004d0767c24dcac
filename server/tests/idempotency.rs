//! Idempotency keys: a keyed write is processed once per client and key; a retry gets the first
//! answer (`Idempotent-Replayed: true`), another request under the key 422, a retry while the
//! first is processed 409; records expire and are capped; 5xx answers are not kept.

mod support;

use std::time::Duration;

use ifmatch_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use support::{etag_of, expect_problem, header, Backend, TestServer};

const JSON: (&str, &str) = ("content-type", "application/json");
const KEY: (&str, &str) = (
    "idempotency-key",
    "\"0b0c6a57-3c1e-4f53-9d1a-5b8e4f7b2a10\"",
);

async fn count_items(server: &TestServer) -> usize {
    let response = server.get("/items", &[]).await;
    let body: Value = response.json().await.unwrap();
    body.as_array()
        .or_else(|| body["items"].as_array())
        .map_or(0, Vec::len)
}

async fn post(server: &TestServer, headers: &[(&str, &str)], body: &str) -> reqwest::Response {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    server.send(Method::POST, "/items", &all, Some(body)).await
}

async fn a_keyed_post_creates_once_and_replays_its_answer(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let first = post(&server, &[KEY], r#"{"n":1}"#).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let (location, etag) = (header(&first, "location"), etag_of(first.headers()));
    let first_body: Value = first.json().await.unwrap();
    let again = post(&server, &[KEY], r#"{"n":1}"#).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(header(&again, "idempotent-replayed"), "true");
    assert_eq!(header(&again, "location"), location);
    assert_eq!(etag_of(again.headers()), etag);
    assert_eq!(
        header(&again, "content-type"),
        "application/json",
        "the replay keeps the first answer's fields"
    );
    assert_eq!(again.json::<Value>().await.unwrap(), first_body);
    assert_eq!(count_items(&server).await, 1, "one resource, not two");
    // Without a key, every POST creates.
    post(&server, &[], r#"{"n":1}"#).await;
    post(&server, &[], r#"{"n":1}"#).await;
    assert_eq!(count_items(&server).await, 3);
    server.shutdown().await;
}

async fn a_keyed_conditional_put_is_applied_once(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let tag = server.seed("/items/c", r#"{"n":0}"#).await;
    let headers = [KEY, ("if-match", tag.as_str())];
    let first = server.put("/items/c", &headers, r#"{"n":1}"#).await;
    assert_eq!(first.status(), StatusCode::OK);
    let new_tag = etag_of(first.headers());
    // Without the key the retry would fail its If-Match (412): the replay says what happened.
    let again = server.put("/items/c", &headers, r#"{"n":1}"#).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(etag_of(again.headers()), new_tag);
    let (body, current) = server.read("/items/c").await;
    assert_eq!((body["n"].as_i64(), current), (Some(1), new_tag));
    let unkeyed = server
        .put("/items/c", &[("if-match", tag.as_str())], r#"{"n":1}"#)
        .await;
    assert_eq!(unkeyed.status(), StatusCode::PRECONDITION_FAILED);
    server.shutdown().await;
}

async fn a_key_reused_for_another_request_answers_422_and_changes_nothing(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let tag = server.seed("/items/r", r#"{"n":0}"#).await;
    let patch = [KEY, ("if-match", tag.as_str())];
    let first = server.patch("/items/r", &patch, r#"{"n":1}"#).await;
    assert_eq!(first.status(), StatusCode::OK);
    let (_, after_first) = server.read("/items/r").await;
    for (method, path, body) in [
        (Method::PATCH, "/items/r", r#"{"n":2}"#),
        (Method::PATCH, "/items/other", r#"{"n":1}"#),
        (Method::PUT, "/items/r", r#"{"n":1}"#),
    ] {
        let content_type = if method == Method::PATCH {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        let headers = [
            KEY,
            ("if-match", tag.as_str()),
            ("content-type", content_type),
        ];
        let reused = server.send(method, path, &headers, Some(body)).await;
        let problem = expect_problem(reused, 422, "idempotency-key-reused").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("different request"),
            "{problem}"
        );
    }
    let (body, current) = server.read("/items/r").await;
    assert_eq!((body["n"].as_i64(), current), (Some(1), after_first));
    server.shutdown().await;
}

both_storages!(
    a_keyed_post_creates_once_and_replays_its_answer,
    a_keyed_conditional_put_is_applied_once,
    a_key_reused_for_another_request_answers_422_and_changes_nothing,
);

#[tokio::test]
async fn keys_belong_to_their_client() {
    let config = Config::new()
        .with_client_token("alice", "alice-token")
        .with_client_token("bob", "bob-token");
    let server = TestServer::start(Backend::Memory, config).await;
    let alice = post(
        &server,
        &[KEY, ("authorization", "Bearer alice-token")],
        "{}",
    )
    .await;
    let bob = post(&server, &[KEY, ("authorization", "Bearer bob-token")], "{}").await;
    assert_eq!(alice.status(), StatusCode::CREATED);
    assert_eq!(bob.status(), StatusCode::CREATED);
    assert!(bob.headers().get("idempotent-replayed").is_none());
    assert_ne!(header(&alice, "location"), header(&bob, "location"));
    assert_eq!(count_items(&server).await, 2);
    server.shutdown().await;
}

#[tokio::test]
async fn a_retry_while_the_first_is_processed_answers_409_then_gets_the_outcome() {
    let server = TestServer::start_default(Backend::Memory).await;
    server.seed("/items/l", "{}").await;
    let held = server
        .send(Method::POST, "/items/l/lock", &[JSON], Some("{}"))
        .await;
    assert_eq!(held.status(), StatusCode::CREATED);
    let token = header(&held, "lock-token");
    // A keyed lock request waits in the queue: in flight until the holder releases.
    let waiting = {
        let (client, url) = (server.client.clone(), server.url("/items/l/lock"));
        tokio::spawn(async move {
            client
                .post(url)
                .header(KEY.0, KEY.1)
                .header("content-type", "application/json")
                .body(r#"{"wait_ms": 60000}"#)
                .send()
                .await
                .unwrap()
        })
    };
    let lock_body = r#"{"wait_ms": 60000}"#;
    let headers = [KEY, ("content-type", "application/json")];
    let mut in_flight = None;
    // The waiter is queued once GET …/lock counts it; only then is the retry a sure 409.
    for _ in 0..1000 {
        let lock: Value = server.get("/items/l/lock", &[]).await.json().await.unwrap();
        if lock["waiters"] == 1 {
            in_flight = Some(
                server
                    .send(Method::POST, "/items/l/lock", &headers, Some(lock_body))
                    .await,
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let in_flight = in_flight.expect("the keyed lock request was queued");
    assert_eq!(header(&in_flight, "retry-after"), "1");
    expect_problem(in_flight, 409, "idempotency-key-in-flight").await;
    let release = server
        .delete("/items/l/lock", &[("lock-token", token.as_str())])
        .await;
    assert_eq!(release.status(), StatusCode::NO_CONTENT);
    let granted = waiting.await.unwrap();
    assert_eq!(granted.status(), StatusCode::CREATED);
    let granted_token = header(&granted, "lock-token");
    let replay = server
        .send(Method::POST, "/items/l/lock", &headers, Some(lock_body))
        .await;
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(header(&replay, "idempotent-replayed"), "true");
    assert_eq!(
        header(&replay, "lock-token"),
        granted_token,
        "the token is replayed too"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn server_errors_are_not_kept_so_a_retry_is_processed_afresh() {
    let server = TestServer::start(Backend::Memory, Config::new().with_max_lock_waiters(0)).await;
    server.seed("/items/q", "{}").await;
    let held = server
        .send(Method::POST, "/items/q/lock", &[JSON], Some("{}"))
        .await;
    let token = header(&held, "lock-token");
    let headers = [KEY, ("content-type", "application/json")];
    let body = Some(r#"{"wait_ms": 1000}"#);
    let full = server
        .send(Method::POST, "/items/q/lock", &headers, body)
        .await;
    expect_problem(full, 503, "lock-queue-full").await;
    server
        .delete("/items/q/lock", &[("lock-token", token.as_str())])
        .await;
    let retried = server
        .send(Method::POST, "/items/q/lock", &headers, body)
        .await;
    assert_eq!(retried.status(), StatusCode::CREATED);
    assert!(retried.headers().get("idempotent-replayed").is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn malformed_keys_answer_400_and_do_nothing() {
    let server = TestServer::start_default(Backend::Memory).await;
    for bad in ["\"unterminated", "two words", "\"\""] {
        let response = post(&server, &[("idempotency-key", bad)], "{}").await;
        let problem = expect_problem(response, 400, "invalid-header").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{problem}"
        );
    }
    assert_eq!(count_items(&server).await, 0);
    // Reads ignore the field.
    let read = server
        .get("/items", &[("idempotency-key", "two words")])
        .await;
    assert_eq!(read.status(), StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test]
async fn expired_and_evicted_records_are_processed_afresh() {
    let config = Config::new()
        .with_idempotency_ttl(Duration::from_millis(1))
        .with_idempotency_max_keys(1);
    let server = TestServer::start(Backend::Memory, config).await;
    post(&server, &[KEY], "{}").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let after_ttl = post(&server, &[KEY], "{}").await;
    assert!(after_ttl.headers().get("idempotent-replayed").is_none());
    assert_eq!(count_items(&server).await, 2);

    let capped =
        TestServer::start(Backend::Memory, Config::new().with_idempotency_max_keys(1)).await;
    post(&capped, &[("idempotency-key", "\"a\"")], "{}").await;
    let replayed = post(&capped, &[("idempotency-key", "\"a\"")], "{}").await;
    assert_eq!(header(&replayed, "idempotent-replayed"), "true");
    post(&capped, &[("idempotency-key", "\"b\"")], "{}").await; // evicts a
    let evicted = post(&capped, &[("idempotency-key", "\"a\"")], "{}").await;
    assert!(evicted.headers().get("idempotent-replayed").is_none());
    assert_eq!(count_items(&capped).await, 3);
    server.shutdown().await;
    capped.shutdown().await;
}
