//! Buckets kept in PostgreSQL (`ifmatch_rate_limits`), shared by every replica of one
//! database, so N replicas admit a client at the configured rate in total, not N times it.
//!
//! - **Algorithm**: GCRA, the token bucket written as one timestamp per bucket. A bucket is a
//!   row per (policy, client) holding its *theoretical arrival time* `tat`: the moment the
//!   bucket will be full again. A request is admitted when `max(tat, now) + interval` is at
//!   most `burst × interval` ahead of now, and then moves `tat` there. `tat - now` tells the
//!   tokens left and the seconds until the bucket is full; a refused request learns how long
//!   until a token is there. Same arithmetic as the in-process buckets (`governor`).
//! - **One statement per request**: `INSERT … ON CONFLICT DO UPDATE … RETURNING` both decides
//!   and updates, under the row's lock, so requests of one client arriving at several
//!   replicas at once are counted one after the other, exactly. Times come from the database
//!   clock (`clock_timestamp()`), so replicas whose clocks disagree still agree.
//! - **Bounded table**: a row whose `tat` has passed is a full bucket, which a missing row
//!   means too. Every [`SWEEP_EVERY`] checks a replica deletes those rows, so the table holds
//!   the clients seen lately and still refilling (no `--rate-limit-clients` cap: rows live in
//!   the database, not in the replica's memory).
//! - **Cheap writes**: the table is `UNLOGGED` and the checks commit with
//!   `synchronous_commit=off`, so a check writes no WAL and waits for no disk flush. A crash or
//!   failover of the database empties the table: every bucket is full again, as after a restart
//!   of a server keeping them in memory.
//! - **Database down**: the check fails like any storage access, 503 `storage-unavailable`
//!   with `Retry-After` when the database cannot be reached, so the limit never fails open.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::table::ClientKey;
use crate::storage::{PgBudget, PgPool, StoreError};
use crate::RateLimit;

/// Connections per replica for rate-limit checks.
const POOL_SIZE: usize = 8;
/// Checks by one replica between two deletions of full buckets.
pub(crate) const SWEEP_EVERY: u32 = 1024;

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Spends a token of (`$1` policy, `$2` client): `$3` is the interval between two tokens and
/// `$4` the burst's worth of intervals, both in nanoseconds. A new row is a full bucket minus
/// the token spent now. The verdict is stored (`admitted`) so that `RETURNING` can tell it.
const CHECK: &str = "
    WITH clock AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000000000)::BIGINT AS ns)
    INSERT INTO ifmatch_rate_limits AS b (policy, client, tat_ns, now_ns, admitted)
    SELECT $1, $2, clock.ns + $3::BIGINT, clock.ns, TRUE FROM clock
    ON CONFLICT (policy, client) DO UPDATE SET
        admitted = greatest(b.tat_ns, excluded.now_ns) + $3::BIGINT - excluded.now_ns
            <= $4::BIGINT,
        tat_ns = CASE
            WHEN greatest(b.tat_ns, excluded.now_ns) + $3::BIGINT - excluded.now_ns <= $4::BIGINT
            THEN greatest(b.tat_ns, excluded.now_ns) + $3::BIGINT
            ELSE b.tat_ns
        END,
        now_ns = excluded.now_ns
    RETURNING tat_ns, now_ns, admitted";

/// Deletes the buckets that are full again.
const SWEEP: &str = "
    DELETE FROM ifmatch_rate_limits
    WHERE tat_ns < (extract(epoch FROM clock_timestamp()) * 1000000000)::BIGINT";

/// What a check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A token was spent: `remaining` are left, and the bucket is full again in `full_in`.
    Admitted { remaining: u32, full_in: Duration },
    /// No token: the next one is there in `wait`.
    Refused { wait: Duration },
}

/// A policy's interval between tokens and its tolerance (a burst's worth of intervals), in
/// nanoseconds.
fn gcra(limit: RateLimit) -> (i64, i64) {
    let interval = (NANOS_PER_SECOND / i64::from(limit.per_second.max(1))).max(1);
    (
        interval,
        interval.saturating_mul(i64::from(limit.burst.max(1))),
    )
}

