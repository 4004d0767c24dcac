//! `client.batch()`: several writes applied together or not at all, in one request. The
//! builder and its send live here; checking and resolving the operations for the wire in
//! `prepare.rs`, reading the server's answer (results, refusals) in `answer.rs`.

mod answer;
mod prepare;

use std::{future::IntoFuture, sync::Arc};

use http::{header, HeaderValue, Method};
use serde::Serialize;
use serde_json::Value;

use crate::{
    batch::{
        wire::{repeatable, request_body, root_of},
        BatchOp, BatchResult, Operation, Target,
    },
    lock::LockState,
    rt::{traced, BoxFuture},
    Error, Precondition,
};

use super::{
    encode,
    options::{request_options, Options},
    Client,
};

pub(in crate::client) use answer::{problem_path, Sent};

/// Where batches are sent unless [`crate::ClientBuilder::batch_path`] says otherwise.
pub const DEFAULT_BATCH_PATH: &str = "/batch";

/// An atomic batch: writes (and checks) that the server applies all together or not at all,
/// in order, each judged as the single request would be; built by [`Client::batch`]. Add
/// operations, then await it for a [`BatchResult`].
///
/// ```no_run
/// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
/// use ifmatch::{Precondition, Target};
/// use serde_json::json;
///
/// let a = client.get::<serde_json::Value>("/items/a").await?;
/// let c = client.get::<serde_json::Value>("/items/c").await?;
/// let done = client
///     .batch()
///     .create_as("order", &json!({"total": 0}))
///     .put("/items/a", &json!({"n": 2}), &a)                     // If-Match: a's ETag
///     .patch(Target::lid("order"), &json!({"total": 10}), Precondition::unconditional())
///     .check("/items/c", &c)                                     // c unchanged since read
///     .await?;
/// let order = done.created("order").expect("the server created it");
/// println!("order at {} ({:?})", order.url(), order.etag());
/// # Ok(()) }
/// ```
///
/// - **Documents** are named by path (resolved against the base URL as for `get`), by absolute
///   URL under the base URL, or by [`Target::lid`] for a document created earlier in the batch.
///   The server receives paths relative to the client's base URL: with the base
///   `https://h/api`, `/items/a` is sent as `/items/a` and the batch goes to
///   `https://h/api/batch`. A document outside the base URL cannot be named (`invalid_url`).
///   Without a base URL, paths are relative to the batch endpoint's origin.
/// - **Preconditions** are the [`Precondition`]s of single writes (`&read`, an
///   [`crate::EntityTag`], [`Precondition::create_only`], [`Precondition::unconditional`]), sent as
///   `if_match` / `if_none_match`. A weak or missing version fails before anything is sent.
/// - **Locks**: an operation on a document this client holds a lock on carries its token
///   (`lock_token`), as a single write would; [`Batch::under`] names the lock when tasks sharing
///   the client each hold one.
/// - **Success** updates the ETag cache from the results (the last result for a document wins,
///   a delete forgets it).
/// - **Failure** of one operation fails the batch and changes nothing: the error is
///   [`Error::Batch`], whose predicates answer for the operation's own error (a stale `if_match`
///   is `is_conflict()` and `is_precondition_failed()`, `current_etag()` names the current
///   version) and whose [`Error::failed_operation`] is its index. A batch refused as a whole
///   (malformed, throttled) is the plain error.
/// - **Resending**: a batch is a POST. After a 429 or 503 it is sent again only when that cannot
///   apply it twice: every writing operation is conditional (`If-Match` or `If-None-Match: *`)
///   and none is a `create`. Other batches carry an `Idempotency-Key` and follow the rules of a
///   keyed POST (resent after 429; after 503 only with
///   [`crate::ClientBuilder::server_honours_idempotency_keys`]). Transport errors and timeouts
///   are never resent.
#[must_use = "a batch does nothing until it is awaited"]
#[derive(Debug)]
pub struct Batch {
    client: Client,
    ops: Vec<Operation>,
    locks: Vec<Arc<LockState>>,
    options: Options,
}

request_options!(Batch);

impl Batch {
    pub(super) fn new(client: Client) -> Self {
        Self {
            client,
            ops: Vec::new(),
            locks: Vec::new(),
            options: Options::default(),
        }
    }

    fn push(
        mut self,
        op: BatchOp,
        target: Option<Target>,
        lid: Option<&str>,
        precondition: Precondition,
        body: Option<Result<Value, Error>>,
    ) -> Self {
        self.ops.push(Operation {
            op,
            target,
            lid: lid.map(str::to_owned),
            precondition,
            body,
        });
        self
    }

    /// Creates a document under a server-chosen id, as `POST /items` would.
    pub fn create<B: Serialize + ?Sized>(self, doc: &B) -> Self {
        self.push(
            BatchOp::Create,
            None,
            None,
            Precondition::unconditional(),
            Some(encode(doc)),
        )
    }

