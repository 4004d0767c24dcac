//! Batches that succeed: every operation applied with the tag its result names, in
//! order, and a `ref` reaching the document an earlier `create` made.

use serde_json::{json, Value};

use super::{member, merged, op, path_of, result_url, results, send_batch, text};
use crate::http::Exchange;
use crate::rules::{Abort, Cx, Finding};

/// The statuses of the mixed batch's results, in order.
const MIXED_STATUSES: [u64; 5] = [201, 200, 200, 200, 204];

/// Whether a batch's answer says that the server has no batches there: 404, 405 or
/// 501 without the `operation` member a refused batch would carry.
fn no_batches(answer: &Exchange) -> bool {
    matches!(answer.status(), 404 | 405 | 501) && member(answer, "operation").is_none()
}

/// What is wrong with the document at `url` after a batch wrote `body` with `tag`.
async fn compare(
    cx: &Cx,
    what: &str,
    url: &str,
    body: Option<&Value>,
    tag: Option<&str>,
) -> Result<Option<String>, Abort> {
    let read = cx.snapshot(url).await?;
    Ok(match body {
        None if read.status != 404 => Some(format!(
            "{what} was deleted, but a GET of {} answered {}",
            path_of(url),
            read.status
        )),
        None => None,
        Some(_) if read.status != 200 => Some(format!(
            "{what}: a GET of {} answered {}",
            path_of(url),
            read.status
        )),
        Some(body) if read.body.as_ref() != Some(body) => Some(format!(
            "{what}: a GET of {} shows a body other than the batch wrote",
            path_of(url)
        )),
        Some(_) if read.etag.as_deref() != tag => Some(format!(
            "{what}: the result's etag is {} but a GET of {} answers ETag {}",
            tag.unwrap_or("(none)"),
            path_of(url),
            read.etag.as_deref().unwrap_or("(none)")
        )),
        Some(_) => None,
    })
}

check!(batch_commits, |cx| {
    let a = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let b = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let c = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let created = cx.doc(json!({ "made": "create" }));
    let replaced = cx.doc(json!({ "n": 2 }));
    let patch = json!({ "patched": true });
    let tag = |fx: &crate::rules::Fixture| fx.etag.to_string();
    let ops = vec![
        json!({ "op": "create", "lid": "new", "body": created }),
        op(
            "put",
            &a.url,
            json!({ "if_match": tag(&a), "body": replaced }),
        ),
        op(
            "patch",
            &b.url,
            json!({ "if_match": tag(&b), "body": patch }),
        ),
        op("check", &c.url, json!({ "if_match": tag(&c) })),
        op("delete", &c.url, json!({ "if_match": tag(&c) })),
    ];
    let answer = send_batch(cx, ops).await?;
    if no_batches(&answer) {
        return Ok(Finding::Skip(format!(
            "the server offers no batches at {}: POST answered {}, so the batch rules are skipped. If its batches live elsewhere, say where with --batch-path",
            answer.request.url,
            answer.status()
        )));
    }
    let expectation = "a batch of create, put, patch, check and delete answers 200 with one result per operation (201, 200, 200, 200, 204), and later GETs show each write with the etag its result names";
    let listed = results(&answer).unwrap_or_default();
    let statuses: Vec<u64> = listed
        .iter()
        .map(|r| r.get("status").and_then(Value::as_u64).unwrap_or(0))
        .collect();
    if answer.status() != 200 || statuses != MIXED_STATUSES {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the batch answered {} with result statuses {statuses:?}",
                answer.status()
            ),
            &answer,
        ));
    }
    let Some(new_url) = result_url(cx, &listed[0]) else {
        return Ok(Finding::violation(
            expectation,
            "the create's result names no path",
            &answer,
        ));
    };
    let mut wrong = Vec::new();
    let checks = [
        ("the create", new_url.as_str(), Some(&created), 0),
        ("the put", a.url.as_str(), Some(&replaced), 1),
        (
            "the patch",
            b.url.as_str(),
            Some(&merged(&b.body, &patch)),
            2,
        ),
        ("the delete", c.url.as_str(), None, 4),
    ];
    for (what, url, body, at) in checks {
        let tag = text(&listed[at], "etag");
        wrong.extend(compare(cx, what, url, body, tag).await?);
    }
    if text(&listed[3], "etag") != Some(tag(&c).as_str()) {
        wrong.push(format!(
            "the check's result names etag {}, not the document's current {}",
            text(&listed[3], "etag").unwrap_or("(none)"),
            c.etag
        ));
    }
    if !wrong.is_empty() {
        return Ok(Finding::violation(expectation, wrong.join("; "), &answer));
    }
    Ok(Finding::Pass(
        "a batch of create, put, patch, check and delete answered 200 with 201, 200, 200, 200, 204; GETs show every write with the etag its result named".into(),
    ))
});

