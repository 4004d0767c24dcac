//! update(): recovery from version conflicts with each strategy (against wiremock).

mod support;

use std::future::IntoFuture;

use std::time::Duration;

use ifmatch::{
    merge::Resolution, ChangeError, ConflictContext, ConflictOutcome, Decision, Event, RetryConfig,
    Strategy,
};
use serde_json::{json, Value};
use support::{harness, json as json_response, problem, received};
use wiremock::{
    matchers::{body_json, header as has_header, method, path},
    Mock, MockServer, ResponseTemplate,
};

/// GET answers `first` once, then `then` (the state after another writer won).
async fn reads(server: &MockServer, first: (Value, &str), then: (Value, &str)) {
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(json_response(200, first.0, Some(first.1)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(json_response(200, then.0, Some(then.1)))
        .mount(server)
        .await;
}

fn stale(status: u16, current: &str) -> ResponseTemplate {
    let kind = if status == 412 {
        "precondition-failed"
    } else {
        "version-conflict"
    };
    problem(status, json!({"type": format!("urn:ifmatch:problem:{kind}"), "status": status, "current_etag": current}))
        .insert_header("etag", current)
}

async fn refuse_put(server: &MockServer, if_match: &str, response: ResponseTemplate) {
    Mock::given(method("PUT"))
        .and(has_header("if-match", if_match))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

/// A document read at `"v1"` whose first write loses to another writer: the PUT with
/// `If-Match: "v1"` is refused with `status`, and later reads see `then` at `"v2"`.
async fn lost_race(status: u16, first: Value, then: Value) -> MockServer {
    let server = MockServer::start().await;
    reads(&server, (first, "\"v1\""), (then, "\"v2\"")).await;
    refuse_put(&server, "\"v1\"", stale(status, "\"v2\"")).await;
    server
}

/// Expects exactly one PUT with this `If-Match` and body, and accepts it with `new_etag`.
async fn accept_put(server: &MockServer, if_match: &str, body: Value, new_etag: &str) {
    Mock::given(method("PUT"))
        .and(has_header("if-match", if_match))
        .and(body_json(&body))
        .respond_with(json_response(200, body, Some(new_etag)))
        .expect(1)
        .mount(server)
        .await;
}

fn increment(doc: &mut Value) -> Result<(), ChangeError> {
    doc["n"] = (doc["n"].as_i64().unwrap_or(0) + 1).into();
    Ok(())
}

#[tokio::test]
async fn reapply_after_412_reruns_the_change_on_fresh_state() {
    let server = lost_race(412, json!({"n": 1}), json!({"n": 5})).await;
    accept_put(&server, "\"v2\"", json!({"n": 6}), "\"v6\"").await;
    let h = harness(&server, RetryConfig::default().with_jitter_seed(1));

    let out = h
        .client
        .update::<Value>("/items/1", increment)
        .send()
        .await
        .unwrap();
    assert_eq!(out.value, json!({"n": 6}));
    assert_eq!(out.attempts, 2);
    assert_eq!(out.etag.unwrap().opaque(), "v6");
    let stats = h.client.stats();
    assert_eq!(
        (stats.conflicts_412, stats.conflicts_409, stats.retries),
        (1, 0, 1)
    );
    let pauses = h.sleeper.delays();
    assert_eq!(pauses.len(), 1);
    assert!(pauses[0] < Duration::from_millis(10), "{pauses:?}");
    assert!(h.events().contains(&Event::Conflict {
        url: format!("{}/items/1", server.uri()),
        status: ifmatch::http::StatusCode::PRECONDITION_FAILED,
        strategy: "reapply",
        outcome: ConflictOutcome::Reapplied,
        attempt: 1,
    }));
}

#[tokio::test]
async fn version_409_is_recovered_like_412() {
    let server = lost_race(409, json!({"n": 1}), json!({"n": 2})).await;
    refuse_put(
        &server,
        "\"v2\"",
        json_response(200, json!({"n": 3}), Some("\"v3\"")),
    )
    .await;
    let h = harness(&server, RetryConfig::default());
    let out = h
        .client
        .update::<Value>("/items/1", increment)
        .send()
        .await
        .unwrap();
    assert_eq!(out.value["n"], 3);
    assert_eq!(h.client.stats().conflicts_409, 1);
}

#[tokio::test]
async fn other_409_is_returned_and_never_retried() {
    let server = MockServer::start().await;
    reads(
        &server,
        (json!({"n": 1}), "\"v1\""),
        (json!({"n": 1}), "\"v1\""),
    )
    .await;
    refuse_put(
        &server,
        "\"v1\"",
        problem(
            409,
            json!({"type": "urn:example:duplicate-name", "status": 409, "detail": "name taken"}),
        ),
    )
    .await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .update::<Value>("/items/1", increment)
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_conflict());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409));
    assert_eq!(err.problem().unwrap().detail.as_deref(), Some("name taken"));
    assert_eq!(received(&server, "GET").await.len(), 1);
}

