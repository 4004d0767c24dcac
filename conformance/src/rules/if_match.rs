//! `If-Match` on writes: the current version succeeds; a stale, weak or
//! `*`-on-missing tag is refused and nothing changes (judged by re-reading).
//! Versions travel the way the target's shape says (`If-Match`, a body
//! member, a query parameter).

use serde_json::{json, Value};

use super::context::{Snapshot, Version, Write};
use super::Fixture;
use super::{Abort, Cx, Finding};
use crate::http::{Exchange, Req};
use crate::target::{PatchFormat, VersionSend};

/// The tag `core.if-match.honoured` sends: no resource ever has it.
pub(super) const NEVER_A_VERSION: &str = "\"ifmatch-conformance-never-a-version\"";

/// Whether `stored` holds `sent`, by content; `None` when it does, else why not.
pub(super) fn not_stored(cx: &Cx, sent: &Value, stored: Option<&Value>) -> Option<String> {
    cx.not_stored(sent, stored)
}

check!(current_put, |cx| {
    // With weak ETags only the weak tag is the version: a server that ignores
    // If-Match takes it (and the races built on this rule then run and show it).
    let fx = cx.fixture_allowing_weak(cx.doc(json!({ "n": 1 }))).await?;
    let body = cx.doc(json!({ "n": 2 }));
    let put = cx
        .write(&fx.url, Write::Put(&body), Some(&fx.version))
        .await?;
    weak_current_refused(&fx, &put, " and the races built on it")?;
    if put.status() / 100 != 2 {
        return Ok(Finding::violation(
            format!(
                "PUT with the current version in {} succeeds (2xx)",
                cx.version_carrier()
            ),
            format!("status {}", put.status()),
            &put,
        ));
    }
    let read = cx.snapshot(&fx.url).await?;
    Ok(match not_stored(cx, &body, read.body.as_ref()) {
        None => cx.pass(format!(
            "PUT answered {} and the body sent was stored",
            put.status()
        )),
        Some(why) => Finding::violation_after(
            "after a successful PUT the next GET returns every member that was sent (members the server adds are allowed)",
            why,
            &put,
            &read.exchange,
        ),
    })
});

/// The skip of a write with the current version on a server that sends weak
/// ETags only (the fixture's version is weak) and rightly refused it: `If-Match`
/// compares strongly (RFC 9110 §13.1.1), so the rule cannot be judged there.
fn weak_current_refused(fx: &Fixture, sent: &Exchange, dependants: &str) -> Result<(), Abort> {
    if fx.version.is_weak() && matches!(sent.status(), 409 | 412) {
        return Err(Abort::Prerequisite(format!(
            "the server sends only weak ETags ({}, see core.etag.strong-on-get) and rightly refused If-Match with one ({}); a strong ETag on GET would make this rule{dependants} runnable",
            fx.version,
            sent.status()
        )));
    }
    Ok(())
}

check!(current_patch, |cx| {
    cx.needs_patch()?;
    let fx = cx.fixture_allowing_weak(cx.doc(json!({ "n": 1 }))).await?;
    let change = json!({ "n": 2 });
    let patch = cx
        .write(&fx.url, Write::Patch(&change), Some(&fx.version))
        .await?;
    weak_current_refused(&fx, &patch, "")?;
    if patch.status() / 100 != 2 {
        return Ok(Finding::violation(
            format!(
                "PATCH ({}) with the current version succeeds (2xx)",
                patch_media(cx)
            ),
            format!("status {}", patch.status()),
            &patch,
        ));
    }
    let read = cx.snapshot(&fx.url).await?;
    let n = read.body.as_ref().and_then(|b| b.get("n")).cloned();
    Ok(if n == Some(json!(2)) {
        cx.pass(format!(
            "PATCH answered {} and the change was stored",
            patch.status()
        ))
    } else {
        Finding::violation_after(
            "after a successful PATCH the next GET shows the patched member",
            format!(
                "member \"n\" is {}",
                n.map_or("missing".into(), |v| v.to_string())
            ),
            &patch,
            &read.exchange,
        )
    })
});

/// The PATCH media type the target takes, for messages.
fn patch_media(cx: &Cx) -> &'static str {
    match cx.shape().body.patch {
        PatchFormat::JsonPatch => "application/json-patch+json",
        _ => "application/merge-patch+json",
    }
}

