//! `POST /conflicts/{id}/resolve`: mine, theirs, merged, as conditional writes, and who may.

mod support;

use ifmatch_server::Config;
use reqwest::Method;
use serde_json::{json, Value};
use support::conflicts::{get_json, resolve, stale_and_current, stale_put, tag};
use support::{expect_problem, Backend, TestServer};

both_storages!(mine_replays_a_put_and_records_the_new_version);

fn tokens() -> Config {
    Config::new()
        .with_client_token("alice", "alice-token")
        .with_client_token("bob", "bob-token")
        .with_admin_token("root", "root-token")
}

async fn conflict_id(server: &TestServer, path: &str, token: Option<&str>) -> String {
    let (stale, _) = stale_and_current(server, path).await;
    let problem = stale_put(server, path, &stale, token, r#"{"v":"mine"}"#).await;
    problem["conflict_id"].as_str().unwrap().to_owned()
}

async fn mine_replays_a_put_and_records_the_new_version(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let id = conflict_id(&server, "/items/m", None).await;
    let response = resolve(&server, &id, None, r#"{"resolution":"mine"}"#).await;
    assert_eq!(response.status(), 200);
    let record: Value = response.json().await.unwrap();
    let (doc, etag) = server.read("/items/m").await;
    assert_eq!(doc, json!({"v": "mine"}));
    assert_eq!(record["state"], "resolved");
    let resolution = &record["resolution"];
    assert_eq!(resolution["choice"], "mine");
    assert_eq!(resolution["by"], Value::Null);
    assert_eq!(resolution["etag"], etag);
    assert_eq!(
        resolution["version"].as_u64().unwrap().to_string(),
        etag.trim_matches('"').rsplit('-').next().unwrap()
    );
    assert!(resolution["at_ms"].as_u64().unwrap() >= record["at_ms"].as_u64().unwrap());
    assert_eq!(get_json(&server, &format!("/conflicts/{id}")).await, record);
    server.shutdown().await;
}

#[tokio::test]
async fn mine_replays_a_patch_on_the_current_document_and_a_delete() {
    let server = TestServer::start_default(Backend::Memory).await;
    let (stale, _) = stale_and_current(&server, "/items/p").await;
    let response = server
        .patch("/items/p", &[("if-match", &stale)], r#"{"added":true}"#)
        .await;
    let problem = expect_problem(response, 412, "precondition-failed").await;
    let id = problem["conflict_id"].as_str().unwrap();
    assert_eq!(
        resolve(&server, id, None, r#"{"resolution":"mine"}"#)
            .await
            .status(),
        200
    );
    assert_eq!(
        server.read("/items/p").await.0,
        json!({"v": 2, "added": true})
    );

    let (stale, _) = stale_and_current(&server, "/items/d").await;
    let problem = expect_problem(
        server.delete("/items/d", &[("if-match", &stale)]).await,
        412,
        "precondition-failed",
    )
    .await;
    let id = problem["conflict_id"].as_str().unwrap();
    let record: Value = resolve(&server, id, None, r#"{"resolution":"mine"}"#)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["resolution"]["etag"], Value::Null);
    assert_eq!(record["resolution"]["version"], Value::Null);
    assert_eq!(server.get("/items/d", &[]).await.status(), 404);
    server.shutdown().await;
}

#[tokio::test]
async fn theirs_keeps_the_document_and_merged_writes_the_given_one() {
    let server = TestServer::start_default(Backend::Memory).await;
    let id = conflict_id(&server, "/items/t", None).await;
    let (_, before) = server.read("/items/t").await;
    let record: Value = resolve(&server, &id, None, r#"{"resolution":"theirs"}"#)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["resolution"]["choice"], "theirs");
    assert_eq!(record["resolution"]["etag"], before);
    assert_eq!(server.read("/items/t").await, (json!({"v": 2}), before));

    let id = conflict_id(&server, "/items/g", None).await;
    let body = r#"{"resolution":"merged","document":{"v":"both"}}"#;
    let record: Value = resolve(&server, &id, None, body)
        .await
        .json()
        .await
        .unwrap();
    let (doc, etag) = server.read("/items/g").await;
    assert_eq!(doc, json!({"v": "both"}));
    assert_eq!(record["resolution"]["etag"], etag);
    server.shutdown().await;
}

#[tokio::test]
async fn a_stale_resolution_is_refused_and_succeeds_after_a_re_read() {
    let server = TestServer::start_default(Backend::Memory).await;
    let id = conflict_id(&server, "/items/s", None).await;
    let newer = server.seed("/items/s", r#"{"v":3}"#).await;
    let response = resolve(&server, &id, None, r#"{"resolution":"mine"}"#).await;
    let problem = expect_problem(response, 412, "precondition-failed").await;
    assert_eq!(problem["current_etag"], newer);
    assert!(problem.get("conflict_id").is_none(), "{problem}");
    assert_eq!(server.read("/items/s").await.0, json!({"v": 3}));
    assert_eq!(
        get_json(&server, &format!("/conflicts/{id}")).await["state"],
        "open"
    );
    let body = json!({"resolution": "mine", "if_match": newer}).to_string();
    assert_eq!(resolve(&server, &id, None, &body).await.status(), 200);
    assert_eq!(server.read("/items/s").await.0, json!({"v": "mine"}));
    server.shutdown().await;
}

#[tokio::test]
async fn resolving_twice_is_409_and_bad_requests_are_400() {
    let server =
        TestServer::start(Backend::Memory, Config::new().with_conflict_body_limit(4)).await;
    let id = conflict_id(&server, "/items/r", None).await;
    for bad in [
        r#"{"resolution":"merged"}"#,
        r#"{"resolution":"mine","document":{}}"#,
        r#"{"resolution":"ours"}"#,
        r#"{"resolution":"theirs","colour":"red"}"#,
        r#"{"resolution":"theirs","if_match":"unquoted"}"#,
        // The body was over the limit: nothing to replay.
        r#"{"resolution":"mine"}"#,
    ] {
        expect_problem(
            resolve(&server, &id, None, bad).await,
            400,
            "malformed-body",
        )
        .await;
    }
    let response = server
        .send(
            Method::POST,
            &format!("/conflicts/{id}/resolve"),
            &[("content-type", "text/plain")],
            Some("{}"),
        )
        .await;
    expect_problem(response, 415, "unsupported-media-type").await;
    assert_eq!(
        resolve(&server, &id, None, r#"{"resolution":"theirs"}"#)
            .await
            .status(),
        200
    );
    let again = resolve(&server, &id, None, r#"{"resolution":"theirs"}"#).await;
    let problem = expect_problem(again, 409, "conflict-resolved").await;
    assert_eq!(problem["resolution"]["choice"], "theirs");
    server.shutdown().await;
}

#[tokio::test]
async fn only_the_client_that_caused_it_or_an_admin_may_resolve() {
    let server = TestServer::start(Backend::Memory, tokens()).await;
    let id = conflict_id(&server, "/items/a", Some("alice-token")).await;
    let anonymous = resolve(&server, &id, None, r#"{"resolution":"mine"}"#).await;
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Bearer realm=\"ifmatch\""
    );
    expect_problem(anonymous, 401, "unauthorized").await;
    let bob = resolve(&server, &id, Some("bob-token"), r#"{"resolution":"mine"}"#).await;
    expect_problem(bob, 403, "forbidden").await;
    assert_eq!(
        server.read("/items/a").await.0,
        json!({"v": 2}),
        "refused attempts change nothing"
    );
    let alice = resolve(
        &server,
        &id,
        Some("alice-token"),
        r#"{"resolution":"mine"}"#,
    )
    .await;
    assert_eq!(alice.status(), 200);
    assert_eq!(
        alice.json::<Value>().await.unwrap()["resolution"]["by"],
        "alice"
    );

    let id = conflict_id(&server, "/items/b", Some("bob-token")).await;
    let root = resolve(
        &server,
        &id,
        Some("root-token"),
        r#"{"resolution":"theirs"}"#,
    )
    .await;
    assert_eq!(
        root.json::<Value>().await.unwrap()["resolution"]["by"],
        "root"
    );

    let id = conflict_id(&server, "/items/anon", None).await;
    let alice = resolve(
        &server,
        &id,
        Some("alice-token"),
        r#"{"resolution":"theirs"}"#,
    )
    .await;
    expect_problem(alice, 403, "forbidden").await;
    let root = resolve(
        &server,
        &id,
        Some("root-token"),
        r#"{"resolution":"theirs"}"#,
    )
    .await;
    assert_eq!(root.status(), 200);
    server.shutdown().await;
}

#[tokio::test]
async fn locks_apply_to_resolutions() {
    let server = TestServer::start_default(Backend::Memory).await;
    let id = conflict_id(&server, "/items/l", None).await;
    let lock = server
        .send(
            Method::POST,
            "/items/l/lock",
            &[("content-type", "application/json")],
            Some("{}"),
        )
        .await;
    assert_eq!(lock.status(), 201);
    let token = lock.headers()["lock-token"].to_str().unwrap().to_owned();
    let refused = resolve(&server, &id, None, r#"{"resolution":"mine"}"#).await;
    expect_problem(refused, 423, "locked").await;
    assert_eq!(
        get_json(&server, &format!("/conflicts/{id}")).await["state"],
        "open"
    );
    let body = json!({"resolution": "mine", "lock_token": token}).to_string();
    let response = resolve(&server, &id, None, &body).await;
    assert_eq!(response.status(), 200);
    let etag = response.json::<Value>().await.unwrap()["resolution"]["etag"].clone();
    let (doc, now) = server.read("/items/l").await;
    assert_eq!((doc, json!(now)), (json!({"v": "mine"}), etag));
    server.shutdown().await;
}

#[tokio::test]
async fn a_transaction_conflict_cannot_be_replayed_but_can_be_merged() {
    let server = TestServer::start_default(Backend::Memory).await;
    server.seed("/items/x", r#"{"v":1}"#).await;
    let tx: Value = server
        .send(Method::POST, "/transactions", &[], None)
        .await
        .json()
        .await
        .unwrap();
    let tx_id = tx["id"].as_str().unwrap().to_owned();
    let staged = server
        .put("/items/x", &[("transaction-id", &tx_id)], r#"{"v":"tx"}"#)
        .await;
    assert_eq!(staged.status(), 200);
    let current = server.seed("/items/x", r#"{"v":"other"}"#).await;
    let commit = server
        .send(
            Method::POST,
            &format!("/transactions/{tx_id}/commit"),
            &[],
            None,
        )
        .await;
    let problem = expect_problem(commit, 409, "transaction-conflict").await;
    let id = problem["conflict_id"].as_str().unwrap();
    expect_problem(
        resolve(&server, id, None, r#"{"resolution":"mine"}"#).await,
        400,
        "malformed-body",
    )
    .await;
    let merged = resolve(
        &server,
        id,
        None,
        r#"{"resolution":"merged","document":{"v":"both"}}"#,
    )
    .await;
    assert_eq!(merged.status(), 200);
    let written = tag(&server.get("/items/x", &[]).await);
    assert_ne!(written, current);
    server.shutdown().await;
}
