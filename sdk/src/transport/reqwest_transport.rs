//! The default transport over reqwest (hyper natively, the browser's `fetch` on wasm32).

use bytes::Bytes;

use crate::rt::{BoxError, BoxFuture};

use super::{is_read, RedirectNotFollowed, Transport};

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
///     .transport(ifmatch::transport::ReqwestTransport::new(http))
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl Default for ReqwestTransport {
    fn default() -> Self {
        // On wasm32 reqwest's `fetch` follows redirects and has no policy to set; a followed
        // redirect of a write is still caught when the response comes from another URL.
        #[cfg(target_arch = "wasm32")]
        let client = reqwest::Client::new();
        #[cfg(not(target_arch = "wasm32"))]
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
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, BoxError>> {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)?;
            let sent = Sent::of(&request);
            read(sent, self.client.execute(request).await?).await
        })
    }

    // Natively: chunks as hyper delivers them. (reqwest's wasm client has no `chunk()`, and its
    // `bytes_stream` needs the `stream` feature and wasm-streams: the default `fetch`
    // transport streams there instead.)
    #[cfg(not(target_arch = "wasm32"))]
    fn send_streaming(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<super::BodyStream>, BoxError>> {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)?;
            Ok(streamed(self.client.execute(request).await?))
        })
    }
}

/// A reqwest response with its body as a stream of chunks (reqwest's `chunk()`, so neither the
/// `stream` feature nor futures-util is needed); dropping the stream closes the connection.
#[cfg(not(target_arch = "wasm32"))]
pub(super) fn streamed(response: reqwest::Response) -> http::Response<super::BodyStream> {
    let status = response.status();
    let headers = response.headers().clone();
    let body = crate::rt::unfold(Some(response), |response| async move {
        let mut response = response?;
        match response.chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), Some(response))),
            Ok(None) => None,
            Err(e) => Some((Err(Box::new(e) as BoxError), None)),
        }
    });
    let mut out = http::Response::new(body);
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    out
}

/// What a redirect check needs of the request that was sent.
pub(super) struct Sent {
    url: url::Url,
    write: bool,
}

impl Sent {
    pub(super) fn of(request: &reqwest::Request) -> Self {
        Self {
            url: request.url().clone(),
            write: !is_read(request.method()),
        }
    }
}

/// Reads a reqwest response into the standard form; a write whose response comes from another
/// URL was redirected by a client configured to follow, and is never passed off as answered.
pub(super) async fn read(
    sent: Sent,
    response: reqwest::Response,
) -> Result<http::Response<Bytes>, BoxError> {
    if sent.write && response.url() != &sent.url {
        return Err(Box::new(RedirectNotFollowed {
            status: None,
            location: Some(response.url().to_string()),
        }));
    }
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await?;
    let mut out = http::Response::new(body);
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}
