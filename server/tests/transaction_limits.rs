//! Transactions' life and limits: begin, show, roll back, expiry, unknown and malformed ids,
//! the open-transaction (total and per client) and document limits, and locks inside and at
//! commit.

mod support;

use std::time::{Duration, Instant};

use ifmatch_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::atomic::{assert_inside, body_of, tx_header};
use support::{expect_problem, Backend, TestServer};

both_storages!(
    begin_show_and_roll_back,
    an_expired_transaction_is_rolled_back,
    unknown_and_malformed_transaction_ids_are_refused,
    too_many_transactions_are_refused_until_one_ends,
    one_client_at_its_cap_does_not_stop_another,
    a_transaction_touches_at_most_the_batch_limit_of_documents,
    locks_are_checked_inside_and_again_at_commit,
);

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

/// `POST /transactions` as the client holding `token` (anonymous, by address, without one).
async fn begin_as(server: &TestServer, token: Option<&str>) -> reqwest::Response {
    let bearer = token.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> = bearer
        .as_deref()
        .map(|value| ("authorization", value))
        .into_iter()
        .collect();
    server
        .send(Method::POST, "/transactions", &headers, None)
        .await
}

async fn one_client_at_its_cap_does_not_stop_another(backend: Backend) {
    let config = Config::new()
        .with_max_client_transactions(2)
        .with_client_token("x", "token-of-client-x")
        .with_client_token("y", "token-of-client-y");
    let server = TestServer::start(backend, config).await;
    let x = Some("token-of-client-x");
    let first = body_of(begin_as(&server, x).await).await;
    assert_eq!(begin_as(&server, x).await.status(), StatusCode::CREATED);
    let refused = begin_as(&server, x).await;
    assert_eq!(support::locks::retry_after(&refused), 1);
    expect_problem(refused, 429, "too-many-client-transactions").await;
    for other in [Some("token-of-client-y"), None] {
        let begun = begin_as(&server, other).await;
        assert_eq!(
            begun.status(),
            StatusCode::CREATED,
            "{other:?} still begins"
        );
    }
    let first = first["id"].as_str().unwrap();
    server.delete(&format!("/transactions/{first}"), &[]).await;
    assert_eq!(
        begin_as(&server, x).await.status(),
        StatusCode::CREATED,
        "a rolled back transaction frees its client's slot"
    );
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

    // A token that lost its lock before the commit is refused there (the fencing rule).
    server.delete("/items/b/lock?break=true", &[]).await;
    let tx = server.begin().await;
    let held_b = server.acquire("/items/b", r#"{"ttl_ms":60000}"#).await;
    let (_, token_b) = held_b.header();
    let written = server
        .put("/items/b", &[tx_header(&tx), (name, &token_b)], "3")
        .await;
    assert_eq!(written.status(), StatusCode::OK);
    server.release("/items/b", &held_b).await;
    let body = expect_problem(server.commit(&tx).await, 412, "lock-token-invalid").await;
    assert_eq!(body["path"], "/items/b");
    assert_eq!(server.list().await, before, "nothing applied");

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
