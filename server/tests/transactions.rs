//! Interactive transactions: what happens inside (pinned reads, own writes, provisional tags)
//! and at commit (real tags, conflicts, repeated commits). Begin, roll back, expiry, ids, limits
//! and locks are in `transaction_limits.rs`; concurrent transfers in `transfer.rs`.

mod support;

use ifmatch_server::{Config, MismatchStatus};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::atomic::{assert_inside, body_of, tx_header};
use support::{etag_of, expect_problem, Backend, TestServer};

both_storages!(
    writes_stay_inside_until_the_commit_applies_them_with_real_tags,
    reads_are_pinned_and_a_changed_read_fails_the_commit,
    a_conflicting_commit_applies_nothing_and_ends_the_transaction,
    writes_inside_are_judged_like_writes_outside,
    committing_again_repeats_the_answer,
    deletes_and_creates_inside_commit_in_first_write_order,
    concurrent_commits_of_one_transaction_apply_it_once,
);

async fn writes_stay_inside_until_the_commit_applies_them_with_real_tags(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let a0 = server.seed("/items/a", r#"{"n":1}"#).await;
    let tx = server.begin().await;
    let inside = [tx_header(&tx)];

    let read = server.get("/items/a", &inside).await;
    assert_inside(&read, &tx);
    assert_eq!(
        etag_of(read.headers()),
        a0,
        "a pinned read has the real tag"
    );

    let put = server
        .put(
            "/items/a",
            &[tx_header(&tx), ("if-match", &a0)],
            r#"{"n":2}"#,
        )
        .await;
    assert_eq!(put.status(), StatusCode::OK);
    assert_inside(&put, &tx);
    let provisional = etag_of(put.headers());
    assert!(
        provisional.starts_with(&format!("\"{tx}-")),
        "{provisional}"
    );

    // Outside, nothing changed.
    assert_eq!(server.read("/items/a").await, (json!({"n": 1}), a0.clone()));
    // Inside, the transaction reads its own write, and its provisional tag works for If-Match.
    let own = server.get("/items/a", &inside).await;
    assert_eq!(etag_of(own.headers()), provisional);
    assert_eq!(body_of(own).await, json!({"n": 2}));
    let not_modified = server
        .get(
            "/items/a",
            &[tx_header(&tx), ("if-none-match", &provisional)],
        )
        .await;
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    let patched = server
        .patch(
            "/items/a",
            &[tx_header(&tx), ("if-match", &provisional)],
            r#"{"m":3}"#,
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    assert_eq!(body_of(patched).await, json!({"n": 2, "m": 3}));

    let created = server
        .send(
            Method::POST,
            "/items",
            &[tx_header(&tx), ("content-type", "application/json")],
            Some(r#"{"new":true}"#),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_inside(&created, &tx);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        server.get(&location, &[]).await.status(),
        StatusCode::NOT_FOUND,
        "the created document is not visible outside"
    );
    assert_eq!(
        body_of(server.get(&location, &inside).await).await,
        json!({"new": true})
    );
    assert_eq!(server.list().await["items"].as_array().unwrap().len(), 1);

    let committed = server.commit(&tx).await;
    assert_eq!(committed.status(), StatusCode::OK);
    let committed = body_of(committed).await;
    assert_eq!(committed["id"], tx.as_str());
    assert_eq!(committed["state"], "committed");
    let results = committed["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["path"], "/items/a");
    assert_eq!(results[0]["status"], 200);
    assert_eq!(results[1]["path"], location.as_str());
    assert_eq!(results[1]["status"], 201);
    let a1 = results[0]["etag"].as_str().unwrap();
    assert!(!a1.contains("tx-"), "provisional tags are gone: {a1}");
    assert_eq!(
        server.read("/items/a").await,
        (json!({"n": 2, "m": 3}), a1.to_owned())
    );
    assert_eq!(
        server.read(&location).await,
        (
            json!({"new": true}),
            results[1]["etag"].as_str().unwrap().to_owned()
        )
    );
    server.shutdown().await;
}

async fn reads_are_pinned_and_a_changed_read_fails_the_commit(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let a0 = server.seed("/items/a", r#"{"v":0}"#).await;
    let tx = server.begin().await;
    let inside = [tx_header(&tx)];
    assert_eq!(
        body_of(server.get("/items/a", &inside).await).await,
        json!({"v": 0})
    );
    let missing = server.get("/items/b", &inside).await;
    assert_inside(&missing, &tx);
    expect_problem(missing, 404, "not-found").await;

    let a1 = server.seed("/items/a", r#"{"v":1}"#).await;
    let b1 = server.seed("/items/b", r#"{"v":1}"#).await;
    // Repeatable read: the same versions as before, also the 404.
    let again = server.get("/items/a", &inside).await;
    assert_eq!(etag_of(again.headers()), a0);
    assert_eq!(body_of(again).await, json!({"v": 0}));
    expect_problem(server.get("/items/b", &inside).await, 404, "not-found").await;

    let refused = server.commit(&tx).await;
    let body = expect_problem(refused, 409, "transaction-conflict").await;
    assert_eq!(
        body["conflicts"],
        json!([
            {"path": "/items/a", "read_etag": a0, "current_etag": a1},
            {"path": "/items/b", "read_etag": null, "current_etag": b1},
        ])
    );
    let shown = body_of(server.get(&format!("/transactions/{tx}"), &[]).await).await;
    assert_eq!(shown["state"], "aborted");
    server.shutdown().await;
}

async fn a_conflicting_commit_applies_nothing_and_ends_the_transaction(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let a0 = server.seed("/items/a", r#"{"balance":10}"#).await;
    server.seed("/items/b", r#"{"balance":0}"#).await;
    let tx = server.begin().await;
    let inside = [tx_header(&tx)];
    let b0 = etag_of(server.get("/items/b", &inside).await.headers());
    server
        .put(
            "/items/a",
            &[tx_header(&tx), ("if-match", &a0)],
            r#"{"balance":5}"#,
        )
        .await;
    server
        .put(
            "/items/b",
            &[tx_header(&tx), ("if-match", &b0)],
            r#"{"balance":5}"#,
        )
        .await;
    server.put("/items/c", &inside, r#"{"created":true}"#).await;
    let a1 = server.seed("/items/a", r#"{"balance":100}"#).await;
    let before = server.list().await;

    let body = expect_problem(server.commit(&tx).await, 409, "transaction-conflict").await;
    assert_eq!(
        body["conflicts"],
        json!([{"path": "/items/a", "read_etag": a0, "current_etag": a1}])
    );
    assert!(body["detail"].as_str().unwrap().contains("/items/a"));
    assert_eq!(server.list().await, before, "nothing applied");
    let again = expect_problem(server.commit(&tx).await, 409, "transaction-conflict").await;
    assert_eq!(again["conflicts"], body["conflicts"]);
    let after = server.get("/items/a", &inside).await;
    let detail = expect_problem(after, 404, "transaction-not-found").await;
    assert!(detail["detail"].as_str().unwrap().contains("refused"));
    server.shutdown().await;
}

async fn writes_inside_are_judged_like_writes_outside(backend: Backend) {
    for (mode, status, kind) in [
        (
            MismatchStatus::PreconditionFailed,
            412,
            "precondition-failed",
        ),
        (MismatchStatus::Conflict, 409, "version-conflict"),
    ] {
        let config = Config::new()
            .with_mismatch_status(mode)
            .with_require_preconditions(true);
        let server = TestServer::start(backend, config).await;
        let a0 = server
            .put("/items/a", &[("if-none-match", "*")], r#"{"n":1}"#)
            .await;
        let a0 = etag_of(a0.headers());
        let tx = server.begin().await;
        let inside = [tx_header(&tx)];
        let stale = server
            .put(
                "/items/a",
                &[tx_header(&tx), ("if-match", "\"old-1\"")],
                "2",
            )
            .await;
        assert_inside(&stale, &tx);
        let body = expect_problem(stale, status, kind).await;
        assert_eq!(body["current_etag"], a0);
        let exists = server
            .put("/items/a", &[tx_header(&tx), ("if-none-match", "*")], "2")
            .await;
        expect_problem(exists, 412, "precondition-failed").await;
        expect_problem(
            server.patch("/items/missing", &inside, "{}").await,
            404,
            "not-found",
        )
        .await;
        expect_problem(
            server.delete("/items/missing", &inside).await,
            404,
            "not-found",
        )
        .await;
        let bad = server
            .put("/items/a", &[tx_header(&tx), ("if-match", "unquoted")], "2")
            .await;
        expect_problem(bad, 400, "invalid-header").await;
        // No 428 inside: the commit checks every version the transaction saw.
        let unconditional = server.put("/items/a", &inside, "3").await;
        assert_eq!(unconditional.status(), StatusCode::OK);
        assert_eq!(server.commit(&tx).await.status(), StatusCode::OK);
        assert_eq!(server.read("/items/a").await.0, json!(3));
        server.shutdown().await;
    }
}

async fn committing_again_repeats_the_answer(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let tx = server.begin().await;
    server
        .put("/items/a", &[tx_header(&tx)], r#"{"n":1}"#)
        .await;
    let first = server.commit(&tx).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first = body_of(first).await;
    let tag = server.read("/items/a").await.1;
    assert_eq!(first["results"][0]["etag"], tag);
    let second = server.commit(&tx).await;
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(body_of(second).await, first);
    assert_eq!(server.read("/items/a").await.1, tag, "not applied twice");
    let shown = body_of(server.get(&format!("/transactions/{tx}"), &[]).await).await;
    assert_eq!(shown["state"], "committed");
    let late = server.put("/items/a", &[tx_header(&tx)], "2").await;
    let body = expect_problem(late, 404, "transaction-not-found").await;
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("already committed"));
    expect_problem(
        server.delete(&format!("/transactions/{tx}"), &[]).await,
        404,
        "transaction-not-found",
    )
    .await;
    server.shutdown().await;
}

async fn deletes_and_creates_inside_commit_in_first_write_order(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/old", "1").await;
    let tx = server.begin().await;
    let inside = [tx_header(&tx)];
    server.put("/items/z", &inside, "1").await;
    server.delete("/items/old", &inside).await;
    server.put("/items/temp", &inside, "1").await;
    server.delete("/items/temp", &inside).await;
    expect_problem(server.get("/items/old", &inside).await, 404, "not-found").await;
    server.put("/items/z", &inside, "2").await;
    let committed = server.commit(&tx).await;
    assert_eq!(committed.status(), StatusCode::OK);
    let results = body_of(committed).await["results"].clone();
    assert_eq!(
        results,
        json!([
            {"path": "/items/z", "status": 201, "etag": server.read("/items/z").await.1},
            {"path": "/items/old", "status": 204},
            {"path": "/items/temp", "status": 204},
        ])
    );
    assert_eq!(server.read("/items/z").await.0, json!(2));
    assert_eq!(
        server.get("/items/old", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.get("/items/temp", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    server.shutdown().await;
}

async fn concurrent_commits_of_one_transaction_apply_it_once(backend: Backend) {
    let server = std::sync::Arc::new(TestServer::start_default(backend).await);
    let tx = server.begin().await;
    server.put("/items/a", &[tx_header(&tx)], "1").await;
    let commits: Vec<_> = (0..4)
        .map(|_| {
            let (server, tx) = (std::sync::Arc::clone(&server), tx.clone());
            tokio::spawn(async move {
                let response = server.commit(&tx).await;
                (response.status(), body_of(response).await)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for commit in commits {
        answers.push(commit.await.expect("commit completes"));
    }
    let tag = server.read("/items/a").await.1;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK);
        assert_eq!(
            body["results"][0]["etag"], tag,
            "one commit, repeated answers"
        );
    }
}
