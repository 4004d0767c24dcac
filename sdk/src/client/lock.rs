//! `client.lock(path)`: acquire a lock, keep it alive in the background, release it.

use std::{
    future::IntoFuture,
    sync::{Arc, Weak},
    time::Duration,
};

use http::{header, HeaderValue, Method};
use serde_json::json;
use web_time::Instant;

use crate::{
    cache::CacheKey,
    lock::{lock_url, Grant, Holder, LockState},
    rt::{spawn, BoxFuture},
    transport::Incoming,
    Error, Event,
};

use super::{
    exchange::OpState,
    options::{request_options, Options},
    Client,
};

/// The lease asked for when none is given: long enough to ride out a slow write, short enough
/// that an abandoned lock frees itself soon (Azure leases: 15–60 s).
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(30);

/// A request for a lock on one resource; built by [`Client::lock`]. Await it for a [`LockGuard`].
///
/// # Defaults
/// `ttl` 30 s ([`DEFAULT_LOCK_TTL`]; the server may grant less), `wait` none (a held lock is
/// refused at once with [`Error::Locked`]), `owner` none.
#[must_use = "a lock request does nothing until it is awaited"]
#[derive(Debug)]
pub struct LockRequest {
    client: Client,
    path: String,
    ttl: Duration,
    wait: Duration,
    owner: Option<String>,
    options: Options,
}

request_options!(LockRequest);

impl LockRequest {
    pub(super) fn new(client: Client, path: &str) -> Self {
        Self {
            client,
            path: path.to_owned(),
            ttl: DEFAULT_LOCK_TTL,
            wait: Duration::ZERO,
            owner: None,
            options: Options::default(),
        }
    }

    /// The lease to ask for; the guard renews it in the background before it ends.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Wait up to this long in the server's first-come-first-served queue when another client
    /// holds the lock, instead of failing at once with [`Error::Locked`].
    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// A name for the holder, shown to clients the lock refuses.
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Acquires the lock.
    ///
    /// # Errors
    /// [`Error::Locked`] when another client holds it (after `wait`, if set),
    /// [`Error::Unavailable`] when the server's wait queue is full, [`Error::Status`] (404 for
    /// a missing resource), [`Error::Decode`] when the answer is not a lock grant, timeouts
    /// and transport errors.
    pub async fn send(self) -> Result<LockGuard, Error> {
        let Self {
            client,
            path,
            ttl,
            wait,
            owner,
            options,
        } = self;
        let url = client.target(&path, &options)?;
        let target = lock_url(&url);
        let mut op = client.op(&options);
        // A queued request is answered only when the lock is granted or the wait ends.
        op.attempt_timeout = op.attempt_timeout.map(|t| t + wait);
        let body = json!({
            "owner": owner,
            "ttl_ms": millis(ttl),
            "wait_ms": millis(wait),
        });
        let response = client
            .lock_call(&mut op, Method::POST, &target, None, Some(&body))
            .await?;
        let grant = Grant::parse(&response.body).ok_or_else(|| Error::Decode {
            url: target.clone(),
            source: serde::de::Error::custom(
                "the answer is not a lock grant: it needs a non-empty `token` and a positive `ttl_ms`",
            ),
        })?;
        let header = match response.headers.get("lock-token") {
            Some(value) => value.clone(),
            None => HeaderValue::from_str(&format!("\"{}\"", grant.token)).map_err(|_| {
                Error::InvalidEtag {
                    input: grant.token.clone(),
                    reason: "the lock token cannot be sent as a header value".into(),
                }
            })?,
        };
        let state = Arc::new(LockState::new(
            url.clone(),
            header,
            grant.token.clone(),
            grant.fencing,
            grant.owner.clone().or(owner),
            grant.ttl(),
            Instant::now(),
        ));
        // Renewals and the release go with the acquire's own headers (e.g. authorization).
        state.set_headers(options.headers.clone());
        let key = client.key(&url);
        client.inner.locks.insert(key.clone(), state.clone());
        let renewing = spawn(Box::pin(keep_alive(client.clone(), Arc::downgrade(&state))));
        if !renewing {
            tracing::warn!(%url, "no async runtime to renew the lock in; it ends after its TTL");
        }
        Ok(LockGuard {
            client,
            key,
            state,
            released: false,
        })
    }
}

impl IntoFuture for LockRequest {
    type Output = Result<LockGuard, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// A held lock. While it lives, every write the client makes to the resource carries its token
/// (`Lock-Token`), and a background task renews it before it expires. If the lock is lost (a
/// renewal refused, or it expired), [`Event::LockLost`] is emitted and writes fail with
/// [`Error::LockLost`] instead of being sent. [`LockGuard::release`] releases it; dropping the
/// guard releases it too, best effort, in the background.
///
/// Tasks sharing one client: a write carries the token of the client's only live guard on the
/// resource. If several tasks each hold a guard on it (one of them has lost its lock and another
/// took it), a write must say which with `.under(&lock)`; otherwise it is refused with
/// `invalid_config` rather than sent with a token that is not its own.
#[derive(Debug)]
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard {
    client: Client,
    key: CacheKey,
    state: Arc<LockState>,
    released: bool,
}

impl LockGuard {
    /// The shared state, for writes made explicitly under this lock (`.under(&lock)`).
    pub(crate) fn state(&self) -> &Arc<LockState> {
        &self.state
    }

