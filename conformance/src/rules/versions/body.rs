//! The version number a client sees and sends: the `Version` header and the v2
//! envelope's `version` name it, and a v2 write's body `version` is a precondition
//! like `If-Match` (`0`: the document must not exist).

use serde_json::json;

use super::{envelope, rewrite, v2_body, v2_url, version_header, version_of};
use crate::http::{Exchange, Req};
use crate::rules::{Abort, Cx, Finding};

/// The version number of the document at `url` as its v2 envelope names it.
async fn envelope_version(cx: &Cx, v2: &str) -> Result<u64, Abort> {
    let read = cx.send(Req::get(v2)).await?;
    envelope(&read).and_then(|e| e.version).ok_or_else(|| {
        Abort::Prerequisite(format!(
            "GET {v2} answered {} without an envelope with a numeric version (versions.api-prefix judges the envelope)",
            read.status()
        ))
    })
}

check!(version_visible, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let written = rewrite(
        cx,
        &fx.url,
        &cx.doc(json!({ "n": 2 })),
        &fx.etag.to_string(),
    )
    .await?;
    let tag = written.etag_raw().unwrap_or_default().to_owned();
    let n = version_of(cx, &fx.url, &tag).await?;
    let v2 = v2_url(cx, &fx.url)?;
    let read = cx.send(Req::get(&fx.url)).await?;
    let second = cx.send(Req::get(&v2)).await?;
    let shown = [
        (
            "the PUT's Version header",
            &written,
            version_header(&written),
        ),
        ("a GET's Version header", &read, version_header(&read)),
        (
            "a v2 GET's Version header",
            &second,
            version_header(&second),
        ),
        (
            "the v2 envelope's version",
            &second,
            envelope(&second).and_then(|e| e.version),
        ),
    ];
    for (what, answer, number) in shown {
        if number != Some(n) {
            return Ok(Finding::violation(
                format!(
                    "the Version header of every answer about the document, and the v2 envelope's version, name its version number ({n}, as the history lists ETag {tag})"
                ),
                format!(
                    "{what} is {}",
                    number.map_or("absent or not a number".into(), |v| v.to_string())
                ),
                answer,
            ));
        }
    }
    Ok(Finding::Pass(format!(
        "the PUT, a GET and a v2 GET answered Version: {n}, and the envelope version {n}, as the history lists ETag {tag}"
    )))
});

check!(body_version_current, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let v2 = v2_url(cx, &fx.url)?;
    let n = envelope_version(cx, &v2).await?;
    let data = cx.doc(json!({ "n": 2 }));
    let write = cx
        .send(Req::put(&v2).json(&v2_body(&data, Some(n))))
        .await?;
    let expectation = format!(
        "a v2 PUT of {{\"data\", \"version\": {n}}} with the current version (and no If-Match) succeeds: 200 with the new envelope, and the document shows the data under a new ETag"
    );
    let answered = envelope(&write);
    let fine = write.status() == 200
        && answered
            .as_ref()
            .is_some_and(|e| e.data == data && e.version.is_some_and(|v| v != n));
    if !fine {
        return Ok(Finding::violation(
            expectation,
            describe_write(&write, n),
            &write,
        ));
    }
    let now = cx.snapshot(&fx.url).await?;
    if now.body.as_ref() != Some(&data) || now.etag.as_deref() == Some(&fx.etag.to_string()) {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the PUT answered {}, but a GET answered {} with ETag {} and {} body",
                write.status(),
                now.status,
                now.etag.as_deref().unwrap_or("(none)"),
                if now.body.as_ref() == Some(&data) {
                    "the written"
                } else {
                    "another"
                }
            ),
            &now.exchange,
        ));
    }
    Ok(Finding::Pass(format!(
        "the v2 PUT with version {n} answered 200 with version {}; a GET shows the write",
        answered.and_then(|e| e.version).unwrap_or_default()
    )))
});

/// What a v2 write with body version `n` answered, for a message.
fn describe_write(write: &Exchange, n: u64) -> String {
    match envelope(write) {
        Some(e) => format!(
            "it answered {} with an envelope of version {}",
            write.status(),
            e.version.map_or("(none)".into(), |v| v.to_string())
        ),
        None => format!(
            "with version {n} it answered {} without an envelope",
            write.status()
        ),
    }
}

check!(body_version_stale, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let v2 = v2_url(cx, &fx.url)?;
    let n = envelope_version(cx, &v2).await?;
    rewrite(
        cx,
        &fx.url,
        &cx.doc(json!({ "n": 2 })),
        &fx.etag.to_string(),
    )
    .await?;
    let before = cx.snapshot(&fx.url).await?;
    let write = cx
        .send(Req::put(&v2).json(&v2_body(&cx.doc(json!({ "n": 3 })), Some(n))))
        .await?;
    let what = format!("a v2 PUT with the stale body version {n} (as a stale If-Match)");
    cx.judge_refusal(&before, &fx.url, &write, &what).await
});

check!(body_version_create_only, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let v2 = v2_url(cx, &fx.url)?;
    let fresh = cx.fresh_url();
    let data = cx.doc(json!({ "made": "version 0" }));
    let created = cx
        .send(Req::put(&v2_url(cx, &fresh)?).json(&v2_body(&data, Some(0))))
        .await?;
    let now = cx.snapshot(&fresh).await?;
    if created.status() != 201 || now.body.as_ref() != Some(&data) {
        return Ok(Finding::violation(
            "a v2 PUT with version 0 (must not exist) to a URL without a document creates it: 201, and a GET shows the data",
            format!(
                "the PUT answered {}, a GET then {}",
                created.status(),
                now.status
            ),
            &created,
        ));
    }
    let before = cx.snapshot(&fx.url).await?;
    let write = cx
        .send(Req::put(&v2).json(&v2_body(&cx.doc(json!({ "n": 2 })), Some(0))))
        .await?;
    let what = "a v2 PUT with version 0 (create only, as If-None-Match: *) of an existing document";
    let refused = cx.judge_refusal(&before, &fx.url, &write, what).await?;
    Ok(match refused {
        Finding::Pass(text) => {
            Finding::Pass(format!("version 0 created a fresh document (201); {text}"))
        }
        other => other,
    })
});
