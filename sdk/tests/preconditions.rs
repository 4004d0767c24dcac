//! Automatic preconditions on PUT/PATCH/DELETE and the missing-ETag policies.

mod support;

use ifmatch::{MissingEtagPolicy, RetryConfig};
use serde_json::{json, Value};
use support::{harness, harness_with, header, json as json_response, problem, received};
use wiremock::{
    matchers::{header as has_header, method, path},
    Mock, MockServer, ResponseTemplate,
};

async fn item(server: &MockServer, etag: &str) {
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(json_response(200, json!({"n": 1}), Some(etag)))
        .mount(server)
        .await;
}

#[tokio::test]
async fn put_sends_if_match_with_the_cached_strong_etag() {
    let server = MockServer::start().await;
    item(&server, "\"v1\"").await;
    Mock::given(method("PUT"))
        .and(path("/items/1"))
        .and(has_header("if-match", "\"v1\""))
        .and(has_header("content-type", "application/json"))
        .respond_with(json_response(200, json!({"n": 2}), Some("\"v2\"")))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    h.client.get::<Value>("/items/1").await.unwrap();
    let out = h.client.put("/items/1", &json!({"n": 2})).await.unwrap();
    assert_eq!(out.value, json!({"n": 2}));
    assert_eq!(
        received(&server, "GET").await.len(),
        1,
        "the cached ETag saves a read"
    );
    let put = &received(&server, "PUT").await[0];
    assert_eq!(
        header(put, "idempotency-key"),
        None,
        "a conditional write needs no key"
    );
}

#[tokio::test]
async fn fetch_first_reads_the_etag_before_writing() {
    let server = MockServer::start().await;
    item(&server, "\"v7\"").await;
    Mock::given(method("DELETE"))
        .and(has_header("if-match", "\"v7\""))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    h.client.delete("/items/1").await.unwrap();
    assert_eq!(received(&server, "GET").await.len(), 1);
}

#[tokio::test]
async fn weak_etag_is_never_sent_and_the_write_is_refused_locally() {
    let server = MockServer::start().await;
    item(&server, "W/\"v1\"").await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    h.client.get::<Value>("/items/1").await.unwrap();
    let err = h
        .client
        .put("/items/1", &json!({"n": 2}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "missing_etag");
    assert!(err.to_string().contains("weak"), "{err}");
}

#[tokio::test]
async fn server_without_etags_makes_fetch_first_fail_without_writing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({}), None))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .patch("/items/1", &json!({"n": 2}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "missing_etag");
}

#[tokio::test]
async fn fetch_first_on_a_missing_resource_puts_create_only() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(problem(404, json!({"type": "about:blank", "status": 404})))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(has_header("if-none-match", "*"))
        .respond_with(json_response(201, json!({"n": 0}), Some("\"v1\"")))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    h.client.put("/items/1", &json!({"n": 0})).await.unwrap();
    let err = h
        .client
        .with_partition("other")
        .delete("/items/1")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn create_only_policy_sends_if_none_match_star() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(has_header("if-none-match", "*"))
        .respond_with(json_response(201, json!({"n": 0}), Some("\"v1\"")))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness_with(&server, RetryConfig::default(), |b| {
        b.missing_etag(MissingEtagPolicy::CreateOnly)
    });
    h.client.put("/items/1", &json!({"n": 0})).await.unwrap();
    assert!(received(&server, "GET").await.is_empty());
}

#[tokio::test]
async fn unconditional_policy_sends_no_precondition_but_a_key_when_retrying() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(json_response(200, json!({"n": 0}), Some("\"v1\"")))
        .expect(2)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let lossy = h.client.with_missing_etag(MissingEtagPolicy::Unconditional);
    lossy.put("/items/1", &json!({"n": 0})).await.unwrap();
    h.client
        .with_partition("p")
        .with_missing_etag(MissingEtagPolicy::Unconditional)
        .put("/items/1", &json!({"n": 0}))
        .await
        .unwrap();
    let puts = received(&server, "PUT").await;
    assert_eq!(header(&puts[0], "if-match"), None);
    assert_eq!(header(&puts[0], "if-none-match"), None);
    assert!(header(&puts[0], "idempotency-key").is_some());
    assert_ne!(
        header(&puts[0], "idempotency-key"),
        header(&puts[1], "idempotency-key")
    );
}

#[tokio::test]
async fn plain_put_reports_a_stale_etag_as_a_conflict_and_evicts_it() {
    let server = MockServer::start().await;
    item(&server, "\"v1\"").await;
    Mock::given(method("PUT"))
        .respond_with(
            problem(412, json!({"type": "urn:ifmatch:problem:precondition-failed", "status": 412, "current_etag": "\"v2\""}))
                .insert_header("etag", "\"v2\""),
        )
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    h.client.get::<Value>("/items/1").await.unwrap();
    let err = h
        .client
        .put("/items/1", &json!({"n": 5}))
        .await
        .unwrap_err();
    assert!(err.is_conflict() && err.is_precondition_failed());
    assert_eq!(err.code(), "precondition_failed");
    assert_eq!(err.current_etag().unwrap().opaque(), "v2");
    assert_eq!(err.problem().unwrap().status, Some(412));
    assert_eq!(h.client.stats().conflicts_412, 1);
    // The stale entry is gone: the next read is unconditional.
    h.client.get::<Value>("/items/1").await.unwrap();
    assert_eq!(
        header(&received(&server, "GET").await[1], "if-none-match"),
        None
    );
}

#[tokio::test]
async fn create_posts_with_an_idempotency_key_and_caches_the_location() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/items"))
        .respond_with(
            json_response(201, json!({"id": "abc", "n": 0}), Some("\"v1\""))
                .insert_header("location", "/items/abc"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/items/abc"))
        .and(has_header("if-match", "\"v1\""))
        .respond_with(json_response(
            200,
            json!({"id": "abc", "n": 1}),
            Some("\"v2\""),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let created = h.client.create("/items", &json!({"n": 0})).await.unwrap();
    let location = created.location.clone().unwrap();
    assert_eq!(location, format!("{}/items/abc", server.uri()));
    assert_eq!(created.etag.unwrap().opaque(), "v1");
    let post = &received(&server, "POST").await[0];
    let key = header(post, "idempotency-key").unwrap();
    assert!(key.starts_with('"') && key.len() == 38, "{key}");
    // The 201's ETag is cached under the Location: no GET before the PUT.
    h.client
        .put(&location, &json!({"id": "abc", "n": 1}))
        .await
        .unwrap();
    assert!(received(&server, "GET").await.is_empty());
}

#[tokio::test]
async fn create_without_retries_sends_no_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_response(201, json!({}), None))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::disabled());
    h.client.create("/items", &json!({})).await.unwrap();
    assert_eq!(
        header(&received(&server, "POST").await[0], "idempotency-key"),
        None
    );
}
