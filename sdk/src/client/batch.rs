//! `client.batch()`: several writes applied together or not at all, in one request.

use std::{future::IntoFuture, sync::Arc};

use http::{header, HeaderValue, Method};
use serde::Serialize;
use serde_json::Value;
use url::Url;

use crate::{
    batch::{
        check_lids,
        wire::{
            failed_operation, parse_results, repeatable, request_body, root_of, server_path,
            url_under, Answered, Prepared,
        },
        BatchOp, BatchResult, OpResult, Operation, Target,
    },
    cache::CacheEntry,
    lock::LockState,
    precondition::{header_for, Header, Unusable},
    rt::{traced, BoxFuture},
    stats::Counters,
    transport::Incoming,
    Error, Precondition, Problem,
};

use super::{
    encode,
    exchange::Exchanged,
    options::{request_options, Options},
    send_write::with_create_only,
    Client,
};

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

/// The lock each operation is made under.
type Held = Vec<Option<Arc<LockState>>>;

/// A batch (or a commit) on the wire, for reading its answer.
pub(super) struct Sent<'a> {
    pub url: &'a str,
    /// What the paths in the answer are relative to.
    pub root: &'a Url,
    pub prepared: &'a [Prepared],
    /// The lock each operation was made under.
    pub held: &'a [Option<Arc<LockState>>],
}

impl Sent<'_> {
    /// Wraps an operation's error.
    fn failed(&self, index: usize, sent: bool, error: Error) -> Error {
        let op = &self.prepared[index];
        batch_error(self.url, index, op.op, target_of(op), sent, error)
    }
}

fn batch_error(
    url: &str,
    operation: usize,
    op: BatchOp,
    target: String,
    sent: bool,
    error: Error,
) -> Error {
    Error::Batch {
        url: url.to_owned(),
        operation,
        op,
        target,
        sent,
        error: Box::new(error),
    }
}

/// How an error names the operation's document: its path, its `ref`, or a create's `lid`.
fn target_of(op: &Prepared) -> String {
    match (&op.path, &op.reference, &op.lid) {
        (Some(path), _, _) => path.clone(),
        (None, Some(lid), _) => format!("lid {lid:?}"),
        (None, None, Some(lid)) => format!("as {lid:?}"),
        (None, None, None) => String::new(),
    }
}

impl Client {
    /// Atomic batch of writes, applied all together or not at all; see [`Batch`].
    pub fn batch(&self) -> Batch {
        Batch::new(self.clone())
    }

    /// Checks every operation and resolves it for the wire (paths, preconditions, lock
    /// tokens), refusing the batch before sending at the first operation that cannot go.
    fn prepare(
        &self,
        url: &str,
        root: &Url,
        ops: Vec<Operation>,
        locks: &[Arc<LockState>],
    ) -> Result<(Vec<Prepared>, Held), Error> {
        match check_lids(&ops) {
            Err((_, reason)) if ops.is_empty() => {
                return Err(Error::Config {
                    field: "batch",
                    reason,
                })
            }
            Err((index, reason)) => {
                let op = &ops[index];
                let target = op.target.as_ref().map_or_else(
                    || {
                        op.lid
                            .as_ref()
                            .map_or_else(String::new, |l| format!("as {l:?}"))
                    },
                    ToString::to_string,
                );
                let error = Error::Config {
                    field: "batch",
                    reason,
                };
                return Err(batch_error(url, index, op.op, target, false, error));
            }
            Ok(()) => {}
        }
        let mut prepared = Vec::with_capacity(ops.len());
        let mut held = Vec::with_capacity(ops.len());
        for (index, op) in ops.into_iter().enumerate() {
            let target = op.describe_target();
            let fail = |error| batch_error(url, index, op.op, target.clone(), false, error);
            let (path, doc_url, reference) = match &op.target {
                Some(Target::Path(path)) => {
                    let doc_url = self.resolve(path, &[]).map_err(fail)?;
                    let server = server_path(root, &doc_url).ok_or_else(|| {
                        fail(Error::InvalidUrl {
                            input: doc_url.clone(),
                            reason: format!(
                                "is not under {root}, so a batch sent there cannot name it"
                            ),
                        })
                    })?;
                    (Some(server), Some(doc_url), None)
                }
                Some(Target::Lid(lid)) => (None, None, Some(lid.clone())),
                None => (None, None, None),
            };
            let precondition =
                header_for(&op.precondition).map_err(|Unusable::NoStrongEtag { weak }| {
                    fail(Error::MissingEtag {
                        method: op.op.method(),
                        url: doc_url.clone().unwrap_or_else(|| target.clone()),
                        weak,
                    })
                })?;
            let lock = match &doc_url {
                Some(doc_url) if op.op.writes() => {
                    let under = locks.iter().find(|lock| lock.url == *doc_url);
                    self.lock_for(doc_url, under).map_err(fail)?
                }
                _ => None,
            };
            let body = op.body.transpose().map_err(fail)?;
            prepared.push(Prepared {
                op: op.op,
                path,
                url: doc_url,
                reference,
                lid: op.lid,
                precondition,
                lock_token: lock.as_ref().map(|lock| token_value(lock)),
                body,
            });
            held.push(lock);
        }
        Ok((prepared, held))
    }

