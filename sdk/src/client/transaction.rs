//! `client.begin()`: an interactive transaction, its requests, its commit and its rollback.

use std::{future::IntoFuture, sync::Arc, time::Duration};

use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};
use url::Url;
use web_time::Instant;

use crate::{
    batch::wire::{parse_results, root_of},
    rt::{spawn, traced, BoxFuture},
    stats::Counters,
    transaction::{millis, Began, CommitResult, Life, Phase},
    Error, Event, Get, Precondition, Raw, Write,
};

use super::{
    batch::Sent,
    exchange::{Exchanged, OpState},
    options::{request_options, Options},
    Client,
};

/// Where transactions begin unless [`crate::ClientBuilder::transactions_path`] says otherwise.
pub const DEFAULT_TRANSACTIONS_PATH: &str = "/transactions";

/// A request to begin a transaction; built by [`Client::begin`]. Await it for a
/// [`Transaction`].
///
/// # Defaults
/// `ttl` none: the server's default (the reference server: 30 s, at most 60 s).
#[must_use = "a transaction does not begin until the request is awaited"]
#[derive(Debug)]
pub struct Begin {
    client: Client,
    ttl: Option<Duration>,
    options: Options,
}

request_options!(Begin);

impl Begin {
    pub(super) fn new(client: Client) -> Self {
        Self::configured(client, None, Options::default())
    }

    pub(super) fn configured(client: Client, ttl: Option<Duration>, options: Options) -> Self {
        Self {
            client,
            ttl,
            options,
        }
    }

    /// How long the transaction may stay open before the server rolls it back (the server may
    /// grant less: [`Transaction::ttl`] says what it granted).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Begins the transaction (`POST /transactions`). A begin answered 429 or 503 (the
    /// reference server's `too-many-transactions`) is sent again as the retry settings allow:
    /// a second begin can at worst leave an empty transaction to expire.
    ///
    /// # Errors
    /// The status, throttling, timeout and transport errors of a single request;
    /// [`Error::Decode`] when the answer names no transaction id.
    pub async fn send(self) -> Result<Transaction, Error> {
        let Self {
            client,
            ttl,
            options,
        } = self;
        let url = client.target(&client.inner.transactions_path, &options)?;
        let span = tracing::debug_span!("ifmatch.begin", url = %url);
        let work = async {
            let mut op = client.op(&options);
            op.repeatable = true;
            let mut request = client.outgoing(&op, Method::POST, &url);
            if let Some(ttl) = ttl {
                request.headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                request.body = json!({ "ttl_ms": millis(ttl) }).to_string().into();
            }
            let Exchanged {
                response, attempts, ..
            } = client.exchange(&mut op, request).await?;
            if !response.status.is_success() {
                return Err(client.error_for(&Method::POST, &url, &response, attempts, None));
            }
            let began = Began::parse(&response.body).ok_or_else(|| Error::Decode {
                url: url.clone(),
                source: serde::de::Error::custom(
                    "the answer does not begin a transaction: it needs a non-empty `id`",
                ),
            })?;
            let header = HeaderValue::from_str(&began.id).map_err(|_| Error::Decode {
                url: url.clone(),
                source: serde::de::Error::custom(format!(
                    "the transaction id {:?} cannot be sent as a header value",
                    began.id
                )),
            })?;
            let tx_url = super::exchange::location_of(&response, header::LOCATION, &url)
                .unwrap_or_else(|| format!("{}/{}", url.trim_end_matches('/'), began.id));
            let root = root_of(client.inner.base_url.as_ref(), &tx_url).ok_or_else(|| {
                Error::InvalidUrl {
                    input: tx_url.clone(),
                    reason: "cannot be the base of the transaction's document paths".into(),
                }
            })?;
            let granted = began.ttl_ms.map(Duration::from_millis).or(ttl);
            // As for the client itself: on wasm32 the client may hold JavaScript values (not
            // Send), and there is one thread there.
            #[allow(clippy::arc_with_non_send_sync)]
            let inner = Arc::new(TxInner {
                client: client.clone(),
                id: began.id,
                header,
                url: tx_url,
                root,
                expires_at_ms: began.expires_at_ms,
                ttl: granted,
                began_at: Instant::now(),
                headers: options.headers.clone(),
                life: Life::default(),
            });
            Ok(Transaction { inner })
        };
        client
            .bounded(format!("POST {url}"), &url, false, traced(span, work))
            .await
    }
}