#[tokio::test]
async fn three_way_merge_combines_disjoint_edits() {
    let server = lost_race(412, json!({"a": 1, "b": 1}), json!({"a": 1, "b": 9})).await;
    accept_put(&server, "\"v2\"", json!({"a": 2, "b": 9}), "\"v3\"").await;
    let h = harness(&server, RetryConfig::default());
    let out = h
        .client
        .update::<Value>("/items/1", |doc| {
            doc["a"] = 2.into();
            Ok(())
        })
        .strategy(Strategy::ThreeWayMerge)
        .send()
        .await
        .unwrap();
    assert_eq!(out.value, json!({"a": 2, "b": 9}));
    assert_eq!(h.client.stats().merges, 1);
}

#[tokio::test]
async fn three_way_merge_reports_overlapping_paths() {
    let server = lost_race(
        412,
        json!({"a": 1, "b": {"c": 1}}),
        json!({"a": 7, "b": {"c": 7}}),
    )
    .await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .update::<Value>("/items/1", |doc| {
            *doc = json!({"a": 2, "b": {"c": 2}});
            Ok(())
        })
        .strategy(Strategy::ThreeWayMerge)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), "merge_conflict");
    assert!(err.is_conflict());
    assert_eq!(err.conflict_paths(), ["/a", "/b/c"]);
}

#[tokio::test]
async fn resolver_settles_overlapping_edits() {
    let server = lost_race(412, json!({"n": 1}), json!({"n": 3})).await;
    accept_put(&server, "\"v2\"", json!({"n": 4}), "\"v3\"").await;
    let h = harness(&server, RetryConfig::default());
    let counter = Strategy::three_way_merge_with(|_, base, mine, theirs| {
        let n = |v: Option<&Value>| v.and_then(Value::as_i64).unwrap_or(0);
        Resolution::Use((n(theirs) + n(mine) - n(base)).into())
    });
    let out = h
        .client
        .update::<Value>("/items/1", increment)
        .strategy(counter)
        .send()
        .await
        .unwrap();
    assert_eq!(out.value["n"], 4);
}

#[tokio::test]
async fn last_write_wins_uses_the_current_etag_without_rereading() {
    let server = lost_race(412, json!({"n": 1}), json!({"n": 50})).await;
    accept_put(&server, "\"v2\"", json!({"n": 2}), "\"v10\"").await;
    let h = harness(&server, RetryConfig::default());
    let out = h
        .client
        .update::<Value>("/items/1", increment)
        .strategy(Strategy::LastWriteWins)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.value["n"], 2,
        "last-write-wins discards the other writer's 50"
    );
    assert_eq!(received(&server, "GET").await.len(), 1);
}

#[tokio::test]
async fn abort_returns_the_current_state() {
    let server = lost_race(412, json!({"n": 1}), json!({"n": 8})).await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .update::<Value>("/items/1", increment)
        .strategy(Strategy::Abort)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), "aborted");
    assert_eq!(err.current(), Some(&json!({"n": 8})));
    assert_eq!(err.current_etag().unwrap().opaque(), "v2");
}

#[tokio::test]
async fn custom_strategy_decides_what_to_write() {
    let server = lost_race(412, json!({"n": 1}), json!({"n": 8})).await;
    accept_put(&server, "\"v2\"", json!({"n": 100}), "\"v9\"").await;
    let h = harness(&server, RetryConfig::default());
    let strategy = Strategy::custom(|c: &ConflictContext<'_>| {
        assert_eq!(
            (
                c.base["n"].as_i64(),
                c.mine["n"].as_i64(),
                c.theirs["n"].as_i64()
            ),
            (Some(1), Some(2), Some(8))
        );
        Decision::Write(json!({"n": 100}))
    });
    let out = h
        .client
        .update::<Value>("/items/1", increment)
        .strategy(strategy)
        .send()
        .await
        .unwrap();
    assert_eq!(out.value["n"], 100);
}