    /// The locked resource's absolute URL.
    pub fn url(&self) -> &str {
        &self.state.url
    }

    /// The lock token (sent as `Lock-Token` with writes).
    pub fn token(&self) -> &str {
        &self.state.token
    }

    /// The server's fencing number: higher for every later lock, so a store can refuse writes
    /// from an older holder.
    pub fn fencing(&self) -> Option<u64> {
        self.state.fencing
    }

    /// The holder's name, if one was given or granted.
    pub fn owner(&self) -> Option<&str> {
        self.state.owner.as_deref()
    }

    /// The lease the server granted.
    pub fn ttl(&self) -> Duration {
        self.state.ttl()
    }

    /// Time left before the lock ends unless renewed.
    pub fn expires_in(&self) -> Duration {
        self.state
            .expires_at()
            .saturating_duration_since(Instant::now())
    }

    /// Why the lock is no longer held, if it is not.
    pub fn lost(&self) -> Option<String> {
        self.state.unusable(Instant::now())
    }

    /// Renews the lease now (the guard also does this by itself before it ends).
    ///
    /// # Errors
    /// [`Error::LockLost`] when the server no longer honours the token; timeouts and transport
    /// errors (the lock is then kept until it expires).
    pub async fn renew(&self) -> Result<(), Error> {
        self.client.renew_lock(&self.state).await
    }

    /// Releases the lock; later writes to the resource carry no token.
    ///
    /// # Errors
    /// [`Error::LockLost`] when the lock had already been lost (so writes made under it may have
    /// been refused); timeouts and transport errors (the lock then ends at its expiry).
    pub async fn release(mut self) -> Result<(), Error> {
        self.released = true;
        self.state.release();
        self.client.inner.locks.remove(&self.key, &self.state);
        self.client.release_lock(&self.state).await
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        self.state.release();
        self.client.inner.locks.remove(&self.key, &self.state);
        let (client, state) = (self.client.clone(), self.state.clone());
        // Best effort: a lock not released here ends at its expiry anyway.
        let spawned = spawn(Box::pin(async move {
            let _ = client.release_lock(&state).await;
        }));
        if !spawned {
            tracing::debug!(url = %self.state.url, "dropped lock left to expire");
        }
    }
}

impl Client {
    /// Requests a lock on the resource at `path`; see [`LockRequest`] and [`LockGuard`].
    ///
    /// ```no_run
    /// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
    /// use std::time::Duration;
    ///
    /// let lock = client
    ///     .lock("/items/1")
    ///     .ttl(Duration::from_secs(10))
    ///     .wait(Duration::from_secs(5))
    ///     .await?;
    /// let read = client.get::<serde_json::Value>("/items/1").await?;
    /// client.put("/items/1", &read.value, &read).await?; // carries the lock token
    /// lock.release().await?;
    /// # Ok(()) }
    /// ```
    pub fn lock(&self, path: &str) -> LockRequest {
        LockRequest::new(self.clone(), path)
    }

    /// Sends one request to a lock sub-resource; a refusal becomes the matching error.
    async fn lock_call(
        &self,
        op: &mut OpState,
        method: Method,
        url: &str,
        token: Option<&HeaderValue>,
        body: Option<&serde_json::Value>,
    ) -> Result<Incoming, Error> {
        let mut request = self.outgoing(op, method.clone(), url);
        if let Some(token) = token {
            request.headers.insert("lock-token", token.clone());
        }
        if let Some(body) = body {
            request.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            request.body = serde_json::to_vec(body)
                .map_err(|source| Error::Encode { source })?
                .into();
        }
        let exchanged = self.exchange(op, request).await?;
        if exchanged.response.status.is_success() {
            return Ok(exchanged.response);
        }
        Err(self.error_for(&method, url, &exchanged.response, exchanged.attempts, None))
    }

    async fn renew_lock(&self, state: &LockState) -> Result<(), Error> {
        let url = lock_url(&state.url);
        let mut op = self.op(&state.options());
        let body = json!({ "ttl_ms": millis(state.ttl()) });
        let renewed = self
            .lock_call(&mut op, Method::PUT, &url, Some(&state.header), Some(&body))
            .await;
        match renewed {
            Ok(response) => {
                let ttl = Grant::parse(&response.body).map_or(state.ttl(), |g| g.ttl());
                state.renewed(ttl, Instant::now());
                Ok(())
            }
            Err(err) => Err(self.lost_if_refused(state, err)),
        }
    }

