//! `update()`: read, change, write with If-Match, and recover from version conflicts.

use std::{future::IntoFuture, marker::PhantomData, sync::Arc};

use http::{Method, StatusCode};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use crate::{
    cache::CacheEntry,
    precondition::{for_update, Header, Read},
    retry::{after_conflict, carried_still_fresh, jittered, pause_ceiling, AfterConflict},
    rt::traced,
    rt::{BoxFuture, MaybeSend},
    stats::Counters,
    strategy::Step,
    CancelToken, ChangeError, ConflictContext, ConflictOutcome, Error, Event, Strategy, UpdateEnd,
    Versioned,
};

use super::{
    carried,
    change::{apply, in_place, Change},
    exchange::jitter_seed,
    options::{request_options, under_lock, within_transaction, Options},
    Client,
};

/// A read-modify-write of one JSON resource as `T`; built by [`Client::update`]. Await it, or
/// call [`Update::send`]; set the strategy and per-request options (`header`, `query`,
/// `timeout`) first. It owns a clone of the client, so it can be moved into a spawned task.
///
/// The change is applied to the client's cached representation when it has one with a strong
/// ETag (no request), otherwise to a fresh, unconditional GET. The result is written with PUT
/// and `If-Match` carrying the ETag of exactly the representation the change was applied to.
/// When that loses a version race (412, or a 409 naming a version conflict) the client re-reads,
/// lets the [`Strategy`] decide, pauses briefly (jittered) and writes again, up to
/// [`crate::RetryConfig::max_conflict_attempts`] writes. Any other 409 is returned at once.
///
/// The change sees the document as `T` (decoded from JSON each time it runs, and encoded
/// back); merging works on the JSON form, so members `T` does not know are kept by
/// [`Strategy::ThreeWayMerge`] but dropped by a `T` that does not keep them.
///
/// **Inside a transaction** ([`crate::Transaction::update`], or `.within(&tx)`) the read is the
/// transaction's (it pins the version, or sees the transaction's own write), the write is
/// staged with `If-Match` of the tag that read answered (a provisional tag for a document the
/// transaction wrote), and the ETag cache is neither read nor filled. The transaction's view
/// does not move under it, so a concurrent writer elsewhere surfaces at the commit, as a
/// `transaction_conflict` (which [`Client::transaction`] answers by running the whole closure
/// again); there is nothing for a strategy to merge. Only [`Strategy::Reapply`] (the default)
/// is accepted there: another strategy fails the update with `invalid_config` before anything
/// is sent, rather than being silently ignored. (A 412 inside can only come from another
/// request of the same transaction writing the document meanwhile; the update then reads
/// again in the transaction and reapplies the change, as outside.)
#[must_use = "an update does nothing until it is awaited"]
pub struct Update<T> {
    client: Client,
    path: String,
    change: Change,
    strategy: Strategy,
    cancel: Option<CancelToken>,
    options: Options,
    decoded: PhantomData<fn() -> T>,
}

request_options!(Update<T>);
under_lock!(Update<T>);
within_transaction!(Update<T>);

