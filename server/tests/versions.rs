//! Version history over HTTP: every kind of write keeps a version, past versions read back,
//! restore is a conditional write, retention by count, age and tombstone TTL, and SQLite keeps
//! the history across a restart. API v2 reads of history are in `api_versions.rs`.

mod support;

use std::time::{Duration, Instant};

use ifmatch_server::{spawn, Config, Storage};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::atomic::tx_header;
use support::versions::{number_in, version_of};
use support::{etag_of, expect_problem, Backend, TestServer};

both_storages!(
    every_kind_of_write_keeps_a_version,
    past_versions_read_back_with_their_tag_and_version,
    a_conditional_put_of_an_old_version_restores_it_as_a_new_one,
    versions_not_kept_are_404_naming_the_oldest,
    retention_keeps_the_newest_versions_by_count,
    retention_drops_old_versions_but_keeps_the_current_one,
    a_tombstone_keeps_the_history_then_goes,
    recreating_continues_the_history_after_the_tombstone,
    document_answers_carry_the_version_of_their_tag,
    written_versions_record_the_authenticated_author,
);

/// How long a polling test waits for pruning before it fails.
const PATIENCE: Duration = Duration::from_secs(20);

fn entries(history: &Value) -> Vec<Value> {
    history["versions"].as_array().expect("versions").clone()
}

