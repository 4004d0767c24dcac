//! The probe: sends exact raw requests, honours `Retry-After`, and records every
//! exchange (with secrets redacted) so a verdict can show what happened.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::etag::{self, EntityTag};

mod stream;

pub use stream::{EventStream, Next};

/// Header names whose values are never written to a report unless `--show-secrets`.
const ALWAYS_SECRET: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];
/// Stand-in written instead of a secret header value.
pub const REDACTED: &str = "<redacted>";
/// How many times one request is repeated after a 429 before the 429 is returned.
const MAX_429_RETRIES: u32 = 3;
/// Longest response body kept in a report excerpt, in bytes.
pub const EXCERPT_LIMIT: usize = 600;

/// Writes headers as `[{"name": ..., "value": ...}]`, which JSON consumers
/// read more easily than pairs.
pub fn serialize_headers<S: serde::Serializer>(
    headers: &[(String, String)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Header<'a> {
        name: &'a str,
        value: &'a str,
    }
    serializer.collect_seq(headers.iter().map(|(name, value)| Header { name, value }))
}

/// A request as it was sent (secret values already redacted).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Method, e.g. `PUT`.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header name/value pairs in sending order.
    #[serde(serialize_with = "serialize_headers")]
    pub headers: Vec<(String, String)>,
    /// Body text, if any.
    pub body: Option<String>,
}

/// A response as it was received (secret values redacted).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RecordedResponse {
    /// HTTP status code.
    pub status: u16,
    /// Header name/value pairs (lower-case names).
    #[serde(serialize_with = "serialize_headers")]
    pub headers: Vec<(String, String)>,
    /// The whole body as text (lossy UTF-8).
    pub body: String,
}

/// One request with its response.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Exchange {
    /// What was sent.
    pub request: RecordedRequest,
    /// What came back.
    pub response: RecordedResponse,
}

impl Exchange {
    /// The response status.
    pub fn status(&self) -> u16 {
        self.response.status
    }

    /// The first response header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The raw `ETag` response header.
    pub fn etag_raw(&self) -> Option<&str> {
        self.header("etag")
    }

    /// The parsed `ETag` response header, `None` if absent or malformed.
    pub fn etag(&self) -> Option<EntityTag> {
        self.etag_raw().and_then(etag::parse)
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.response.body).ok()
    }

    /// The media type of the response without parameters, lower-cased.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }
}

/// A request to send.
#[derive(Debug, Clone)]
pub struct Req {
    method: reqwest::Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    retry_on_429: bool,
}

impl Req {
    fn new(method: reqwest::Method, url: &str) -> Self {
        Req {
            method,
            url: url.to_owned(),
            headers: Vec::new(),
            body: None,
            retry_on_429: true,
        }
    }
    /// `GET url`.
    pub fn get(url: &str) -> Self {
        Self::new(reqwest::Method::GET, url)
    }
    /// `HEAD url`.
    pub fn head(url: &str) -> Self {
        Self::new(reqwest::Method::HEAD, url)
    }
    /// `POST url`.
    pub fn post(url: &str) -> Self {
        Self::new(reqwest::Method::POST, url)
    }
    /// `PUT url`.
    pub fn put(url: &str) -> Self {
        Self::new(reqwest::Method::PUT, url)
    }
    /// `PATCH url`.
    pub fn patch(url: &str) -> Self {
        Self::new(reqwest::Method::PATCH, url)
    }
    /// `DELETE url`.
    pub fn delete(url: &str) -> Self {
        Self::new(reqwest::Method::DELETE, url)
    }
    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
    /// Sets a JSON body with `Content-Type: application/json`.
    pub fn json(self, value: &serde_json::Value) -> Self {
        self.raw_body("application/json", value.to_string())
    }
    /// Sets a JSON Merge Patch body (RFC 7396).
    pub fn merge_patch(self, value: &serde_json::Value) -> Self {
        self.raw_body("application/merge-patch+json", value.to_string())
    }
    /// Sets a body verbatim with the given content type.
    pub fn raw_body(mut self, content_type: &str, body: String) -> Self {
        self.headers
            .push(("Content-Type".to_owned(), content_type.to_owned()));
        self.body = Some(body);
        self
    }
    /// Returns a 429 to the caller instead of waiting and repeating the request.
    pub fn keep_429(mut self) -> Self {
        self.retry_on_429 = false;
        self
    }
}

/// Why a request produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    /// `METHOD url` of the failed request.
    pub request: String,
    /// What the HTTP client reported.
    pub reason: String,
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} got no response: {}", self.request, self.reason)
    }
}

/// The `Accept` every request carries unless the configuration (`header =
/// ["Accept: …"]`, `--header`) or the request names its own: servers of the
/// CouchDB family answer JSON errors as `text/plain` to a request without it.
pub const DEFAULT_ACCEPT: &str = "application/json, application/problem+json";

