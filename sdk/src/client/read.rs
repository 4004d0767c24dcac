//! Reads: `get::<T>()`, `get_shared()` and the conditional GET behind them and `update()`.

use std::{future::IntoFuture, marker::PhantomData, sync::Arc};

use http::{header, HeaderValue, Method};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    cache::CacheEntry,
    rt::traced,
    rt::{BoxFuture, MaybeSend},
    stats::Counters,
    Error, Versioned,
};

use super::{
    exchange::OpState,
    options::{request_options, within_transaction, Options},
    response, Client,
};

/// A GET of one JSON resource, decoded as `T`; built by [`Client::get`]. Await it, or call
/// [`Get::send`]; the per-request setters (`header`, `query`, `timeout`) come first.
///
/// With a cached copy the request carries `If-None-Match`, and a 304 answer is served from
/// the cache ([`Versioned::from_cache`]). A 304 naming another validator than the cached
/// one (e.g. the strong successor of a weak tag) is not trusted: the resource is read again
/// in full. Throttled reads are retried per [`crate::RetryConfig`]; redirects are followed.
#[must_use = "a request does nothing until it is awaited"]
pub struct Get<T> {
    client: Client,
    path: String,
    options: Options,
    decoded: PhantomData<fn() -> T>,
}

request_options!(Get<T>);
within_transaction!(Get<T>);

impl<T> std::fmt::Debug for Get<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Get")
            .field("path", &self.path)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> Get<T> {
    pub(super) fn new(client: Client, path: &str) -> Self {
        Self {
            client,
            path: path.to_owned(),
            options: Options::default(),
            decoded: PhantomData,
        }
    }

    /// Sends the request.
    ///
    /// # Errors
    /// [`Error::Status`] for error statuses (e.g. 404), [`Error::Decode`] if the body is not a
    /// `T`, [`Error::Timeout`], and the throttling and transport errors.
    pub async fn send(self) -> Result<Versioned<T>, Error> {
        // Deserialize from the shared cached value: cloning it first cost as much as the
        // download it saved (sdk/benches, `get_cached`).
        read(self.client, &self.path, &self.options, |body, url| {
            T::deserialize(&*body).map_err(|source| Error::Decode {
                url: url.to_owned(),
                source,
            })
        })
        .await
    }
}

/// The GET of [`Get`] and [`GetShared`]; `decode` turns the (possibly cached) body into the
/// result's value.
async fn read<T>(
    client: Client,
    path: &str,
    options: &Options,
    decode: impl FnOnce(Arc<Value>, &str) -> Result<T, Error>,
) -> Result<Versioned<T>, Error> {
    let url = client.target(path, options)?;
    let span = tracing::debug_span!("ifmatch.get", url = %url);
    let work = async {
        let mut op = client.op(options);
        let fresh = client.fetch(&mut op, &url, true).await?;
        Ok(Versioned {
            value: decode(fresh.body, &url)?,
            etag: fresh.etag,
            location: None,
            attempts: op.requests,
            from_cache: fresh.from_cache,
            version: fresh.version,
            headers: fresh.headers,
            status: fresh.status,
        })
    };
    client
        .bounded(format!("GET {url}"), &url, true, traced(span, work))
        .await
}

/// A GET of one JSON resource whose body is shared, not copied; built by
/// [`Client::get_shared`]. Await it, or call [`GetShared::send`].
///
/// The request is [`Get`]'s (`If-None-Match` with a cached copy, retries, redirects, the same
/// per-request setters); the value is the `Arc` the ETag cache holds, so a read answered 304
/// costs a reference count instead of a deep copy of the document.
#[must_use = "a request does nothing until it is awaited"]
pub struct GetShared {
    client: Client,
    path: String,
    options: Options,
}

request_options!(GetShared);
within_transaction!(GetShared);

impl std::fmt::Debug for GetShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetShared")
            .field("path", &self.path)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl GetShared {
    pub(super) fn new(client: Client, path: &str) -> Self {
        Self {
            client,
            path: path.to_owned(),
            options: Options::default(),
        }
    }

    /// Sends the request.
    ///
    /// # Errors
    /// As [`Get::send`]; a body that is not JSON is [`Error::Decode`] there as here.
    pub async fn send(self) -> Result<Versioned<Arc<Value>>, Error> {
        read(self.client, &self.path, &self.options, |body, _| Ok(body)).await
    }
}

