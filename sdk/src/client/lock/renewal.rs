//! Talking to the lock sub-resource: one call, renewal, release, and the background renewal.

use std::{sync::Weak, time::Duration};

use http::{header, HeaderValue, Method};
use serde_json::json;
use web_time::Instant;

use crate::{
    client::exchange::OpState,
    lock::{lock_url, Grant, LockState},
    rt::BoxFuture,
    transport::Incoming,
    Error, Event,
};

use super::{millis, Client};

impl Client {
    /// Sends one request to a lock sub-resource; a refusal becomes the matching error.
    ///
    /// Boxed and never inlined, as `exchange` is, so the body is compiled once.
    #[inline(never)]
    pub(super) fn lock_call<'a>(
        &'a self,
        op: &'a mut OpState,
        method: Method,
        url: &'a str,
        token: Option<&'a HeaderValue>,
        body: Option<&'a serde_json::Value>,
    ) -> BoxFuture<'a, Result<Incoming, Error>> {
        Box::pin(self.lock_call_unboxed(op, method, url, token, body))
    }

    async fn lock_call_unboxed(
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
        // To a server declared to honour keys, a lock call whose answer was lost is resent with
        // the same key and gets the first attempt's answer (the grant, not a 423 from the lock
        // it took itself; the release, not a 412 for the token it ended itself).
        if self.inner.keys_honoured && self.inner.retry.retries_enabled() {
            let key = self.inner.keys.idempotency_key();
            if let Ok(value) = HeaderValue::from_str(&key) {
                request.headers.insert("idempotency-key", value);
            }
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

    pub(super) async fn renew_lock(&self, state: &LockState) -> Result<(), Error> {
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

    pub(super) async fn release_lock(&self, state: &LockState) -> Result<(), Error> {
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
    pub(super) fn lost_if_refused(&self, state: &LockState, err: Error) -> Error {
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
}

/// Renews the lock a third of its lease before it ends, until it is released, dropped or lost.
pub(super) async fn keep_alive(client: Client, state: Weak<LockState>) {
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
