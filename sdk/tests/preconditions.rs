//! Preconditions on PUT/PATCH/DELETE come from the caller's read, never from the cache; and the
//! missing-ETag policies of `update()`.

mod support;

use ifmatch::{EntityTag, MissingEtagPolicy, Precondition, RetryConfig};
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
async fn put_sends_if_match_with_the_etag_of_the_value_read() {
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
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    let out = h
        .client
        .put("/items/1", &json!({"n": 2}), &read)
        .await
        .unwrap();
    assert_eq!(out.value, json!({"n": 2}));
    assert_eq!(out.attempts, 1);
    let put = &received(&server, "PUT").await[0];
    assert_eq!(
        header(put, "idempotency-key"),
        None,
        "a conditional write needs no key"
    );
}

#[tokio::test]
async fn writes_never_read_first_even_without_a_cache() {
    let server = MockServer::start().await;
    item(&server, "\"v7\"").await;
    Mock::given(method("DELETE"))
        .and(has_header("if-match", "\"v7\""))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness_with(&server, RetryConfig::default(), |b| b.cache_capacity(0));
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    h.client.delete("/items/1", &read).await.unwrap();
    assert_eq!(
        received(&server, "GET").await.len(),
        1,
        "only the caller's read"
    );
}

#[tokio::test]
async fn a_kept_entity_tag_is_a_precondition_too() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(has_header("if-match", "\"kept\""))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let tag: EntityTag = "\"kept\"".parse().unwrap();
    h.client
        .patch("/items/1", &json!({"n": 2}), &tag)
        .await
        .unwrap();
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
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    let err = h
        .client
        .put("/items/1", &json!({"n": 2}), &read)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "missing_etag");
    assert!(err.to_string().contains("weak"), "{err}");
}

#[tokio::test]
async fn a_value_read_without_an_etag_is_refused_locally() {
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
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    let err = h
        .client
        .patch("/items/1", &json!({"n": 2}), &read)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "missing_etag");
    assert_eq!(received(&server, "GET").await.len(), 1);
}

#[tokio::test]
async fn update_with_the_create_only_policy_creates_a_missing_resource() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(problem(404, json!({"type": "about:blank", "status": 404})))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(has_header("if-none-match", "*"))
        .respond_with(json_response(201, json!({"n": 1}), Some("\"v1\"")))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness_with(&server, RetryConfig::default(), |b| {
        b.missing_etag(MissingEtagPolicy::CreateOnly)
    });
    let out = h
        .client
        .update::<Value>("/items/1", |doc| {
            *doc = json!({"n": 1});
            Ok(())
        })
        .send()
        .await
        .unwrap();
    assert_eq!(out.value, json!({"n": 1}));
    let err = h
        .client
        .with_missing_etag(MissingEtagPolicy::FetchFirst)
        .with_partition("other")
        .update::<Value>("/items/1", |_| Ok(()))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn create_only_sends_if_none_match_star() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(has_header("if-none-match", "*"))
        .respond_with(json_response(201, json!({"n": 0}), Some("\"v1\"")))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    h.client
        .put("/items/1", &json!({"n": 0}), Precondition::create_only())
        .await
        .unwrap();
    assert!(received(&server, "GET").await.is_empty());
    let put = &received(&server, "PUT").await[0];
    assert_eq!(header(put, "if-match"), None);
}

#[tokio::test]
async fn unconditional_sends_no_precondition_but_a_key_when_retrying() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(json_response(200, json!({"n": 0}), Some("\"v1\"")))
        .expect(2)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    for _ in 0..2 {
        h.client
            .put("/items/1", &json!({"n": 0}), Precondition::unconditional())
            .await
            .unwrap();
    }
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
async fn plain_put_reports_a_stale_etag_as_one_conflicted_write_and_evicts_it() {
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
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    let err = h
        .client
        .put("/items/1", &json!({"n": 5}), &read)
        .await
        .unwrap_err();
    assert!(err.is_conflict() && err.is_precondition_failed());
    assert_eq!(err.code(), "precondition_failed");
    assert_eq!(err.current_etag().unwrap().opaque(), "v2");
    assert_eq!(err.problem().unwrap().status, Some(412));
    assert!(
        !err.to_string().contains("attempts"),
        "one write was sent, the caller's read is not an attempt: {err}"
    );
    assert_eq!(h.client.stats().conflicts_412, 1);
    // The stale entry is gone: the next read is unconditional.
    h.client.get::<Value>("/items/1").await.unwrap();
    assert_eq!(
        header(&received(&server, "GET").await[1], "if-none-match"),
        None
    );
}

#[tokio::test]
async fn create_caches_the_created_resource_when_the_body_is_its_representation() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/items"))
        .respond_with(
            json_response(201, json!({"id": "abc", "n": 0}), Some("\"v1\""))
                .insert_header("location", "/items/abc")
                .insert_header("content-location", "/items/abc"),
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
    assert_eq!(created.etag.as_ref().unwrap().opaque(), "v1");
    let post = &received(&server, "POST").await[0];
    let key = header(post, "idempotency-key").unwrap();
    assert!(key.starts_with('"') && key.len() == 38, "{key}");
    h.client
        .put(&location, &json!({"id": "abc", "n": 1}), &created)
        .await
        .unwrap();
    assert!(received(&server, "GET").await.is_empty());
}

#[tokio::test]
async fn a_created_status_body_is_not_paired_with_the_new_etag() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            json_response(201, json!({"ok": true, "id": "abc"}), Some("\"v1\""))
                .insert_header("location", "/items/abc"),
        )
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let created = h.client.create("/items", &json!({"n": 0})).await.unwrap();
    assert_eq!(created.value, json!({"ok": true, "id": "abc"}));
    assert_eq!(created.etag, None, "the status body is not the resource");
    let trusting = harness_with(&server, RetryConfig::default(), |b| {
        b.trust_write_bodies(true)
    });
    let created = trusting
        .client
        .create("/items", &json!({"n": 0}))
        .await
        .unwrap();
    assert_eq!(created.etag.unwrap().opaque(), "v1");
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
