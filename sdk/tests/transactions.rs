//! Interactive transactions through the SDK against a scripted server: the requests' shape
//! (`Transaction-Id`, begin, commit, rollback), the cache (provisional tags never enter it,
//! committed ones do), refused and lost commits, resends, and the closure form that runs again
//! after a commit conflict (the reference server's behaviour: transactions_reference.rs).

mod support;

use std::time::Duration;

use ifmatch::{ConflictOutcome, Event, Precondition, RetryConfig};
use serde_json::{json, Value};
use support::{harness, header, json as json_response, problem, received};
use wiremock::{
    matchers::{body_json, header as has_header, method, path},
    Mock, MockServer, ResponseTemplate,
};

fn began(id: &str) -> ResponseTemplate {
    json_response(
        201,
        json!({"id": id, "state": "open", "expires_at_ms": 1_767_225_610_000u64, "ttl_ms": 10_000}),
        None,
    )
    .insert_header("location", format!("/transactions/{id}").as_str())
}

async fn begins(server: &MockServer, ids: &[&str]) {
    for id in ids {
        Mock::given(method("POST"))
            .and(path("/transactions"))
            .respond_with(began(id))
            .up_to_n_times(1)
            .mount(server)
            .await;
    }
}

fn committed(id: &str, results: Value) -> ResponseTemplate {
    json_response(
        200,
        json!({"id": id, "state": "committed", "results": results}),
        None,
    )
}

fn conflict() -> ResponseTemplate {
    problem(
        409,
        json!({
            "type": "urn:ifmatch:problem:transaction-conflict", "status": 409,
            "detail": "a document the transaction read changed",
            "conflicts": [{"path": "/items/a", "read_etag": "\"v1\"", "current_etag": "\"v7\""}]
        }),
    )
}

fn not_found() -> ResponseTemplate {
    problem(
        404,
        json!({"type": "urn:ifmatch:problem:transaction-not-found", "status": 404, "detail": "it expired; begin a new one"}),
    )
}

/// `GET /items/a` answers `{"n": 1}` at "v1" outside a transaction; inside, the scripted
/// transaction's view.
async fn document(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/items/a"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .mount(server)
        .await;
}

async fn commits(server: &MockServer, id: &str) -> usize {
    received(server, "POST")
        .await
        .iter()
        .filter(|r| r.url.path() == format!("/transactions/{id}/commit"))
        .count()
}

async fn rollbacks(server: &MockServer, id: &str) -> usize {
    received(server, "DELETE")
        .await
        .iter()
        .filter(|r| r.url.path() == format!("/transactions/{id}"))
        .count()
}

