//! `update()`: read, change, write with If-Match, and recover from version conflicts.

use std::sync::Arc;

use http::Method;
use serde_json::Value;
use tracing::Instrument;

use crate::{
    cache::CacheEntry,
    precondition::{for_update, Header, Read, Unsafe},
    retry::Backoff,
    stats::Counters,
    strategy::Step,
    CancelToken, ChangeError, ConflictContext, ConflictOutcome, Error, Event, MaybeSend, Strategy,
    Versioned,
};

use super::{exchange::jitter_seed, Client};

/// Object-safe form of the change closure, so it can be `!Send` on wasm32.
trait Change: MaybeSend {
    fn apply(&mut self, doc: &mut Value) -> Result<(), ChangeError>;
}

impl<F> Change for F
where
    F: FnMut(&mut Value) -> Result<(), ChangeError> + MaybeSend,
{
    fn apply(&mut self, doc: &mut Value) -> Result<(), ChangeError> {
        self(doc)
    }
}

/// A read-modify-write of one JSON resource; built by [`Client::update`], run by [`Update::send`].
///
/// The change is applied to the client's cached representation when it has one with a strong
/// ETag (no request), otherwise to a fresh, unconditional GET. The result is written with PUT
/// and `If-Match` carrying the ETag of exactly the representation the change was applied to.
/// When that loses a version race (412, or a 409 naming a version conflict) the client re-reads,
/// lets the [`Strategy`] decide, pauses briefly (jittered) and writes again, up to
/// [`crate::RetryConfig::max_conflict_attempts`] writes. Any other 409 is returned at once.
#[must_use = "an update does nothing until .send().await"]
pub struct Update<'c> {
    client: &'c Client,
    path: String,
    change: Option<Box<dyn Change + 'c>>,
    strategy: Strategy,
    cancel: Option<CancelToken>,
}

impl<'c> Update<'c> {
    pub(super) fn new(client: &'c Client, path: &str) -> Self {
        Self {
            client,
            path: path.to_owned(),
            change: None,
            strategy: Strategy::default(),
            cancel: None,
        }
    }

