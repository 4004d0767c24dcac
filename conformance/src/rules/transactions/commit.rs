//! Committing: every write applied with the tags the commit answered, a changed
//! read refused with 409 and nothing applied, a repeated commit answered the same
//! without applying twice, and an unknown transaction refused.

use serde_json::{json, Value};

use super::{
    commit, commit_url, create_within, merged, open, path_of, results, staged, text, LONG_TTL_MS,
    TRANSACTION_HEADER,
};
use crate::http::{Exchange, Req};
use crate::rules::context::describe_change;
use crate::rules::{Abort, Cx, Finding};

/// The result of a commit for the document at `url`.
fn result_for<'a>(listed: &'a [Value], url: &str) -> Option<&'a Value> {
    let path = path_of(url);
    listed
        .iter()
        .find(|r| text(r, "path") == Some(path.as_str()))
}

/// What is wrong with the committed document at `url`: its result should have
/// `status`, and a GET should show `body` (absent: 404) with the result's etag.
async fn applied(
    cx: &Cx,
    listed: &[Value],
    url: &str,
    status: u64,
    body: Option<&Value>,
) -> Result<Option<String>, Abort> {
    let path = path_of(url);
    let Some(result) = result_for(listed, url) else {
        return Ok(Some(format!("the results name no {path}")));
    };
    if result.get("status").and_then(Value::as_u64) != Some(status) {
        return Ok(Some(format!(
            "the result for {path} has status {}, not {status}",
            result.get("status").unwrap_or(&Value::Null)
        )));
    }
    let read = cx.snapshot(url).await?;
    let tag = text(result, "etag");
    Ok(match body {
        None if read.status != 404 => Some(format!(
            "{path} was deleted, but a GET answered {}",
            read.status
        )),
        None => None,
        Some(body) if read.status != 200 || read.body.as_ref() != Some(body) => Some(format!(
            "a GET of {path} answered {} without the body written inside the transaction",
            read.status
        )),
        Some(_) if read.etag.as_deref() != tag => Some(format!(
            "the result for {path} names etag {}, but a GET answers ETag {}",
            tag.unwrap_or("(none)"),
            read.etag.as_deref().unwrap_or("(none)")
        )),
        Some(_) => None,
    })
}

check!(tx_commit_applies, |cx| {
    let a = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let b = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let c = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let tx = open(cx, LONG_TTL_MS).await?;
    let replaced = cx.doc(json!({ "n": 2 }));
    let patch = json!({ "patched": true });
    let writes = [
        (
            Req::put(&a.url)
                .json(&replaced)
                .header("If-Match", a.etag.to_string()),
            "a PUT",
        ),
        (
            Req::patch(&b.url)
                .merge_patch(&patch)
                .header("If-Match", b.etag.to_string()),
            "a PATCH",
        ),
        (
            Req::delete(&c.url).header("If-Match", c.etag.to_string()),
            "a DELETE",
        ),
    ];
    for (req, what) in writes {
        staged(cx, &tx, req, what).await?;
    }
    let made = cx.doc(json!({ "made": "inside" }));
    let created = create_within(cx, &tx, &made).await?;
    let answer = commit(cx, &tx).await?;
    let expectation = "a commit answers 200 with a result per written document, and GETs outside then show every write with the etag its result names";
    let listed = results(&answer).unwrap_or_default();
    if answer.status() != 200 {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the commit of a transaction nobody interfered with answered {}",
                answer.status()
            ),
            &answer,
        ));
    }
    let checks = [
        (a.url.as_str(), 200, Some(replaced)),
        (b.url.as_str(), 200, Some(merged(&b.body, &patch))),
        (c.url.as_str(), 204, None),
        (created.as_str(), 201, Some(made)),
    ];
    let mut wrong = Vec::new();
    for (url, status, body) in &checks {
        wrong.extend(applied(cx, &listed, url, *status, body.as_ref()).await?);
    }
    if !wrong.is_empty() {
        return Ok(Finding::violation(expectation, wrong.join("; "), &answer));
    }
    Ok(Finding::Pass(
        "the commit answered 200; GETs outside showed the PUT, PATCH, DELETE and POST applied with the etags the results named".into(),
    ))
});

/// Whether a 409 names `path` in its `conflicts`.
fn names_conflict(answer: &Exchange, path: &str) -> bool {
    answer
        .json()
        .and_then(|b| b.get("conflicts").and_then(Value::as_array).cloned())
        .is_some_and(|c| c.iter().any(|e| text(e, "path") == Some(path)))
}

