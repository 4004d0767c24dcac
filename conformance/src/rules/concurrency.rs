//! Concurrent conditional writers: exactly one wins per version, and no
//! acknowledged write is lost (judged by the final state).

use serde_json::{json, Value};
use tokio::task::JoinSet;

use super::{Abort, Cx, Finding};
use crate::http::{Exchange, Probe, Req};

/// Writers racing at one version in `single-winner`.
const RACERS: usize = 8;
/// Writers and increments per writer in `no-lost-update`.
const WRITERS: usize = 4;
const INCREMENTS: usize = 3;

/// Sends all requests at once and returns the exchanges in request order.
async fn send_all(probe: &Probe, reqs: Vec<Req>) -> Result<Vec<Exchange>, Abort> {
    let mut set = JoinSet::new();
    for (i, req) in reqs.into_iter().enumerate() {
        let probe = probe.clone();
        set.spawn(async move { (i, probe.send(req).await) });
    }
    let mut out: Vec<Option<Exchange>> = vec![None; set.len()];
    while let Some(joined) = set.join_next().await {
        let (i, result) =
            joined.map_err(|e| Abort::Prerequisite(format!("a writer task died: {e}")))?;
        out[i] = Some(result?);
    }
    Ok(out.into_iter().flatten().collect())
}

check!(single_winner, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "writer": null }))).await?;
    let bodies: Vec<Value> = (0..RACERS)
        .map(|i| cx.doc(json!({ "writer": i })))
        .collect();
    let reqs = bodies
        .iter()
        .map(|b| {
            Req::put(&fx.url)
                .json(b)
                .header("If-Match", fx.etag.to_string())
        })
        .collect();
    let results = send_all(&cx.probe, reqs).await?;
    let winners: Vec<usize> = (0..RACERS)
        .filter(|&i| results[i].status() / 100 == 2)
        .collect();
    let refused = results
        .iter()
        .filter(|e| matches!(e.status(), 409 | 412))
        .count();
    let expectation = format!(
        "of {RACERS} concurrent PUTs with the same current If-Match exactly one succeeds, {} are refused with 412/409, and the stored body is the winner's",
        RACERS - 1
    );
    if winners.len() != 1 || refused != RACERS - 1 {
        let example = winners
            .get(1)
            .or(winners.first())
            .map_or(&results[0], |&i| &results[i]);
        return Ok(Finding::violation(
            expectation,
            format!("{} succeeded and {refused} were refused", winners.len()),
            example,
        ));
    }
    let read = cx.snapshot(&fx.url).await?;
    Ok(if read.body.as_ref() == Some(&bodies[winners[0]]) {
        Finding::Pass(format!(
            "1 of {RACERS} writers won; the stored body is the winner's"
        ))
    } else {
        Finding::violation(
            expectation,
            "the stored body is not the winner's",
            &read.exchange,
        )
    })
});

async fn read_counter(cx: &Cx, url: &str) -> Result<(Exchange, Option<i64>), Abort> {
    let read = cx.snapshot(url).await?;
    let n = read
        .body
        .as_ref()
        .and_then(|b| b.get("counter"))
        .and_then(Value::as_i64);
    Ok((read.exchange, n))
}

check!(no_lost_update, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "counter": 0 }))).await?;
    let mut remaining = [INCREMENTS; WRITERS];
    let mut acknowledged = 0i64;
    // Rounds put every writer's read before any write, the worst interleaving
    // for a server whose compare-and-swap is not atomic.
    for _round in 0..2 * WRITERS * INCREMENTS {
        let active: Vec<usize> = (0..WRITERS).filter(|&w| remaining[w] > 0).collect();
        if active.is_empty() {
            break;
        }
        let reads = send_all(
            &cx.probe,
            active.iter().map(|_| Req::get(&fx.url)).collect(),
        )
        .await?;
        let mut writes = Vec::new();
        for read in &reads {
            let (Some(tag), Some(n)) = (
                read.etag_raw(),
                read.json()
                    .and_then(|b| b.get("counter").and_then(Value::as_i64)),
            ) else {
                return Err(Abort::Prerequisite(format!(
                    "a GET of the counter answered {}",
                    read.status()
                )));
            };
            writes.push(
                Req::put(&fx.url)
                    .json(&cx.doc(json!({ "counter": n + 1 })))
                    .header("If-Match", tag),
            );
        }
        for (w, sent) in active.iter().zip(send_all(&cx.probe, writes).await?) {
            match sent.status() {
                200..=299 => {
                    acknowledged += 1;
                    remaining[*w] -= 1;
                }
                409 | 412 => {}
                other => {
                    return Ok(Finding::violation(
                        "a conditional increment either succeeds or is refused with 412/409",
                        format!("status {other}"),
                        &sent,
                    ))
                }
            }
        }
    }
    let (read, counter) = read_counter(cx, &fx.url).await?;
    Ok(if counter == Some(acknowledged) {
        Finding::Pass(format!(
            "{acknowledged} acknowledged increments from {WRITERS} writers; the counter reads {acknowledged}"
        ))
    } else {
        Finding::violation(
            format!("the final counter equals the {acknowledged} acknowledged increments"),
            format!(
                "the counter reads {}: {} acknowledged write(s) lost",
                counter.map_or("nothing".into(), |c| c.to_string()),
                counter.map_or("all".into(), |c| (acknowledged - c).to_string())
            ),
            &read,
        )
    })
});
