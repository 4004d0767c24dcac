//! Waiting for a lock (`wait_ms`): waiters are served in arrival order, and a full
//! queue answers 503 with `Retry-After`.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::task::JoinSet;

use super::{hold, lock_request, release, retry_after, try_lock, Held, LONG_TTL_MS};
use crate::http::{Exchange, Probe, Req};
use crate::rules::{Abort, Cx, Finding};

/// The holder's lease in `queue-fifo`; a server that hands the lock over only at
/// the holder's expiry still serves both waiters within their waits.
const HOLDER_TTL_MS: u64 = 1_000;
/// How long the first and the second waiter wait. The second waits less, so that a
/// server that serves the waiter whose wait runs out first serves it first.
const FIRST_WAIT_MS: u64 = 3_500;
const SECOND_WAIT_MS: u64 = 2_500;
/// A waiter's lease: it releases at once when served.
const WAITER_TTL_MS: u64 = 500;
/// Time between the two waiters, and before the holder releases.
const GAP: Duration = Duration::from_millis(150);
/// Most waiters `queue-full-503` lines up (the reference server queues 64 by default).
const FILLERS: usize = 72;
/// How long those wait: less than the holder's lease, so none is served.
const FILLER_WAIT_MS: u64 = 3_000;
/// The quiet time after which the answers that came at once are all in.
const SETTLED: Duration = Duration::from_millis(250);

type Answer = Result<(Exchange, Option<Held>), Abort>;

fn waiter(set: &mut JoinSet<(usize, Answer)>, probe: &Probe, req: Req, lock_url: &str, n: usize) {
    let (probe, lock_url) = (probe.clone(), lock_url.to_owned());
    set.spawn(async move { (n, try_lock(&probe, req, &lock_url).await) });
}

/// Releases a waiter's grant at once (so the next can be served) and keeps its answer.
async fn served(cx: &Cx, answer: Answer) -> Result<(Exchange, bool), Abort> {
    let (exchange, held) = answer?;
    if let Some(held) = &held {
        cx.remember_lock(&held.lock_url, &held.header);
        release(cx, held).await?;
    }
    Ok((exchange, held.is_some()))
}

check!(queue_fifo, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let holder = hold(cx, &fx.url, "queue-fifo (holder)", HOLDER_TTL_MS).await?;
    let lock_url = holder.lock_url.clone();
    let mut set = JoinSet::new();
    let first = lock_request(
        &lock_url,
        "queue-fifo (first waiter)",
        WAITER_TTL_MS,
        Some(FIRST_WAIT_MS),
    );
    waiter(&mut set, &cx.probe, first, &lock_url, 1);
    tokio::time::sleep(GAP).await;
    if let Some(joined) = set.try_join_next() {
        let (_, answer) = joined.map_err(|e| Abort::Prerequisite(format!("a waiter died: {e}")))?;
        let (exchange, granted) = served(cx, answer).await?;
        return Ok(if granted {
            Finding::violation(
                "a request that waits is not granted while another client holds the lock",
                "it was granted at once, while the holder's lease ran",
                &exchange,
            )
        } else {
            Finding::Skip(format!(
                "the server does not let lock requests wait: one with wait_ms {FIRST_WAIT_MS} answered {} at once",
                exchange.status()
            ))
        });
    }
    let second = lock_request(
        &lock_url,
        "queue-fifo (second waiter)",
        WAITER_TTL_MS,
        Some(SECOND_WAIT_MS),
    );
    waiter(&mut set, &cx.probe, second, &lock_url, 2);
    tokio::time::sleep(GAP).await;
    // On a slow run the holder's lease may have ended by itself first (the release
    // then answers 412); either way the lock is free for the waiters now.
    release(cx, &holder).await?;
    cx.forget_lock(&holder.header);
    let mut order = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (n, answer) = joined.map_err(|e| Abort::Prerequisite(format!("a waiter died: {e}")))?;
        let (exchange, granted) = served(cx, answer).await?;
        order.push((n, exchange, granted));
    }
    let expectation = "requests that wait for a lock get it in arrival order once it is free";
    Ok(match order.as_slice() {
        [(1, _, true), (2, _, true)] => Finding::Pass(
            "two waiting requests got the lock in arrival order after the holder released it".into(),
        ),
        [(2, second, true), ..] => Finding::violation(
            expectation,
            format!(
                "the second waiter (sent {} ms after the first) got the lock first",
                GAP.as_millis()
            ),
            second,
        ),
        [.., (n, exchange, false)] | [(n, exchange, false), ..] => Finding::violation(
            expectation,
            format!(
                "the {} waiter was not served within its wait although the lock was released: it answered {}",
                if *n == 1 { "first" } else { "second" },
                exchange.status()
            ),
            exchange,
        ),
        _ => Finding::Skip("the waiters' answers could not be told apart".into()),
    })
});

