//! Interactive transactions: begin, act inside with `Transaction-Id`, commit or roll back.
//! Concurrent transfers (the serializability proof) are in `transfer.rs`.

mod support;

use std::time::{Duration, Instant};

use ifmatch_server::{Config, MismatchStatus};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use support::{etag_of, expect_problem, Backend, TestServer};

both_storages!(
    begin_show_and_roll_back,
    writes_stay_inside_until_the_commit_applies_them_with_real_tags,
    reads_are_pinned_and_a_changed_read_fails_the_commit,
    a_conflicting_commit_applies_nothing_and_ends_the_transaction,
    writes_inside_are_judged_like_writes_outside,
    committing_again_repeats_the_answer,
    an_expired_transaction_is_rolled_back,
    unknown_and_malformed_transaction_ids_are_refused,
    too_many_transactions_are_refused_until_one_ends,
    a_transaction_touches_at_most_the_batch_limit_of_documents,
    locks_are_checked_inside_and_again_at_commit,
    deletes_and_creates_inside_commit_in_first_write_order,
);

fn tx_header(tx: &str) -> (&'static str, &str) {
    ("transaction-id", tx)
}

async fn body_of(response: Response) -> Value {
    response.json().await.expect("a JSON body")
}

/// The answer inside a transaction echoes its id and must not be cached.
fn assert_inside(response: &Response, tx: &str) {
    assert_eq!(
        response.headers()["transaction-id"],
        tx,
        "{}",
        response.url()
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
}

async fn begin_show_and_roll_back(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let before = support::locks::unix_ms();
    let response = server.begin_with(None).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let begun = body_of(response).await;
    let tx = begun["id"].as_str().unwrap().to_owned();
    assert!(tx.starts_with("tx-"), "{tx}");
    assert_eq!(location, format!("/transactions/{tx}"));
    assert_eq!(begun["state"], "open");
    assert_eq!(begun["ttl_ms"], 30_000);
    let expires = begun["expires_at_ms"].as_u64().unwrap();
    assert!(expires >= before + 30_000 && expires <= support::locks::unix_ms() + 30_000);

    let capped = body_of(server.begin_with(Some(r#"{"ttl_ms": 600000}"#)).await).await;
    assert_eq!(capped["ttl_ms"], 60_000, "cut to --max-transaction-ttl");
    for bad in [r#"{"ttl": 5}"#, r#"{"ttl_ms": 0}"#, "nope"] {
        expect_problem(server.begin_with(Some(bad)).await, 400, "malformed-body").await;
    }

    let shown = body_of(server.get(&location, &[]).await).await;
    assert_eq!(
        shown,
        json!({"id": tx, "state": "open", "expires_at_ms": expires, "ttl_ms": 30000, "reads": [], "writes": []})
    );
    let response = server
        .put("/items/doc", &[tx_header(&tx)], r#"{"n":1}"#)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let shown = body_of(server.get(&location, &[]).await).await;
    assert_eq!(
        shown["reads"],
        json!([{"path": "/items/doc", "etag": null}])
    );
    assert_eq!(shown["writes"][0]["path"], "/items/doc");

    assert_eq!(
        server.delete(&location, &[]).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server.get("/items/doc", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    for response in [
        server.get(&location, &[]).await,
        server.delete(&location, &[]).await,
        server.commit(&tx).await,
        server.get("/items/doc", &[tx_header(&tx)]).await,
    ] {
        let body = expect_problem(response, 404, "transaction-not-found").await;
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("rolled back"), "{detail}");
        assert!(detail.contains("POST /transactions"), "{detail}");
    }
    server.shutdown().await;
}

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

async fn an_expired_transaction_is_rolled_back(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let response = server.begin_with(Some(r#"{"ttl_ms": 200}"#)).await;
    let tx = body_of(response).await["id"].as_str().unwrap().to_owned();
    server.put("/items/a", &[tx_header(&tx)], "1").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        let response = server.get(&format!("/transactions/{tx}"), &[]).await;
        if response.status() == StatusCode::NOT_FOUND {
            break expect_problem(response, 404, "transaction-not-found").await;
        }
        assert_eq!(response.status(), StatusCode::OK);
        assert!(Instant::now() < deadline, "never expired");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        body["detail"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    let commit = expect_problem(server.commit(&tx).await, 404, "transaction-not-found").await;
    assert!(commit["detail"].as_str().unwrap().contains("expired"));
    assert_eq!(
        server.get("/items/a", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    server.shutdown().await;
}

async fn unknown_and_malformed_transaction_ids_are_refused(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/a", "1").await;
    let unknown = "tx-0000000000000000-1-0000000000000000";
    for response in [
        server.get(&format!("/transactions/{unknown}"), &[]).await,
        server.commit(unknown).await,
        server
            .delete(&format!("/transactions/{unknown}"), &[])
            .await,
    ] {
        let body = expect_problem(response, 404, "transaction-not-found").await;
        assert!(body["detail"].as_str().unwrap().contains("never existed"));
    }
    let response = server.get("/items/a", &[tx_header(unknown)]).await;
    assert_inside(&response, unknown);
    expect_problem(response, 404, "transaction-not-found").await;
    let response = server.get("/items/a", &[tx_header("tx a")]).await;
    expect_problem(response, 400, "invalid-header").await;

    let tx = server.begin().await;
    let list = server.get("/items", &[tx_header(&tx)]).await;
    let body = expect_problem(list, 400, "invalid-header").await;
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("not transactional"));
    let batch = server
        .send(
            Method::POST,
            "/batch",
            &[tx_header(&tx), ("content-type", "application/json")],
            Some(r#"{"operations":[{"op":"check","path":"/items/a"}]}"#),
        )
        .await;
    expect_problem(batch, 400, "invalid-header").await;
    let wrong = server.send(Method::PUT, "/transactions", &[], None).await;
    assert_eq!(wrong.headers()["allow"], "POST");
    expect_problem(wrong, 405, "method-not-allowed").await;
    let wrong = server
        .send(Method::POST, &format!("/transactions/{tx}"), &[], None)
        .await;
    assert_eq!(wrong.headers()["allow"], "GET, HEAD, DELETE");
    let wrong = server
        .send(
            Method::GET,
            &format!("/transactions/{tx}/commit"),
            &[],
            None,
        )
        .await;
    assert_eq!(wrong.headers()["allow"], "POST");
    server.shutdown().await;
}

async fn too_many_transactions_are_refused_until_one_ends(backend: Backend) {
    let server = TestServer::start(backend, Config::new().with_max_transactions(2)).await;
    let first = server.begin().await;
    let second = server.begin().await;
    let refused = server.begin_with(None).await;
    assert_eq!(support::locks::retry_after(&refused), 1);
    expect_problem(refused, 503, "too-many-transactions").await;
    server.put("/items/a", &[tx_header(&first)], "1").await;
    assert_eq!(server.commit(&first).await.status(), StatusCode::OK);
    let third = server.begin().await;
    expect_problem(server.begin_with(None).await, 503, "too-many-transactions").await;
    server.delete(&format!("/transactions/{second}"), &[]).await;
    server.delete(&format!("/transactions/{third}"), &[]).await;
    server.begin().await;
    server.shutdown().await;
}

async fn a_transaction_touches_at_most_the_batch_limit_of_documents(backend: Backend) {
    let server = TestServer::start(backend, Config::new().with_max_batch_operations(2)).await;
    server.seed("/items/a", "1").await;
    let tx = server.begin().await;
    let inside = [tx_header(&tx)];
    assert_eq!(
        server.get("/items/a", &inside).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        server.get("/items/b", &inside).await.status(),
        StatusCode::NOT_FOUND,
        "a 404 is pinned and counts too"
    );
    for response in [
        server.put("/items/c", &inside, "3").await,
        server.get("/items/c", &inside).await,
        server
            .send(
                Method::POST,
                "/items",
                &[tx_header(&tx), ("content-type", "application/json")],
                Some("{}"),
            )
            .await,
    ] {
        let body = expect_problem(response, 400, "transaction-too-large").await;
        assert!(body["detail"].as_str().unwrap().contains("2 documents"));
    }
    // Documents already touched stay writable, and the transaction still commits.
    assert_eq!(
        server.put("/items/b", &inside, "2").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(server.commit(&tx).await.status(), StatusCode::OK);
    assert_eq!(server.read("/items/b").await.0, json!(2));
    server.shutdown().await;
}

async fn locks_are_checked_inside_and_again_at_commit(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/a", "1").await;
    server.seed("/items/b", "1").await;
    let held = server
        .acquire("/items/a", r#"{"owner":"alice","ttl_ms":60000}"#)
        .await;
    let (name, token) = held.header();

    let tx = server.begin().await;
    let refused = server.put("/items/a", &[tx_header(&tx)], "2").await;
    assert_inside(&refused, &tx);
    let body = expect_problem(refused, 423, "locked").await;
    assert_eq!(body["owner"], "alice");
    let allowed = server
        .put("/items/a", &[tx_header(&tx), (name, &token)], "2")
        .await;
    assert_eq!(allowed.status(), StatusCode::OK);
    server.put("/items/b", &[tx_header(&tx)], "2").await;
    // Someone locks b after the transaction wrote it: the commit is refused with 423.
    server
        .acquire("/items/b", r#"{"owner":"bob","ttl_ms":60000}"#)
        .await;
    let before = server.list().await;
    let response = server.commit(&tx).await;
    assert!(support::locks::retry_after(&response) >= 1);
    let body = expect_problem(response, 423, "locked").await;
    assert_eq!(body["path"], "/items/b");
    assert_eq!(body["owner"], "bob");
    assert_eq!(server.list().await, before, "nothing applied");
    expect_problem(server.commit(&tx).await, 423, "locked").await;

    // The holder's token carries a write through the commit; a committed delete ends the lock.
    let tx = server.begin().await;
    let deleted = server
        .delete("/items/a", &[tx_header(&tx), (name, &token)])
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(
        server.lock_state("/items/a").await.is_some(),
        "held until the commit"
    );
    assert_eq!(server.commit(&tx).await.status(), StatusCode::OK);
    assert!(server.lock_state("/items/a").await.is_none());
    assert_eq!(
        server.get("/items/a", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
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
