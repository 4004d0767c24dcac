//! A commit refused because a document the transaction wrote is locked by someone else (423) or
//! its lock token was refused (412 `lock-token-invalid`): the error names the document (resolved
//! against the base URL), not the commit, the transaction is over, and nothing was applied.
//! Against a scripted server and against the reference server.

mod support;

use std::time::Duration;

use ifmatch::{Client, Error, Precondition};
use ifmatch_server::{spawn, Config};
use serde_json::{json, Value};
use support::{json as json_response, problem};
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

/// A client under `{server}/api`, with a transaction `tx-1` that staged a PUT of `/items/a`.
async fn staged(server: &MockServer, refusal: ResponseTemplate) -> (Client, ifmatch::Transaction) {
    Mock::given(method("POST"))
        .and(path("/api/transactions"))
        .respond_with(
            json_response(201, json!({"id": "tx-1", "state": "open"}), None)
                .insert_header("location", "/api/transactions/tx-1"),
        )
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/items/a"))
        .respond_with(json_response(200, json!({"n": 2}), Some("\"tx-1-1\"")))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/transactions/tx-1/commit"))
        .respond_with(refusal)
        .expect(1)
        .mount(server)
        .await;
    let client = Client::builder()
        .base_url(&format!("{}/api", server.uri()))
        .unwrap()
        .build()
        .unwrap();
    let tx = client.begin().await.unwrap();
    tx.put("/items/a", &json!({"n": 2}), Precondition::unconditional())
        .await
        .unwrap();
    (client, tx)
}

#[tokio::test]
async fn a_commit_refused_with_423_names_the_locked_document() {
    let server = MockServer::start().await;
    let refusal = problem(
        423,
        json!({
            "type": "urn:ifmatch:problem:locked", "status": 423, "path": "/items/a",
            "owner": "worker-2", "expires_at_ms": 1_767_225_610_000u64,
            "detail": "the commit of transaction tx-1 was refused: /items/a is locked",
        }),
    )
    .insert_header("retry-after", "3");
    let (_client, tx) = staged(&server, refusal).await;

    let err = tx.commit().await.unwrap_err();
    let doc = format!("{}/api/items/a", server.uri());
    let commit = format!("{}/api/transactions/tx-1/commit", server.uri());
    assert_eq!(err.code(), "locked", "{err}");
    assert_eq!(
        err.url(),
        Some(doc.as_str()),
        "the document, not the commit"
    );
    assert_eq!(err.status(), Some(http::StatusCode::LOCKED));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(err.problem().unwrap().extensions["owner"], "worker-2");
    match &err {
        Error::Locked {
            commit: Some(c), ..
        } => assert_eq!(c, &commit),
        other => panic!("not a commit's Locked: {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "the commit POST {commit} was refused with 423 Locked"
        )),
        "{text}"
    );
    assert!(text.contains(&format!("the lock on {doc}")), "{text}");
    assert!(!err.is_conflict(), "not something a rerun right away fixes");

    assert!(!tx.is_open(), "the server aborted it");
    let after = tx.get::<Value>("/items/a").await.unwrap_err();
    assert_eq!(after.code(), "invalid_config", "not sent: {after}");
    assert!(after.to_string().contains("locked"), "{after}");
}

#[tokio::test]
async fn a_commit_whose_lock_token_was_refused_names_the_document_and_ends_the_transaction() {
    let server = MockServer::start().await;
    let refusal = problem(
        412,
        json!({"type": "urn:ifmatch:problem:lock-token-invalid", "status": 412, "path": "/items/a"}),
    );
    let (_client, tx) = staged(&server, refusal).await;

    let err = tx.commit().await.unwrap_err();
    assert_eq!(err.code(), "lock_lost", "{err}");
    assert_eq!(
        err.url(),
        Some(format!("{}/api/items/a", server.uri()).as_str())
    );
    assert!(err.to_string().contains("transaction tx-1"), "{err}");
    assert!(!tx.is_open());
}

#[tokio::test]
async fn a_document_locked_before_the_commit_refuses_it_and_nothing_is_applied() {
    let server = spawn(Config::new()).await.unwrap();
    let base = server.base_url();
    let build = || Client::builder().base_url(&base).unwrap().build().unwrap();
    let (mine, other) = (build(), build());
    let a = mine
        .create("/items", &json!({"n": 1}))
        .await
        .unwrap()
        .location
        .unwrap();
    let b = mine
        .create("/items", &json!({"n": 1}))
        .await
        .unwrap()
        .location
        .unwrap();

    let tx = mine.begin().await.unwrap();
    for doc in [&a, &b] {
        let read = tx.get::<Value>(doc).await.unwrap();
        tx.put(doc, &json!({"n": 2}), &read).await.unwrap();
    }
    // Locked by someone else after the writes were staged: the commit checks the locks again.
    let lock = other
        .lock(&b)
        .ttl(Duration::from_secs(10))
        .owner("other")
        .await
        .unwrap();

    let err = tx.commit().await.unwrap_err();
    assert_eq!(err.code(), "locked", "{err}");
    assert_eq!(
        err.url(),
        Some(b.as_str()),
        "names the locked document: {err}"
    );
    assert!(
        matches!(
            err,
            Error::Locked {
                commit: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.problem().unwrap().extensions["path"],
        json!(b.trim_start_matches(&base))
    );
    assert!(err.retry_after().is_some(), "{err}");
    assert!(!tx.is_open());
    for doc in [&a, &b] {
        let now = other.get::<Value>(doc).await.unwrap();
        assert_eq!(now.value, json!({"n": 1}), "nothing applied: {doc}");
    }
    lock.release().await.unwrap();
    server.shutdown().await;
}
