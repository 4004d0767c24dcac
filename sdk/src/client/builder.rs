//! Configuring a [`Client`].

use std::{sync::Arc, time::Duration};

use http::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::{
    cache::EtagCache,
    event::Observer,
    retry::{RetryBudget, RetryConfig},
    rt::default_sleeper,
    rt::{MaybeSend, MaybeSync, Sleeper},
    stats::Counters,
    transport::{default_transport, Transport},
    Error, Event, MissingEtagPolicy,
};

use super::{keys::KeySource, Client, Inner};

/// The default number of cached resources.
pub const DEFAULT_CACHE_CAPACITY: usize = 1024;

/// The default limit for one HTTP request to be answered completely.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds a [`Client`].
///
/// # Defaults
///
/// | option | default | why |
/// |---|---|---|
/// | `base_url` | none (absolute URLs only) | |
/// | `cache_capacity` | 1024 entries ([`DEFAULT_CACHE_CAPACITY`]) | enough for a working set of documents; bodies are kept, so memory is ~capacity × document size |
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
    api_version: Option<String>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url.as_ref().map(Url::as_str))
            .field("cache_capacity", &self.cache_capacity)
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
            .field("api_version", &self.api_version)
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
            api_version: None,
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

    /// Where atomic batches are sent ([`Client::batch`]): a path resolved against the base URL
    /// like any other (default `/batch`), or an absolute URL. The documents a batch names are
    /// sent as paths relative to the base URL (see [`crate::Batch`]).
    pub fn batch_path(mut self, path: &str) -> Self {
        self.batch_path = path.to_owned();
        self
    }

    /// Where transactions begin ([`Client::begin`], [`Client::transaction`]): a path resolved
    /// against the base URL (default `/transactions`), or an absolute URL. Commits and
    /// rollbacks go to the transaction's own URL (its `Location`).
    pub fn transactions_path(mut self, path: &str) -> Self {
        self.transactions_path = path.to_owned();
        self
    }

    /// Where a document's history is ([`Client::versions`], [`Client::version`]), with
    /// `{item}` standing for the document's absolute URL (default `{item}/versions`,
    /// [`crate::DEFAULT_VERSIONS_PATH`]); version `n` is at `<that>/n`. A query of the document's
    /// URL goes after it. Checked when the client is built: it must contain `{item}`.
    pub fn versions_path(mut self, template: &str) -> Self {
        self.versions_path = template.to_owned();
        self
    }

    /// Sends `Api-Version: <version>` with every request (as Azure's `api-version`, GitHub's
    /// `X-GitHub-Api-Version` and Stripe's `Stripe-Version` select an API version); a request
    /// can send another with its own `.api_version(..)`. Versions selected by a URL prefix
    /// (`/v2/items/…`) need nothing here: a prefix is just part of the path. Checked when the
    /// client is built.
    pub fn api_version(mut self, version: &str) -> Self {
        self.api_version = Some(version.to_owned());
        self
    }

    /// For servers that keep the version in the JSON body (our v2's `/version`, Kubernetes'
    /// `/metadata/resourceVersion`, CouchDB's `/_rev`, GitHub contents' `/sha`): reads take it
    /// from there, and `put`, `patch` and `update()` put the version their document was based
    /// on there; see [`crate::VersionField`]. Its pointers are checked when the client is built.
    pub fn version_field(mut self, field: crate::VersionField) -> Self {
        self.version_field = Some(field);
        self
    }

    /// Where the server's conflict log is ([`Client::conflicts`]): a path resolved against the
    /// base URL (default `/conflicts`, [`crate::DEFAULT_CONFLICTS_PATH`]), or an absolute URL;
    /// records, resolutions and the stream are under it (`{path}/{id}`, `{path}/{id}/resolve`,
    /// `{path}/stream`).
    pub fn conflicts_path(mut self, path: &str) -> Self {
        self.conflicts_path = path.to_owned();
        self
    }

    /// What `update()` does when the server gives no strong ETag or the resource is missing.
    pub fn missing_etag(mut self, policy: MissingEtagPolicy) -> Self {
        self.missing_etag = policy;
        self
    }

    /// The cache partition (identity) for this client; see [`Client::with_partition`].
    pub fn partition(mut self, partition: impl Into<String>) -> Self {
        self.partition = Some(partition.into());
        self
    }

    /// A header sent with every request (e.g. `authorization`).
    ///
    /// # Errors
    /// [`Error::Config`] if the name or value is not valid in HTTP.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, Error> {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| Error::Config {
            field: "header",
            reason: format!("invalid header name {name:?}: {e}"),
        })?;
        let value = HeaderValue::from_str(value).map_err(|e| Error::Config {
            field: "header",
            reason: format!("invalid value for {name}: {e}"),
        })?;
        self.headers.insert(name, value);
        Ok(self)
    }

    /// Sends `Authorization: Bearer <token>` with every request (the reference server's
    /// authentication, see `docs/server.md`). The token is marked sensitive: it never appears in
    /// `Debug` output, errors or logs. One request can send another with its own
    /// `.bearer_token(..)` (or `.header("authorization", ..)`).
    ///
    /// # Errors
    /// [`Error::Config`] if the token cannot be sent in a header (not visible ASCII); the error
    /// does not repeat the token.
    pub fn bearer_token(mut self, token: &str) -> Result<Self, Error> {
        let value = super::auth::bearer(token).map_err(|reason| Error::Config {
            field: "bearer_token",
            reason,
        })?;
        self.headers.insert(http::header::AUTHORIZATION, value);
        Ok(self)
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

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for a zero `attempt_timeout` (use `None` for no limit) and for an
    /// invalid [`RetryConfig`] (see [`RetryConfig::validate`]).
    pub fn build(self) -> Result<Client, Error> {
        self.build_or(default_transport)
    }

    /// Builds the client with `transport`, which replaces one given with
    /// [`transport`](Self::transport): the same client as `.transport(transport).build()`.
    ///
    /// A program that builds its clients only this way does not contain the default transport
    /// (reqwest natively, the `fetch` transport on wasm32), which matters for the size of a
    /// WebAssembly module that brings its own (the npm package's is about 4 KB gzipped smaller).
    ///
    /// # Errors
    /// As [`build`](Self::build).
    pub fn build_with_transport(mut self, transport: impl Transport) -> Result<Client, Error> {
        let transport: Arc<dyn Transport> = Arc::new(transport);
        self.transport = None;
        self.build_or(move || transport)
    }

    /// Builds the client, with `default()` as the transport unless one was given.
    fn build_or(self, default: impl FnOnce() -> Arc<dyn Transport>) -> Result<Client, Error> {
        self.retry.validate()?;
        if self.attempt_timeout == Some(Duration::ZERO) {
            return Err(Error::Config {
                field: "attempt_timeout",
                reason: "a zero timeout would fail every request; give a positive duration, or None for no limit".into(),
            });
        }
        let mut headers = self.headers;
        super::versions::check_settings(
            &self.versions_path,
            self.version_field.as_ref(),
            self.api_version.as_deref(),
            &mut headers,
        )?;
        let retry = self.retry;
        let inner = Inner {
            base_url: self.base_url,
            cache: EtagCache::new(self.cache_capacity),
            budget: RetryBudget::new(
                retry.budget_capacity(),
                retry.budget_retry_cost(),
                retry.budget_success_refund(),
            ),
            retry,
            observers: self.observers,
            sleeper: self.sleeper.unwrap_or_else(default_sleeper),
            transport: self.transport.unwrap_or_else(default),
            counters: Counters::default(),
            keys: KeySource::new(),
            default_headers: headers,
            attempt_timeout: self.attempt_timeout,
            keys_honoured: self.keys_honoured,
            trust_write_bodies: self.trust_write_bodies,
            locks: crate::lock::LockRegistry::default(),
            batch_path: self.batch_path,
            transactions_path: self.transactions_path,
            conflicts_path: self.conflicts_path,
            versions_path: self.versions_path,
            version_field: self.version_field,
            notices: crate::versions::Notices::new(),
        };
        // On wasm32 observers and transports may hold JavaScript values (not Send); Arc keeps one
        // type for both targets, and there is only one thread there.
        #[allow(clippy::arc_with_non_send_sync)]
        let inner = Arc::new(inner);
        Ok(Client {
            inner,
            partition: self.partition.map(Arc::from),
            missing_etag: self.missing_etag,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::{BoxError, BoxFuture};
    use crate::transport::Bytes;

    #[test]
    fn defaults_match_the_documented_table() {
        let b = ClientBuilder::new();
        assert!(b.base_url.is_none());
        assert_eq!(b.cache_capacity, 1024);
        assert_eq!(b.retry, RetryConfig::default());
        assert_eq!(b.missing_etag, MissingEtagPolicy::FetchFirst);
        assert!(b.partition.is_none() && b.transport.is_none() && b.sleeper.is_none());
        assert!(b.observers.is_empty() && b.headers.is_empty());
        assert_eq!(b.attempt_timeout, Some(Duration::from_secs(30)));
        assert!(!b.keys_honoured && !b.trust_write_bodies);
        assert_eq!(b.batch_path, "/batch");
        assert_eq!(b.transactions_path, "/transactions");
        assert_eq!(b.conflicts_path, "/conflicts");
        assert_eq!(b.versions_path, "{item}/versions");
        assert!(b.version_field.is_none() && b.api_version.is_none());
    }

    #[test]
    fn base_url_must_be_absolute_http() {
        for bad in ["/items", "ftp://x/", "not a url"] {
            let err = ClientBuilder::new().base_url(bad).expect_err(bad);
            assert_eq!(err.code(), "invalid_url");
        }
    }

    #[test]
    fn relative_paths_append_to_the_base_path() {
        let client = ClientBuilder::new()
            .base_url("http://h:1/api")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(
            client.resolve("/items/1", &[]).unwrap(),
            "http://h:1/api/items/1"
        );
        assert_eq!(
            client.resolve("items", &[]).unwrap(),
            "http://h:1/api/items"
        );
        assert_eq!(
            client.resolve("http://other/x", &[]).unwrap(),
            "http://other/x"
        );
        let query = [("q".to_owned(), "a b&c".to_owned())];
        assert_eq!(
            client.resolve("/items", &query).unwrap(),
            "http://h:1/api/items?q=a+b%26c"
        );
    }

    #[test]
    fn relative_path_without_base_is_a_clear_error() {
        let client = ClientBuilder::new().build().unwrap();
        let err = client.resolve("/items", &[]).unwrap_err();
        assert!(err.to_string().contains("base_url"), "{err}");
    }

    /// Answers every request with one status.
    struct Answers(u16);

    impl Transport for Answers {
        fn send(
            &self,
            _request: http::Request<Bytes>,
        ) -> BoxFuture<'_, Result<http::Response<Bytes>, BoxError>> {
            let mut response = http::Response::new(Bytes::new());
            *response.status_mut() = http::StatusCode::from_u16(self.0).unwrap();
            Box::pin(std::future::ready(Ok(response)))
        }
    }

    #[tokio::test]
    async fn build_with_transport_uses_it_instead_of_one_given_before() {
        let client = ClientBuilder::new()
            .base_url("http://h:1")
            .unwrap()
            .transport(Answers(500))
            .build_with_transport(Answers(404))
            .unwrap();
        let err = client
            .get::<serde_json::Value>("/items/1")
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND), "{err}");
        let err = ClientBuilder::new()
            .retry(RetryConfig::new().with_max_attempts(0))
            .build_with_transport(Answers(404))
            .unwrap_err();
        assert_eq!(err.code(), "invalid_config");
    }

    #[test]
    fn an_invalid_retry_config_fails_the_build_with_its_name() {
        let err = ClientBuilder::new()
            .retry(RetryConfig::new().with_max_attempts(0))
            .build()
            .unwrap_err();
        assert_eq!(err.code(), "invalid_config");
        assert!(err.to_string().contains("retry.max_attempts"), "{err}");
    }

    #[test]
    fn debug_shows_settings_but_not_header_values() {
        let builder = ClientBuilder::new()
            .header("authorization", "Bearer secret")
            .unwrap();
        let text = format!("{builder:?}");
        assert!(
            text.contains("authorization") && !text.contains("secret"),
            "{text}"
        );
    }

    #[test]
    fn a_zero_attempt_timeout_is_refused_with_the_fix() {
        let err = ClientBuilder::new()
            .attempt_timeout(Some(Duration::ZERO))
            .build()
            .unwrap_err();
        assert_eq!(err.code(), "invalid_config");
        assert!(err.to_string().contains("None for no limit"), "{err}");
        assert!(ClientBuilder::new().attempt_timeout(None).build().is_ok());
    }

    #[test]
    fn invalid_headers_are_rejected() {
        assert_eq!(
            ClientBuilder::new()
                .header("bad name", "v")
                .err()
                .unwrap()
                .code(),
            "invalid_config"
        );
        assert_eq!(
            ClientBuilder::new()
                .header("x", "line\nbreak")
                .err()
                .unwrap()
                .code(),
            "invalid_config"
        );
    }
}
