//! Validators: a strong, stable ETag (or version) that every write changes,
//! and write responses whose ETag is the stored one.

use serde_json::json;

use super::context::{Version, Write};
use super::if_match::needs_etag_headers;
use super::{Abort, Cx, Finding, Fixture};
use crate::http::{Exchange, Req};

check!(strong_on_get, |cx| {
    let (_, url) = cx.create_or_skip(&cx.doc(json!({ "n": 1 }))).await?;
    let read = cx.read_settled(&url).await?;
    if !cx.versions_are_etags() {
        let source = &cx.shape().version.read;
        return Ok(match (read.status, cx.version_of(&read.exchange)) {
            (200, Some(v)) => cx.pass(format!(
                "GET shows the version {v} at {source} ([version] read); ETag {}",
                read.etag.as_deref().unwrap_or("not sent")
            )),
            (status, _) => Finding::violation(
                format!("GET answers 200 and shows the resource's version at {source}"),
                format!("status {status} without a version there"),
                &read.exchange,
            ),
        });
    }
    let expectation = "GET answers 200 with a strong ETag such as \"abc\" (quoted, no W/ prefix)";
    Ok(
        match (read.status, read.exchange.etag_raw(), read.exchange.etag()) {
            (200, _, Some(tag)) if !tag.is_weak() => {
                cx.pass(format!("GET returned strong ETag {tag}"))
            }
            (200, _, Some(tag)) => Finding::violation(
                expectation,
                format!("weak ETag {tag}, still weak after waiting 3 s"),
                &read.exchange,
            ),
            (200, Some(raw), None) => Finding::violation(
                expectation,
                format!("malformed ETag {raw:?}"),
                &read.exchange,
            ),
            (200, None, None) => Finding::violation(
                expectation,
                "no ETag header (set [version] read = \"body:/…\" if the version is in the body)",
                &read.exchange,
            ),
            (status, _, _) => {
                Finding::violation(expectation, format!("status {status}"), &read.exchange)
            }
        },
    )
});

check!(stable_without_change, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let what = if cx.versions_are_etags() {
        "ETag".to_owned()
    } else {
        format!("version at {}", cx.shape().version.read)
    };
    for _ in 0..3 {
        let read = cx.snapshot(&fx.url).await?;
        let now = cx.version_of(&read.exchange);
        if now.as_ref().map(|v| &v.text) != Some(&fx.version.text) {
            return Ok(Finding::violation(
                format!(
                    "every GET without an intervening write returns the same {what} {}",
                    fx.version
                ),
                format!(
                    "GET returned {}: the {what} differs between reads of an unchanged resource, so no client can send it back in a conditional write (the suite judges other rules by content, so only this rule fails for it)",
                    now.map_or(format!("no {what}"), |v| v.text)
                ),
                &read.exchange,
            ));
        }
    }
    Ok(cx.pass(format!("four GETs all returned {}", fx.version)))
});

/// Writes with the current version and requires success (a prerequisite).
pub(super) async fn conditional_write(
    cx: &Cx,
    url: &str,
    version: &Version,
    patch: bool,
    n: u64,
) -> Result<Exchange, Abort> {
    let (body, change) = (cx.doc(json!({ "n": n })), json!({ "n": n }));
    let write = if patch {
        Write::Patch(&change)
    } else {
        Write::Put(&body)
    };
    let sent = cx.write(url, write, Some(version)).await?;
    if sent.status() / 100 != 2 {
        let method = if patch { "PATCH" } else { "PUT" };
        return Err(Abort::Prerequisite(format!(
            "a {method} with the current version in {} was refused with {}",
            cx.version_carrier(),
            sent.status()
        )));
    }
    Ok(sent)
}

async fn changes_on_write(cx: &Cx, patch: bool) -> Result<Finding, Abort> {
    let method = if patch { "PATCH" } else { "PUT" };
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let write = conditional_write(cx, &fx.url, &fx.version, patch, 2).await?;
    let read = cx.read_settled(&fx.url).await?;
    Ok(match cx.version_of(&read.exchange) {
        Some(now) if !now.same_as(&fx.version) => cx.pass(format!(
            "{method} changed the version from {} to {now}",
            fx.version
        )),
        now => Finding::violation_after(
            format!("after a successful {method} the next GET returns a new version"),
            format!(
                "the version stayed {} although the {method} answered {}",
                now.map_or("(none)".into(), |v| v.text),
                write.status()
            ),
            &write,
            &read.exchange,
        ),
    })
}

check!(changes_on_put, |cx| { changes_on_write(cx, false).await });
check!(changes_on_patch, |cx| {
    cx.needs_patch()?;
    changes_on_write(cx, true).await
});