    async fn release_lock(&self, state: &LockState) -> Result<(), Error> {
        if state.ended_by_delete() {
            // The holder deleted the resource, which ended the lock with it (RFC 4918 §9.6).
            return Ok(());
        }
        let was_lost = state.unusable(Instant::now());
        let url = lock_url(&state.url);
        let mut op = self.op(&state.options());
        let released = self
            .lock_call(&mut op, Method::DELETE, &url, Some(&state.header), None)
            .await;
        match (released, was_lost) {
            (Ok(_), None) => Ok(()),
            (Ok(_), Some(reason)) => Err(Error::LockLost {
                url: state.url.clone(),
                reason,
            }),
            (Err(err), _) => Err(self.lost_if_refused(state, err)),
        }
    }

    /// A refusal of the token (412, 404 for a lock that is gone, 423 for someone else's) means
    /// the lock is lost: record it, tell observers once, and say so.
    fn lost_if_refused(&self, state: &LockState, err: Error) -> Error {
        let refused = matches!(err, Error::LockLost { .. } | Error::Locked { .. })
            || err.is_not_found()
            || err.is_precondition_failed();
        if !refused {
            return err;
        }
        let reason = match &err {
            Error::LockLost { reason, .. } => reason.clone(),
            Error::Locked { .. } => "another client holds it now".to_owned(),
            e if e.is_not_found() => "the server no longer has it".to_owned(),
            _ => "the server refused its token".to_owned(),
        };
        if state.lose(&reason) {
            self.emit(Event::LockLost {
                url: state.url.clone(),
                reason: reason.clone(),
            });
        }
        Error::LockLost {
            url: state.url.clone(),
            reason,
        }
    }

    /// The lock a write of `url` is made under: the guard named with `.under(&lock)`, else the
    /// client's only guard on that resource. Refuses a write under a lost lock, and one whose
    /// lock is ambiguous (tasks sharing the client each hold a guard on the resource).
    pub(super) fn lock_for(
        &self,
        url: &str,
        under: Option<&Arc<LockState>>,
    ) -> Result<Option<Arc<LockState>>, Error> {
        let state = match (under, self.inner.locks.holder(&self.key(url))) {
            (Some(state), _) if state.url != url => {
                return Err(Error::Config {
                    field: "lock",
                    reason: format!(
                        "the write to {url} was made under the lock on {}, another resource; a lock's token is for its own resource only",
                        state.url
                    ),
                })
            }
            (Some(state), _) => state.clone(),
            (None, Holder::None) => return Ok(None),
            (None, Holder::One(state)) => state,
            (None, Holder::Several) => {
                return Err(Error::Config {
                    field: "lock",
                    reason: format!(
                        "this client holds several locks on {url} (tasks sharing it each took one); say which one a write is made under with .under(&lock)"
                    ),
                })
            }
        };
        match state.unusable(Instant::now()) {
            Some(reason) => Err(Error::LockLost {
                url: url.to_owned(),
                reason,
            }),
            None => Ok(Some(state)),
        }
    }

    /// Records that a write under `lock` succeeded: a DELETE ends the lock with the resource.
    pub(super) fn lock_used(&self, lock: Option<&LockState>, method: &Method) {
        if let (Some(state), &Method::DELETE) = (lock, method) {
            state.end_by_delete();
        }
    }

    /// Records a lock the server says is gone, when a write under it was refused for its token
    /// (412 lock-token-invalid, or 423: someone else holds the lock now). A version conflict
    /// under a valid lock stays a conflict.
    pub(super) fn lock_refused(&self, lock: Option<&LockState>, err: Error) -> Error {
        let about_the_lock = matches!(err, Error::LockLost { .. } | Error::Locked { .. });
        match lock {
            Some(state) if about_the_lock => self.lost_if_refused(state, err),
            _ => err,
        }
    }
}

/// Renews the lock a third of its lease before it ends, until it is released, dropped or lost.
async fn keep_alive(client: Client, state: Weak<LockState>) {
    loop {
        let Some(lock) = state.upgrade() else { return };
        if lock.is_released() || lock.unusable(Instant::now()).is_some() {
            return;
        }
        let timer = client.inner.sleeper.timer(lock.renew_in(Instant::now()));
        let released = lock.released_signal();
        drop(lock); // a dropped guard must be able to end the task while it waits
                    // A release ends the wait at once: a pending timer would keep a Node process alive.
        if released
            .run("lock renewal wait", async {
                timer.await;
                Ok(())
            })
            .await
            .is_err()
        {
            return;
        }
        let Some(lock) = state.upgrade() else { return };
        if lock.is_released() {
            return;
        }
        match client.renew_lock(&lock).await {
            Ok(()) => {}
            Err(Error::LockLost { .. }) => return,
            Err(err) => {
                // A transient failure: try again soon, while the lease lasts.
                let left = lock.expires_at().saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let reason = format!("it expired while its renewal failed: {}", err.summary());
                    if lock.lose(&reason) {
                        client.emit(Event::LockLost {
                            url: lock.url.clone(),
                            reason,
                        });
                    }
                    return;
                }
                let pause = (left / 4).min(Duration::from_secs(1));
                let released = lock.released_signal();
                drop(lock);
                let timer = client.inner.sleeper.timer(pause);
                if released
                    .run("lock renewal retry", async {
                        timer.await;
                        Ok(())
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
