//! Committing a transaction: the request (resent while its answer may have been lost), the
//! results the cache learns, and the refusals that end the transaction.

use std::{future::IntoFuture, sync::Arc};

use http::{Method, StatusCode};

use crate::{
    batch::wire::{parse_results, url_under},
    rt::{traced, BoxFuture},
    stats::Counters,
    transaction::{CommitResult, Phase},
    Error, Event, Problem,
};

use super::{
    super::{
        batch::{problem_path, Sent},
        exchange::{Exchanged, OpState},
        options::{request_options, Options},
        Client,
    },
    Transaction,
};

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
    pub(super) tx: Transaction,
    pub(super) options: Options,
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
    /// on a written document (nothing applied, transaction over): its `url()` is that
    /// document's (the server's `path` resolved against the base URL) and its `commit` field
    /// the commit's URL; [`Error::LockLost`], also naming the document, when the server refused
    /// the lock token a written document's write carried. [`Error::OutcomeUnknown`]
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

/// `…/transactions/{id}/commit`, with the request's query.
fn commit_url(tx_url: &str, client: &Client, options: &Options) -> Result<String, Error> {
    let base = match tx_url.split_once('?') {
        Some((path, query)) => format!("{}/commit?{query}", path.trim_end_matches('/')),
        None => format!("{}/commit", tx_url.trim_end_matches('/')),
    };
    client.resolve(&base, &options.query)
}

impl Client {
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
            // A lock refusal names the document in the problem's `path`, relative to the
            // transaction's root as the results' paths are.
            let document = problem_path(Problem::from_json(&response.body).as_ref())
                .map(|path| url_under(&tx.inner.root, &path));
            return Err(self.commit_refused(tx, url, err, resent, document));
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
    fn commit_refused(
        &self,
        tx: &Transaction,
        url: &str,
        err: Error,
        resent: bool,
        document: Option<String>,
    ) -> Error {
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
                locked_document(err, url, document)
            }
            Error::LockLost { .. } => {
                tx.inner.life.set(Phase::Ended(
                    "its commit was refused: the lock token of a document it wrote was refused"
                        .into(),
                ));
                match document {
                    Some(document) => Error::LockLost {
                        url: document,
                        reason: format!(
                            "the server refused its token at the commit of transaction {}, so nothing of the transaction was applied and it is over",
                            tx.inner.id
                        ),
                    },
                    None => err,
                }
            }
            _ => err,
        }
    }
}

/// A commit refused with 423 names the locked document, as a refused write would; the commit's
/// own URL is kept beside it.
fn locked_document(err: Error, commit_url: &str, document: Option<String>) -> Error {
    match (err, document) {
        (
            Error::Locked {
                method,
                retry_after,
                problem,
                ..
            },
            Some(document),
        ) => Error::Locked {
            method,
            url: document,
            retry_after,
            problem,
            commit: Some(commit_url.to_owned()),
        },
        (err, _) => err,
    }
}

/// Whether the request may have been answered without the answer arriving.
fn answer_lost(err: &Error) -> bool {
    err.is_transport() || err.timeout_scope() == Some(crate::TimeoutScope::Attempt)
}