impl<T> std::fmt::Debug for Update<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Update")
            .field("path", &self.path)
            .field("strategy", &self.strategy)
            .field("cancellable", &self.cancel.is_some())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<T: Serialize + DeserializeOwned> Update<T> {
    pub(super) fn new<F>(client: Client, path: &str, change: F) -> Self
    where
        F: FnMut(&mut T) -> Result<(), ChangeError> + MaybeSend + 'static,
    {
        Self::with_change(client, path, in_place(change))
    }

    pub(super) fn with_change(client: Client, path: &str, change: Change) -> Self {
        Self {
            client,
            path: path.to_owned(),
            change,
            strategy: Strategy::default(),
            cancel: None,
            options: Options::default(),
            decoded: PhantomData,
        }
    }

    /// How to recover from a version conflict; [`Strategy::Reapply`] when not set.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Ends the update with [`Error::Cancelled`] as soon as `token` is cancelled, even mid-wait.
    pub fn cancel_on(mut self, token: &CancelToken) -> Self {
        self.cancel = Some(token.clone());
        self
    }

    /// Runs the update. `attempts` on the result counts the writes sent.
    ///
    /// # Errors
    /// [`Error::Conflict`] after the last allowed write, [`Error::MergeConflict`],
    /// [`Error::Aborted`], [`Error::Change`], [`Error::Cancelled`], [`Error::Decode`] when the
    /// document is not a `T`, [`Error::OutcomeUnknown`], and the errors of [`Client::get`] and
    /// [`Client::put`]. Inside a transaction, [`Error::Config`] for a strategy other than
    /// [`Strategy::Reapply`].
    pub async fn send(self) -> Result<Versioned<T>, Error> {
        let url = self.client.target(&self.path, &self.options)?;
        if let Some(tx) = &self.options.transaction {
            in_transaction(&self.strategy, tx, &url)?;
        }
        let span =
            tracing::debug_span!("ifmatch.update", url = %url, strategy = self.strategy.name());
        let what = format!("update of {url}");
        let client = self.client.clone();
        let cancel = self.cancel.clone();
        let work = client.bounded(
            what.clone(),
            &url,
            false,
            traced(span, self.run(url.clone())),
        );
        let updated = match cancel {
            Some(token) => token.run(&what, work).await,
            None => work.await,
        }?;
        let Versioned {
            value,
            etag,
            location,
            attempts,
            from_cache,
            version,
            headers,
            status,
        } = updated;
        let value = T::deserialize(&value).map_err(|source| Error::Decode { url, source })?;
        Ok(Versioned {
            value,
            etag,
            location,
            attempts,
            from_cache,
            version,
            headers,
            status,
        })
    }

    async fn run(self, url: String) -> Result<Versioned<Value>, Error> {
        let Self {
            client,
            strategy,
            mut change,
            options,
            ..
        } = self;
        let inner = &*client.inner;
        // Updates of this resource through this client take turns (held until this one ends,
        // however it ends), so they never refuse each other's writes; a transaction's view
        // does not move, so its updates need no turn.
        let _turn = match &options.transaction {
            None => Some(inner.queues.turn(client.key(&url)).await),
            Some(_) => None,
        };
        let config = inner.retry;
        let mut op = client.op(&options);
        // A transaction's refusals are about its own view; outside one, ask refusals to carry
        // the current document (see `carried`).
        if config.conflict_representation() && options.transaction.is_none() {
            op.headers.insert(carried::PREFER, carried::prefer_value());
        }

        let mut attempt = first_attempt(&client, &mut op, &url, &mut change).await?;
        let mut jitter = jitter_seed(inner).map(fastrand::Rng::with_seed);
        let mut writes = 0u32;
        loop {
            writes += 1;
            if writes > 1 {
                Counters::bump(&inner.counters.retries);
                client.emit(Event::Attempt {
                    method: Method::PUT,
                    url: url.clone(),
                    attempt: writes,
                });
            }
            // With a version field, the base's version goes into the body sent (or the query).
            let versioned = client.update_body(&attempt.base, &attempt.mine)?;
            op.version_query = client.update_query(&attempt.base);
            op.repeatable = versioned.is_some() || op.version_query.is_some();
            let sent = inner.sleeper.now();
            let written = client
                .send_write(
                    &mut op,
                    Method::PUT,
                    &url,
                    attempt.precondition.clone(),
                    Some(versioned.as_ref().unwrap_or(&attempt.mine)),
                )
                .await;
            let err = match written {
                Ok(mut out) => {
                    out.attempts = writes;
                    return Ok(out);
                }
                Err(err @ Error::Conflict { .. }) => err,
                Err(err) => return Err(err),
            };
            // The refused write's round trip (throttle waits included, which only lengthen
            // the pause) is what the next pause is scaled to.
            let rtt = inner.sleeper.now().saturating_duration_since(sent);
            let conflict = Conflict {
                url: &url,
                status: err.status().unwrap_or(StatusCode::PRECONDITION_FAILED),
                strategy: &strategy,
                writes,
            };
            if matches!(strategy, Strategy::Escalate) {
                // No automatic recovery: the refusal itself (with the server's record of it,
                // `conflict_id()`) goes to whoever resolves conflicts by hand.
                client.emit(conflict.event(ConflictOutcome::Escalated));
                return Err(ended(err, writes, UpdateEnd::Escalated));
            }
            let pause = jittered(
                pause_ceiling(&config, rtt, writes),
                jitter.as_mut().map(fastrand::Rng::f64),
            );
            let pause = match after_conflict(writes, op.elapsed(inner), pause, &config) {
                AfterConflict::Retry(pause) => pause,
                AfterConflict::OutOfAttempts => {
                    client.emit(conflict.event(ConflictOutcome::GaveUp));
                    return Err(ended(err, writes, UpdateEnd::OutOfAttempts));
                }
                AfterConflict::OutOfTime => {
                    client.emit(conflict.event(ConflictOutcome::GaveUp));
                    return Err(ended(err, writes, UpdateEnd::OutOfTime));
                }
            };
            // Pause first, then re-read: state read before the pause would be older by the
            // whole pause when it is written on (another writer may well have written meanwhile).
            tracing::debug!(status = %conflict.status, ?pause, ?rtt, "version conflict; pausing, then recovering");
            inner.sleeper.sleep(pause).await;
            let fresh = carried_still_fresh(pause, rtt);
            attempt = conflict
                .recover(&client, &mut op, &mut change, (attempt, fresh), err)
                .await?;
        }
    }
}

