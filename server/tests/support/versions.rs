//! History and API-version helpers: `…/versions`, v2 writes, and the retirement headers.

use reqwest::header::HeaderMap;
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

use super::TestServer;

impl TestServer {
    /// `GET {path}/versions`, which must answer 200; returns the body.
    pub async fn history(&self, path: &str) -> Value {
        let response = self.get(&format!("{path}/versions"), &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "history of {path}");
        response.json().await.expect("a JSON history")
    }

    /// The version numbers `GET {path}/versions` lists, newest first.
    pub async fn version_numbers(&self, path: &str) -> Vec<u64> {
        self.history(path).await["versions"]
            .as_array()
            .expect("versions")
            .iter()
            .map(|entry| entry["version"].as_u64().expect("a version number"))
            .collect()
    }

    /// POST with `Content-Type: application/json` plus `headers`.
    pub async fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Response {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send(Method::POST, path, &all, Some(body)).await
    }
}

/// The `Version` header as a number.
pub fn version_of(headers: &HeaderMap) -> u64 {
    headers
        .get("version")
        .expect("a Version header")
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("a number")
}

/// The version number inside a tag `"<epoch>-<n>"` or `"<epoch>-<n>.v2"`.
pub fn number_in(etag: &str) -> u64 {
    let opaque = etag.trim_matches('"');
    let opaque = opaque.strip_suffix(".v2").unwrap_or(opaque);
    opaque
        .rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or_else(|| panic!("no version number in {etag}"))
}
