//! The HTTP exchange the client depends on, as plain data, so it can be swapped or faked.

// reqwest natively; on wasm32 the default is a small `fetch` transport, and reqwest (the same
// `fetch` underneath, plus its own request model) is opt-in with the `wasm-reqwest` feature.
#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(any(not(target_arch = "wasm32"), feature = "wasm-reqwest"))]
mod reqwest_transport;

use std::sync::Arc;

use http::{HeaderMap, Method, StatusCode};

use crate::{error::BoxError, BoxFuture, MaybeSend, MaybeSync};

#[cfg(any(not(target_arch = "wasm32"), feature = "wasm-reqwest"))]
pub use reqwest_transport::ReqwestTransport;

/// The transport a client uses unless one is given: reqwest natively, `fetch` on wasm32.
pub(crate) fn default_transport() -> Arc<dyn Transport> {
    #[cfg(not(target_arch = "wasm32"))]
    let transport = ReqwestTransport::default();
    #[cfg(target_arch = "wasm32")]
    let transport = fetch::FetchTransport;
    Arc::new(transport)
}

/// One request as plain data.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: String,
    /// Request headers.
    pub headers: HeaderMap,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    /// A request without headers or body.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: HeaderMap::new(),
            body: None,
        }
    }
}

/// One response as plain data, body fully read.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpResponse {
    /// The status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with the given parts.
    pub fn new(status: StatusCode, headers: HeaderMap, body: Vec<u8>) -> Self {
        Self {
            status,
            headers,
            body,
        }
    }
}

/// The error a transport returns when it saw a redirect for a write and did not follow it (a
/// browser's `fetch` with `redirect: "manual"` hides the status and location), or followed one
/// that it should not have. The client reports it as [`crate::Error::Redirected`].
#[derive(Debug)]
pub(crate) struct RedirectNotFollowed {
    pub status: Option<u16>,
    pub location: Option<String>,
}

impl std::fmt::Display for RedirectNotFollowed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a write was redirected")
    }
}

impl std::error::Error for RedirectNotFollowed {}

/// Sends one request and reads the whole response; no retries, and no redirects for writes.
///
/// A transport should return 3xx responses as they are (the client follows them for reads and
/// reports them for writes); the defaults do.
///
/// The default is `ReqwestTransport` (hyper) natively and the JavaScript `fetch` on wasm32.
/// Implement this to use another HTTP stack or to script responses in tests.
pub trait Transport: MaybeSend + MaybeSync + 'static {
    /// Sends `request`. An `Err` means no HTTP response was received.
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, BoxError>>;
}