/// Refuses a strategy that could never act inside a transaction, whose view does not move.
fn in_transaction(strategy: &Strategy, tx: &crate::Transaction, url: &str) -> Result<(), Error> {
    if matches!(strategy, Strategy::Reapply) {
        return Ok(());
    }
    Err(Error::Config {
        field: "strategy",
        reason: format!(
            "the update of {url} inside transaction {} has strategy {}, which never acts there: the transaction's view does not change under it, so a concurrent write shows up at the commit as transaction_conflict, and client.transaction(...) runs the whole closure again; leave the strategy at its default (Reapply)",
            tx.id(),
            strategy.name()
        ),
    })
}

/// What one write of an update is: the state it was computed from, the document, and the
/// version it is conditional on.
struct Attempt {
    base: Arc<Value>,
    mine: Value,
    precondition: Header,
}

/// The first attempt: the change applied to the cached body when it has a strong validator (that
/// pair was stored together, so the write is conditional on exactly the version the change saw),
/// otherwise to an unconditional read, per the client's [`crate::WeakValidators`] and
/// [`crate::MissingEtagPolicy`]. Inside a
/// transaction the cache is not the transaction's view: always read.
async fn first_attempt(
    client: &Client,
    op: &mut super::exchange::OpState,
    url: &str,
    change: &mut Change,
) -> Result<Attempt, Error> {
    let cached = match &op.transaction {
        None => client.inner.cache.get(&client.key(url)),
        Some(_) => None,
    };
    let (base, precondition) = match cached {
        // A strong ETag (or, with a version field, a version in the body) was stored with
        // exactly this body.
        Some(CacheEntry { etag, body }) if client.usable_base(&body, &etag) => {
            let header = client.update_header(url, &body, Some(&etag))?;
            (body, header)
        }
        _ => match client.read_base(op, url).await {
            Ok((body, _, header)) => (body, header),
            Err(e) if !e.is_not_found() => return Err(e),
            Err(not_found) => match for_update(Read::Missing, client.missing_etag) {
                Ok(header) => (Arc::new(Value::Null), header),
                Err(_) => return Err(not_found),
            },
        },
    };
    let mine = apply(change, &base, url).await?;
    Ok(Attempt {
        base,
        mine,
        precondition,
    })
}

