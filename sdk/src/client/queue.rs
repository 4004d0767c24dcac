//! One update at a time per resource and client: the updates of one URL (in one cache
//! partition) issued through one client take turns, first come first served, so they never
//! refuse each other's writes; only other clients cause version conflicts.
//!
//! Runtime-neutral (a `std::sync::Mutex` and the wakers of the waiting futures), so it works the
//! same natively and on wasm32. A resource's line exists only while an update of it runs or
//! waits: the last one out removes it, so memory does not grow with the URLs ever updated.

use std::{
    collections::{HashMap, VecDeque},
    future::poll_fn,
    sync::{Arc, Mutex, MutexGuard},
    task::{Poll, Waker},
};

use crate::cache::CacheKey;

/// The lines of waiting updates, one per resource with an update running; shared by every
/// clone of a client.
#[derive(Default)]
pub(crate) struct Queues {
    lines: Mutex<Lines>,
}

#[derive(Default)]
struct Lines {
    by_key: HashMap<CacheKey, VecDeque<Place>>,
    next_id: u64,
}

/// One update in a line: the first one holds the turn, the others wait.
struct Place {
    id: u64,
    waker: Option<Waker>,
}

impl Queues {
    /// Joins the line for `key` (at its end) and completes when it is this caller's turn. The
    /// returned [`Turn`] holds the turn until it is dropped; dropping the future before then
    /// (cancellation, a deadline) leaves the line without blocking those behind.
    pub(crate) async fn turn(self: &Arc<Self>, key: CacheKey) -> Turn {
        let turn = {
            let mut lines = self.lock();
            let id = lines.next_id;
            lines.next_id = lines.next_id.wrapping_add(1);
            lines
                .by_key
                .entry(key.clone())
                .or_default()
                .push_back(Place { id, waker: None });
            Turn {
                queues: self.clone(),
                key,
                id,
            }
        };
        poll_fn(|cx| {
            let mut lines = self.lock();
            let Some(line) = lines.by_key.get_mut(&turn.key) else {
                return Poll::Ready(());
            };
            if line.front().is_some_and(|first| first.id == turn.id) {
                return Poll::Ready(());
            }
            if let Some(place) = line.iter_mut().find(|place| place.id == turn.id) {
                match &place.waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    _ => place.waker = Some(cx.waker().clone()),
                }
            }
            Poll::Pending
        })
        .await;
        turn
    }

    /// How many resources have an update running or waiting (for tests of bounded memory).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().by_key.len()
    }

    fn lock(&self) -> MutexGuard<'_, Lines> {
        // Every change to the lines is completed under the lock: a panic elsewhere cannot
        // leave them inconsistent.
        self.lines.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A place in a resource's line; the turn while it is first. Dropping it (the update finished,
/// failed, panicked or was cancelled) leaves the line and wakes the next in it.
pub(crate) struct Turn {
    queues: Arc<Queues>,
    key: CacheKey,
    id: u64,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let next = {
            let mut lines = self.queues.lock();
            let Some(line) = lines.by_key.get_mut(&self.key) else {
                return;
            };
            let Some(at) = line.iter().position(|place| place.id == self.id) else {
                return;
            };
            line.remove(at);
            if line.is_empty() {
                lines.by_key.remove(&self.key);
                None
            } else if at == 0 {
                line.front_mut().and_then(|first| first.waker.take())
            } else {
                None
            }
        };
        // Woken outside the lock: the next one takes it when polled.
        if let Some(waker) = next {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{future::Future, pin::pin, task::Context};

    fn key(url: &str) -> CacheKey {
        CacheKey {
            partition: None,
            url: url.to_owned(),
        }
    }

    fn poll<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn turns_are_taken_in_order_and_the_line_goes_away_when_empty() {
        let queues = Arc::new(Queues::default());
        let mut first = pin!(queues.turn(key("a")));
        let Poll::Ready(first) = poll(first.as_mut()) else {
            panic!("the first in line must have the turn at once");
        };
        let mut second = pin!(queues.turn(key("a")));
        assert!(poll(second.as_mut()).is_pending());
        // Another resource has its own line.
        let mut other = pin!(queues.turn(key("b")));
        let Poll::Ready(other) = poll(other.as_mut()) else {
            panic!("another resource must not wait");
        };
        drop(first);
        let Poll::Ready(second) = poll(second.as_mut()) else {
            panic!("the second must have the turn once the first is done");
        };
        drop((second, other));
        assert_eq!(queues.len(), 0);
    }

    #[test]
    fn a_waiter_that_leaves_does_not_block_those_behind_it() {
        let queues = Arc::new(Queues::default());
        let mut first = pin!(queues.turn(key("a")));
        let Poll::Ready(first) = poll(first.as_mut()) else {
            panic!("the first in line must have the turn at once");
        };
        let mut second = Box::pin(queues.turn(key("a")));
        assert!(poll(second.as_mut()).is_pending());
        let mut third = pin!(queues.turn(key("a")));
        assert!(poll(third.as_mut()).is_pending());
        drop(second); // cancelled while waiting
        drop(first);
        assert!(poll(third.as_mut()).is_ready());
    }
}
