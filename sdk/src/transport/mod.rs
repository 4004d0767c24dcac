//! The HTTP exchange the client depends on, in the `http` crate's standard types, so any HTTP
//! stack (reqwest, `reqwest-middleware`, a `tower` service, a test double) can carry it.
//!
//! A [`Transport`] sends one `http::Request<Bytes>` and returns the whole response as an
//! `http::Response<Bytes>`. It does not retry, and it returns redirects as they are (the client
//! follows them for reads and reports them for writes). Request bodies are [`Bytes`]: resending
//! a request clones a reference count, never the body.

// reqwest natively; on wasm32 the default is a small `fetch` transport, and reqwest (the same
// `fetch` underneath, plus its own request model) is opt-in with the `wasm-reqwest` feature.
#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(feature = "reqwest-middleware")]
mod middleware;
#[cfg(any(
    not(target_arch = "wasm32"),
    feature = "wasm-reqwest",
    feature = "reqwest-middleware"
))]
mod reqwest_transport;
#[cfg(feature = "tower")]
mod tower;

use std::sync::Arc;

use http::{HeaderMap, Method, StatusCode};

use crate::rt::{BoxError, BoxFuture, MaybeSend, MaybeSync};

pub use bytes::Bytes;
#[cfg(feature = "reqwest-middleware")]
pub use middleware::MiddlewareTransport;
#[cfg(any(
    not(target_arch = "wasm32"),
    feature = "wasm-reqwest",
    feature = "reqwest-middleware"
))]
pub use reqwest_transport::ReqwestTransport;
#[cfg(feature = "tower")]
pub use tower::TowerTransport;

/// Sends one request and reads the whole response; no retries, and no redirects for writes.
///
/// The default is [`ReqwestTransport`] natively and the JavaScript `fetch` on wasm32.
/// Implement it to use another HTTP stack or to script responses in tests:
///
/// ```
/// use ifmatch::rt::{BoxError, BoxFuture};
/// use ifmatch::transport::{Bytes, Transport};
///
/// /// Answers every request with 503, for testing how callers cope.
/// struct AlwaysUnavailable;
///
/// impl Transport for AlwaysUnavailable {
///     fn send(
///         &self,
///         _request: http::Request<Bytes>,
///     ) -> BoxFuture<'_, Result<http::Response<Bytes>, BoxError>> {
///         Box::pin(async {
///             let mut response = http::Response::new(Bytes::new());
///             *response.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
///             Ok(response)
///         })
///     }
/// }
///
/// let client = ifmatch::Client::builder().transport(AlwaysUnavailable).build()?;
/// # Ok::<(), ifmatch::Error>(())
/// ```
pub trait Transport: MaybeSend + MaybeSync + 'static {
    /// Sends `request`. An `Err` means no HTTP response was received.
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, BoxError>>;

    /// Sends `request` and answers as soon as the response's head has arrived, with the body as
    /// a stream of chunks as they come (for `text/event-stream`, which never ends by itself).
    /// Dropping the body stream must close the connection (or abort the `fetch`).
    ///
    /// `ReqwestTransport` (natively), `MiddlewareTransport` (natively) and the built-in
    /// `fetch` transport (wasm32) implement it. The default answers that this transport cannot
    /// stream, which the client reports as an `invalid_config` error naming the transport
    /// setting: whole-body transports (e.g. a `tower` service answering `Response<Bytes>`)
    /// would wait forever for the end of a stream.
    fn send_streaming(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<BodyStream>, BoxError>> {
        drop(request);
        Box::pin(std::future::ready(Err(
            Box::new(StreamingUnsupported) as BoxError
        )))
    }

    /// Whether `error` (one [`Transport::send`] returned) may pass if the request is sent
    /// again: a connection that failed or closed before the answer. Only then does the client
    /// resend a read (or a keyed write to a server that honours keys) whose answer was lost.
    /// The default says yes; say no for failures a resend would only repeat, such as a request
    /// your own code refused before sending it.
    fn is_transient(&self, error: &BoxError) -> bool {
        let _ = error;
        true
    }
}

/// A response body arriving in chunks ([`Transport::send_streaming`]); an `Err` chunk means the
/// connection failed mid-body.
pub type BodyStream = crate::rt::BoxStream<'static, Result<Bytes, BoxError>>;

/// The default [`Transport::send_streaming`]'s error: this transport returns whole bodies only.
#[derive(Debug)]
pub(crate) struct StreamingUnsupported;

impl std::fmt::Display for StreamingUnsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("this transport cannot stream response bodies")
    }
}

impl std::error::Error for StreamingUnsupported {}

/// The transport a client uses unless one is given: reqwest natively, `fetch` on wasm32.
pub(crate) fn default_transport() -> Arc<dyn Transport> {
    #[cfg(not(target_arch = "wasm32"))]
    let transport = ReqwestTransport::default();
    #[cfg(target_arch = "wasm32")]
    let transport = fetch::FetchTransport;
    Arc::new(transport)
}

/// A request as the client builds it; converted to `http::Request<Bytes>` at the boundary.
#[derive(Clone, Debug)]
pub(crate) struct Outgoing {
    pub method: Method,
    /// The absolute URL.
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Outgoing {
    pub(crate) fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// The standard form; cheap (the body is reference-counted). `None` if the URL is not a
    /// valid URI, which cannot happen for URLs the client resolved itself.
    pub(crate) fn to_http(&self) -> Option<http::Request<Bytes>> {
        let mut request = http::Request::new(self.body.clone());
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.url.parse().ok()?;
        *request.headers_mut() = self.headers.clone();
        Some(request)
    }
}

/// A response as the client reads it.
#[derive(Clone, Debug)]
pub(crate) struct Incoming {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl From<http::Response<Bytes>> for Incoming {
    fn from(response: http::Response<Bytes>) -> Self {
        let (parts, body) = response.into_parts();
        Self {
            status: parts.status,
            headers: parts.headers,
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

/// Whether a method only reads (GET, HEAD, OPTIONS).
pub(crate) fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}
