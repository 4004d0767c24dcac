//! The `prometheus` feature: the client's stats encoded through a `prometheus-client` registry.
#![cfg(feature = "prometheus")]

mod support;

use std::time::Duration;

use ifmatch::RetryConfig;
use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use serde_json::{json, Value};
use support::{harness, json as json_response, problem};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn scrape(registry: &Registry) -> String {
    let mut text = String::new();
    encode(&mut text, registry).expect("encodes");
    text
}

fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

#[tokio::test]
async fn the_registry_reads_the_clients_stats_at_every_scrape() {
    let server = MockServer::start().await;
    // One throttled read, then the document; a read answered 304; a write refused with 412.
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "2"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(ResponseTemplate::new(304).insert_header("etag", "\"v1\""))
        .with_priority(3)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(
            problem(
                412,
                json!({"type": "urn:ifmatch:problem:precondition-failed", "status": 412}),
            )
            .insert_header("etag", "\"v2\""),
        )
        .mount(&server)
        .await;

    let h = harness(&server, RetryConfig::default());
    let mut registry = Registry::default();
    ifmatch::metrics::register(&h.client, &mut registry);
    let before = scrape(&registry);
    assert!(
        has_line(&before, "ifmatch_client_http_requests_total 0"),
        "{before}"
    );
    assert!(
        !before.contains("ifmatch_client_earliest_sunset"),
        "no sunset announced yet: {before}"
    );

    h.client.get::<Value>("/items/1").await.unwrap();
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    h.client
        .put("/items/1", &json!({"n": 2}), &read)
        .await
        .unwrap_err();

    let stats = h.client.stats();
    assert_eq!(
        (
            stats.requests,
            stats.conflicts_412,
            stats.throttle_waits,
            stats.not_modified_hits
        ),
        (4, 1, 1, 1),
        "{stats:?}"
    );
    let text = scrape(&registry);
    for line in [
        "# TYPE ifmatch_client_http_requests counter",
        "ifmatch_client_http_requests_total 4",
        "ifmatch_client_not_modified_total 1",
        "ifmatch_client_conflicts_total{kind=\"precondition-failed\"} 1",
        "ifmatch_client_conflicts_total{kind=\"version-conflict\"} 0",
        "ifmatch_client_conflicts_total{kind=\"transaction-conflict\"} 0",
        "ifmatch_client_transactions_total{outcome=\"committed\"} 0",
        "ifmatch_client_transactions_total{outcome=\"conflict\"} 0",
        "ifmatch_client_retries_total 1",
        "ifmatch_client_throttle_waits_total 1",
        "# UNIT ifmatch_client_throttle_wait_seconds seconds",
        "ifmatch_client_throttle_wait_seconds_total 2.0",
        "ifmatch_client_retry_budget_exhausted_total 0",
        "ifmatch_client_malformed_headers_total 0",
        "ifmatch_client_sse_connects_total 0",
        "ifmatch_client_sse_reconnects_total 0",
        "ifmatch_client_deprecated_responses_total 0",
    ] {
        assert!(has_line(&text, line), "missing {line:?} in\n{text}");
    }
    assert_eq!(h.sleeper.delays(), vec![Duration::from_secs(2)]);
    assert!(text.ends_with("# EOF\n"));
}

#[tokio::test]
async fn collectors_of_several_clients_are_told_apart_by_a_sub_registry_label() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({}), Some("\"v\"")))
        .mount(&server)
        .await;
    let a = harness(&server, RetryConfig::default());
    let b = harness(&server, RetryConfig::default());
    let mut registry = Registry::default();
    let label = |name: &'static str| (std::borrow::Cow::Borrowed("client"), name.into());
    ifmatch::metrics::register(&a.client, registry.sub_registry_with_label(label("a")));
    registry
        .sub_registry_with_label(label("b"))
        .register_collector(Box::new(ifmatch::metrics::Collector::new(b.client.clone())));
    a.client.get::<Value>("/x").await.unwrap();
    let text = scrape(&registry);
    assert!(
        has_line(&text, "ifmatch_client_http_requests_total{client=\"a\"} 1"),
        "{text}"
    );
    assert!(
        has_line(&text, "ifmatch_client_http_requests_total{client=\"b\"} 0"),
        "{text}"
    );
}
