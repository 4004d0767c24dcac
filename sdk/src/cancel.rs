//! Cancellation that works the same natively and in the browser.
//!
//! Dropping any operation's future cancels it (including a backoff wait). A [`CancelToken`] is for
//! when the future is owned elsewhere: another task (or a JavaScript `AbortSignal` listener in the
//! wasm adapter) calls [`CancelToken::cancel`], and the guarded operation ends with
//! [`Error::Cancelled`] at its next poll. A cancelled operation is never reported as a success.

use std::{
    future::{poll_fn, Future, IntoFuture},
    pin::pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    task::{Poll, Waker},
};

use crate::Error;

/// A cloneable cancellation flag.
///
/// ```
/// # async fn demo(client: ifmatch::Client) {
/// let token = ifmatch::CancelToken::new();
/// let canceller = token.clone();
/// // e.g. wired to a UI "stop" button or a JavaScript AbortSignal:
/// canceller.cancel();
/// let result = token.run("load item 1", client.get::<serde_json::Value>("/items/1")).await;
/// assert!(result.unwrap_err().is_cancelled());
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct CancelToken {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    cancelled: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels every operation guarded by this token (and its clones). Idempotent.
    pub fn cancel(&self) {
        self.shared.cancelled.store(true, Ordering::SeqCst);
        let wakers = std::mem::take(&mut *self.lock());
        for waker in wakers {
            waker.wake();
        }
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancelled.load(Ordering::SeqCst)
    }

    /// Completes once the token is cancelled.
    pub async fn cancelled(&self) {
        poll_fn(|cx| {
            if self.is_cancelled() {
                return Poll::Ready(());
            }
            let mut wakers = self.lock();
            if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                wakers.push(cx.waker().clone());
            }
            drop(wakers);
            // Re-check: cancel() may have run between the first check and registering.
            if self.is_cancelled() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    }

    /// Runs `operation` until it completes or the token is cancelled, whichever comes first;
    /// `what` names the operation in the [`Error::Cancelled`] message.
    pub async fn run<T, F>(&self, what: &str, operation: F) -> Result<T, Error>
    where
        F: IntoFuture<Output = Result<T, Error>>,
    {
        let mut operation = pin!(operation.into_future());
        let mut cancelled = pin!(self.cancelled());
        poll_fn(|cx| {
            // Cancellation is checked first so an already-cancelled token never starts I/O.
            if cancelled.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(Error::Cancelled {
                    what: what.to_owned(),
                }));
            }
            operation.as_mut().poll(cx)
        })
        .await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Waker>> {
        // A list of wakers cannot be left inconsistent by a panic.
        self.shared
            .wakers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::pending;

    #[tokio::test]
    async fn cancelled_before_start_never_polls_the_operation() {
        let token = CancelToken::new();
        token.cancel();
        let result: Result<(), Error> = token.run("op", async { panic!("must not run") }).await;
        assert_eq!(result.unwrap_err().code(), "cancelled");
    }

    #[tokio::test]
    async fn cancel_from_another_task_wakes_a_pending_operation() {
        let token = CancelToken::new();
        let canceller = token.clone();
        let handle = tokio::spawn(async move {
            token
                .run("wait forever", pending::<Result<(), Error>>())
                .await
        });
        tokio::task::yield_now().await;
        canceller.cancel();
        let err = handle.await.unwrap().unwrap_err();
        assert!(err.is_cancelled());
        assert!(err.to_string().starts_with("wait forever was cancelled"));
    }

    #[tokio::test]
    async fn uncancelled_operation_returns_its_result() {
        let token = CancelToken::new();
        assert_eq!(token.run("op", async { Ok(5) }).await.unwrap(), 5);
        assert!(!token.is_cancelled());
    }
}
