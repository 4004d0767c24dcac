//! One policy's buckets: one per client, bounded in number, forgotten once full again.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use crate::RateLimit;

/// Checks between two sweeps of the buckets that have refilled.
const SWEEP_EVERY: u32 = 1024;

/// Who a bucket belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ClientKey {
    /// An authenticated client, by its configured name.
    Client(String),
    /// An anonymous client (or one whose token was refused), by its peer address.
    Address(IpAddr),
    /// No identity and no peer address (the router embedded without connection info).
    Unknown,
}

type Bucket = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

struct Entry {
    bucket: Bucket,
    /// The last request checked against the bucket: once a whole refill time has passed
    /// since, the bucket is full and may be forgotten.
    last: Instant,
}

struct Buckets {
    clients: HashMap<ClientKey, Entry>,
    /// Shared by the clients that find the table full.
    overflow: Bucket,
    checks: u32,
}

/// A named policy (`default`, `reads` or `writes`) and its per-client buckets.
pub(crate) struct Policy {
    pub(crate) name: &'static str,
    pub(crate) limit: RateLimit,
    quota: Quota,
    /// How long an empty bucket takes to fill up again.
    refill: Duration,
    cap: usize,
    buckets: Mutex<Buckets>,
}

impl Policy {
    /// `None` when a rate or burst is zero, which [`RateLimit`]'s parser never produces.
    pub(crate) fn new(name: &'static str, limit: RateLimit, cap: usize) -> Option<Self> {
        let rate = NonZeroU32::new(limit.per_second)?;
        let burst = NonZeroU32::new(limit.burst)?;
        let quota = Quota::per_second(rate).allow_burst(burst);
        let refill = Duration::from_secs(u64::from(limit.burst)) / limit.per_second;
        Some(Self {
            name,
            limit,
            quota,
            refill,
            cap: cap.max(1),
            buckets: Mutex::new(Buckets {
                clients: HashMap::new(),
                overflow: bucket(quota),
                checks: 0,
            }),
        })
    }

    /// Spends one of `key`'s tokens: the tokens left, or how long until one is there.
    pub(crate) fn check(&self, key: ClientKey, now: Instant) -> Result<u32, Duration> {
        let mut guard = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let buckets = &mut *guard;
        buckets.checks = buckets.checks.wrapping_add(1);
        if buckets.checks % SWEEP_EVERY == 0 {
            self.sweep(buckets, now);
        }
        if !buckets.clients.contains_key(&key) && buckets.clients.len() >= self.cap {
            self.sweep(buckets, now);
        }
        let chosen = if buckets.clients.contains_key(&key) || buckets.clients.len() < self.cap {
            let entry = buckets.clients.entry(key).or_insert_with(|| Entry {
                bucket: bucket(self.quota),
                last: now,
            });
            entry.last = now;
            &entry.bucket
        } else {
            &buckets.overflow
        };
        match chosen.check() {
            Ok(snapshot) => Ok(snapshot.remaining_burst_capacity()),
            Err(not_until) => Err(not_until.wait_time_from(DefaultClock::default().now())),
        }
    }

    /// Forgets the buckets that have had a whole refill time to fill up since their last use.
    fn sweep(&self, buckets: &mut Buckets, now: Instant) {
        buckets
            .clients
            .retain(|_, entry| now.saturating_duration_since(entry.last) < self.refill);
    }

    /// How many clients have a bucket of their own now.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clients
            .len()
    }
}

fn bucket(quota: Quota) -> Bucket {
    RateLimiter::direct(quota).with_middleware::<StateInformationMiddleware>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(name: &str) -> ClientKey {
        ClientKey::Client(name.to_owned())
    }

    #[test]
    fn every_client_has_its_own_burst() {
        let policy = Policy::new(
            "p",
            RateLimit {
                per_second: 1,
                burst: 2,
            },
            10,
        )
        .unwrap();
        let now = Instant::now();
        assert_eq!(policy.check(client("a"), now), Ok(1));
        assert_eq!(policy.check(client("a"), now), Ok(0));
        assert!(policy.check(client("a"), now).is_err());
        assert_eq!(policy.check(client("b"), now), Ok(1));
        let address = ClientKey::Address("127.0.0.2".parse().unwrap());
        assert_eq!(policy.check(address, now), Ok(1));
        assert_eq!(policy.tracked(), 3);
    }

    #[test]
    fn refilled_buckets_are_forgotten_and_a_full_table_overflows_into_one_bucket() {
        let policy = Policy::new(
            "p",
            RateLimit {
                per_second: 1,
                burst: 1,
            },
            2,
        )
        .unwrap();
        let start = Instant::now();
        assert!(policy.check(client("a"), start).is_ok());
        assert!(policy.check(client("b"), start).is_ok());
        // The table is full of clients still refilling: c and d share the overflow bucket.
        assert!(policy.check(client("c"), start).is_ok());
        assert!(policy.check(client("d"), start).is_err());
        assert_eq!(policy.tracked(), 2);
        // A refill time (1 s) later a and b are full again: forgotten, so e gets its own.
        let later = start + Duration::from_secs(1);
        assert!(policy.check(client("e"), later).is_ok());
        assert_eq!(policy.tracked(), 1);
    }

    #[test]
    fn a_tracked_client_costs_about_a_hundred_bytes() {
        // docs/server.md ("Rate limiting") quotes this, plus the name's heap bytes and the hash
        // table's control byte and spare capacity.
        let size = std::mem::size_of::<(ClientKey, Entry)>();
        assert!(size <= 100, "{size} bytes");
    }

    #[test]
    fn the_periodic_sweep_bounds_the_table_without_filling_it() {
        let policy = Policy::new(
            "p",
            RateLimit {
                per_second: 1000,
                burst: 1,
            },
            100_000,
        )
        .unwrap();
        let start = Instant::now();
        for n in 0..SWEEP_EVERY - 1 {
            let _ = policy.check(ClientKey::Client(n.to_string()), start);
        }
        assert_eq!(policy.tracked(), (SWEEP_EVERY - 1) as usize);
        let _ = policy.check(client("last"), start + Duration::from_secs(1));
        assert_eq!(
            policy.tracked(),
            1,
            "the sweep kept only the client just seen"
        );
    }
}
