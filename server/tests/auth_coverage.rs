//! Authentication covers every write route, conflict resolution and lock breaking.

mod support;

use ifmatch_server::Config;
use reqwest::{Method, StatusCode};
use support::{expect_problem, Backend, TestServer};

const JSON: (&str, &str) = ("content-type", "application/json");
const ALICE: (&str, &str) = ("authorization", "Bearer alice-token");

fn tokens() -> Config {
    Config::new()
        .with_client_token("alice", "alice-token")
        .with_admin_token("root", "root-token")
}

/// Every route that changes something, with a body where it takes one.
const WRITES: &[(&str, &str, Option<&str>)] = &[
    ("POST", "/items", Some("{}")),
    ("PUT", "/items/a", Some("{}")),
    ("PATCH", "/items/a", Some("{}")),
    ("DELETE", "/items/a", None),
    ("PUT", "/v2/items/a", Some(r#"{"data": {}}"#)),
    ("POST", "/items/a/lock", None),
    ("PUT", "/items/a/lock", None),
    ("DELETE", "/items/a/lock", None),
    ("DELETE", "/items/a/lock?break=true", None),
    (
        "POST",
        "/batch",
        Some(r#"{"operations": [{"op": "create", "body": {}}]}"#),
    ),
    ("POST", "/transactions", None),
    ("DELETE", "/transactions/tx-1", None),
    ("POST", "/transactions/tx-1/commit", None),
    (
        "POST",
        "/conflicts/c-1/resolve",
        Some(r#"{"resolution": "theirs"}"#),
    ),
];

async fn send(
    server: &TestServer,
    (method, path, body): (&str, &str, Option<&str>),
    auth: Option<(&str, &str)>,
) -> reqwest::Response {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let content_type = if method == Method::PATCH {
        ("content-type", "application/merge-patch+json")
    } else {
        JSON
    };
    let mut headers = vec![content_type];
    headers.extend(auth);
    server.send(method, path, &headers, body).await
}

#[tokio::test]
async fn with_require_auth_every_write_needs_a_token_and_an_anonymous_one_changes_nothing() {
    let server = TestServer::start(Backend::Memory, tokens().with_require_auth(true)).await;
    server
        .send(Method::PUT, "/items/a", &[JSON, ALICE], Some(r#"{"v": 1}"#))
        .await;
    for &route in WRITES {
        let response = send(&server, route, None).await;
        assert_eq!(
            response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap()),
            Some("Bearer realm=\"ifmatch\""),
            "{route:?}"
        );
        expect_problem(response, 401, "unauthorized").await;
    }
    let list = server.get("/items", &[ALICE]).await;
    let body: serde_json::Value = list.json().await.unwrap();
    assert_eq!(
        body["items"].as_array().unwrap().len(),
        1,
        "nothing created"
    );
    let a = server.get("/items/a", &[ALICE]).await;
    assert_eq!(
        a.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"v": 1})
    );
    // With a token, none of them is refused for authentication.
    for &route in WRITES {
        let response = send(&server, route, Some(ALICE)).await;
        assert_ne!(response.status(), StatusCode::UNAUTHORIZED, "{route:?}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn with_tokens_breaking_a_lock_needs_a_token_even_where_anonymous_writes_are_allowed() {
    let server = TestServer::start(Backend::Memory, tokens()).await;
    let created = server.put("/items/a", &[JSON], "{}").await;
    assert_eq!(
        created.status(),
        StatusCode::CREATED,
        "anonymous writes are allowed"
    );
    let lock = server
        .send(Method::POST, "/items/a/lock", &[ALICE], None)
        .await;
    assert_eq!(lock.status(), StatusCode::CREATED);
    let anonymous = server.delete("/items/a/lock?break=true", &[]).await;
    let problem = expect_problem(anonymous, 401, "unauthorized").await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("breaking a lock"));
    let held = server.get("/items/a/lock", &[]).await;
    assert_eq!(held.status(), StatusCode::OK, "the lock is still held");
    let broken = server.delete("/items/a/lock?break=true", &[ALICE]).await;
    assert_eq!(broken.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        server.get("/items/a/lock", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    server.shutdown().await;
}

#[tokio::test]
async fn without_tokens_anyone_may_break_a_lock() {
    let server = TestServer::start_default(Backend::Memory).await;
    server.put("/items/a", &[JSON], "{}").await;
    let lock = server.send(Method::POST, "/items/a/lock", &[], None).await;
    assert_eq!(lock.status(), StatusCode::CREATED);
    let broken = server.delete("/items/a/lock?break=true", &[]).await;
    assert_eq!(broken.status(), StatusCode::NO_CONTENT);
    server.shutdown().await;
}
