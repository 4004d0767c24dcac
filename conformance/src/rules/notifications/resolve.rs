//! Resolving a conflict: `mine` applies the refused write, `theirs` keeps the
//! document, `merged` writes the document sent; each is a conditional write
//! against the version the conflict recorded, so it is refused when the document
//! changed again, and a resolved conflict cannot be resolved twice.

use serde_json::{json, Value};

use super::stream::{await_event, watched_conflict, EVENT_WAIT};
use super::{as_who, conflict, read_record, state_of, text_at, Conflict, Who};
use crate::http::{Exchange, Req};
use crate::rules::context::{describe_change, Snapshot};
use crate::rules::{Abort, Cx, Finding};

/// `METHOD url body` of the request behind `answer`.
fn sent(answer: &Exchange) -> String {
    let r = &answer.request;
    format!(
        "{} {} {}",
        r.method,
        r.url,
        r.body.as_deref().unwrap_or_default()
    )
}

/// `POST {record}/resolve` with `body`, as `who`. A server without the endpoint,
/// or one that wants credentials the run was not given, skips the rule.
pub(super) async fn resolve_as(
    cx: &Cx,
    c: &Conflict,
    body: Value,
    who: Who,
) -> Result<Exchange, Abort> {
    let url = format!("{}/resolve", c.record_url.trim_end_matches('/'));
    let answer = cx
        .send(as_who(cx, Req::post(&url).json(&body), who))
        .await?;
    if matches!(answer.status(), 404 | 405 | 501) {
        return Err(Abort::Prerequisite(format!(
            "the server offers no way to resolve conflicts: POST {url} answered {}",
            answer.status()
        )));
    }
    if who == Who::Writer && cx.notify().writer.is_none() && matches!(answer.status(), 401 | 403) {
        return Err(Abort::Prerequisite(format!(
            "the server wants credentials to resolve conflicts: POST {url} answered {} to an anonymous request; pass --token NAME=TOKEN (or IFMATCH_CONFORMANCE_TOKEN) for the client the suite writes as",
            answer.status()
        )));
    }
    Ok(answer)
}

