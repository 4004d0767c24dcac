//! `client.restore(path, n)`: write a past version's content back, conditional on the current
//! version.

use std::future::IntoFuture;

use http::{Method, StatusCode};
use serde_json::Value;

use crate::{
    retry::{after_conflict, AfterConflict, Backoff},
    rt::{traced, BoxFuture},
    stats::Counters,
    ConflictOutcome, Error, Event, Precondition, Versioned,
};

use super::{
    super::{
        exchange::{jitter_seed, OpState},
        options::{request_options, under_lock, Options},
        Client,
    },
    version_url,
};

/// Restores version `n` of a document; built by [`Client::restore`]. Await it for the
/// document's new version (a restore is a new write: history is never rewritten).
///
/// 1. Reads version `n` (through the cache: it never changes); a version the server does not
///    keep is [`Error::VersionNotFound`].
/// 2. Reads the document's **current** version, revalidating the cache (`If-None-Match`, so an
///    unchanged document costs a 304): the cache alone may lag behind another client's write,
///    which would only earn a 412. A deleted document is re-created (`If-None-Match: *`).
/// 3. `PUT`s version `n`'s content with `If-Match` of that current version (and with a
///    [`crate::VersionField`], the current version in the body).
///
/// **A conflict is returned, not retried** ([`Error::is_conflict`]): someone wrote the document
/// between steps 2 and 3, without knowing about the restore. Writing again would throw their
/// change away unseen, which is the lost update this crate exists to prevent; look at what they
/// wrote, then restore again if that is still right. [`Restore::retry_conflicts`] opts in to
/// re-reading the current version and writing again (up to
/// [`crate::RetryConfig::max_conflict_attempts`] writes), for callers who decided that version
/// `n` must win.
#[must_use = "a restore does nothing until it is awaited"]
#[derive(Debug)]
pub struct Restore {
    client: Client,
    path: String,
    version: u64,
    retry_conflicts: bool,
    options: Options,
}

request_options!(Restore);
under_lock!(Restore);

impl Restore {
    pub(super) fn new(client: Client, path: &str, version: u64) -> Self {
        Self {
            client,
            path: path.to_owned(),
            version,
            retry_conflicts: false,
            options: Options::default(),
        }
    }

    /// On a conflict, read the current version again and write again, overwriting the
    /// concurrent change (default `false`: return the conflict). See [`Restore`].
    pub fn retry_conflicts(mut self, retry: bool) -> Self {
        self.retry_conflicts = retry;
        self
    }

    /// Runs the restore. `attempts` on the result counts the writes sent.
    ///
    /// # Errors
    /// [`Error::VersionNotFound`], [`Error::Conflict`] when the document changed meanwhile
    /// (see [`Restore`]), [`Error::MissingEtag`] when the current version has no strong ETag,
    /// and the errors of [`Client::get`] and [`Client::put`].
    pub async fn send(self) -> Result<Versioned<Value>, Error> {
        let Self {
            client,
            path,
            version,
            retry_conflicts,
            options,
        } = self;
        let (item, history) = client.history_of(&path, &options)?;
        let source = version_url(&history, version);
        let span = tracing::debug_span!("ifmatch.restore", url = %item, version);
        let work = async {
            let mut op = client.op(&options);
            let past = client.read_version(&mut op, &source, version).await?;
            client
                .restore_over_current(&mut op, &item, &past.value, retry_conflicts)
                .await
        };
        client
            .bounded(
                format!("restore of {item}"),
                &item,
                false,
                traced(span, work),
            )
            .await
    }
}

impl Client {
    /// Writes `content` to `url` conditional on its current version (step 2 and 3 above).
    async fn restore_over_current(
        &self,
        op: &mut OpState,
        url: &str,
        content: &Value,
        retry_conflicts: bool,
    ) -> Result<Versioned<Value>, Error> {
        let config = self.inner.retry;
        let mut pauses = Backoff::new(
            config.conflict_delay(),
            config.conflict_factor(),
            config.conflict_max_delay(),
            jitter_seed(&self.inner),
        );
        let mut writes = 0;
        loop {
            writes += 1;
            let current = match self.fetch(op, url, true).await {
                Ok(fresh) => {
                    let mut read = Versioned::new((), fresh.etag);
                    read.version = fresh.version;
                    Precondition::from(&read)
                }
                Err(e) if e.is_not_found() => Precondition::create_only(),
                Err(e) => return Err(e),
            };
            let err = match self
                .write(op, Method::PUT, url, &current, Some(content))
                .await
            {
                Ok(mut out) => {
                    out.attempts = writes;
                    return Ok(out);
                }
                Err(err) if retry_conflicts && err.is_conflict() => err,
                Err(err) => return Err(err),
            };
            let event = |outcome| Event::Conflict {
                url: url.to_owned(),
                status: err.status().unwrap_or(StatusCode::PRECONDITION_FAILED),
                strategy: "restore",
                outcome,
                attempt: writes,
            };
            match after_conflict(
                writes,
                op.elapsed(&self.inner),
                pauses.next_delay(),
                &config,
            ) {
                AfterConflict::Retry(pause) => {
                    self.emit(event(ConflictOutcome::Overwritten));
                    Counters::bump(&self.inner.counters.retries);
                    self.inner.sleeper.sleep(pause).await;
                }
                AfterConflict::OutOfAttempts | AfterConflict::OutOfTime => {
                    self.emit(event(ConflictOutcome::GaveUp));
                    return Err(err);
                }
            }
        }
    }
}

impl IntoFuture for Restore {
    type Output = Result<Versioned<Value>, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
