//! `update()`: read, change, write with If-Match, and recover from version conflicts.

use std::sync::Arc;

use http::Method;
use serde_json::Value;
use tracing::Instrument;

use crate::{
    cache::CacheEntry, precondition::Precondition, retry::Backoff, stats::Counters, strategy::Step,
    CancelToken, ChangeError, ConflictContext, ConflictOutcome, EntityTag, Error, Event, MaybeSend,
    MissingEtagPolicy, Strategy, Versioned,
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
/// ETag (no request), otherwise to a fresh GET. The result is written with PUT and `If-Match`.
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
        match self.cancel.clone() {
            Some(token) => {
                let what = format!("update of {url}");
                token.run(&what, self.run(url).instrument(span)).await
            }
            None => self.run(url).instrument(span).await,
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

        let cached = inner.cache.get(&client.key(&url));
        let (mut base, mut etag, mut creating) = match cached {
            Some(CacheEntry {
                etag,
                body: Some(body),
            }) if !etag.is_weak() => (body, Some(etag), false),
            _ => match client.fetch(&mut op, &url, true).await {
                Ok(fresh) => (fresh.body, fresh.etag, false),
                Err(e)
                    if e.is_not_found() && client.missing_etag == MissingEtagPolicy::CreateOnly =>
                {
                    (Arc::new(Value::Null), None, true)
                }
                Err(e) => return Err(e),
            },
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
            let precondition = precondition(&etag, creating, client.missing_etag, &url)?;
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
                .send_write(&mut op, Method::PUT, &url, precondition, Some(&mine))
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
            mine = next;
            base = theirs;
            etag = theirs_etag;
            creating = false;
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

fn precondition(
    etag: &Option<EntityTag>,
    creating: bool,
    policy: MissingEtagPolicy,
    url: &str,
) -> Result<Precondition, Error> {
    match etag {
        Some(tag) if !tag.is_weak() => Ok(Precondition::IfMatch(tag.clone())),
        _ if creating => Ok(Precondition::IfNoneMatchAny),
        _ if policy == MissingEtagPolicy::Unconditional => Ok(Precondition::None),
        _ => Err(Error::MissingEtag {
            method: Method::PUT,
            url: url.to_owned(),
            weak: etag.is_some(),
        }),
    }
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
