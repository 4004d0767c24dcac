//! wasm32 (browser / Node) runtime pieces.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use super::Sleeper;

/// A boxed future; `Send` on native targets, not on wasm32.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A boxed stream (e.g. a response body arriving in chunks); `Send` on native targets, not on
/// wasm32.
pub type BoxStream<'a, T> = Pin<Box<dyn futures_core::Stream<Item = T> + 'a>>;

/// `Send` on native targets; no bound on wasm32 (where JavaScript values are not `Send`).
pub trait MaybeSend {}
impl<T: ?Sized> MaybeSend for T {}

/// `Sync` on native targets; no bound on wasm32.
pub trait MaybeSync {}
impl<T: ?Sized> MaybeSync for T {}

struct TimeoutSleeper;

impl Sleeper for TimeoutSleeper {
    fn sleep(&self, delay: Duration) -> BoxFuture<'static, ()> {
        real_timer(delay)
    }
}

/// A `setTimeout` future; dropping it clears the timeout.
pub(crate) fn real_timer(delay: Duration) -> BoxFuture<'static, ()> {
    // setTimeout fires at once for delays above i32::MAX ms; clamping keeps "wait long" true.
    let millis = delay.as_millis().min(i32::MAX as u128) as u32;
    Box::pin(gloo_timers::future::TimeoutFuture::new(millis))
}

pub(crate) fn default_sleeper() -> Arc<dyn Sleeper> {
    Arc::new(TimeoutSleeper)
}

/// Runs `task` in the background on the JavaScript event loop.
pub(crate) fn spawn(task: BoxFuture<'static, ()>) -> bool {
    wasm_bindgen_futures::spawn_local(task);
    true
}

/// Runs `work` without its span: JavaScript cannot install a tracing subscriber, and the
/// `Instrumented` wrappers cost 14.6 KB of the module even with spans compiled out.
pub(crate) fn traced<F: std::future::Future>(_span: tracing::Span, work: F) -> F {
    work
}
