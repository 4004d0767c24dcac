//! Shared harness: a server per test on 127.0.0.1:0, with either storage.
#![allow(dead_code)] // each test file uses a different part of the harness

use ifmatch_server::{spawn, Config, RunningServer, Storage};
use reqwest::header::HeaderMap;
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use tempfile::TempDir;

pub mod atomic;
pub mod conflicts;
pub mod locks;
pub mod sse;
pub mod versions;

/// Which storage a test runs against.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Memory,
    Sqlite,
}

/// A running server, its client, and the temporary directory of its database.
pub struct TestServer {
    server: RunningServer,
    pub client: reqwest::Client,
    pub base: String,
    dir: TempDir,
}

impl TestServer {
    /// Starts a server with `config`, its storage replaced by `backend`.
    pub async fn start(backend: Backend, config: Config) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let storage = match backend {
            Backend::Memory => Storage::Memory,
            Backend::Sqlite => Storage::Sqlite(dir.path().join("items.db")),
        };
        let server = spawn(config.with_storage(storage))
            .await
            .expect("server starts");
        let base = server.base_url();
        Self {
            server,
            client: reqwest::Client::new(),
            base,
            dir,
        }
    }

    /// Starts a server with the default configuration.
    pub async fn start_default(backend: Backend) -> Self {
        Self::start(backend, Config::new()).await
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with optional JSON-ish body (given as text, sent as is).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body.to_owned());
        }
        request.send().await.expect("request reaches the server")
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        self.send(Method::GET, path, headers, None).await
    }

    /// PUT with `Content-Type: application/json` plus `headers`.
    pub async fn put(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Response {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send(Method::PUT, path, &all, Some(body)).await
    }

    /// PATCH with `Content-Type: application/merge-patch+json` plus `headers`.
    pub async fn patch(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Response {
        let mut all = vec![("content-type", "application/merge-patch+json")];
        all.extend_from_slice(headers);
        self.send(Method::PATCH, path, &all, Some(body)).await
    }

    pub async fn delete(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        self.send(Method::DELETE, path, headers, None).await
    }

    /// Creates (or replaces) `path` unconditionally and returns its new tag.
    pub async fn seed(&self, path: &str, body: &str) -> String {
        let response = self.put(path, &[], body).await;
        assert!(
            response.status().is_success(),
            "seeding {path}: {}",
            response.status()
        );
        etag_of(response.headers())
    }

    /// The current body and tag of `path`, which must exist.
    pub async fn read(&self, path: &str) -> (Value, String) {
        let response = self.get(path, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "reading {path}");
        let etag = etag_of(response.headers());
        (response.json().await.expect("JSON body"), etag)
    }
}

pub fn etag_of(headers: &HeaderMap) -> String {
    headers
        .get("etag")
        .expect("an ETag header")
        .to_str()
        .expect("ASCII ETag")
        .to_owned()
}

/// The text of header `name`; panics when it is missing or not ASCII.
pub fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing {name}"))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Asserts a problem+json answer with `status` and `type`, and returns its body.
pub async fn expect_problem(response: Response, status: u16, type_suffix: &str) -> Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let path = response.url().path().to_owned();
    let body: Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(
        body["type"],
        format!("urn:ifmatch:problem:{type_suffix}"),
        "{body}"
    );
    assert!(body["title"].is_string(), "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    assert_eq!(body["instance"], path, "{body}");
    body
}

/// Expands each `async fn name(backend: Backend)` into `name::memory` and `name::sqlite` tests.
#[macro_export]
macro_rules! both_storages {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn memory() {
                    super::$name($crate::support::Backend::Memory).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::Backend::Sqlite).await;
                }
            }
        )*
    };
}
