//! Writes to locked documents: 423 without the token, the holder's writes (If-Match still
//! applies), and 412 for a token that no longer holds the lock, even when nobody does.

mod support;

use std::time::Duration;

use ifmatch_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::locks::retry_after;
use support::{etag_of, expect_problem, Backend, TestServer};

both_storages!(
    writes_without_the_token_are_423_and_change_nothing,
    the_holder_writes_with_its_token_and_if_match_still_applies,
    released_expired_or_unknown_tokens_are_412_even_when_unlocked,
    a_stale_token_is_412_while_someone_else_holds_the_lock,
    a_lock_token_counts_as_a_precondition_when_they_are_required,
);

async fn writes_without_the_token_are_423_and_change_nothing(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let etag = server.seed("/items/doc", r#"{"n":1}"#).await;
    let held = server
        .acquire("/items/doc", r#"{"owner":"alice","ttl_ms":30000}"#)
        .await;
    let attempts = [
        server.put("/items/doc", &[], r#"{"n":2}"#).await,
        server
            .put("/items/doc", &[("if-match", &etag)], r#"{"n":2}"#)
            .await,
        server.patch("/items/doc", &[], r#"{"n":2}"#).await,
        server.delete("/items/doc", &[("if-match", &etag)]).await,
    ];
    for response in attempts {
        let seconds = retry_after(&response);
        assert!((1..=30).contains(&seconds), "Retry-After {seconds}");
        let body = expect_problem(response, 423, "locked").await;
        assert_eq!(body["owner"], "alice");
        assert_eq!(body["expires_at_ms"], held.body["expires_at_ms"]);
        assert_eq!(
            server.read("/items/doc").await,
            (json!({"n":1}), etag.clone())
        );
    }
    let second = server.lock("/items/doc", r#"{"owner":"bob"}"#).await;
    assert!(retry_after(&second) >= 1);
    let body = expect_problem(second, 423, "locked").await;
    assert_eq!(body["owner"], "alice");
    server.shutdown().await;
}

async fn the_holder_writes_with_its_token_and_if_match_still_applies(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let stale = server.seed("/items/doc", r#"{"n":1}"#).await;
    let held = server.acquire("/items/doc", r#"{"owner":"alice"}"#).await;
    let (name, value) = held.header();
    let put = server
        .put("/items/doc", &[(name, &value)], r#"{"n":2}"#)
        .await;
    assert_eq!(put.status(), StatusCode::OK);
    let current = etag_of(put.headers());
    for response in [
        server
            .put(
                "/items/doc",
                &[(name, &value), ("if-match", &stale)],
                r#"{"n":9}"#,
            )
            .await,
        server
            .patch(
                "/items/doc",
                &[(name, &value), ("if-match", &stale)],
                r#"{"n":9}"#,
            )
            .await,
    ] {
        let body = expect_problem(response, 412, "precondition-failed").await;
        assert_eq!(body["current_etag"], current);
        assert_eq!(
            server.read("/items/doc").await,
            (json!({"n":2}), current.clone())
        );
    }
    let patched = server
        .patch(
            "/items/doc",
            &[(name, &value), ("if-match", &current)],
            r#"{"m":3}"#,
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let deleted = server.delete("/items/doc", &[(name, &value)]).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        server.lock_state("/items/doc").await,
        None,
        "the lock ends with the document"
    );
    server.shutdown().await;
}

async fn released_expired_or_unknown_tokens_are_412_even_when_unlocked(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let etag = server.seed("/items/doc", r#"{"n":1}"#).await;
    let released = server.acquire("/items/doc", "{}").await;
    server.release("/items/doc", &released).await;
    let expired = server.acquire("/items/doc", r#"{"ttl_ms":100}"#).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        server.lock_state("/items/doc").await,
        None,
        "expired by itself"
    );
    let unknown = (
        "lock-token",
        "\"lock-0000000000000000-1-0000000000000000\"".to_owned(),
    );
    for (name, value) in [released.header(), expired.header(), unknown] {
        let responses = [
            server
                .put("/items/doc", &[(name, &value)], r#"{"n":2}"#)
                .await,
            server
                .patch("/items/doc", &[(name, &value)], r#"{"n":2}"#)
                .await,
            server.delete("/items/doc", &[(name, &value)]).await,
            server
                .send(Method::PUT, "/items/doc/lock", &[(name, &value)], None)
                .await,
        ];
        for response in responses {
            let body = expect_problem(response, 412, "lock-token-invalid").await;
            assert!(body.get("owner").is_none(), "nobody holds it: {body}");
            assert_eq!(
                server.read("/items/doc").await,
                (json!({"n":1}), etag.clone())
            );
        }
    }
    server.shutdown().await;
}

async fn a_stale_token_is_412_while_someone_else_holds_the_lock(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let etag = server.seed("/items/doc", r#"{"n":1}"#).await;
    let old = server.acquire("/items/doc", r#"{"owner":"alice"}"#).await;
    server.release("/items/doc", &old).await;
    let _bob = server.acquire("/items/doc", r#"{"owner":"bob"}"#).await;
    let (name, value) = old.header();
    let response = server
        .put("/items/doc", &[(name, &value)], r#"{"n":2}"#)
        .await;
    assert!(retry_after(&response) >= 1);
    let body = expect_problem(response, 412, "lock-token-invalid").await;
    assert_eq!(body["owner"], "bob");
    assert_eq!(server.read("/items/doc").await, (json!({"n":1}), etag));
    server.shutdown().await;
}

async fn a_lock_token_counts_as_a_precondition_when_they_are_required(backend: Backend) {
    let server = TestServer::start(backend, Config::new().with_require_preconditions(true)).await;
    server
        .put("/items/doc", &[("if-none-match", "*")], "1")
        .await;
    let held = server.acquire("/items/doc", "{}").await;
    let (name, value) = held.header();
    let put = server.put("/items/doc", &[(name, &value)], "2").await;
    assert_eq!(put.status(), StatusCode::OK);
    expect_problem(
        server.put("/items/doc", &[], "3").await,
        428,
        "precondition-required",
    )
    .await;
    server.shutdown().await;
}
