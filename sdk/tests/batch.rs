//! Atomic batches through the SDK against a scripted server: the JSON sent, the results read,
//! the cache afterwards, failures named by operation, odd answers and resends (the reference
//! server's behaviour is tested in server/tests and in batch_reference.rs).

mod support;

use std::collections::HashMap;

use ifmatch::{BatchOp, EntityTag, Precondition, RetryConfig, Target};
use serde_json::{json, Value};
use support::{harness, harness_with, header, json as json_response, problem, received};
use wiremock::{
    matchers::{body_json, method, path},
    Mock, MockServer, ResponseTemplate,
};

fn tag(text: &str) -> EntityTag {
    text.parse().unwrap()
}

/// Serves `GET /items/{id}` with these bodies and tags.
async fn documents(server: &MockServer, docs: &[(&str, Value, &str)]) {
    for (id, body, etag) in docs {
        Mock::given(method("GET"))
            .and(path(format!("/items/{id}")))
            .respond_with(json_response(200, body.clone(), Some(etag)))
            .mount(server)
            .await;
    }
}

fn batch_answer(results: Value) -> ResponseTemplate {
    json_response(200, json!({ "results": results }), None)
}

async fn batch_bodies(server: &MockServer) -> Vec<Value> {
    received(server, "POST")
        .await
        .into_iter()
        .filter(|r| r.url.path().ends_with("/batch"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn a_batch_is_sent_in_the_servers_shape_and_its_results_are_read() {
    let server = MockServer::start().await;
    documents(
        &server,
        &[
            ("a", json!({"n": 1}), "\"v3\""),
            ("b", json!({}), "\"v12\""),
            ("c", json!({}), "\"v30\""),
        ],
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/batch"))
        .and(body_json(json!({"operations": [
            {"op": "create", "lid": "order", "body": {"total": 0}},
            {"op": "put", "path": "/items/a", "if_match": "\"v3\"", "body": {"n": 2}},
            {"op": "patch", "ref": "order", "body": {"total": 10}},
            {"op": "delete", "path": "/items/b", "if_match": "\"v12\""},
            {"op": "check", "path": "/items/c", "if_match": "\"v30\""},
            {"op": "put", "path": "/items/d", "if_none_match": "*", "body": [1]},
        ]})))
        .respond_with(batch_answer(json!([
            {"op": "create", "status": 201, "path": "/items/k3", "etag": "\"v50\"", "body": {"total": 0}},
            {"op": "put", "status": 200, "path": "/items/a", "etag": "\"v51\"", "body": {"n": 2}},
            {"op": "patch", "status": 200, "path": "/items/k3", "etag": "\"v52\"", "body": {"total": 10}},
            {"op": "delete", "status": 204, "path": "/items/b"},
            {"op": "check", "status": 200, "path": "/items/c", "etag": "\"v30\""},
            {"op": "put", "status": 201, "path": "/items/d", "etag": "\"v53\"", "body": [1]},
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let get = |id: &str| h.client.get::<Value>(&format!("/items/{id}"));
    let (a, b, c) = (
        get("a").await.unwrap(),
        get("b").await.unwrap(),
        get("c").await.unwrap(),
    );
    let done = h
        .client
        .batch()
        .create_as("order", &json!({"total": 0}))
        .put("/items/a", &json!({"n": 2}), &a)
        .patch(
            Target::lid("order"),
            &json!({"total": 10}),
            Precondition::unconditional(),
        )
        .delete("/items/b", &b)
        .check("/items/c", c.etag.clone())
        .put("/items/d", &[1], Precondition::create_only())
        .await
        .unwrap();

    assert_eq!(done.len(), 6);
    assert_eq!(done.attempts(), 1);
    let order = done.created("order").unwrap();
    assert_eq!(order.op(), Some(BatchOp::Create));
    assert_eq!(order.status(), 201);
    assert_eq!(order.path(), "/items/k3");
    assert_eq!(order.url(), format!("{}/items/k3", server.uri()));
    assert_eq!(order.etag(), Some(&tag("\"v50\"")));
    assert_eq!(done[2].body(), Some(&json!({"total": 10})));
    assert_eq!(done[3].etag(), None);
    assert_eq!(done[3].status(), 204);
    let a2 = done[1].versioned::<Value>().unwrap();
    assert_eq!((a2.value, a2.etag), (json!({"n": 2}), Some(tag("\"v51\""))));
    assert_eq!(done.iter().filter(|r| r.status() == 200).count(), 3);
    assert!(done.created("nothing").is_none());

    let posts = received(&server, "POST").await;
    assert_eq!(header(&posts[0], "content-type"), Some("application/json"));
    assert!(
        header(&posts[0], "idempotency-key").is_some(),
        "a batch with a create is keyed, as a POST is"
    );
}

#[tokio::test]
async fn the_cache_follows_the_results_last_one_per_document_wins_and_deletes_forget() {
    let server = MockServer::start().await;
    documents(
        &server,
        &[("a", json!({"n": 1}), "\"v1\""), ("b", json!({}), "\"v7\"")],
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/batch"))
        .respond_with(batch_answer(json!([
            {"op": "put", "status": 200, "path": "/items/a", "etag": "\"v2\"", "body": {"n": 2}},
            {"op": "patch", "status": 200, "path": "/items/a", "etag": "\"v3\"", "body": {"n": 3}},
            {"op": "delete", "status": 204, "path": "/items/b"},
        ])))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let a = h.client.get::<Value>("/items/a").await.unwrap();
    let b = h.client.get::<Value>("/items/b").await.unwrap();
    h.client
        .batch()
        .put("/items/a", &json!({"n": 2}), &a)
        .patch("/items/a", &json!({"n": 3}), Precondition::unconditional())
        .delete("/items/b", &b)
        .await
        .unwrap();
    // The cached pair is (v3, {"n": 3}): an update applies its change to it without a read,
    // conditional on v3.
    Mock::given(method("PUT"))
        .and(path("/items/a"))
        .and(wiremock::matchers::header("if-match", "\"v3\""))
        .and(body_json(json!({"n": 4})))
        .respond_with(ResponseTemplate::new(204).insert_header("etag", "\"v4\""))
        .expect(1)
        .mount(&server)
        .await;
    h.client
        .update("/items/a", |doc: &mut Value| {
            doc["n"] = (doc["n"].as_i64().unwrap() + 1).into();
            Ok(())
        })
        .await
        .unwrap();
    h.client.get::<Value>("/items/b").await.unwrap();
    let gets_of_b: Vec<_> = received(&server, "GET")
        .await
        .into_iter()
        .filter(|r| r.url.path() == "/items/b")
        .collect();
    assert_eq!(
        header(&gets_of_b[1], "if-none-match"),
        None,
        "the delete forgot /items/b"
    );
}

#[tokio::test]
async fn a_failed_operation_is_named_and_keeps_the_predicates_of_its_error() {
    let server = MockServer::start().await;
    documents(&server, &[("a", json!({"n": 1}), "\"v1\"")]).await;
    Mock::given(method("POST"))
        .and(path("/batch"))
        .respond_with(problem(
            412,
            json!({
                "type": "urn:ifmatch:problem:precondition-failed", "status": 412,
                "detail": "If-Match did not match", "operation": 1, "op": "put",
                "path": "/items/a", "current_etag": "\"v9\""
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let a = h.client.get::<Value>("/items/a").await.unwrap();
    let err = h
        .client
        .batch()
        .check("/items/c", Precondition::unconditional())
        .put("/items/a", &json!({"n": 2}), &a)
        .await
        .unwrap_err();
    assert_eq!(err.failed_operation(), Some(1));
    assert_eq!(err.code(), "precondition_failed", "{err}");
    assert!(err.is_conflict() && err.is_precondition_failed());
    assert_eq!(err.status(), Some(http::StatusCode::PRECONDITION_FAILED));
    assert_eq!(err.current_etag(), Some(&tag("\"v9\"")));
    assert_eq!(err.problem().unwrap().extensions["op"], "put");
    assert_eq!(
        err.url(),
        Some(format!("{}/items/a", server.uri()).as_str())
    );
    assert!(
        matches!(
            &err,
            ifmatch::Error::Batch {
                op: BatchOp::Put,
                sent: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("operation 1 (put /items/a)"),
        "{err}"
    );
    assert_eq!(h.client.stats().conflicts_412, 1);
    // The stale validator was forgotten: the next read is unconditional.
    h.client.get::<Value>("/items/a").await.unwrap();
    let gets = received(&server, "GET").await;
    assert_eq!(header(&gets[1], "if-none-match"), None);
}

#[tokio::test]
async fn a_refusal_without_an_operation_is_the_batchs_own_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/batch"))
        .respond_with(problem(
            400,
            json!({"type": "urn:ifmatch:problem:malformed-body", "status": 400, "detail": "more than 100 operations"}),
        ))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .batch()
        .check("/items/a", Precondition::unconditional())
        .await
        .unwrap_err();
    assert_eq!(err.failed_operation(), None);
    assert_eq!(err.code(), "http_status");
    assert_eq!(err.status(), Some(http::StatusCode::BAD_REQUEST));
    assert_eq!(err.url(), Some(format!("{}/batch", server.uri()).as_str()));
    assert!(
        err.to_string().contains("more than 100 operations"),
        "{err}"
    );
}

#[tokio::test]
async fn a_locked_document_fails_its_operation_with_the_locks_details() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/batch"))
        .respond_with(
            problem(
                423,
                json!({"type": "urn:ifmatch:problem:locked", "status": 423, "operation": 0, "owner": "w2"}),
            )
            .insert_header("retry-after", "5"),
        )
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .batch()
        .delete("/items/a", tag("\"v1\""))
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.failed_operation()), ("locked", Some(0)));
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(5)));
    assert_eq!(err.problem().unwrap().extensions["owner"], "w2");
}

#[tokio::test]
async fn an_unreadable_success_is_a_decode_error_and_forgets_the_documents() {
    for (answer, reason) in [
        (
            ResponseTemplate::new(200).set_body_string("<html>ok</html>"),
            "not JSON",
        ),
        (
            batch_answer(json!([{"op": "put", "status": 200, "path": "/items/a"}])),
            "1 result(s) for 2 operation(s)",
        ),
    ] {
        let server = MockServer::start().await;
        documents(&server, &[("a", json!({"n": 1}), "\"v1\"")]).await;
        Mock::given(method("POST"))
            .and(path("/batch"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let h = harness(&server, RetryConfig::default());
        let a = h.client.get::<Value>("/items/a").await.unwrap();
        let err = h
            .client
            .batch()
            .put("/items/a", &json!({"n": 2}), &a)
            .check("/items/b", Precondition::unconditional())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "decode", "{err}");
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert!(cause.contains(reason), "{cause}");
        assert!(cause.contains("the batch was applied"), "{cause}");
        h.client.get::<Value>("/items/a").await.unwrap();
        let gets = received(&server, "GET").await;
        assert_eq!(header(&gets[1], "if-none-match"), None, "{reason}");
    }
}

#[tokio::test]
async fn a_batch_of_conditional_writes_is_resent_after_503() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/batch"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/batch"))
        .respond_with(batch_answer(json!([
            {"op": "put", "status": 200, "path": "/items/a", "etag": "\"v2\"", "body": {}},
            {"op": "check", "status": 200, "path": "/items/b", "etag": "\"v5\""},
        ])))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let done = h
        .client
        .batch()
        .put("/items/a", &json!({}), tag("\"v1\""))
        .check("/items/b", Precondition::unconditional())
        .await
        .unwrap();
    assert_eq!(done.attempts(), 2);
    assert_eq!(h.sleeper.delays(), vec![std::time::Duration::from_secs(1)]);
    let posts = received(&server, "POST").await;
    assert_eq!(
        header(&posts[0], "idempotency-key"),
        None,
        "conditional: no key needed"
    );
}

#[tokio::test]
async fn a_batch_that_could_apply_twice_is_not_resent_after_503() {
    for ops in ["create", "unconditional put"] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/batch"))
            .respond_with(ResponseTemplate::new(503))
            .expect(1)
            .mount(&server)
            .await;
        let h = harness(&server, RetryConfig::default());
        let batch = h.client.batch().put("/items/a", &json!({}), tag("\"v1\""));
        let batch = if ops == "create" {
            batch.create(&json!({}))
        } else {
            batch.put("/items/b", &json!({}), Precondition::unconditional())
        };
        let err = batch.await.unwrap_err();
        assert_eq!(err.code(), "unavailable", "{ops}: {err}");
        assert!(err.to_string().contains("not resent"), "{err}");
    }
}

#[tokio::test]
async fn a_keyed_batch_is_resent_after_429_with_the_same_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/batch"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "2"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/batch"))
        .respond_with(batch_answer(json!([
            {"op": "create", "status": 201, "path": "/items/n1", "etag": "\"v1\"", "body": {}},
        ])))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let done = h.client.batch().create(&json!({})).await.unwrap();
    assert_eq!(done[0].path(), "/items/n1");
    let posts = received(&server, "POST").await;
    assert_eq!(posts.len(), 2);
    assert_eq!(
        header(&posts[0], "idempotency-key"),
        header(&posts[1], "idempotency-key")
    );
}

#[tokio::test]
async fn a_resend_after_503_that_is_refused_leaves_the_outcome_unknown() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/batch"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/batch"))
        .respond_with(problem(
            412,
            json!({"type": "urn:ifmatch:problem:precondition-failed", "status": 412, "operation": 0}),
        ))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .batch()
        .put("/items/a", &json!({}), tag("\"v1\""))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "outcome_unknown", "{err}");
    assert!(err.is_outcome_unknown());
    assert!(
        err.to_string().contains("operation 0 (put /items/a)"),
        "{err}"
    );
}

