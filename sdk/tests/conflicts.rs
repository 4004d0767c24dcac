//! `client.conflicts()` against a scripted server: list, get, resolve and their errors, the
//! bearer token, and the ETag cache after a resolution.

mod support;

use ifmatch::{conflicts::Resolution, ConflictFilter, ConflictState, EntityTag, RetryConfig};
use serde_json::{json, Value};
use support::{harness, harness_with, header, json, problem, received};
use wiremock::{
    matchers::{body_json, header as has_header, method, path, query_param},
    Mock, MockServer,
};

fn record(seq: u64, state: &str) -> Value {
    json!({"id": format!("c-{seq}"), "seq": seq, "kind": "precondition-failed", "status": 412,
           "method": "PUT", "resource": "/items/doc", "client": "alice", "at_ms": 1,
           "based_on": {"etag": "\"e-1\"", "version": 1}, "current": {"etag": "\"e-2\"", "version": 2},
           "rejected": {"content_type": "application/json", "body": {"title": "mine"}, "truncated": false},
           "state": state, "resolution": null})
}

fn resolved(seq: u64, choice: &str, etag: &str) -> Value {
    let mut r = record(seq, "resolved");
    r["resolution"] =
        json!({"choice": choice, "by": "alice", "at_ms": 2, "etag": etag, "version": 3});
    r
}

#[tokio::test]
async fn list_sends_the_filter_and_pages_with_after() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/conflicts"))
        .and(query_param("resource", "/items/doc"))
        .and(query_param("prefix", "/items/x-"))
        .and(query_param("state", "open"))
        .and(query_param("limit", "1"))
        .and(query_param("after", "7"))
        .respond_with(json(
            200,
            json!({"conflicts": [record(8, "open")], "next_after": 8}),
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::disabled());
    let filter = ConflictFilter::new()
        .resource("/items/doc")
        .prefix("/items/x-")
        .state(ConflictState::Open);
    let page = h
        .client
        .conflicts()
        .list(filter)
        .limit(1)
        .after(7)
        .await
        .unwrap();
    assert_eq!(page.next_after, Some(8));
    let r = &page.conflicts[0];
    assert_eq!((r.id.as_str(), r.seq, r.is_open()), ("c-8", 8, true));
    assert_eq!(
        r.current.as_ref().unwrap().etag,
        EntityTag::strong("e-2").ok()
    );
}

#[tokio::test]
async fn all_follows_next_after_to_the_last_page() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/conflicts"))
        .and(query_param("after", "1"))
        .respond_with(json(
            200,
            json!({"conflicts": [record(2, "open")], "next_after": null}),
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/conflicts"))
        .respond_with(json(
            200,
            json!({"conflicts": [record(1, "open")], "next_after": 1}),
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::disabled());
    let all = h
        .client
        .conflicts()
        .list(ConflictFilter::new())
        .all()
        .await
        .unwrap();
    let seqs: Vec<u64> = all.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 2]);
}

#[tokio::test]
async fn get_reads_one_record_and_a_forgotten_one_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/conflicts/c-3"))
        .respond_with(json(200, resolved(3, "theirs", "\"e-2\""), None))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/conflicts/c-1"))
        .respond_with(problem(
            404,
            json!({"type": "urn:ifmatch:problem:conflict-not-found", "status": 404}),
        ))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::disabled());
    let r = h.client.conflicts().get("c-3").await.unwrap();
    assert_eq!(
        r.resolution.unwrap().choice,
        ifmatch::conflicts::Choice::Theirs
    );
    let err = h.client.conflicts().get("c-1").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn a_page_that_is_not_one_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/conflicts"))
        .respond_with(json(200, json!({"items": []}), None))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::disabled());
    let err = h
        .client
        .conflicts()
        .list(ConflictFilter::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "decode", "{err}");
}

#[tokio::test]
async fn the_bearer_token_goes_with_every_request_and_a_request_may_override_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/conflicts"))
        .respond_with(json(
            200,
            json!({"conflicts": [], "next_after": null}),
            None,
        ))
        .mount(&server)
        .await;
    let h = harness_with(&server, RetryConfig::disabled(), |b| {
        b.bearer_token("t-alice").unwrap()
    });
    h.client
        .conflicts()
        .list(ConflictFilter::new())
        .await
        .unwrap();
    h.client
        .conflicts()
        .list(ConflictFilter::new())
        .bearer_token("t-admin")
        .await
        .unwrap();
    let sent: Vec<_> = received(&server, "GET").await;
    assert_eq!(header(&sent[0], "authorization"), Some("Bearer t-alice"));
    assert_eq!(header(&sent[1], "authorization"), Some("Bearer t-admin"));
    assert!(!format!("{:?}", h.client).contains("t-alice"));
}

