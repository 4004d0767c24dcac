//! Concurrent conditional writers: exactly one wins per version, and no
//! acknowledged write is lost (judged by the final state). Each race runs
//! `--repeat` times (`repeat` in the config); one lost race fails the rule.

use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use super::context::{Version, Write};
use super::if_match::not_stored;
use super::{Abort, Cx, Finding};
use crate::http::{Exchange, Probe, Req};

/// Writers racing at one version in `single-winner`.
const RACERS: usize = 8;
/// Writers and increments per writer in `no-lost-update`.
const WRITERS: usize = 4;
const INCREMENTS: usize = 3;

/// Sends all requests at once — every task waits at a barrier until all are
/// ready, so the writes reach the server together, where a check-then-write
/// race shows — and returns the exchanges in request order.
async fn send_all(probe: &Probe, reqs: Vec<Req>) -> Result<Vec<Exchange>, Abort> {
    let barrier = Arc::new(Barrier::new(reqs.len()));
    let mut set = JoinSet::new();
    for (i, req) in reqs.into_iter().enumerate() {
        let (probe, barrier) = (probe.clone(), barrier.clone());
        set.spawn(async move {
            barrier.wait().await;
            (i, probe.send(req).await)
        });
    }
    let mut out: Vec<Option<Exchange>> = vec![None; set.len()];
    while let Some(joined) = set.join_next().await {
        let (i, result) =
            joined.map_err(|e| Abort::Prerequisite(format!("a writer task died: {e}")))?;
        out[i] = Some(result?);
    }
    Ok(out.into_iter().flatten().collect())
}

/// Whether a status refuses a stale write (412, or 409).
fn refused(status: u16) -> bool {
    matches!(status, 409 | 412)
}

