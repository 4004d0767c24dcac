//! Batches that fail: nothing of them is applied, the refusal has the failing
//! operation's status, and it names that operation.

use serde_json::{json, Value};

use super::{member, op, outdated, path_of, send_batch, stale_verdict};
use crate::http::{Exchange, Req};
use crate::rules::context::{describe_change, Snapshot};
use crate::rules::{Abort, Cx, Finding};

/// The first change among `before` documents, re-read now.
async fn first_change(cx: &Cx, before: &[&Snapshot]) -> Result<Option<String>, Abort> {
    for snap in before {
        let url = snap.exchange.request.url.clone();
        let after = cx.snapshot(&url).await?;
        if let Some(change) = describe_change(snap, &after) {
            return Ok(Some(format!("{}: {change}", path_of(&url))));
        }
    }
    Ok(None)
}

/// A created document's trace: a GET of `url` that finds it.
async fn appeared(cx: &Cx, url: &str) -> Result<Option<String>, Abort> {
    let read = cx.snapshot(url).await?;
    Ok((read.status != 404).then(|| {
        format!(
            "{} now answers {} instead of 404: the refused batch's put created it",
            path_of(url),
            read.status
        )
    }))
}

check!(batch_all_or_nothing, |cx| {
    let a = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let b = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let c = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let (stale, d) = outdated(cx, 1).await?;
    let fresh = cx.fresh_url();
    let marker = format!("ifmatch-conformance-{}-refused-create", cx.run_token());
    let (a0, b0, c0) = (
        cx.snapshot(&a.url).await?,
        cx.snapshot(&b.url).await?,
        cx.snapshot(&c.url).await?,
    );
    let d_url = d.exchange.request.url.clone();
    let ops = vec![
        json!({ "op": "create", "body": cx.doc(json!({ "marker": marker })) }),
        op(
            "put",
            &fresh,
            json!({ "if_none_match": "*", "body": cx.doc(json!({ "n": 1 })) }),
        ),
        op(
            "put",
            &a.url,
            json!({ "if_match": a.etag.to_string(), "body": cx.doc(json!({ "n": 2 })) }),
        ),
        op(
            "patch",
            &b.url,
            json!({ "if_match": b.etag.to_string(), "body": { "n": 2 } }),
        ),
        op("delete", &c.url, json!({ "if_match": c.etag.to_string() })),
        op(
            "put",
            &d_url,
            json!({ "if_match": stale, "body": cx.doc(json!({ "n": 9 })) }),
        ),
    ];
    let answer = send_batch(cx, ops).await?;
    let expectation = "a batch whose last operation has a stale if_match is refused with that operation's status (412) and changes nothing: no document is created, written or deleted";
    let mut change = first_change(cx, &[&a0, &b0, &c0, &d]).await?;
    if change.is_none() {
        change = appeared(cx, &fresh).await?;
    }
    if change.is_none() {
        let listing = cx.send(Req::get(cx.collection_url())).await?;
        change = listing.response.body.contains(&marker).then(|| {
            "the collection lists the document the refused batch's create made".to_owned()
        });
    }
    if let Some(change) = change {
        return Ok(Finding::violation(
            expectation,
            format!("the batch answered {}, and {change}", answer.status()),
            &answer,
        ));
    }
    Ok(stale_verdict(
        cx,
        &answer,
        "a batch whose last of 6 operations has a stale if_match",
        "re-reads show nothing of the first 5 applied",
    ))
});

/// What is wrong with a refusal that should be problem+json naming operation `at`
/// (`op`, `path` when the server gives them).
fn names(answer: &Exchange, at: u64, kind: &str, path: Option<&str>) -> Vec<String> {
    let mut wrong = Vec::new();
    if answer.media_type().as_deref() != Some("application/problem+json") {
        wrong.push(format!(
            "Content-Type is {}",
            answer.header("content-type").unwrap_or("absent")
        ));
    }
    match member(answer, "operation") {
        Some(n) if n.as_u64() == Some(at) => {}
        Some(n) => wrong.push(format!("operation is {n}, not {at}")),
        None => wrong.push("there is no operation member".into()),
    }
    if let Some(named) = member(answer, "op").filter(|v| v.as_str() != Some(kind)) {
        wrong.push(format!("op is {named}, not {kind:?}"));
    }
    let named = member(answer, "path");
    if let (Some(named), Some(path)) = (named, path) {
        if named.as_str() != Some(path) {
            wrong.push(format!("path is {named}, not {path:?}"));
        }
    }
    wrong
}

