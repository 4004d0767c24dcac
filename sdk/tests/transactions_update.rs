//! `update()` inside a transaction (`tx.update(...)`, `.within(&tx)`): it reads in the
//! transaction, writes with the tag it read (a provisional one for a document the transaction
//! wrote), never touches the ETag cache with provisional tags, refuses strategies that could
//! never act there, and in `client.transaction(...)` is run again with the closure after a
//! commit conflict. Against a scripted server and against the reference server.

mod support;

use ifmatch::{Client, RetryConfig, Strategy};
use ifmatch_server::{spawn, Config};
use serde_json::{json, Value};
use support::{harness, header, json as json_response, received, YieldSleeper};
use wiremock::{
    matchers::{body_json, header as has_header, method, path},
    Mock, MockServer, ResponseTemplate,
};

fn increment(doc: &mut Value) -> Result<(), ifmatch::ChangeError> {
    doc["n"] = (doc["n"].as_i64().unwrap_or(0) + 1).into();
    Ok(())
}

/// A transaction `tx-1` whose view of `/items/a` is `{"n": 5}` at "v3", while outside the
/// document is `{"n": 1}` at "v1".
async fn scripted(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/transactions"))
        .respond_with(
            json_response(201, json!({"id": "tx-1", "state": "open"}), None)
                .insert_header("location", "/transactions/tx-1"),
        )
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/a"))
        .and(has_header("transaction-id", "tx-1"))
        .respond_with(json_response(200, json!({"n": 5}), Some("\"v3\"")))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/a"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .mount(server)
        .await;
}

