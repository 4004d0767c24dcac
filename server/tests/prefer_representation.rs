//! `Prefer: return=representation` on a refused write: the 412 carries the current document in
//! the problem member `current`, with its tag and `Preference-Applied`; without the preference
//! (or for v2, in its envelope) the refusal is as before.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{etag_of, Backend, TestServer};

both_storages!(
    a_refusal_carries_the_current_document_when_asked,
    a_refusal_without_the_preference_carries_none,
    a_v2_refusal_carries_the_v2_envelope,
);

const STALE: &str = "\"stale-tag\"";
const PREFER: (&str, &str) = ("prefer", "return=representation");

async fn a_refusal_carries_the_current_document_when_asked(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/doc", r#"{"n":1,"tags":["a"]}"#).await;
    let (current, tag) = server.read("/items/doc").await;
    for refused in [
        server
            .put("/items/doc", &[("if-match", STALE), PREFER], r#"{"n":2}"#)
            .await,
        server
            .patch("/items/doc", &[("if-match", STALE), PREFER], r#"{"n":2}"#)
            .await,
        server
            .delete("/items/doc", &[("if-match", STALE), PREFER])
            .await,
    ] {
        assert_eq!(refused.status(), StatusCode::PRECONDITION_FAILED);
        assert_eq!(etag_of(refused.headers()), tag);
        assert_eq!(
            refused.headers()["preference-applied"],
            "return=representation"
        );
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["current"], current);
        assert_eq!(body["current_etag"], tag.as_str());
    }
    assert_eq!(server.read("/items/doc").await, (current, tag), "unchanged");
}

async fn a_refusal_without_the_preference_carries_none(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/doc", r#"{"n":1}"#).await;
    for prefer in [None, Some("return=minimal")] {
        let headers: Vec<(&str, &str)> = [("if-match", STALE)]
            .into_iter()
            .chain(prefer.map(|p| ("prefer", p)))
            .collect();
        let refused = server.put("/items/doc", &headers, r#"{"n":2}"#).await;
        assert_eq!(refused.status(), StatusCode::PRECONDITION_FAILED);
        assert!(refused.headers().get("preference-applied").is_none());
        let body: Value = refused.json().await.unwrap();
        assert!(body.get("current").is_none(), "{body}");
        assert!(body.get("current_etag").is_some(), "{body}");
    }
    // A missing document has nothing to carry.
    let missing = server
        .put("/items/none", &[("if-match", STALE), PREFER], r#"{"n":2}"#)
        .await;
    assert_eq!(missing.status(), StatusCode::PRECONDITION_FAILED);
    let body: Value = missing.json().await.unwrap();
    assert!(body.get("current").is_none(), "{body}");
}

async fn a_v2_refusal_carries_the_v2_envelope(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/doc", r#"{"n":1}"#).await;
    let read = server.get("/v2/items/doc", &[]).await;
    let tag = etag_of(read.headers());
    let envelope: Value = read.json().await.unwrap();
    let refused = server
        .put(
            "/v2/items/doc",
            &[("if-match", STALE), PREFER],
            &json!({"data": {"n": 2}}).to_string(),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::PRECONDITION_FAILED);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["current"], envelope);
    assert_eq!(body["current_etag"], tag.as_str());
}
