//! Configuring a [`Client`].

mod build;
mod endpoints;
mod headers;
#[cfg(test)]
mod tests;

use std::{sync::Arc, time::Duration};

use http::HeaderMap;
use url::Url;

use crate::{
    event::Observer,
    retry::RetryConfig,
    rt::{MaybeSend, MaybeSync, Sleeper},
    transport::Transport,
    Error, Event, MissingEtagPolicy,
};

#[cfg(doc)]
use super::Client;

/// The default number of cached resources.
pub const DEFAULT_CACHE_CAPACITY: usize = 1024;

/// The default most bytes the ETag cache keeps: 32 MiB (each entry counted as its URL, tag and
/// body as compact JSON).
pub const DEFAULT_CACHE_MAX_BYTES: usize = 32 * 1024 * 1024;

/// The default limit for one HTTP request to be answered completely.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds a [`Client`].
///
/// # Defaults
///
/// | option | default | why |
/// |---|---|---|
/// | `base_url` | none (absolute URLs only) | |
/// | `cache_capacity` | 1024 entries ([`DEFAULT_CACHE_CAPACITY`]) | enough for a working set of documents |
/// | `cache_max_bytes` | 32 MiB ([`DEFAULT_CACHE_MAX_BYTES`]) | bodies are kept (they are merge bases), so entries alone do not bound memory: 1024 × 200 KiB would be 200 MiB |
/// | `retry` | [`RetryConfig::default()`] | see its table |
/// | `attempt_timeout` | 30 s ([`DEFAULT_ATTEMPT_TIMEOUT`]) | API gateways end requests near 30 s (AWS API Gateway: 29 s), so a later answer is not coming; the whole operation is bounded by [`RetryConfig`]'s `total_deadline` (60 s) |
/// | `missing_etag` | [`MissingEtagPolicy::FetchFirst`] | `update()` never writes without a version unless asked |
/// | `server_honours_idempotency_keys` | `false` | a POST/PATCH answered 503 is resent only to a server known to replay keyed requests |
/// | `trust_write_bodies` | `false` | RFC 9110: a write's answer is the resource only when `Content-Location` says so |
/// | `partition` | none | single-identity clients need none |
/// | `batch_path` | `/batch` ([`crate::DEFAULT_BATCH_PATH`]) | the reference server's atomic-batch endpoint |
/// | `transactions_path` | `/transactions` ([`crate::DEFAULT_TRANSACTIONS_PATH`]) | the reference server's transactions endpoint |
/// | `conflicts_path` | `/conflicts` ([`crate::DEFAULT_CONFLICTS_PATH`]) | the reference server's conflict log |
/// | `bearer_token` | none | anonymous unless given |
/// | `versions_path` | `{item}/versions` ([`crate::DEFAULT_VERSIONS_PATH`]) | the reference server's history sub-resource |
/// | `api_version` | none (no `Api-Version` header) | the server's default version |
/// | `version_field` | none (versions travel in `ETag`/`If-Match` only) | standard HTTP |
/// | `adaptive_pacing` | on, pacing only after a 429 or a low `RateLimit` remaining | a throttled client slows down to the rate the server accepts instead of losing whole `Retry-After` waits; a client never throttled never waits ([`adaptive_pacing`](Self::adaptive_pacing)) |
/// | `weak_validators` | re-read 3 times for a strong ETag, after 250 ms, 500 ms and 1 s (1.75 s in all), then fail with `weak_validator` ([`crate::WeakValidators::default()`]) | never writes unconditionally, and `If-Unmodified-Since` (1-second resolution) only when asked |
/// | `transport` | `ReqwestTransport` with a default `reqwest::Client` natively, the JavaScript `fetch` on wasm32 | |
/// | `sleeper` | tokio timers natively, `setTimeout` on wasm32 | |
/// | observers | none | |
///
/// ```
/// use ifmatch::{Client, MissingEtagPolicy, RetryConfig};
///
/// let client = Client::builder()
///     .base_url("http://127.0.0.1:8080")?
///     .cache_capacity(256)
///     .retry(RetryConfig::contended())
///     .missing_etag(MissingEtagPolicy::FetchFirst)
///     .header("authorization", "Bearer token")?
///     .on_event(|event| eprintln!("{event:?}"))
///     .build()?;
/// # Ok::<(), ifmatch::Error>(())
/// ```
#[must_use = "call .build() to get a Client"]
pub struct ClientBuilder {
    base_url: Option<Url>,
    cache_capacity: usize,
    cache_max_bytes: usize,
    retry: RetryConfig,
    missing_etag: MissingEtagPolicy,
    partition: Option<String>,
    transport: Option<Arc<dyn Transport>>,
    sleeper: Option<Arc<dyn Sleeper>>,
    observers: Vec<Arc<dyn Observer>>,
    headers: HeaderMap,
    attempt_timeout: Option<Duration>,
    keys_honoured: bool,
    trust_write_bodies: bool,
    batch_path: String,
    transactions_path: String,
    conflicts_path: String,
    versions_path: String,
    version_field: Option<crate::VersionField>,
    weak: crate::WeakValidators,
    api_version: Option<String>,
    adaptive_pacing: bool,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url.as_ref().map(Url::as_str))
            .field("cache_capacity", &self.cache_capacity)
            .field("cache_max_bytes", &self.cache_max_bytes)
            .field("retry", &self.retry)
            .field("missing_etag", &self.missing_etag)
            .field("partition", &self.partition)
            .field("custom_transport", &self.transport.is_some())
            .field("custom_sleeper", &self.sleeper.is_some())
            .field("observers", &self.observers.len())
            .field("header_names", &self.headers.keys().collect::<Vec<_>>())
            .field("attempt_timeout", &self.attempt_timeout)
            .field("keys_honoured", &self.keys_honoured)
            .field("trust_write_bodies", &self.trust_write_bodies)
            .field("batch_path", &self.batch_path)
            .field("transactions_path", &self.transactions_path)
            .field("conflicts_path", &self.conflicts_path)
            .field("versions_path", &self.versions_path)
            .field("version_field", &self.version_field)
            .field("weak_validators", &self.weak)
            .field("api_version", &self.api_version)
            .field("adaptive_pacing", &self.adaptive_pacing)
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientBuilder {
    /// A builder with the documented defaults.
    pub fn new() -> Self {
        Self {
            base_url: None,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            cache_max_bytes: DEFAULT_CACHE_MAX_BYTES,
            retry: RetryConfig::default(),
            missing_etag: MissingEtagPolicy::default(),
            partition: None,
            transport: None,
            sleeper: None,
            observers: Vec::new(),
            headers: HeaderMap::new(),
            attempt_timeout: Some(DEFAULT_ATTEMPT_TIMEOUT),
            keys_honoured: false,
            trust_write_bodies: false,
            batch_path: super::DEFAULT_BATCH_PATH.to_owned(),
            transactions_path: super::DEFAULT_TRANSACTIONS_PATH.to_owned(),
            conflicts_path: crate::DEFAULT_CONFLICTS_PATH.to_owned(),
            versions_path: super::DEFAULT_VERSIONS_PATH.to_owned(),
            version_field: None,
            weak: crate::WeakValidators::default(),
            api_version: None,
            adaptive_pacing: true,
        }
    }

    /// The URL relative paths resolve against (`/items/1` → `<base>/items/1`).
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] unless `url` is an absolute `http` or `https` URL.
    pub fn base_url(mut self, url: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidUrl {
            input: url.to_owned(),
            reason,
        };
        let mut parsed = Url::parse(url).map_err(|e| invalid(format!("{e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid("only http and https URLs are supported".into()));
        }
        // A trailing slash makes joining append to the base path instead of replacing its last segment.
        if !parsed.path().ends_with('/') {
            let path = format!("{}/", parsed.path());
            parsed.set_path(&path);
        }
        self.base_url = Some(parsed);
        Ok(self)
    }

    /// How many resources' ETags and bodies to keep (LRU); 0 disables the cache.
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// The most bytes the cache keeps, each entry counted as its URL, tag and body as compact
    /// JSON; the least recently used entries are evicted to stay under it, and a body larger
    /// than all of it is not cached (its next conditional write reads it first). 0 disables the
    /// cache.
    pub fn cache_max_bytes(mut self, bytes: usize) -> Self {
        self.cache_max_bytes = bytes;
        self
    }

    /// Retry and backoff settings.
    pub fn retry(mut self, config: RetryConfig) -> Self {
        self.retry = config;
        self
    }

    /// How long one HTTP request may take to be answered completely (headers and body); `None`
    /// for no limit. A timed-out request ends the call with [`Error::Timeout`] and is not
    /// resent: a write may have been applied. The whole call is bounded by
    /// [`RetryConfig::with_total_deadline`].
    pub fn attempt_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Declares that the server replays a request repeated with the same `Idempotency-Key`
    /// (the IETF draft) instead of applying it twice. Only then is a POST or PATCH answered 503
    /// resent: a proxy may answer 503 after the origin created the resource.
    pub fn server_honours_idempotency_keys(mut self, honoured: bool) -> Self {
        self.keys_honoured = honoured;
        self
    }

    /// Declares that the server answers every successful PUT, PATCH and POST with the stored
    /// resource's representation, even without `Content-Location` (many JSON APIs do). Without
    /// it, such a body is treated as the status message it may be: never cached as the document,
    /// and never paired with the new ETag in the result.
    pub fn trust_write_bodies(mut self, trusted: bool) -> Self {
        self.trust_write_bodies = trusted;
        self
    }

    /// Turns the adaptive limiter on or off (default on).
    ///
    /// On, the client keeps a token bucket per server authority (scheme, host, port) and
    /// `RateLimit` partition, shared by its clones. It starts pacing that partition's requests
    /// after the first 429, or the first answer whose `RateLimit` remaining is under half of
    /// its `RateLimit-Policy` quota; its fill rate then follows CUBIC like the AWS SDKs'
    /// adaptive retry mode: 0.7 times the rate sent at each such signal, growing back and probing
    /// beyond while answers are clear (a quarter faster per round trip while the server reports
    /// three quarters of its quota left). Several clients sharing one quota so settle near the
    /// server's rate instead of draining it and all waiting out `Retry-After`. A client that is
    /// never throttled never waits. Off, only the 429 answers themselves are waited out.
    ///
    /// ```
    /// let client = ifmatch::Client::builder().adaptive_pacing(false).build()?;
    /// # Ok::<(), ifmatch::Error>(())
    /// ```
    pub fn adaptive_pacing(mut self, on: bool) -> Self {
        self.adaptive_pacing = on;
        self
    }

    /// What `update()` does when the server gives no strong ETag or the resource is missing.
    pub fn missing_etag(mut self, policy: MissingEtagPolicy) -> Self {
        self.missing_etag = policy;
        self
    }

    /// What `update()` does when the server offers only a weak ETag: wait for a strong one,
    /// fall back to `If-Unmodified-Since`, or stop; see [`crate::WeakValidators`].
    pub fn weak_validators(mut self, policy: crate::WeakValidators) -> Self {
        self.weak = policy;
        self
    }

    /// The cache partition (identity) for this client; see [`Client::with_partition`].
    pub fn partition(mut self, partition: impl Into<String>) -> Self {
        self.partition = Some(partition.into());
        self
    }

    /// The HTTP transport (e.g. a [`crate::transport::ReqwestTransport`] around a configured `reqwest::Client`).
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// The sleeper for backoff waits (tests pass [`crate::testing::RecordingSleeper`]).
    pub fn sleeper(mut self, sleeper: impl Sleeper) -> Self {
        self.sleeper = Some(Arc::new(sleeper));
        self
    }

    /// Adds an observer for [`Event`]s; called inline for every retry-related event.
    pub fn on_event<F>(mut self, observer: F) -> Self
    where
        F: Fn(&Event) + MaybeSend + MaybeSync + 'static,
    {
        self.observers.push(Arc::new(observer));
        self
    }

    /// Adds an observer implementing [`Observer`].
    pub fn observer(mut self, observer: impl Observer) -> Self {
        self.observers.push(Arc::new(observer));
        self
    }
}
