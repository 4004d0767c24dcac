//! `If-None-Match: *` on PUT: create only when absent, never overwrite.

use serde_json::json;

use super::put_create::skip_unless_put_creates;
use super::{Abort, Finding};
use crate::http::Req;

check!(star_creates, |cx| {
    if let Some(skip) = skip_unless_put_creates(cx).await? {
        return Ok(skip);
    }
    let url = cx.fresh_url();
    let body = cx.doc(json!({ "n": 1 }));
    let put = cx
        .send(Req::put(&url).json(&body).header("If-None-Match", "*"))
        .await?;
    let read = cx.snapshot(&url).await?;
    Ok(
        if put.status() / 100 == 2
            && read.status == 200
            && cx.not_stored(&body, read.body.as_ref()).is_none()
        {
            Finding::Pass(format!(
                "PUT with If-None-Match: * created the resource ({})",
                put.status()
            ))
        } else {
            Finding::violation(
            "PUT with If-None-Match: * to a missing resource creates it (201) with the body sent",
            format!("PUT answered {}, the next GET answered {}", put.status(), read.status),
            &put,
        )
        },
    )
});

check!(star_existing, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let before = cx.snapshot(&fx.url).await?;
    if before.status != 200 {
        return Err(Abort::Prerequisite(format!(
            "the test resource answered {}",
            before.status
        )));
    }
    let put = cx
        .send(
            Req::put(&fx.url)
                .json(&cx.doc(json!({ "n": 2 })))
                .header("If-None-Match", "*"),
        )
        .await?;
    cx.judge_refusal(
        &before,
        &fx.url,
        &put,
        "a PUT with If-None-Match: * to an existing resource",
    )
    .await
});
