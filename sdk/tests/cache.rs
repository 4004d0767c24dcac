//! The ETag cache: conditional GETs, 304 reuse, partitions and eviction.

mod support;

use ifmatch::RetryConfig;
use serde_json::{json, Value};
use support::{harness, harness_with, header, json as json_response, received};
use wiremock::{
    matchers::{header as has_header, header_exists, method, path},
    Mock, MockServer, ResponseTemplate,
};

#[tokio::test]
async fn second_get_is_conditional_and_a_304_is_served_from_cache() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .and(has_header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304).insert_header("etag", "\"v1\""))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());

    let first = h.client.get::<Value>("/items/1").await.unwrap();
    assert!(!first.from_cache);
    let second = h.client.get::<Value>("/items/1").await.unwrap();
    assert!(second.from_cache);
    assert_eq!(second.value, json!({"n": 1}));
    assert_eq!(second.etag.unwrap().opaque(), "v1");
    assert_eq!(h.client.stats().not_modified_hits, 1);
    assert_eq!(h.client.stats().requests, 2);
}

#[tokio::test]
async fn get_shared_hands_out_the_cached_body_itself_on_304() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .and(has_header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304).insert_header("etag", "\"v1\""))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());

    let first = h.client.get_shared("/items/1").await.unwrap();
    assert!(!first.from_cache);
    assert_eq!(*first.value, json!({"n": 1}));
    let second = h.client.get_shared("/items/1").await.unwrap();
    assert!(second.from_cache);
    assert!(
        std::sync::Arc::ptr_eq(&first.value, &second.value),
        "a 304 must share the cached body, not copy it"
    );
    assert_eq!(second.etag.as_ref().unwrap().opaque(), "v1");
    // The owned read revalidates the same entry and still decodes its own copy.
    let owned = h.client.get::<Value>("/items/1").await.unwrap();
    assert!(owned.from_cache);
    assert_eq!(owned.value, *second.value);
    assert_eq!(h.client.stats().not_modified_hits, 2);
}

#[tokio::test]
async fn get_shared_without_a_cache_reads_in_full_each_time() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .expect(2)
        .mount(&server)
        .await;
    let h = harness_with(&server, RetryConfig::default(), |b| b.cache_capacity(0));
    let first = h.client.get_shared("/items/1").await.unwrap();
    let second = h.client.get_shared("/items/1").await.unwrap();
    assert!(!first.from_cache && !second.from_cache);
    assert!(!std::sync::Arc::ptr_eq(&first.value, &second.value));
    assert_eq!(first.value, second.value);
}

#[tokio::test]
async fn partitions_do_not_share_cached_bodies() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .and(header_exists("if-none-match"))
        .respond_with(ResponseTemplate::new(304).insert_header("etag", "\"v1\""))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(json_response(
            200,
            json!({"owner": "alice"}),
            Some("\"v1\""),
        ))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let alice = h.client.with_partition("alice");
    let bob = h.client.with_partition("bob");

    alice.get::<Value>("/items/1").await.unwrap();
    let bobs = bob.get::<Value>("/items/1").await.unwrap();
    assert!(
        !bobs.from_cache,
        "bob must not revalidate alice's cached copy"
    );
    let gets = received(&server, "GET").await;
    assert_eq!(header(&gets[1], "if-none-match"), None);
    assert!(alice.get::<Value>("/items/1").await.unwrap().from_cache);
}

