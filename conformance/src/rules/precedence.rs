//! Which answer wins when a precondition meets a missing resource
//! (RFC 9110 §13.2.1: preconditions are ignored when the answer without them
//! would not be 2xx or 412).

use serde_json::{json, Value};

use super::if_match::put_to_missing_refused;
use super::put_create::skip_unless_put_creates;
use super::{Abort, Cx, Evidence, Finding};
use crate::http::Req;
use crate::target::PatchFormat;

const SOME_TAG: &str = "\"ifmatch-conformance-some-tag\"";

/// A URL that names no resource: `[body] missing-id` in the collection when the
/// target declares one, otherwise a fresh URL the suite invents; with the id used.
fn missing_url(cx: &Cx) -> (String, String, bool) {
    match &cx.shape().body.missing_id {
        // Not remembered for cleanup: the id is the user's, checked to be missing first.
        Some(id) => (cx.item_url(id), id.clone(), true),
        None => {
            let url = cx.fresh_url();
            let id = url.rsplit('/').next().unwrap_or_default().to_owned();
            (url, id, false)
        }
    }
}

/// The skip for an id the server refused as invalid (400/422) instead of "not found".
fn invalid_id(id: &str, declared: bool, status: u16, method: &str) -> Finding {
    Finding::Skip(if declared {
        format!(
            "could not test: the server rejected the configured missing id {id} with {status} ({method}); set [body] missing-id to a valid id that names no resource"
        )
    } else {
        format!(
            "could not test: the server rejected the invented id {id} with {status} ({method}); set [body] missing-id = \"…\" to a valid id that names no resource"
        )
    })
}

check!(not_found_wins, |cx| {
    let (url, id, declared) = missing_url(cx);
    if declared {
        let before = cx.snapshot(&url).await?;
        if before.status != 404 && before.status != 410 {
            return Err(Abort::Prerequisite(format!(
                "[body] missing-id {id} does not name a missing resource: GET {url} answered {}; choose an id that answers 404",
                before.status
            )));
        }
    }
    // PATCH in the server's format; a server without PATCH is judged by DELETE alone.
    let patch = match cx.shape().body.patch {
        PatchFormat::Merge => Some(Req::patch(&url).merge_patch(&json!({ "n": 1 }))),
        PatchFormat::JsonPatch => Some(Req::patch(&url).raw_body(
            "application/json-patch+json",
            json!([{ "op": "add", "path": "/n", "value": 1 }]).to_string(),
        )),
        PatchFormat::None => None,
    };
    let mut sent = Vec::new();
    if let Some(patch) = patch {
        sent.push(cx.send(patch.header("If-Match", SOME_TAG)).await?);
    }
    sent.push(
        cx.send(Req::delete(&url).header("If-Match", SOME_TAG))
            .await?,
    );
    let expectation = "PATCH and DELETE with If-Match on a missing resource answer 404: without the precondition the answer would be 404, so the precondition is not evaluated";
    // A 412 (or any other answer) is judged first: a DELETE that evaluates its
    // precondition before finding nothing fails even when PATCH refused the id.
    for sent in &sent {
        if !matches!(sent.status(), 400 | 404 | 410 | 422) {
            let no_patch =
                sent.request.method == "PATCH" && matches!(sent.status(), 405 | 415 | 501);
            return Ok(Finding::violation(
                expectation,
                format!(
                    "{} answered {}{}",
                    sent.request.method,
                    sent.status(),
                    if no_patch {
                        " (if this server takes no PATCH, or another format, say so with [body] patch = \"none\" or \"json-patch\")"
                    } else {
                        ""
                    }
                ),
                sent,
            ));
        }
    }
    for sent in &sent {
        if matches!(sent.status(), 400 | 422) {
            return Ok(invalid_id(
                &id,
                declared,
                sent.status(),
                &sent.request.method,
            ));
        }
    }
    let read = cx.snapshot(&url).await?;
    let answers: Vec<String> = sent
        .iter()
        .map(|e| format!("{} {}", e.request.method, e.status()))
        .collect();
    Ok(if matches!(read.status, 404 | 410) {
        Finding::Pass(format!(
            "on a missing resource: {}{}",
            answers.join(", "),
            if sent.len() == 1 {
                " ([body] patch = \"none\": no PATCH sent)"
            } else {
                ""
            }
        ))
    } else {
        Finding::violation_after(
            expectation,
            format!("a resource appeared (GET answered {})", read.status),
            &sent[0],
            &read.exchange,
        )
    })
});

check!(put_tag_on_missing, |cx| {
    if let Some(skip) = skip_unless_put_creates(cx).await? {
        return Ok(skip);
    }
    put_to_missing_refused(
        cx,
        SOME_TAG,
        "a PUT with an If-Match tag to a missing resource",
    )
    .await
});

check!(star_missing, |cx| {
    if let Some(skip) = skip_unless_put_creates(cx).await? {
        return Ok(skip);
    }
    super::if_match::star_missing(cx).await
});

check!(missing_412_no_etag, |cx| {
    // The rule sends an invented If-Match tag: on a target whose writes carry
    // the version elsewhere it is skipped like the other If-Match rules.
    cx.needs_if_match(true)?;
    let url = cx.fresh_url();
    let put = cx
        .send(
            Req::put(&url)
                .json(&cx.doc(json!({ "n": 1 })))
                .header("If-Match", SOME_TAG),
        )
        .await?;
    if !matches!(put.status(), 409 | 412) {
        return Ok(Finding::Skip(format!(
            "nothing to judge: a PUT with an If-Match tag to a missing URL answered {}, not 412",
            put.status()
        )));
    }
    let header = put.etag_raw().map(str::to_owned);
    let member = put
        .json()
        .and_then(|b| b.get("current_etag").cloned())
        .filter(|v| !v.is_null());
    let named = match (&header, &member) {
        (Some(h), _) => Some(format!("ETag {h}")),
        (None, Some(Value::String(m))) => Some(format!("current_etag {m:?}")),
        (None, Some(m)) => Some(format!("current_etag {m}")),
        (None, None) => None,
    };
    Ok(match named {
        None => Finding::Pass(format!(
            "the {} for a missing resource named no current ETag",
            put.status()
        )),
        Some(named) => Finding::Violation(Evidence {
            expectation: format!(
                "a {} for a missing resource names no current ETag: there is no current representation, and a client that retries with the invented tag writes against a version that never existed",
                put.status()
            ),
            observed: format!(
                "the {} for a missing resource carries {named}",
                put.status()
            ),
            exchange: Some(put.clone()),
            write: None,
        }),
    })
});
