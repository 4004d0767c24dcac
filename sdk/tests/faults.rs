//! Servers that answer oddly: 503 after the write committed, stalls, redirects, `Retry-After: 0`.
//! Regression tests for issue #9 (items 3, 4 and 5, and the minimum delay).

mod support;

use std::time::{Duration, Instant};

use ifmatch::{transport::ReqwestTransport, Client, RetryConfig, TimeoutScope};
use serde_json::{json, Value};
use support::{harness, harness_with, header, json as json_response, problem, received};
use wiremock::{
    matchers::{header as has_header, method, path},
    Mock, MockServer, ResponseTemplate,
};

fn unavailable() -> ResponseTemplate {
    ResponseTemplate::new(503).insert_header("retry-after", "0")
}

/// The first PUT is answered 503 by "a proxy" although the origin committed it; the resend then
/// meets the write's own new version: 412. The store holds `stored` afterwards.
async fn committed_then_503(stored: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, stored, Some("\"v2\"")))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(unavailable())
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(has_header("if-match", "\"v1\""))
        .respond_with(problem(
            412,
            json!({"status": 412, "current_etag": "\"v2\""}),
        ))
        .mount(&server)
        .await;
    server
}

fn increment(doc: &mut Value) -> Result<(), ifmatch::ChangeError> {
    doc["n"] = (doc["n"].as_i64().unwrap() + 1).into();
    Ok(())
}

#[tokio::test]
async fn an_update_whose_first_attempt_landed_behind_a_503_is_applied_once() {
    let server = committed_then_503(json!({"n": 2})).await;
    let h = harness(&server, RetryConfig::default());
    let out = h
        .client
        .update::<Value>("/items/1", increment)
        .send()
        .await
        .unwrap();
    assert_eq!(out.value, json!({"n": 2}), "one increment, not two");
    assert_eq!(out.etag.unwrap().opaque(), "v2");
    assert_eq!(received(&server, "PUT").await.len(), 2, "never re-applied");
}

#[tokio::test]
async fn a_put_whose_first_attempt_landed_behind_a_503_reports_success() {
    let server = committed_then_503(json!({"n": 2})).await;
    let h = harness(&server, RetryConfig::default());
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    let out = h
        .client
        .put("/items/1", &json!({"n": 2}), &read)
        .await
        .unwrap();
    assert_eq!(out.value, json!({"n": 2}));
    assert_eq!(
        h.client.stats().conflicts_412,
        0,
        "its own write, not a conflict"
    );
}

#[tokio::test]
async fn a_refused_resend_that_cannot_be_explained_is_an_unknown_outcome() {
    let server = committed_then_503(json!({"n": 7})).await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .update::<Value>("/items/1", increment)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), "outcome_unknown", "{err}");
    assert!(err.is_outcome_unknown() && !err.is_conflict());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(412));
    assert_eq!(received(&server, "PUT").await.len(), 2, "never re-applied");
}

#[tokio::test]
async fn a_delete_whose_first_attempt_landed_behind_a_503_reports_success() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(unavailable())
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(problem(412, json!({"status": 412})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(problem(404, json!({"status": 404})))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let tag: ifmatch::EntityTag = "\"v1\"".parse().unwrap();
    h.client.delete("/items/1", &tag).await.unwrap();
}

#[tokio::test]
async fn a_post_answered_503_is_not_resent_unless_the_server_honours_keys() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(unavailable())
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(json_response(201, json!({"id": 1}), None).insert_header("location", "/i/1"))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .create("/items", &json!({"n": 0}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unavailable");
    assert!(!err.is_rate_limited());
    assert!(!err.to_string().contains("throttled"), "{err}");
    assert_eq!(
        received(&server, "POST").await.len(),
        1,
        "a second resource could be created"
    );

    let trusting = harness_with(&server, RetryConfig::default(), |b| {
        b.server_honours_idempotency_keys(true)
    });
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(unavailable())
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(json_response(201, json!({"id": 1}), None).insert_header("location", "/i/1"))
        .mount(&server)
        .await;
    trusting
        .client
        .create("/items", &json!({"n": 0}))
        .await
        .unwrap();
    let posts = received(&server, "POST").await;
    assert_eq!(posts.len(), 2);
    assert_eq!(
        header(&posts[0], "idempotency-key"),
        header(&posts[1], "idempotency-key")
    );
}

#[tokio::test]
async fn a_post_answered_429_is_resent_with_its_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(json_response(201, json!({}), None))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    h.client.create("/items", &json!({})).await.unwrap();
    // Retry-After: 0 still waits the minimum delay: no tight loop.
    assert_eq!(h.sleeper.delays(), vec![Duration::from_millis(100)]);
}

/// A server that accepts the connection and answers only after `delay`.
async fn stalled(delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({}), Some("\"1\"")).set_delay(delay))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_stalled_server_ends_the_attempt_with_a_typed_timeout() {
    let server = stalled(Duration::from_secs(30)).await;
    let h = harness_with(&server, RetryConfig::default(), |b| {
        b.attempt_timeout(Some(Duration::from_millis(100)))
    });
    let started = Instant::now();
    let err = h.client.get::<Value>("/items/1").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(err.is_timeout(), "{err}");
    assert!(matches!(
        err,
        ifmatch::Error::Timeout {
            scope: TimeoutScope::Attempt,
            ..
        }
    ));
}

#[tokio::test]
async fn the_total_deadline_bounds_the_whole_operation() {
    let server = stalled(Duration::from_secs(30)).await;
    let retry = RetryConfig::default().with_total_deadline(Some(Duration::from_millis(150)));
    let h = harness_with(&server, retry, |b| b.attempt_timeout(None));
    let err = h.client.get::<Value>("/items/1").await.unwrap_err();
    assert!(matches!(
        err,
        ifmatch::Error::Timeout {
            scope: TimeoutScope::Operation,
            ..
        }
    ));
    assert!(err.to_string().contains("with_total_deadline"), "{err}");
}

#[tokio::test]
async fn a_redirected_post_is_reported_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/items"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/items/"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!([]), None))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .create("/items", &json!({"n": 1}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "redirected");
    assert!(
        err.to_string()
            .contains(&format!("{}/items/", server.uri())),
        "names the new location: {err}"
    );
    assert!(
        received(&server, "GET").await.is_empty(),
        "nothing followed"
    );
}

#[tokio::test]
async fn a_redirected_conditional_put_is_reported_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(308).insert_header("location", "/v2/items/1"))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let tag: ifmatch::EntityTag = "\"1\"".parse().unwrap();
    let err = h
        .client
        .put("/items/1", &json!({}), &tag)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "redirected");
}

#[tokio::test]
async fn reads_follow_redirects() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/old"))
        .respond_with(ResponseTemplate::new(301).insert_header("location", "/new"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/new"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"1\"")))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let read = h.client.get::<Value>("/old").await.unwrap();
    assert_eq!(read.value, json!({"n": 1}));
    assert!(h.events().is_empty(), "a redirect hop is not a retry");
}

#[tokio::test]
async fn a_user_transport_that_follows_redirects_cannot_pass_off_a_get_as_the_write() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/items/"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!([{"listing": true}]), None))
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(&server.uri())
        .unwrap()
        // reqwest's default policy follows redirects, turning the POST into a GET.
        .transport(ReqwestTransport::new(reqwest::Client::new()))
        .build()
        .unwrap();
    let err = client.create("/items", &json!({})).await.unwrap_err();
    assert_eq!(err.code(), "redirected", "{err}");
}
