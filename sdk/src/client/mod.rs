//! The client: reads, writes and updates with preconditions and recovery.
//!
//! Every operation is a builder that owns a clone of the client (cheap: one `Arc`), so it can be
//! moved into a spawned task; await it directly, or set per-request options first.

mod auth;
mod batch;
pub(crate) mod builder;
mod carried;
mod change;
mod conflicts;
mod exchange;
mod keys;
mod lock;
mod lost;
mod options;
mod queue;
mod raw;
mod read;
mod response;
mod send_write;
mod transaction;
mod update;
mod versions;
mod weak;
mod write;

use std::sync::Arc;

use http::{header, HeaderMap, HeaderValue, Method};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use url::Url;

use crate::{
    cache::{CacheKey, EtagCache},
    event::Observer,
    retry::{RetryBudget, RetryConfig},
    rt::{MaybeSend, Sleeper},
    stats::Counters,
    transport::{Outgoing, Transport},
    ChangeError, Error, Event, MissingEtagPolicy, Precondition, Stats,
};

pub use batch::{Batch, DEFAULT_BATCH_PATH};
pub use builder::ClientBuilder;
pub use conflicts::{
    Conflicts, GetConflict, ListConflicts, Resolve, Subscription, DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_STALL_TIMEOUT,
};
pub use lock::{LockGuard, LockRequest, DEFAULT_LOCK_TTL};
pub use raw::Raw;
pub use read::{Get, GetShared};
pub use transaction::{
    Begin, Commit, Rollback, RunTransaction, Transaction, DEFAULT_TRANSACTIONS_PATH,
};
pub use update::Update;
pub use versions::{Diff, GetVersion, ListVersions, Restore, DEFAULT_VERSIONS_PATH};
pub use write::Write;

use exchange::OpState;
use keys::KeySource;
use options::Options;

/// Per-request options, for the lock state to keep (its renewals repeat the acquire's headers).
pub(crate) type RequestOptions = Options;