/// Runs `race` `cx.repeat()` times; the first lost race is the verdict, saying
/// which try lost it.
async fn repeated<'a, F, Fut>(cx: &'a Cx, race: F, passed: &str) -> Result<Finding, Abort>
where
    F: Fn(&'a Cx) -> Fut,
    Fut: std::future::Future<Output = Result<Option<Finding>, Abort>>,
{
    let tries = cx.repeat();
    for attempt in 1..=tries {
        if let Some(Finding::Violation(mut lost)) = race(cx).await? {
            if tries > 1 {
                lost.observed = format!("try {attempt} of {tries}: {}", lost.observed);
            }
            return Ok(Finding::Violation(lost));
        }
    }
    Ok(cx.pass(format!(
        "tried {tries} time{}, never lost: {passed}",
        if tries == 1 { "" } else { "s" }
    )))
}

/// The skip of a race nobody won: on a server that sends weak ETags only and
/// rightly refuses them in `If-Match` (RFC 9110 §13.1.1 compares strongly),
/// or one that refuses even the current version; there is no race to judge.
fn nobody_won(version: &Version, refusal: &Exchange) -> Abort {
    Abort::Prerequisite(if version.is_weak() {
        format!(
            "the server sends only weak ETags ({version}, see core.etag.strong-on-get) and rightly refused every write with one ({}), so no writer can win; a strong ETag on GET would make this race runnable",
            refusal.status()
        )
    } else {
        format!(
            "every write with the current version {version} was refused ({}), so no writer can win; see core.if-match.current-put",
            refusal.status()
        )
    })
}

async fn single_winner_once(cx: &Cx) -> Result<Option<Finding>, Abort> {
    // With weak ETags only, the weak tag is the version: a server that ignores
    // If-Match lets every writer win, which is the truth to report.
    let fx = cx
        .fixture_allowing_weak(cx.doc(json!({ "writer": null })))
        .await?;
    // Every racer reads first, as a real client does; then all write at once.
    let reads = send_all(&cx.probe, (0..RACERS).map(|_| Req::get(&fx.url)).collect()).await?;
    let bodies: Vec<Value> = (0..RACERS)
        .map(|i| cx.doc(json!({ "writer": i })))
        .collect();
    let mut reqs = Vec::with_capacity(RACERS);
    for (body, read) in bodies.iter().zip(&reads) {
        let version: Version = cx
            .version_of(read)
            .filter(|v| !v.is_weak() && v.same_as(&fx.version))
            .unwrap_or_else(|| fx.version.clone());
        reqs.push(cx.write_req(&fx.url, Write::Put(body), Some(&version))?);
    }
    let results = send_all(&cx.probe, reqs).await?;
    let winners: Vec<usize> = (0..RACERS)
        .filter(|&i| results[i].status() / 100 == 2)
        .collect();
    let refusals = results.iter().filter(|e| refused(e.status())).count();
    if winners.is_empty() && refusals == RACERS {
        return Err(nobody_won(&fx.version, &results[0]));
    }
    let expectation = format!(
        "of {RACERS} concurrent PUTs with the same current version exactly one succeeds, {} are refused with 412/409, and the stored body is the winner's",
        RACERS - 1
    );
    if winners.len() != 1 || refusals != RACERS - 1 {
        let example = winners
            .get(1)
            .or(winners.first())
            .map_or(&results[0], |&i| &results[i]);
        return Ok(Some(Finding::violation(
            expectation,
            format!(
                "{} succeeded and {refusals} were refused{}",
                winners.len(),
                if winners.len() > 1 {
                    " (a check-then-write race: make the compare-and-swap atomic, e.g. UPDATE … WHERE version = ?)"
                } else {
                    ""
                }
            ),
            example,
        )));
    }
    let read = cx.snapshot(&fx.url).await?;
    Ok(
        not_stored(cx, &bodies[winners[0]], read.body.as_ref()).map(|why| {
            Finding::violation_after(
                expectation,
                format!("the stored body is not the winner's: {why}"),
                &results[winners[0]],
                &read.exchange,
            )
        }),
    )
}

check!(single_winner, |cx| {
    repeated(
        cx,
        single_winner_once,
        &format!("each time 1 of {RACERS} writers won and the stored body is the winner's"),
    )
    .await
});

fn counter_of(read: &Exchange) -> Option<i64> {
    read.json()
        .and_then(|b| b.get("counter").and_then(Value::as_i64))
}

async fn no_lost_update_once(cx: &Cx) -> Result<Option<Finding>, Abort> {
    let fx = cx
        .fixture_allowing_weak(cx.doc(json!({ "counter": 0 })))
        .await?;
    // Weak ETags that stayed weak for the fixture's whole wait: no waiting again.
    let weak_only = fx.version.is_weak();
    let mut last_refusal = None;
    let mut remaining = [INCREMENTS; WRITERS];
    let mut acknowledged = 0i64;
    // Rounds put every writer's read before any write, the worst interleaving
    // for a server whose compare-and-swap is not atomic.
    for _round in 0..2 * WRITERS * INCREMENTS {
        let active: Vec<usize> = (0..WRITERS).filter(|&w| remaining[w] > 0).collect();
        if active.is_empty() {
            break;
        }
        let mut reads = send_all(
            &cx.probe,
            active.iter().map(|_| Req::get(&fx.url)).collect(),
        )
        .await?;
        let mut writes = Vec::new();
        for read in &mut reads {
            if !weak_only && cx.version_of(read).is_some_and(|v| v.is_weak()) {
                // A weak ETag right after a write: wait for the strong one.
                *read = cx.read_settled(&fx.url).await?.exchange;
            }
            let (Some(version), Some(n)) = (cx.version_of(read), counter_of(read)) else {
                return Err(Abort::Prerequisite(format!(
                    "a GET of the counter answered {} without a version and a counter",
                    read.status()
                )));
            };
            let body = cx.doc(json!({ "counter": n + 1 }));
            writes.push(cx.write_req(&fx.url, Write::Put(&body), Some(&version))?);
        }
        for (w, sent) in active.iter().zip(send_all(&cx.probe, writes).await?) {
            match sent.status() {
                200..=299 => {
                    acknowledged += 1;
                    remaining[*w] -= 1;
                }
                s if refused(s) => last_refusal = Some(sent),
                other => {
                    return Ok(Some(Finding::violation(
                        "a conditional increment either succeeds or is refused with 412/409",
                        format!("status {other}"),
                        &sent,
                    )))
                }
            }
        }
    }
    if let (0, Some(refusal)) = (acknowledged, &last_refusal) {
        return Err(nobody_won(&fx.version, refusal));
    }
    let read = cx.snapshot(&fx.url).await?;
    let counter = counter_of(&read.exchange);
    Ok((counter != Some(acknowledged)).then(|| {
        Finding::violation(
            format!("the final counter equals the {acknowledged} acknowledged increments"),
            format!(
                "the counter reads {}: {} acknowledged write(s) lost",
                counter.map_or("nothing".into(), |c| c.to_string()),
                counter.map_or("all".into(), |c| (acknowledged - c).to_string())
            ),
            &read.exchange,
        )
    }))
}

check!(no_lost_update, |cx| {
    repeated(
        cx,
        no_lost_update_once,
        &format!(
            "each time every acknowledged increment from {WRITERS} writers × {INCREMENTS} was kept"
        ),
    )
    .await
});
