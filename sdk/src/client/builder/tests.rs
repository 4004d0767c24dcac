use super::*;
use crate::rt::{BoxError, BoxFuture};
use crate::transport::Bytes;

#[test]
fn defaults_match_the_documented_table() {
    let b = ClientBuilder::new();
    assert!(b.base_url.is_none());
    assert_eq!(b.cache_capacity, 1024);
    assert_eq!(b.cache_max_bytes, 32 * 1024 * 1024);
    assert_eq!(b.retry, RetryConfig::default());
    assert_eq!(b.missing_etag, MissingEtagPolicy::FetchFirst);
    assert!(b.partition.is_none() && b.transport.is_none() && b.sleeper.is_none());
    assert!(b.observers.is_empty() && b.headers.is_empty());
    assert_eq!(b.attempt_timeout, Some(Duration::from_secs(30)));
    assert!(!b.keys_honoured && !b.trust_write_bodies);
    assert_eq!(b.batch_path, "/batch");
    assert_eq!(b.transactions_path, "/transactions");
    assert_eq!(b.conflicts_path, "/conflicts");
    assert_eq!(b.versions_path, "{item}/versions");
    assert!(b.version_field.is_none() && b.api_version.is_none());
    let weak = b.weak;
    assert_eq!(
        (weak.rereads(), weak.within(), weak.unmodified_since()),
        (3, Duration::from_millis(1750), false)
    );
    assert!(!weak.sends_as_is());
}

#[test]
fn base_url_must_be_absolute_http() {
    for bad in ["/items", "ftp://x/", "not a url"] {
        let err = ClientBuilder::new().base_url(bad).expect_err(bad);
        assert_eq!(err.code(), "invalid_url");
    }
}

#[test]
fn relative_paths_append_to_the_base_path() {
    let client = ClientBuilder::new()
        .base_url("http://h:1/api")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        client.resolve("/items/1", &[]).unwrap(),
        "http://h:1/api/items/1"
    );
    assert_eq!(
        client.resolve("items", &[]).unwrap(),
        "http://h:1/api/items"
    );
    assert_eq!(
        client.resolve("http://other/x", &[]).unwrap(),
        "http://other/x"
    );
    let query = [("q".to_owned(), "a b&c".to_owned())];
    assert_eq!(
        client.resolve("/items", &query).unwrap(),
        "http://h:1/api/items?q=a+b%26c"
    );
}

#[test]
fn relative_path_without_base_is_a_clear_error() {
    let client = ClientBuilder::new().build().unwrap();
    let err = client.resolve("/items", &[]).unwrap_err();
    assert!(err.to_string().contains("base_url"), "{err}");
}

/// Answers every request with one status.
struct Answers(u16);

impl Transport for Answers {
    fn send(
        &self,
        _request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, BoxError>> {
        let mut response = http::Response::new(Bytes::new());
        *response.status_mut() = http::StatusCode::from_u16(self.0).unwrap();
        Box::pin(std::future::ready(Ok(response)))
    }
}

#[tokio::test]
async fn build_with_transport_uses_it_instead_of_one_given_before() {
    let client = ClientBuilder::new()
        .base_url("http://h:1")
        .unwrap()
        .transport(Answers(500))
        .build_with_transport(Answers(404))
        .unwrap();
    let err = client
        .get::<serde_json::Value>("/items/1")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND), "{err}");
    let err = ClientBuilder::new()
        .retry(RetryConfig::new().with_max_attempts(0))
        .build_with_transport(Answers(404))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_config");
}

#[test]
fn an_invalid_retry_config_fails_the_build_with_its_name() {
    let err = ClientBuilder::new()
        .retry(RetryConfig::new().with_max_attempts(0))
        .build()
        .unwrap_err();
    assert_eq!(err.code(), "invalid_config");
    assert!(err.to_string().contains("retry.max_attempts"), "{err}");
}

#[test]
fn debug_shows_settings_but_not_header_values() {
    let builder = ClientBuilder::new()
        .header("authorization", "Bearer secret")
        .unwrap();
    let text = format!("{builder:?}");
    assert!(
        text.contains("authorization") && !text.contains("secret"),
        "{text}"
    );
}

#[test]
fn a_zero_attempt_timeout_is_refused_with_the_fix() {
    let err = ClientBuilder::new()
        .attempt_timeout(Some(Duration::ZERO))
        .build()
        .unwrap_err();
    assert_eq!(err.code(), "invalid_config");
    assert!(err.to_string().contains("None for no limit"), "{err}");
    assert!(ClientBuilder::new().attempt_timeout(None).build().is_ok());
}

#[test]
fn invalid_headers_are_rejected() {
    assert_eq!(
        ClientBuilder::new()
            .header("bad name", "v")
            .err()
            .unwrap()
            .code(),
        "invalid_config"
    );
    assert_eq!(
        ClientBuilder::new()
            .header("x", "line\nbreak")
            .err()
            .unwrap()
            .code(),
        "invalid_config"
    );
}
