//! One client shared by many tasks: a write is conditional on what its caller read, never on
//! what the shared cache holds now; a write's status body never becomes the cached document;
//! a weak cached validator is upgraded. Regression tests for issue #9 (items 1, 2 and 6).

mod support;

use std::sync::Arc;

use ifmatch::{Client, Precondition, RetryConfig};
use ifmatch_server::{spawn, Config};
use serde_json::{json, Value};
use support::{harness, harness_with, header, json as json_response, problem, received};
use tokio::sync::{Barrier, Mutex};
use wiremock::{
    matchers::{body_json, header as has_header, header_exists, method, path},
    Mock, MockServer, ResponseTemplate,
};

const TASKS: usize = 16;

/// 16 tasks on ONE client each read, increment and write back what they read. Before the fix,
/// `put` took the ETag from the shared cache, which a faster task had refreshed: 58 writes were
/// acknowledged and the count ended at 25. Every acknowledged write must be in the final count.
async fn read_edit_put_on_one_client(capacity: usize) {
    let server = spawn(Config::new()).await.unwrap();
    let client = Client::builder()
        .base_url(&server.base_url())
        .unwrap()
        .cache_capacity(capacity)
        .build()
        .unwrap();
    let item = client
        .create("/items", &json!({"n": 0}))
        .await
        .unwrap()
        .location
        .unwrap();
    let barrier = Arc::new(Barrier::new(TASKS));
    // Writes take turns, so each one comes after the previous one refreshed the shared cache.
    let turn = Arc::new(Mutex::new(()));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (client, item, barrier, turn) =
            (client.clone(), item.clone(), barrier.clone(), turn.clone());
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = 0u64;
            for _ in 0..4 {
                let read = client.get::<Value>(&item).await.unwrap();
                barrier.wait().await; // every task holds a copy before anyone writes
                let mut doc = read.value.clone();
                doc["n"] = (doc["n"].as_i64().unwrap() + 1).into();
                let my_turn = turn.lock().await;
                let written = client.put(&item, &doc, &read).await;
                drop(my_turn);
                match written {
                    Ok(_) => acknowledged += 1,
                    Err(e) if e.is_precondition_failed() => {}
                    Err(e) => panic!("unexpected error: {e}"),
                }
                barrier.wait().await;
            }
            acknowledged
        }));
    }
    let mut acknowledged = 0;
    for task in tasks {
        acknowledged += task.await.unwrap();
    }
    let last = client.get::<Value>(&item).await.unwrap().value;
    server.shutdown().await;
    assert_eq!(
        last["n"],
        json!(acknowledged),
        "every acknowledged write must count"
    );
    assert_eq!(acknowledged, 4, "one writer wins each round");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stale_copies_written_through_a_shared_client_are_refused() {
    read_edit_put_on_one_client(1024).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_cache_writes_are_still_conditional_on_the_callers_read() {
    read_edit_put_on_one_client(0).await;
}

#[tokio::test]
async fn a_refreshed_cache_never_lends_its_etag_to_an_older_copy() {
    let server = MockServer::start().await;
    for (tag, n) in [("\"v1\"", 1), ("\"v2\"", 2)] {
        Mock::given(method("GET"))
            .and(path("/items/1"))
            .respond_with(json_response(200, json!({"n": n}), Some(tag)))
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("PUT"))
        .and(has_header("if-match", "\"v2\""))
        .respond_with(json_response(200, json!({"n": 3}), Some("\"v3\"")))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(has_header("if-match", "\"v1\""))
        .respond_with(problem(
            412,
            json!({"status": 412, "current_etag": "\"v3\""}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    // Capacity 1: another resource evicts the entry in between, as in a busy shared client.
    let h = harness_with(&server, RetryConfig::default(), |b| b.cache_capacity(1));
    let first = h.client.get::<Value>("/items/1").await.unwrap();
    let second = h.client.get::<Value>("/items/1").await.unwrap();
    h.client
        .put("/items/1", &json!({"n": 3}), &second)
        .await
        .unwrap();
    let err = h
        .client
        .put("/items/1", &json!({"n": 2}), &first)
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed(), "{err}");
    let puts = received(&server, "PUT").await;
    assert_eq!(header(&puts[1], "if-match"), Some("\"v1\""));
    assert_eq!(
        received(&server, "GET").await.len(),
        2,
        "no write reads first"
    );
}

#[tokio::test]
async fn a_status_body_answering_a_put_never_becomes_the_cached_document() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(has_header("if-none-match", "\"v2\""))
        .respond_with(ResponseTemplate::new(304).insert_header("etag", "\"v2\""))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json_response(
            200,
            json!({"n": 1, "title": "keep"}),
            Some("\"v1\""),
        ))
        .mount(&server)
        .await;
    // A common server shape: the write answers with a status object and the new ETag.
    Mock::given(method("PUT"))
        .and(has_header("if-match", "\"v1\""))
        .respond_with(json_response(
            200,
            json!({"ok": true, "id": "1", "rev": "v2"}),
            Some("\"v2\""),
        ))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(has_header("if-match", "\"v2\""))
        .and(body_json(json!({"n": 3, "title": "keep"})))
        .respond_with(ResponseTemplate::new(204).insert_header("etag", "\"v3\""))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    let written = h
        .client
        .put("/items/1", &json!({"n": 2, "title": "keep"}), &read)
        .await
        .unwrap();
    assert_eq!(written.value, json!({"n": 2, "title": "keep"}));
    let cached = h.client.get::<Value>("/items/1").await.unwrap();
    assert!(cached.from_cache);
    assert_eq!(cached.value, json!({"n": 2, "title": "keep"}));
    // The next update changes the document, not the status object.
    let out = h
        .client
        .update::<Value>("/items/1", |doc| {
            doc["n"] = (doc["n"].as_i64().unwrap() + 1).into();
            Ok(())
        })
        .send()
        .await
        .unwrap();
    assert_eq!(out.value, json!({"n": 3, "title": "keep"}));
}

#[tokio::test]
async fn a_patch_answered_with_a_status_body_forgets_the_entry_and_reports_no_version() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header_exists("if-none-match"))
        .respond_with(ResponseTemplate::new(304).insert_header("etag", "\"v1\""))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(json_response(200, json!({"ok": true}), Some("\"v2\"")))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    let patched = h
        .client
        .patch("/items/1", &json!({"n": 2}), &read)
        .await
        .unwrap();
    assert_eq!(patched.etag, None, "the status body is not the resource");
    let err = h
        .client
        .put("/items/1", &json!({"n": 9}), &patched)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "missing_etag", "nothing to be conditional on");
    let after = h.client.get::<Value>("/items/1").await.unwrap();
    assert!(!after.from_cache, "the entry was forgotten");
}