    /// Creates a document under a server-chosen id and names it `lid` (1 to 64 of
    /// `[A-Za-z0-9_.-]`, unique in the batch), so later operations can act on it
    /// ([`Target::lid`]) and [`BatchResult::created`] finds it.
    pub fn create_as<B: Serialize + ?Sized>(self, lid: &str, doc: &B) -> Self {
        self.push(
            BatchOp::Create,
            None,
            Some(lid),
            Precondition::unconditional(),
            Some(encode(doc)),
        )
    }

    /// Creates or replaces a document, as `PUT` with `precondition` would.
    pub fn put<B: Serialize + ?Sized>(
        self,
        target: impl Into<Target>,
        doc: &B,
        precondition: impl Into<Precondition>,
    ) -> Self {
        self.push(
            BatchOp::Put,
            Some(target.into()),
            None,
            precondition.into(),
            Some(encode(doc)),
        )
    }

    /// Applies a JSON Merge Patch (RFC 7396), as `PATCH` with `precondition` would.
    pub fn patch<P: Serialize + ?Sized>(
        self,
        target: impl Into<Target>,
        merge_patch: &P,
        precondition: impl Into<Precondition>,
    ) -> Self {
        self.push(
            BatchOp::Patch,
            Some(target.into()),
            None,
            precondition.into(),
            Some(encode(merge_patch)),
        )
    }

    /// Deletes a document, as `DELETE` with `precondition` would.
    pub fn delete(self, target: impl Into<Target>, precondition: impl Into<Precondition>) -> Self {
        self.push(
            BatchOp::Delete,
            Some(target.into()),
            None,
            precondition.into(),
            None,
        )
    }

    /// Writes nothing, but fails the batch unless the document exists and `precondition`
    /// holds: the batch then depends on a document it only read (pass `&read`).
    pub fn check(self, target: impl Into<Target>, precondition: impl Into<Precondition>) -> Self {
        self.push(
            BatchOp::Check,
            Some(target.into()),
            None,
            precondition.into(),
            None,
        )
    }

    /// Makes the operations on `lock`'s resource carry that lock's token. Needed only when
    /// tasks sharing the client each hold a lock on it; otherwise the client's one lock on a
    /// document is used by itself. May be called once per locked document.
    pub fn under(mut self, lock: &crate::LockGuard) -> Self {
        self.locks.push(lock.state().clone());
        self
    }

    /// How many operations the batch has so far.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether it has none yet (sending it then fails with `invalid_config`).
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Sends the batch.
    ///
    /// # Errors
    /// [`Error::Batch`] when one operation failed (nothing was applied; see
    /// [`Error::failed_operation`]) or could not be sent (its body could not be serialized, its
    /// precondition has no strong ETag, its document is not under the base URL, its lock was
    /// lost, its `lid` or `ref` is invalid); [`Error::Config`] for an empty batch;
    /// [`Error::OutcomeUnknown`] when a batch resent after a 503 was refused (the first attempt
    /// may have been applied); the status, throttling, timeout and transport errors of a
    /// single request for the batch as a whole. A 200 whose results cannot be read is
    /// [`Error::Decode`]: the batch **was** applied; read the documents again.
    pub async fn send(self) -> Result<BatchResult, Error> {
        let Self {
            client,
            ops,
            locks,
            options,
        } = self;
        let url = client.target(&client.inner.batch_path, &options)?;
        let root =
            root_of(client.inner.base_url.as_ref(), &url).ok_or_else(|| Error::InvalidUrl {
                input: url.clone(),
                reason: "cannot be the base of the batch's document paths".into(),
            })?;
        let (prepared, held) = client.prepare(&url, &root, ops, &locks)?;
        let span = tracing::debug_span!("ifmatch.batch", url = %url, operations = prepared.len());
        let work = async {
            let mut op = client.op(&options);
            op.repeatable = repeatable(&prepared);
            let mut request = client.outgoing(&op, Method::POST, &url);
            request.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            request.body = serde_json::to_vec(&request_body(&prepared))
                .map_err(|source| Error::Encode { source })?
                .into();
            if !op.repeatable && client.inner.retry.retries_enabled() {
                // One key per logical batch, the same on every resend, as for a single POST.
                let key = client.inner.keys.idempotency_key();
                if let Ok(value) = HeaderValue::from_str(&key) {
                    request.headers.insert("idempotency-key", value);
                }
            }
            let exchanged = client.exchange(&mut op, request).await?;
            let sent = Sent {
                url: &url,
                root: &root,
                prepared: &prepared,
                held: &held,
            };
            if exchanged.response.status.is_success() {
                client.batch_applied(&sent, &exchanged)
            } else {
                Err(client.batch_refused(&sent, &exchanged))
            }
        };
        client
            .bounded(format!("batch POST {url}"), &url, false, traced(span, work))
            .await
    }
}

impl IntoFuture for Batch {
    type Output = Result<BatchResult, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl Client {
    /// Atomic batch of writes, applied all together or not at all; see [`Batch`].
    pub fn batch(&self) -> Batch {
        Batch::new(self.clone())
    }
}
