//! The client: reads, writes and updates with automatic preconditions and recovery.

pub(crate) mod builder;
mod exchange;
mod keys;
mod response;
mod update;
mod write;

use std::sync::Arc;

use http::{header, HeaderMap, HeaderValue, Method};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use tracing::Instrument;
use url::Url;

use crate::{
    cache::{CacheEntry, CacheKey, EtagCache},
    event::Observer,
    retry::{RetryBudget, RetryConfig},
    stats::Counters,
    timeout::within,
    transport::{HttpRequest, Transport},
    Error, Event, MissingEtagPolicy, Precondition, Sleeper, Stats, TimeoutScope, Versioned,
};

pub use builder::ClientBuilder;
pub use update::Update;

use exchange::OpState;
use keys::KeySource;

/// An HTTP client for JSON resources that makes concurrent writes safe.
///
/// Cheap to clone (clones share the cache, budget and counters). See the crate docs for a tour.
///
/// ```no_run
/// # async fn demo() -> Result<(), ifmatch::Error> {
/// let client = ifmatch::Client::builder().base_url("http://127.0.0.1:8080")?.build()?;
/// let item = client.get::<serde_json::Value>("/items/1").await?;
/// println!("{} at {:?}", item.value, item.etag);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    partition: Option<Arc<str>>,
    missing_etag: MissingEtagPolicy,
}

