//! The default transport over reqwest (hyper natively, the browser's `fetch` on wasm32).

use http::Method;

use crate::{error::BoxError, BoxFuture};

use super::{HttpRequest, HttpResponse, RedirectNotFollowed, Transport};

/// [`Transport`] backed by a [`reqwest::Client`]; pass your own to set proxies or TLS.
///
/// The default client follows no redirects: the ifmatch client follows them itself for reads
/// and reports them for writes ([`crate::Error::Redirected`]). A client you pass should be built
/// with `.redirect(reqwest::redirect::Policy::none())` too; if it follows a redirect of a write
/// anyway (a 302 turns a POST into a GET), the write is reported as redirected, not as done.
///
/// ```
/// let http = reqwest::Client::builder()
///     .redirect(reqwest::redirect::Policy::none())
///     .build()?;
/// let client = ifmatch::Client::builder()
///     .transport(ifmatch::ReqwestTransport::new(http))
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl Default for ReqwestTransport {
    fn default() -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            // Only TLS back-end initialisation can fail here; the plain client has none to fail.
            .unwrap_or_default();
        Self { client }
    }
}

impl ReqwestTransport {
    /// Wraps a configured reqwest client.
    pub fn new(client: reqwest::Client) -> Self {
        Self { client }
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, BoxError>> {
        Box::pin(async move {
            let write = !matches!(request.method, Method::GET | Method::HEAD | Method::OPTIONS);
            let target = request.url.clone();
            let mut builder = self
                .client
                .request(request.method, request.url)
                .headers(request.headers);
            if let Some(body) = request.body {
                builder = builder.body(body);
            }
            let response = builder.send().await?;
            if write && url::Url::parse(&target).ok().as_ref() != Some(response.url()) {
                // A client configured to follow redirects already re-sent this write elsewhere
                // (perhaps as a GET without its body): never report that as the write's answer.
                return Err(Box::new(RedirectNotFollowed {
                    status: None,
                    location: Some(response.url().to_string()),
                }) as BoxError);
            }
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?.to_vec();
            Ok(HttpResponse::new(status, headers, body))
        })
    }
}