/// The verdict of a row the check returned: its `tat`, the database clock's `now`, whether
/// it was admitted.
pub(crate) fn verdict(limit: RateLimit, tat: i64, now: i64, admitted: bool) -> Verdict {
    let (interval, tolerance) = gcra(limit);
    let nanos = |n: i64| Duration::from_nanos(u64::try_from(n.max(0)).unwrap_or(0));
    let ahead = tat.saturating_sub(now);
    if admitted {
        let left = tolerance.saturating_sub(ahead).max(0) / interval;
        Verdict::Admitted {
            remaining: u32::try_from(left).unwrap_or(u32::MAX).min(limit.burst),
            full_in: nanos(ahead),
        }
    } else {
        Verdict::Refused {
            wait: nanos(ahead.saturating_add(interval).saturating_sub(tolerance)),
        }
    }
}

/// The client as the table keys it: `n:<name>`, `a:<address>` or `u` (as idempotency
/// records do).
fn client_text(key: &ClientKey) -> String {
    match key {
        ClientKey::Client(name) => format!("n:{name}"),
        ClientKey::Address(ip) => format!("a:{ip}"),
        ClientKey::Unknown => "u".to_owned(),
    }
}

/// The buckets of every replica on one database.
pub(crate) struct SharedBuckets {
    pool: PgPool,
    checks: AtomicU32,
}

impl SharedBuckets {
    /// Buckets in the database `config` connects to (whose schema the store migrated).
    pub(crate) fn new(config: &postgres::Config, budget: PgBudget) -> Self {
        // A check's commit need not wait for a WAL flush: a bucket lost in a crash is a full
        // one, and the table is unlogged anyway (see the migration).
        let mut config = config.clone();
        let options = match config.get_options() {
            Some(given) => format!("{given} -c synchronous_commit=off"),
            None => "-c synchronous_commit=off".to_owned(),
        };
        config.options(&options);
        Self {
            pool: PgPool::new(config, budget.share(POOL_SIZE)),
            checks: AtomicU32::new(0),
        }
    }

    /// Spends one of `key`'s tokens of `policy` (whose rate and burst are `limit`).
    pub(crate) async fn check(
        self: &Arc<Self>,
        policy: &'static str,
        limit: RateLimit,
        key: &ClientKey,
    ) -> Result<Verdict, StoreError> {
        let this = Arc::clone(self);
        let client = client_text(key);
        // The client blocks on a runtime of its own: never on an async worker thread.
        tokio::task::spawn_blocking(move || this.check_blocking(policy, limit, &client))
            .await
            .map_err(|err| StoreError::from_task(&err))?
    }

