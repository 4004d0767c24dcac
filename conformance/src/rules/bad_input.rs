//! Malformed input is refused with a 4xx and changes nothing.

use serde_json::json;

use super::Finding;
use crate::http::Req;

check!(malformed_json, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let before = cx.snapshot(&fx.url).await?;
    let put = cx
        .send(
            Req::put(&fx.url)
                .raw_body("application/json", "{\"n\": 2,".into())
                .header("If-Match", fx.etag.to_string()),
        )
        .await?;
    let after = cx.snapshot(&fx.url).await?;
    let unchanged = after.etag == before.etag && after.body == before.body;
    Ok(if put.status() == 400 && unchanged {
        Finding::Pass("malformed JSON answered 400; state unchanged".into())
    } else {
        Finding::violation(
            "a PUT whose JSON body is malformed answers 400 and stores nothing",
            format!(
                "status {}{}",
                put.status(),
                if unchanged {
                    ""
                } else {
                    ", and the stored resource changed"
                }
            ),
            &put,
        )
    })
});

check!(malformed_if_match, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let before = cx.snapshot(&fx.url).await?;
    // An unquoted tag is not an entity-tag; accepting it as a match would let a
    // sloppy client overwrite blindly.
    let put = cx
        .send(
            Req::put(&fx.url)
                .json(&cx.doc(json!({ "n": 2 })))
                .header("If-Match", fx.etag.opaque().to_owned()),
        )
        .await?;
    if put.status() == 400 {
        let after = cx.snapshot(&fx.url).await?;
        if after.etag == before.etag && after.body == before.body {
            return Ok(Finding::Pass(
                "an unquoted If-Match answered 400; state unchanged".into(),
            ));
        }
    }
    cx.judge_refusal(
        &before,
        &fx.url,
        &put,
        "a PUT whose If-Match is not a quoted entity-tag",
    )
    .await
});
