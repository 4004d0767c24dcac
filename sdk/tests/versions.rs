//! Versions through the SDK against a scripted server: listing the history, reading, restoring
//! and diffing past versions, `Api-Version`, and deprecation notices. (The reference server's
//! behaviour is in versions_reference.rs.)

mod support;

use std::time::{Duration, UNIX_EPOCH};

use ifmatch::{Event, RetryConfig, Version};
use serde_json::{json, Value};
use support::{harness, harness_with, header, json as json_response, problem, received};
use wiremock::{
    matchers::{body_json, header as has_header, method, path},
    Mock, MockServer, ResponseTemplate,
};

fn list() -> Value {
    json!({"versions": [
        {"version": 57, "etag": "\"e-57\"", "at_ms": 1767225610000u64, "author": "alice", "deleted": false, "size": 14},
        {"version": 41, "etag": "\"e-41\"", "at_ms": 1767225600000u64, "author": null, "deleted": false, "size": 12}],
        "policy": {"max_versions": 20, "max_age_ms": 604800000, "tombstone_ttl_ms": 86400000}})
}

/// `/items/doc` at version 57 and its history with versions 41 and 57.
async fn history(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/items/doc/versions"))
        .respond_with(json_response(200, list(), None))
        .mount(server)
        .await;
    for (n, doc) in [
        (41, json!({"title": "old", "tags": ["a"]})),
        (57, json!({"title": "new", "tags": ["a", "b"]})),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/items/doc/versions/{n}")))
            .respond_with(
                json_response(200, doc, Some(&format!("\"e-{n}\"")))
                    .insert_header("version", n.to_string()),
            )
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/items/doc/versions/3"))
        .respond_with(problem(
            404,
            json!({"type": "urn:ifmatch:problem:version-not-found", "status": 404, "detail": "version 3 is not kept; the oldest kept is 41", "oldest": 41}),
        ))
        .mount(server)
        .await;
}

async fn current(server: &MockServer, status: u16) {
    let template = match status {
        200 => json_response(
            200,
            json!({"title": "new", "tags": ["a", "b"]}),
            Some("\"e-57\""),
        )
        .insert_header("version", "57"),
        _ => problem(status, json!({"type": "urn:ifmatch:problem:not-found"})),
    };
    Mock::given(method("GET"))
        .and(path("/items/doc"))
        .respond_with(template)
        .mount(server)
        .await;
}

#[tokio::test]
async fn the_history_lists_versions_newest_first_with_the_policy() {
    let server = MockServer::start().await;
    history(&server).await;
    let h = harness(&server, RetryConfig::default());
    let listed = h.client.versions("/items/doc").await.unwrap();
    let numbers: Vec<u64> = listed.versions.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [57, 41]);
    assert_eq!(listed.latest().unwrap().author.as_deref(), Some("alice"));
    assert_eq!(
        listed.oldest().unwrap().at(),
        UNIX_EPOCH + Duration::from_secs(1_767_225_600)
    );
    let policy = listed.policy.unwrap();
    assert_eq!(policy.max_age, Some(Duration::from_secs(7 * 86_400)));
    assert!(!listed.is_deleted());
}

#[tokio::test]
async fn a_past_version_carries_its_number_and_tag_and_an_unkept_one_names_the_oldest() {
    let server = MockServer::start().await;
    history(&server).await;
    let h = harness(&server, RetryConfig::default());
    let old = h.client.version::<Value>("/items/doc", 41).await.unwrap();
    assert_eq!(old.value["title"], "old");
    assert_eq!(old.version, Some(Version::number(41)));
    assert_eq!(old.etag.unwrap().opaque(), "e-41");
    let err = h
        .client
        .version::<Value>("/items/doc", 3)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "version_not_found");
    assert_eq!(err.oldest_version(), Some(41));
    assert!(err.is_not_found());
    assert!(
        err.to_string()
            .contains("the oldest version it keeps is 41"),
        "{err}"
    );
}

#[tokio::test]
async fn the_history_path_is_configurable() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/Patient/7/_history"))
        .respond_with(json_response(200, list(), None))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness_with(&server, RetryConfig::default(), |b| {
        b.versions_path("{item}/_history")
    });
    assert_eq!(
        h.client
            .versions("/Patient/7")
            .await
            .unwrap()
            .versions
            .len(),
        2
    );
    let err = ifmatch::Client::builder()
        .versions_path("/history")
        .build()
        .unwrap_err();
    assert_eq!(err.code(), "invalid_config");
}