/// What the document must look like after a resolution.
pub(super) enum After<'a> {
    /// This body, under the tag the resolution names.
    Body(&'a Value),
    /// Exactly as before (same tag, same body).
    Unchanged(&'a Snapshot),
}

/// Judges a resolution that must succeed: 200 with the record resolved by
/// `choice`, the document as `after` says, and the record resolved when read back.
pub(super) async fn judge_resolved(
    cx: &Cx,
    c: &Conflict,
    answer: &Exchange,
    choice: &str,
    after: After<'_>,
    expectation: &str,
) -> Result<Result<String, Finding>, Abort> {
    let record = answer.json().unwrap_or(Value::Null);
    let chosen = text_at(&record, &["resolution", "choice"]);
    if answer.status() != 200 || state_of(&record) != Some("resolved") || chosen != Some(choice) {
        return Ok(Err(Finding::violation(
            expectation,
            format!(
                "{} answered {} with state {} and resolution.choice {}",
                sent(answer),
                answer.status(),
                state_of(&record).unwrap_or("(none)"),
                chosen.unwrap_or("(none)")
            ),
            answer,
        )));
    }
    let doc = cx.snapshot(&c.doc.url).await?;
    let wrong = match after {
        After::Body(body) => {
            let tag = text_at(&record, &["resolution", "etag"]);
            if doc.body.as_ref() != Some(body) {
                Some(format!("a re-read of the document shows {} instead of the body the resolution should have written", doc.body.as_ref().map_or("no JSON body".into(), Value::to_string)))
            } else if tag.is_some_and(|t| Some(t) != doc.etag.as_deref()) {
                Some(format!(
                    "resolution.etag is {:?} but a re-read shows ETag {}",
                    tag.unwrap_or_default(),
                    doc.etag.as_deref().unwrap_or("(none)")
                ))
            } else {
                None
            }
        }
        After::Unchanged(before) => describe_change(before, &doc)
            .map(|change| format!("a re-read of the document shows {change}")),
    };
    if let Some(wrong) = wrong {
        return Ok(Err(Finding::violation(
            expectation,
            format!("the resolution answered 200, but {wrong}"),
            &doc.exchange,
        )));
    }
    let (read, stored) = read_record(cx, &c.record_url).await?;
    let state = stored.as_ref().and_then(state_of);
    if state != Some("resolved") {
        return Ok(Err(Finding::violation(
            expectation,
            format!(
                "the resolution answered 200, but GET {} shows state {}",
                c.record_url,
                state.unwrap_or("(none)")
            ),
            &read,
        )));
    }
    Ok(Ok(format!(
        "resolving {} as {choice:?} answered 200 and the record reads resolved",
        c.id
    )))
}

/// Judges a refused resolution: `status`, the document as `before`, the record
/// still `state` with `choice` (when given).
pub(super) async fn judge_refused(
    cx: &Cx,
    c: &Conflict,
    answer: &Exchange,
    status: u16,
    before: &Snapshot,
    state: &str,
    expectation: &str,
) -> Result<Option<Finding>, Abort> {
    if answer.status() != status {
        return Ok(Some(Finding::violation(
            expectation,
            format!(
                "{} answered {} instead of {status}",
                sent(answer),
                answer.status()
            ),
            answer,
        )));
    }
    let doc = cx.snapshot(&c.doc.url).await?;
    if let Some(change) = describe_change(before, &doc) {
        return Ok(Some(Finding::violation(
            expectation,
            format!(
                "the resolution answered {status}, but a re-read of the document shows {change}"
            ),
            &doc.exchange,
        )));
    }
    let (read, stored) = read_record(cx, &c.record_url).await?;
    let now = stored.as_ref().and_then(state_of);
    if now != Some(state) {
        return Ok(Some(Finding::violation(
            expectation,
            format!(
                "the resolution answered {status}, but GET {} shows state {} instead of {state}",
                c.record_url,
                now.unwrap_or("(none)")
            ),
            &read,
        )));
    }
    Ok(None)
}

check!(resolve_mine, |cx| {
    let (c, stream) = watched_conflict(cx).await?;
    let answer = resolve_as(cx, &c, json!({ "resolution": "mine" }), Who::Writer).await?;
    let expectation = "resolving as \"mine\" writes the refused body as a new version, the record becomes resolved, and subscribers get `event: resolved`";
    let seen =
        match judge_resolved(cx, &c, &answer, "mine", After::Body(&c.mine), expectation).await? {
            Ok(seen) => seen,
            Err(finding) => return Ok(finding),
        };
    let Some(mut stream) = stream else {
        return Ok(Finding::Pass(format!("{seen}; the document holds the refused body (the server has no stream to check `event: resolved` on)")));
    };
    let (before, event) = await_event(&mut stream, "resolved", &c.id).await;
    let resolved = event.and_then(|e| serde_json::from_str::<Value>(&e.data).ok());
    if resolved.as_ref().and_then(state_of) != Some("resolved") {
        return Ok(Finding::violation(
            expectation,
            format!("{seen}, but within {} s a subscriber filtered to {} received {} instead of `event: resolved` with the resolved record", EVENT_WAIT.as_secs(), c.resource, before.len()),
            &stream.exchange(),
        ));
    }
    Ok(Finding::Pass(format!(
        "{seen}; the document holds the refused body, and a subscriber received `event: resolved`"
    )))
});

check!(resolve_theirs, |cx| {
    let c = conflict(cx).await?;
    let before = cx.snapshot(&c.doc.url).await?;
    let answer = resolve_as(cx, &c, json!({ "resolution": "theirs" }), Who::Writer).await?;
    let expectation = "resolving as \"theirs\" writes nothing and the record becomes resolved";
    Ok(
        match judge_resolved(
            cx,
            &c,
            &answer,
            "theirs",
            After::Unchanged(&before),
            expectation,
        )
        .await?
        {
            Ok(seen) => Finding::Pass(format!("{seen}; the document is unchanged")),
            Err(finding) => finding,
        },
    )
});

check!(resolve_merged, |cx| {
    let c = conflict(cx).await?;
    let merged = cx.doc(json!({ "n": 7, "by": "merged" }));
    let answer = resolve_as(
        cx,
        &c,
        json!({ "resolution": "merged", "document": merged }),
        Who::Writer,
    )
    .await?;
    let expectation = "resolving as \"merged\" writes the document sent as a new version and the record becomes resolved";
    Ok(
        match judge_resolved(cx, &c, &answer, "merged", After::Body(&merged), expectation).await? {
            Ok(seen) => Finding::Pass(format!("{seen}; the document holds the merged body")),
            Err(finding) => finding,
        },
    )
});

check!(resolve_stale_refused, |cx| {
    let c = conflict(cx).await?;
    let current = c.doc.current.etag.clone().unwrap_or_default();
    let change = Req::put(&c.doc.url)
        .json(&cx.doc(json!({ "n": 3, "by": "someone else" })))
        .header("If-Match", current);
    let changed = cx.send(as_who(cx, change, Who::Writer)).await?;
    if changed.status() / 100 != 2 {
        return Err(Abort::Prerequisite(format!(
            "could not change the document again: PUT with its current If-Match answered {}",
            changed.status()
        )));
    }
    let before = cx.snapshot(&c.doc.url).await?;
    let answer = resolve_as(cx, &c, json!({ "resolution": "mine" }), Who::Writer).await?;
    let expectation = "a resolution is a conditional write against the version the conflict recorded: after the document changed again it is refused with 412, changes nothing, and the conflict stays open";
    if let Some(finding) = judge_refused(cx, &c, &answer, 412, &before, "open", expectation).await?
    {
        return Ok(finding);
    }
    Ok(Finding::Pass(format!("after the document changed again, resolving {} as \"mine\" answered 412; the document is unchanged and the conflict still open", c.id)))
});

check!(resolve_twice_409, |cx| {
    let c = conflict(cx).await?;
    let first = resolve_as(cx, &c, json!({ "resolution": "theirs" }), Who::Writer).await?;
    if first.status() != 200 {
        return Err(Abort::Prerequisite(format!(
            "the first resolution answered {}; notifications.resolve-theirs judges that",
            first.status()
        )));
    }
    let before = cx.snapshot(&c.doc.url).await?;
    let again = resolve_as(cx, &c, json!({ "resolution": "mine" }), Who::Writer).await?;
    let expectation = "resolving a resolved conflict is refused with 409 and changes nothing";
    if let Some(finding) =
        judge_refused(cx, &c, &again, 409, &before, "resolved", expectation).await?
    {
        return Ok(finding);
    }
    let (read, stored) = read_record(cx, &c.record_url).await?;
    let choice = stored
        .as_ref()
        .and_then(|r| text_at(r, &["resolution", "choice"]));
    if choice != Some("theirs") {
        return Ok(Finding::violation(expectation, format!("after the refused second resolution, the record's resolution.choice is {} instead of \"theirs\"", choice.unwrap_or("(none)")), &read));
    }
    Ok(Finding::Pass(format!("resolving {} again as \"mine\" answered 409; the document and the first resolution are unchanged", c.id)))
});