/// An HTTP client for JSON resources that makes concurrent writes safe.
///
/// Cheap to clone (clones share the cache, budget and counters); one per process is the
/// intended use, shared by every task (see "Sharing a client across tasks" in `docs/sdk.md`).
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
    /// Where the version is in the body, for servers that keep it there.
    version_field: Option<Arc<crate::VersionField>>,
    /// What `update()` does with a weak ETag.
    weak: crate::WeakValidators,
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
    locks: crate::lock::LockRegistry,
    batch_path: String,
    transactions_path: String,
    /// Where the server's conflict log is (`client.conflicts()`).
    conflicts_path: String,
    /// Where a document's history is, `{item}` standing for the document's URL.
    versions_path: String,
    /// The deprecation notices seen, and the count of deprecated answers.
    notices: crate::versions::Notices,
    /// The updates of each resource, taking turns.
    queues: Arc<queue::Queues>,
    /// The adaptive limiters, when pacing is on.
    pacing: Option<crate::pacing::Pacing>,
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

    /// A view of this client for resources that keep their version elsewhere: `Some(field)`
    /// in the body (see [`crate::VersionField`]), `None` in the `ETag` alone. Shares the cache
    /// and everything else; use one view per kind of resource.
    ///
    /// ```
    /// use ifmatch::{Client, VersionField};
    ///
    /// let client = Client::builder().build()?;
    /// let couch = client.with_version_field(VersionField::at("/_rev").sent_in_query("rev"))?;
    /// let plain = couch.with_version_field(None)?;
    /// # Ok::<(), ifmatch::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] for a malformed pointer or query name, as the builder checks them.
    pub fn with_version_field(
        &self,
        field: impl Into<Option<crate::VersionField>>,
    ) -> Result<Self, Error> {
        let field = field.into();
        if let Some(field) = &field {
            field.validate()?;
        }
        Ok(Self {
            version_field: field.map(Arc::new),
            ..self.clone()
        })
    }

    /// A view of this client with another [`crate::WeakValidators`] policy for its updates
    /// (e.g. [`crate::WeakValidators::send_as_is`] for a FHIR server among others).
    pub fn with_weak_validators(&self, policy: crate::WeakValidators) -> Self {
        Self {
            weak: policy,
            ..self.clone()
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.with_deprecations(self.inner.counters.snapshot())
    }

    /// The retry settings in force.
    pub fn retry_config(&self) -> &RetryConfig {
        &self.inner.retry
    }

    /// Reads a JSON resource as `T` and remembers its ETag; see [`Get`].
    ///
    /// ```no_run
    /// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
    /// #[derive(serde::Deserialize)]
    /// struct Item { title: String }
    /// let item = client.get::<Item>("/items/1").header("x-request-id", "42").await?;
    /// println!("{} at {:?}", item.value.title, item.etag);
    /// # Ok(()) }
    /// ```
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Get<T> {
        Get::new(self.clone(), path)
    }

    /// Creates a resource with POST; see [`Write`]. With retries enabled the request carries a
    /// generated `Idempotency-Key` and is resent after a 429 (the server did not process it);
    /// after a 503 only when [`ClientBuilder::server_honours_idempotency_keys`] says the key
    /// makes that safe.
    ///
    /// The result's `location` is the new resource's URL. Its `etag` is set only when the body
    /// is the new resource's representation (`Content-Location` equal to `Location`, or
    /// [`ClientBuilder::trust_write_bodies`]); that pair is then cached under the location.
    pub fn create<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Write<Value> {
        Write::new(
            self.clone(),
            Method::POST,
            path,
            Some(encode(body)),
            Precondition::unconditional(),
        )
    }

    /// Replaces a resource with PUT, conditional on `precondition`: pass the [`crate::Versioned`]
    /// your document was read from (`&read`) to send `If-Match` with its ETag, or choose
    /// [`Precondition::create_only`] or [`Precondition::unconditional`]. The client never takes
    /// the version from its cache: another task may have written since your read.
    ///
    /// ```no_run
    /// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
    /// let read = client.get::<serde_json::Value>("/items/1").await?;
    /// let mut doc = read.value.clone();
    /// doc["title"] = "renamed".into();
    /// // Refused with 412 if anyone wrote /items/1 since `read`.
    /// let written = client.put("/items/1", &doc, &read).await?;
    /// assert_eq!(written.value["title"], "renamed");
    /// # Ok(()) }
    /// ```
    ///
    /// The result's value is the stored representation when the server answered with it
    /// (`Content-Location`), else the document sent.
    pub fn put<T: Serialize + DeserializeOwned>(
        &self,
        path: &str,
        doc: &T,
        precondition: impl Into<Precondition>,
    ) -> Write<T> {
        Write::new(
            self.clone(),
            Method::PUT,
            path,
            Some(encode(doc)),
            precondition.into(),
        )
    }

    /// Applies a JSON Merge Patch (RFC 7396) with PATCH, conditional on `precondition` as for
    /// [`Client::put`].
    ///
    /// The result carries the new ETag only when the answer is the patched resource
    /// (`Content-Location` names it, or [`ClientBuilder::trust_write_bodies`]); otherwise `value`
    /// is the server's answer as sent and `etag` is `None`: read the resource before writing
    /// again.
    pub fn patch<P: Serialize + ?Sized>(
        &self,
        path: &str,
        merge_patch: &P,
        precondition: impl Into<Precondition>,
    ) -> Write<Value> {
        Write::new(
            self.clone(),
            Method::PATCH,
            path,
            Some(encode(merge_patch)),
            precondition.into(),
        )
    }

    /// Deletes a resource, conditional on `precondition` as for [`Client::put`], and forgets
    /// its cache entry.
    pub fn delete(&self, path: &str, precondition: impl Into<Precondition>) -> Write<()> {
        Write::deletion(self.clone(), path, precondition.into())
    }

    /// A read-modify-write of one JSON resource as `T` that survives concurrent writers; see
    /// [`Update`]. The change may run several times, once per version it is applied to.
    ///
    /// ```no_run
    /// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
    /// use serde_json::Value;
    ///
    /// let out = client
    ///     .update("/items/1", |doc: &mut Value| {
    ///         doc["n"] = (doc["n"].as_i64().unwrap_or(0) + 1).into();
    ///         Ok(())
    ///     })
    ///     .strategy(ifmatch::Strategy::Reapply)
    ///     .await?;
    /// println!("written in {} attempt(s)", out.attempts);
    /// # Ok(()) }
    /// ```
    pub fn update<T: Serialize + DeserializeOwned>(
        &self,
        path: &str,
        change: impl FnMut(&mut T) -> Result<(), ChangeError> + MaybeSend + 'static,
    ) -> Update<T> {
        Update::new(self.clone(), path, change)
    }

    /// A request the SDK does not model (another method, an action URL), still going through
    /// the cache, preconditions and retries; see [`Raw`].
    pub fn request(&self, method: Method, path: &str) -> Raw {
        Raw::new(self.clone(), method, path)
    }

    /// Resolves a path against the base URL (`/items/1` with base `http://h/api` is
    /// `http://h/api/items/1`; absolute `http(s)` URLs are used as they are) and appends `query`.
    pub(crate) fn resolve(&self, path: &str, query: &[(String, String)]) -> Result<String, Error> {
        let invalid = |reason: &str| Error::InvalidUrl {
            input: path.to_owned(),
            reason: reason.to_owned(),
        };
        let mut url = match Url::parse(path) {
            Ok(absolute) if matches!(absolute.scheme(), "http" | "https") => absolute,
            Ok(_) => return Err(invalid("only http and https URLs are supported")),
            Err(_) => {
                let base = self
                    .inner
                    .base_url
                    .as_ref()
                    .ok_or_else(|| invalid("a relative path needs a base URL"))?;
                base.join(path.trim_start_matches('/'))
                    .map_err(|e| invalid(&format!("cannot be joined to the base URL: {e}")))?
            }
        };
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (k, v)));
        }
        Ok(url.into())
    }

    /// The absolute URL a request with these options goes to, once its options are valid.
    fn target(&self, path: &str, options: &Options) -> Result<String, Error> {
        options.check()?;
        self.resolve(path, &options.query)
    }

    fn key(&self, url: &str) -> CacheKey {
        CacheKey {
            partition: self.partition.clone(),
            url: url.to_owned(),
        }
    }

    fn op(&self, options: &Options) -> OpState {
        OpState::new(&self.inner, options)
    }

    fn emit(&self, event: Event) {
        for observer in &self.inner.observers {
            observer.on_event(&event);
        }
    }

    /// A request with the client's headers, then the operation's own.
    fn outgoing(&self, op: &OpState, method: Method, url: &str) -> Outgoing {
        let mut request = Outgoing::new(method, url);
        request.headers = self.inner.default_headers.clone();
        request.headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, application/problem+json"),
        );
        for (name, value) in &op.headers {
            request.headers.insert(name, value.clone());
        }
        request
    }
}

fn encode<B: Serialize + ?Sized>(body: &B) -> Result<Value, Error> {
    serde_json::to_value(body).map_err(|source| Error::Encode { source })
}