#[tokio::test]
async fn conflicts_stop_at_the_attempt_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(stale(412, "\"v1\""))
        .expect(3)
        .mount(&server)
        .await;
    let h = harness(
        &server,
        RetryConfig::default().with_max_conflict_attempts(3),
    );
    let err = h
        .client
        .update::<Value>("/items/1", increment)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed());
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
    assert!(matches!(
        h.events().last(),
        Some(Event::Conflict {
            outcome: ConflictOutcome::GaveUp,
            attempt: 3,
            ..
        })
    ));
}

#[tokio::test]
async fn failing_change_writes_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({"n": "x"}), Some("\"v1\"")))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .update::<Value>("/items/1", |doc| {
            let n = doc["n"]
                .as_i64()
                .ok_or_else(|| ChangeError::msg("`n` must be a number"))?;
            doc["n"] = (n + 1).into();
            Ok(())
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), "change_failed");
    let cause = std::error::Error::source(&err).expect("the closure's error is the source");
    assert_eq!(cause.to_string(), "`n` must be a number");
}

#[tokio::test]
async fn an_update_owns_its_client_and_can_be_spawned() {
    let server = MockServer::start().await;
    reads(
        &server,
        (json!({"n": 1}), "\"v1\""),
        (json!({"n": 1}), "\"v1\""),
    )
    .await;
    accept_put(&server, "\"v1\"", json!({"n": 2}), "\"v2\"").await;
    let h = harness(&server, RetryConfig::default());
    let update = h.client.update::<Value>("/items/1", |doc| {
        doc["n"] = 2.into();
        Ok(())
    });
    let out = tokio::spawn(update.into_future()).await.unwrap().unwrap();
    assert_eq!(out.value, json!({"n": 2}));
}

#[tokio::test]
async fn a_typed_update_changes_the_document_as_its_type_and_keeps_other_members() {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Counter {
        n: i64,
        #[serde(flatten)]
        rest: serde_json::Map<String, Value>,
    }
    let server = MockServer::start().await;
    reads(
        &server,
        (json!({"n": 1, "title": "t"}), "\"v1\""),
        (json!({"n": 1, "title": "t"}), "\"v1\""),
    )
    .await;
    accept_put(&server, "\"v1\"", json!({"n": 2, "title": "t"}), "\"v2\"").await;
    let h = harness(&server, RetryConfig::default());
    let out = h
        .client
        .update("/items/1", |c: &mut Counter| {
            c.n += 1;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(out.value.n, 2);
    assert_eq!(out.value.rest["title"], "t");
}

#[tokio::test]
async fn a_document_that_is_not_the_type_fails_to_decode_and_writes_nothing() {
    let server = MockServer::start().await;
    reads(
        &server,
        (json!({"n": "x"}), "\"v1\""),
        (json!({"n": "x"}), "\"v1\""),
    )
    .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    #[derive(Debug, serde::Serialize, serde::Deserialize)]
    struct Counter {
        n: i64,
    }
    let err = h
        .client
        .update("/items/1", |c: &mut Counter| {
            c.n += 1;
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "decode", "{err}");
}

#[tokio::test]
async fn update_starts_from_the_cached_copy_without_reading() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .expect(1)
        .mount(&server)
        .await;
    refuse_put(
        &server,
        "\"v1\"",
        json_response(200, json!({"n": 2}), Some("\"v2\"")),
    )
    .await;
    refuse_put(
        &server,
        "\"v2\"",
        json_response(200, json!({"n": 3}), Some("\"v3\"")),
    )
    .await;
    let h = harness(&server, RetryConfig::default());
    h.client
        .update::<Value>("/items/1", increment)
        .send()
        .await
        .unwrap();
    let out = h
        .client
        .update::<Value>("/items/1", increment)
        .send()
        .await
        .unwrap();
    assert_eq!(out.value["n"], 3);
}

#[tokio::test]
async fn create_only_update_of_a_missing_document_creates_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(problem(404, json!({"status": 404})))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(has_header("if-none-match", "*"))
        .and(body_json(json!({"n": 1})))
        .respond_with(json_response(201, json!({"n": 1}), Some("\"v1\"")))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let creating = h
        .client
        .with_missing_etag(ifmatch::MissingEtagPolicy::CreateOnly);
    let out = creating
        .update::<Value>("/items/1", increment)
        .send()
        .await
        .unwrap();
    assert_eq!(out.value["n"], 1);
    // Under the default policy a missing document is an error, not a silent create.
    let err = h
        .client
        .with_partition("p")
        .update::<Value>("/items/1", increment)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}