    /// A 2xx: the results, and what the cache and the locks learn from them.
    fn batch_applied(&self, sent: &Sent<'_>, exchanged: &Exchanged) -> Result<BatchResult, Error> {
        let answered = match parse_results(&exchanged.response.body, Some(sent.prepared.len())) {
            Ok(answered) => answered,
            Err(reason) => {
                // Applied, but at versions we cannot tell: nothing cached about them is true.
                for url in sent.prepared.iter().filter_map(|op| op.url.as_ref()) {
                    self.inner.cache.remove(&self.key(url));
                }
                return Err(Error::Decode {
                    url: sent.url.to_owned(),
                    source: serde::de::Error::custom(format!(
                        "{reason}; the batch was applied (200), so read its documents again"
                    )),
                });
            }
        };
        let mut results = Vec::with_capacity(answered.len());
        for ((answer, op), lock) in answered.into_iter().zip(sent.prepared).zip(sent.held) {
            let result = self.op_result(sent, answer, Some(op))?;
            self.learn(op.op, &result);
            if op.op == BatchOp::Delete {
                self.lock_used(lock.as_deref(), &Method::DELETE);
            }
            results.push(result);
        }
        let lids = sent
            .prepared
            .iter()
            .enumerate()
            .filter_map(|(index, op)| op.lid.clone().map(|lid| (lid, index)))
            .collect();
        Ok(BatchResult {
            results,
            lids,
            attempts: exchanged.attempts,
        })
    }

    /// One result of a batch (`op` is the operation it answers) or a commit (`None`).
    pub(super) fn op_result(
        &self,
        sent: &Sent<'_>,
        answer: Answered,
        op: Option<&Prepared>,
    ) -> Result<OpResult, Error> {
        let undecodable = |reason: String| Error::Decode {
            url: sent.url.to_owned(),
            source: serde::de::Error::custom(reason),
        };
        let path = answer
            .path
            .or_else(|| op.and_then(|op| op.path.clone()))
            .ok_or_else(|| undecodable("a result names no `path`".into()))?;
        let status = http::StatusCode::from_u16(answer.status)
            .map_err(|_| undecodable(format!("status {} is not an HTTP status", answer.status)))?;
        let etag = match answer.etag {
            Some(Ok(tag)) => Some(tag),
            Some(Err(raw)) => {
                Counters::bump(&self.inner.counters.malformed_headers);
                tracing::warn!(etag = %raw, %path, "ignoring a malformed etag in a batch result");
                None
            }
            None => None,
        };
        Ok(OpResult {
            op: op.map(|op| op.op).or(answer.op),
            status,
            url: url_under(sent.root, &path),
            path,
            etag,
            body: answer.body,
        })
    }

