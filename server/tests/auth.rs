//! Bearer-token authentication: who may send requests, and clear errors for bad settings.

mod support;

use ifmatch_server::{Config, Error};
use reqwest::StatusCode;
use support::{expect_problem, Backend, TestServer};

const BIN: &str = env!("CARGO_BIN_EXE_ifmatch-server");

fn with_tokens() -> Config {
    Config::new()
        .with_client_token("alice", "alice-token")
        .with_admin_token("root", "root-token")
}

async fn status_as(server: &TestServer, authorization: &[&str]) -> StatusCode {
    let headers: Vec<(&str, &str)> = authorization
        .iter()
        .map(|v| ("authorization", *v))
        .collect();
    server.get("/items", &headers).await.status()
}

#[tokio::test]
async fn without_tokens_every_request_is_anonymous_and_authorization_is_ignored() {
    let server = TestServer::start_default(Backend::Memory).await;
    assert_eq!(status_as(&server, &[]).await, 200);
    assert_eq!(status_as(&server, &["Bearer whatever"]).await, 200);
    assert_eq!(status_as(&server, &["Basic YTpi"]).await, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn known_tokens_are_accepted_and_anonymous_requests_allowed() {
    let server = TestServer::start(Backend::Memory, with_tokens()).await;
    assert_eq!(status_as(&server, &["Bearer alice-token"]).await, 200);
    assert_eq!(status_as(&server, &["bearer root-token"]).await, 200);
    assert_eq!(status_as(&server, &[]).await, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_malformed_or_other_scheme_is_401_with_a_challenge() {
    let server = TestServer::start(Backend::Memory, with_tokens()).await;
    for authorization in [
        vec!["Bearer nobody-token"],
        vec!["Bearer alice-token2"],
        vec!["Bearer alice-toke"],
        vec!["Basic YWxpY2U6eA=="],
        vec!["Bearer"],
        vec!["alice-token"],
        vec!["Bearer alice-token", "Bearer root-token"],
    ] {
        let headers: Vec<(&str, &str)> = authorization
            .iter()
            .map(|v| ("authorization", *v))
            .collect();
        let response = server.get("/items", &headers).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"ifmatch\"",
            "{authorization:?}"
        );
        let body = expect_problem(response, 401, "unauthorized").await;
        assert!(
            body["detail"].as_str().unwrap().contains("Bearer"),
            "{body}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_refused_token_changes_nothing() {
    let server = TestServer::start(Backend::Memory, with_tokens()).await;
    let etag = server.seed("/items/doc", r#"{"v":1}"#).await;
    let response = server
        .put(
            "/items/doc",
            &[("if-match", &etag), ("authorization", "Bearer wrong")],
            r#"{"v":2}"#,
        )
        .await;
    expect_problem(response, 401, "unauthorized").await;
    let (doc, now) = server.read("/items/doc").await;
    assert_eq!((doc, now), (serde_json::json!({"v":1}), etag));
    // Refused requests are not conflicts.
    let list = server
        .get("/conflicts", &[])
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(list["conflicts"], serde_json::json!([]));
    server.shutdown().await;
}

#[tokio::test]
async fn require_auth_refuses_anonymous_requests_but_not_metrics() {
    let server = TestServer::start(Backend::Memory, with_tokens().with_require_auth(true)).await;
    let anonymous = server.get("/items", &[]).await;
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Bearer realm=\"ifmatch\""
    );
    expect_problem(anonymous, 401, "unauthorized").await;
    // Unknown routes too: authentication comes before routing.
    expect_problem(server.get("/nowhere", &[]).await, 401, "unauthorized").await;
    assert_eq!(status_as(&server, &["Bearer alice-token"]).await, 200);
    assert_ne!(server.get("/metrics", &[]).await.status(), 401);
    assert_ne!(
        server
            .get("/metrics", &[("authorization", "Bearer wrong")])
            .await
            .status(),
        401
    );
    server.shutdown().await;
}

fn start_error(config: Config) -> Error {
    ifmatch_server::router(&config).expect_err("the settings are refused")
}

#[test]
fn names_and_tokens_given_twice_or_malformed_are_configuration_errors() {
    let twice = start_error(
        Config::new()
            .with_client_token("a", "t1")
            .with_admin_token("a", "t2"),
    );
    assert!(matches!(twice, Error::Auth { .. }), "{twice}");
    assert!(twice.to_string().contains("`a` is given twice"), "{twice}");
    let shared = start_error(
        Config::new()
            .with_client_token("a", "t1")
            .with_client_token("b", "t1"),
    );
    assert!(shared.to_string().contains("token of `b`"), "{shared}");
    assert!(!shared.to_string().contains("t1"), "{shared}");
    let bad_name = start_error(Config::new().with_client_token("a b", "t"));
    assert!(bad_name.to_string().contains("not valid"), "{bad_name}");
    let bad_token = start_error(Config::new().with_client_token("a", "t t"));
    assert!(
        bad_token.to_string().contains("token of `a`"),
        "{bad_token}"
    );
    let nobody = start_error(Config::new().with_require_auth(true));
    assert!(nobody.to_string().contains("--require-auth"), "{nobody}");
}

#[tokio::test]
async fn a_tokens_file_adds_clients_and_admins() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    std::fs::write(
        &path,
        r#"{"clients": {"carol": "carol-token"}, "admins": {"ops": "ops-token"}}"#,
    )
    .unwrap();
    let server = TestServer::start(Backend::Memory, with_tokens().with_tokens_file(&path)).await;
    assert_eq!(status_as(&server, &["Bearer carol-token"]).await, 200);
    assert_eq!(status_as(&server, &["Bearer ops-token"]).await, 200);
    assert_eq!(status_as(&server, &["Bearer alice-token"]).await, 200);
    server.shutdown().await;
    std::fs::write(&path, r#"{"clients": {"alice": "other"}}"#).unwrap();
    let clash = start_error(with_tokens().with_tokens_file(&path));
    assert!(
        clash.to_string().contains("`alice` is given twice"),
        "{clash}"
    );
    let missing = start_error(Config::new().with_tokens_file(dir.path().join("absent.json")));
    assert!(matches!(missing, Error::TokensFile { .. }), "{missing}");
    std::fs::write(&path, r#"{"clients": ["alice"]}"#).unwrap();
    let shape = start_error(Config::new().with_tokens_file(&path));
    assert!(shape.to_string().contains("\"clients\""), "{shape}");
}

#[test]
fn the_binary_refuses_bad_token_flags_with_status_2_without_echoing_tokens() {
    let output = std::process::Command::new(BIN)
        .args(["--client-token", "alice"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("--client-token") && stderr.contains("NAME=TOKEN"),
        "{stderr}"
    );
    let output = std::process::Command::new(BIN)
        .args(["--admin-token", "bad name=sekrit"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    // clap repeats the flag's value; our own explanation leaves the token out.
    assert!(
        stderr.contains("invalid token pair `bad name=…`"),
        "{stderr}"
    );
    let output = std::process::Command::new(BIN)
        .args([
            "--addr",
            "127.0.0.1:0",
            "--client-token",
            "a=tok-one",
            "--admin-token",
            "a=tok-two",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("given twice"), "{stdout}");
    assert!(!stdout.contains("tok-two"), "{stdout}");
}
