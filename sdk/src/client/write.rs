//! `put`, `patch`, `delete` and `create` as owned builders.

use std::future::IntoFuture;

use http::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    rt::traced,
    rt::{BoxFuture, MaybeSend},
    Error, Precondition, Versioned,
};

use super::{
    options::{request_options, under_lock, within_transaction, Options},
    Client,
};

/// One write (PUT, PATCH, DELETE or POST) with the precondition its caller named; built by
/// [`Client::put`], [`Client::patch`], [`Client::delete`] and [`Client::create`]. Await it, or
/// call [`Write::send`]; the per-request setters (`header`, `query`, `timeout`) come first.
///
/// It owns a clone of the client, so it can be moved into a spawned task.
#[must_use = "a request does nothing until it is awaited"]
pub struct Write<T> {
    client: Client,
    method: Method,
    path: String,
    body: Option<Result<Value, Error>>,
    precondition: Precondition,
    options: Options,
    /// Turns the written value into `T`: serde for documents, nothing at all for `delete`'s `()`
    /// (decoding `()` through serde would link JSON number formatting into the wasm build).
    decode: Decode<T>,
}

type Decode<T> = fn(Versioned<Value>, Option<&Value>, &str) -> Result<Versioned<T>, Error>;

request_options!(Write<T>);
under_lock!(Write<T>);
within_transaction!(Write<T>);

impl<T> std::fmt::Debug for Write<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Write")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("precondition", &self.precondition)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> Write<T> {
    pub(super) fn new(
        client: Client,
        method: Method,
        path: &str,
        body: Option<Result<Value, Error>>,
        precondition: Precondition,
    ) -> Self {
        Self::with_decode(client, method, path, body, precondition, typed::<T>)
    }
}

impl Write<()> {
    pub(super) fn deletion(client: Client, path: &str, precondition: Precondition) -> Self {
        Self::with_decode(
            client,
            Method::DELETE,
            path,
            None,
            precondition,
            |written, _, _| Ok(written.map(drop)),
        )
    }
}

impl<T> Write<T> {
    fn with_decode(
        client: Client,
        method: Method,
        path: &str,
        body: Option<Result<Value, Error>>,
        precondition: Precondition,
        decode: Decode<T>,
    ) -> Self {
        Self {
            client,
            method,
            path: path.to_owned(),
            body,
            precondition,
            options: Options::default(),
            decode,
        }
    }

    /// Sends the write. `attempts` on the result counts the times it was sent.
    ///
    /// # Errors
    /// [`Error::Conflict`] when the resource changed since it was read (or, create-only, exists
    /// already; use [`Client::update`] to recover automatically), [`Error::MissingEtag`] when
    /// the precondition has no strong ETag (nothing is sent), [`Error::OutcomeUnknown`],
    /// [`Error::Status`], [`Error::Redirected`], [`Error::Timeout`], [`Error::Encode`],
    /// throttling and transport errors. A PATCH or POST result that is not `T` is
    /// [`Error::Decode`] (the write succeeded; read the resource).
    pub async fn send(self) -> Result<Versioned<T>, Error> {
        let Self {
            client,
            method,
            path,
            body,
            precondition,
            options,
            decode,
        } = self;
        let url = client.target(&path, &options)?;
        let body = body.transpose()?;
        let span = match method {
            Method::PUT => tracing::debug_span!("ifmatch.put", url = %url),
            Method::PATCH => tracing::debug_span!("ifmatch.patch", url = %url),
            Method::DELETE => tracing::debug_span!("ifmatch.delete", url = %url),
            _ => tracing::debug_span!("ifmatch.create", url = %url),
        };
        let work = async {
            let mut op = client.op(&options);
            client
                .write(&mut op, method.clone(), &url, &precondition, body.as_ref())
                .await
        };
        let written = client
            .bounded(format!("{method} {url}"), &url, false, traced(span, work))
            .await?;
        let sent = body.as_ref().filter(|_| method == Method::PUT);
        decode(written, sent, &url)
    }
}

/// The result as `T`: the representation, or (a PUT's) the document sent when the server's
/// representation carries members `T` cannot hold.
fn typed<T: DeserializeOwned>(
    written: Versioned<Value>,
    sent: Option<&Value>,
    url: &str,
) -> Result<Versioned<T>, Error> {
    let Versioned {
        value,
        etag,
        location,
        attempts,
        from_cache,
        version,
        headers,
        status,
    } = written;
    let value = T::deserialize(&value)
        .or_else(|first| match sent {
            Some(doc) if doc != &value => T::deserialize(doc).map_err(|_| first),
            _ => Err(first),
        })
        .map_err(|source| Error::Decode {
            url: url.to_owned(),
            source,
        })?;
    Ok(Versioned {
        value,
        etag,
        location,
        attempts,
        from_cache,
        version,
        headers,
        status,
    })
}

impl<T: MaybeSend + 'static> IntoFuture for Write<T> {
    type Output = Result<Versioned<T>, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