#[tokio::test]
async fn requests_in_a_transaction_carry_its_id_and_the_commit_fills_the_cache() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/transactions"))
        .and(body_json(json!({"ttl_ms": 10_000})))
        .respond_with(began("tx-1"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/a"))
        .and(has_header("transaction-id", "tx-1"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/items/a"))
        .and(has_header("transaction-id", "tx-1"))
        .and(has_header("if-match", "\"v1\""))
        .respond_with(json_response(200, json!({"n": 2}), Some("\"tx-1-1\"")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/transactions/tx-1/commit"))
        .respond_with(committed(
            "tx-1",
            json!([{"path": "/items/a", "status": 200, "etag": "\"v8\""}]),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let tx = h.client.begin().ttl(Duration::from_secs(10)).await.unwrap();
    assert_eq!(tx.id(), "tx-1");
    assert_eq!(tx.url(), format!("{}/transactions/tx-1", server.uri()));
    assert_eq!(tx.expires_at_ms(), Some(1_767_225_610_000));
    assert_eq!(tx.ttl(), Some(Duration::from_secs(10)));
    assert!(tx.is_open());
    let read = tx.get::<Value>("/items/a").await.unwrap();
    let staged = tx.put("/items/a", &json!({"n": 2}), &read).await.unwrap();
    assert_eq!(staged.etag, Some("\"tx-1-1\"".parse().unwrap()));
    let done = tx.commit().await.unwrap();
    assert_eq!(done.id(), "tx-1");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].etag(), Some(&"\"v8\"".parse().unwrap()));
    assert_eq!(
        done.find("/items/a").unwrap().url(),
        format!("{}/items/a", server.uri())
    );
    assert!(!tx.is_open());
    assert_eq!(h.client.stats().transactions_committed, 1);

    // Committing again answers the same result without asking.
    assert_eq!(tx.commit().await.unwrap(), done);
    assert_eq!(commits(&server, "tx-1").await, 1);

    // The cache learned the committed tag with the body the transaction wrote: an update
    // writes over v8 without reading.
    Mock::given(method("PUT"))
        .and(path("/items/a"))
        .and(has_header("if-match", "\"v8\""))
        .and(body_json(json!({"n": 3})))
        .respond_with(ResponseTemplate::new(204).insert_header("etag", "\"v9\""))
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
    let gets = received(&server, "GET").await;
    assert_eq!(gets.len(), 1, "only the transaction's read");
    assert_eq!(header(&gets[0], "if-none-match"), None);
}

#[tokio::test]
async fn provisional_tags_never_enter_the_cache_and_reads_inside_bypass_it() {
    let server = MockServer::start().await;
    begins(&server, &["tx-1"]).await;
    Mock::given(method("GET"))
        .and(path("/items/a"))
        .and(has_header("transaction-id", "tx-1"))
        .respond_with(json_response(200, json!({"n": 5}), Some("\"tx-1-1\"")))
        .mount(&server)
        .await;
    document(&server).await;
    Mock::given(method("PATCH"))
        .and(path("/items/a"))
        .respond_with(
            json_response(200, json!({"n": 5}), Some("\"tx-1-1\""))
                .insert_header("content-location", "/items/a"),
        )
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/transactions/tx-1"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let outside = h.client.get::<Value>("/items/a").await.unwrap();
    let tx = h.client.begin().await.unwrap();
    tx.patch("/items/a", &json!({"n": 5}), &outside)
        .await
        .unwrap();
    let inside = tx.get::<Value>("/items/a").await.unwrap();
    assert_eq!(inside.value["n"], 5);
    assert!(!inside.from_cache);
    tx.rollback().await.unwrap();
    h.client.get::<Value>("/items/a").await.unwrap();

    let gets = received(&server, "GET").await;
    assert_eq!(gets.len(), 3);
    assert_eq!(
        header(&gets[1], "if-none-match"),
        None,
        "a read inside does not revalidate the cache's copy"
    );
    assert_eq!(
        header(&gets[2], "if-none-match"),
        Some("\"v1\""),
        "outside, the cache still holds the committed version, not the provisional one"
    );
}

#[tokio::test]
async fn a_refused_commit_is_a_transaction_conflict_naming_the_changed_documents() {
    let server = MockServer::start().await;
    begins(&server, &["tx-1"]).await;
    document(&server).await;
    Mock::given(method("POST"))
        .and(path("/transactions/tx-1/commit"))
        .respond_with(conflict())
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    h.client.get::<Value>("/items/a").await.unwrap();
    let tx = h.client.begin().await.unwrap();
    let err = tx.commit().await.unwrap_err();
    assert_eq!(err.code(), "transaction_conflict", "{err}");
    assert!(err.is_conflict() && !err.is_precondition_failed());
    assert_eq!(err.status(), Some(http::StatusCode::CONFLICT));
    let stale = err.stale_reads();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].path(), "/items/a");
    assert_eq!(stale[0].url(), format!("{}/items/a", server.uri()));
    assert_eq!(stale[0].current_etag(), Some(&"\"v7\"".parse().unwrap()));
    assert!(
        err.to_string()
            .contains("/items/a (read \"v1\", now \"v7\")"),
        "{err}"
    );
    assert_eq!(h.client.stats().transaction_conflicts, 1);
    assert!(!tx.is_open());
    let again = tx.get::<Value>("/items/a").await.unwrap_err();
    assert_eq!(again.code(), "invalid_config", "{again}");
    // The stale version was forgotten: the next read is unconditional.
    h.client.get::<Value>("/items/a").await.unwrap();
    let gets = received(&server, "GET").await;
    assert_eq!(header(&gets[1], "if-none-match"), None);
    drop(tx);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        rollbacks(&server, "tx-1").await,
        0,
        "an ended one is not rolled back"
    );
}

#[tokio::test]
async fn a_transaction_the_server_forgot_is_lost_not_a_missing_document() {
    let server = MockServer::start().await;
    begins(&server, &["tx-1"]).await;
    Mock::given(method("GET"))
        .and(path("/items/a"))
        .respond_with(not_found())
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/transactions/tx-1/commit"))
        .respond_with(not_found())
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let tx = h.client.begin().await.unwrap();
    let err = tx.get::<Value>("/items/a").await.unwrap_err();
    assert_eq!(err.code(), "transaction_lost", "{err}");
    assert!(!err.is_not_found());
    assert!(err.to_string().contains("begin a new transaction"), "{err}");
    assert!(err.to_string().contains("it expired"), "{err}");
    let commit = tx.commit().await.unwrap_err();
    assert_eq!(commit.code(), "transaction_lost", "{commit}");
}

#[tokio::test]
async fn a_commit_answered_503_is_sent_again_and_answered_the_same() {
    let server = MockServer::start().await;
    begins(&server, &["tx-1"]).await;
    Mock::given(method("POST"))
        .and(path("/transactions/tx-1/commit"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/transactions/tx-1/commit"))
        .respond_with(committed(
            "tx-1",
            json!([{"path": "/items/a", "status": 201, "etag": "\"v2\""}]),
        ))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let tx = h.client.begin().await.unwrap();
    let done = tx.commit().await.unwrap();
    assert_eq!(done.attempts(), 2);
    assert_eq!(done[0].status(), 201);
    assert_eq!(commits(&server, "tx-1").await, 2);
    assert_eq!(h.sleeper.delays().len(), 1);
}

#[tokio::test]
async fn a_resent_commit_that_finds_the_transaction_gone_leaves_the_outcome_unknown() {
    let server = MockServer::start().await;
    begins(&server, &["tx-1"]).await;
    Mock::given(method("POST"))
        .and(path("/transactions/tx-1/commit"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/transactions/tx-1/commit"))
        .respond_with(not_found())
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let tx = h.client.begin().await.unwrap();
    let err = tx.commit().await.unwrap_err();
    assert_eq!(err.code(), "outcome_unknown", "{err}");
    assert!(err.is_outcome_unknown());
}

#[tokio::test]
async fn a_commit_whose_answer_was_lost_is_sent_again() {
    let server = MockServer::start().await;
    begins(&server, &["tx-1"]).await;
    Mock::given(method("POST"))
        .and(path("/transactions/tx-1/commit"))
        .respond_with(committed("tx-1", json!([])).set_delay(Duration::from_millis(500)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/transactions/tx-1/commit"))
        .respond_with(committed("tx-1", json!([])))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let tx = h.client.begin().await.unwrap();
    let done = tx
        .commit()
        .timeout(Some(Duration::from_millis(100)))
        .await
        .unwrap();
    assert!(done.is_empty());
    assert_eq!(commits(&server, "tx-1").await, 2);
    assert!(h
        .events()
        .iter()
        .any(|e| matches!(e, Event::Attempt { attempt: 2, url, .. } if url.ends_with("/commit"))));
}

#[tokio::test]
async fn a_rolled_back_transaction_refuses_further_requests_without_sending_them() {
    let server = MockServer::start().await;
    begins(&server, &["tx-1"]).await;
    Mock::given(method("DELETE"))
        .and(path("/transactions/tx-1"))
        .and(has_header("x-tenant", "7"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let tx = h.client.begin().header("x-tenant", "7").await.unwrap();
    tx.rollback().await.unwrap();
    let err = tx
        .put("/items/a", &json!({}), Precondition::unconditional())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_config");
    assert!(err.to_string().contains("rolled back"), "{err}");
    assert_eq!(tx.commit().await.unwrap_err().code(), "invalid_config");
    assert!(received(&server, "PUT").await.is_empty());
}

#[tokio::test]
async fn dropping_an_open_transaction_rolls_it_back_in_the_background() {
    let server = MockServer::start().await;
    begins(&server, &["tx-1"]).await;
    Mock::given(method("DELETE"))
        .and(path("/transactions/tx-1"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let tx = h.client.begin().await.unwrap();
    let clone = tx.clone();
    drop(tx);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        rollbacks(&server, "tx-1").await,
        0,
        "a clone still holds it"
    );
    drop(clone);
    for _ in 0..50 {
        if rollbacks(&server, "tx-1").await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(rollbacks(&server, "tx-1").await, 1);
}

/// A scripted account: alice at "v1" inside any transaction, writes staged.
async fn account(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/items/alice"))
        .respond_with(json_response(200, json!({"balance": 100}), Some("\"v1\"")))
        .mount(server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/items/alice"))
        .respond_with(json_response(200, json!({"balance": 90}), Some("\"tx-p\"")))
        .mount(server)
        .await;
}

async fn withdraw(tx: ifmatch::Transaction) -> Result<i64, ifmatch::Error> {
    let read = tx.get::<Value>("/items/alice").await?;
    let balance = read.value["balance"].as_i64().unwrap() - 10;
    tx.patch("/items/alice", &json!({"balance": balance}), &read)
        .await?;
    Ok(balance)
}

#[tokio::test]
async fn the_closure_runs_again_in_a_new_transaction_after_a_commit_conflict() {
    let server = MockServer::start().await;
    begins(&server, &["tx-1", "tx-2"]).await;
    account(&server).await;
    Mock::given(method("POST"))
        .and(path("/transactions/tx-1/commit"))
        .respond_with(conflict())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/transactions/tx-2/commit"))
        .respond_with(committed(
            "tx-2",
            json!([{"path": "/items/alice", "status": 200, "etag": "\"v2\""}]),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default().with_jitter(false));
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counted = runs.clone();
    let balance = h
        .client
        .transaction(move |tx| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            withdraw(tx)
        })
        .await
        .unwrap();
    assert_eq!(balance, 90);
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(h.sleeper.delays(), vec![Duration::from_millis(10)]);
    let stats = h.client.stats();
    assert_eq!(
        (
            stats.transaction_conflicts,
            stats.transactions_committed,
            stats.retries
        ),
        (1, 1, 1)
    );
    assert_eq!(
        h.events(),
        vec![Event::TransactionConflict {
            url: format!("{}/transactions/tx-1", server.uri()),
            paths: vec!["/items/a".into()],
            outcome: ConflictOutcome::Reapplied,
            attempt: 1,
        }]
    );
    let tx_ids: Vec<_> = received(&server, "PATCH")
        .await
        .iter()
        .map(|r| header(r, "transaction-id").unwrap().to_owned())
        .collect();
    assert_eq!(tx_ids, ["tx-1", "tx-2"]);
}

#[tokio::test]
async fn the_closure_gives_up_after_its_attempts() {
    let server = MockServer::start().await;
    begins(&server, &["tx-1", "tx-2", "tx-3"]).await;
    account(&server).await;
    Mock::given(method("POST"))
        .respond_with(conflict())
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .transaction(withdraw)
        .max_attempts(2)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "transaction_conflict");
    assert!(err.to_string().contains("after 2 attempts"), "{err}");
    assert_eq!(
        received(&server, "POST")
            .await
            .iter()
            .filter(|r| r.url.path() == "/transactions")
            .count(),
        2
    );
    assert!(matches!(
        h.events().last(),
        Some(Event::TransactionConflict {
            outcome: ConflictOutcome::GaveUp,
            attempt: 2,
            ..
        })
    ));
}

#[tokio::test]
async fn an_error_in_the_closure_rolls_back_and_is_returned_as_it_is() {
    let server = MockServer::start().await;
    begins(&server, &["tx-1"]).await;
    Mock::given(method("GET"))
        .and(path("/items/alice"))
        .respond_with(problem(
            404,
            json!({"type": "urn:ifmatch:problem:not-found", "status": 404}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/transactions/tx-1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h.client.transaction(withdraw).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(commits(&server, "tx-1").await, 0);
    assert_eq!(rollbacks(&server, "tx-1").await, 1);
    assert_eq!(h.client.stats().transactions_committed, 0);
}

#[tokio::test]
async fn requests_can_join_a_transaction_with_within() {
    let server = MockServer::start().await;
    begins(&server, &["tx-1"]).await;
    Mock::given(method("POST"))
        .and(path("/items"))
        .and(has_header("transaction-id", "tx-1"))
        .respond_with(
            json_response(201, json!({"n": 0}), Some("\"tx-1-1\""))
                .insert_header("location", "/items/k3"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/items/b"))
        .and(has_header("transaction-id", "tx-1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/transactions/tx-1/commit"))
        .respond_with(committed(
            "tx-1",
            json!([
                {"path": "/items/k3", "status": 201, "etag": "\"v5\""},
                {"path": "/items/b", "status": 204}
            ]),
        ))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let tx = h.client.begin().await.unwrap();
    let created = h
        .client
        .create("/items", &json!({"n": 0}))
        .within(&tx)
        .await
        .unwrap();
    assert_eq!(created.location, Some(format!("{}/items/k3", server.uri())));
    tx.delete("/items/b", "\"v2\"".parse::<ifmatch::EntityTag>().unwrap())
        .await
        .unwrap();
    let done = tx.commit().await.unwrap();
    assert_eq!(
        done.iter().map(|r| r.status().as_u16()).collect::<Vec<_>>(),
        [201, 204]
    );
    assert_eq!(done[1].etag(), None);
}