check!(batch_order, |cx| {
    let fx = cx
        .fixture(cx.doc(json!({ "n": 1, "stage": "created" })))
        .await?;
    let replaced = cx.doc(json!({ "stage": "put" }));
    let patch = json!({ "patched": true });
    let ops = vec![
        op(
            "put",
            &fx.url,
            json!({ "if_match": fx.etag.to_string(), "body": replaced }),
        ),
        op("patch", &fx.url, json!({ "if_match": "*", "body": patch })),
    ];
    let answer = send_batch(cx, ops).await?;
    let expectation = "operations run in order: a patch after a put of the same document patches what the put wrote";
    if answer.status() != 200 {
        return Ok(Finding::violation(
            expectation,
            format!(
                "a batch of a put and a patch of one document answered {}",
                answer.status()
            ),
            &answer,
        ));
    }
    let read = cx.snapshot(&fx.url).await?;
    let want = merged(&replaced, &patch);
    if read.body.as_ref() == Some(&want) {
        return Ok(Finding::Pass(
            "a batch's patch after a put of the same document patched what the put wrote".into(),
        ));
    }
    let observed = if read.body.as_ref() == Some(&merged(&fx.body, &patch)) {
        "a GET shows the patch applied to the document as it was before the batch: the put's write is lost".to_owned()
    } else {
        format!(
            "a GET answered {} with a body that is neither the put's body patched nor anything else the batch asked for",
            read.status
        )
    };
    Ok(Finding::violation(expectation, observed, &read.exchange))
});

check!(batch_lid_ref, |cx| {
    let created = cx.doc(json!({ "n": 1 }));
    let patch = json!({ "n": 2 });
    let ops = vec![
        json!({ "op": "create", "lid": "fresh", "body": created }),
        json!({ "op": "patch", "ref": "fresh", "if_match": "*", "body": patch }),
        json!({ "op": "check", "ref": "fresh" }),
    ];
    let answer = send_batch(cx, ops).await?;
    let expectation = "a ref to an earlier create's lid targets the document that create made: every result names its path, and a GET shows the patch applied to it";
    let listed = results(&answer).unwrap_or_default();
    if answer.status() != 200 || listed.len() != 3 {
        return Ok(Finding::violation(
            expectation,
            format!(
                "a batch of create (lid \"fresh\"), patch and check by ref answered {} with {} results",
                answer.status(),
                listed.len()
            ),
            &answer,
        ));
    }
    let paths: Vec<Option<&str>> = listed.iter().map(|r| text(r, "path")).collect();
    if paths[0].is_none() || paths.iter().any(|p| *p != paths[0]) {
        return Ok(Finding::violation(
            expectation,
            format!("the results name the paths {paths:?}"),
            &answer,
        ));
    }
    let Some(url) = result_url(cx, &listed[0]) else {
        return Ok(Finding::violation(
            expectation,
            "the create's path does not resolve",
            &answer,
        ));
    };
    let read = cx.snapshot(&url).await?;
    let want = merged(&created, &patch);
    Ok(if read.status == 200 && read.body.as_ref() == Some(&want) {
        Finding::Pass(format!(
            "the patch and check by ref named {} like the create, and a GET shows the patch applied",
            paths[0].unwrap_or_default()
        ))
    } else {
        Finding::violation(
            expectation,
            format!(
                "a GET of the created {} answered {} without the patch applied",
                paths[0].unwrap_or_default(),
                read.status
            ),
            &read.exchange,
        )
    })
});