check!(batch_names_operation, |cx| {
    let a = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let (stale, d) = outdated(cx, 1).await?;
    let d_path = path_of(&d.exchange.request.url);
    let stale_batch = vec![
        op(
            "put",
            &a.url,
            json!({ "if_match": a.etag.to_string(), "body": cx.doc(json!({ "n": 2 })) }),
        ),
        op(
            "patch",
            &a.url,
            json!({ "if_match": "*", "body": { "n": 3 } }),
        ),
        op(
            "check",
            &d.exchange.request.url,
            json!({ "if_match": stale }),
        ),
    ];
    let refused = send_batch(cx, stale_batch).await?;
    let expectation = "a refused batch answers application/problem+json naming the failing operation: operation (its index from 0), op and path";
    if !matches!(refused.status(), 409 | 412) {
        return Err(Abort::Prerequisite(format!(
            "a batch whose operation 2 has a stale if_match answered {}, not a refusal to judge",
            refused.status()
        )));
    }
    let wrong = names(&refused, 2, "check", Some(&d_path));
    if !wrong.is_empty() {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the {} for a stale check at index 2: {}",
                refused.status(),
                wrong.join("; ")
            ),
            &refused,
        ));
    }
    let malformed = vec![
        op(
            "put",
            &a.url,
            json!({ "if_match": "*", "body": cx.doc(json!({ "n": 4 })) }),
        ),
        op("frobnicate", &a.url, Value::Null),
    ];
    let bad = send_batch(cx, malformed).await?;
    let wrong = names(&bad, 1, "frobnicate", None);
    if bad.status() != 400 || !wrong.is_empty() {
        let mut wrong = wrong;
        if bad.status() != 400 {
            wrong.insert(0, format!("the status is {}", bad.status()));
        }
        return Ok(Finding::violation(
            "a batch with an unknown op at index 1 answers 400 problem+json with operation 1",
            wrong.join("; "),
            &bad,
        ));
    }
    Ok(Finding::Pass(format!(
        "the {} for a stale check at index 2 named operation 2; an unknown op at index 1 got 400 naming operation 1",
        refused.status()
    )))
});

check!(batch_missing_404, |cx| {
    let a = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let missing = cx.fresh_url();
    let before = cx.snapshot(&a.url).await?;
    let put = |n: i64| {
        op(
            "put",
            &a.url,
            json!({ "if_match": a.etag.to_string(), "body": cx.doc(json!({ "n": n })) }),
        )
    };
    let cases = [
        (
            "patch",
            op(
                "patch",
                &missing,
                json!({ "if_match": "*", "body": { "n": 2 } }),
            ),
        ),
        ("check", op("check", &missing, Value::Null)),
    ];
    for (kind, last) in cases {
        let answer = send_batch(cx, vec![put(2), last]).await?;
        let mut change = first_change(cx, &[&before]).await?;
        if change.is_none() {
            change = appeared(cx, &missing).await?;
        }
        if answer.status() != 404 || change.is_some() {
            return Ok(Finding::violation(
                format!("a batch whose {kind} names a missing document is refused with 404 and changes nothing"),
                format!(
                    "a batch of a put and a {kind} of the missing {} answered {}{}",
                    path_of(&missing),
                    answer.status(),
                    change.map_or(" (state unchanged)".into(), |c| format!(", and {c}"))
                ),
                &answer,
            ));
        }
    }
    Ok(Finding::Pass(
        "batches with a patch and a check of a missing document answered 404; the put before them was not applied".into(),
    ))
});
