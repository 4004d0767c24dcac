//! 429/503 handling (and 502/504 to reads): server hints, seeded backoff, limits, the retry budget and unsafe requests.

mod support;

use std::time::Duration;

use ifmatch::{Event, HintSource, LongWaitPolicy, RetryConfig};
use serde_json::{json, Value};
use support::{harness, json as json_response, received};
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `times` throttled answers, then success.
async fn throttle_then_ok(server: &MockServer, times: u64, throttled: ResponseTemplate) {
    Mock::given(method("GET"))
        .respond_with(throttled)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({"ok": true}), Some("\"v\"")))
        .mount(server)
        .await;
}

#[tokio::test]
async fn retry_after_seconds_is_waited_exactly_without_jitter() {
    let server = MockServer::start().await;
    throttle_then_ok(
        &server,
        2,
        ResponseTemplate::new(429).insert_header("retry-after", "3"),
    )
    .await;
    let h = harness(&server, RetryConfig::default());
    let out = h.client.get::<Value>("/x").await.unwrap();
    assert_eq!(out.attempts, 3);
    assert_eq!(h.sleeper.delays(), vec![Duration::from_secs(3); 2]);
    let stats = h.client.stats();
    assert_eq!(
        (stats.requests, stats.retries, stats.throttle_waits),
        (3, 2, 2)
    );
    assert_eq!(stats.throttle_wait_total, Duration::from_secs(6));
}

#[tokio::test]
async fn retry_after_ms_and_ratelimit_t_are_honoured() {
    let server = MockServer::start().await;
    throttle_then_ok(
        &server,
        1,
        ResponseTemplate::new(503).insert_header("retry-after-ms", "250"),
    )
    .await;
    let h = harness(&server, RetryConfig::default());
    h.client.get::<Value>("/x").await.unwrap();
    assert_eq!(h.sleeper.delays(), vec![ms(250)]);

    let server = MockServer::start().await;
    throttle_then_ok(
        &server,
        1,
        ResponseTemplate::new(429).insert_header("ratelimit", "\"burst\";r=0;t=2"),
    )
    .await;
    let h = harness(&server, RetryConfig::default());
    h.client.get::<Value>("/x").await.unwrap();
    assert_eq!(h.sleeper.delays(), vec![Duration::from_secs(2)]);
    assert!(matches!(
        h.events()[0],
        Event::Throttled {
            status: ifmatch::http::StatusCode::TOO_MANY_REQUESTS,
            hint: Some((_, HintSource::RateLimit)),
            ..
        }
    ));
}

#[tokio::test]
async fn retry_after_http_date_waits_until_that_time() {
    let server = MockServer::start().await;
    let at = std::time::SystemTime::now() + Duration::from_secs(30);
    throttle_then_ok(
        &server,
        1,
        ResponseTemplate::new(429).insert_header("retry-after", httpdate::fmt_http_date(at)),
    )
    .await;
    let h = harness(&server, RetryConfig::default());
    h.client.get::<Value>("/x").await.unwrap();
    let waited = h.sleeper.delays()[0];
    // HTTP-dates have one-second resolution.
    assert!(
        waited > Duration::from_secs(28) && waited <= Duration::from_secs(30),
        "{waited:?}"
    );
}

#[tokio::test]
async fn without_a_hint_the_seeded_backoff_sequence_is_reproducible() {
    let config = RetryConfig::default()
        .with_max_attempts(5)
        .with_jitter_seed(42);
    let run = || async {
        let server = MockServer::start().await;
        throttle_then_ok(&server, 4, ResponseTemplate::new(429)).await;
        let h = harness(&server, config);
        h.client.get::<Value>("/x").await.unwrap();
        h.sleeper.delays()
    };
    let first = run().await;
    assert_eq!(first, run().await, "the same seed gives the same waits");
    assert_eq!(first.len(), 4);
    // Full jitter: each wait lies in [0, 1s·2^n) capped at 20s.
    for (n, wait) in first.iter().enumerate() {
        assert!(*wait < Duration::from_secs(1 << n), "wait {n} = {wait:?}");
    }
    // Pinned so a change to the jitter algorithm or the seed handling is noticed.
    let expected = [790_799, 987_171, 3_217_834, 319_353].map(Duration::from_micros);
    assert_eq!(first, expected);
}

#[tokio::test]
async fn without_jitter_the_backoff_is_exactly_exponential_and_capped() {
    let server = MockServer::start().await;
    throttle_then_ok(&server, 5, ResponseTemplate::new(429)).await;
    let config = RetryConfig::default()
        .with_max_attempts(6)
        .with_jitter(false)
        .with_initial_delay(ms(100))
        .with_max_delay(ms(500));
    let h = harness(&server, config);
    h.client.get::<Value>("/x").await.unwrap();
    assert_eq!(
        h.sleeper.delays(),
        vec![ms(100), ms(200), ms(400), ms(500), ms(500)]
    );
}

#[tokio::test]
async fn attempts_run_out_with_a_rate_limited_error_carrying_the_hint() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .expect(3)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h.client.get::<Value>("/x").await.unwrap_err();
    assert!(err.is_rate_limited());
    assert_eq!(err.code(), "rate_limited");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
}

#[tokio::test]
async fn a_hint_above_the_maximum_fails_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h.client.get::<Value>("/x").await.unwrap_err();
    assert_eq!(err.code(), "retry_after_too_long");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    assert!(h.sleeper.delays().is_empty());
}