    fn check_blocking(
        &self,
        policy: &str,
        limit: RateLimit,
        client: &str,
    ) -> Result<Verdict, StoreError> {
        let (interval, tolerance) = gcra(limit);
        let mut conn = self.pool.get()?;
        let row = conn.query_one(CHECK, &[&policy, &client, &interval, &tolerance])?;
        let verdict = verdict(limit, row.get(0), row.get(1), row.get(2));
        let checks = self.checks.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        if checks % SWEEP_EVERY == 0 {
            // The verdict stands whatever becomes of the sweep; the next one retries.
            if let Err(err) = conn.execute(SWEEP, &[]) {
                tracing::warn!(error = %err, "could not delete full rate-limit buckets");
            }
        }
        Ok(verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: RateLimit = RateLimit {
        per_second: 2,
        burst: 5,
    };
    const SECOND: i64 = NANOS_PER_SECOND;

    #[test]
    fn a_new_bucket_has_spent_one_token_and_is_full_one_interval_later() {
        assert_eq!(
            verdict(LIMIT, SECOND / 2, 0, true),
            Verdict::Admitted {
                remaining: 4,
                full_in: Duration::from_millis(500)
            }
        );
    }

    #[test]
    fn an_empty_bucket_counts_the_wait_for_the_next_token() {
        // Five tokens spent at once: full 2.5 s later, no token left.
        assert_eq!(
            verdict(LIMIT, 5 * SECOND / 2, 0, true),
            Verdict::Admitted {
                remaining: 0,
                full_in: Duration::from_millis(2500)
            }
        );
        // The sixth is refused until one interval (0.5 s) has passed.
        assert_eq!(
            verdict(LIMIT, 5 * SECOND / 2, 0, false),
            Verdict::Refused {
                wait: Duration::from_millis(500)
            }
        );
        // 0.2 s later it is 0.3 s.
        assert_eq!(
            verdict(LIMIT, 5 * SECOND / 2, SECOND / 5, false),
            Verdict::Refused {
                wait: Duration::from_millis(300)
            }
        );
    }

    #[test]
    fn partly_refilled_tokens_are_not_counted_until_whole() {
        // 1.2 s ahead is 2.4 intervals of the 5 a burst spans: 2.6 tokens, 2 whole ones.
        assert_eq!(
            verdict(LIMIT, 6 * SECOND / 5, 0, true),
            Verdict::Admitted {
                remaining: 2,
                full_in: Duration::from_millis(1200)
            }
        );
    }

    #[test]
    fn extreme_rates_neither_divide_by_zero_nor_overflow() {
        let fast = RateLimit {
            per_second: u32::MAX,
            burst: u32::MAX,
        };
        assert_eq!(gcra(fast).0, 1);
        let slow = RateLimit {
            per_second: 1,
            burst: u32::MAX,
        };
        assert_eq!(gcra(slow).1, SECOND * i64::from(u32::MAX));
        assert!(matches!(
            verdict(slow, i64::MAX, i64::MIN, true),
            Verdict::Admitted { remaining: 0, .. }
        ));
    }

    /// Rows of `policy` in the database at `url` (connecting on a blocking thread).
    async fn rows(url: &str, policy: &'static str) -> i64 {
        let config = crate::storage::parse_postgres(url).unwrap();
        tokio::task::spawn_blocking(move || {
            let mut client = config.connect(postgres::NoTls).unwrap();
            let row = client
                .query_one(
                    "SELECT count(*) FROM ifmatch_rate_limits WHERE policy = $1",
                    &[&policy],
                )
                .unwrap();
            row.get(0)
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn every_sweep_deletes_the_full_buckets_and_keeps_the_others() {
        let Some(url) = crate::storage::pg_test_database() else {
            return;
        };
        let config = crate::storage::parse_postgres(&url).unwrap();
        let buckets = tokio::task::spawn_blocking(move || {
            let policy = crate::storage::HistoryPolicy {
                max_versions: 1,
                max_age_ms: 0,
                tombstone_ttl_ms: 0,
            };
            // Opening the store migrates the schema.
            crate::storage::PostgresStore::open(&config, policy, crate::storage::system_clock())
                .unwrap();
            Arc::new(SharedBuckets::new(&config, PgBudget::DEFAULT))
        })
        .await
        .unwrap();
        // Ten tokens of one a second: full again in ten seconds, long after the sweep.
        let slow = RateLimit {
            per_second: 1,
            burst: 100,
        };
        for _ in 0..10 {
            let verdict = buckets.check("slow", slow, &ClientKey::Unknown).await;
            assert!(matches!(verdict, Ok(Verdict::Admitted { .. })));
        }
        // A nanosecond per token: full again by the next statement.
        let fast = RateLimit {
            per_second: 1_000_000_000,
            burst: 1,
        };
        for n in 10..SWEEP_EVERY - 1 {
            let key = ClientKey::Client(n.to_string());
            assert!(buckets.check("fast", fast, &key).await.is_ok());
        }
        assert_eq!(rows(&url, "fast").await, i64::from(SWEEP_EVERY - 11));
        // The sweep comes with the 1024th check.
        let key = ClientKey::Client("last".into());
        assert!(buckets.check("fast", fast, &key).await.is_ok());
        assert_eq!(rows(&url, "fast").await, 0, "full buckets are deleted");
        assert_eq!(rows(&url, "slow").await, 1, "a refilling bucket is kept");
        let Ok(Verdict::Admitted { remaining, .. }) =
            buckets.check("slow", slow, &ClientKey::Unknown).await
        else {
            panic!("the slow bucket has tokens left");
        };
        // A forgotten bucket would start full again (99 left after this token).
        assert!(remaining < 99, "the kept bucket remembers the tokens spent");
    }

    #[test]
    fn clients_are_keyed_as_idempotency_records_are() {
        assert_eq!(client_text(&ClientKey::Client("ci".into())), "n:ci");
        let address = ClientKey::Address("127.0.0.2".parse().unwrap());
        assert_eq!(client_text(&address), "a:127.0.0.2");
        assert_eq!(client_text(&ClientKey::Unknown), "u");
    }
}