#[tokio::test]
async fn what_cannot_be_sent_is_refused_before_sending_and_named() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let weak = h
        .client
        .batch()
        .check("/items/a", Precondition::unconditional())
        .put("/items/b", &json!({}), tag("W/\"v1\""))
        .await
        .unwrap_err();
    assert_eq!(
        (weak.code(), weak.failed_operation()),
        ("missing_etag", Some(1))
    );
    assert!(weak.to_string().contains("was not sent"), "{weak}");

    let mut unencodable = HashMap::new();
    unencodable.insert((1, 2), 3);
    let encode = h
        .client
        .batch()
        .create_as("x", &json!({}))
        .create(&unencodable)
        .await
        .unwrap_err();
    assert_eq!(
        (encode.code(), encode.failed_operation()),
        ("encode", Some(1))
    );

    let dangling = h
        .client
        .batch()
        .patch(
            Target::lid("order"),
            &json!({}),
            Precondition::unconditional(),
        )
        .create_as("order", &json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        (dangling.code(), dangling.failed_operation()),
        ("invalid_config", Some(0))
    );
    assert!(
        dangling.to_string().contains("no earlier create"),
        "{dangling}"
    );

    let bad_lid = h.client.batch().create_as("has space", &json!({})).await;
    assert_eq!(bad_lid.unwrap_err().code(), "invalid_config");

    let empty = h.client.batch().await.unwrap_err();
    assert_eq!(
        (empty.code(), empty.failed_operation()),
        ("invalid_config", None)
    );
    assert!(
        empty.to_string().contains("at least one operation"),
        "{empty}"
    );

    let elsewhere = h
        .client
        .batch()
        .check(
            "http://elsewhere.example/items/a",
            Precondition::unconditional(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (elsewhere.code(), elsewhere.failed_operation()),
        ("invalid_url", Some(0))
    );
}

