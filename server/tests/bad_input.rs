//! Bad input gets a 4xx problem+json naming what was wrong; nothing panics.

mod support;

use ifmatch_server::Config;
use reqwest::Method;
use serde_json::{json, Value};
use support::{expect_problem, Backend, TestServer};

both_storages!(
    malformed_json_answers_400_and_changes_nothing,
    wrong_or_missing_content_type_answers_415,
    patch_with_another_media_type_answers_415_with_accept_patch,
    malformed_if_match_or_if_none_match_answers_400,
    oversized_bodies_answer_413,
    unknown_routes_answer_404_problems,
    unsupported_methods_answer_405_with_allow,
);

async fn malformed_json_answers_400_and_changes_nothing(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/doc", r#"{"n":1}"#).await;
    for body in ["{", "", "{\"n\":1} trailing", "nul"] {
        let put = server.put("/items/doc", &[], body).await;
        let problem = expect_problem(put, 400, "malformed-body").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("not valid JSON"),
            "{problem}"
        );
        expect_problem(
            server.patch("/items/doc", &[], body).await,
            400,
            "malformed-body",
        )
        .await;
        let post = server
            .send(
                Method::POST,
                "/items",
                &[("content-type", "application/json")],
                Some(body),
            )
            .await;
        expect_problem(post, 400, "malformed-body").await;
    }
    assert_eq!(server.read("/items/doc").await.0, json!({"n": 1}));
    let listed: Value = server.get("/items", &[]).await.json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    server.shutdown().await;
}

async fn wrong_or_missing_content_type_answers_415(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    for headers in [&[("content-type", "text/plain")][..], &[]] {
        let put = server
            .send(Method::PUT, "/items/doc", headers, Some("{}"))
            .await;
        let problem = expect_problem(put, 415, "unsupported-media-type").await;
        assert!(problem["detail"]
            .as_str()
            .unwrap()
            .contains("application/json"));
        let post = server
            .send(Method::POST, "/items", headers, Some("{}"))
            .await;
        expect_problem(post, 415, "unsupported-media-type").await;
    }
    expect_problem(server.get("/items/doc", &[]).await, 404, "not-found").await;
    server.shutdown().await;
}

async fn patch_with_another_media_type_answers_415_with_accept_patch(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/doc", r#"{"n":1}"#).await;
    let response = server
        .send(
            Method::PATCH,
            "/items/doc",
            &[("content-type", "application/json")],
            Some(r#"{"n":2}"#),
        )
        .await;
    assert_eq!(
        response.headers()["accept-patch"],
        "application/merge-patch+json"
    );
    expect_problem(response, 415, "unsupported-media-type").await;
    assert_eq!(server.read("/items/doc").await.0, json!({"n": 1}));
    server.shutdown().await;
}

async fn malformed_if_match_or_if_none_match_answers_400(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/doc", r#"{"n":1}"#).await;
    for value in ["abc", "\"unterminated", "W/abc", "\"a\" \"b\"", "*, \"a\""] {
        let put = server.put("/items/doc", &[("if-match", value)], "2").await;
        let problem = expect_problem(put, 400, "invalid-header").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("If-Match"),
            "{problem}"
        );
        let get = server.get("/items/doc", &[("if-none-match", value)]).await;
        expect_problem(get, 400, "invalid-header").await;
        let delete = server.delete("/items/doc", &[("if-match", value)]).await;
        expect_problem(delete, 400, "invalid-header").await;
    }
    assert_eq!(server.read("/items/doc").await.0, json!({"n": 1}));
    server.shutdown().await;
}

async fn oversized_bodies_answer_413(backend: Backend) {
    let server = TestServer::start(backend, Config::new().with_max_body_bytes(64)).await;
    let big = json!({"text": "x".repeat(200)}).to_string();
    let fits = json!({"text": "x".repeat(10)}).to_string();
    let put = server.put("/items/doc", &[], &big).await;
    let problem = expect_problem(put, 413, "payload-too-large").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("64 bytes"),
        "{problem}"
    );
    expect_problem(
        server.patch("/items/doc", &[], &big).await,
        413,
        "payload-too-large",
    )
    .await;
    let post = server
        .send(
            Method::POST,
            "/items",
            &[("content-type", "application/json")],
            Some(&big),
        )
        .await;
    expect_problem(post, 413, "payload-too-large").await;
    expect_problem(server.get("/items/doc", &[]).await, 404, "not-found").await;
    assert_eq!(server.put("/items/doc", &[], &fits).await.status(), 201);
    server.shutdown().await;
}

async fn unknown_routes_answer_404_problems(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    for path in ["/", "/nothing", "/items/a/b", "/items/"] {
        expect_problem(server.get(path, &[]).await, 404, "not-found").await;
    }
    server.shutdown().await;
}

async fn unsupported_methods_answer_405_with_allow(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let cases = [
        (Method::DELETE, "/items", "GET, HEAD, POST"),
        (Method::PUT, "/items", "GET, HEAD, POST"),
        (Method::POST, "/items/doc", "GET, HEAD, PUT, PATCH, DELETE"),
        (
            Method::from_bytes(b"BREW").unwrap(),
            "/items/doc",
            "GET, HEAD, PUT, PATCH, DELETE",
        ),
    ];
    for (method, path, allow) in cases {
        let response = server.send(method, path, &[], None).await;
        assert_eq!(response.headers()["allow"], allow, "{path}");
        expect_problem(response, 405, "method-not-allowed").await;
    }
    server.shutdown().await;
}

/// The body exactly as sent, after checking it is a problem with `status`.
async fn raw_problem(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn problem_body_of_a_stale_if_match_matches_snapshot() {
    let server = TestServer::start_default(Backend::Memory).await;
    let stale = server.seed("/items/doc", "1").await;
    let current = server.seed("/items/doc", "2").await;
    let response = server.put("/items/doc", &[("if-match", &stale)], "3").await;
    let body = raw_problem(response, 412).await;
    // The tag's random epoch would make the snapshot unstable.
    let redacted = body.replace(&current.replace('"', "\\\""), "\\\"[etag]\\\"");
    insta::assert_snapshot!("stale_if_match_problem", redacted);
    server.shutdown().await;
}

#[tokio::test]
async fn problem_body_of_a_missing_document_matches_snapshot() {
    let server = TestServer::start_default(Backend::Memory).await;
    let body = raw_problem(server.get("/items/absent", &[]).await, 404).await;
    insta::assert_snapshot!("not_found_problem", body);
    server.shutdown().await;
}

#[tokio::test]
async fn problem_body_of_a_malformed_if_match_matches_snapshot() {
    let server = TestServer::start_default(Backend::Memory).await;
    server.seed("/items/doc", "1").await;
    let response = server.put("/items/doc", &[("if-match", "v1")], "2").await;
    insta::assert_snapshot!("invalid_if_match_problem", raw_problem(response, 400).await);
    server.shutdown().await;
}

#[tokio::test]
async fn problem_body_of_a_weak_if_match_matches_snapshot() {
    let server = TestServer::start_default(Backend::Memory).await;
    let current = server.seed("/items/doc", "1").await;
    let weak = format!("W/{current}");
    let response = server.put("/items/doc", &[("if-match", &weak)], "2").await;
    let body = raw_problem(response, 412).await;
    let redacted = body.replace(&current.replace('"', "\\\""), "\\\"[etag]\\\"");
    insta::assert_snapshot!("weak_if_match_problem", redacted);
    server.shutdown().await;
}
