//! Serializability under contention: concurrent transfers between a few accounts,
//! each an interactive transaction retried after 409, conserve the total, and every
//! balance ends at its start plus the transfers the server acknowledged.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use super::{try_begin, Tx};
use crate::http::{Exchange, Probe, Req};
use crate::rules::{Abort, Finding};

/// Accounts money moves between.
const ACCOUNTS: usize = 3;
/// What each holds at the start.
const START: i64 = 100;
/// Clients transferring at once, and transfers each makes.
const WORKERS: usize = 8;
const TRANSFERS: usize = 5;
/// Attempts at one transfer before the worker gives up on it.
const ATTEMPTS: u32 = 60;
/// How long all workers together may take; no attempt starts later.
const BOUND: Duration = Duration::from_secs(20);
/// Each transaction's lifetime: far longer than an attempt takes.
const TTL_MS: u64 = 10_000;

/// Where the workers send their requests.
#[derive(Debug)]
struct Places {
    transactions: String,
    accounts: Vec<String>,
}

/// One acknowledged transfer.
#[derive(Debug, Clone, Copy)]
struct Transfer {
    from: usize,
    to: usize,
    amount: i64,
}

/// A pause between attempts that differs per worker, so they do not retry in step.
fn pause(worker: usize, attempt: u32) -> Duration {
    Duration::from_millis(2 + (worker as u64 * 7 + u64::from(attempt) * 5) % 17)
}

/// Reads an account inside `tx`: its balance and ETag.
async fn balance(probe: &Probe, tx: &Tx, url: &str) -> Result<(i64, String, Value), Abort> {
    let read = probe.send(tx.within(Req::get(url))).await?;
    let body = read.json().unwrap_or(Value::Null);
    match (body.get("balance").and_then(Value::as_i64), read.etag_raw()) {
        (Some(n), Some(tag)) if read.status() == 200 => Ok((n, tag.to_owned(), body)),
        _ => Err(Abort::Prerequisite(format!(
            "a GET of an account inside a transaction answered {} without a balance and an ETag",
            read.status()
        ))),
    }
}

/// One attempt: `Some(answer)` is the commit's answer; `None` means a write inside
/// was refused and the transaction rolled back.
async fn attempt(
    probe: &Probe,
    tx: &Tx,
    accounts: &[String],
    t: Transfer,
) -> Result<Option<Exchange>, Abort> {
    let (from, from_tag, mut from_doc) = balance(probe, tx, &accounts[t.from]).await?;
    let (to, to_tag, mut to_doc) = balance(probe, tx, &accounts[t.to]).await?;
    from_doc["balance"] = Value::from(from - t.amount);
    to_doc["balance"] = Value::from(to + t.amount);
    for (url, doc, tag) in [
        (&accounts[t.from], from_doc, from_tag),
        (&accounts[t.to], to_doc, to_tag),
    ] {
        let put = probe
            .send(tx.within(Req::put(url).json(&doc).header("If-Match", tag)))
            .await?;
        if put.status() / 100 != 2 {
            probe.send(Req::delete(&tx.url)).await?;
            return Ok(None);
        }
    }
    Ok(Some(probe.send(Req::post(&tx.commit_url())).await?))
}

/// One worker's transfers, each retried until acknowledged (or out of attempts or time).
async fn worker(
    probe: Probe,
    places: Arc<Places>,
    w: usize,
    start: Arc<Barrier>,
    until: Instant,
) -> Result<(Vec<Transfer>, u32), Abort> {
    let accounts = &places.accounts;
    start.wait().await;
    let (mut done, mut conflicts) = (Vec::new(), 0);
    for i in 0..TRANSFERS {
        let from = (w + i) % ACCOUNTS;
        let t = Transfer {
            from,
            to: (from + 1 + i % (ACCOUNTS - 1)) % ACCOUNTS,
            amount: 1 + ((w * 5 + i * 3) % 9) as i64,
        };
        for n in 0..ATTEMPTS {
            if Instant::now() > until {
                return Ok((done, conflicts));
            }
            let (begun, tx) = try_begin(&probe, &places.transactions, TTL_MS).await?;
            let Some(tx) = tx else {
                if begun.status() == 503 {
                    tokio::time::sleep(pause(w, n)).await;
                    continue;
                }
                return Err(Abort::Prerequisite(format!(
                    "a transfer's begin answered {}",
                    begun.status()
                )));
            };
            match attempt(&probe, &tx, accounts, t).await?.map(|a| a.status()) {
                Some(200) => {
                    done.push(t);
                    break;
                }
                Some(409 | 404 | 423) | None => conflicts += 1,
                Some(other) => {
                    return Err(Abort::Prerequisite(format!(
                        "a transfer's commit answered {other}, so whether it landed is unknown"
                    )))
                }
            }
            tokio::time::sleep(pause(w, n)).await;
        }
    }
    Ok((done, conflicts))
}