/// The version a write response shows: a strong `ETag` when versions are
/// `ETag`s, else wherever `[version] read` says or, failing that, a strong
/// `ETag` (CouchDB answers a write with `rev`, not `_rev`, and an `ETag`).
fn written_version(cx: &Cx, write: &Exchange) -> Option<Version> {
    cx.version_of(write).filter(|v| !v.is_weak()).or_else(|| {
        write
            .etag()
            .filter(|t| !t.is_weak())
            .map(|t| Version::text(t.to_string()))
    })
}

check!(write_returns_etag, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let write = conditional_write(cx, &fx.url, &fx.version, false, 2).await?;
    Ok(match written_version(cx, &write) {
        Some(v) => cx.pass(format!("PUT answered {} with version {v}", write.status())),
        None if cx.versions_are_etags() => Finding::violation(
            "a successful conditional PUT returns the new strong ETag, saving the client a GET",
            match write.etag() {
                Some(tag) if tag.is_weak() => {
                    format!("a weak ETag {tag}, which no If-Match can use")
                }
                _ => format!("ETag header {}", write.etag_raw().unwrap_or("absent")),
            },
            &write,
        ),
        None => Finding::violation(
            format!(
                "a successful conditional PUT shows the new version at {}, saving the client a GET",
                cx.shape().version.read
            ),
            "the response shows no version there",
            &write,
        ),
    })
});

/// The version a write response shows, weak or strong: where `[version] read`
/// says, else its `ETag`.
fn shown_version(cx: &Cx, write: &Exchange) -> Option<Version> {
    cx.version_of(write)
        .or_else(|| write.etag().map(|t| Version::text(t.to_string())))
}

/// Whether the version a write returned is the one the next GET shows (a weak
/// `ETag` on the write, from a server still settling, counts when its value
/// matches the strong one the suite waits for).
async fn agrees_with_get(
    cx: &Cx,
    url: &str,
    written: &Version,
) -> Result<(bool, Option<Version>), Abort> {
    let read = cx.read_settled(url).await?;
    let now = cx.version_of(&read.exchange);
    let same = now.as_ref().is_some_and(|v| {
        if written.is_weak() || !cx.versions_are_etags() {
            v.same_as(written)
        } else {
            v.text == written.text
        }
    });
    Ok((same, now))
}

check!(write_etag_matches_get, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let put = conditional_write(cx, &fx.url, &fx.version, false, 2).await?;
    let Some(put_tag) = shown_version(cx, &put) else {
        return Ok(Finding::Skip(
            "the PUT response carried no version to compare".into(),
        ));
    };
    let (same, now) = agrees_with_get(cx, &fx.url, &put_tag).await?;
    let Some(now) = now.clone().filter(|_| same) else {
        return Ok(Finding::violation(
            "the version a PUT response shows equals the next GET's",
            format!(
                "PUT said {put_tag}, the next GET said {}",
                now.map_or("(none)".into(), |v| v.text)
            ),
            &put,
        ));
    };
    let patch = match conditional_write(cx, &fx.url, &now, true, 3).await {
        Ok(patch) => patch,
        Err(Abort::Prerequisite(why)) => {
            return Ok(cx.pass(format!(
                "PUT response and GET agree on {now}; PATCH not compared: {why}"
            )))
        }
        Err(e) => return Err(e),
    };
    let Some(patch_tag) = shown_version(cx, &patch) else {
        return Ok(cx.pass(format!("PUT response and GET agree on {now}")));
    };
    let (same, after) = agrees_with_get(cx, &fx.url, &patch_tag).await?;
    Ok(if same {
        cx.pass(format!(
            "PUT and PATCH responses both match the next GET's version ({patch_tag})"
        ))
    } else {
        Finding::violation(
            "the version a PATCH response shows equals the next GET's",
            format!(
                "PATCH said {patch_tag}, the next GET said {}",
                after.map_or("(none)".into(), |v| v.text)
            ),
            &patch,
        )
    })
});

check!(head_matches_get, |cx| {
    let fx: Fixture = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    if !fx.has_etag {
        needs_etag_headers(cx, false)?;
    }
    let head = cx.send(Req::head(&fx.url)).await?;
    Ok(match head.etag() {
        Some(tag) if head.status() == 200 && tag == fx.etag => {
            cx.pass(format!("HEAD returned the GET's ETag {tag}"))
        }
        _ => Finding::violation(
            format!("HEAD answers 200 with the same ETag as GET ({})", fx.etag),
            format!(
                "HEAD answered {} with ETag {}",
                head.status(),
                head.etag_raw().unwrap_or("(none)")
            ),
            &head,
        ),
    })
});

check!(last_modified_info, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let read = cx.snapshot(&fx.url).await?;
    Ok(Finding::Info(match read.exchange.header("last-modified") {
        Some(value) if httpdate::parse_http_date(value).is_ok() => {
            "GET also sends a valid Last-Modified; the ETag stays the validator the contract relies on".into()
        }
        Some(value) => format!("GET sends a Last-Modified that is not an HTTP-date: {value:?}"),
        None => "GET sends no Last-Modified; only the ETag validates (fine for this contract)".into(),
    }))
});