/// Collects the answers that come at once: until none has come for [`SETTLED`].
async fn answered_at_once(
    cx: &Cx,
    set: &mut JoinSet<(usize, Answer)>,
) -> Result<Vec<Exchange>, Abort> {
    let mut answers = Vec::new();
    let mut quiet_since = Instant::now();
    let until = Instant::now() + Duration::from_millis(FILLER_WAIT_MS / 2);
    while quiet_since.elapsed() < SETTLED && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(25)).await;
        while let Some(joined) = set.try_join_next() {
            let (_, answer) =
                joined.map_err(|e| Abort::Prerequisite(format!("a waiter died: {e}")))?;
            let (exchange, held) = answer?;
            if let Some(held) = held {
                cx.remember_lock(&held.lock_url, &held.header);
            }
            answers.push(exchange);
            quiet_since = Instant::now();
        }
    }
    Ok(answers)
}

check!(queue_full_503, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let holder = hold(cx, &fx.url, "queue-full-503 (holder)", LONG_TTL_MS).await?;
    let lock_url = holder.lock_url.clone();
    let mut set = JoinSet::new();
    for n in 0..FILLERS {
        let who = format!("queue-full-503 (waiter {n})");
        let req = lock_request(&lock_url, &who, WAITER_TTL_MS, Some(FILLER_WAIT_MS));
        waiter(&mut set, &cx.probe, req, &lock_url, n);
    }
    let at_once = answered_at_once(cx, &mut set).await?;
    let waiting = set.len();
    // Dropped requests close their connections: the server takes them off the queue.
    set.abort_all();
    while set.join_next().await.is_some() {}
    release(cx, &holder).await?;
    let expectation = "when as many requests wait as the server queues, one more answers 503 application/problem+json with Retry-After";
    let Some(first) = at_once.first() else {
        return Ok(Finding::Skip(format!(
            "all {FILLERS} waiting lock requests were still waiting: the queue holds more than {FILLERS}, or has no bound"
        )));
    };
    if waiting == 0 && first.status() != 503 {
        return Ok(Finding::Skip(format!(
            "every waiting lock request was answered at once (the first with {}): the server does not let lock requests wait",
            first.status()
        )));
    }
    if let Some(other) = at_once.iter().find(|e| e.status() != 503) {
        return Ok(Finding::violation(
            expectation,
            format!(
                "with {waiting} requests waiting, one more answered {} at once",
                other.status()
            ),
            other,
        ));
    }
    let mut wrong = Vec::new();
    if first.media_type().as_deref() != Some("application/problem+json") {
        wrong.push(format!(
            "Content-Type is {}",
            first.header("content-type").unwrap_or("absent")
        ));
    }
    if retry_after(first).is_none() {
        wrong.push(format!(
            "Retry-After is {}",
            first
                .header("retry-after")
                .map_or("absent".into(), |v| format!("{v:?}"))
        ));
    }
    Ok(if wrong.is_empty() {
        Finding::Pass(format!(
            "{waiting} requests waited; {} more answered 503 with Retry-After: {}",
            at_once.len(),
            first.header("retry-after").unwrap_or_default()
        ))
    } else {
        Finding::violation(expectation, wrong.join("; "), first)
    })
});
