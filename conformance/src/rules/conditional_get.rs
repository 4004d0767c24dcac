//! Conditional GET: `If-None-Match` answers 304 for the current tag, 200 otherwise.

use serde_json::json;

use super::if_match::not_stored;
use super::Finding;
use crate::http::Req;

/// Skips when the server sends no strong `ETag` (its version lives elsewhere).
fn needs_etag(cx: &super::Cx, has_etag: bool) -> Result<(), super::Abort> {
    if has_etag {
        return Ok(());
    }
    Err(super::Abort::Prerequisite(format!(
        "not applicable: the server sends no strong ETag (its version is read from {}); If-None-Match compares ETags",
        cx.shape().version.read
    )))
}

check!(not_modified_304, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    needs_etag(cx, fx.has_etag)?;
    let get = cx
        .send(Req::get(&fx.url).header("If-None-Match", fx.etag.to_string()))
        .await?;
    Ok(if get.status() == 304 && get.response.body.is_empty() {
        cx.pass("If-None-Match with the current ETag answered 304 without a body")
    } else {
        Finding::violation(
            "GET with If-None-Match naming the current ETag answers 304 Not Modified with no body",
            format!(
                "status {} with a {}-byte body",
                get.status(),
                get.response.body.len()
            ),
            &get,
        )
    })
});

check!(modified_200, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    needs_etag(cx, fx.has_etag)?;
    let other = "\"ifmatch-conformance-not-the-current-tag\"";
    let get = cx
        .send(Req::get(&fx.url).header("If-None-Match", other))
        .await?;
    let missing = not_stored(cx, &fx.body, get.json().as_ref());
    Ok(if get.status() == 200 && missing.is_none() {
        cx.pass("If-None-Match with another ETag answered 200 with the body")
    } else {
        Finding::violation(
            "GET with If-None-Match naming a different ETag answers 200 with the full body",
            format!(
                "status {}{}",
                get.status(),
                missing.map_or(String::new(), |m| format!(" ({m})"))
            ),
            &get,
        )
    })
});