check!(tx_conflict_409, |cx| {
    let a = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let b = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let b0 = cx.snapshot(&b.url).await?;
    let tx = open(cx, LONG_TTL_MS).await?;
    let read = cx.send(tx.within(Req::get(&a.url))).await?;
    if read.status() != 200 {
        return Err(Abort::Prerequisite(format!(
            "a GET inside the transaction answered {}",
            read.status()
        )));
    }
    let put = Req::put(&b.url)
        .json(&cx.doc(json!({ "n": 2 })))
        .header("If-Match", b.etag.to_string());
    staged(cx, &tx, put, "a PUT with the current If-Match").await?;
    let theirs = cx.doc(json!({ "n": 3, "by": "someone else" }));
    let outside = cx
        .send(
            Req::put(&a.url)
                .json(&theirs)
                .header("If-Match", a.etag.to_string()),
        )
        .await?;
    if outside.status() / 100 != 2 {
        return Err(Abort::Prerequisite(format!(
            "a PUT outside the transaction with the current If-Match answered {}",
            outside.status()
        )));
    }
    let answer = commit(cx, &tx).await?;
    let path = path_of(&a.url);
    let expectation = format!(
        "a commit after a document the transaction read ({path}) changed outside answers 409 problem+json naming it in conflicts, and applies nothing"
    );
    let b1 = cx.snapshot(&b.url).await?;
    if let Some(change) = describe_change(&b0, &b1) {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the commit answered {}, and the document written inside shows {change}",
                answer.status()
            ),
            &answer,
        ));
    }
    let a1 = cx.snapshot(&a.url).await?;
    if a1.body.as_ref() != Some(&theirs) {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the commit answered {}, and the outside write to {path} is gone",
                answer.status()
            ),
            &a1.exchange,
        ));
    }
    let problem = answer.media_type().as_deref() == Some("application/problem+json");
    if answer.status() != 409 || !problem || !names_conflict(&answer, &path) {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the commit answered {} ({}){}",
                answer.status(),
                answer.header("content-type").unwrap_or("no Content-Type"),
                if names_conflict(&answer, &path) {
                    ""
                } else {
                    " without a conflicts entry for that path"
                }
            ),
            &answer,
        ));
    }
    Ok(Finding::Pass(format!(
        "the commit answered 409 naming {path} in conflicts; the write inside was not applied and the outside write stands"
    )))
});

check!(tx_commit_idempotent, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let tx = open(cx, LONG_TTL_MS).await?;
    let put = Req::put(&fx.url)
        .json(&cx.doc(json!({ "n": 2 })))
        .header("If-Match", fx.etag.to_string());
    staged(cx, &tx, put, "a PUT with the current If-Match").await?;
    let first = commit(cx, &tx).await?;
    if first.status() != 200 {
        return Err(Abort::Prerequisite(format!(
            "the first commit answered {}",
            first.status()
        )));
    }
    let after_first = cx.snapshot(&fx.url).await?;
    let second = cx.send(Req::post(&tx.commit_url())).await?;
    let after_second = cx.snapshot(&fx.url).await?;
    let expectation = "committing a committed transaction again answers the same 200 and results, and applies nothing twice";
    if let Some(change) = describe_change(&after_first, &after_second) {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the second commit answered {}, and a GET then shows {change}",
                second.status()
            ),
            &second,
        ));
    }
    if second.status() != 200 || results(&second) != results(&first) {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the second commit answered {} with results {}, the first 200 with {}",
                second.status(),
                results(&second).map_or("(none)".into(), |r| Value::from(r).to_string()),
                results(&first).map_or("(none)".into(), |r| Value::from(r).to_string())
            ),
            &second,
        ));
    }
    Ok(Finding::Pass(
        "a second commit answered 200 with the same results; the document kept the first commit's ETag".into(),
    ))
});

check!(tx_unknown_404, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let before = cx.snapshot(&fx.url).await?;
    let made_up = format!("ifmatch-conformance-{}-never-begun", cx.run_token());
    let expectation =
        "requests naming a transaction that never existed answer 404 and change nothing";
    let write = Req::put(&fx.url)
        .json(&cx.doc(json!({ "n": 2 })))
        .header("If-Match", fx.etag.to_string())
        .header(TRANSACTION_HEADER, made_up.clone());
    let put = cx.send(write).await?;
    let after = cx.snapshot(&fx.url).await?;
    if put.status() != 404 || describe_change(&before, &after).is_some() {
        return Ok(Finding::violation(
            expectation,
            format!(
                "a PUT with Transaction-Id {made_up} answered {}{}",
                put.status(),
                describe_change(&before, &after)
                    .map_or(String::new(), |c| format!(", and a GET then shows {c}"))
            ),
            &put,
        ));
    }
    let url = format!("{}/{made_up}", cx.transactions_url().trim_end_matches('/'));
    let committed = cx.send(Req::post(&commit_url(&url))).await?;
    if committed.status() != 404 {
        return Ok(Finding::violation(
            expectation,
            format!(
                "a commit of the made-up transaction answered {}",
                committed.status()
            ),
            &committed,
        ));
    }
    Ok(Finding::Pass(format!(
        "a PUT with the made-up Transaction-Id {made_up} and its commit both answered 404; the document is unchanged"
    )))
});
