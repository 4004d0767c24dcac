//! `client.version::<T>(path, n)`: one past version of a document, as it was.

use std::{future::IntoFuture, marker::PhantomData, sync::Arc};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    rt::{traced, BoxFuture, MaybeSend},
    versions::version_not_found,
    Error, Version, Versioned,
};

use super::{
    super::{
        exchange::OpState,
        options::{request_options, Options},
        Client,
    },
    version_url,
};

/// A GET of version `n` of a document (`GET {item}/versions/{n}`), decoded as `T`; built by
/// [`Client::version`]. The result's `version` is `n` and its `etag` that version's tag. A past
/// version never changes, so it goes through the ETag cache like [`Client::get`] (a second read
/// is a 304).
///
/// ```no_run
/// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
/// match client.version::<serde_json::Value>("/items/doc", 41).await {
///     Ok(old) => println!("v{:?} was {}", old.version, old.value),
///     Err(e) if e.code() == "version_not_found" => {
///         println!("not kept; the oldest kept is {:?}", e.oldest_version())
///     }
///     Err(e) => return Err(e),
/// }
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until it is awaited"]
pub struct GetVersion<T> {
    client: Client,
    path: String,
    version: u64,
    options: Options,
    decoded: PhantomData<fn() -> T>,
}

request_options!(GetVersion<T>);

impl<T> std::fmt::Debug for GetVersion<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetVersion")
            .field("path", &self.path)
            .field("version", &self.version)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> GetVersion<T> {
    pub(super) fn new(client: Client, path: &str, version: u64) -> Self {
        Self {
            client,
            path: path.to_owned(),
            version,
            options: Options::default(),
            decoded: PhantomData,
        }
    }

    /// Sends the request.
    ///
    /// # Errors
    /// [`Error::VersionNotFound`] for a version the server does not keep (with
    /// [`Error::oldest_version`]), [`Error::Status`] (404 for an unknown document),
    /// [`Error::Decode`] if the body is not a `T`, and the throttling, timeout and transport
    /// errors.
    pub async fn send(self) -> Result<Versioned<T>, Error> {
        let Self {
            client,
            path,
            version,
            options,
            ..
        } = self;
        let (_, history) = client.history_of(&path, &options)?;
        let url = version_url(&history, version);
        let span = tracing::debug_span!("ifmatch.version", url = %url);
        let work = async {
            let mut op = client.op(&options);
            let read = client.read_version(&mut op, &url, version).await?;
            let value = T::deserialize(&*read.value).map_err(|source| Error::Decode {
                url: url.clone(),
                source,
            })?;
            let mut out = Versioned::new(value, read.etag);
            out.attempts = op.requests;
            out.from_cache = read.from_cache;
            out.version = Some(Version::number(version));
            Ok(out)
        };
        client
            .bounded(format!("GET {url}"), &url, true, traced(span, work))
            .await
    }
}

impl<T: DeserializeOwned + MaybeSend + 'static> IntoFuture for GetVersion<T> {
    type Output = Result<Versioned<T>, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl Client {
    /// Version `n` at `url` (through the cache: it never changes), its 404 made
    /// [`Error::VersionNotFound`] when the server says so.
    pub(super) async fn read_version(
        &self,
        op: &mut OpState,
        url: &str,
        n: u64,
    ) -> Result<Versioned<Arc<Value>>, Error> {
        let fresh = self
            .fetch(op, url, true)
            .await
            .map_err(|e| version_not_found(e, n))?;
        let mut out = Versioned::new(fresh.body, fresh.etag);
        out.from_cache = fresh.from_cache;
        out.version = Some(Version::number(n));
        Ok(out)
    }
}