/// Weak for a moment after a write, strong afterwards: a conditional GET of the weak tag is
/// answered 304 with the strong one, which names a representation the client does not hold.
async fn weak_then_strong_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(has_header("if-none-match", "W/\"1\""))
        .respond_with(ResponseTemplate::new(304).insert_header("etag", "\"1\""))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({"n": 1}), Some("W/\"1\"")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"1\"")))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(has_header("if-match", "\"1\""))
        .respond_with(ResponseTemplate::new(204).insert_header("etag", "\"2\""))
        .expect(1)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_304_naming_a_strong_tag_upgrades_a_cached_weak_one() {
    let server = weak_then_strong_server().await;
    let h = harness(&server, RetryConfig::default());
    let weak = h.client.get::<Value>("/items/1").await.unwrap();
    assert!(weak.etag.unwrap().is_weak());
    let strong = h.client.get::<Value>("/items/1").await.unwrap();
    assert!(!strong.from_cache, "re-read in full, not guessed");
    assert_eq!(strong.etag.as_ref().unwrap().to_string(), "\"1\"");
    h.client
        .put("/items/1", &json!({"n": 2}), &strong)
        .await
        .unwrap();
}

#[tokio::test]
async fn update_re_reads_unconditionally_when_only_a_weak_tag_is_cached() {
    let server = weak_then_strong_server().await;
    let h = harness(&server, RetryConfig::default());
    h.client.get::<Value>("/items/1").await.unwrap();
    h.client
        .update::<Value>("/items/1", |doc| {
            doc["n"] = 2.into();
            Ok(())
        })
        .send()
        .await
        .unwrap();
    let gets = received(&server, "GET").await;
    assert_eq!(header(&gets[1], "if-none-match"), None);
}

#[tokio::test]
async fn a_409_naming_the_version_that_was_sent_is_not_retried_as_a_version_conflict() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({"name": "a"}), Some("\"v1\"")))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(problem(
            409,
            json!({"title": "name already taken", "status": 409, "current_etag": "\"v1\""}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .update::<Value>("/items/1", |doc| {
            doc["name"] = "b".into();
            Ok(())
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), "http_status", "{err}");
    assert!(!err.is_conflict());
}

#[tokio::test]
async fn create_only_and_unconditional_are_explicit_choices() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    h.client
        .put("/a", &json!({}), Precondition::create_only())
        .await
        .unwrap();
    h.client
        .delete("/a", Precondition::unconditional())
        .await
        .unwrap_err(); // no DELETE mock: 404, but sent without a precondition
    let puts = received(&server, "PUT").await;
    assert_eq!(header(&puts[0], "if-none-match"), Some("*"));
    let deletes = received(&server, "DELETE").await;
    assert_eq!(header(&deletes[0], "if-match"), None);
}
