//! `client.transaction(|tx| ...)`: begin, run the closure, commit, and run it again in a new
//! transaction when the commit finds that something it read has changed.

use std::{future::Future, future::IntoFuture, time::Duration};

use crate::{
    retry::{after_conflict, AfterConflict, Backoff},
    rt::{traced, BoxFuture, MaybeSend},
    stats::Counters,
    ConflictOutcome, Error, Event, Transaction,
};

use super::{
    super::{
        exchange::jitter_seed,
        options::{request_options, Options},
        Client,
    },
    Begin,
};

/// A transaction run by a closure, again from the start in a new transaction each time its
/// commit is refused because a document it read changed (as Firestore's `runTransaction`
/// does); built by [`Client::transaction`]. Await it for the closure's value.
///
/// Each attempt begins a transaction, calls the closure with it, and commits. When the commit
/// is refused with `transaction_conflict`, the closure runs again in a new transaction after
/// the conflict pause of [`crate::RetryConfig`] (10 ms by default, jittered), up to
/// `max_conflict_attempts` runs (5 by default; [`RunTransaction::max_attempts`] overrides it),
/// all within the retry `total_deadline`. Every other error ends it: an error from the closure
/// rolls the transaction back and is returned as it is; a conflict *inside* the closure (a
/// staged write refused with 412) is the closure's error too, because it says the closure's own
/// preconditions were wrong, not that the world moved.
///
/// The closure may run several times, so it should only read and write through the
/// transaction it is given (side effects elsewhere would repeat) and return what the caller
/// needs.
///
/// # Defaults
/// `ttl` the server's, `max_attempts` the client's `RetryConfig::max_conflict_attempts`.
#[must_use = "a transaction does nothing until it is awaited"]
pub struct RunTransaction<F> {
    client: Client,
    run: F,
    ttl: Option<Duration>,
    max_attempts: Option<u32>,
    options: Options,
}

request_options!(RunTransaction<F>);

impl<F> std::fmt::Debug for RunTransaction<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunTransaction")
            .field("ttl", &self.ttl)
            .field("max_attempts", &self.max_attempts)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<F, Fut, R> RunTransaction<F>
where
    F: FnMut(Transaction) -> Fut + MaybeSend + 'static,
    Fut: Future<Output = Result<R, Error>> + MaybeSend + 'static,
    R: MaybeSend + 'static,
{
    pub(super) fn new(client: Client, run: F) -> Self {
        Self {
            client,
            run,
            ttl: None,
            max_attempts: None,
            options: Options::default(),
        }
    }

    /// The lifetime of each transaction begun; see [`crate::Begin::ttl`].
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// How many times the closure may run (commits refused for a conflict, plus one), instead
    /// of the client's `RetryConfig::max_conflict_attempts`. At least 1.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts.max(1));
        self
    }

    /// Runs it. The per-request options (`header`, `query`, `timeout`) apply to the begin,
    /// commit and rollback requests; the closure's own requests take their own.
    ///
    /// # Errors
    /// The closure's error (the transaction is rolled back); [`Error::TransactionConflict`]
    /// when the last allowed attempt's commit was refused; the errors of [`crate::Begin`] and
    /// [`crate::Commit`]; [`Error::Timeout`] when the whole run passes the retry
    /// `total_deadline`.
    pub async fn send(self) -> Result<R, Error> {
        let client = self.client.clone();
        let url = client.resolve(&client.inner.transactions_path, &[])?;
        let span = tracing::debug_span!("ifmatch.transaction", url = %url);
        client
            .bounded(
                format!("transaction at {url}"),
                &url,
                false,
                traced(span, self.run()),
            )
            .await
    }

    async fn run(self) -> Result<R, Error> {
        let Self {
            client,
            mut run,
            ttl,
            max_attempts,
            options,
        } = self;
        let inner = &*client.inner;
        let config = match max_attempts {
            Some(n) => inner.retry.with_max_conflict_attempts(n),
            None => inner.retry,
        };
        let mut pauses = Backoff::new(
            config.conflict_delay(),
            config.conflict_factor(),
            config.conflict_max_delay(),
            jitter_seed(inner),
        );
        let started = inner.sleeper.now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let tx = Begin::configured(client.clone(), ttl, options.clone()).await?;
            let value = match run(tx.clone()).await {
                Ok(value) => value,
                Err(err) => {
                    if let Err(e) = tx.rollback().await {
                        tracing::debug!(error = %e, "rolling back after the closure failed");
                    }
                    return Err(err);
                }
            };
            let err = match tx.commit().await {
                Ok(_) => return Ok(value),
                Err(err @ Error::TransactionConflict { .. }) => err,
                Err(err) => return Err(err),
            };
            let elapsed = inner.sleeper.now().saturating_duration_since(started);
            let decision = after_conflict(attempt, elapsed, pauses.next_delay(), &config);
            let outcome = match decision {
                AfterConflict::Retry(_) => ConflictOutcome::Reapplied,
                AfterConflict::OutOfAttempts | AfterConflict::OutOfTime => ConflictOutcome::GaveUp,
            };
            client.emit(Event::TransactionConflict {
                url: tx.url().to_owned(),
                paths: err
                    .stale_reads()
                    .iter()
                    .map(|r| r.path().to_owned())
                    .collect(),
                outcome,
                attempt,
            });
            let AfterConflict::Retry(pause) = decision else {
                return Err(with_attempts(err, attempt));
            };
            Counters::bump(&inner.counters.retries);
            tracing::debug!(attempt, ?pause, "transaction conflict; running it again");
            inner.sleeper.sleep(pause).await;
        }
    }
}

impl<F, Fut, R> IntoFuture for RunTransaction<F>
where
    F: FnMut(Transaction) -> Fut + MaybeSend + 'static,
    Fut: Future<Output = Result<R, Error>> + MaybeSend + 'static,
    R: MaybeSend + 'static,
{
    type Output = Result<R, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

fn with_attempts(mut err: Error, runs: u32) -> Error {
    if let Error::TransactionConflict { attempts, .. } = &mut err {
        *attempts = runs;
    }
    err
}

impl Client {
    /// Runs `run` in a transaction and commits it, again in a new transaction each time the
    /// commit finds that a document it read has changed; see [`RunTransaction`].
    ///
    /// ```no_run
    /// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
    /// use ifmatch::Precondition;
    /// use serde_json::{json, Value};
    ///
    /// // Move 10 from alice to bob; no money is created or lost, however many run at once.
    /// let moved = client
    ///     .transaction(|tx| async move {
    ///         let from = tx.get::<Value>("/items/alice").await?;
    ///         let to = tx.get::<Value>("/items/bob").await?;
    ///         let (a, b) = (from.value["balance"].as_i64().unwrap_or(0), to.value["balance"].as_i64().unwrap_or(0));
    ///         if a < 10 {
    ///             return Ok(false);
    ///         }
    ///         tx.patch("/items/alice", &json!({"balance": a - 10}), Precondition::unconditional()).await?;
    ///         tx.patch("/items/bob", &json!({"balance": b + 10}), Precondition::unconditional()).await?;
    ///         Ok(true)
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn transaction<F, Fut, R>(&self, run: F) -> RunTransaction<F>
    where
        F: FnMut(Transaction) -> Fut + MaybeSend + 'static,
        Fut: Future<Output = Result<R, Error>> + MaybeSend + 'static,
        R: MaybeSend + 'static,
    {
        RunTransaction::new(self.clone(), run)
    }
}