pub(crate) struct Inner {
    base_url: Option<Url>,
    cache: EtagCache,
    retry: RetryConfig,
    observers: Vec<Arc<dyn Observer>>,
    sleeper: Arc<dyn Sleeper>,
    transport: Arc<dyn Transport>,
    budget: RetryBudget,
    counters: Counters,
    keys: KeySource,
    default_headers: HeaderMap,
    attempt_timeout: Option<std::time::Duration>,
    keys_honoured: bool,
    trust_write_bodies: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url.as_ref().map(Url::as_str))
            .field("partition", &self.partition)
            .field("missing_etag", &self.missing_etag)
            .field("retry", &self.inner.retry)
            .field("cached", &self.inner.cache.len())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client; see [`ClientBuilder`] for every option and its default.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A view of this client whose cache entries belong to `partition` (e.g. a user id), so one
    /// identity's cached body never becomes another's merge base. Shares everything else.
    pub fn with_partition(&self, partition: impl Into<String>) -> Self {
        Self {
            partition: Some(Arc::from(partition.into())),
            ..self.clone()
        }
    }

    /// A view of this client with another [`MissingEtagPolicy`] for its updates.
    pub fn with_missing_etag(&self, policy: MissingEtagPolicy) -> Self {
        Self {
            missing_etag: policy,
            ..self.clone()
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    /// The retry settings in force.
    pub fn retry_config(&self) -> &RetryConfig {
        &self.inner.retry
    }

    /// Reads a JSON resource and remembers its ETag.
    ///
    /// With a cached copy the request carries `If-None-Match`, and a 304 answer is served from
    /// the cache ([`Versioned::from_cache`]). A 304 naming another validator than the cached
    /// one (e.g. the strong successor of a weak tag) is not trusted: the resource is read again
    /// in full. Throttled reads are retried per [`RetryConfig`]; redirects are followed.
    ///
    /// # Errors
    /// [`Error::Status`] for error statuses (e.g. 404), [`Error::Decode`] if the body is not a `T`,
    /// [`Error::Timeout`], and the throttling and transport errors.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Versioned<T>, Error> {
        let url = self.resolve(path)?;
        let span = tracing::debug_span!("ifmatch.get", url = %url);
        let work = async {
            let mut op = self.op();
            let fresh = self.fetch(&mut op, &url, true).await?;
            // Deserialize from the shared cached value: cloning it first cost as much as the
            // download it saved (sdk/benches, `get_cached`).
            let value = T::deserialize(&*fresh.body).map_err(|source| Error::Decode {
                url: url.clone(),
                source,
            })?;
            Ok(Versioned {
                value,
                etag: fresh.etag,
                location: None,
                attempts: op.requests,
                from_cache: fresh.from_cache,
            })
        };
        self.bounded(format!("GET {url}"), work.instrument(span))
            .await
    }

    /// Creates a resource with POST. With retries enabled the request carries a generated
    /// `Idempotency-Key` and is resent after a 429 (the server did not process it); after a 503
    /// only when [`ClientBuilder::server_honours_idempotency_keys`] says the key makes that safe.
    ///
    /// The result's `location` is the new resource's URL. Its `etag` is set only when the body
    /// is the new resource's representation (`Content-Location` equal to `Location`, or
    /// [`ClientBuilder::trust_write_bodies`]); that pair is then cached under the location.
    ///
    /// # Errors
    /// [`Error::Status`] for error statuses, [`Error::Redirected`], [`Error::Timeout`],
    /// throttling and transport errors.
    pub async fn create<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Versioned<Value>, Error> {
        let url = self.resolve(path)?;
        let doc = encode(body)?;
        let span = tracing::debug_span!("ifmatch.create", url = %url);
        let work = self.write(Method::POST, &url, Precondition::unconditional(), Some(doc));
        self.bounded(format!("POST {url}"), work.instrument(span))
            .await
    }

    /// Replaces a resource with PUT, conditional on `precondition`: pass the [`Versioned`] your
    /// document was read from (`&read`) to send `If-Match` with its ETag, or choose
    /// [`Precondition::create_only`] or [`Precondition::unconditional`]. The client never takes
    /// the version from its cache: another task may have written since your read.
    ///
    /// ```no_run
    /// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
    /// let read = client.get::<serde_json::Value>("/items/1").await?;
    /// let mut doc = read.value.clone();
    /// doc["title"] = "renamed".into();
    /// // Refused with 412 if anyone wrote /items/1 since `read`.
    /// client.put("/items/1", &doc, &read).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Conflict`] when the resource changed since it was read (use [`Client::update`] to
    /// recover automatically), [`Error::MissingEtag`] when the read had no strong ETag (nothing is
    /// sent), [`Error::OutcomeUnknown`], [`Error::Status`], [`Error::Redirected`],
    /// [`Error::Timeout`], throttling and transport errors.
    pub async fn put<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
        precondition: impl Into<Precondition>,
    ) -> Result<Versioned<Value>, Error> {
        let url = self.resolve(path)?;
        let doc = encode(body)?;
        let span = tracing::debug_span!("ifmatch.put", url = %url);
        let work = self.write(Method::PUT, &url, precondition.into(), Some(doc));
        self.bounded(format!("PUT {url}"), work.instrument(span))
            .await
    }

    /// Applies a JSON Merge Patch (RFC 7396) with PATCH, conditional on `precondition` as for
    /// [`Client::put`].
    ///
    /// The result carries the new ETag only when the answer is the patched resource
    /// (`Content-Location` names it, or [`ClientBuilder::trust_write_bodies`]); otherwise `value`
    /// is the server's answer as sent and `etag` is `None`: read the resource before writing
    /// again.
    ///
    /// # Errors
    /// As [`Client::put`]; a missing resource is [`Error::Status`] 404.
    pub async fn patch<B: Serialize + ?Sized>(
        &self,
        path: &str,
        merge_patch: &B,
        precondition: impl Into<Precondition>,
    ) -> Result<Versioned<Value>, Error> {
        let url = self.resolve(path)?;
        let doc = encode(merge_patch)?;
        let span = tracing::debug_span!("ifmatch.patch", url = %url);
        let work = self.write(Method::PATCH, &url, precondition.into(), Some(doc));
        self.bounded(format!("PATCH {url}"), work.instrument(span))
            .await
    }

    /// Deletes a resource, conditional on `precondition` as for [`Client::put`], and forgets
    /// its cache entry.
    ///
    /// # Errors
    /// As [`Client::put`]; a missing resource is [`Error::Status`] 404.
    pub async fn delete(
        &self,
        path: &str,
        precondition: impl Into<Precondition>,
    ) -> Result<(), Error> {
        let url = self.resolve(path)?;
        let span = tracing::debug_span!("ifmatch.delete", url = %url);
        let work = self.write(Method::DELETE, &url, precondition.into(), None);
        self.bounded(format!("DELETE {url}"), work.instrument(span))
            .await
            .map(drop)
    }

    /// Starts a read-modify-write of a JSON resource that survives concurrent writers; see [`Update`].
    ///
    /// ```no_run
    /// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
    /// let out = client
    ///     .update("/items/1")
    ///     .change(|doc| {
    ///         doc["n"] = (doc["n"].as_i64().unwrap_or(0) + 1).into();
    ///         Ok(())
    ///     })
    ///     .strategy(ifmatch::Strategy::Reapply)
    ///     .send()
    ///     .await?;
    /// println!("written in {} attempt(s)", out.attempts);
    /// # Ok(()) }
    /// ```
    pub fn update(&self, path: &str) -> Update<'_> {
        Update::new(self, path)
    }

    /// Resolves a path against the base URL: `/items/1` with base `http://h/api` is
    /// `http://h/api/items/1`. Absolute `http(s)` URLs are used as they are.
    pub(crate) fn resolve(&self, path: &str) -> Result<String, Error> {
        let invalid = |reason: &str| Error::InvalidUrl {
            input: path.to_owned(),
            reason: reason.to_owned(),
        };
        if let Ok(absolute) = Url::parse(path) {
            return match absolute.scheme() {
                "http" | "https" => Ok(absolute.into()),
                _ => Err(invalid("only http and https URLs are supported")),
            };
        }
        let base = self.inner.base_url.as_ref().ok_or_else(|| {
            invalid("a relative path needs a base URL; set Client::builder().base_url(...)")
        })?;
        base.join(path.trim_start_matches('/'))
            .map(String::from)
            .map_err(|e| invalid(&format!("cannot be joined to the base URL: {e}")))
    }

    fn key(&self, url: &str) -> CacheKey {
        CacheKey {
            partition: self.partition.clone(),
            url: url.to_owned(),
        }
    }

    fn op(&self) -> OpState {
        OpState::new(&self.inner)
    }

    fn emit(&self, event: Event) {
        for observer in &self.inner.observers {
            observer.on_event(&event);
        }
    }

    fn request(&self, method: Method, url: &str) -> HttpRequest {
        let mut request = HttpRequest::new(method, url);
        request.headers = self.inner.default_headers.clone();
        request.headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, application/problem+json"),
        );
        request
    }

    /// Runs one whole operation within `RetryConfig::total_deadline` (real time).
    pub(crate) async fn bounded<T>(
        &self,
        what: String,
        work: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let deadline = self.inner.retry.total_deadline();
        let timer = deadline.map(|d| self.inner.sleeper.timer(d));
        within(timer, work).await.unwrap_or_else(|_| {
            Err(Error::Timeout {
                what,
                after: deadline.unwrap_or_default(),
                scope: TimeoutScope::Operation,
            })
        })
    }

    /// GETs `url`; `conditional` sends `If-None-Match` with a cached ETag.
    pub(crate) async fn fetch(
        &self,
        op: &mut OpState,
        url: &str,
        conditional: bool,
    ) -> Result<Fresh, Error> {
        let key = self.key(url);
        let mut cached = self.inner.cache.get(&key).filter(|_| conditional);
        loop {
            let mut request = self.request(Method::GET, url);
            if let Some(entry) = &cached {
                if let Ok(value) = HeaderValue::from_str(&entry.etag.to_string()) {
                    request.headers.insert(header::IF_NONE_MATCH, value);
                }
            }
            let response = self.exchange(op, request).await?.response;
            let status = response.status.as_u16();
            if let (304, Some(entry)) = (status, cached.take()) {
                // RFC 9111 §4.3.4: a 304 revalidates the stored response its validator selects.
                // Another validator (e.g. the strong successor of a cached weak tag) selects
                // nothing we hold, so read the resource in full instead of guessing.
                match self.etag_of(&response) {
                    Some(tag) if tag != entry.etag => continue,
                    _ => {
                        Counters::bump(&self.inner.counters.not_modified_hits);
                        return Ok(Fresh {
                            body: entry.body,
                            etag: Some(entry.etag),
                            from_cache: true,
                        });
                    }
                }
            }
            if !response.status.is_success() {
                if status == 404 || status == 410 {
                    self.inner.cache.remove(&key);
                }
                return Err(self.error_for(&Method::GET, url, &response, op.requests, None));
            }
            let etag = self.etag_of(&response);
            let body = Arc::new(response::json_body(url, &response.body)?.unwrap_or(Value::Null));
            match &etag {
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
            return Ok(Fresh {
                body,
                etag,
                from_cache: false,
            });
        }
    }
}

/// A representation just read (or revalidated).
pub(crate) struct Fresh {
    pub body: Arc<Value>,
    pub etag: Option<crate::EntityTag>,
    pub from_cache: bool,
}

fn encode<B: Serialize + ?Sized>(body: &B) -> Result<Value, Error> {
    serde_json::to_value(body).map_err(|source| Error::Encode { source })
}
