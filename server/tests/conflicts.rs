//! The conflict log: what each kind of refusal records, and what is not recorded.

mod support;

use ifmatch_server::{Config, MismatchStatus};
use reqwest::Method;
use serde_json::{json, Value};
use support::conflicts::{get_json, record_of, stale_and_current, stale_put};
use support::{expect_problem, Backend, TestServer};

both_storages!(a_stale_put_records_who_what_and_against_which_versions);

/// The version number in a tag `"<epoch>-<n>"`.
fn version(tag: &str) -> u64 {
    tag.trim_matches('"')
        .rsplit_once('-')
        .unwrap()
        .1
        .parse()
        .unwrap()
}

fn tokens() -> Config {
    Config::new()
        .with_client_token("alice", "alice-token")
        .with_admin_token("root", "root-token")
}

async fn a_stale_put_records_who_what_and_against_which_versions(backend: Backend) {
    let server = TestServer::start(backend, tokens()).await;
    let (stale, current) = stale_and_current(&server, "/items/doc").await;
    let problem = stale_put(
        &server,
        "/items/doc",
        &stale,
        Some("alice-token"),
        r#"{"title":"mine"}"#,
    )
    .await;
    assert_eq!(problem["type"], "urn:ifmatch:problem:precondition-failed");
    assert_eq!(problem["current_etag"], current);
    let id = problem["conflict_id"].as_str().expect("conflict_id");
    assert!(id.starts_with("c-"), "{id}");
    let record = record_of(&server, &problem).await;
    let at_ms = record["at_ms"].as_u64().expect("at_ms");
    assert!(at_ms > 1_700_000_000_000, "{record}");
    assert_eq!(
        record,
        json!({
            "id": id, "seq": id[2..].parse::<u64>().unwrap(), "kind": "precondition-failed",
            "status": 412, "method": "PUT", "resource": "/items/doc", "client": "alice",
            "at_ms": at_ms,
            "based_on": {"etag": stale, "version": version(&stale)},
            "current": {"etag": current, "version": version(&current)},
            "rejected": {"content_type": "application/json", "body": {"title": "mine"}, "truncated": false},
            "state": "open", "resolution": null,
        })
    );
    server.shutdown().await;
}