/// One refused write of an update, for events and recovery.
struct Conflict<'a> {
    url: &'a str,
    status: StatusCode,
    strategy: &'a Strategy,
    writes: u32,
}

impl Conflict<'_> {
    fn event(&self, outcome: ConflictOutcome) -> Event {
        Event::Conflict {
            url: self.url.to_owned(),
            status: self.status,
            strategy: self.strategy.name(),
            outcome,
            attempt: self.writes,
        }
    }

    /// Re-reads (unless the strategy needs only the current validator, which a 409/412 often
    /// carries), lets the strategy decide, and returns the next attempt.
    async fn recover(
        &self,
        client: &Client,
        op: &mut super::exchange::OpState,
        change: &mut Change,
        (attempt, carried_fresh): (Attempt, bool),
        err: Error,
    ) -> Result<Attempt, Error> {
        let url = self.url;
        let Attempt { base, mine, .. } = attempt;
        // With a version field the next write needs the version in their body: always read.
        // A refusal's ETag is used only as `current_etag()` names it (verified by its body).
        let needs_body = self.strategy.needs_body() || client.version_field.is_some();
        // The document the refusal carried, unless the pause made it likely stale.
        let carried =
            carried::carried(&err).filter(|_| carried_fresh && client.version_field.is_none());
        let (theirs, theirs_etag, precondition) = match (needs_body, err.current_etag(), carried) {
            // The refusal carried the current document: no read needed.
            (_, _, Some((current, etag))) => {
                let header = client.update_header(url, &current, Some(&etag))?;
                (current, Some(etag), header)
            }
            (false, Some(current), None) => {
                let header = client.update_header(url, &base, Some(current))?;
                (base.clone(), Some(current.clone()), header)
            }
            _ => client.read_base(op, url).await?,
        };
        let context = ConflictContext {
            base: &base,
            mine: &mine,
            theirs: &theirs,
            theirs_etag: theirs_etag.as_ref(),
            status: self.status,
            attempt: self.writes,
        };
        let (next, outcome) = match self.strategy.decide(&context) {
            Step::Reapply => (
                apply(change, &theirs, url).await?,
                ConflictOutcome::Reapplied,
            ),
            Step::Merged(merged) => {
                Counters::bump(&client.inner.counters.merges);
                (merged, ConflictOutcome::Merged)
            }
            Step::Overwrite => (mine.clone(), ConflictOutcome::Overwritten),
            Step::Write(value) => (value, ConflictOutcome::Replaced),
            Step::MergeFailed(paths) => {
                client.emit(self.event(ConflictOutcome::MergeFailed));
                return Err(Error::MergeConflict {
                    url: url.to_owned(),
                    paths,
                });
            }
            Step::Escalate => {
                client.emit(self.event(ConflictOutcome::Escalated));
                return Err(ended(err, self.writes, UpdateEnd::Escalated));
            }
            Step::Abort => {
                client.emit(self.event(ConflictOutcome::Aborted));
                return Err(Error::Aborted {
                    url: url.to_owned(),
                    current: Box::new((*theirs).clone()),
                    etag: theirs_etag,
                });
            }
        };
        client.emit(self.event(outcome));
        // Conditional on the version the next attempt is based on; a server that gave no
        // strong ETag this time is written to as the policies allow.
        Ok(Attempt {
            base: theirs,
            mine: next,
            precondition,
        })
    }
}

impl<T: Serialize + DeserializeOwned + MaybeSend + 'static> IntoFuture for Update<T> {
    type Output = Result<Versioned<T>, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// The refusal that ended the update, with the writes it sent and why it stopped there.
fn ended(mut err: Error, writes: u32, why: UpdateEnd) -> Error {
    if let Error::Conflict {
        attempts,
        ended_update,
        ..
    } = &mut err
    {
        *attempts = writes;
        *ended_update = Some(why);
    }
    err
}
