//! `POST /batch`: several writes applied all or none. After every refusal the whole collection
//! is read again and must be exactly as before (ids, tags and values).

mod support;

use ifmatch_server::{Config, MismatchStatus};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{expect_problem, Backend, TestServer};

both_storages!(
    every_operation_applies_in_order_with_lid_and_ref,
    operations_see_what_earlier_operations_left,
    a_stale_if_match_refuses_the_whole_batch,
    conflict_mode_refuses_a_stale_batch_with_409,
    missing_documents_refuse_the_batch_with_404,
    if_none_match_star_on_an_existing_document_refuses_the_batch,
    if_match_against_the_batchs_own_write_is_refused_without_a_tag,
    a_document_locked_by_someone_else_refuses_the_batch_with_423,
    the_lock_holders_token_lets_the_batch_write_and_delete_ends_the_lock,
    a_lost_lock_token_refuses_the_batch_with_412,
    unconditional_writes_are_428_when_preconditions_are_required,
    malformed_operations_are_400_naming_the_operation,
    malformed_batches_are_400_without_an_operation,
    too_many_operations_are_refused,
);

fn tag(result: &Value) -> String {
    result["etag"].as_str().expect("an etag").to_owned()
}

async fn every_operation_applies_in_order_with_lid_and_ref(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let a = server.seed("/items/a", r#"{"n":1}"#).await;
    let b = server.seed("/items/b", r#"{"gone":false}"#).await;
    let c = server.seed("/items/c", r#"{"read":true}"#).await;
    let results = server
        .batch_ok(json!([
            {"op": "create", "lid": "order", "body": {"total": 0}},
            {"op": "put", "path": "/items/a", "if_match": a, "body": {"n": 2}},
            {"op": "patch", "ref": "order", "body": {"total": 10}},
            {"op": "delete", "path": "/items/b", "if_match": b},
            {"op": "check", "path": "/items/c", "if_match": c},
        ]))
        .await;
    assert_eq!(results.len(), 5);
    let order = results[0]["path"].as_str().unwrap().to_owned();
    assert!(order.starts_with("/items/") && order.len() == "/items/".len() + 12);
    assert_eq!(
        results[0],
        json!({"op": "create", "status": 201, "path": order, "etag": tag(&results[0]), "body": {"total": 0}})
    );
    assert_eq!(
        results[1],
        json!({"op": "put", "status": 200, "path": "/items/a", "etag": tag(&results[1]), "body": {"n": 2}})
    );
    assert_eq!(
        results[2],
        json!({"op": "patch", "status": 200, "path": order, "etag": tag(&results[2]), "body": {"total": 10}})
    );
    assert_eq!(
        results[3],
        json!({"op": "delete", "status": 204, "path": "/items/b"})
    );
    assert_eq!(
        results[4],
        json!({"op": "check", "status": 200, "path": "/items/c", "etag": c})
    );
    // Every tag is new, and the last one of a document is what GET answers.
    assert_ne!(tag(&results[0]), tag(&results[2]));
    assert_eq!(
        server.read(&order).await,
        (json!({"total": 10}), tag(&results[2]))
    );
    assert_eq!(
        server.read("/items/a").await,
        (json!({"n": 2}), tag(&results[1]))
    );
    assert_eq!(
        server.get("/items/b", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(server.read("/items/c").await.1, c);
    let ids: Vec<Value> = server.list().await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].clone())
        .collect();
    assert_eq!(
        ids,
        [json!("a"), json!("c"), json!(&order["/items/".len()..])]
    );
    server.shutdown().await;
}

async fn operations_see_what_earlier_operations_left(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let old = server.seed("/items/doc", r#"{"keep":1}"#).await;
    let results = server
        .batch_ok(json!([
            {"op": "put", "path": "/items/doc", "if_match": old, "body": {"a": 1}},
            {"op": "patch", "path": "/items/doc", "body": {"b": 2}},
            {"op": "check", "path": "/items/doc", "if_match": "*"},
            {"op": "delete", "path": "/items/doc", "if_match": "*"},
            {"op": "put", "path": "/items/doc", "if_none_match": "*", "body": {"again": true}},
            {"op": "put", "path": "/items/new%20one", "body": [1, 2]},
        ]))
        .await;
    let statuses: Vec<u64> = results
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 200, 200, 204, 201, 201]);
    assert_eq!(results[1]["body"], json!({"a": 1, "b": 2}));
    assert_eq!(results[2]["etag"], results[1]["etag"]);
    assert_eq!(results[5]["path"], "/items/new%20one");
    assert_eq!(
        server.read("/items/doc").await,
        (json!({"again": true}), tag(&results[4]))
    );
    assert_eq!(server.read("/items/new%20one").await.0, json!([1, 2]));
    server.shutdown().await;
}

/// The collection before a refused batch; the caller checks it is unchanged afterwards.
async fn state_with_two_documents(server: &TestServer) -> (String, String, Value) {
    let a = server.seed("/items/a", r#"{"n":1}"#).await;
    let b = server.seed("/items/b", r#"{"n":2}"#).await;
    (a, b, server.list().await)
}

async fn a_stale_if_match_refuses_the_whole_batch(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let (a, b, before) = state_with_two_documents(&server).await;
    let stale = server.seed("/items/b", r#"{"n":3}"#).await;
    let before_stale = server.list().await;
    assert_ne!(before, before_stale);
    let response = server
        .batch(json!([
            {"op": "create", "lid": "x", "body": {"new": true}},
            {"op": "put", "path": "/items/a", "if_match": a, "body": {"n": 10}},
            {"op": "patch", "ref": "x", "body": {"more": 1}},
            {"op": "delete", "path": "/items/b", "if_match": b},
        ]))
        .await;
    assert!(
        response.headers().get("etag").is_none(),
        "an ETag would describe /batch"
    );
    let body = expect_problem(response, 412, "precondition-failed").await;
    assert_eq!(body["operation"], 3);
    assert_eq!(body["op"], "delete");
    assert_eq!(body["path"], "/items/b");
    assert_eq!(body["current_etag"], stale);
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(
            "operation 3 (delete /items/b) failed, so nothing of the batch was applied"
        ),
        "{detail}"
    );
    assert_eq!(
        server.list().await,
        before_stale,
        "no create, no put, no delete"
    );
    server.shutdown().await;
}

async fn conflict_mode_refuses_a_stale_batch_with_409(backend: Backend) {
    let config = Config::new().with_mismatch_status(MismatchStatus::Conflict);
    let server = TestServer::start(backend, config).await;
    let (a, _, before) = state_with_two_documents(&server).await;
    let response = server
        .batch(json!([
            {"op": "put", "path": "/items/a", "if_match": a, "body": {"n": 10}},
            {"op": "check", "path": "/items/b", "if_match": "\"stale-1\""},
        ]))
        .await;
    let body = expect_problem(response, 409, "version-conflict").await;
    assert_eq!(body["operation"], 1);
    assert_eq!(body["op"], "check");
    assert_eq!(body["current_etag"], server.read("/items/b").await.1);
    assert_eq!(server.list().await, before);
    server.shutdown().await;
}

async fn missing_documents_refuse_the_batch_with_404(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let (a, _, before) = state_with_two_documents(&server).await;
    for (op, extra) in [
        ("patch", json!({"body": {"n": 1}})),
        ("delete", json!({})),
        ("check", json!({})),
    ] {
        let mut missing = json!({"op": op, "path": "/items/missing"});
        missing
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let response = server
            .batch(json!([
                {"op": "create", "body": {}},
                {"op": "put", "path": "/items/a", "if_match": a, "body": {"n": 10}},
                missing,
            ]))
            .await;
        let body = expect_problem(response, 404, "not-found").await;
        assert_eq!(body["operation"], 2, "{op}");
        assert_eq!(body["op"], op);
        assert_eq!(body["path"], "/items/missing");
        assert_eq!(server.list().await, before, "after {op}");
    }
    // A document deleted by an earlier operation is missing for the later ones.
    let response = server
        .batch(json!([
            {"op": "delete", "path": "/items/a"},
            {"op": "patch", "path": "/items/a", "body": {}},
        ]))
        .await;
    assert_eq!(
        expect_problem(response, 404, "not-found").await["operation"],
        1
    );
    assert_eq!(server.list().await, before);
    server.shutdown().await;
}

async fn if_none_match_star_on_an_existing_document_refuses_the_batch(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let (_, b, before) = state_with_two_documents(&server).await;
    let response = server
        .batch(json!([
            {"op": "put", "path": "/items/fresh", "if_none_match": "*", "body": 1},
            {"op": "put", "path": "/items/b", "if_none_match": "*", "body": 2},
        ]))
        .await;
    let body = expect_problem(response, 412, "precondition-failed").await;
    assert_eq!(body["operation"], 1);
    assert_eq!(body["current_etag"], b);
    assert_eq!(server.list().await, before);
    server.shutdown().await;
}

async fn if_match_against_the_batchs_own_write_is_refused_without_a_tag(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let (a, _, before) = state_with_two_documents(&server).await;
    let response = server
        .batch(json!([
            {"op": "put", "path": "/items/a", "if_match": a, "body": {"n": 10}},
            {"op": "patch", "path": "/items/a", "if_match": a, "body": {"m": 1}},
        ]))
        .await;
    let body = expect_problem(response, 412, "precondition-failed").await;
    assert_eq!(body["operation"], 1);
    assert!(body.get("current_etag").is_none(), "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("operation 0 of this batch wrote"),
        "{detail}"
    );
    assert_eq!(server.list().await, before);
    server.shutdown().await;
}

async fn a_document_locked_by_someone_else_refuses_the_batch_with_423(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let (a, b, before) = state_with_two_documents(&server).await;
    server
        .acquire("/items/b", r#"{"owner":"bob","ttl_ms":60000}"#)
        .await;
    let response = server
        .batch(json!([
            {"op": "put", "path": "/items/a", "if_match": a, "body": {"n": 10}},
            {"op": "patch", "path": "/items/b", "if_match": b, "body": {"n": 20}},
        ]))
        .await;
    let retry_after = support::locks::retry_after(&response);
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body = expect_problem(response, 423, "locked").await;
    assert_eq!(body["operation"], 1);
    assert_eq!(body["op"], "patch");
    assert_eq!(body["path"], "/items/b");
    assert_eq!(body["owner"], "bob");
    assert!(body["expires_at_ms"].is_u64());
    assert_eq!(server.list().await, before);
    // A check only reads, and reads never wait for or check locks.
    server
        .batch_ok(json!([{"op": "check", "path": "/items/b", "if_match": b}]))
        .await;
    server.shutdown().await;
}

async fn the_lock_holders_token_lets_the_batch_write_and_delete_ends_the_lock(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let (a, _, _) = state_with_two_documents(&server).await;
    let held = server.acquire("/items/b", r#"{"ttl_ms":60000}"#).await;
    let token = held.header().1;
    let results = server
        .batch_ok(json!([
            {"op": "patch", "path": "/items/b", "lock_token": token, "body": {"n": 20}},
            {"op": "check", "path": "/items/b", "lock_token": token},
            {"op": "put", "path": "/items/a", "if_match": a, "body": {"n": 10}},
        ]))
        .await;
    assert_eq!(results[0]["body"], json!({"n": 20}));
    assert!(server.lock_state("/items/b").await.is_some(), "still held");

    // A refused batch that deletes the locked document keeps the lock.
    let response = server
        .batch(json!([
            {"op": "delete", "path": "/items/b", "lock_token": token},
            {"op": "check", "path": "/items/missing"},
        ]))
        .await;
    expect_problem(response, 404, "not-found").await;
    assert!(
        server.lock_state("/items/b").await.is_some(),
        "the lock ends only with a committed delete"
    );

    // Deleting ends the lock; a later operation re-creating the document needs no token.
    server
        .batch_ok(json!([
            {"op": "delete", "path": "/items/b", "lock_token": token},
            {"op": "put", "path": "/items/b", "if_none_match": "*", "body": {"n": 0}},
        ]))
        .await;
    assert!(server.lock_state("/items/b").await.is_none());
    assert_eq!(server.read("/items/b").await.0, json!({"n": 0}));
    server.shutdown().await;
}

async fn a_lost_lock_token_refuses_the_batch_with_412(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let (_, _, before) = state_with_two_documents(&server).await;
    let held = server.acquire("/items/a", r#"{"ttl_ms":60000}"#).await;
    server.release("/items/a", &held).await;
    let response = server
        .batch(json!([
            {"op": "put", "path": "/items/b", "body": {"n": 9}},
            {"op": "put", "path": "/items/a", "lock_token": held.header().1, "body": {"n": 10}},
        ]))
        .await;
    let body = expect_problem(response, 412, "lock-token-invalid").await;
    assert_eq!(body["operation"], 1);
    assert_eq!(server.list().await, before);
    server.shutdown().await;
}

async fn unconditional_writes_are_428_when_preconditions_are_required(backend: Backend) {
    let config = Config::new().with_require_preconditions(true);
    let server = TestServer::start(backend, config).await;
    let seeded = server
        .batch_ok(json!([
            {"op": "put", "path": "/items/a", "if_none_match": "*", "body": {"n": 1}},
            {"op": "put", "path": "/items/b", "if_none_match": "*", "body": {"n": 2}},
        ]))
        .await;
    let a = tag(&seeded[0]);
    let before = server.list().await;
    let response = server
        .batch(json!([
            {"op": "create", "body": {}},
            {"op": "check", "path": "/items/b"},
            {"op": "put", "path": "/items/a", "if_match": a, "body": {"n": 10}},
            {"op": "patch", "path": "/items/b", "body": {"n": 20}},
        ]))
        .await;
    let body = expect_problem(response, 428, "precondition-required").await;
    assert_eq!(body["operation"], 3);
    assert_eq!(body["op"], "patch");
    assert_eq!(body["path"], "/items/b");
    assert!(body["detail"].as_str().unwrap().contains("if_match"));
    assert_eq!(server.list().await, before);
    let b = server.read("/items/b").await.1;
    server
        .batch_ok(json!([
            {"op": "put", "path": "/items/a", "if_match": a, "body": {"n": 10}},
            {"op": "patch", "path": "/items/b", "if_match": b, "body": {"n": 20}},
        ]))
        .await;
    server.shutdown().await;
}

async fn malformed_operations_are_400_naming_the_operation(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let (_, _, before) = state_with_two_documents(&server).await;
    let cases = [
        (json!({"op": "upsert", "path": "/items/a"}), "upsert"),
        (json!({"op": "put", "path": "/items/a"}), "needs a body"),
        (
            json!({"op": "put", "path": "/items/a", "ifMatch": "\"x\"", "body": 1}),
            "ifMatch",
        ),
        (
            json!({"op": "put", "path": "/items/a", "if_match": "unquoted", "body": 1}),
            "if_match",
        ),
        (json!({"op": "patch", "ref": "nope", "body": {}}), "ref"),
    ];
    for (op, named) in cases {
        let response = server
            .batch(json!([{"op": "put", "path": "/items/a", "body": {"n": 5}}, op]))
            .await;
        let body = expect_problem(response, 400, "malformed-body").await;
        assert_eq!(body["operation"], 1, "{body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(named), "{detail}");
        assert_eq!(server.list().await, before);
    }
    // A ref to a lid created later in the batch is malformed too.
    let response = server
        .batch(json!([
            {"op": "patch", "ref": "later", "body": {}},
            {"op": "create", "lid": "later", "body": {}},
        ]))
        .await;
    assert_eq!(
        expect_problem(response, 400, "malformed-body").await["operation"],
        0
    );
    assert_eq!(server.list().await, before);
    server.shutdown().await;
}

async fn malformed_batches_are_400_without_an_operation(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let json_type = [("content-type", "application/json")];
    for body in [
        "not json",
        "{}",
        r#"{"operations":[]}"#,
        r#"{"operations":5}"#,
        "[]",
    ] {
        let response = server
            .send(Method::POST, "/batch", &json_type, Some(body))
            .await;
        let problem = expect_problem(response, 400, "malformed-body").await;
        assert!(problem.get("operation").is_none(), "{body}: {problem}");
    }
    let response = server
        .send(
            Method::POST,
            "/batch",
            &[("content-type", "text/plain")],
            Some(r#"{"operations":[]}"#),
        )
        .await;
    expect_problem(response, 415, "unsupported-media-type").await;
    let response = server.get("/batch", &[]).await;
    assert_eq!(response.headers()["allow"], "POST");
    expect_problem(response, 405, "method-not-allowed").await;
    assert_eq!(server.list().await, json!({"items": []}));
    server.shutdown().await;
}

async fn too_many_operations_are_refused(backend: Backend) {
    let server = TestServer::start(backend, Config::new().with_max_batch_operations(3)).await;
    let op = json!({"op": "create", "body": {}});
    server.batch_ok(json!([op, op, op])).await;
    let response = server.batch(json!([op, op, op, op])).await;
    let body = expect_problem(response, 400, "malformed-body").await;
    assert!(body.get("operation").is_none());
    assert!(body["detail"].as_str().unwrap().contains("limit of 3"));
    assert_eq!(server.list().await["items"].as_array().unwrap().len(), 3);
    server.shutdown().await;
}
