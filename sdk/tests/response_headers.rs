//! `Versioned::headers` and `Versioned::status`: the response a result came from (the 304's for
//! a cached read), and `Client::request(Method::HEAD, …)`, which leaves the cache alone.

mod support;

use ifmatch::{http::Method, Precondition, RetryConfig};
use serde_json::{json, Value};
use support::{harness, header, received};
use wiremock::{
    matchers::{header as has_header, method, path},
    Mock, MockServer, ResponseTemplate,
};

fn answer(status: u16, etag: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("etag", etag)
        .insert_header("x-from", status.to_string().as_str())
}

#[tokio::test]
async fn reads_carry_their_response_headers_and_a_cached_read_the_304s() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .and(has_header("if-none-match", "\"v1\""))
        .respond_with(answer(304, "\"v1\""))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(answer(200, "\"v1\"").set_body_json(json!({"n": 1})))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let first = h.client.get::<Value>("/items/1").await.unwrap();
    assert_eq!(first.status, 200);
    assert_eq!(first.headers["x-from"], "200");
    let second = h.client.get::<Value>("/items/1").await.unwrap();
    assert!(second.from_cache);
    assert_eq!(second.status, 304);
    assert_eq!(second.headers["x-from"], "304");
    assert_eq!(second.value, json!({"n": 1}));
}

#[tokio::test]
async fn writes_and_updates_carry_the_write_answers_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(answer(200, "\"v1\"").set_body_json(json!({"n": 1})))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/items/1"))
        .respond_with(answer(204, "\"v2\""))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let put = h
        .client
        .put("/items/1", &json!({"n": 2}), Precondition::unconditional())
        .await
        .unwrap();
    assert_eq!(put.status, 204);
    assert_eq!(put.headers["x-from"], "204");
    let updated = h
        .client
        .update::<Value>("/items/1", |doc: &mut Value| {
            doc["n"] = json!(3);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(updated.status, 204, "the write's, not the read's");
    assert_eq!(updated.headers["etag"], "\"v2\"");
}

#[tokio::test]
async fn head_reports_the_answer_and_neither_reads_nor_changes_the_cache() {
    let server = MockServer::start().await;
    Mock::given(method("HEAD"))
        .and(path("/items/1"))
        .respond_with(answer(200, "\"h1\""))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(answer(200, "\"v1\"").set_body_json(json!({"n": 1})))
        .mount(&server)
        .await;
    Mock::given(method("HEAD"))
        .and(path("/gone"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    h.client.get::<Value>("/items/1").await.unwrap();
    let head = h.client.request(Method::HEAD, "/items/1").await.unwrap();
    assert_eq!(head.value, Value::Null);
    assert_eq!(head.etag.unwrap().to_string(), "\"h1\"");
    assert_eq!(head.headers["x-from"], "200");
    let heads = received(&server, "HEAD").await;
    assert_eq!(
        header(&heads[0], "if-none-match"),
        None,
        "HEAD is not revalidation"
    );
    // The cache still holds the GET's validator, not the HEAD's.
    h.client.get::<Value>("/items/1").await.unwrap();
    let gets = received(&server, "GET").await;
    assert_eq!(header(&gets[1], "if-none-match"), Some("\"v1\""));
    let err = h.client.request(Method::HEAD, "/gone").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
}