#[tokio::test]
async fn with_a_base_path_documents_are_sent_relative_to_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/batch"))
        .and(body_json(json!({"operations": [
            {"op": "put", "path": "/items/a", "if_match": "\"v1\"", "body": {}},
            {"op": "check", "path": "/items/b"},
        ]})))
        .respond_with(batch_answer(json!([
            {"op": "put", "status": 200, "path": "/items/a", "etag": "\"v2\"", "body": {}},
            {"op": "check", "status": 200, "path": "/items/b", "etag": "\"v4\""},
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let base = format!("{}/api/v2", server.uri());
    let h = harness_with(&server, RetryConfig::default(), |b| {
        b.base_url(&base).unwrap()
    });
    let done = h
        .client
        .batch()
        .put("/items/a", &json!({}), tag("\"v1\""))
        .check(format!("{base}/items/b"), Precondition::unconditional())
        .await
        .unwrap();
    assert_eq!(done[0].url(), format!("{base}/items/a"));
}

#[tokio::test]
async fn the_batch_endpoint_can_be_moved() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/atomic"))
        .respond_with(batch_answer(json!([
            {"op": "check", "status": 200, "path": "/items/b", "etag": "\"v4\""},
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness_with(&server, RetryConfig::default(), |b| b.batch_path("/atomic"));
    h.client
        .batch()
        .check("/items/b", Precondition::unconditional())
        .header("x-trace", "7")
        .await
        .unwrap();
    let posts = received(&server, "POST").await;
    assert_eq!(header(&posts[0], "x-trace"), Some("7"));
}

#[tokio::test]
async fn operations_on_a_locked_document_carry_its_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/items/a/lock"))
        .respond_with(
            json_response(201, json!({"token": "tok-1", "ttl_ms": 30_000}), None)
                .insert_header("lock-token", "\"tok-1\""),
        )
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/items/a/lock"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/batch"))
        .respond_with(batch_answer(json!([
            {"op": "put", "status": 200, "path": "/items/a", "etag": "\"v2\"", "body": {}},
            {"op": "check", "status": 200, "path": "/items/a", "etag": "\"v2\""},
            {"op": "put", "status": 200, "path": "/items/b", "etag": "\"v3\"", "body": {}},
        ])))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let lock = h.client.lock("/items/a").await.unwrap();
    h.client
        .batch()
        .put("/items/a", &json!({}), Precondition::unconditional())
        .check("/items/a", Precondition::unconditional())
        .put("/items/b", &json!({}), Precondition::unconditional())
        .under(&lock)
        .await
        .unwrap();
    lock.release().await.unwrap();
    assert_eq!(
        batch_bodies(&server).await[0]["operations"],
        json!([
            {"op": "put", "path": "/items/a", "lock_token": "\"tok-1\"", "body": {}},
            {"op": "check", "path": "/items/a"},
            {"op": "put", "path": "/items/b", "body": {}},
        ])
    );
}
