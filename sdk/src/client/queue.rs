//! One update at a time per resource and client: the updates of one URL (in one cache
//! partition) issued through one client take turns, first come first served, so they never
//! refuse each other's writes; only other clients cause version conflicts.
//!
//! Runtime-neutral (a `std::sync::Mutex` and the wakers of the waiting futures), so it works the
//! same natively and on wasm32. Only the updates running or waiting are kept: memory does not
//! grow with the URLs ever updated.

use std::{
    future::poll_fn,
    sync::{Arc, Mutex, MutexGuard},
    task::{Poll, Waker},
};

use crate::cache::CacheKey;

/// The updates running or waiting, in the order they came, of every resource; shared by every
/// clone of a client. One list rather than a map of lines: it holds only the updates in flight
/// (a few), and keeps the wasm small.
#[derive(Default)]
pub(crate) struct Queues {
    places: Mutex<Places>,
}

#[derive(Default)]
struct Places {
    all: Vec<Place>,
    next_id: u64,
}

/// One update in its resource's line: the first of its key holds the turn, the others wait.
struct Place {
    key: CacheKey,
    id: u64,
    waker: Option<Waker>,
}

impl Places {
    /// Whether `id` is the first in its resource's line.
    fn first(&self, key: &CacheKey, id: u64) -> bool {
        self.all
            .iter()
            .find(|place| place.key == *key)
            .map(|p| p.id)
            == Some(id)
    }
}

impl Queues {
    /// Joins the line for `key` (at its end) and completes when it is this caller's turn. The
    /// returned [`Turn`] holds the turn until it is dropped; dropping the future before then
    /// (cancellation, a deadline) leaves the line without blocking those behind.
    pub(crate) async fn turn(self: &Arc<Self>, key: CacheKey) -> Turn {
        let turn = {
            let mut places = self.lock();
            let id = places.next_id;
            places.next_id = places.next_id.wrapping_add(1);
            places.all.push(Place {
                key: key.clone(),
                id,
                waker: None,
            });
            Turn {
                queues: self.clone(),
                key,
                id,
            }
        };
        poll_fn(|cx| {
            let mut places = self.lock();
            if places.first(&turn.key, turn.id) {
                return Poll::Ready(());
            }
            if let Some(place) = places.all.iter_mut().find(|place| place.id == turn.id) {
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

    /// How many updates run or wait (for tests of bounded memory).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().all.len()
    }

    fn lock(&self) -> MutexGuard<'_, Places> {
        // Every change to the list is completed under the lock: a panic elsewhere cannot
        // leave it inconsistent.
        self.places.lock().unwrap_or_else(|p| p.into_inner())
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
            let mut places = self.queues.lock();
            let had_turn = places.first(&self.key, self.id);
            places.all.retain(|place| place.id != self.id);
            let key = &self.key;
            match places.all.iter_mut().find(|place| place.key == *key) {
                Some(next) if had_turn => next.waker.take(),
                _ => None,
            }
        };
        // Woken outside the lock: the next one takes its turn when polled.
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
