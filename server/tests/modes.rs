//! The optional modes: `--require-preconditions` (428) and `--mismatch-status 409`.

mod support;

use ifmatch_server::{Config, MismatchStatus};
use reqwest::StatusCode;
use serde_json::json;
use support::{etag_of, expect_problem, Backend, TestServer};

both_storages!(
    unconditional_writes_answer_428_naming_if_match,
    conditional_writes_pass_when_preconditions_are_required,
    conflict_mode_answers_409_with_the_current_etag,
    conflict_mode_keeps_412_for_if_none_match_and_missing_documents,
);

async fn unconditional_writes_answer_428_naming_if_match(backend: Backend) {
    let config = Config::new().with_require_preconditions(true);
    let server = TestServer::start(backend, config).await;
    let created = server
        .put("/items/doc", &[("if-none-match", "*")], "1")
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let responses = [
        server.put("/items/doc", &[], "2").await,
        server.patch("/items/doc", &[], "{}").await,
        server.delete("/items/doc", &[]).await,
    ];
    for response in responses {
        let body = expect_problem(response, 428, "precondition-required").await;
        assert!(
            body["detail"].as_str().unwrap().contains("If-Match"),
            "{body}"
        );
    }
    assert_eq!(server.read("/items/doc").await.0, json!(1));
    server.shutdown().await;
}

async fn conditional_writes_pass_when_preconditions_are_required(backend: Backend) {
    let config = Config::new().with_require_preconditions(true);
    let server = TestServer::start(backend, config).await;
    let created = server
        .put("/items/doc", &[("if-none-match", "*")], "1")
        .await;
    let v1 = etag_of(created.headers());
    let replaced = server.put("/items/doc", &[("if-match", &v1)], "2").await;
    assert_eq!(replaced.status(), StatusCode::OK);
    let v2 = etag_of(replaced.headers());
    let patched = server.patch("/items/doc", &[("if-match", &v2)], "{}").await;
    assert_eq!(patched.status(), StatusCode::OK);
    let v3 = etag_of(patched.headers());
    let deleted = server.delete("/items/doc", &[("if-match", &v3)]).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    server.shutdown().await;
}

async fn conflict_mode_answers_409_with_the_current_etag(backend: Backend) {
    let config = Config::new().with_mismatch_status(MismatchStatus::Conflict);
    let server = TestServer::start(backend, config).await;
    let stale = server.seed("/items/doc", r#"{"n":1}"#).await;
    let current = server.seed("/items/doc", r#"{"n":2}"#).await;
    let weak = format!("W/{current}");
    let responses = [
        server.put("/items/doc", &[("if-match", &stale)], "3").await,
        server.put("/items/doc", &[("if-match", &weak)], "3").await,
        server
            .patch("/items/doc", &[("if-match", &stale)], "{}")
            .await,
        server.delete("/items/doc", &[("if-match", &stale)]).await,
    ];
    for response in responses {
        assert_eq!(etag_of(response.headers()), current);
        let body = expect_problem(response, 409, "version-conflict").await;
        assert_eq!(body["current_etag"], current);
    }
    assert_eq!(server.read("/items/doc").await, (json!({"n": 2}), current));
    server.shutdown().await;
}

async fn conflict_mode_keeps_412_for_if_none_match_and_missing_documents(backend: Backend) {
    let config = Config::new().with_mismatch_status(MismatchStatus::Conflict);
    let server = TestServer::start(backend, config).await;
    server.seed("/items/doc", "1").await;
    let exists = server
        .put("/items/doc", &[("if-none-match", "*")], "2")
        .await;
    expect_problem(exists, 412, "precondition-failed").await;
    let missing = server.put("/items/absent", &[("if-match", "*")], "2").await;
    expect_problem(missing, 412, "precondition-failed").await;
    server.shutdown().await;
}

#[tokio::test]
async fn conflict_mode_keeps_412_for_a_failed_if_match_on_get() {
    let config = Config::new().with_mismatch_status(MismatchStatus::Conflict);
    let server = TestServer::start(Backend::Memory, config).await;
    let current = server.seed("/items/doc", "1").await;
    let response = server.get("/items/doc", &[("if-match", "\"stale\"")]).await;
    let body = expect_problem(response, 412, "precondition-failed").await;
    assert_eq!(body["current_etag"], current);
    server.shutdown().await;
}