#[tokio::test]
async fn a_hint_above_the_maximum_is_clamped_when_configured() {
    let server = MockServer::start().await;
    throttle_then_ok(
        &server,
        1,
        ResponseTemplate::new(429).insert_header("retry-after", "3600"),
    )
    .await;
    let config = RetryConfig::default().with_long_wait(LongWaitPolicy::Clamp);
    let h = harness(&server, config);
    h.client.get::<Value>("/x").await.unwrap();
    assert_eq!(h.sleeper.delays(), vec![Duration::from_secs(30)]);
}

#[tokio::test]
async fn malformed_hint_is_ignored_counted_and_backoff_used_instead() {
    let server = MockServer::start().await;
    throttle_then_ok(
        &server,
        1,
        ResponseTemplate::new(429).insert_header("retry-after", "soon-ish"),
    )
    .await;
    let config = RetryConfig::default().with_jitter(false);
    let h = harness(&server, config);
    h.client.get::<Value>("/x").await.unwrap();
    assert_eq!(h.sleeper.delays(), vec![Duration::from_secs(1)]);
    assert_eq!(h.client.stats().malformed_headers, 1);
}

#[tokio::test]
async fn the_total_deadline_stops_waiting() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "20"))
        .expect(3)
        .mount(&server)
        .await;
    let config = RetryConfig::default()
        .with_max_attempts(10)
        .with_total_deadline(Some(Duration::from_secs(50)));
    let h = harness(&server, config);
    let err = h.client.get::<Value>("/x").await.unwrap_err();
    assert!(err.is_rate_limited());
    assert_eq!(h.sleeper.total(), Duration::from_secs(40));
}

#[tokio::test]
async fn post_without_idempotency_key_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .expect(1)
        .mount(&server)
        .await;
    // Conflict retries on but throttle retries off: no key is needed, so none is sent.
    let config = RetryConfig::disabled();
    let h = harness(&server, config);
    let err = h.client.create("/items", &json!({})).await.unwrap_err();
    assert!(err.is_rate_limited());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
}

#[tokio::test]
async fn post_with_its_generated_key_is_retried_with_the_same_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/items"))
        .respond_with(
            json_response(201, json!({"id": 1}), Some("\"v\""))
                .insert_header("location", "/items/1"),
        )
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    h.client.create("/items", &json!({})).await.unwrap();
    let posts = received(&server, "POST").await;
    assert_eq!(posts.len(), 2);
    let key = |i: usize| posts[i].headers.get("idempotency-key").cloned();
    assert!(key(0).is_some());
    assert_eq!(
        key(0),
        key(1),
        "a retry must reuse the key or the server cannot deduplicate"
    );
}

#[tokio::test]
async fn an_empty_retry_budget_stops_retries_and_says_so() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
        .mount(&server)
        .await;
    // 12 tokens at 5 per retry: two retries, then the budget refuses the third.
    let config = RetryConfig::default()
        .with_max_attempts(10)
        .with_budget_capacity(12)
        .with_budget_retry_cost(5)
        .with_budget_success_refund(1);
    let h = harness(&server, config);
    let err = h.client.get::<Value>("/x").await.unwrap_err();
    assert_eq!(err.code(), "retry_budget_exhausted");
    assert_eq!(received(&server, "GET").await.len(), 3);
    assert_eq!(h.client.stats().budget_exhausted, 1);
    assert!(h
        .events()
        .iter()
        .any(|e| matches!(e, Event::BudgetExhausted { .. })));
    // The budget is per client and per host: the next call is refused at its first retry.
    h.client.get::<Value>("/x").await.unwrap_err();
    assert_eq!(received(&server, "GET").await.len(), 4);
}

#[tokio::test]
async fn events_fire_only_for_real_retries() {
    let server = MockServer::start().await;
    throttle_then_ok(
        &server,
        1,
        ResponseTemplate::new(429).insert_header("retry-after", "1"),
    )
    .await;
    let h = harness(&server, RetryConfig::default());
    h.client.get::<Value>("/x").await.unwrap();
    h.client.get::<Value>("/x").await.unwrap();
    let events = h.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(
        matches!(&events[0], Event::Throttled { status, delay, .. } if *status == 429 && *delay == Duration::from_secs(1))
    );
    assert!(matches!(&events[1], Event::Attempt { attempt: 2, .. }));
}

#[tokio::test]
async fn other_server_errors_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h.client.get::<Value>("/x").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
}

#[tokio::test]
async fn a_read_answered_502_or_504_by_a_gateway_is_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(504))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    throttle_then_ok(&server, 1, ResponseTemplate::new(502)).await;
    let h = harness(&server, RetryConfig::default());
    let out = h.client.get::<Value>("/x").await.unwrap();
    assert_eq!(out.attempts, 3);
    let events = h.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Throttled { status, .. } if *status == 502)),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_gateway_error_that_lasts_ends_the_read_after_its_attempts() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default().with_max_attempts(2));
    let err = h.client.get::<Value>("/x").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(received(&server, "GET").await.len(), 2);
}

#[tokio::test]
async fn a_write_answered_502_is_not_sent_again() {
    // The origin may have applied it behind the gateway.
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let tag: ifmatch::EntityTag = "\"v1\"".parse().unwrap();
    let err = h
        .client
        .put("/x", &json!({"n": 1}), &tag)
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(received(&server, "PUT").await.len(), 1);
}