impl IntoFuture for Begin {
    type Output = Result<Transaction, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// An open interactive transaction: read, decide and write several documents over several
/// requests, then [`commit`](Transaction::commit) them together; begun by [`Client::begin`]
/// (or run for you, again after each conflict, by [`Client::transaction`]).
///
/// The requests built by [`Transaction::get`], [`Transaction::put`], … (or any `get`, write or
/// `request` builder with [`.within(&tx)`](crate::Get::within)) carry `Transaction-Id` and act
/// inside it: reads see the transaction's own writes and pin the version of everything else
/// (repeatable reads), writes are staged and answered with **provisional** entity tags that
/// mean something only inside this transaction. None of them uses or fills the client's ETag
/// cache. The commit checks that nothing the transaction read has changed since, and applies
/// every write at once; the cache then learns the real tags.
///
/// Cheap to clone (an `Arc`): clones are the same transaction. When the last clone (and every
/// request builder made from it) is dropped while still open, it is rolled back in the
/// background, best effort; the server also rolls it back at its expiry.
///
/// ```no_run
/// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
/// use serde_json::{json, Value};
///
/// let tx = client.begin().await?;
/// let from = tx.get::<Value>("/items/alice").await?;
/// let to = tx.get::<Value>("/items/bob").await?;
/// let amount = 10;
/// let take = from.value["balance"].as_i64().unwrap_or(0) - amount;
/// let give = to.value["balance"].as_i64().unwrap_or(0) + amount;
/// tx.patch("/items/alice", &json!({"balance": take}), &from).await?;
/// tx.patch("/items/bob", &json!({"balance": give}), &to).await?;
/// match tx.commit().await {
///     Ok(done) => println!("committed {} documents", done.len()),
///     Err(e) if e.is_conflict() => println!("someone wrote {:?} first; run it again", e.stale_reads()),
///     Err(e) => return Err(e),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Transaction {
    inner: Arc<TxInner>,
}

struct TxInner {
    client: Client,
    id: String,
    /// The `Transaction-Id` value.
    header: HeaderValue,
    /// The transaction's absolute URL (`…/transactions/{id}`).
    url: String,
    /// What the paths in the commit's answer are relative to.
    root: Url,
    expires_at_ms: Option<u64>,
    ttl: Option<Duration>,
    began_at: Instant,
    /// The begin's own headers, repeated on the commit and the rollback.
    headers: HeaderMap,
    life: Life,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("id", &self.inner.id)
            .field("url", &self.inner.url)
            .field("expires_at_ms", &self.inner.expires_at_ms)
            .field("phase", &self.inner.life.phase())
            .finish_non_exhaustive()
    }
}

impl Transaction {
    /// The server's id for it (sent as `Transaction-Id`).
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// Its absolute URL (`…/transactions/{id}`), which the commit and the rollback address.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// When the server rolls it back unless committed, as Unix time in milliseconds by the
    /// server's clock, when the server said.
    pub fn expires_at_ms(&self) -> Option<u64> {
        self.inner.expires_at_ms
    }

    /// The lifetime the server granted (or, if it did not say, the one asked for).
    pub fn ttl(&self) -> Option<Duration> {
        self.inner.ttl
    }

    /// Time left before it expires, by this client's clock from the moment it began; `None`
    /// when the lifetime is unknown.
    pub fn expires_in(&self) -> Option<Duration> {
        let ttl = self.inner.ttl?;
        Some(ttl.saturating_sub(self.inner.began_at.elapsed()))
    }

    /// Whether it is still open as far as this client knows (not committed, rolled back, or
    /// ended by a refused commit).
    pub fn is_open(&self) -> bool {
        self.inner.life.phase().closed().is_none()
    }