    /// The change to make: a closure editing the document in place. It may run several times
    /// (once per conflict under [`Strategy::Reapply`]), so it must only depend on the document.
    pub fn change<F>(mut self, change: F) -> Self
    where
        F: FnMut(&mut Value) -> Result<(), ChangeError> + MaybeSend + 'c,
    {
        self.change = Some(Box::new(change));
        self
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
    /// [`Error::Aborted`], [`Error::Change`], [`Error::Cancelled`], [`Error::Config`] without a
    /// change, and the errors of [`Client::get`] and [`Client::put`].
    pub async fn send(self) -> Result<Versioned<Value>, Error> {
        let url = self.client.resolve(&self.path)?;
        let span =
            tracing::debug_span!("ifmatch.update", url = %url, strategy = self.strategy.name());
        let what = format!("update of {url}");
        let client = self.client;
        match self.cancel.clone() {
            Some(token) => {
                let work = client.bounded(what.clone(), self.run(url).instrument(span));
                token.run(&what, work).await
            }
            None => client.bounded(what, self.run(url).instrument(span)).await,
        }
    }

    async fn run(self, url: String) -> Result<Versioned<Value>, Error> {
        let Self {
            client,
            strategy,
            change,
            ..
        } = self;
        let mut change = change.ok_or_else(|| Error::Config {
            field: "change",
            reason: "update() needs .change(|doc| ...) before .send()".into(),
        })?;
        let inner = &*client.inner;
        let config = inner.retry;
        let mut op = client.op();

        // A cached body is a usable base only with a strong validator: that pair was stored
        // together, so the write is conditional on exactly the version the change saw.
        let cached = inner.cache.get(&client.key(&url));
        let (mut base, mut precondition) = match cached {
            Some(CacheEntry { etag, body }) if !etag.is_weak() => (body, Header::IfMatch(etag)),
            _ => {
                let read = match client.fetch(&mut op, &url, false).await {
                    Err(e) if !e.is_not_found() => return Err(e),
                    read => read,
                };
                let found = match &read {
                    Ok(fresh) => Read::Found(fresh.etag.as_ref()),
                    Err(_) => Read::Missing,
                };
                let header = for_update(found, client.missing_etag);
                match (header, read) {
                    (Ok(header), Ok(fresh)) => (fresh.body, header),
                    (Ok(header), Err(_)) => (Arc::new(Value::Null), header),
                    (Err(Unsafe::NotFound), Err(not_found)) => return Err(not_found),
                    // for_update reports NotFound only for a read that failed with 404/410.
                    (Err(Unsafe::NoStrongEtag { weak }), _) => {
                        return Err(Error::MissingEtag {
                            method: Method::PUT,
                            url,
                            weak,
                        })
                    }
                    (Err(Unsafe::NotFound), Ok(_)) => {
                        return Err(Error::MissingEtag {
                            method: Method::PUT,
                            url,
                            weak: false,
                        })
                    }
                }
            }
        };
        let mut mine = apply(change.as_mut(), &base, &url)?;
        let mut pauses = Backoff::new(
            config.conflict_delay(),
            config.conflict_factor(),
            config.conflict_max_delay(),
            jitter_seed(inner),
        );
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
            let err = match client
                .send_write(
                    &mut op,
                    Method::PUT,
                    &url,
                    precondition.clone(),
                    Some(&mine),
                )
                .await
            {
                Ok(mut out) => {
                    out.attempts = writes;
                    return Ok(out);
                }
                Err(err) if matches!(err, Error::Conflict { .. }) => err,
                Err(err) => return Err(err),
            };
            let status = err.status().unwrap_or(412);
            let conflict_event = |outcome| Event::Conflict {
                url: url.clone(),
                status,
                strategy: strategy.name(),
                outcome,
                attempt: writes,
            };
            let pause = pauses.next_delay();
            let out_of_time = config
                .total_deadline()
                .is_some_and(|d| op.elapsed(inner) + pause > d);
            if writes >= config.max_conflict_attempts() || out_of_time {
                client.emit(conflict_event(ConflictOutcome::GaveUp));
                return Err(with_attempts(err, writes));
            }

            // Last-write-wins needs only the current validator, which a 409/412 often carries.
            let (theirs, theirs_etag) = match (strategy.needs_body(), err.current_etag()) {
                (false, Some(current)) => (base.clone(), Some(current.clone())),
                _ => {
                    let fresh = client.fetch(&mut op, &url, false).await?;
                    (fresh.body, fresh.etag)
                }
            };
            let context = ConflictContext {
                base: &base,
                mine: &mine,
                theirs: &theirs,
                theirs_etag: theirs_etag.as_ref(),
                status,
                attempt: writes,
            };
            let (next, outcome) = match strategy.decide(&context) {
                Step::Reapply => (
                    apply(change.as_mut(), &theirs, &url)?,
                    ConflictOutcome::Reapplied,
                ),
                Step::Merged(merged) => {
                    Counters::bump(&inner.counters.merges);
                    (merged, ConflictOutcome::Merged)
                }
                Step::Overwrite => (mine.clone(), ConflictOutcome::Overwritten),
                Step::Write(value) => (value, ConflictOutcome::Replaced),
                Step::MergeFailed(paths) => {
                    client.emit(conflict_event(ConflictOutcome::MergeFailed));
                    return Err(Error::MergeConflict { url, paths });
                }
                Step::Abort => {
                    client.emit(conflict_event(ConflictOutcome::Aborted));
                    return Err(Error::Aborted {
                        url,
                        current: Box::new((*theirs).clone()),
                        etag: theirs_etag,
                    });
                }
            };
            client.emit(conflict_event(outcome));
            tracing::debug!(
                status,
                ?outcome,
                ?pause,
                "version conflict resolved; writing again"
            );
            // Conditional on the version the next attempt is based on; a server that gave no
            // strong ETag this time is written to as the policy allows.
            precondition = match for_update(Read::Found(theirs_etag.as_ref()), client.missing_etag)
            {
                Ok(header) => header,
                Err(_) => {
                    return Err(Error::MissingEtag {
                        method: Method::PUT,
                        url,
                        weak: theirs_etag.is_some(),
                    })
                }
            };
            mine = next;
            base = theirs;
            inner.sleeper.sleep(pause).await;
        }
    }
}

fn apply(change: &mut dyn Change, state: &Value, url: &str) -> Result<Value, Error> {
    let mut doc = state.clone();
    change.apply(&mut doc).map_err(|e| Error::Change {
        url: url.to_owned(),
        source: e.into_inner(),
    })?;
    Ok(doc)
}

fn with_attempts(err: Error, writes: u32) -> Error {
    match err {
        Error::Conflict {
            method,
            url,
            status,
            current_etag,
            problem,
            ..
        } => Error::Conflict {
            method,
            url,
            status,
            attempts: writes,
            current_etag,
            problem,
        },
        other => other,
    }
}
