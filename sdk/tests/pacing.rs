//! Adaptive pacing through the client: when it starts, that it waits with the injected sleeper,
//! that clones share it, and that it can be turned off.

mod support;

use std::time::Duration;

use ifmatch::RetryConfig;
use serde_json::{json, Value};
use support::{harness, harness_with, json as json_response};
use wiremock::{matchers::method, Mock, MockServer};

/// A server whose every GET succeeds and reports `remaining` of a 100-request quota per 10 s
/// (an average of 10 requests/s).
async fn server_with_remaining(remaining: u32) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            json_response(200, json!({"n": 1}), Some("\"v\""))
                .insert_header(
                    "ratelimit",
                    format!("\"default\";r={remaining};t=9").as_str(),
                )
                .insert_header("ratelimit-policy", "\"default\";q=100;w=10"),
        )
        .mount(&server)
        .await;
    server
}

fn close(a: Duration, b: Duration) -> bool {
    a.abs_diff(b) < Duration::from_micros(10)
}

#[tokio::test]
async fn a_low_remaining_paces_the_next_requests_with_the_injected_sleeper() {
    let server = server_with_remaining(10).await;
    let h = harness(&server, RetryConfig::default());
    for _ in 0..3 {
        h.client.get::<Value>("/x").await.unwrap();
    }
    // The first answer is low: pacing starts at 0.7 × the quota's 10/s; the second, answered
    // after that, slows down again to 0.7 × the 7/s then sent. The first request never waits.
    let delays = h.sleeper.delays();
    assert_eq!(delays.len(), 2, "{delays:?}");
    assert!(
        close(delays[0], Duration::from_secs_f64(1.0 / 7.0)),
        "{delays:?}"
    );
    assert!(
        close(delays[1], Duration::from_secs_f64(1.0 / 4.9)),
        "{delays:?}"
    );
    let stats = h.client.stats();
    assert_eq!(stats.paced_requests, 2);
    assert!(close(stats.pacing_wait_total, h.sleeper.total()));
    assert_eq!(stats.throttle_waits, 0);
}

#[tokio::test]
async fn clones_share_the_pace() {
    let server = server_with_remaining(10).await;
    let h = harness(&server, RetryConfig::default());
    h.client.get::<Value>("/x").await.unwrap();
    let clone = h.client.clone();
    clone.get::<Value>("/y").await.unwrap();
    assert_eq!(h.sleeper.delays().len(), 1);
    assert_eq!(clone.stats().paced_requests, 1);
}

#[tokio::test]
async fn plenty_left_never_starts_pacing() {
    let server = server_with_remaining(90).await;
    let h = harness(&server, RetryConfig::default());
    for _ in 0..20 {
        h.client.get::<Value>("/x").await.unwrap();
    }
    assert_eq!(h.sleeper.delays(), Vec::<Duration>::new());
    assert_eq!(h.client.stats().paced_requests, 0);
}

#[tokio::test]
async fn turned_off_it_never_waits() {
    let server = server_with_remaining(0).await;
    let h = harness_with(&server, RetryConfig::default(), |b| {
        b.adaptive_pacing(false)
    });
    for _ in 0..5 {
        h.client.get::<Value>("/x").await.unwrap();
    }
    assert_eq!(h.sleeper.delays(), Vec::<Duration>::new());
    assert_eq!(h.client.stats().paced_requests, 0);
}
