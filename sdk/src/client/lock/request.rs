//! The lock request: its options, and acquiring the lock.

use std::{future::IntoFuture, sync::Arc, time::Duration};

use http::{HeaderValue, Method};
use serde_json::json;
use web_time::Instant;

use crate::{
    client::options::{request_options, Options},
    lock::{lock_url, Grant, LockState},
    rt::{spawn, BoxFuture},
    Error,
};

use super::{millis, renewal::keep_alive, Client, LockGuard};

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
