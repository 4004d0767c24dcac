//! Test helpers: a sleeper that records waits instead of sleeping.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use web_time::Instant;

use crate::rt::{BoxFuture, Sleeper};

/// A [`Sleeper`] that returns at once and records every requested delay; its clock advances
/// by the recorded delays, so deadlines behave as if the waits had happened.
///
/// ```
/// use std::time::Duration;
/// use ifmatch::{rt::Sleeper, testing::RecordingSleeper};
///
/// let sleeper = RecordingSleeper::new();
/// let start = sleeper.now();
/// # tokio_test_block(async {
/// sleeper.sleep(Duration::from_secs(3)).await;
/// # });
/// assert_eq!(sleeper.delays(), vec![Duration::from_secs(3)]);
/// assert!(sleeper.now() - start >= Duration::from_secs(3));
/// # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
/// #     let waker = std::task::Waker::noop();
/// #     let mut cx = std::task::Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     assert!(f.as_mut().poll(&mut cx).is_ready());
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RecordingSleeper {
    start: Instant,
    delays: Arc<Mutex<Vec<Duration>>>,
}

impl Default for RecordingSleeper {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordingSleeper {
    /// A sleeper with no recorded delays.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            delays: Arc::default(),
        }
    }

    /// The delays requested so far, in order.
    pub fn delays(&self) -> Vec<Duration> {
        self.lock().clone()
    }

    /// Their sum.
    pub fn total(&self) -> Duration {
        self.lock().iter().sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Duration>> {
        self.delays.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, delay: Duration) -> BoxFuture<'static, ()> {
        self.lock().push(delay);
        Box::pin(std::future::ready(()))
    }

    fn now(&self) -> Instant {
        self.start + self.total()
    }
}
