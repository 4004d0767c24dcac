//! Any `tower` service as a transport (feature `tower`): timeouts, load shedding, test doubles.

use std::future::poll_fn;

use bytes::Bytes;
use tower_service::Service;

use crate::rt::{BoxError, BoxFuture, MaybeSend, MaybeSync};

use super::Transport;

/// [`Transport`] over a [`tower_service::Service`] taking `http::Request<Bytes>` and answering
/// `http::Response<Bytes>` (feature `tower`). Each request clones the service and waits until
/// it is ready, the usual way to share a `Clone` service (wrap a non-`Clone` one in
/// `tower::buffer::Buffer`).
///
/// ```
/// use ifmatch::transport::{Bytes, TowerTransport};
///
/// /// A service that answers every request with an empty 200, e.g. for a test.
/// #[derive(Clone)]
/// struct Ok200;
///
/// impl tower_service::Service<http::Request<Bytes>> for Ok200 {
///     type Response = http::Response<Bytes>;
///     type Error = std::convert::Infallible;
///     type Future = std::future::Ready<Result<Self::Response, Self::Error>>;
///
///     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
///         std::task::Poll::Ready(Ok(()))
///     }
///
///     fn call(&mut self, _: http::Request<Bytes>) -> Self::Future {
///         std::future::ready(Ok(http::Response::new(Bytes::new())))
///     }
/// }
///
/// let client = ifmatch::Client::builder().transport(TowerTransport::new(Ok200)).build()?;
/// # Ok::<(), ifmatch::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TowerTransport<S> {
    service: S,
}

impl<S> TowerTransport<S> {
    /// Wraps a service.
    pub fn new(service: S) -> Self {
        Self { service }
    }
}

impl<S> Transport for TowerTransport<S>
where
    S: Service<http::Request<Bytes>, Response = http::Response<Bytes>>
        + Clone
        + MaybeSend
        + MaybeSync
        + 'static,
    S::Error: Into<BoxError>,
    S::Future: MaybeSend,
{
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, BoxError>> {
        let mut service = self.service.clone();
        Box::pin(async move {
            poll_fn(|cx| service.poll_ready(cx))
                .await
                .map_err(Into::into)?;
            service.call(request).await.map_err(Into::into)
        })
    }
}
