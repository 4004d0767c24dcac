//! Lock helpers: take, renew, release and inspect `/items/{id}/lock`.

use std::time::{Duration, Instant, SystemTime};

use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

use super::TestServer;

/// A lock the test holds.
#[derive(Debug, Clone)]
pub struct Held {
    pub token: String,
    pub body: Value,
}

impl Held {
    /// `("lock-token", "\"…\"")`, ready for a request's headers.
    pub fn header(&self) -> (&'static str, String) {
        ("lock-token", format!("\"{}\"", self.token))
    }
}

impl TestServer {
    /// `POST {path}/lock` with `body` as JSON.
    pub async fn lock(&self, path: &str, body: &str) -> Response {
        self.send(
            Method::POST,
            &format!("{path}/lock"),
            &[("content-type", "application/json")],
            Some(body),
        )
        .await
    }

    /// Takes the lock, which must be granted, and checks the two places the token is given.
    pub async fn acquire(&self, path: &str, body: &str) -> Held {
        let response = self.lock(path, body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "locking {path}");
        let header = response.headers()["lock-token"]
            .to_str()
            .unwrap()
            .to_owned();
        let body: Value = response.json().await.unwrap();
        let token = body["token"].as_str().expect("a token member").to_owned();
        assert_eq!(
            header,
            format!("\"{token}\""),
            "Lock-Token is the quoted token"
        );
        Held { token, body }
    }

    /// `DELETE {path}/lock` with the token; must answer 204.
    pub async fn release(&self, path: &str, held: &Held) {
        let (name, value) = held.header();
        let response = self
            .delete(&format!("{path}/lock"), &[(name, value.as_str())])
            .await;
        assert_eq!(
            response.status(),
            StatusCode::NO_CONTENT,
            "releasing {path}"
        );
    }

    /// The lock as `GET {path}/lock` shows it, or `None` when unlocked (404).
    pub async fn lock_state(&self, path: &str) -> Option<Value> {
        let response = self.get(&format!("{path}/lock"), &[]).await;
        match response.status() {
            StatusCode::OK => Some(response.json().await.unwrap()),
            StatusCode::NOT_FOUND => None,
            other => panic!("GET {path}/lock answered {other}"),
        }
    }

    /// Polls until the server counts `n` waiters for the lock (the queue order depends on
    /// the server having registered each waiter, not on when its request was sent).
    pub async fn until_waiters(&self, path: &str, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let waiters = self
                .lock_state(path)
                .await
                .map_or(0, |state| state["waiters"].as_u64().unwrap());
            if waiters == n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{path}: {waiters} waiters, expected {n}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// The `Retry-After` of a response, in seconds.
pub fn retry_after(response: &Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in delay-seconds")
}

/// Milliseconds since the Unix epoch, to compare with `expires_at_ms`.
pub fn unix_ms() -> u64 {
    let elapsed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    u64::try_from(elapsed.as_millis()).unwrap()
}