    /// The client it was begun with.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Reads a document inside the transaction; see [`Client::get`]. The first read of a
    /// document pins its version for the rest of the transaction.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Get<T> {
        self.inner.client.get(path).within(self)
    }

    /// Stages a `PUT` inside the transaction; see [`Client::put`]. Pass a version read in the
    /// transaction (or a provisional tag it answered) as the precondition, or
    /// [`Precondition::unconditional`]: the commit checks every version the transaction saw.
    pub fn put<T: Serialize + DeserializeOwned>(
        &self,
        path: &str,
        doc: &T,
        precondition: impl Into<Precondition>,
    ) -> Write<T> {
        self.inner.client.put(path, doc, precondition).within(self)
    }

    /// Stages a JSON Merge Patch inside the transaction; see [`Client::patch`].
    pub fn patch<P: Serialize + ?Sized>(
        &self,
        path: &str,
        merge_patch: &P,
        precondition: impl Into<Precondition>,
    ) -> Write<Value> {
        self.inner
            .client
            .patch(path, merge_patch, precondition)
            .within(self)
    }

    /// Stages a `DELETE` inside the transaction; see [`Client::delete`].
    pub fn delete(&self, path: &str, precondition: impl Into<Precondition>) -> Write<()> {
        self.inner.client.delete(path, precondition).within(self)
    }

    /// Stages a `POST` (creation) inside the transaction; see [`Client::create`]. The server
    /// reserves the new document's id (its `location`) now and creates it at the commit.
    pub fn create<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Write<Value> {
        self.inner.client.create(path, body).within(self)
    }

    /// Any other request inside the transaction; see [`Client::request`].
    pub fn request(&self, method: Method, path: &str) -> Raw {
        self.inner.client.request(method, path).within(self)
    }

    /// Commits it; see [`Commit`].
    pub fn commit(&self) -> Commit {
        Commit {
            tx: self.clone(),
            options: Options::with_headers(self.inner.headers.clone()),
        }
    }

    /// Rolls it back; see [`Rollback`].
    pub fn rollback(&self) -> Rollback {
        Rollback {
            tx: self.clone(),
            options: Options::with_headers(self.inner.headers.clone()),
        }
    }

    /// The `Transaction-Id` value requests inside it carry.
    pub(crate) fn header(&self) -> &HeaderValue {
        &self.inner.header
    }

    /// Refuses a request in a transaction this client knows to be over.
    pub(crate) fn check_open(&self) -> Result<(), Error> {
        match self.inner.life.phase().closed() {
            None => Ok(()),
            Some(why) => Err(Error::Config {
                field: "transaction",
                reason: format!(
                    "transaction {} is over ({why}); begin a new one for more requests",
                    self.inner.id
                ),
            }),
        }
    }

    /// Records what a successful write in the transaction made of a document (`None`: not
    /// known, or deleted), for the cache to learn at the commit.
    pub(crate) fn stage(&self, url: &str, body: Option<Value>) {
        self.inner.life.stage(url, body);
    }
}

/// Commits a [`Transaction`] (`POST …/transactions/{id}/commit`); built by
/// [`Transaction::commit`]. It repeats the begin's per-request headers.
///
/// The server answers a repeated commit with the same result, so a commit whose answer was lost
/// (a transport error, an attempt timeout) or answered 429/503 is sent again, up to
/// [`crate::RetryConfig::max_attempts`]. Committing an already committed transaction returns its
/// result without a request.
#[must_use = "a commit does nothing until it is awaited"]
#[derive(Debug)]
pub struct Commit {
    tx: Transaction,
    options: Options,
}

request_options!(Commit);

impl Commit {
    /// Sends the commit.
    ///
    /// # Errors
    /// [`Error::TransactionConflict`] (`transaction_conflict`, `is_conflict()`) when a document
    /// it read changed since: nothing was applied and the transaction is over; run it again.
    /// [`Error::TransactionLost`] (`transaction_lost`) when the server no longer knows it
    /// (expired, rolled back, restarted). [`Error::Locked`] when another client holds a lock
    /// on a written document (nothing applied, transaction over). [`Error::OutcomeUnknown`]
    /// when a resent commit found the transaction gone, so whether the first attempt committed
    /// cannot be told. [`Error::Config`] for a transaction that was rolled back or ended.
    /// Timeouts and transport errors once the attempts run out.
    pub async fn send(self) -> Result<CommitResult, Error> {
        let Self { tx, options } = self;
        let client = tx.inner.client.clone();
        match tx.inner.life.phase() {
            Phase::Committed(result) => return Ok(result),
            Phase::Open => {}
            _ => tx.check_open()?,
        }
        options.check()?;
        let url = commit_url(&tx.inner.url, &client, &options)?;
        let span = tracing::debug_span!("ifmatch.commit", url = %url);
        let work = async {
            let mut op = client.op(&options);
            op.repeatable = true;
            let request = client.outgoing(&op, Method::POST, &url);
            let (exchanged, resent) = client.exchange_repeatable(&mut op, request).await?;
            client.committed(&tx, &url, exchanged, resent)
        };
        client
            .bounded(format!("POST {url}"), &url, false, traced(span, work))
            .await
    }
}

