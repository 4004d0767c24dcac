//! The `lock` strategy: each update takes the resource's lock through the SDK,
//! reads, writes the increment without `If-Match` under the lock, and releases.
//! Nothing is ever refused or merged; writers wait their turn instead.

use std::time::{Duration, Instant};

use ifmatch::{Client, Precondition, RetryConfig};
use serde_json::Value;

use super::driver::{increment, slot, Tally};
use super::record::LastRefusal;
use super::shared::Shared;

/// The lease each update asks for; the SDK's guard renews it if an update is slow.
const LOCK_TTL: Duration = Duration::from_secs(10);
/// How long an update waits in the server's queue for its turn.
const LOCK_WAIT: Duration = Duration::from_secs(30);
/// Pause before asking again when the server's queue was full (503).
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(20);

/// One client's updates under the lock.
pub(super) async fn lock_client(
    shared: &Shared,
    url: &str,
    i: usize,
    base: &str,
) -> Result<Tally, String> {
    let last = LastRefusal::default();
    let client = shared.sdk_client(base, &last, RetryConfig::default())?;
    let (updates, deadline) = (shared.config.updates, shared.deadline);
    let key = slot(i);
    let mut tally = Tally::default();
    for done in 0..updates {
        if Instant::now() >= deadline {
            tally.not_started = (updates - done) as u64;
            break;
        }
        let began = Instant::now();
        last.clear();
        match locked_increment(&client, url, &key, i, deadline).await {
            Ok(attempts) => {
                tally.acknowledge(began, attempts);
            }
            Err((e, written)) => {
                let failure = shared.failure((i, done + 1, base), &e, last.take());
                // Only the counter's PUT can leave an unknown outcome, not the lock or the read.
                if written && e.is_outcome_unknown() {
                    tally.fail_unknown(failure);
                } else {
                    tally.fail(failure);
                }
            }
        }
    }
    let stats = client.stats();
    tally.status_409 = stats.conflicts_409;
    tally.status_412 = stats.conflicts_412;
    tally.status_429 = stats.throttle_waits;
    Ok(tally)
}

/// Lock, read, write, release; the write's attempts when it was acknowledged, else the
/// error and whether the counter's write was sent. An update's latency includes the wait
/// for the lock and the release.
async fn locked_increment(
    client: &Client,
    url: &str,
    key: &str,
    i: usize,
    deadline: Instant,
) -> Result<u32, (ifmatch::Error, bool)> {
    let lock = loop {
        let asked = client
            .lock(url)
            .ttl(LOCK_TTL)
            .wait(LOCK_WAIT)
            .owner(format!("stress client {i}"))
            .await;
        match asked {
            // More clients than the server queues: come back shortly.
            Err(e) if e.status().map(|s| s.as_u16()) == Some(503) && Instant::now() < deadline => {
                tokio::time::sleep(QUEUE_FULL_PAUSE).await;
            }
            other => break other.map_err(|e| (e, false))?,
        }
    };
    let read = client.get::<Value>(url).await;
    let written = match read {
        Ok(read) => {
            let mut doc = read.value;
            increment(&mut doc, key);
            // Pessimistic: no If-Match, the lock alone makes the write exclusive.
            client
                .put(url, &doc, Precondition::unconditional())
                .under(&lock)
                .await
                .map_err(|e| (e, true))
        }
        Err(e) => Err((e, false)),
    };
    // A failed release only means the lock ends at its TTL; the write is what counts.
    let _ = lock.release().await;
    written.map(|w| w.attempts)
}
