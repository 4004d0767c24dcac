//! A write whose answer is lost after the server committed it (the connection closes before
//! the answer arrives): with `server_honours_idempotency_keys(true)` the client resends it with
//! the same `Idempotency-Key` and returns the real, committed outcome; without it the client
//! reports the transport error and sends nothing again. A read whose connection drops before
//! any answer is resent within the attempt budget. Against the reference server.

#[path = "lost/proxy.rs"]
mod proxy;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ifmatch::http;
use ifmatch::rt::{BoxError, BoxFuture};
use ifmatch::transport::{Bytes, Transport};
use ifmatch::{Client, RetryConfig, Strategy};
use ifmatch_server::{spawn, Config, RunningServer};
use proxy::LosingProxy;
use serde_json::{json, Value};

/// Quick resends: the test waits for nothing but the proxy.
fn retry() -> RetryConfig {
    RetryConfig::new()
        .with_initial_delay(Duration::from_millis(5))
        .with_min_delay(Duration::ZERO)
        .with_jitter(false)
}

/// A reference server, seeded with `{"n": 0}` at `/items/counter`, behind a proxy that loses
/// the answers of its first `drops` writes, and a client of the proxy.
async fn setup(drops: usize, honoured: bool) -> (RunningServer, LosingProxy, Client) {
    let server = spawn(Config::new()).await.unwrap();
    let seeded = reqwest::Client::new()
        .put(format!("{}/items/counter", server.base_url()))
        .header("content-type", "application/json")
        .body(r#"{"n": 0}"#)
        .send()
        .await
        .unwrap();
    assert!(seeded.status().is_success());
    let proxy = LosingProxy::start(server.local_addr(), drops).await;
    let client = Client::builder()
        .base_url(&proxy.base_url)
        .unwrap()
        .retry(retry())
        .server_honours_idempotency_keys(honoured)
        .build()
        .unwrap();
    (server, proxy, client)
}

/// The document as stored, read from the server itself.
async fn stored(server: &RunningServer, path: &str) -> Value {
    reqwest::get(format!("{}{path}", server.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn increment(doc: &mut Value) -> Result<(), ifmatch::ChangeError> {
    doc["n"] = (doc["n"].as_i64().unwrap_or(0) + 1).into();
    Ok(())
}

#[tokio::test]
async fn an_update_whose_answer_was_lost_returns_the_committed_outcome_and_counts_once() {
    let (server, proxy, client) = setup(1, true).await;
    let out = client
        .update::<Value>("/items/counter", increment)
        .strategy(Strategy::Reapply)
        .await
        .unwrap();
    assert_eq!(out.value["n"], 1);
    assert_eq!(
        stored(&server, "/items/counter").await["n"],
        1,
        "incremented exactly once"
    );
    assert_eq!(proxy.drops_left(), 0);
    let puts = proxy.seen("PUT");
    assert_eq!(puts.len(), 2);
    assert!(
        puts[0].1.is_some(),
        "a conditional write carries a key when keys are honoured"
    );
    assert_eq!(puts[0].1, puts[1].1, "the resend carries the same key");
    let stats = client.stats();
    assert_eq!((stats.lost_answer_resends, stats.replayed_answers), (1, 1));
    assert_eq!(
        stats.conflicts_412, 0,
        "the resend was not refused by its own write"
    );
    assert_eq!(out.headers.get("idempotent-replayed").unwrap(), "true");
    server.shutdown().await;
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_creates_one_resource() {
    let (server, proxy, client) = setup(1, true).await;
    let out = client
        .create("/items", &json!({"title": "once"}))
        .await
        .unwrap();
    let location = out.location.clone().expect("the created resource's URL");
    assert!(location.contains("/items/"), "{location}");
    let list = stored(&server, "/items").await;
    let created: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["value"]["title"] == "once")
        .collect();
    assert_eq!(created.len(), 1, "one resource, not two: {list}");
    assert_eq!(proxy.seen("POST").len(), 2);
    assert_eq!(client.stats().lost_answer_resends, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn without_the_declaration_a_lost_answer_is_a_transport_error_and_nothing_is_resent() {
    let (server, proxy, client) = setup(1, false).await;
    let err = client
        .update::<Value>("/items/counter", increment)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "network", "{err}");
    let puts = proxy.seen("PUT");
    assert_eq!(puts.len(), 1, "never resent");
    assert_eq!(
        puts[0].1, None,
        "a conditional write needs no key when keys are not honoured"
    );
    assert_eq!(
        stored(&server, "/items/counter").await["n"],
        1,
        "the write did land"
    );
    assert_eq!(client.stats().lost_answer_resends, 0);
    server.shutdown().await;
}

#[tokio::test]
async fn a_lock_whose_grant_was_lost_is_granted_once_and_released() {
    // The first write through the proxy is the lock request: its grant is lost after the
    // server granted it. The resend with the same key gets that grant replayed, not a 423
    // from the lock this client took itself.
    let (server, proxy, client) = setup(1, true).await;
    let guard = client
        .lock("/items/counter")
        .ttl(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    let posts = proxy.seen("POST");
    assert_eq!(posts.len(), 2, "the lock request and its resend");
    assert!(posts[0].1.is_some(), "a lock request carries a key");
    assert_eq!(posts[0].1, posts[1].1, "the resend carries the same key");
    assert_eq!(client.stats().lost_answer_resends, 1);
    let out = client
        .update::<Value>("/items/counter", increment)
        .under(&guard)
        .await
        .unwrap();
    assert_eq!(out.value["n"], 1);
    guard.release().await.unwrap();
    // Released: another client takes the lock at once.
    let other = Client::builder()
        .base_url(&server.base_url())
        .unwrap()
        .build()
        .unwrap();
    let taken = other.lock("/items/counter").send().await.unwrap();
    taken.release().await.unwrap();
    server.shutdown().await;
}

/// Bounds a call that must end by itself (its resends wait milliseconds).
async fn bounded<T>(call: impl std::future::IntoFuture<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), call.into_future())
        .await
        .expect("the call ends within its attempt budget")
}

#[tokio::test]
async fn a_get_whose_connection_drops_is_resent_until_it_is_answered() {
    let (server, proxy, client) = setup(0, false).await;
    proxy.lose_reads(0, 2);
    let read = bounded(client.get::<Value>("/items/counter"))
        .await
        .unwrap();
    assert_eq!(read.value["n"], 0);
    assert_eq!(
        proxy.seen("GET").len(),
        3,
        "two dropped, the third answered"
    );
    let stats = client.stats();
    assert_eq!((stats.lost_answer_resends, stats.retries), (2, 2));
    server.shutdown().await;
}

#[tokio::test]
async fn a_get_that_always_drops_is_a_transport_error_after_max_attempts() {
    let (server, proxy, client) = setup(0, false).await;
    proxy.lose_reads(0, usize::MAX);
    let err = bounded(client.get::<Value>("/items/counter"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "network", "{err}");
    assert!(err.is_transport() && !err.is_outcome_unknown(), "{err}");
    assert_eq!(
        proxy.seen("GET").len(),
        RetryConfig::new().max_attempts() as usize,
        "sent max_attempts times, then reported"
    );
    let head = bounded(
        client
            .request(ifmatch::http::Method::HEAD, "/items/counter")
            .send(),
    )
    .await;
    assert_eq!(head.unwrap_err().code(), "network");
    assert_eq!(proxy.seen("HEAD").len(), 3);
    server.shutdown().await;
}

#[tokio::test]
async fn an_update_whose_re_read_drops_once_ends_with_the_exact_counter() {
    let (server, proxy, _) = setup(0, false).await;
    // No current document in the 412, so that the update must read again.
    let client = Client::builder()
        .base_url(&proxy.base_url)
        .unwrap()
        .retry(retry().with_conflict_representation(false))
        .build()
        .unwrap();
    let cached = client.get::<Value>("/items/counter").await.unwrap();
    assert_eq!(cached.value["n"], 0);
    // Another writer moves the counter on: the cached version is stale.
    let moved = reqwest::Client::new()
        .put(format!("{}/items/counter", server.base_url()))
        .header("content-type", "application/json")
        .body(r#"{"n": 1}"#)
        .send()
        .await
        .unwrap();
    assert!(moved.status().is_success());
    proxy.lose_reads(0, 1);
    let out = bounded(
        client
            .update::<Value>("/items/counter", increment)
            .strategy(Strategy::Reapply),
    )
    .await
    .unwrap();
    assert_eq!(out.value["n"], 2);
    assert_eq!(stored(&server, "/items/counter").await["n"], 2);
    assert_eq!(
        proxy.seen("PUT").len(),
        2,
        "the stale write and the reapplied one"
    );
    assert_eq!(
        proxy.seen("GET").len(),
        3,
        "the first read, the dropped re-read, its resend"
    );
    assert_eq!(client.stats().lost_answer_resends, 1);
    server.shutdown().await;
}

/// A transport that never gets an answer, counting its sends; its failures are transient or
/// not as told.
struct Unanswered {
    sent: Arc<AtomicUsize>,
    transient: bool,
}

impl Transport for Unanswered {
    fn send(
        &self,
        _request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, BoxError>> {
        self.sent.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Err("the connection was reset".into()) })
    }

    fn is_transient(&self, _error: &BoxError) -> bool {
        self.transient
    }
}

#[tokio::test]
async fn a_failure_the_transport_calls_lasting_is_not_resent() {
    for (transient, sends) in [(true, 3), (false, 1)] {
        let sent = Arc::new(AtomicUsize::new(0));
        let client = Client::builder()
            .base_url("http://127.0.0.1:9")
            .unwrap()
            .retry(retry())
            .transport(Unanswered {
                sent: sent.clone(),
                transient,
            })
            .build()
            .unwrap();
        let err = bounded(client.get::<Value>("/items/x")).await.unwrap_err();
        assert_eq!(err.code(), "network", "{err}");
        assert_eq!(sent.load(Ordering::SeqCst), sends, "transient: {transient}");
    }
}
