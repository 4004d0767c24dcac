//! Mutual exclusion under contention: lockers that poll for the lock never hold it
//! at the same time, and their unconditional read-increment-writes lose nothing.
//!
//! Two holders at once are *proven* from the suite's own clock: a lease surely
//! covers the time from its 201's arrival until the holder sent its release (or
//! until its request was sent plus the TTL, if earlier). Two such spans of
//! different lockers that overlap mean the server granted the lock twice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use super::{lock_request, try_lock, Held};
use crate::http::{Exchange, Probe, Req};
use crate::rules::{Abort, Finding};

/// Clients competing for the lock.
const LOCKERS: usize = 4;
/// Increments each makes, one lock each.
const ROUNDS: usize = 3;
/// The lease each asks for: far longer than a turn takes.
const LOCKER_TTL_MS: u64 = 2_000;
/// How long all lockers together may take.
const BOUND: Duration = Duration::from_secs(10);

/// One turn of one locker: when it surely held the lock, and what it did.
#[derive(Debug)]
struct Turn {
    locker: usize,
    held: Held,
    surely_until: Instant,
    acknowledged: bool,
    released: bool,
}

/// A pause between polls that differs per locker, so they do not poll in step.
fn pause(locker: usize, attempt: u32) -> Duration {
    Duration::from_millis(3 + (locker as u64 * 7 + u64::from(attempt) * 5) % 13)
}

async fn take(probe: &Probe, lock_url: &str, locker: usize, until: Instant) -> Result<Held, Abort> {
    let who = format!("mutual-exclusion (locker {locker})");
    for attempt in 0.. {
        if Instant::now() > until {
            break;
        }
        let req = lock_request(lock_url, &who, LOCKER_TTL_MS, None);
        match try_lock(probe, req, lock_url).await? {
            (answer, Some(held)) if answer.status() == 201 => return Ok(held),
            (answer, _) if answer.status() == 423 => {
                tokio::time::sleep(pause(locker, attempt)).await;
            }
            (answer, _) => {
                return Err(Abort::Prerequisite(format!(
                    "a contended lock request answered {}",
                    answer.status()
                )))
            }
        }
    }
    Err(Abort::Prerequisite(format!(
        "a locker did not get the lock within {} s",
        BOUND.as_secs()
    )))
}

/// One locker: take the lock, read the counter as the holder, write it plus one
/// without `If-Match` (the lock alone must make that safe), release.
async fn locker(
    probe: Probe,
    item: String,
    lock_url: String,
    locker: usize,
    start: Arc<Barrier>,
    until: Instant,
) -> Result<Vec<Turn>, Abort> {
    start.wait().await;
    let mut turns = Vec::new();
    for _ in 0..ROUNDS {
        let held = take(&probe, &lock_url, locker, until).await?;
        let token = held.header.clone();
        let read = probe
            .send(Req::get(&item).header("Lock-Token", token.clone()))
            .await?;
        let mut doc = read.json().unwrap_or(Value::Null);
        let Some(n) = doc.get("n").and_then(Value::as_i64) else {
            return Err(Abort::Prerequisite(format!(
                "the holder's read of the counter answered {} without a number n",
                read.status()
            )));
        };
        doc["n"] = Value::from(n + 1);
        let put = probe
            .send(
                Req::put(&item)
                    .json(&doc)
                    .header("Lock-Token", token.clone()),
            )
            .await?;
        let releasing = Instant::now();
        let freed = probe
            .send(Req::delete(&lock_url).header("Lock-Token", token))
            .await?;
        let lease = Duration::from_millis(held.ttl_ms.unwrap_or(LOCKER_TTL_MS));
        turns.push(Turn {
            locker,
            surely_until: releasing.min(held.sent + lease),
            held,
            acknowledged: put.status() / 100 == 2,
            released: freed.status() / 100 == 2,
        });
    }
    Ok(turns)
}

/// Two turns of different lockers whose sure spans overlap: the later grant.
fn overlap(turns: &[Turn]) -> Option<(&Turn, &Turn)> {
    turns.iter().find_map(|a| {
        turns
            .iter()
            .filter(|b| b.locker != a.locker && b.held.granted >= a.held.granted)
            .find(|b| b.held.granted < a.surely_until && b.held.granted < b.surely_until)
            .map(|b| (a, b))
    })
}

check!(mutual_exclusion, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 0 }))).await?;
    let lock_url = cx.lock_url(&fx.url);
    let start = Arc::new(Barrier::new(LOCKERS));
    let until = Instant::now() + BOUND;
    let mut set = JoinSet::new();
    for i in 0..LOCKERS {
        let (probe, item, lock) = (cx.probe.clone(), fx.url.clone(), lock_url.clone());
        set.spawn(locker(probe, item, lock, i, Arc::clone(&start), until));
    }
    let mut turns = Vec::new();
    let mut stopped = None;
    while let Some(joined) = set.join_next().await {
        match joined.map_err(|e| Abort::Prerequisite(format!("a locker task died: {e}")))? {
            Ok(done) => turns.extend(done),
            Err(abort) => stopped = Some(abort),
        }
    }
    for turn in turns.iter().filter(|t| !t.released) {
        cx.remember_lock(&turn.held.lock_url, &turn.held.header);
    }
    if let Some(abort) = stopped {
        return Err(abort);
    }
    let origin = turns
        .iter()
        .map(|t| t.held.sent)
        .min()
        .unwrap_or_else(Instant::now);
    let ms = |at: Instant| at.saturating_duration_since(origin).as_millis();
    if let Some((a, b)) = overlap(&turns) {
        return Ok(Finding::violation(
            "at most one client holds the lock at a time",
            format!(
                "locker {} was granted the lock at +{} ms while locker {} held it (granted at +{} ms, released at +{} ms at the earliest)",
                b.locker,
                ms(b.held.granted),
                a.locker,
                ms(a.held.granted),
                ms(a.surely_until)
            ),
            &b.held.exchange,
        ));
    }
    let acknowledged = turns.iter().filter(|t| t.acknowledged).count();
    let last = cx.snapshot(&fx.url).await?;
    let n = last
        .body
        .as_ref()
        .and_then(|b| b.get("n"))
        .and_then(Value::as_i64);
    if acknowledged == 0 {
        return Err(Abort::Prerequisite(
            "no holder's write was acknowledged, so no increment can be counted".into(),
        ));
    }
    Ok(if n == Some(acknowledged as i64) {
        Finding::Pass(format!(
            "{LOCKERS} lockers took the lock {} times, one at a time; {acknowledged} acknowledged increments, and the counter reads {acknowledged}",
            turns.len()
        ))
    } else {
        lost(acknowledged, n, &last.exchange)
    })
});

fn lost(acknowledged: usize, n: Option<i64>, read: &Exchange) -> Finding {
    Finding::violation(
        "lockers that read, increment and write under the lock lose no acknowledged increment",
        format!(
            "{acknowledged} increments were acknowledged but the counter reads {}",
            n.map_or("no number".into(), |n| n.to_string())
        ),
        read,
    )
}
