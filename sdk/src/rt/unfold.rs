//! A stream from a state and an async step, as `futures::stream::unfold` (without depending on
//! `futures-util` for it): the transports' chunked bodies and the conflict subscription.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::Stream;

use super::{BoxFuture, BoxStream, MaybeSend};

/// Yields what `step` returns for each state until it returns `None`; then the stream ends
/// (and stays ended). Dropping the stream drops the step in flight.
pub(crate) fn unfold<S, T, F, Fut>(state: S, step: F) -> BoxStream<'static, T>
where
    S: MaybeSend + 'static,
    T: 'static,
    F: FnMut(S) -> Fut + MaybeSend + 'static,
    Fut: Future<Output = Option<(T, S)>> + MaybeSend + 'static,
{
    Box::pin(Unfold {
        state: Some(state),
        step,
        pending: None,
    })
}

struct Unfold<S, T, F> {
    state: Option<S>,
    step: F,
    pending: Option<BoxFuture<'static, Option<(T, S)>>>,
}

// Neither the state nor the step is ever pinned (the future in flight is boxed).
impl<S, T, F> Unpin for Unfold<S, T, F> {}

impl<S, T, F, Fut> Stream for Unfold<S, T, F>
where
    F: FnMut(S) -> Fut,
    Fut: Future<Output = Option<(T, S)>> + MaybeSend + 'static,
{
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if this.pending.is_none() {
            let Some(state) = this.state.take() else {
                return Poll::Ready(None);
            };
            this.pending = Some(Box::pin((this.step)(state)));
        }
        let Some(pending) = this.pending.as_mut() else {
            return Poll::Ready(None);
        };
        let out = std::task::ready!(pending.as_mut().poll(cx));
        this.pending = None;
        Poll::Ready(out.map(|(item, state)| {
            this.state = Some(state);
            item
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use super::*;

    #[tokio::test]
    async fn yields_each_step_then_ends_for_good() {
        let mut counting = unfold(0u32, |n| async move { (n < 3).then_some((n, n + 1)) });
        let mut seen = Vec::new();
        while let Some(n) = poll_fn(|cx| counting.as_mut().poll_next(cx)).await {
            seen.push(n);
        }
        assert_eq!(seen, [0, 1, 2]);
        assert_eq!(poll_fn(|cx| counting.as_mut().poll_next(cx)).await, None);
    }
}
