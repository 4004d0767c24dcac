//! Batch and transaction helpers: `POST /batch`, `/transactions`, and the `Transaction-Id` field.

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use super::TestServer;

impl TestServer {
    /// `POST /batch` with `{"operations": operations}`.
    pub async fn batch(&self, operations: Value) -> Response {
        let body = json!({ "operations": operations }).to_string();
        self.send(
            Method::POST,
            "/batch",
            &[("content-type", "application/json")],
            Some(&body),
        )
        .await
    }

    /// `POST /batch` that must succeed; returns `results`.
    pub async fn batch_ok(&self, operations: Value) -> Vec<Value> {
        let response = self.batch(operations).await;
        let status = response.status();
        let body: Value = response.json().await.expect("a JSON answer");
        assert_eq!(status, StatusCode::OK, "batch refused: {body}");
        body["results"].as_array().expect("results").clone()
    }

    /// The whole collection as `GET /items` shows it: ids, tags and values.
    pub async fn list(&self) -> Value {
        let response = self.get("/items", &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("JSON list")
    }

    /// `POST /transactions` with an optional JSON body.
    pub async fn begin_with(&self, body: Option<&str>) -> Response {
        let headers: &[(&str, &str)] = match body {
            Some(_) => &[("content-type", "application/json")],
            None => &[],
        };
        self.send(Method::POST, "/transactions", headers, body)
            .await
    }

    /// Begins a transaction, which must be granted; returns its id.
    pub async fn begin(&self) -> String {
        let response = self.begin_with(None).await;
        assert_eq!(response.status(), StatusCode::CREATED, "begin");
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().expect("an id").to_owned()
    }

    /// `POST /transactions/{id}/commit`.
    pub async fn commit(&self, tx: &str) -> Response {
        self.send(
            Method::POST,
            &format!("/transactions/{tx}/commit"),
            &[],
            None,
        )
        .await
    }
}

/// `("transaction-id", tx)`, ready for a request's headers.
pub fn tx_header(tx: &str) -> (&'static str, &str) {
    ("transaction-id", tx)
}

pub async fn body_of(response: Response) -> Value {
    response.json().await.expect("a JSON body")
}

/// The answer inside a transaction echoes its id and must not be cached.
pub fn assert_inside(response: &Response, tx: &str) {
    assert_eq!(
        response.headers()["transaction-id"],
        tx,
        "{}",
        response.url()
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
}
