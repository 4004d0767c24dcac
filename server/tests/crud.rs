//! Reads and unconditional writes of `/items`, against both storages.

mod support;

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{etag_of, expect_problem, Backend, TestServer};

both_storages!(
    post_creates_with_location_strong_etag_and_body,
    get_returns_the_write_response_bytes_and_etag,
    head_returns_the_etag_without_a_body,
    list_returns_ids_etags_and_values,
    put_creates_with_201_then_replaces_with_200,
    patch_merges_atomically_and_returns_the_new_version,
    delete_removes_then_answers_404,
    missing_documents_answer_404_problems,
    every_write_changes_the_etag_and_reads_do_not,
    etags_stay_unique_across_delete_and_recreate,
    json_suffix_media_types_are_accepted,
);

fn is_strong(etag: &str) -> bool {
    etag.len() >= 2 && etag.starts_with('"') && etag.ends_with('"')
}

async fn post_creates_with_location_strong_etag_and_body(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let response = server
        .send(
            Method::POST,
            "/items",
            &[("content-type", "application/json")],
            Some(r#"{"title": "first", "tags": ["a"]}"#),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(response.headers()["content-location"], location.as_str());
    let id = location
        .strip_prefix("/items/")
        .expect("Location under /items/");
    assert!(
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{id}"
    );
    let etag = etag_of(response.headers());
    assert!(is_strong(&etag), "{etag}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"title": "first", "tags": ["a"]}));
    let (read, read_etag) = server.read(&location).await;
    assert_eq!(read, body);
    assert_eq!(read_etag, etag);
    server.shutdown().await;
}

async fn get_returns_the_write_response_bytes_and_etag(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let written = server
        .put("/items/doc", &[], r#"{ "z": 1, "a": {"b": [1, 2]} }"#)
        .await;
    assert_eq!(written.status(), StatusCode::CREATED);
    let etag = etag_of(written.headers());
    let written_bytes = written.bytes().await.unwrap();
    let read = server.get("/items/doc", &[]).await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(etag_of(read.headers()), etag);
    assert_eq!(read.headers()["cache-control"], "no-cache");
    assert_eq!(read.headers()["content-type"], "application/json");
    assert_eq!(read.bytes().await.unwrap(), written_bytes);
    server.shutdown().await;
}

async fn head_returns_the_etag_without_a_body(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let etag = server.seed("/items/doc", r#"{"n":1}"#).await;
    let response = server.send(Method::HEAD, "/items/doc", &[], None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(etag_of(response.headers()), etag);
    assert!(response.bytes().await.unwrap().is_empty());
    let missing = server.send(Method::HEAD, "/items/absent", &[], None).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    server.shutdown().await;
}

async fn list_returns_ids_etags_and_values(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let empty = server.get("/items", &[]).await;
    assert_eq!(empty.status(), StatusCode::OK);
    assert_eq!(empty.json::<Value>().await.unwrap(), json!({"items": []}));
    let first = server.seed("/items/first", r#"{"n":1}"#).await;
    let second = server.seed("/items/second", "[true]").await;
    let listed: Value = server.get("/items", &[]).await.json().await.unwrap();
    assert_eq!(
        listed,
        json!({"items": [
            {"id": "first", "etag": first, "value": {"n": 1}},
            {"id": "second", "etag": second, "value": [true]},
        ]})
    );
    server.shutdown().await;
}

async fn put_creates_with_201_then_replaces_with_200(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let created = server.put("/items/doc", &[], r#"{"v":1}"#).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()["location"], "/items/doc");
    // The body is the document's new state (RFC 9110 §6.4.2), so clients may cache it.
    assert_eq!(created.headers()["content-location"], "/items/doc");
    let first = etag_of(created.headers());
    let replaced = server.put("/items/doc", &[], r#"{"v":2}"#).await;
    assert_eq!(replaced.status(), StatusCode::OK);
    assert_eq!(replaced.headers()["content-location"], "/items/doc");
    let second = etag_of(replaced.headers());
    assert!(is_strong(&second) && second != first);
    assert_eq!(replaced.json::<Value>().await.unwrap(), json!({"v": 2}));
    assert_eq!(server.read("/items/doc").await, (json!({"v": 2}), second));
    server.shutdown().await;
}

async fn patch_merges_atomically_and_returns_the_new_version(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let before = server
        .seed("/items/doc", r#"{"a":1,"b":{"c":2,"d":3},"list":[1,2]}"#)
        .await;
    let response = server
        .patch(
            "/items/doc",
            &[],
            r#"{"a":null,"b":{"c":20},"list":[3],"new":"x"}"#,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-location"], "/items/doc");
    let after = etag_of(response.headers());
    assert_ne!(after, before);
    let expected = json!({"b": {"c": 20, "d": 3}, "list": [3], "new": "x"});
    assert_eq!(response.json::<Value>().await.unwrap(), expected);
    assert_eq!(server.read("/items/doc").await, (expected, after));
    server.shutdown().await;
}

async fn delete_removes_then_answers_404(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/doc", "{}").await;
    let deleted = server.delete("/items/doc", &[]).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(deleted.bytes().await.unwrap().is_empty());
    expect_problem(server.get("/items/doc", &[]).await, 404, "not-found").await;
    expect_problem(server.delete("/items/doc", &[]).await, 404, "not-found").await;
    server.shutdown().await;
}

async fn missing_documents_answer_404_problems(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    expect_problem(server.get("/items/absent", &[]).await, 404, "not-found").await;
    expect_problem(
        server.patch("/items/absent", &[], "{}").await,
        404,
        "not-found",
    )
    .await;
    expect_problem(server.delete("/items/absent", &[]).await, 404, "not-found").await;
    server.shutdown().await;
}

async fn every_write_changes_the_etag_and_reads_do_not(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let mut seen = HashSet::new();
    let first = server.seed("/items/doc", r#"{"n":1}"#).await;
    seen.insert(first.clone());
    for _ in 0..3 {
        assert_eq!(
            server.read("/items/doc").await.1,
            first,
            "a read changed the ETag"
        );
    }
    // Identical bytes still make a new version: a write happened.
    let same = server.seed("/items/doc", r#"{"n":1}"#).await;
    assert!(seen.insert(same), "rewriting the same body kept the ETag");
    let patched = server.patch("/items/doc", &[], "{}").await;
    assert!(
        seen.insert(etag_of(patched.headers())),
        "a PATCH kept the ETag"
    );
    server.shutdown().await;
}

async fn etags_stay_unique_across_delete_and_recreate(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let mut seen = HashSet::new();
    for round in 0..5 {
        let etag = server.seed("/items/doc", r#"{"same":true}"#).await;
        assert!(
            seen.insert(etag.clone()),
            "ETag {etag} reused in round {round}"
        );
        let deleted = server.delete("/items/doc", &[]).await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    }
    server.shutdown().await;
}

async fn json_suffix_media_types_are_accepted(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let response = server
        .send(
            Method::POST,
            "/items",
            &[(
                "content-type",
                "application/vnd.example+json; charset=utf-8",
            )],
            Some("42"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.json::<Value>().await.unwrap(), json!(42));
    server.shutdown().await;
}
