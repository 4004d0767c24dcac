//! Servers that keep the version in the body, scripted after Kubernetes (`resourceVersion`, a
//! stale one is 409 with a `Status` body, no ETags) and CouchDB (`_rev`, ETag = rev, 409
//! `{"error":"conflict"}`). The reference server's v2 is in versions_reference.rs.

mod support;

use ifmatch::{Precondition, RetryConfig, Strategy, Version, VersionField};
use serde_json::{json, Value};
use support::{harness_with, header, json as json_response, problem, received};
use wiremock::{
    matchers::{body_partial_json, method, path},
    Mock, MockServer, ResponseTemplate,
};

const CM: &str = "/api/v1/namespaces/default/configmaps/cfg";

fn config_map(rv: &str, n: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "cfg", "namespace": "default", "resourceVersion": rv},
           "data": {"n": n}})
}

fn k8s_conflict() -> ResponseTemplate {
    json_response(
        409,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "Operation cannot be fulfilled on configmaps \"cfg\": the object has been modified; please apply your changes to the latest version and try again",
               "reason": "Conflict", "details": {"name": "cfg", "kind": "configmaps"}, "code": 409}),
        None,
    )
}

fn bodies(requests: &[wiremock::Request]) -> Vec<Value> {
    requests
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn kubernetes_update_recovers_from_a_stale_resource_version() {
    let server = MockServer::start().await;
    // The first read sees 100; by the write, someone else has made it 101 (n = 5).
    Mock::given(method("GET"))
        .and(path(CM))
        .respond_with(json_response(200, config_map("100", "1"), None))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(CM))
        .respond_with(json_response(200, config_map("101", "5"), None))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(CM))
        .and(body_partial_json(
            json!({"metadata": {"resourceVersion": "100"}}),
        ))
        .respond_with(k8s_conflict())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(CM))
        .and(body_partial_json(
            json!({"metadata": {"resourceVersion": "101"}}),
        ))
        .respond_with(json_response(200, config_map("102", "6"), None))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness_with(&server, RetryConfig::default(), |b| {
        b.version_field(VersionField::at("/metadata/resourceVersion"))
            .trust_write_bodies(true) // Kubernetes answers a PUT with the stored object
    });
    let out = h
        .client
        .update::<Value>(CM, |cm| {
            let n: i64 = cm["data"]["n"].as_str().unwrap().parse().unwrap();
            cm["data"]["n"] = (n + 1).to_string().into();
            Ok(())
        })
        .strategy(Strategy::Reapply)
        .await
        .unwrap();
    assert_eq!(out.attempts, 2);
    assert_eq!(out.version, Some(Version::text("102")));
    let puts = received(&server, "PUT").await;
    assert!(
        puts.iter().all(|r| header(r, "if-match").is_none()),
        "body only"
    );
    assert_eq!(
        bodies(&puts)[1]["data"]["n"],
        "6",
        "reapplied to what the re-read found"
    );
    assert_eq!(h.client.stats().conflicts_409, 1);
}

#[tokio::test]
async fn a_kept_resource_version_makes_a_put_conditional_without_a_read() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(CM))
        .and(body_partial_json(
            json!({"metadata": {"resourceVersion": "100"}}),
        ))
        .respond_with(k8s_conflict())
        .expect(1)
        .mount(&server)
        .await;
    let h = harness_with(&server, RetryConfig::default(), |b| {
        b.version_field(VersionField::at("/metadata/resourceVersion"))
    });
    let doc = json!({"metadata": {"name": "cfg"}, "data": {"n": "2"}});
    let err = h
        .client
        .put(CM, &doc, Precondition::at_version("100"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "conflict");
    assert!(
        err.is_conflict(),
        "a 409 to a versioned write lost a version race"
    );
}