check!(merge_semantics, |cx| {
    cx.needs_patch()?;
    if cx.shape().body.patch == PatchFormat::JsonPatch {
        return Ok(Finding::Skip(
            "not applicable: [body] patch = \"json-patch\"; RFC 7396 merge semantics apply only to merge patches".into(),
        ));
    }
    let fx =
        cx.fixture(cx.doc(
            json!({ "keep": "yes", "drop": 1, "nested": { "a": 1, "b": 2 }, "list": [1, 2] }),
        ))
        .await?;
    let patch = json!({ "drop": null, "nested": { "b": 3 }, "list": [9] });
    let sent = cx
        .write(&fx.url, Write::Patch(&patch), Some(&fx.version))
        .await?;
    if sent.status() / 100 != 2 {
        return Err(Abort::Prerequisite(format!(
            "the merge patch was refused with {}",
            sent.status()
        )));
    }
    let expected = cx.doc(json!({ "keep": "yes", "nested": { "a": 1, "b": 3 }, "list": [9] }));
    let read = cx.snapshot(&fx.url).await?;
    let kept = not_stored(cx, &expected, read.body.as_ref());
    let dropped = read.body.as_ref().is_some_and(|b| b.get("drop").is_none());
    Ok(if kept.is_none() && dropped {
        cx.pass("null removed a member, objects merged, arrays were replaced")
    } else {
        Finding::violation_after(
            format!("RFC 7396 result {expected}"),
            format!(
                "stored {}",
                read.body.map_or("(no JSON)".into(), |b| b.to_string())
            ),
            &sent,
            &read.exchange,
        )
    })
});

check!(current_delete, |cx| {
    let fx = cx.fixture_allowing_weak(cx.doc(json!({ "n": 1 }))).await?;
    let delete = cx.write(&fx.url, Write::Delete, Some(&fx.version)).await?;
    weak_current_refused(&fx, &delete, "")?;
    if delete.status() / 100 != 2 {
        return Ok(Finding::violation(
            format!(
                "DELETE with the current version in {} succeeds (2xx)",
                cx.version_carrier()
            ),
            format!("status {}", delete.status()),
            &delete,
        ));
    }
    let read = cx.snapshot(&fx.url).await?;
    Ok(if read.status == 404 || read.status == 410 {
        cx.pass(format!(
            "DELETE answered {}; the next GET answered {}",
            delete.status(),
            read.status
        ))
    } else {
        Finding::violation_after(
            "after a successful DELETE the resource is gone (404 or 410)",
            format!("the next GET answered {}", read.status),
            &delete,
            &read.exchange,
        )
    })
});

/// A resource written once with its current version: its URL, the now-stale
/// version, and a snapshot of the current state. The stale version needs only
/// a write the server accepted and a version that then differs (from the
/// re-read, or else the validator the write returned).
pub(super) async fn stale_setup(cx: &Cx) -> Result<(String, Version, Snapshot), Abort> {
    let fx = cx.fixture_allowing_weak(cx.doc(json!({ "n": 1 }))).await?;
    let body = cx.doc(json!({ "n": 2 }));
    let write = cx
        .write(&fx.url, Write::Put(&body), Some(&fx.version))
        .await?;
    let weak_only = fx.version.is_weak();
    if weak_only && write.status() / 100 != 2 {
        return Err(Abort::Prerequisite(format!(
            "the server sends only weak ETags ({} stayed weak for 3 s; see core.etag.strong-on-get) and rightly refused If-Match with one ({}), so no version can be made stale",
            fx.version,
            write.status()
        )));
    }
    if write.status() / 100 != 2 {
        return Err(Abort::Prerequisite(format!(
            "a PUT with the current version in {} was refused with {}, so the suite cannot make a version stale (see core.if-match.current-put)",
            cx.version_carrier(),
            write.status()
        )));
    }
    // On a server with weak ETags only, waiting for a strong one again is pointless.
    let before = if weak_only {
        cx.snapshot(&fx.url).await?
    } else {
        cx.read_settled(&fx.url).await?
    };
    let now = cx
        .version_of(&before.exchange)
        .or_else(|| cx.version_of(&write));
    match now {
        Some(now) if !now.same_as(&fx.version) => Ok((fx.url, fx.version, before)),
        _ => Err(Abort::Prerequisite(format!(
            "the version did not change after a write ({} before and after), so no stale version exists (see core.etag.changes-on-put)",
            fx.version
        ))),
    }
}

/// "a PUT with a stale If-Match", or where else the version travels.
fn stale_what(cx: &Cx, method: &str) -> String {
    match &cx.shape().version.send {
        VersionSend::IfMatch => format!("a {method} with a stale If-Match"),
        VersionSend::Body(p) => format!("a {method} with a stale version in {p}"),
        VersionSend::Query(n) => format!("a {method} with a stale ?{n}="),
    }
}

async fn stale_write(cx: &Cx, write: Write<'_>, method: &str) -> Result<Finding, Abort> {
    let (url, stale, before) = stale_setup(cx).await?;
    let sent = cx.write(&url, write, Some(&stale)).await?;
    cx.judge_refusal(&before, &url, &sent, &stale_what(cx, method))
        .await
}

check!(stale_put, |cx| {
    stale_write(cx, Write::Put(&cx.doc(json!({ "n": 3 }))), "PUT").await
});

check!(stale_patch, |cx| {
    cx.needs_patch()?;
    stale_write(cx, Write::Patch(&json!({ "n": 3 })), "PATCH").await
});

check!(stale_delete, |cx| {
    stale_write(cx, Write::Delete, "DELETE").await
});

