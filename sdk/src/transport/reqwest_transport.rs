//! The default transport over reqwest (hyper natively, the browser's `fetch` on wasm32).

use crate::{error::BoxError, BoxFuture};

use super::{HttpRequest, HttpResponse, Transport};

/// [`Transport`] backed by a [`reqwest::Client`]; pass your own to set timeouts, proxies or TLS.
///
/// ```
/// let http = reqwest::Client::new();
/// let client = ifmatch::Client::builder()
///     .transport(ifmatch::ReqwestTransport::new(http))
///     .build()?;
/// # Ok::<(), ifmatch::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ReqwestTransport {
    client: reqwest::Client,
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
            let mut builder = self
                .client
                .request(request.method, request.url)
                .headers(request.headers);
            if let Some(body) = request.body {
                builder = builder.body(body);
            }
            let response = builder.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?.to_vec();
            Ok(HttpResponse::new(status, headers, body))
        })
    }
}
