//! Conditional GET: `If-None-Match` answers 304 for the current tag, 200 otherwise.

use serde_json::json;

use super::Finding;
use crate::http::Req;

check!(not_modified_304, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let get = cx
        .send(Req::get(&fx.url).header("If-None-Match", fx.etag.to_string()))
        .await?;
    Ok(if get.status() == 304 && get.response.body.is_empty() {
        Finding::Pass("If-None-Match with the current ETag answered 304 without a body".into())
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
    let other = "\"ifmatch-conformance-not-the-current-tag\"";
    let get = cx
        .send(Req::get(&fx.url).header("If-None-Match", other))
        .await?;
    Ok(
        if get.status() == 200 && get.json() == Some(fx.body.clone()) {
            Finding::Pass("If-None-Match with another ETag answered 200 with the body".into())
        } else {
            Finding::violation(
                "GET with If-None-Match naming a different ETag answers 200 with the full body",
                format!("status {}", get.status()),
                &get,
            )
        },
    )
});