check!(serializable, |cx| {
    let mut accounts = Vec::new();
    for _ in 0..ACCOUNTS {
        accounts.push(cx.fixture(cx.doc(json!({ "balance": START }))).await?.url);
    }
    let places = Arc::new(Places {
        transactions: cx.transactions_url().to_owned(),
        accounts: accounts.clone(),
    });
    let start = Arc::new(Barrier::new(WORKERS));
    let until = Instant::now() + BOUND;
    let mut set = JoinSet::new();
    for w in 0..WORKERS {
        set.spawn(worker(
            cx.probe.clone(),
            Arc::clone(&places),
            w,
            Arc::clone(&start),
            until,
        ));
    }
    let (mut acknowledged, mut retries, mut stopped) = (Vec::new(), 0, None);
    while let Some(joined) = set.join_next().await {
        match joined.map_err(|e| Abort::Prerequisite(format!("a transfer task died: {e}")))? {
            Ok((done, conflicts)) => {
                acknowledged.extend(done);
                retries += conflicts;
            }
            Err(abort) => stopped = Some(abort),
        }
    }
    if let Some(abort) = stopped {
        return Err(abort);
    }
    if acknowledged.is_empty() {
        return Err(Abort::Prerequisite(
            "no transfer was acknowledged, so no balance can be judged".into(),
        ));
    }
    let mut expected = [START; ACCOUNTS];
    for t in &acknowledged {
        expected[t.from] -= t.amount;
        expected[t.to] += t.amount;
    }
    let mut seen = Vec::new();
    let mut last = None;
    for url in &accounts {
        let read = cx.snapshot(url).await?;
        seen.push(
            read.body
                .as_ref()
                .and_then(|b| b.get("balance"))
                .and_then(Value::as_i64),
        );
        last = Some(read.exchange);
    }
    let total: Option<i64> = seen.iter().copied().sum();
    let want_total = START * ACCOUNTS as i64;
    let shown = |v: &[Option<i64>]| {
        v.iter()
            .map(|b| b.map_or("none".into(), |b| b.to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let expectation = "concurrent transfers in transactions retried after 409 conserve the total, and each balance equals its start plus the acknowledged transfers";
    let observed = if total != Some(want_total) {
        Some(format!(
            "after {} acknowledged transfers the balances are [{}]: the total is {} instead of {want_total}",
            acknowledged.len(),
            shown(&seen),
            total.map_or("unreadable".into(), |t| t.to_string())
        ))
    } else if seen.iter().zip(expected).any(|(s, e)| *s != Some(e)) {
        Some(format!(
            "after {} acknowledged transfers the balances are [{}], not [{}]: some acknowledged transfer was lost or applied against an old balance",
            acknowledged.len(),
            shown(&seen),
            expected.map(|e| e.to_string()).join(", ")
        ))
    } else {
        None
    };
    Ok(match (observed, last) {
        (Some(observed), Some(read)) => Finding::violation(expectation, observed, &read),
        _ => Finding::Pass(format!(
            "{WORKERS} clients made {} transfers between {ACCOUNTS} accounts ({retries} attempts retried); the total stayed {want_total} and the balances are [{}] as the acknowledged transfers say",
            acknowledged.len(),
            shown(&seen)
        )),
    })
});