impl IntoFuture for GetShared {
    type Output = Result<Versioned<Arc<Value>>, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl<T: DeserializeOwned + MaybeSend + 'static> IntoFuture for Get<T> {
    type Output = Result<Versioned<T>, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// A representation just read (or revalidated).
pub(crate) struct Fresh {
    pub body: Arc<Value>,
    pub etag: Option<crate::EntityTag>,
    pub from_cache: bool,
    /// The version in the body (with a version field) or the `Version` header.
    pub version: Option<crate::Version>,
    /// The `Last-Modified` header (not kept for answers served from the cache).
    pub last_modified: Option<HeaderValue>,
    /// The response's headers (of the 304, for an answer served from the cache).
    pub headers: http::HeaderMap,
    /// The response's status (304 for an answer served from the cache).
    pub status: http::StatusCode,
}

impl Client {
    /// Reads a JSON resource without copying it: the value is shared with the ETag cache, so a
    /// read answered 304 Not Modified costs a reference count, not a deep copy of the document
    /// (about 0.1x of a full GET of 200 KiB instead of 0.7x; docs/performance.md). See
    /// [`GetShared`]; [`Client::get`] decodes an owned `T` instead.
    ///
    /// ```no_run
    /// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
    /// let read = client.get_shared("/items/1").await?;           // Versioned<Arc<Value>>
    /// let title = read.value["title"].as_str().unwrap_or("untitled");
    /// println!("{title} at {:?}", read.etag);
    /// let again = client.get_shared("/items/1").await?;          // 304: the same Arc
    /// assert!(!again.from_cache || std::sync::Arc::ptr_eq(&read.value, &again.value));
    /// # Ok(()) }
    /// ```
    pub fn get_shared(&self, path: &str) -> GetShared {
        GetShared::new(self.clone(), path)
    }

    /// GETs `url`; `conditional` sends `If-None-Match` with a cached ETag.
    ///
    /// Boxed and never inlined, as `exchange` is, so the body is compiled once.
    #[inline(never)]
    pub(crate) fn fetch<'a>(
        &'a self,
        op: &'a mut OpState,
        url: &'a str,
        conditional: bool,
    ) -> BoxFuture<'a, Result<Fresh, Error>> {
        Box::pin(self.fetch_unboxed(op, url, conditional))
    }

    async fn fetch_unboxed(
        &self,
        op: &mut OpState,
        url: &str,
        conditional: bool,
    ) -> Result<Fresh, Error> {
        let key = self.key(url);
        // Inside a transaction the answers are the transaction's view: never the cache's.
        let cache = op.transaction.is_none();
        let mut cached = self.inner.cache.get(&key).filter(|_| conditional && cache);
        loop {
            let mut request = self.outgoing(op, Method::GET, url);
            if let Some(entry) = &cached {
                if let Ok(value) = HeaderValue::from_str(&entry.etag.to_string()) {
                    request.headers.insert(header::IF_NONE_MATCH, value);
                }
            }
            let mut response = self.exchange(op, request).await?.response;
            let status = response.status.as_u16();
            if let (304, Some(entry)) = (status, cached.take()) {
                // RFC 9111 §4.3.4: a 304 revalidates the stored response its validator selects.
                // Another validator (e.g. the strong successor of a cached weak tag) selects
                // nothing we hold, so read the resource in full instead of guessing.
                match self.etag_of(&response) {
                    Some(tag) if tag != entry.etag => continue,
                    _ => {
                        Counters::bump(&self.inner.counters.not_modified_hits);
                        let version = self.version_of(&response.headers, Some(&entry.body));
                        return Ok(Fresh {
                            body: entry.body,
                            etag: Some(entry.etag),
                            from_cache: true,
                            version,
                            last_modified: None,
                            headers: std::mem::take(&mut response.headers),
                            status: response.status,
                        });
                    }
                }
            }
            if !response.status.is_success() {
                if cache && (status == 404 || status == 410) {
                    self.inner.cache.remove(&key);
                }
                return Err(self.error_for(&Method::GET, url, &response, op.requests, None));
            }
            let etag = self.etag_of(&response);
            let body = Arc::new(response::json_body(url, &response.body)?.unwrap_or(Value::Null));
            match &etag {
                _ if !cache => {}
                Some(tag) => self.inner.cache.put(
                    key,
                    CacheEntry {
                        etag: tag.clone(),
                        body: body.clone(),
                    },
                ),
                // The cached validator no longer describes what the server holds.
                None => self.inner.cache.remove(&key),
            }
            let version = self.version_of(&response.headers, Some(&body));
            return Ok(Fresh {
                body,
                etag,
                from_cache: false,
                version,
                last_modified: response.headers.get(header::LAST_MODIFIED).cloned(),
                headers: response.headers,
                status: response.status,
            });
        }
    }
}
