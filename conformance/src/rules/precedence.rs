//! Which answer wins when a precondition meets a missing resource
//! (RFC 9110 §13.2.1: preconditions are ignored when the answer without them
//! would not be 2xx or 412).

use serde_json::json;

use super::if_match::put_to_missing_refused;
use super::Finding;
use crate::http::Req;

const SOME_TAG: &str = "\"ifmatch-conformance-some-tag\"";

check!(not_found_wins, |cx| {
    let url = cx.fresh_url();
    let patch = cx
        .send(
            Req::patch(&url)
                .merge_patch(&json!({ "n": 1 }))
                .header("If-Match", SOME_TAG),
        )
        .await?;
    let delete = cx
        .send(Req::delete(&url).header("If-Match", SOME_TAG))
        .await?;
    let expectation = "PATCH and DELETE with If-Match on a missing resource answer 404: without the precondition the answer would be 404, so the precondition is not evaluated";
    for sent in [&patch, &delete] {
        if sent.status() != 404 {
            return Ok(Finding::violation(
                expectation,
                format!("{} answered {}", sent.request.method, sent.status()),
                sent,
            ));
        }
    }
    let read = cx.snapshot(&url).await?;
    Ok(if read.status == 404 {
        Finding::Pass("PATCH and DELETE on a missing resource answered 404".into())
    } else {
        Finding::violation(
            expectation,
            format!("a resource appeared ({})", read.status),
            &read.exchange,
        )
    })
});

check!(put_tag_on_missing, |cx| {
    put_to_missing_refused(
        cx,
        SOME_TAG,
        "a PUT with an If-Match tag to a missing resource",
    )
    .await
});
