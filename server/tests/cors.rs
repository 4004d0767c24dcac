//! CORS: preflights and answers for allowed origins, nothing for the others.

mod support;

use ifmatch_server::{Config, Error, RateLimit};
use reqwest::{Method, Response, StatusCode};
use support::{expect_problem, Backend, TestServer};

const APP: &str = "http://app.example:5173";
const BIN: &str = env!("CARGO_BIN_EXE_ifmatch-server");

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn list(response: &Response, name: &str) -> Vec<String> {
    header(response, name)
        .unwrap_or_else(|| panic!("missing {name}"))
        .split(',')
        .map(|item| item.trim().to_ascii_lowercase())
        .collect()
}

fn cors_fields(response: &Response) -> Vec<String> {
    response
        .headers()
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

async fn preflight(server: &TestServer, origin: &str, method: &str) -> Response {
    server
        .send(
            Method::OPTIONS,
            "/items/a",
            &[
                ("origin", origin),
                ("access-control-request-method", method),
                (
                    "access-control-request-headers",
                    "if-match,authorization,content-type",
                ),
            ],
            None,
        )
        .await
}

#[tokio::test]
async fn preflights_from_an_allowed_origin_allow_every_method_and_field_the_sdk_sends() {
    let config = Config::new()
        .with_cors_origin(APP)
        .with_cors_origin("https://other.example");
    let server = TestServer::start(Backend::Memory, config).await;
    let answer = preflight(&server, APP, "PUT").await;
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&answer, "access-control-allow-origin"), Some(APP));
    assert_eq!(header(&answer, "vary"), Some("Origin"));
    assert_eq!(header(&answer, "access-control-max-age"), Some("600"));
    let methods = list(&answer, "access-control-allow-methods");
    for method in ["get", "head", "post", "put", "patch", "delete"] {
        assert!(
            methods.contains(&method.to_owned()),
            "{method}: {methods:?}"
        );
    }
    let fields = list(&answer, "access-control-allow-headers");
    for field in [
        "if-match",
        "if-none-match",
        "idempotency-key",
        "content-type",
        "authorization",
        "api-version",
        "lock-token",
        "transaction-id",
        "last-event-id",
    ] {
        assert!(fields.contains(&field.to_owned()), "{field}: {fields:?}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn answers_to_an_allowed_origin_expose_what_clients_read() {
    let server = TestServer::start(Backend::Memory, Config::new().with_cors_origin(APP)).await;
    let created = server
        .send(
            Method::POST,
            "/items",
            &[("origin", APP), ("content-type", "application/json")],
            Some("{}"),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(header(&created, "access-control-allow-origin"), Some(APP));
    assert!(header(&created, "access-control-allow-credentials").is_none());
    let exposed = list(&created, "access-control-expose-headers");
    for field in [
        "etag",
        "location",
        "retry-after",
        "ratelimit",
        "ratelimit-policy",
        "version",
        "deprecation",
        "sunset",
        "content-location",
        "link",
        "lock-token",
        "transaction-id",
    ] {
        assert!(exposed.contains(&field.to_owned()), "{field}: {exposed:?}");
    }
    let vary: Vec<_> = created.headers().get_all("vary").iter().collect();
    assert!(vary.iter().any(|v| *v == "Origin"), "{vary:?}");
    assert!(vary.iter().any(|v| *v == "Api-Version"), "{vary:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn refusals_carry_cors_fields_so_pages_can_read_them() {
    let config = Config::new()
        .with_cors_origin("*")
        .with_client_token("alice", "alice-token")
        .with_require_auth(true)
        .with_rate_limit(Some(RateLimit {
            per_second: 1,
            burst: 1,
        }));
    let server = TestServer::start(Backend::Memory, config).await;
    let refused = server.get("/items", &[("origin", APP)]).await;
    assert_eq!(header(&refused, "access-control-allow-origin"), Some("*"));
    assert!(
        header(&refused, "vary").is_none(),
        "`*` does not vary by origin"
    );
    expect_problem(refused, 401, "unauthorized").await;
    let limited = server.get("/items", &[("origin", APP)]).await;
    assert_eq!(header(&limited, "access-control-allow-origin"), Some("*"));
    assert!(list(&limited, "access-control-expose-headers").contains(&"retry-after".to_owned()));
    expect_problem(limited, 429, "rate-limited").await;
    // Preflights are answered before the rate limit and authentication.
    assert_eq!(
        preflight(&server, APP, "GET").await.status(),
        StatusCode::NO_CONTENT
    );
    server.shutdown().await;
}

#[tokio::test]
async fn other_origins_and_servers_without_cors_get_no_cors_fields() {
    let server = TestServer::start(Backend::Memory, Config::new().with_cors_origin(APP)).await;
    for origin in ["http://evil.example", "http://app.example", "null"] {
        let answer = preflight(&server, origin, "PUT").await;
        assert!(cors_fields(&answer).is_empty(), "{origin}");
        expect_problem(answer, 405, "method-not-allowed").await;
        let answer = server.get("/items", &[("origin", origin)]).await;
        assert_eq!(answer.status(), StatusCode::OK);
        assert!(cors_fields(&answer).is_empty(), "{origin}");
        let vary: Vec<_> = answer.headers().get_all("vary").iter().collect();
        assert!(vary.iter().any(|v| *v == "Origin"), "{vary:?}");
    }
    server.shutdown().await;
    let server = TestServer::start_default(Backend::Memory).await;
    let answer = preflight(&server, APP, "PUT").await;
    assert!(cors_fields(&answer).is_empty());
    assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
    let answer = server.get("/items", &[("origin", APP)]).await;
    assert!(cors_fields(&answer).is_empty());
    server.shutdown().await;
}

#[test]
fn malformed_origins_are_configuration_errors() {
    let err =
        ifmatch_server::router(&Config::new().with_cors_origin("http://app.example/")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidValue {
                what: "CORS origin",
                ..
            }
        ),
        "{err}"
    );
    let output = std::process::Command::new(BIN)
        .args(["--cors-origin", "app.example"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("--cors-origin") && stderr.contains("without a path"),
        "{stderr}"
    );
}
