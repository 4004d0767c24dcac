//! Native (tokio) runtime pieces.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use super::Sleeper;

/// A boxed future; `Send` on native targets, not on wasm32.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A boxed stream (e.g. a response body arriving in chunks); `Send` on native targets, not on
/// wasm32.
pub type BoxStream<'a, T> = Pin<Box<dyn futures_core::Stream<Item = T> + Send + 'a>>;

/// `Send` on native targets; no bound on wasm32 (where JavaScript values are not `Send`).
pub trait MaybeSend: Send {}
impl<T: Send + ?Sized> MaybeSend for T {}

/// `Sync` on native targets; no bound on wasm32.
pub trait MaybeSync: Sync {}
impl<T: Sync + ?Sized> MaybeSync for T {}

struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, delay: Duration) -> BoxFuture<'static, ()> {
        real_timer(delay)
    }
}

/// The tokio timer; needs a tokio runtime with time enabled, as the default transport does.
pub(crate) fn real_timer(delay: Duration) -> BoxFuture<'static, ()> {
    Box::pin(tokio::time::sleep(delay))
}

pub(crate) fn default_sleeper() -> Arc<dyn Sleeper> {
    Arc::new(TokioSleeper)
}

/// Runs `task` in the background on the current tokio runtime; `false` when there is none (the
/// caller then does without the background work, e.g. lock renewal, and says so).
pub(crate) fn spawn(task: BoxFuture<'static, ()>) -> bool {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn(task);
            true
        }
        Err(_) => false,
    }
}

/// Runs `work` inside `span`.
pub(crate) fn traced<F: std::future::Future>(
    span: tracing::Span,
    work: F,
) -> tracing::instrument::Instrumented<F> {
    tracing::Instrument::instrument(work, span)
}