/// Sends requests and records them. Cheap to clone; clones share the log.
#[derive(Debug, Clone)]
pub struct Probe {
    client: reqwest::Client,
    extra_headers: Vec<(String, String)>,
    secret_names: Vec<String>,
    show_secrets: bool,
    max_retry_wait: Duration,
    log: Arc<Mutex<Vec<Exchange>>>,
    waits: Arc<Mutex<Vec<Duration>>>,
}

impl Probe {
    /// A probe that adds `extra_headers` to every request and treats them as secrets.
    pub fn new(
        extra_headers: Vec<(String, String)>,
        show_secrets: bool,
        max_retry_wait: Duration,
    ) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let mut secret_names: Vec<String> = ALWAYS_SECRET.iter().map(|s| s.to_string()).collect();
        secret_names.extend(extra_headers.iter().map(|(n, _)| n.to_ascii_lowercase()));
        Ok(Probe {
            client,
            extra_headers,
            secret_names,
            show_secrets,
            max_retry_wait,
            log: Arc::default(),
            waits: Arc::default(),
        })
    }

    /// Sends `req`; on 429 waits for `Retry-After` (capped) and repeats it a bounded
    /// number of times, unless the request asked to see the 429.
    pub async fn send(&self, req: Req) -> Result<Exchange, TransportError> {
        let mut attempt = 0;
        loop {
            let exchange = self.send_once(&req).await?;
            if exchange.status() != 429 || !req.retry_on_429 || attempt >= MAX_429_RETRIES {
                return Ok(exchange);
            }
            attempt += 1;
            let wait = exchange
                .header("retry-after")
                .and_then(crate::rate_limit::parse_retry_after)
                .unwrap_or(Duration::from_secs(1))
                .min(self.max_retry_wait);
            self.waits.lock().expect("wait log poisoned").push(wait);
            tokio::time::sleep(wait).await;
        }
    }

    /// The headers `req` goes out with: the configured ones, the request's own,
    /// then [`DEFAULT_ACCEPT`] unless either names an `Accept` already.
    pub(crate) fn headers_for(&self, req: &Req) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .extra_headers
            .iter()
            .chain(&req.headers)
            .cloned()
            .collect();
        if !out.iter().any(|(n, _)| n.eq_ignore_ascii_case("accept")) {
            out.push(("Accept".into(), DEFAULT_ACCEPT.into()));
        }
        out
    }

    async fn send_once(&self, req: &Req) -> Result<Exchange, TransportError> {
        let mut builder = self.client.request(req.method.clone(), &req.url);
        for (name, value) in &self.headers_for(req) {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        let failed = |e: reqwest::Error| TransportError {
            request: format!("{} {}", req.method, req.url),
            reason: describe(&e),
        };
        let response = builder.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (n.as_str().to_owned(), self.redact(n.as_str(), value))
            })
            .collect();
        let body = response.bytes().await.map_err(failed)?;
        let request = RecordedRequest {
            method: req.method.to_string(),
            url: req.url.clone(),
            headers: self
                .headers_for(req)
                .into_iter()
                .map(|(n, v)| {
                    let v = self.redact(&n, v);
                    (n, v)
                })
                .collect(),
            body: req.body.clone(),
        };
        let exchange = Exchange {
            request,
            response: RecordedResponse {
                status,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            },
        };
        self.log
            .lock()
            .expect("exchange log poisoned")
            .push(exchange.clone());
        Ok(exchange)
    }

    fn redact(&self, name: &str, value: String) -> String {
        let secret = self
            .secret_names
            .iter()
            .any(|s| s.eq_ignore_ascii_case(name));
        if secret && !self.show_secrets {
            REDACTED.to_owned()
        } else {
            value
        }
    }

    /// Removes and returns the exchanges recorded since the last call.
    pub fn take_log(&self) -> Vec<Exchange> {
        std::mem::take(&mut *self.log.lock().expect("exchange log poisoned"))
    }

    /// Every `Retry-After` wait the probe honoured, in order.
    pub fn waits(&self) -> Vec<Duration> {
        self.waits.lock().expect("wait log poisoned").clone()
    }
}

/// reqwest's top-level message hides the cause ("error sending request"); the
/// chain names it ("connection refused").
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Splits a `--header 'Name: value'` argument.
pub fn parse_header_arg(arg: &str) -> Result<(String, String), String> {
    let (name, value) = arg
        .split_once(':')
        .ok_or_else(|| format!("--header {arg:?} has no colon; write it as 'Name: value'"))?;
    let name = name.trim();
    let value = value.trim();
    reqwest::header::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("--header {arg:?}: {name:?} is not a valid header name"))?;
    reqwest::header::HeaderValue::from_str(value)
        .map_err(|_| format!("--header {arg:?}: the value contains characters HTTP forbids"))?;
    Ok((name.to_owned(), value.to_owned()))
}

#[cfg(test)]
mod tests;
