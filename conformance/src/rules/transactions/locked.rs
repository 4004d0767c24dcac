//! Batches and commits that meet a lock held by another client: refused with 423
//! and nothing applied, as a single write would be; with the holder's token the
//! batch goes through. The locks are taken with the `locking` profile's helpers.

use serde_json::json;

use super::{member, op, open, path_of, send_batch, staged};
use crate::http::{Exchange, Req};
use crate::rules::context::{describe_change, Snapshot};
use crate::rules::locking::{ask, release, Held};
use crate::rules::{Abort, Cx, Finding};

/// Takes the lock of `item` as another client; a server without locks skips the rule.
async fn lock_as_other(cx: &Cx, item: &str) -> Result<Held, Abort> {
    let (answer, held) = ask(cx, item, "other client", 5_000).await?;
    if matches!(answer.status(), 404 | 405 | 501) {
        return Err(Abort::Prerequisite(format!(
            "the server offers no locks: POST {} answered {}; this rule needs the locks of the locking profile (point --lock-path at them, or leave it out)",
            answer.request.url,
            answer.status()
        )));
    }
    match held {
        Some(held) if answer.status() == 201 => Ok(held),
        _ => Err(Abort::Prerequisite(format!(
            "could not take a lock: POST {} answered {}; the locking profile judges that",
            answer.request.url,
            answer.status()
        ))),
    }
}

/// The first of `before` that changed since, described, or `None`.
async fn changed(cx: &Cx, before: &[&Snapshot]) -> Result<Option<String>, Abort> {
    for snap in before {
        let url = &snap.exchange.request.url;
        let after = cx.snapshot(url).await?;
        if let Some(change) = describe_change(snap, &after) {
            return Ok(Some(format!("{}: {change}", path_of(url))));
        }
    }
    Ok(None)
}

/// Releases `held`, whatever the check found.
async fn let_go(cx: &Cx, held: &Held) -> Result<(), Abort> {
    release(cx, held).await.map(|_| ())
}

check!(batch_locked_423, |cx| {
    let a = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let b = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let held = lock_as_other(cx, &b.url).await?;
    let finding = batch_locked_judged(cx, &a, &b, &held).await;
    let_go(cx, &held).await?;
    finding
});

async fn batch_locked_judged(
    cx: &Cx,
    a: &crate::rules::Fixture,
    b: &crate::rules::Fixture,
    held: &Held,
) -> Result<Finding, Abort> {
    let (a0, b0) = (cx.snapshot(&a.url).await?, cx.snapshot(&b.url).await?);
    let ops = |token: Option<&str>| {
        let mut last = json!({ "if_match": b.etag.to_string(), "body": cx.doc(json!({ "n": 3 })) });
        if let Some(token) = token {
            last["lock_token"] = json!(token);
        }
        vec![
            op(
                "put",
                &a.url,
                json!({ "if_match": a.etag.to_string(), "body": cx.doc(json!({ "n": 2 })) }),
            ),
            op("put", &b.url, last),
        ]
    };
    let refused = send_batch(cx, ops(None)).await?;
    let expectation = "a batch whose last operation writes a document locked by another client is refused with 423 Locked naming that operation (operation: 1), and nothing of the batch changes";
    let change = changed(cx, &[&a0, &b0]).await?;
    let named = member(&refused, "operation").and_then(|n| n.as_u64());
    if refused.status() != 423 || change.is_some() || named != Some(1) {
        let named = named.map_or("no operation member".into(), |n| format!("operation {n}"));
        return Ok(Finding::violation(
            expectation,
            format!(
                "POST {} [put {}, put {} (locked by another client, no lock_token)] answered {} with {named}{}",
                refused.request.url,
                path_of(&a.url),
                path_of(&b.url),
                refused.status(),
                change.map_or(" (state unchanged)".into(), |c| format!(", and a re-read shows {c}"))
            ),
            &refused,
        ));
    }
    let granted = send_batch(cx, ops(Some(&held.header))).await?;
    let after = cx.snapshot(&b.url).await?;
    let written = after.body.as_ref() == Some(&cx.doc(json!({ "n": 3 })));
    if granted.status() != 200 || !written {
        return Ok(Finding::violation(
            "the same batch with the holder's token in lock_token commits: 200, and a re-read shows the locked document written",
            format!(
                "with lock_token: {} the batch answered {}, and GET {} shows {}",
                held.header,
                granted.status(),
                b.url,
                if written { "the write" } else { "no write" }
            ),
            &granted,
        ));
    }
    Ok(Finding::Pass(format!(
        "a batch writing {} while another client held its lock was refused with 423 naming operation 1 and changed nothing; with lock_token it answered 200 and the write landed",
        path_of(&b.url)
    )))
}

check!(tx_commit_locked_423, |cx| {
    let a = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let before = cx.snapshot(&a.url).await?;
    let tx = open(cx, super::LONG_TTL_MS).await?;
    let put = Req::put(&a.url)
        .json(&cx.doc(json!({ "n": 2 })))
        .header("If-Match", a.etag.to_string());
    staged(cx, &tx, put, "a PUT").await?;
    let held = lock_as_other(cx, &a.url).await?;
    let answer = super::commit(cx, &tx).await;
    let after = cx.snapshot(&a.url).await;
    let_go(cx, &held).await?;
    let (answer, after): (Exchange, Snapshot) = (answer?, after?);
    let change = describe_change(&before, &after);
    if answer.status() != 423 || change.is_some() {
        return Ok(Finding::violation(
            "a commit that would write a document another client locked after the transaction wrote it is refused with 423 Locked, and nothing of the transaction is applied",
            format!(
                "PUT {} inside the transaction, then another client took its lock; POST {} answered {}{}",
                a.url,
                answer.request.url,
                answer.status(),
                change.map_or(" (state unchanged)".into(), |c| format!(", and a re-read shows {c}"))
            ),
            &answer,
        ));
    }
    Ok(Finding::Pass(format!(
        "the commit of a transaction that wrote {} after another client locked it answered 423 and applied nothing",
        path_of(&a.url)
    )))
});