#[tokio::test]
async fn without_a_version_nothing_is_sent_and_a_named_409_is_not_a_race() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(problem(
            409,
            json!({"type": "urn:example:name-taken", "title": "name taken"}),
        ))
        .mount(&server)
        .await;
    let h = harness_with(&server, RetryConfig::default(), |b| {
        b.version_field(VersionField::at("/_rev"))
    });
    let tag = ifmatch::EntityTag::strong("1-a").unwrap();
    let err = h.client.put("/db/doc", &json!({}), &tag).await.unwrap_err();
    assert_eq!(err.code(), "missing_version");
    assert!(err.to_string().contains("\"/_rev\""), "{err}");
    assert!(received(&server, "PUT").await.is_empty());

    let err = h
        .client
        .put("/db/doc", &json!({}), Precondition::at_version("1-a"))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "http_status",
        "a business rule, not a version race"
    );
}

async fn couch(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/db/doc"))
        .respond_with(json_response(
            200,
            json!({"_id": "doc", "_rev": "1-a", "n": 1}),
            Some("\"1-a\""),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/db/doc"))
        .respond_with(json_response(
            200,
            json!({"_id": "doc", "_rev": "2-b", "n": 10}),
            Some("\"2-b\""),
        ))
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/db/doc"))
        .and(body_partial_json(json!({"_rev": "1-a"})))
        .respond_with(json_response(
            409,
            json!({"error": "conflict", "reason": "Document update conflict."}),
            None,
        ))
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/db/doc"))
        .and(body_partial_json(json!({"_rev": "2-b"})))
        .respond_with(json_response(
            201,
            json!({"ok": true, "id": "doc", "rev": "3-c"}),
            Some("\"3-c\""),
        ))
        .mount(server)
        .await;
}

#[tokio::test]
async fn couchdb_put_sends_the_rev_it_read_and_a_stale_one_is_a_conflict() {
    let server = MockServer::start().await;
    couch(&server).await;
    let h = harness_with(&server, RetryConfig::default(), |b| {
        b.version_field(VersionField::at("/_rev").with_if_match(true))
    });
    let read = h.client.get::<Value>("/db/doc").await.unwrap();
    assert_eq!(read.version, Some(Version::text("1-a")));
    let mut doc = read.value.clone();
    doc["n"] = 2.into();
    doc["_rev"] = "made-up".into(); // the version is the read's, not whatever the body says
    let err = h.client.put("/db/doc", &doc, &read).await.unwrap_err();
    assert!(err.is_conflict() && err.code() == "conflict", "{err}");
    let put = &received(&server, "PUT").await[0];
    assert_eq!(header(put, "if-match"), Some("\"1-a\""));
    assert_eq!(bodies(std::slice::from_ref(put))[0]["_rev"], "1-a");
}

#[tokio::test]
async fn couchdb_update_starts_from_the_cached_rev_and_recovers() {
    let server = MockServer::start().await;
    couch(&server).await;
    let h = harness_with(&server, RetryConfig::default(), |b| {
        b.version_field(VersionField::at("/_rev"))
    });
    h.client.get::<Value>("/db/doc").await.unwrap(); // caches rev 1-a with its body
    let out = h
        .client
        .update::<Value>("/db/doc", |doc| {
            doc["n"] = (doc["n"].as_i64().unwrap() + 1).into();
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(out.attempts, 2);
    let gets = received(&server, "GET").await;
    assert_eq!(
        gets.len(),
        2,
        "the update's first write came from the cache"
    );
    let sent = bodies(&received(&server, "PUT").await);
    assert_eq!(sent[0]["_rev"], "1-a");
    assert_eq!(
        (sent[1]["_rev"].clone(), sent[1]["n"].clone()),
        (json!("2-b"), json!(11))
    );
    // The answer was a status message: the document sent (with the old rev) is not cached.
    assert_eq!(out.version, None);
    assert_eq!(out.etag.unwrap().opaque(), "3-c");
}

#[tokio::test]
async fn a_version_field_pointer_is_checked_when_the_client_is_built() {
    for bad in ["version", "", "/a~2"] {
        let err = ifmatch::Client::builder()
            .version_field(VersionField::at(bad))
            .build()
            .unwrap_err();
        assert_eq!(err.code(), "invalid_config", "{bad:?}");
        assert!(err.to_string().contains("version_field"), "{err}");
    }
    let _ = ResponseTemplate::new(200);
}
