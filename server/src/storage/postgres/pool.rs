//! A small blocking connection pool: at most `max` connections, made on demand, reused while
//! they stay open. The `postgres` client runs its own small runtime per connection, so a client
//! must neither be made nor dropped on an async worker thread: the store's methods run on the
//! blocking pool (as every `Store` does), and [`Pool`]'s own drop closes its idle connections
//! on a thread of its own.

use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use postgres::{Client, Config, NoTls};

use super::super::StoreError;

/// How long a caller waits for a free connection before the request is answered 503
/// `storage-unavailable` (with `Retry-After`: the pool is busy, not broken).
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);

/// The connections one server (replica) opens to PostgreSQL at most, all its pools together,
/// unless told otherwise (`--postgres-connections`): the pools' own sizes added up (documents
/// 16, transaction requests 16, lock requests 8, rate-limit checks 8, writes' lock checks 4,
/// the conflict log 4, idempotency records 4). One listening connection and one per conflict
/// resolution in progress (at most one at a time) come on top.
pub const DEFAULT_POSTGRES_CONNECTIONS: usize = 60;

/// The smallest budget: one connection for each of the seven pools.
pub const MIN_POSTGRES_CONNECTIONS: usize = 7;

/// A replica's connection budget, shared out among its pools in proportion to their default
/// sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget(usize);

impl Budget {
    /// The pools at their default sizes (the tests' replicas).
    #[cfg(test)]
    pub(crate) const DEFAULT: Self = Self(DEFAULT_POSTGRES_CONNECTIONS);

    /// A budget of `total` connections (at least [`MIN_POSTGRES_CONNECTIONS`]).
    pub(crate) fn new(total: usize) -> Self {
        Self(total.max(MIN_POSTGRES_CONNECTIONS))
    }

    /// The size of a pool whose size in the default budget is `base`: one connection, plus
    /// its part (in proportion to `base - 1`) of the budget left after one for each pool. The
    /// shares of the seven pools add up to at most the budget, and the default budget gives
    /// every pool its `base`.
    pub(crate) fn share(self, base: usize) -> usize {
        let spare = self.0 - MIN_POSTGRES_CONNECTIONS;
        let default_spare = DEFAULT_POSTGRES_CONNECTIONS - MIN_POSTGRES_CONNECTIONS;
        1 + base.saturating_sub(1) * spare / default_spare
    }
}

/// Connections to one database.
pub(crate) struct Pool {
    config: Config,
    max: usize,
    checkout_timeout: Duration,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Default)]
struct State {
    idle: Vec<Client>,
    /// Connections made and not yet closed (idle or checked out).
    open: usize,
}

/// A connection checked out of the pool; back in the pool on drop, unless it broke (then the
/// idle connections are closed too).
pub(crate) struct Pooled<'a> {
    pool: &'a Pool,
    client: Option<Client>,
}

impl Pool {
    pub(crate) fn new(config: Config, max: usize) -> Self {
        Self {
            config,
            max: max.max(1),
            checkout_timeout: CHECKOUT_TIMEOUT,
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// An open connection: an idle one, a new one while fewer than `max` are open, or the first
    /// one given back within [`CHECKOUT_TIMEOUT`].
    pub(crate) fn get(&self) -> Result<Pooled<'_>, StoreError> {
        let mut state = self.state();
        loop {
            while let Some(client) = state.idle.pop() {
                if !client.is_closed() {
                    return Ok(Pooled {
                        pool: self,
                        client: Some(client),
                    });
                }
                state.open -= 1;
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match self.config.connect(NoTls) {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        client: Some(client),
                    }),
                    Err(err) => {
                        self.state().open -= 1;
                        self.freed.notify_one();
                        Err(StoreError::from(err))
                    }
                };
            }
            let (next, timeout) = self
                .freed
                .wait_timeout(state, self.checkout_timeout)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state = next;
            if timeout.timed_out() && state.idle.is_empty() && state.open >= self.max {
                return Err(StoreError::busy(&format!(
                    "postgres: no database connection free after {} ms ({} in use)",
                    self.checkout_timeout.as_millis(),
                    self.max
                )));
            }
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.state().idle);
        // Closing a client blocks on its own runtime, which panics on an async worker thread.
        let _ = std::thread::spawn(move || drop(idle)).join();
    }
}

impl Deref for Pooled<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        self.client
            .as_ref()
            .expect("a pooled client is present until drop")
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client
            .as_mut()
            .expect("a pooled client is present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let mut state = self.pool.state();
        if client.is_closed() {
            // A connection that broke says the database restarted or the network failed: the
            // idle ones opened before it are most likely dead too, and each would fail one more
            // request. Close them all; new ones are made on demand.
            let stale = std::mem::take(&mut state.idle);
            state.open -= 1 + stale.len();
            drop(state);
            drop(client);
            drop(stale);
        } else if std::thread::panicking() {
            state.open -= 1;
            drop(state);
            drop(client);
        } else {
            state.idle.push(client);
            drop(state);
        }
        self.pool.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{parse_postgres, pg_test_database};

    /// The default sizes of the seven pools (documents, transaction requests, lock requests,
    /// rate-limit checks, writes' lock checks, conflict log, idempotency records).
    const BASES: [usize; 7] = [16, 16, 8, 8, 4, 4, 4];

    #[test]
    fn every_budget_is_shared_within_itself() {
        assert_eq!(BASES.iter().sum::<usize>(), DEFAULT_POSTGRES_CONNECTIONS);
        assert_eq!(BASES.len(), MIN_POSTGRES_CONNECTIONS);
        for total in 0..=500 {
            let budget = Budget::new(total);
            let shares: Vec<usize> = BASES.iter().map(|&base| budget.share(base)).collect();
            assert!(shares.iter().all(|&n| n >= 1), "{total}: {shares:?}");
            let sum: usize = shares.iter().sum();
            assert!(
                sum <= total.max(MIN_POSTGRES_CONNECTIONS),
                "{total}: {shares:?}"
            );
        }
        let default: Vec<usize> = BASES.iter().map(|&b| Budget::DEFAULT.share(b)).collect();
        assert_eq!(
            default, BASES,
            "the default budget keeps the pools' own sizes"
        );
    }

    #[test]
    fn a_pool_with_every_connection_busy_answers_unavailable_after_its_timeout() {
        let Some(url) = pg_test_database() else {
            return;
        };
        let mut pool = Pool::new(parse_postgres(&url).unwrap(), 1);
        pool.checkout_timeout = Duration::from_millis(100);
        let held = pool.get().unwrap();
        let Err(err) = pool.get() else {
            panic!("a second connection from a pool of one while the first is held");
        };
        assert!(err.is_unavailable(), "{err}");
        assert!(
            err.to_string().contains("no database connection free"),
            "{err}"
        );
        drop(held);
        pool.get().expect("free again");
    }
}
