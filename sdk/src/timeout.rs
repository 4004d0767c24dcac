//! Bounding a future by a timer: per-attempt and per-operation timeouts.

use std::{
    future::{poll_fn, Future},
    pin::pin,
    task::Poll,
};

use crate::rt::BoxFuture;

/// The timer fired before the future completed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Elapsed;

/// Runs `work` until it completes or `timer` fires (never, when `timer` is `None`). The work is
/// polled first, so a result that is ready wins over a timer that fired at the same time.
/// Dropping `work` on timeout cancels it (and the request it was sending).
pub(crate) async fn within<F: Future>(
    timer: Option<BoxFuture<'static, ()>>,
    work: F,
) -> Result<F::Output, Elapsed> {
    let mut work = pin!(work);
    let Some(mut timer) = timer else {
        return Ok(work.await);
    };
    poll_fn(|cx| {
        if let Poll::Ready(out) = work.as_mut().poll(cx) {
            return Poll::Ready(Ok(out));
        }
        timer.as_mut().poll(cx).map(|()| Err(Elapsed))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::{pending, ready};

    #[tokio::test]
    async fn a_ready_result_wins_over_a_fired_timer() {
        let fired: BoxFuture<'static, ()> = Box::pin(ready(()));
        assert_eq!(within(Some(fired), ready(7)).await, Ok(7));
    }

    #[tokio::test]
    async fn a_pending_future_times_out() {
        let fired: BoxFuture<'static, ()> = Box::pin(ready(()));
        assert_eq!(within(Some(fired), pending::<()>()).await, Err(Elapsed));
    }

    #[tokio::test]
    async fn without_a_timer_the_future_runs_to_completion() {
        assert_eq!(within(None, ready(1)).await, Ok(1));
    }
}
