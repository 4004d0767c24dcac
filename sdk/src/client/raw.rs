//! The escape hatch: a request the SDK does not model, through the same cache, preconditions and
//! retries as the others.

use std::future::IntoFuture;

use http::Method;
use serde::Serialize;
use serde_json::Value;

use crate::{rt::traced, rt::BoxFuture, transport::is_read, Error, Precondition, Versioned};

use super::{
    options::{request_options, under_lock, within_transaction, Options},
    Client,
};

/// A request with any method and JSON body; built by [`Client::request`].
///
/// - `GET` goes through the ETag cache like [`Client::get`] (conditional GET, 304 reuse).
/// - `HEAD` is sent as it is (no `If-None-Match`) and neither reads nor changes the cache (a
///   validator without its body could not serve a later read); the result's `value` is `null`,
///   its `etag`, `status` and `headers` those of the answer. An error status is an error, as
///   for `GET`.
/// - Other methods are writes: they carry the [`Precondition`] you set (none by default: set
///   one, e.g. `.precondition(&read)`, unless losing a concurrent change is acceptable), follow
///   the same resend rules and 503 checks as `put`, never follow redirects, and keep the cache
///   truthful afterwards (an unkeyed answer is never cached as the document).
///
/// ```no_run
/// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
/// use ifmatch::http::Method;
///
/// let read = client.get::<serde_json::Value>("/items/1").await?;
/// // An action endpoint, conditional on the version read.
/// client
///     .request(Method::POST, "/items/1/archive")
///     .json(&serde_json::json!({"reason": "done"}))
///     .precondition(&read)
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until it is awaited"]
#[derive(Debug)]
pub struct Raw {
    client: Client,
    method: Method,
    path: String,
    body: Option<Result<Value, Error>>,
    precondition: Precondition,
    options: Options,
}

request_options!(Raw);
under_lock!(Raw);
within_transaction!(Raw);

impl Raw {
    pub(super) fn new(client: Client, method: Method, path: &str) -> Self {
        Self {
            client,
            method,
            path: path.to_owned(),
            body: None,
            precondition: Precondition::unconditional(),
            options: Options::default(),
        }
    }

    /// The JSON body (sent as `application/json`, or `application/merge-patch+json` for PATCH).
    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Self {
        self.body = Some(serde_json::to_value(body).map_err(|source| Error::Encode { source }));
        self
    }

    /// The precondition of a write (ignored for reads, which are conditional on the cache).
    pub fn precondition(mut self, precondition: impl Into<Precondition>) -> Self {
        self.precondition = precondition.into();
        self
    }

    /// Sends the request; the result is the JSON body (`null` when empty) and its version.
    ///
    /// # Errors
    /// As [`Client::get`] for `GET`, as [`Client::put`] for other methods.
    pub async fn send(self) -> Result<Versioned<Value>, Error> {
        let Self {
            client,
            method,
            path,
            body,
            precondition,
            options,
        } = self;
        let url = client.target(&path, &options)?;
        let body = body.transpose()?;
        let read_only = is_read(&method);
        let span = tracing::debug_span!("ifmatch.request", method = %method, url = %url);
        let work = async {
            let mut op = client.op(&options);
            if method == Method::GET {
                let fresh = client.fetch(&mut op, &url, true).await?;
                return Ok(Versioned {
                    value: (*fresh.body).clone(),
                    etag: fresh.etag,
                    location: None,
                    attempts: op.requests,
                    from_cache: fresh.from_cache,
                    version: fresh.version,
                    headers: fresh.headers,
                    status: fresh.status,
                });
            }
            if method == Method::HEAD {
                return client.head(&mut op, &url).await;
            }
            client
                .write(&mut op, method.clone(), &url, &precondition, body.as_ref())
                .await
        };
        client
            .bounded(
                format!("{method} {url}"),
                &url,
                read_only,
                traced(span, work),
            )
            .await
    }
}

impl IntoFuture for Raw {
    type Output = Result<Versioned<Value>, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl Client {
    /// Sends a `HEAD` (see [`Raw`]).
    async fn head(
        &self,
        op: &mut super::exchange::OpState,
        url: &str,
    ) -> Result<Versioned<Value>, Error> {
        let request = self.outgoing(op, Method::HEAD, url);
        let response = self.exchange(op, request).await?.response;
        if !response.status.is_success() {
            return Err(self.error_for(&Method::HEAD, url, &response, op.requests, None));
        }
        let mut out = Versioned::new(Value::Null, self.etag_of(&response));
        out.attempts = op.requests;
        out.version = self.version_of(&response.headers, None);
        out.status = response.status;
        out.headers = response.headers;
        Ok(out)
    }
}
