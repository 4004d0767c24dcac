//! Helpers for the conflict tests: cause conflicts, read records.

use reqwest::Response;
use serde_json::Value;

use super::{etag_of, TestServer};

/// Seeds `path`, then writes it once more so that the first tag is stale; returns
/// `(stale, current)`.
pub async fn stale_and_current(server: &TestServer, path: &str) -> (String, String) {
    let stale = server.seed(path, r#"{"v":1}"#).await;
    let current = server.seed(path, r#"{"v":2}"#).await;
    (stale, current)
}

/// A stale `PUT` of `body` to `path` as `auth` (a bearer token, or none); returns the 412's
/// problem body, which names the conflict.
pub async fn stale_put(
    server: &TestServer,
    path: &str,
    stale: &str,
    token: Option<&str>,
    body: &str,
) -> Value {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("if-match", stale)];
    if let Some(bearer) = &bearer {
        headers.push(("authorization", bearer.as_str()));
    }
    let response = server.put(path, &headers, body).await;
    assert_eq!(response.status(), 412, "stale put to {path}");
    response.json().await.expect("problem JSON")
}

/// `GET` of a JSON answer that must be 200.
pub async fn get_json(server: &TestServer, path: &str) -> Value {
    let response = server.get(path, &[]).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.expect("JSON")
}

/// The record a refusal's problem body names.
pub async fn record_of(server: &TestServer, problem: &Value) -> Value {
    let url = problem["conflict_url"].as_str().expect("conflict_url");
    assert_eq!(
        url,
        format!("/conflicts/{}", problem["conflict_id"].as_str().unwrap())
    );
    get_json(server, url).await
}

/// `POST /conflicts/{id}/resolve` with `body`, as `token` (or anonymously).
pub async fn resolve(server: &TestServer, id: &str, token: Option<&str>, body: &str) -> Response {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(bearer) = &bearer {
        headers.push(("authorization", bearer.as_str()));
    }
    server
        .send(
            reqwest::Method::POST,
            &format!("/conflicts/{id}/resolve"),
            &headers,
            Some(body),
        )
        .await
}

/// The tag a write answered with.
pub fn tag(response: &Response) -> String {
    etag_of(response.headers())
}