#[tokio::test]
async fn an_update_inside_reads_in_the_transaction_and_leaves_the_cache_alone() {
    let server = MockServer::start().await;
    scripted(&server).await;
    Mock::given(method("PUT"))
        .and(path("/items/a"))
        .and(has_header("transaction-id", "tx-1"))
        .and(has_header("if-match", "\"v3\""))
        .and(body_json(json!({"n": 6})))
        .respond_with(json_response(200, json!({"n": 6}), Some("\"tx-1-1\"")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/transactions/tx-1/commit"))
        .respond_with(json_response(
            200,
            json!({"id": "tx-1", "state": "committed", "results": [
                {"path": "/items/a", "status": 200, "etag": "\"v7\""}]}),
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    // The cache holds the committed version; the transaction's view is another one.
    h.client.get::<Value>("/items/a").await.unwrap();

    let tx = h.client.begin().await.unwrap();
    let staged = tx.update("/items/a", increment).await.unwrap();
    assert_eq!(
        staged.value,
        json!({"n": 6}),
        "applied to the transaction's view"
    );
    assert_eq!(staged.etag.unwrap().to_string(), "\"tx-1-1\"");
    assert_eq!(staged.attempts, 1);
    assert!(!staged.from_cache);
    // Outside, the cache still holds the committed version, not the provisional one.
    h.client.get::<Value>("/items/a").await.unwrap();

    tx.commit().await.unwrap();
    h.client.get::<Value>("/items/a").await.unwrap();

    let gets = received(&server, "GET").await;
    assert_eq!(gets.len(), 4);
    assert_eq!(
        header(&gets[1], "transaction-id"),
        Some("tx-1"),
        "the update read inside the transaction although the cache had the document"
    );
    assert_eq!(header(&gets[1], "if-none-match"), None);
    assert_eq!(
        header(&gets[2], "if-none-match"),
        Some("\"v1\""),
        "the provisional tag never entered the cache"
    );
    assert_eq!(
        header(&gets[3], "if-none-match"),
        Some("\"v7\""),
        "the commit cached the real tag"
    );
}

#[tokio::test]
async fn within_puts_any_update_in_the_transaction() {
    let server = MockServer::start().await;
    scripted(&server).await;
    Mock::given(method("PUT"))
        .and(path("/items/a"))
        .and(has_header("transaction-id", "tx-1"))
        .and(has_header("if-match", "\"v3\""))
        .respond_with(json_response(200, json!({"n": 6}), Some("\"tx-1-1\"")))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let tx = h.client.begin().await.unwrap();
    let staged = h
        .client
        .update("/items/a", increment)
        .within(&tx)
        .await
        .unwrap();
    assert_eq!(staged.value, json!({"n": 6}));
}

#[tokio::test]
async fn a_strategy_other_than_reapply_is_refused_inside_before_anything_is_sent() {
    let server = MockServer::start().await;
    scripted(&server).await;
    let h = harness(&server, RetryConfig::default());
    let tx = h.client.begin().await.unwrap();
    for strategy in [
        Strategy::ThreeWayMerge,
        Strategy::LastWriteWins,
        Strategy::Abort,
    ] {
        let name = strategy.name();
        let err = tx
            .update("/items/a", increment)
            .strategy(strategy)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_config", "{name}: {err}");
        assert!(err.to_string().contains(name), "{err}");
        assert!(err.to_string().contains("transaction_conflict"), "{err}");
    }
    // The default, also when named, is accepted: a commit conflict reruns the whole closure.
    let err = tx
        .update("/items/a", increment)
        .strategy(Strategy::Reapply)
        .await
        .unwrap_err();
    assert_ne!(err.code(), "invalid_config", "{err}");
    assert_eq!(
        received(&server, "GET").await.len(),
        1,
        "only the Reapply one read"
    );
}

#[tokio::test]
async fn a_412_inside_reads_again_in_the_transaction_and_reapplies() {
    let server = MockServer::start().await;
    scripted(&server).await;
    // Another request of the same transaction wrote the document between read and write.
    Mock::given(method("PUT"))
        .and(path("/items/a"))
        .and(has_header("if-match", "\"v3\""))
        .respond_with(ResponseTemplate::new(412).insert_header("etag", "\"tx-1-1\""))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/items/a"))
        .and(has_header("transaction-id", "tx-1"))
        .and(has_header("if-match", "\"v3\""))
        .respond_with(json_response(200, json!({"n": 6}), Some("\"tx-1-2\"")))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let tx = h.client.begin().await.unwrap();
    let staged = tx.update("/items/a", increment).await.unwrap();
    assert_eq!(staged.attempts, 2);
    let gets = received(&server, "GET").await;
    assert_eq!(gets.len(), 2);
    assert!(
        gets.iter()
            .all(|g| header(g, "transaction-id") == Some("tx-1")),
        "both reads were the transaction's"
    );
    assert_eq!(h.client.stats().conflicts_412, 1);
}

fn client(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .unwrap()
        .retry(RetryConfig::default().with_max_conflict_attempts(50))
        .sleeper(YieldSleeper)
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_update_of_a_document_the_transaction_wrote_uses_its_provisional_tag() {
    let server = spawn(Config::new()).await.unwrap();
    let client = client(&server.base_url());
    let a = client
        .create("/items", &json!({"n": 1}))
        .await
        .unwrap()
        .location
        .unwrap();
    let committed = client.get::<Value>(&a).await.unwrap();

    let tx = client.begin().await.unwrap();
    let first = tx.update(&a, increment).await.unwrap();
    let second = tx.update(&a, increment).await.unwrap();
    assert_eq!(
        second.value,
        json!({"n": 3}),
        "sees the transaction's own write"
    );
    assert_ne!(second.etag, first.etag, "each staged write has its own tag");
    assert_ne!(
        first.etag, committed.etag,
        "provisional, not the committed tag"
    );
    // Nothing is visible outside, and the cache still answers with the committed version.
    let outside = client.get::<Value>(&a).await.unwrap();
    assert_eq!(
        (outside.value, outside.etag),
        (json!({"n": 1}), committed.etag)
    );

    let done = tx.commit().await.unwrap();
    let after = client.get::<Value>(&a).await.unwrap();
    assert!(after.from_cache);
    assert_eq!(
        (after.value, after.etag.as_ref()),
        (json!({"n": 3}), done.find(&a).unwrap().etag())
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_transactional_updates_lose_no_increment() {
    const TASKS: i64 = 8;
    let server = spawn(Config::new()).await.unwrap();
    let client = client(&server.base_url());
    let a = client
        .create("/items", &json!({"n": 0}))
        .await
        .unwrap()
        .location
        .unwrap();
    let b = client
        .create("/items", &json!({"n": 0}))
        .await
        .unwrap()
        .location
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (client, a, b) = (client.clone(), a.clone(), b.clone());
        tasks.push(tokio::spawn(async move {
            client
                .transaction(move |tx| {
                    let (a, b) = (a.clone(), b.clone());
                    async move {
                        tx.update(&a, increment).await?;
                        tx.update(&b, increment).await?;
                        Ok(())
                    }
                })
                .await
                .unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    for doc in [&a, &b] {
        let read = client.get::<Value>(doc).await.unwrap();
        assert_eq!(read.value["n"], TASKS, "{doc}");
    }
    assert_eq!(client.stats().transactions_committed, TASKS as u64);
    server.shutdown().await;
}