#[tokio::test]
async fn a_restore_writes_the_old_content_conditional_on_the_current_version() {
    let server = MockServer::start().await;
    history(&server).await;
    current(&server, 200).await;
    Mock::given(method("PUT"))
        .and(path("/items/doc"))
        .and(has_header("if-match", "\"e-57\""))
        .and(body_json(json!({"title": "old", "tags": ["a"]})))
        .respond_with(
            ResponseTemplate::new(204)
                .insert_header("etag", "\"e-60\"")
                .insert_header("version", "60"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let restored = h.client.restore("/items/doc", 41).await.unwrap();
    assert_eq!(restored.value["title"], "old");
    assert_eq!(restored.etag.unwrap().opaque(), "e-60");
    assert_eq!(restored.version, Some(Version::number(60)));
}

#[tokio::test]
async fn a_restore_does_not_write_over_a_concurrent_change_unless_told_to() {
    let server = MockServer::start().await;
    history(&server).await;
    current(&server, 200).await;
    Mock::given(method("PUT"))
        .and(path("/items/doc"))
        .respond_with(problem(
            412,
            json!({"type": "urn:ifmatch:problem:precondition-failed", "current_etag": "\"e-58\""}),
        ))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h.client.restore("/items/doc", 41).await.unwrap_err();
    assert!(err.is_precondition_failed(), "{err}");
    assert_eq!(
        received(&server, "PUT").await.len(),
        1,
        "no second write over theirs"
    );
    assert!(h.events().is_empty());

    let err = h
        .client
        .restore("/items/doc", 41)
        .retry_conflicts(true)
        .await
        .unwrap_err();
    assert!(err.is_conflict());
    let writes = RetryConfig::default().max_conflict_attempts() as usize;
    assert_eq!(received(&server, "PUT").await.len(), 1 + writes);
    assert!(matches!(
        h.events().last(),
        Some(Event::Conflict {
            strategy: "restore",
            ..
        })
    ));
}

#[tokio::test]
async fn restoring_a_deleted_document_creates_it_only_if_still_absent() {
    let server = MockServer::start().await;
    history(&server).await;
    current(&server, 404).await;
    Mock::given(method("PUT"))
        .and(path("/items/doc"))
        .and(has_header("if-none-match", "*"))
        .respond_with(ResponseTemplate::new(201).insert_header("etag", "\"e-61\""))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    h.client.restore("/items/doc", 57).await.unwrap();
}

#[tokio::test]
async fn a_diff_between_two_versions_is_a_json_patch() {
    let server = MockServer::start().await;
    history(&server).await;
    let h = harness(&server, RetryConfig::default());
    let patch = h.client.diff("/items/doc", 41, 57).await.unwrap();
    assert_eq!(
        serde_json::to_value(&patch).unwrap(),
        json!([
            {"op": "add", "path": "/tags/1", "value": "b"},
            {"op": "replace", "path": "/title", "value": "new"},
        ])
    );
    let err = h.client.diff("/items/doc", 3, 57).await.unwrap_err();
    assert_eq!(err.code(), "version_not_found");
}

#[tokio::test]
async fn api_version_goes_on_every_request_and_a_request_may_override_it() {
    let server = MockServer::start().await;
    current(&server, 200).await;
    history(&server).await;
    let h = harness_with(&server, RetryConfig::default(), |b| b.api_version("2"));
    h.client.get::<Value>("/items/doc").await.unwrap();
    h.client.versions("/items/doc").await.unwrap();
    h.client
        .get::<Value>("/items/doc")
        .api_version("1")
        .await
        .unwrap();
    let sent: Vec<_> = received(&server, "GET")
        .await
        .iter()
        .map(|r| header(r, "api-version").unwrap_or("").to_owned())
        .collect();
    assert_eq!(sent, ["2", "2", "1"]);
    let err = ifmatch::Client::builder()
        .api_version("")
        .build()
        .unwrap_err();
    assert_eq!(err.code(), "invalid_config");
}

#[tokio::test]
async fn the_version_header_is_the_reads_version() {
    let server = MockServer::start().await;
    current(&server, 200).await;
    let h = harness(&server, RetryConfig::default());
    let read = h.client.get::<Value>("/items/doc").await.unwrap();
    assert_eq!(read.version, Some(Version::number(57)));
}

fn deprecated(body: Value) -> ResponseTemplate {
    json_response(200, body, Some("\"e-1\""))
        .insert_header("deprecation", "@1780272000")
        .insert_header("sunset", "Tue, 01 Jun 2027 00:00:00 GMT")
        .insert_header("link", "</v2/items/doc>; rel=\"successor-version\"")
}

#[tokio::test]
async fn a_deprecation_is_reported_once_per_notice_and_every_answer_counted() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items/doc"))
        .respond_with(deprecated(json!({"n": 1})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/other"))
        .respond_with(
            json_response(200, json!({}), None)
                .insert_header("deprecation", "soon")
                .insert_header("sunset", "never"),
        )
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    for _ in 0..3 {
        h.client.get::<Value>("/items/doc").await.unwrap();
    }
    h.client.get::<Value>("/items/other").await.unwrap();
    let notices: Vec<_> = h
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Deprecated { notice } => Some(notice),
            _ => None,
        })
        .collect();
    assert_eq!(notices.len(), 2, "{notices:#?}");
    let first = &notices[0];
    assert_eq!(
        first.deprecation,
        Some(UNIX_EPOCH + Duration::from_secs(1_780_272_000))
    );
    assert_eq!(
        first.successor.as_deref(),
        Some(format!("{}/v2/items/doc", server.uri()).as_str())
    );
    assert!(first.url.ends_with("/items/doc"));
    assert_eq!(notices[1].malformed, ["Deprecation: soon", "Sunset: never"]);
    let stats = h.client.stats();
    assert_eq!(stats.deprecated_responses, 4);
    assert_eq!(
        stats.earliest_sunset,
        Some(UNIX_EPOCH + Duration::from_secs(1_811_808_000))
    );
    assert_eq!(h.client.deprecations(), notices);
}
