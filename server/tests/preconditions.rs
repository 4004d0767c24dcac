//! `If-Match` / `If-None-Match` evaluation (RFC 9110 §13), against both storages.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{etag_of, expect_problem, Backend, TestServer};

both_storages!(
    current_if_match_allows_put_patch_and_delete,
    if_match_list_containing_the_current_etag_passes,
    stale_if_match_is_refused_and_the_state_untouched,
    weak_if_match_is_refused_even_with_the_current_opaque_tag,
    if_match_star_on_a_missing_document_is_refused_and_creates_nothing,
    if_match_tag_on_a_missing_document_is_refused,
    if_match_star_on_an_existing_document_replaces_it,
    if_none_match_star_on_an_existing_document_is_refused_and_keeps_it,
    if_none_match_star_creates_an_absent_document,
    not_found_wins_over_a_failing_if_match_on_patch_and_delete,
    matching_if_none_match_on_get_answers_304,
    non_matching_if_none_match_on_get_answers_200,
    preconditions_on_post_to_the_untagged_collection,
);

async fn current_if_match_allows_put_patch_and_delete(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let v1 = server.seed("/items/doc", r#"{"n":1}"#).await;
    let put = server
        .put("/items/doc", &[("if-match", &v1)], r#"{"n":2}"#)
        .await;
    assert_eq!(put.status(), StatusCode::OK);
    let v2 = etag_of(put.headers());
    let patch = server
        .patch("/items/doc", &[("if-match", &v2)], r#"{"m":3}"#)
        .await;
    assert_eq!(patch.status(), StatusCode::OK);
    let v3 = etag_of(patch.headers());
    assert_eq!(
        server.read("/items/doc").await,
        (json!({"n":2,"m":3}), v3.clone())
    );
    let delete = server.delete("/items/doc", &[("if-match", &v3)]).await;
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    server.shutdown().await;
}

async fn if_match_list_containing_the_current_etag_passes(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let v1 = server.seed("/items/doc", "1").await;
    let list = format!("\"other\", W/\"x\", {v1}");
    let put = server.put("/items/doc", &[("if-match", &list)], "2").await;
    assert_eq!(put.status(), StatusCode::OK);
    server.shutdown().await;
}

/// Judges the refusal by re-reading, not by the status code alone.
async fn stale_if_match_is_refused_and_the_state_untouched(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let stale = server.seed("/items/doc", r#"{"n":1}"#).await;
    let current = server.seed("/items/doc", r#"{"n":2}"#).await;
    let attempts = [
        server
            .put("/items/doc", &[("if-match", &stale)], r#"{"n":99}"#)
            .await,
        server
            .patch("/items/doc", &[("if-match", &stale)], r#"{"n":99}"#)
            .await,
        server.delete("/items/doc", &[("if-match", &stale)]).await,
    ];
    for response in attempts {
        assert_eq!(
            etag_of(response.headers()),
            current,
            "ETag header names the current tag"
        );
        let body = expect_problem(response, 412, "precondition-failed").await;
        assert_eq!(body["current_etag"], current);
        assert_eq!(
            server.read("/items/doc").await,
            (json!({"n": 2}), current.clone())
        );
    }
    server.shutdown().await;
}

async fn weak_if_match_is_refused_even_with_the_current_opaque_tag(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let current = server.seed("/items/doc", r#"{"n":1}"#).await;
    let weak = format!("W/{current}");
    let response = server
        .put("/items/doc", &[("if-match", &weak)], r#"{"n":2}"#)
        .await;
    let body = expect_problem(response, 412, "precondition-failed").await;
    assert_eq!(body["current_etag"], current);
    assert_eq!(server.read("/items/doc").await, (json!({"n": 1}), current));
    server.shutdown().await;
}

async fn if_match_star_on_a_missing_document_is_refused_and_creates_nothing(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let response = server.put("/items/doc", &[("if-match", "*")], "{}").await;
    assert!(response.headers().get("etag").is_none());
    let body = expect_problem(response, 412, "precondition-failed").await;
    assert!(body.get("current_etag").is_none(), "{body}");
    expect_problem(server.get("/items/doc", &[]).await, 404, "not-found").await;
    server.shutdown().await;
}

async fn if_match_tag_on_a_missing_document_is_refused(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let response = server
        .put("/items/doc", &[("if-match", "\"v1\"")], "{}")
        .await;
    expect_problem(response, 412, "precondition-failed").await;
    expect_problem(server.get("/items/doc", &[]).await, 404, "not-found").await;
    server.shutdown().await;
}

async fn if_match_star_on_an_existing_document_replaces_it(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/doc", "1").await;
    let response = server.put("/items/doc", &[("if-match", "*")], "2").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(server.read("/items/doc").await.0, json!(2));
    server.shutdown().await;
}

async fn if_none_match_star_on_an_existing_document_is_refused_and_keeps_it(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let current = server.seed("/items/doc", r#"{"owner":"first"}"#).await;
    let response = server
        .put(
            "/items/doc",
            &[("if-none-match", "*")],
            r#"{"owner":"second"}"#,
        )
        .await;
    let body = expect_problem(response, 412, "precondition-failed").await;
    assert_eq!(body["current_etag"], current);
    assert_eq!(
        server.read("/items/doc").await,
        (json!({"owner": "first"}), current)
    );
    server.shutdown().await;
}

async fn if_none_match_star_creates_an_absent_document(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let response = server
        .put("/items/doc", &[("if-none-match", "*")], r#"{"n":1}"#)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let etag = etag_of(response.headers());
    assert_eq!(server.read("/items/doc").await, (json!({"n": 1}), etag));
    server.shutdown().await;
}

/// RFC 9110 §13.2.1: preconditions are ignored when the answer would not be 2xx/412.
async fn not_found_wins_over_a_failing_if_match_on_patch_and_delete(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    for if_match in ["*", "\"stale\""] {
        let patch = server
            .patch("/items/absent", &[("if-match", if_match)], "{}")
            .await;
        expect_problem(patch, 404, "not-found").await;
        let delete = server
            .delete("/items/absent", &[("if-match", if_match)])
            .await;
        expect_problem(delete, 404, "not-found").await;
    }
    server.shutdown().await;
}

async fn matching_if_none_match_on_get_answers_304(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let current = server.seed("/items/doc", r#"{"n":1}"#).await;
    let weak = format!("W/{current}");
    let list = format!("\"other\", {current}");
    for condition in [current.as_str(), weak.as_str(), list.as_str(), "*"] {
        let response = server
            .get("/items/doc", &[("if-none-match", condition)])
            .await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{condition}");
        assert_eq!(etag_of(response.headers()), current);
        assert!(response.bytes().await.unwrap().is_empty());
    }
    server.shutdown().await;
}

async fn non_matching_if_none_match_on_get_answers_200(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let stale = server.seed("/items/doc", "1").await;
    server.seed("/items/doc", "2").await;
    let response = server.get("/items/doc", &[("if-none-match", &stale)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!(2));
    server.shutdown().await;
}

async fn preconditions_on_post_to_the_untagged_collection(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let json = [("content-type", "application/json")];
    let post = |extra: (&'static str, &'static str)| {
        let headers = [json[0], extra];
        let server = &server;
        async move {
            server
                .send(reqwest::Method::POST, "/items", &headers, Some("{}"))
                .await
        }
    };
    assert_eq!(post(("if-match", "*")).await.status(), StatusCode::CREATED);
    expect_problem(
        post(("if-match", "\"x\"")).await,
        412,
        "precondition-failed",
    )
    .await;
    expect_problem(
        post(("if-none-match", "*")).await,
        412,
        "precondition-failed",
    )
    .await;
    server.shutdown().await;
}
