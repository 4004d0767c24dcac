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
    let unchanged = cx.change_between(&before, &after, &fx.url).await?.is_none();
    let allowed = &cx.shape().body.malformed_statuses;
    let listed = allowed
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(" or ");
    let status = put.status();
    let declared = if allowed.as_slice() == [400] {
        String::new()
    } else {
        " (declared in [body] malformed-status)".to_owned()
    };
    Ok(if allowed.contains(&status) && unchanged {
        Finding::Pass(format!(
            "malformed JSON answered {status}{declared}; state unchanged"
        ))
    } else {
        let hint = if matches!(status, 400 | 422) && !allowed.contains(&status) {
            format!("; RFC 9110 allows {status} too: declare it with [body] malformed-status = [400, 422]")
        } else {
            String::new()
        };
        Finding::violation_after(
            format!(
                "a PUT whose JSON body is malformed answers {listed}{declared} and stores nothing"
            ),
            format!(
                "status {status}{}{hint}",
                if unchanged {
                    ""
                } else {
                    ", and the stored resource changed"
                }
            ),
            &put,
            &after.exchange,
        )
    })
});

check!(malformed_if_match, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    cx.needs_if_match(fx.has_etag)?;
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
        if cx.change_between(&before, &after, &fx.url).await?.is_none() {
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