    /// What the cache learns from one result: the stored document at its new version, a
    /// deletion, or (a check) whether the cached version is still current.
    pub(super) fn learn(&self, op: BatchOp, result: &OpResult) {
        let key = self.key(&result.url);
        let strong = result.etag.clone().filter(|tag| !tag.is_weak());
        match (op, strong, &result.body) {
            (BatchOp::Delete, _, _) => self.inner.cache.remove(&key),
            (BatchOp::Check, Some(tag), _) => {
                if self.inner.cache.get(&key).is_some_and(|e| e.etag != tag) {
                    self.inner.cache.remove(&key);
                }
            }
            (BatchOp::Check, None, _) => {}
            (_, Some(etag), Some(body)) => self.inner.cache.put(
                key,
                CacheEntry {
                    etag,
                    body: Arc::new(body.clone()),
                },
            ),
            // Written, but not known as what: what the cache held is out of date.
            _ => self.inner.cache.remove(&key),
        }
    }

    /// A refusal: the failed operation's error as the single request would have had it.
    fn batch_refused(&self, sent: &Sent<'_>, exchanged: &Exchanged) -> Error {
        let Exchanged {
            response,
            attempts,
            resent_after_503,
        } = exchanged;
        let problem = Problem::from_json(&response.body);
        let Some(index) = failed_operation(problem.as_ref(), sent.prepared.len()) else {
            return self.error_for(&Method::POST, sent.url, response, *attempts, None);
        };
        let op = &sent.prepared[index];
        let doc_url = op
            .url
            .clone()
            .or_else(|| problem_path(problem.as_ref()).map(|p| url_under(sent.root, &p)))
            .unwrap_or_else(|| sent.url.to_owned());
        let sent_tag = match &op.precondition {
            Header::IfMatch(tag) => Some(tag),
            _ => None,
        };
        let err = self.error_for(&op.op.method(), &doc_url, response, *attempts, sent_tag);
        let err = with_create_only(err, op.precondition == Header::IfNoneMatchAny);
        let err = self.lock_refused(sent.held[index].as_deref(), err);
        if *resent_after_503 && (err.is_conflict() || err.is_not_found()) {
            return ambiguous(sent, index, response);
        }
        if let Some(status) = err.status().filter(|_| err.is_conflict()) {
            let counters = &self.inner.counters;
            Counters::bump(if status == http::StatusCode::CONFLICT {
                &counters.conflicts_409
            } else {
                &counters.conflicts_412
            });
            self.inner.cache.remove(&self.key(&doc_url));
        }
        sent.failed(index, true, err)
    }
}

/// A batch resent after a 503 was refused: perhaps because the attempt answered 503 had been
/// applied. Nothing tells which, so the caller must read before sending it again.
fn ambiguous(sent: &Sent<'_>, index: usize, response: &Incoming) -> Error {
    let op = &sent.prepared[index];
    Error::OutcomeUnknown {
        method: Method::POST,
        url: sent.url.to_owned(),
        status: response.status,
        reason: format!(
            "operation {index} ({} {}) may have been refused because that earlier attempt applied the batch",
            op.op,
            target_of(op)
        ),
    }
}

fn problem_path(problem: Option<&Problem>) -> Option<String> {
    problem?.extensions.get("path")?.as_str().map(str::to_owned)
}

/// The `Lock-Token` value as the server gave it (quoted), for the `lock_token` member.
fn token_value(lock: &LockState) -> String {
    lock.header
        .to_str()
        .map_or_else(|_| format!("\"{}\"", lock.token), str::to_owned)
}

impl Operation {
    /// How errors name the document before it is resolved.
    fn describe_target(&self) -> String {
        match (&self.target, &self.lid) {
            (Some(target), _) => target.to_string(),
            (None, Some(lid)) => format!("as {lid:?}"),
            (None, None) => String::new(),
        }
    }
}