impl IntoFuture for Commit {
    type Output = Result<CommitResult, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// Rolls a [`Transaction`] back (`DELETE …/transactions/{id}`): nothing it staged is applied;
/// built by [`Transaction::rollback`]. It repeats the begin's per-request headers. A
/// transaction the server no longer knows (expired) counts as rolled back.
#[must_use = "a rollback does nothing until it is awaited"]
#[derive(Debug)]
pub struct Rollback {
    tx: Transaction,
    options: Options,
}

request_options!(Rollback);

impl Rollback {
    /// Sends the rollback; later requests in the transaction fail without being sent.
    ///
    /// # Errors
    /// [`Error::Config`] for a transaction already committed; the status, timeout and transport
    /// errors of a single request (the server then rolls it back at its expiry).
    pub async fn send(self) -> Result<(), Error> {
        let Self { tx, options } = self;
        if let Phase::Committed(_) = tx.inner.life.phase() {
            return Err(Error::Config {
                field: "transaction",
                reason: format!(
                    "transaction {} was committed; a rollback cannot undo it",
                    tx.inner.id
                ),
            });
        }
        tx.inner.life.close(Phase::RolledBack);
        options.check()?;
        let client = tx.inner.client.clone();
        client.roll_back(&tx.inner.url, &options).await
    }
}

impl IntoFuture for Rollback {
    type Output = Result<(), Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl Drop for TxInner {
    fn drop(&mut self) {
        if !self.life.close(Phase::RolledBack) {
            return;
        }
        let (client, url) = (self.client.clone(), self.url.clone());
        let options = Options::with_headers(std::mem::take(&mut self.headers));
        // Best effort: a transaction not rolled back here ends at its expiry anyway.
        let spawned = spawn(Box::pin(async move {
            if let Err(e) = client.roll_back(&url, &options).await {
                tracing::debug!(%url, error = %e, "rolling back a dropped transaction failed");
            }
        }));
        if !spawned {
            tracing::debug!(url = %self.url, "dropped transaction left to expire");
        }
    }
}

/// `…/transactions/{id}/commit`, with the request's query.
fn commit_url(tx_url: &str, client: &Client, options: &Options) -> Result<String, Error> {
    let base = match tx_url.split_once('?') {
        Some((path, query)) => format!("{}/commit?{query}", path.trim_end_matches('/')),
        None => format!("{}/commit", tx_url.trim_end_matches('/')),
    };
    client.resolve(&base, &options.query)
}

impl Client {
    /// Begins an interactive transaction; see [`Begin`] and [`Transaction`].
    ///
    /// ```no_run
    /// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
    /// let tx = client.begin().ttl(std::time::Duration::from_secs(10)).await?;
    /// let read = tx.get::<serde_json::Value>("/items/1").await?;
    /// tx.put("/items/1", &read.value, &read).await?;
    /// tx.commit().await?;
    /// # Ok(()) }
    /// ```
    pub fn begin(&self) -> Begin {
        Begin::new(self.clone())
    }

