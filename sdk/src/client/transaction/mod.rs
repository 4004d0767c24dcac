//! `client.begin()`: an interactive transaction. The handle and the requests made inside it
//! live here; beginning one in `begin.rs`, committing it (resends, results, refusals) in
//! `commit.rs`, rolling it back (also when dropped) in `rollback.rs`, and the closure form
//! `client.transaction(|tx| ...)` in `run.rs`.

mod begin;
mod commit;
mod rollback;
mod run;

use std::{sync::Arc, time::Duration};

use http::{HeaderMap, HeaderValue, Method};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use url::Url;
use web_time::Instant;

use crate::{
    rt::MaybeSend, transaction::Life, ChangeError, Error, Get, Precondition, Raw, Update, Write,
};

use super::{options::Options, Client};

pub use begin::Begin;
pub use commit::Commit;
pub use rollback::Rollback;
pub use run::RunTransaction;

/// Where transactions begin unless [`crate::ClientBuilder::transactions_path`] says otherwise.
pub const DEFAULT_TRANSACTIONS_PATH: &str = "/transactions";

/// An open interactive transaction: read, decide and write several documents over several
/// requests, then [`commit`](Transaction::commit) them together; begun by [`Client::begin`]
/// (or run for you, again after each conflict, by [`Client::transaction`]).
///
/// The requests built by [`Transaction::get`], [`Transaction::put`], [`Transaction::update`], …
/// (or any `get`, write, `update` or `request` builder with
/// [`.within(&tx)`](crate::Get::within)) carry `Transaction-Id` and act
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

    /// A read-modify-write of one document inside the transaction; see [`Client::update`] and
    /// [`Update`]. It reads the document in the transaction (pinning its version, or seeing
    /// the transaction's own write), applies `change`, and stages the result with `If-Match`
    /// of the tag it read; the ETag cache is not used. A concurrent writer elsewhere shows up
    /// at the commit (`transaction_conflict`), not here, so only the default
    /// [`crate::Strategy::Reapply`] is accepted (another fails with `invalid_config`).
    ///
    /// ```no_run
    /// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
    /// use serde_json::Value;
    ///
    /// client
    ///     .transaction(|tx| async move {
    ///         tx.update("/items/counter", |doc: &mut Value| {
    ///             doc["n"] = (doc["n"].as_i64().unwrap_or(0) + 1).into();
    ///             Ok(())
    ///         })
    ///         .await?;
    ///         Ok(())
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn update<T: Serialize + DeserializeOwned>(
        &self,
        path: &str,
        change: impl FnMut(&mut T) -> Result<(), ChangeError> + MaybeSend + 'static,
    ) -> Update<T> {
        self.inner.client.update(path, change).within(self)
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
