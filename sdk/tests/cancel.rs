//! Cancellation: a token or a dropped future stops an operation, even mid-wait, and a cancelled
//! operation is never reported as a success.

mod support;

use std::{sync::Arc, time::Duration};

use ifmatch::{
    rt::{BoxFuture, Sleeper},
    CancelToken, Client, RetryConfig,
};
use serde_json::{json, Value};
use support::{json as json_response, received};
use tokio::sync::Notify;
use wiremock::{matchers::method, Mock, MockServer, ResponseTemplate};

/// A backoff wait that never ends on its own, and says when it has started.
#[derive(Clone, Default)]
struct StuckSleeper {
    started: Arc<Notify>,
}

impl Sleeper for StuckSleeper {
    fn sleep(&self, _delay: Duration) -> BoxFuture<'static, ()> {
        self.started.notify_one();
        Box::pin(std::future::pending())
    }
}

async fn throttling_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "5"))
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer, sleeper: StuckSleeper) -> Client {
    Client::builder()
        .base_url(&server.uri())
        .unwrap()
        .retry(RetryConfig::default())
        .sleeper(sleeper)
        .build()
        .unwrap()
}

#[tokio::test]
async fn token_cancels_an_operation_waiting_out_a_429() {
    let server = throttling_server().await;
    let sleeper = StuckSleeper::default();
    let client = client(&server, sleeper.clone());
    let token = CancelToken::new();
    let op = {
        let (client, token) = (client.clone(), token.clone());
        tokio::spawn(async move { token.run("load", client.get::<Value>("/items/1")).await })
    };
    sleeper.started.notified().await;
    token.cancel();
    let err = op.await.unwrap().unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(
        received(&server, "GET").await.len(),
        1,
        "no request after cancellation"
    );
}

#[tokio::test]
async fn dropping_the_future_stops_the_backoff_wait() {
    let server = throttling_server().await;
    let sleeper = StuckSleeper::default();
    let client = client(&server, sleeper.clone());
    tokio::select! {
        _ = client.get::<Value>("/items/1") => panic!("a stuck wait cannot complete"),
        _ = sleeper.started.notified() => {}
    }
    // The select dropped the operation; nothing is left to send a retry.
    tokio::task::yield_now().await;
    assert_eq!(received(&server, "GET").await.len(), 1);
}

#[tokio::test]
async fn an_update_cancelled_before_it_starts_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .expect(0)
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(&server.uri())
        .unwrap()
        .build()
        .unwrap();
    let token = CancelToken::new();
    token.cancel();
    let err = client
        .update::<Value>("/items/1", |doc| {
            doc["n"] = 2.into();
            Ok(())
        })
        .cancel_on(&token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), "cancelled");
    assert!(err.to_string().contains("update of"), "{err}");
}

#[tokio::test]
async fn an_update_cancelled_mid_conflict_pause_is_not_a_success() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(json_response(412, json!({"current_etag": "\"v2\""}), None))
        .expect(1)
        .mount(&server)
        .await;
    let sleeper = StuckSleeper::default();
    let client = client(&server, sleeper.clone());
    let token = CancelToken::new();
    let op = {
        let (client, token) = (client.clone(), token.clone());
        tokio::spawn(async move {
            client
                .update::<Value>("/items/1", |doc| {
                    doc["n"] = 2.into();
                    Ok(())
                })
                .cancel_on(&token)
                .send()
                .await
        })
    };
    sleeper.started.notified().await;
    token.cancel();
    assert!(op.await.unwrap().unwrap_err().is_cancelled());
}
