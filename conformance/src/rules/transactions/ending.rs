//! Transactions that end without a commit: rolled back, or left to expire. Either
//! way nothing of them is applied and a commit afterwards answers 404.

use std::time::Duration;

use serde_json::json;

use super::{commit, create_within, open, path_of, roll_back, staged, Tx, LONG_TTL_MS};
use crate::http::{Exchange, Req};
use crate::rules::context::{describe_change, Snapshot};
use crate::rules::{Abort, Cx, Finding};

/// The lifetime `tx-expiry` asks for and waits out.
const SHORT_TTL_MS: u64 = 300;
/// The longest lifetime the suite waits out; a server that grants more is not judged.
const MAX_WAITED_TTL: Duration = Duration::from_secs(5);
/// Added to a lifetime before the suite counts on its expiry (clock rounding, and
/// the grant was made a little before its answer arrived).
const EXPIRY_MARGIN: Duration = Duration::from_millis(150);

/// Judges the state after a transaction ended without a commit: the document at
/// `before` is unchanged, `created` (if any) absent, and `late` (a commit) a 404.
async fn nothing_applied(
    cx: &Cx,
    before: &Snapshot,
    created: Option<&str>,
    late: &Exchange,
    expectation: &str,
    how: &str,
) -> Result<Finding, Abort> {
    let after = cx.snapshot(&before.exchange.request.url).await?;
    if let Some(change) = describe_change(before, &after) {
        return Ok(Finding::violation(
            expectation,
            format!("{how}, a GET of the document written inside shows {change}"),
            &after.exchange,
        ));
    }
    if let Some(url) = created {
        let new = cx.snapshot(url).await?;
        if new.status != 404 {
            return Ok(Finding::violation(
                expectation,
                format!(
                    "{how}, a GET of {} (POSTed inside) answered {}",
                    path_of(url),
                    new.status
                ),
                &new.exchange,
            ));
        }
    }
    if late.status() != 404 {
        return Ok(Finding::violation(
            expectation,
            format!("{how}, a commit answered {}", late.status()),
            late,
        ));
    }
    Ok(Finding::Pass(format!(
        "{how}, GETs showed nothing of the transaction applied and a commit answered 404"
    )))
}

/// A PUT of the fixture inside `tx` with the current If-Match.
async fn write_inside(cx: &Cx, tx: &Tx, url: &str, tag: &str) -> Result<(), Abort> {
    let put = Req::put(url)
        .json(&cx.doc(json!({ "n": 2 })))
        .header("If-Match", tag);
    staged(cx, tx, put, "a PUT with the current If-Match").await?;
    Ok(())
}

check!(tx_rollback, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let before = cx.snapshot(&fx.url).await?;
    let tx = open(cx, LONG_TTL_MS).await?;
    write_inside(cx, &tx, &fx.url, &fx.etag.to_string()).await?;
    let created = create_within(cx, &tx, &cx.doc(json!({ "made": "inside" }))).await?;
    let rolled = roll_back(cx, &tx).await?;
    let expectation =
        "DELETE {transaction} answers 204 and applies nothing; a commit afterwards answers 404";
    if rolled.status() != 204 {
        return Ok(Finding::violation(
            expectation,
            format!("the roll back answered {}", rolled.status()),
            &rolled,
        ));
    }
    let late = cx.send(Req::post(&tx.commit_url())).await?;
    nothing_applied(
        cx,
        &before,
        Some(&created),
        &late,
        expectation,
        "after the roll back answered 204",
    )
    .await
});

check!(tx_expiry, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let before = cx.snapshot(&fx.url).await?;
    let tx = open(cx, SHORT_TTL_MS).await?;
    let ttl = Duration::from_millis(tx.ttl_ms.unwrap_or(SHORT_TTL_MS));
    if ttl > MAX_WAITED_TTL {
        return Err(Abort::Prerequisite(format!(
            "asked for a {SHORT_TTL_MS} ms transaction, the server granted {} ms; the suite waits at most {} s for an expiry",
            ttl.as_millis(),
            MAX_WAITED_TTL.as_secs()
        )));
    }
    write_inside(cx, &tx, &fx.url, &fx.etag.to_string()).await?;
    tokio::time::sleep(
        (tx.begun + ttl + EXPIRY_MARGIN).saturating_duration_since(std::time::Instant::now()),
    )
    .await;
    let late = commit(cx, &tx).await?;
    let expectation = "a transaction not committed by its expiry is rolled back: a commit afterwards answers 404 and nothing of it is applied";
    let how = format!(
        "{} ms after a {} ms transaction began",
        tx.begun.elapsed().as_millis(),
        ttl.as_millis()
    );
    nothing_applied(cx, &before, None, &late, expectation, &how).await
});