#[tokio::test]
async fn resolve_sends_the_choice_and_maps_every_refusal() {
    let server = MockServer::start().await;
    let refusals = [
        (
            "c-1",
            problem(
                412,
                json!({"type": "urn:ifmatch:problem:precondition-failed", "current_etag": "\"e-9\""}),
            ),
        ),
        (
            "c-2",
            problem(
                409,
                json!({"type": "urn:ifmatch:problem:conflict-resolved", "detail": "resolved by bob"}),
            ),
        ),
        (
            "c-3",
            problem(401, json!({"type": "urn:ifmatch:problem:unauthorized"}))
                .insert_header("www-authenticate", "Bearer realm=\"ifmatch\""),
        ),
        (
            "c-4",
            problem(403, json!({"type": "urn:ifmatch:problem:forbidden"})),
        ),
        (
            "c-5",
            problem(
                423,
                json!({"type": "urn:ifmatch:problem:locked", "owner": "w"}),
            ),
        ),
    ];
    for (id, answer) in refusals {
        Mock::given(method("POST"))
            .and(path(format!("/conflicts/{id}/resolve")))
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
    }
    let h = harness(&server, RetryConfig::disabled());
    let c = h.client.conflicts();
    let stale = c.resolve("c-1", Resolution::Theirs).await.unwrap_err();
    assert!(stale.is_precondition_failed(), "{stale}");
    assert_eq!(stale.current_etag(), EntityTag::strong("e-9").ok().as_ref());
    let done = c.resolve("c-2", Resolution::Mine).await.unwrap_err();
    assert_eq!(done.code(), "conflict_resolved", "{done}");
    let anonymous = c.resolve("c-3", Resolution::Mine).await.unwrap_err();
    assert!(
        anonymous.is_unauthorized() && anonymous.code() == "unauthorized",
        "{anonymous}"
    );
    assert!(
        anonymous.to_string().contains("bearer_token"),
        "{anonymous}"
    );
    let other = c.resolve("c-4", Resolution::Mine).await.unwrap_err();
    assert_eq!(other.code(), "forbidden", "{other}");
    let locked = c.resolve("c-5", Resolution::Mine).await.unwrap_err();
    assert_eq!(locked.code(), "locked", "{locked}");
    assert_eq!(
        received(&server, "POST").await.len(),
        5,
        "no refusal is resent"
    );
}

#[tokio::test]
async fn a_merged_resolution_is_cached_with_its_new_tag() {
    let server = MockServer::start().await;
    let doc = json!({"title": "both"});
    Mock::given(method("POST"))
        .and(path("/conflicts/c-4/resolve"))
        .and(has_header("content-type", "application/json"))
        .and(body_json(json!({"resolution": "merged", "document": doc, "if_match": "\"e-2\"", "lock_token": "tok"})))
        .respond_with(json(200, resolved(4, "merged", "\"e-3\""), None))
        .expect(1)
        .mount(&server)
        .await;
    // A later read revalidates with the resolution's tag and is answered from the cache.
    Mock::given(method("GET"))
        .and(path("/items/doc"))
        .and(has_header("if-none-match", "\"e-3\""))
        .respond_with(wiremock::ResponseTemplate::new(304).insert_header("etag", "\"e-3\""))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::disabled());
    let record = h
        .client
        .conflicts()
        .resolve("c-4", Resolution::Merged(doc.clone()))
        .if_match(&EntityTag::strong("e-2").unwrap())
        .lock_token("tok")
        .await
        .unwrap();
    assert!(!record.is_open());
    let read = h.client.get::<Value>("/items/doc").await.unwrap();
    assert!(read.from_cache);
    assert_eq!(read.value, doc);
}

#[tokio::test]
async fn a_refused_write_names_the_conflict_the_server_recorded() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/items/doc"))
        .respond_with(problem(
            412,
            json!({"type": "urn:ifmatch:problem:precondition-failed",
            "current_etag": "\"e-2\"", "conflict_id": "c-9", "conflict_url": "/conflicts/c-9"}),
        ))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::disabled());
    let tag = EntityTag::strong("e-1").unwrap();
    let err = h
        .client
        .put("/items/doc", &json!({"a": 1}), tag)
        .await
        .unwrap_err();
    assert_eq!(err.conflict_id(), Some("c-9"));
    assert_eq!(err.conflict_url(), Some("/conflicts/c-9"));
}

#[tokio::test]
async fn escalate_hands_the_first_refusal_with_its_record_to_the_caller() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items/doc"))
        .respond_with(json(200, json!({"n": 1}), Some("\"e-1\"")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/items/doc"))
        .respond_with(problem(
            412,
            json!({"type": "urn:ifmatch:problem:precondition-failed",
            "current_etag": "\"e-2\"", "conflict_id": "c-9", "conflict_url": "/conflicts/c-9"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .update::<Value>("/items/doc", |doc| {
            doc["n"] = 2.into();
            Ok(())
        })
        .strategy(ifmatch::Strategy::Escalate)
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed(), "{err}");
    assert_eq!(err.conflict_id(), Some("c-9"));
    assert!(h.events().iter().any(|e| matches!(
        e,
        ifmatch::Event::Conflict {
            outcome: ifmatch::ConflictOutcome::Escalated,
            strategy: "escalate",
            ..
        }
    )));
}
