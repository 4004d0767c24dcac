//! Runtime plumbing: the injected [`Sleeper`], and the `Send`-on-native-only bounds and boxed
//! types that the extension points ([`crate::transport::Transport`], [`Sleeper`],
//! [`crate::Observer`], strategies) are written with.
//!
//! Target-specific pieces (sleeping, `Send` bounds) are chosen here, in one place.
//!
//! Everything above this module is target-neutral: the native build uses tokio timers and
//! requires `Send` futures; the wasm32 build uses `setTimeout` (gloo-timers) and accepts
//! `!Send` futures, because JavaScript values and fetch futures are not `Send`.

use std::time::Duration;

use web_time::Instant;

#[cfg_attr(not(target_arch = "wasm32"), path = "native.rs")]
#[cfg_attr(target_arch = "wasm32", path = "wasm.rs")]
mod imp;
mod unfold;

pub(crate) use imp::{default_sleeper, real_timer, spawn, traced};
pub use imp::{BoxFuture, BoxStream, MaybeSend, MaybeSync};
pub(crate) use unfold::unfold;

/// A boxed error from a transport or a user closure.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Waits for a delay; injected so that tests and other runtimes control time.
///
/// The client calls [`Sleeper::sleep`] for every backoff wait and [`Sleeper::now`] to measure
/// the total retry deadline. The default uses `tokio::time::sleep` natively and a `setTimeout`
/// future on wasm32. Dropping the returned future must cancel the wait.
///
/// ```
/// use std::time::Duration;
/// use ifmatch::rt::{BoxFuture, Sleeper};
///
/// /// A sleeper that never waits (the deadline still advances through `now`).
/// struct NoWait;
/// impl Sleeper for NoWait {
///     fn sleep(&self, _delay: Duration) -> BoxFuture<'static, ()> {
///         Box::pin(std::future::ready(()))
///     }
/// }
/// ```
pub trait Sleeper: MaybeSend + MaybeSync + 'static {
    /// Returns a future that completes after `delay`.
    fn sleep(&self, delay: Duration) -> BoxFuture<'static, ()>;

    /// The current instant; fake sleepers override it so deadlines follow fake time.
    fn now(&self) -> Instant {
        Instant::now()
    }

    /// A future that completes after `delay` of real time, for request and operation timeouts.
    ///
    /// It is separate from [`Sleeper::sleep`] so that a fake sleeper (which returns at once) does
    /// not time out every request. The default is the runtime's timer (tokio natively,
    /// `setTimeout` on wasm32); override it when the client runs on another executor.
    fn timer(&self, delay: Duration) -> BoxFuture<'static, ()> {
        real_timer(delay)
    }
}