/// Skips a rule about the `ETag`/`If-Match` headers on a target that has none.
pub(super) fn needs_etag_headers(cx: &Cx, has_etag: bool) -> Result<(), Abort> {
    cx.needs_if_match(has_etag)
}

check!(weak_refused, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    needs_etag_headers(cx, fx.has_etag)?;
    let before = cx.snapshot(&fx.url).await?;
    let put = cx
        .send(
            Req::put(&fx.url)
                .json(&cx.doc(json!({ "n": 2 })))
                .header("If-Match", format!("W/{}", fx.etag)),
        )
        .await?;
    cx.judge_refusal(
        &before,
        &fx.url,
        &put,
        "a PUT whose If-Match is the weak form of the current ETag",
    )
    .await
});

check!(star_existing, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    if cx.shape().version.send != VersionSend::IfMatch {
        return Err(Abort::Prerequisite(format!(
            "not applicable: writes carry the version in {}, not If-Match ([version] send)",
            cx.version_carrier()
        )));
    }
    let body = cx.doc(json!({ "n": 2 }));
    let put = cx
        .send(Req::put(&fx.url).json(&body).header("If-Match", "*"))
        .await?;
    let read = cx.snapshot(&fx.url).await?;
    let missing = not_stored(cx, &body, read.body.as_ref());
    Ok(match (put.status() / 100 == 2, missing) {
        (true, None) => cx.pass(format!(
            "If-Match: * on an existing resource answered {}",
            put.status()
        )),
        (true, Some(why)) => Finding::violation_after(
            "PUT with If-Match: * on an existing resource succeeds and stores the body",
            why,
            &put,
            &read.exchange,
        ),
        (false, _) => Finding::violation(
            "PUT with If-Match: * on an existing resource succeeds and stores the body",
            format!("status {}", put.status()),
            &put,
        ),
    })
});

check!(star_missing, |cx| {
    put_to_missing_refused(cx, "*", "a PUT with If-Match: * to a missing resource").await
});

/// A PUT to a fresh (404) URL with this `If-Match` must be refused and create nothing: without
/// the precondition the PUT would create, so the precondition decides (RFC 9110 §13.2.1).
pub(super) async fn put_to_missing_refused(
    cx: &Cx,
    if_match: &str,
    what: &str,
) -> Result<Finding, Abort> {
    if cx.shape().version.send != VersionSend::IfMatch {
        return Err(Abort::Prerequisite(format!(
            "not applicable: writes carry the version in {}, not If-Match ([version] send); this rule is about If-Match",
            cx.version_carrier()
        )));
    }
    let url = cx.fresh_url();
    let before = cx.snapshot(&url).await?;
    if before.status != 404 {
        return Err(Abort::Prerequisite(format!(
            "a fresh URL answered {} instead of 404",
            before.status
        )));
    }
    let put = cx
        .send(
            Req::put(&url)
                .json(&cx.doc(json!({ "n": 1 })))
                .header("If-Match", if_match),
        )
        .await?;
    cx.judge_refusal(&before, &url, &put, what).await
}

check!(honoured, |cx| {
    let (url, version, before, what) = if cx.shape().version.send == VersionSend::IfMatch {
        // No version of the resource is needed, so no strong ETag either: a
        // server with weak ETags only is judged too.
        let (_, url) = cx.create_or_skip(&cx.doc(json!({ "n": 1 }))).await?;
        let before = cx.snapshot(&url).await?;
        if before.status != 200 {
            return Err(Abort::Prerequisite(format!(
                "could not read the test resource back: GET {url} answered {}",
                before.status
            )));
        }
        let what =
            format!("a PUT with If-Match: {NEVER_A_VERSION} (a version the resource never had)");
        (url, Version::text(NEVER_A_VERSION), before, what)
    } else {
        let (url, stale, before) = stale_setup(cx).await?;
        let what = stale_what(cx, "PUT");
        (url, stale, before, what)
    };
    let put = cx
        .write(&url, Write::Put(&cx.doc(json!({ "n": 3 }))), Some(&version))
        .await?;
    let after = cx.snapshot(&url).await?;
    let change = cx.change_between(&before, &after, &url).await?;
    if put.status() / 100 == 2 || change.is_some() {
        return Ok(ignored(&what, &put, &after.exchange, change));
    }
    Ok(cx.refusal_status(&put, &what))
});

/// The plain sentence reports put at the top for a server that ignores `If-Match`.
fn ignored(what: &str, put: &Exchange, reread: &Exchange, change: Option<String>) -> Finding {
    Finding::violation_after(
        format!("{what} is refused (412) and changes nothing: a conditional write whose version does not match must never be applied"),
        format!(
            "This server ignores If-Match: {what} answered {}{}. Every conditional write is effectively unconditional here: concurrent clients overwrite each other without noticing.",
            put.status(),
            change.map_or(String::new(), |c| format!(", and a re-read shows {c}"))
        ),
        put,
        reread,
    )
}
