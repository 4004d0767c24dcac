//! `reqwest-middleware` as a transport, so tracing, auth and caching middleware keep working.

use bytes::Bytes;
use reqwest_middleware::ClientWithMiddleware;

use crate::rt::{BoxError, BoxFuture};

use super::{
    reqwest_transport::{read, Sent},
    Transport,
};

/// [`Transport`] over a [`reqwest_middleware::ClientWithMiddleware`] (feature
/// `reqwest-middleware`): every request the ifmatch client sends, retries and conditional
/// writes included, passes through your middleware stack.
///
/// Build the inner `reqwest::Client` with `redirect(Policy::none())`, as for
/// [`super::ReqwestTransport`]; and leave retrying to ifmatch (a retry middleware that resends
/// writes on 5xx would undo its safety rules).
///
/// ```
/// let inner = reqwest::Client::builder()
///     .redirect(reqwest::redirect::Policy::none())
///     .build()?;
/// let with_middleware = reqwest_middleware::ClientBuilder::new(inner).build();
/// let client = ifmatch::Client::builder()
///     .transport(ifmatch::transport::MiddlewareTransport::new(with_middleware))
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct MiddlewareTransport {
    client: ClientWithMiddleware,
}

impl MiddlewareTransport {
    /// Wraps a client with its middleware stack.
    pub fn new(client: ClientWithMiddleware) -> Self {
        Self { client }
    }
}

impl Transport for MiddlewareTransport {
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

    #[cfg(not(target_arch = "wasm32"))]
    fn send_streaming(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<super::BodyStream>, BoxError>> {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)?;
            Ok(super::reqwest_transport::streamed(
                self.client.execute(request).await?,
            ))
        })
    }
}