    /// Sends a request that may be repeated without effect (a commit), resending it after a
    /// lost answer too (transport error, attempt timeout) while attempts remain; 429/503 are
    /// waited out by [`Client::exchange`]. Returns whether it was sent more than once with a
    /// possibly lost first answer (503, transport error, timeout).
    async fn exchange_repeatable(
        &self,
        op: &mut OpState,
        request: crate::transport::Outgoing,
    ) -> Result<(Exchanged, bool), Error> {
        let mut sends = 0u32;
        let mut lost = false;
        loop {
            sends += 1;
            match self.exchange(op, request.clone()).await {
                Ok(exchanged) => {
                    let resent = lost || exchanged.resent_after_503;
                    return Ok((exchanged, resent));
                }
                Err(e) if answer_lost(&e) && sends < self.inner.retry.max_attempts() => {
                    lost = true;
                    let delay = op.next_backoff();
                    tracing::debug!(error = %e, ?delay, "the answer was lost; sending again");
                    Counters::bump(&self.inner.counters.retries);
                    self.emit(Event::Attempt {
                        method: request.method.clone(),
                        url: request.url.clone(),
                        attempt: sends + 1,
                    });
                    self.inner.sleeper.sleep(delay).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The commit's answer: its results (and what the cache learns), or why it was refused.
    fn committed(
        &self,
        tx: &Transaction,
        url: &str,
        exchanged: Exchanged,
        resent: bool,
    ) -> Result<CommitResult, Error> {
        let Exchanged {
            response, attempts, ..
        } = exchanged;
        if !response.status.is_success() {
            let err = self.error_for(&Method::POST, url, &response, attempts, None);
            return Err(self.commit_refused(tx, url, err, resent));
        }
        let sent = Sent {
            url,
            root: &tx.inner.root,
            prepared: &[],
            held: &[],
        };
        let answered = parse_results(&response.body, None).map_err(|reason| {
            tx.inner
                .life
                .set(Phase::Ended("its commit's answer could not be read".into()));
            Error::Decode {
                url: url.to_owned(),
                source: serde::de::Error::custom(format!(
                    "{reason}; the transaction was committed ({}), so read its documents again",
                    response.status
                )),
            }
        })?;
        let mut results = Vec::with_capacity(answered.len());
        for answer in answered {
            let result = self.op_result(&sent, answer, None)?;
            self.learn_committed(tx, &result);
            results.push(result);
        }
        let result = CommitResult {
            id: tx.inner.id.clone(),
            results,
            attempts,
        };
        tx.inner.life.set(Phase::Committed(result.clone()));
        Counters::bump(&self.inner.counters.transactions_committed);
        Ok(result)
    }

    /// What the cache learns from one committed document: its real tag, with the body the
    /// transaction's writes said it has; a deleted or unknown one is forgotten.
    fn learn_committed(&self, tx: &Transaction, result: &crate::OpResult) {
        let key = self.key(&result.url);
        let strong = result.etag.clone().filter(|tag| !tag.is_weak());
        let body = tx.inner.life.staged(&result.url);
        match (result.status, strong, body) {
            (StatusCode::NO_CONTENT, _, _) => self.inner.cache.remove(&key),
            (_, Some(etag), Some(body)) => self.inner.cache.put(
                key,
                crate::cache::CacheEntry {
                    etag,
                    body: Arc::new(body),
                },
            ),
            _ => self.inner.cache.remove(&key),
        }
    }

    /// A refused commit: the transaction is over (except after throttling), and the stale
    /// documents' cached versions are forgotten.
    fn commit_refused(&self, tx: &Transaction, url: &str, err: Error, resent: bool) -> Error {
        match &err {
            Error::TransactionConflict { stale, .. } => {
                Counters::bump(&self.inner.counters.transaction_conflicts);
                for read in stale {
                    self.inner.cache.remove(&self.key(&read.url));
                }
                tx.inner.life.set(Phase::Ended(
                    "its commit was refused: a document it read changed".into(),
                ));
                err
            }
            Error::TransactionLost { .. } if resent => {
                tx.inner.life.set(Phase::Ended(
                    "the server no longer knows it; it may have been committed".into(),
                ));
                Error::OutcomeUnknown {
                    method: Method::POST,
                    url: url.to_owned(),
                    status: StatusCode::NOT_FOUND,
                    reason: "the server no longer knows the transaction, so whether the first attempt committed it cannot be told".into(),
                }
            }
            Error::TransactionLost { .. } => {
                tx.inner
                    .life
                    .set(Phase::Ended("the server no longer knows it".into()));
                err
            }
            Error::Locked { .. } => {
                tx.inner.life.set(Phase::Ended(
                    "its commit was refused: a document it wrote is locked".into(),
                ));
                err
            }
            _ => err,
        }
    }

    /// `DELETE` of a transaction; a transaction the server no longer knows is rolled back too.
    pub(super) async fn roll_back(&self, tx_url: &str, options: &Options) -> Result<(), Error> {
        let url = self.resolve(tx_url, &options.query)?;
        let mut op = self.op(options);
        let request = self.outgoing(&op, Method::DELETE, &url);
        let work = async {
            let Exchanged {
                response, attempts, ..
            } = self.exchange(&mut op, request).await?;
            if response.status.is_success() {
                return Ok(());
            }
            match self.error_for(&Method::DELETE, &url, &response, attempts, None) {
                Error::TransactionLost { .. } => Ok(()),
                err => Err(err),
            }
        };
        self.bounded(format!("DELETE {url}"), &url, false, work)
            .await
    }
}

/// Whether the request may have been answered without the answer arriving.
fn answer_lost(err: &Error) -> bool {
    err.is_transport() || err.timeout_scope() == Some(crate::TimeoutScope::Attempt)
}