#[tokio::test]
async fn delete_forgets_the_entry_so_the_next_get_is_unconditional() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/items/1"))
        .and(has_header("if-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    h.client.delete("/items/1", &read).await.unwrap();
    h.client.get::<Value>("/items/1").await.unwrap();

    let gets = received(&server, "GET").await;
    assert_eq!(
        header(&gets[1], "if-none-match"),
        None,
        "the deleted entry is not revalidated"
    );
}

#[tokio::test]
async fn write_answered_without_etag_evicts_the_entry() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/items/1"))
        .and(has_header("content-type", "application/merge-patch+json"))
        .and(has_header("if-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    h.client
        .patch("/items/1", &json!({"n": 2}), &read)
        .await
        .unwrap();
    h.client.get::<Value>("/items/1").await.unwrap();
    let gets = received(&server, "GET").await;
    assert_eq!(
        header(&gets[1], "if-none-match"),
        None,
        "a stale ETag must not be revalidated"
    );
}

#[tokio::test]
async fn put_answered_with_etag_caches_what_was_sent_and_chains_writes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .and(has_header("if-none-match", "\"v3\""))
        .respond_with(ResponseTemplate::new(304).insert_header("etag", "\"v3\""))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/items/1"))
        .and(has_header("if-match", "\"v1\""))
        .respond_with(json_response(200, json!({"n": 2}), Some("\"v2\"")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/items/1"))
        .and(has_header("if-match", "\"v2\""))
        .respond_with(json_response(200, json!({"n": 3}), Some("\"v3\"")))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    let second = h
        .client
        .put("/items/1", &json!({"n": 2}), &read)
        .await
        .unwrap();
    let third = h
        .client
        .put("/items/1", &json!({"n": 3, "sent": true}), &second)
        .await
        .unwrap();
    assert_eq!(third.etag.unwrap().opaque(), "v3");
    // RFC 9110 §9.3.4: the ETag of a PUT answer describes what was sent.
    assert_eq!(third.value, json!({"n": 3, "sent": true}));
    let cached = h.client.get::<Value>("/items/1").await.unwrap();
    assert!(cached.from_cache);
    assert_eq!(cached.value, json!({"n": 3, "sent": true}));
}

#[tokio::test]
async fn zero_capacity_disables_conditional_gets() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!(1), Some("\"v1\"")))
        .mount(&server)
        .await;
    let h = harness_with(&server, RetryConfig::default(), |b| b.cache_capacity(0));
    h.client.get::<Value>("/x").await.unwrap();
    h.client.get::<Value>("/x").await.unwrap();
    let gets = received(&server, "GET").await;
    assert!(gets.iter().all(|g| header(g, "if-none-match").is_none()));
}

#[tokio::test]
async fn get_decodes_into_the_requested_type_or_says_why_not() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Item {
        n: i64,
    }
    let server = MockServer::start().await;
    Mock::given(path("/good"))
        .respond_with(json_response(200, json!({"n": 4}), Some("\"a\"")))
        .mount(&server)
        .await;
    Mock::given(path("/bad"))
        .respond_with(json_response(200, json!({"n": "four"}), Some("\"b\"")))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    assert_eq!(
        h.client.get::<Item>("/good").await.unwrap().value,
        Item { n: 4 }
    );
    let err = h.client.get::<Item>("/bad").await.unwrap_err();
    assert_eq!(err.code(), "decode");
}

#[tokio::test]
async fn malformed_etag_is_ignored_and_counted() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!(1), Some("no-quotes")))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let out = h.client.get::<Value>("/x").await.unwrap();
    assert_eq!(out.etag, None);
    assert_eq!(h.client.stats().malformed_headers, 1);
}

#[tokio::test]
async fn default_headers_are_sent_with_every_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(has_header("authorization", "Bearer t0k3n"))
        .respond_with(json_response(200, json!(1), Some("\"v1\"")))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness_with(&server, RetryConfig::default(), |b| {
        b.header("authorization", "Bearer t0k3n").unwrap()
    });
    h.client.get::<Value>("/x").await.unwrap();
}

/// A write answered with the stored document (`Content-Location` naming it): the result and the
/// cache hold what the server answered. When the answer repeats the request's bytes, the SDK
/// does not parse it again and uses the document it sent; when the server stored something else
/// (here it adds a member), the server's document. Fails if the shortcut took the sent
/// document for an answer that differs from it.
#[tokio::test]
async fn a_write_result_is_the_answered_document_whether_or_not_it_repeats_the_request() {
    let server = MockServer::start().await;
    let sent = json!({"a": 1, "list": [1.5, "x", null], "nested": {"b": true}});
    let stored = json!({"a": 1, "added_by_server": "yes"});
    for (id, answer) in [("same", sent.clone()), ("changed", stored.clone())] {
        let url = format!("/items/{id}");
        Mock::given(method("PUT"))
            .and(path(url.as_str()))
            .respond_with(
                json_response(200, answer, Some(&format!("\"{id}1\"")))
                    .insert_header("content-location", url.as_str()),
            )
            .expect(1)
            .mount(&server)
            .await;
        // The next read revalidates the cached copy.
        Mock::given(method("GET"))
            .and(path(url.as_str()))
            .and(has_header("if-none-match", format!("\"{id}1\"").as_str()))
            .respond_with(ResponseTemplate::new(304).insert_header("etag", format!("\"{id}1\"")))
            .expect(1)
            .mount(&server)
            .await;
    }
    let h = harness(&server, RetryConfig::default());
    let unconditional = ifmatch::Precondition::unconditional();
    for (id, expected) in [("same", &sent), ("changed", &stored)] {
        let url = format!("/items/{id}");
        let written = h
            .client
            .put(&url, &sent, unconditional.clone())
            .await
            .unwrap();
        assert_eq!(&written.value, expected, "{id}: the write's result");
        let read = h.client.get::<Value>(&url).await.unwrap();
        assert!(read.from_cache, "{id}");
        assert_eq!(&read.value, expected, "{id}: the cached copy");
    }
}