#[tokio::test]
async fn patch_delete_409_mode_and_create_only_refusals_are_recorded() {
    let server = TestServer::start(
        Backend::Memory,
        Config::new().with_mismatch_status(MismatchStatus::Conflict),
    )
    .await;
    let (stale, current) = stale_and_current(&server, "/items/a").await;
    let response = server
        .patch("/items/a", &[("if-match", &stale)], r#"{"x":1}"#)
        .await;
    let problem = expect_problem(response, 409, "version-conflict").await;
    let record = record_of(&server, &problem).await;
    assert_eq!(
        (record["kind"].clone(), record["status"].clone()),
        (json!("version-conflict"), json!(409))
    );
    assert_eq!(record["method"], "PATCH");
    assert_eq!(record["client"], Value::Null);
    assert_eq!(
        record["rejected"],
        json!({"content_type": "application/merge-patch+json", "body": {"x": 1}, "truncated": false})
    );

    let problem = expect_problem(
        server.delete("/items/a", &[("if-match", &stale)]).await,
        409,
        "version-conflict",
    )
    .await;
    let record = record_of(&server, &problem).await;
    assert_eq!(record["method"], "DELETE");
    assert_eq!(record["rejected"]["body"], Value::Null);
    assert_eq!(record["rejected"]["truncated"], false);
    assert_eq!(record["current"]["etag"], current);

    let response = server
        .put("/items/a", &[("if-none-match", "*")], "{}")
        .await;
    let problem = expect_problem(response, 412, "precondition-failed").await;
    let record = record_of(&server, &problem).await;
    assert_eq!(record["based_on"], Value::Null);
    assert_eq!(record["current"]["etag"], current);

    // If-Match on a missing document: nothing current.
    let response = server
        .put("/items/gone", &[("if-match", &stale)], "{}")
        .await;
    let record = record_of(
        &server,
        &expect_problem(response, 412, "precondition-failed").await,
    )
    .await;
    assert_eq!(record["current"], Value::Null);
    assert_eq!(record["based_on"]["etag"], stale);

    // A create against the collection.
    let response = server
        .send(
            Method::POST,
            "/items",
            &[("content-type", "application/json"), ("if-match", "\"x\"")],
            Some("{}"),
        )
        .await;
    let record = record_of(
        &server,
        &expect_problem(response, 412, "precondition-failed").await,
    )
    .await;
    assert_eq!(
        (record["method"].clone(), record["resource"].clone()),
        (json!("POST"), json!("/items"))
    );
    assert_eq!(record["current"], Value::Null);
    server.shutdown().await;
}

#[tokio::test]
async fn a_write_refused_by_a_lock_records_the_version_it_would_have_replaced() {
    let server = TestServer::start_default(Backend::Memory).await;
    let etag = server.seed("/items/l", r#"{"v":1}"#).await;
    let lock = server
        .send(
            Method::POST,
            "/items/l/lock",
            &[("content-type", "application/json")],
            Some(r#"{"owner":"bob"}"#),
        )
        .await;
    assert_eq!(lock.status(), 201);
    let problem = expect_problem(
        server
            .put("/items/l", &[("if-match", &etag)], r#"{"v":9}"#)
            .await,
        423,
        "locked",
    )
    .await;
    assert_eq!(problem["owner"], "bob");
    let record = record_of(&server, &problem).await;
    assert_eq!(
        (record["kind"].clone(), record["status"].clone()),
        (json!("locked"), json!(423))
    );
    assert_eq!(
        record["current"],
        json!({"etag": etag, "version": version(&etag)})
    );
    assert_eq!(record["based_on"]["etag"], etag);
    // The lock request itself, refused with 423, is not a conflict.
    let again = server
        .send(
            Method::POST,
            "/items/l/lock",
            &[("content-type", "application/json")],
            Some("{}"),
        )
        .await;
    let problem = expect_problem(again, 423, "locked").await;
    assert!(problem.get("conflict_id").is_none(), "{problem}");
    server.shutdown().await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_recorded_as_truncated() {
    let server =
        TestServer::start(Backend::Memory, Config::new().with_conflict_body_limit(16)).await;
    let (stale, _) = stale_and_current(&server, "/items/big").await;
    let small = stale_put(&server, "/items/big", &stale, None, r#"{"n":1}"#).await;
    assert_eq!(
        record_of(&server, &small).await["rejected"]["truncated"],
        false
    );
    let big = stale_put(
        &server,
        "/items/big",
        &stale,
        None,
        r#"{"text":"far more than sixteen bytes"}"#,
    )
    .await;
    let rejected = record_of(&server, &big).await["rejected"].clone();
    assert_eq!(
        rejected,
        json!({"content_type": "application/json", "body": null, "truncated": true})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_refused_batch_operation_is_recorded_from_its_own_members() {
    let server = TestServer::start_default(Backend::Memory).await;
    let (stale, current) = stale_and_current(&server, "/items/b").await;
    let batch = json!({"operations": [
        {"op": "create", "body": {"new": true}},
        {"op": "put", "path": "/items/b", "if_match": stale, "body": {"mine": 1}},
    ]});
    let response = server
        .send(
            Method::POST,
            "/batch",
            &[("content-type", "application/json")],
            Some(&batch.to_string()),
        )
        .await;
    let problem = expect_problem(response, 412, "precondition-failed").await;
    assert_eq!(problem["operation"], 1);
    let record = record_of(&server, &problem).await;
    assert_eq!(
        (record["method"].clone(), record["resource"].clone()),
        (json!("PUT"), json!("/items/b"))
    );
    assert_eq!(record["based_on"]["etag"], stale);
    assert_eq!(record["current"]["etag"], current);
    assert_eq!(
        record["rejected"],
        json!({"content_type": "application/json", "body": {"mine": 1}, "truncated": false})
    );
    // A failed check writes nothing: not recorded.
    let check = json!({"operations": [{"op": "check", "path": "/items/b", "if_match": stale}]});
    let response = server
        .send(
            Method::POST,
            "/batch",
            &[("content-type", "application/json")],
            Some(&check.to_string()),
        )
        .await;
    let problem = expect_problem(response, 412, "precondition-failed").await;
    assert!(problem.get("conflict_id").is_none(), "{problem}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_transaction_conflict_is_recorded_once_whatever_the_repeats() {
    let server = TestServer::start_default(Backend::Memory).await;
    server.seed("/items/t", r#"{"v":1}"#).await;
    let begun = server.send(Method::POST, "/transactions", &[], None).await;
    let tx: Value = begun.json().await.unwrap();
    let tx_id = tx["id"].as_str().unwrap().to_owned();
    let (_, read_tag) = {
        let response = server.get("/items/t", &[("transaction-id", &tx_id)]).await;
        let tag = support::etag_of(response.headers());
        (response.json::<Value>().await.unwrap(), tag)
    };
    let staged = server
        .put("/items/t", &[("transaction-id", &tx_id)], r#"{"v":"tx"}"#)
        .await;
    assert_eq!(staged.status(), 200);
    // Inside the transaction, a stale write is judged against its view: not recorded.
    let inside = server
        .put(
            "/items/t",
            &[("transaction-id", &tx_id), ("if-match", "\"old-1\"")],
            "{}",
        )
        .await;
    let problem = expect_problem(inside, 412, "precondition-failed").await;
    assert!(problem.get("conflict_id").is_none(), "{problem}");
    let current = server.seed("/items/t", r#"{"v":"outside"}"#).await;
    let commit = format!("/transactions/{tx_id}/commit");
    let first = expect_problem(
        server.send(Method::POST, &commit, &[], None).await,
        409,
        "transaction-conflict",
    )
    .await;
    let record = record_of(&server, &first).await;
    assert_eq!(record["kind"], "transaction-conflict");
    assert_eq!(
        (record["method"].clone(), record["resource"].clone()),
        (json!("POST"), json!("/items/t"))
    );
    assert_eq!(record["based_on"]["etag"], read_tag);
    assert_eq!(record["current"]["etag"], current);
    assert_eq!(record["rejected"], Value::Null);
    let again = expect_problem(
        server.send(Method::POST, &commit, &[], None).await,
        409,
        "transaction-conflict",
    )
    .await;
    assert_eq!(again["conflict_id"], first["conflict_id"]);
    let all = get_json(&server, "/conflicts").await;
    assert_eq!(all["conflicts"].as_array().unwrap().len(), 1, "{all}");
    server.shutdown().await;
}

#[tokio::test]
async fn refusals_that_are_not_conflicts_are_not_recorded() {
    let server = TestServer::start(
        Backend::Memory,
        Config::new().with_require_preconditions(true),
    )
    .await;
    let etag = server.seed_conditionally("/items/n").await;
    let cases = [
        server.put("/items/n", &[], "{}").await, // 428
        server
            .patch("/items/missing", &[("if-match", &etag)], "{}")
            .await, // 404
        server.get("/items/n", &[("if-match", "\"stale-1\"")]).await, // a read's 412
        server
            .put(
                "/items/n",
                &[("lock-token", "\"lock-x-1-y\""), ("if-match", &etag)],
                "{}",
            )
            .await, // lock-token-invalid
        server.put("/items/n", &[("if-match", "nope")], "{}").await, // 400
    ];
    for response in cases {
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(body.get("conflict_id").is_none(), "{status}: {body}");
    }
    assert_eq!(
        get_json(&server, "/conflicts").await["conflicts"],
        json!([])
    );
    server.shutdown().await;
}

impl TestServer {
    /// Creates `path` with `If-None-Match: *` (for servers that require preconditions).
    async fn seed_conditionally(&self, path: &str) -> String {
        let response = self
            .put(path, &[("if-none-match", "*")], r#"{"v":0}"#)
            .await;
        assert_eq!(response.status(), 201);
        support::etag_of(response.headers())
    }
}

#[tokio::test]
async fn v2_and_prefixed_writes_are_recorded_under_the_unprefixed_path_with_v1_tags() {
    let server = TestServer::start(Backend::Memory, tokens()).await;
    let (stale, current) = stale_and_current(&server, "/items/v").await;
    let body = json!({"data": {"title": "v2"}, "version": version(&stale)}).to_string();
    let response = server
        .send(
            Method::PUT,
            "/v2/items/v",
            &[
                ("content-type", "application/json"),
                ("authorization", "Bearer root-token"),
            ],
            Some(&body),
        )
        .await;
    let problem = expect_problem(response, 412, "precondition-failed").await;
    let record = record_of(&server, &problem).await;
    assert_eq!(record["resource"], "/items/v");
    assert_eq!(record["client"], "root");
    assert_eq!(
        record["based_on"],
        json!({"etag": null, "version": version(&stale)})
    );
    assert_eq!(
        record["current"],
        json!({"etag": current, "version": version(&current)})
    );
    assert_eq!(record["rejected"]["body"], json!({"title": "v2"}));
    let response = server.delete("/v1/items/v", &[("if-match", &stale)]).await;
    let record = record_of(
        &server,
        &expect_problem(response, 412, "precondition-failed").await,
    )
    .await;
    assert_eq!(
        (record["resource"].clone(), record["method"].clone()),
        (json!("/items/v"), json!("DELETE"))
    );
    server.shutdown().await;
}