async fn every_kind_of_write_keeps_a_version(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let put = server.seed("/items/doc", r#"{"n":1}"#).await;
    let patched = server
        .patch("/items/doc", &[("if-match", &put)], r#"{"m":2}"#)
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let patched = etag_of(patched.headers());
    let batch = server
        .batch_ok(json!([{"op": "put", "path": "/items/doc", "body": {"n": 3}}]))
        .await;
    let batched = batch[0]["etag"].as_str().unwrap().to_owned();
    let tx = server.begin().await;
    let staged = server
        .put("/items/doc", &[tx_header(&tx)], r#"{"n":4}"#)
        .await;
    assert_eq!(staged.status(), StatusCode::OK);
    let commit = server.commit(&tx).await;
    assert_eq!(commit.status(), StatusCode::OK);
    let committed: Value = commit.json().await.unwrap();
    let committed = committed["results"][0]["etag"].as_str().unwrap().to_owned();
    let deleted = server.delete("/items/doc", &[]).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    let history = server.history("/items/doc").await;
    let list = entries(&history);
    assert_eq!(list.len(), 5, "{history}");
    assert_eq!(list[0]["deleted"], true);
    assert_eq!(list[0]["size"], 0);
    assert!(list[0].get("etag").is_none(), "{}", list[0]);
    let tags: Vec<&str> = list[1..]
        .iter()
        .map(|entry| entry["etag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, [&committed, &batched, &patched, &put]);
    for entry in &list[1..] {
        assert_eq!(entry["deleted"], false);
        assert_eq!(entry["author"], Value::Null);
        assert_eq!(
            entry["version"].as_u64().unwrap(),
            number_in(entry["etag"].as_str().unwrap())
        );
        assert!(entry["at_ms"].as_u64().unwrap() > 1_600_000_000_000);
    }
    assert_eq!(list[1]["size"], r#"{"n":4}"#.len());
    assert_eq!(list[3]["size"], r#"{"m":2,"n":1}"#.len());
    assert_eq!(
        history["policy"],
        json!({"max_versions": 20, "max_age_ms": 604_800_000u64, "tombstone_ttl_ms": 86_400_000})
    );

    let created = server.post("/items", &[], r#"{"new":true}"#).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(entries(&server.history(&location).await).len(), 1);
    server.shutdown().await;
}

async fn past_versions_read_back_with_their_tag_and_version(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let first = server.seed("/items/doc", r#"{"v":1}"#).await;
    server.seed("/items/doc", r#"{"v":2}"#).await;
    let n = number_in(&first);
    let path = format!("/items/doc/versions/{n}");
    let old = server.get(&path, &[]).await;
    assert_eq!(old.status(), StatusCode::OK);
    assert_eq!(etag_of(old.headers()), first);
    assert_eq!(version_of(old.headers()), n);
    assert_eq!(old.text().await.unwrap(), r#"{"v":1}"#);
    let head = server.send(Method::HEAD, &path, &[], None).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(etag_of(head.headers()), first);
    let cached = server.get(&path, &[("if-none-match", &first)]).await;
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(etag_of(cached.headers()), first);
    assert_eq!(version_of(cached.headers()), n);
    server.shutdown().await;
}

async fn a_conditional_put_of_an_old_version_restores_it_as_a_new_one(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let first = server.seed("/items/doc", r#"{"title":"good"}"#).await;
    let current = server.seed("/items/doc", r#"{"title":"oops"}"#).await;
    let old = server
        .get(&format!("/items/doc/versions/{}", number_in(&first)), &[])
        .await
        .text()
        .await
        .unwrap();
    let stale = server
        .put("/items/doc", &[("if-match", &first)], &old)
        .await;
    expect_problem(stale, 412, "precondition-failed").await;
    let restored = server
        .put("/items/doc", &[("if-match", &current)], &old)
        .await;
    assert_eq!(restored.status(), StatusCode::OK);
    let restored = etag_of(restored.headers());
    assert!(number_in(&restored) > number_in(&current));
    assert_eq!(
        server.read("/items/doc").await,
        (json!({"title": "good"}), restored.clone())
    );
    assert_eq!(
        server.version_numbers("/items/doc").await,
        [number_in(&restored), number_in(&current), number_in(&first)]
    );
    server.shutdown().await;
}

async fn versions_not_kept_are_404_naming_the_oldest(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let other = server.seed("/items/other", "{}").await;
    let first = server.seed("/items/doc", "1").await;
    for asked in [number_in(&other).to_string(), "99999".into(), "abc".into()] {
        let response = server
            .get(&format!("/items/doc/versions/{asked}"), &[])
            .await;
        let body = expect_problem(response, 404, "version-not-found").await;
        assert_eq!(body["oldest"], number_in(&first), "{body}");
        assert!(body["detail"]
            .as_str()
            .unwrap()
            .contains(&number_in(&first).to_string()));
    }
    server.delete("/items/doc", &[]).await;
    let tombstone = server.version_numbers("/items/doc").await[0];
    let response = server
        .get(&format!("/items/doc/versions/{tombstone}"), &[])
        .await;
    expect_problem(response, 404, "version-not-found").await;
    let never = server.get("/items/never/versions", &[]).await;
    expect_problem(never, 404, "not-found").await;
    let never = server.get("/items/never/versions/1", &[]).await;
    expect_problem(never, 404, "not-found").await;
    server.shutdown().await;
}

async fn retention_keeps_the_newest_versions_by_count(backend: Backend) {
    let config = Config::new().with_history_max_versions(3);
    let server = TestServer::start(backend, config).await;
    let mut tags = Vec::new();
    for n in 0..5 {
        tags.push(server.seed("/items/doc", &n.to_string()).await);
    }
    let kept: Vec<u64> = tags.iter().rev().take(3).map(|t| number_in(t)).collect();
    assert_eq!(server.version_numbers("/items/doc").await, kept);
    assert_eq!(
        server.history("/items/doc").await["policy"]["max_versions"],
        3
    );
    let pruned = server
        .get(&format!("/items/doc/versions/{}", number_in(&tags[0])), &[])
        .await;
    let body = expect_problem(pruned, 404, "version-not-found").await;
    assert_eq!(body["oldest"], number_in(&tags[2]));
    server.shutdown().await;
}

async fn retention_drops_old_versions_but_keeps_the_current_one(backend: Backend) {
    let config = Config::new().with_history_max_age(Duration::from_millis(30));
    let server = TestServer::start(backend, config).await;
    let old = server.seed("/items/doc", "1").await;
    let current = server.seed("/items/doc", "2").await;
    let started = Instant::now();
    loop {
        let kept = server.version_numbers("/items/doc").await;
        if kept == [number_in(&current)] {
            break;
        }
        assert!(kept.contains(&number_in(&current)), "{kept:?}");
        assert!(started.elapsed() < PATIENCE, "{old} never aged out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // However old, the current version stays readable.
    let response = server
        .get(&format!("/items/doc/versions/{}", number_in(&current)), &[])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    server.shutdown().await;
}

async fn a_tombstone_keeps_the_history_then_goes(backend: Backend) {
    let config = Config::new().with_tombstone_ttl(Duration::from_millis(300));
    let server = TestServer::start(backend, config).await;
    let tag = server.seed("/items/doc", r#"{"gone":false}"#).await;
    assert_eq!(
        server.delete("/items/doc", &[]).await.status(),
        StatusCode::NO_CONTENT
    );
    let started = Instant::now();
    let mut seen_tombstone = false;
    loop {
        let response = server.get("/items/doc/versions", &[]).await;
        if response.status() == StatusCode::NOT_FOUND {
            expect_problem(response, 404, "not-found").await;
            break;
        }
        let list = entries(&response.json().await.unwrap());
        assert_eq!(list[0]["deleted"], true);
        assert_eq!(list[1]["etag"], tag.as_str());
        seen_tombstone = true;
        assert!(started.elapsed() < PATIENCE, "the tombstone never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen_tombstone, "the tombstone was listed before it went");
    let old = server
        .get(&format!("/items/doc/versions/{}", number_in(&tag)), &[])
        .await;
    expect_problem(old, 404, "not-found").await;
    server.shutdown().await;
}

async fn recreating_continues_the_history_after_the_tombstone(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let before = server.seed("/items/doc", "1").await;
    server.delete("/items/doc", &[]).await;
    let again = server
        .put("/items/doc", &[("if-none-match", "*")], "2")
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    let after = etag_of(again.headers());
    let list = entries(&server.history("/items/doc").await);
    let shape: Vec<(bool, Option<&str>)> = list
        .iter()
        .map(|entry| (entry["deleted"] == true, entry["etag"].as_str()))
        .collect();
    assert_eq!(
        shape,
        [
            (false, Some(after.as_str())),
            (true, None),
            (false, Some(before.as_str()))
        ]
    );
    let old = server
        .get(&format!("/items/doc/versions/{}", number_in(&before)), &[])
        .await;
    assert_eq!(old.text().await.unwrap(), "1");
    server.shutdown().await;
}

async fn document_answers_carry_the_version_of_their_tag(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let put = server.put("/items/doc", &[], "{}").await;
    assert_eq!(
        version_of(put.headers()),
        number_in(&etag_of(put.headers()))
    );
    let patch = server.patch("/items/doc", &[], r#"{"a":1}"#).await;
    let tag = etag_of(patch.headers());
    assert_eq!(version_of(patch.headers()), number_in(&tag));
    for response in [
        server.get("/items/doc", &[]).await,
        server.send(Method::HEAD, "/items/doc", &[], None).await,
        server.get("/items/doc", &[("if-none-match", &tag)]).await,
    ] {
        assert_eq!(version_of(response.headers()), number_in(&tag));
    }
    let post = server.post("/items", &[], "{}").await;
    assert_eq!(
        version_of(post.headers()),
        number_in(&etag_of(post.headers()))
    );
    server.shutdown().await;
}

async fn written_versions_record_the_authenticated_author(backend: Backend) {
    let config = Config::new().with_client_token("alice", "alice-secret-token-1");
    let server = TestServer::start(backend, config).await;
    let alice = ("authorization", "Bearer alice-secret-token-1");
    server.put("/items/doc", &[], "1").await;
    let response = server.put("/items/doc", &[alice], "2").await;
    assert_eq!(response.status(), StatusCode::OK);
    let batch = server
        .send(
            Method::POST,
            "/batch",
            &[("content-type", "application/json"), alice],
            Some(r#"{"operations":[{"op":"patch","path":"/items/doc","body":{"b":1}}]}"#),
        )
        .await;
    assert_eq!(batch.status(), StatusCode::OK);
    let authors: Vec<Value> = entries(&server.history("/items/doc").await)
        .iter()
        .map(|entry| entry["author"].clone())
        .collect();
    assert_eq!(authors, [json!("alice"), json!("alice"), Value::Null]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_the_history_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = || Config::new().with_storage(Storage::Sqlite(dir.path().join("items.db")));
    let client = reqwest::Client::new();
    let server = spawn(config()).await.unwrap();
    let url =
        |server: &ifmatch_server::RunningServer, path: &str| format!("{}{path}", server.base_url());
    let mut tags = Vec::new();
    for body in ["1", "2"] {
        let response = client
            .put(url(&server, "/items/doc"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        tags.push(etag_of(response.headers()));
    }
    let before: Value = client
        .get(url(&server, "/items/doc/versions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.shutdown().await;

    let server = spawn(config()).await.unwrap();
    let after: Value = client
        .get(url(&server, "/items/doc/versions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after, before);
    assert_eq!(entries(&after).len(), 2);
    let old = client
        .get(url(
            &server,
            &format!("/items/doc/versions/{}", number_in(&tags[0])),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(etag_of(old.headers()), tags[0]);
    assert_eq!(old.text().await.unwrap(), "1");
    server.shutdown().await;
}
