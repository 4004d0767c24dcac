//! The `require-preconditions` profile: unconditional writes answer 428.

use serde_json::json;

use super::{Abort, Cx, Finding, Fixture};
use crate::http::{Exchange, Req};

async fn unconditional(cx: &Cx, make: fn(&Cx, &Fixture) -> Req) -> Result<Finding, Abort> {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let before = cx.snapshot(&fx.url).await?;
    let sent = cx.send(make(cx, &fx)).await?;
    let after = cx.snapshot(&fx.url).await?;
    let unchanged =
        after.status == before.status && after.etag == before.etag && after.body == before.body;
    Ok(if sent.status() == 428 && unchanged {
        Finding::Pass(format!(
            "an unconditional {} answered 428; state unchanged",
            sent.request.method
        ))
    } else {
        Finding::violation(
            format!(
                "an unconditional {} answers 428 Precondition Required and changes nothing",
                sent.request.method
            ),
            format!(
                "status {}{}",
                sent.status(),
                if unchanged {
                    ""
                } else {
                    ", and the resource changed"
                }
            ),
            &sent,
        )
    })
}

check!(put_428, |cx| {
    unconditional(cx, |cx, fx| {
        Req::put(&fx.url).json(&cx.doc(json!({ "n": 2 })))
    })
    .await
});

check!(patch_428, |cx| {
    unconditional(cx, |_, fx| {
        Req::patch(&fx.url).merge_patch(&json!({ "n": 2 }))
    })
    .await
});

check!(delete_428, |cx| {
    unconditional(cx, |_, fx| Req::delete(&fx.url)).await
});

fn mentions_if_match(exchange: &Exchange) -> bool {
    exchange
        .response
        .body
        .to_ascii_lowercase()
        .contains("if-match")
}

check!(names_if_match, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let sent = cx
        .send(Req::put(&fx.url).json(&cx.doc(json!({ "n": 2 }))))
        .await?;
    if sent.status() != 428 {
        return Err(Abort::Prerequisite(format!(
            "the unconditional PUT answered {}, not 428",
            sent.status()
        )));
    }
    Ok(if mentions_if_match(&sent) {
        Finding::Pass("the 428 explains that If-Match is required".into())
    } else {
        Finding::violation(
            "the 428 body tells the client how to resubmit (names If-Match)",
            "the body does not mention If-Match",
            &sent,
        )
    })
});
