//! `If-Match` on writes: the current tag succeeds; a stale, weak or `*`-on-missing
//! tag is refused and nothing changes (judged by re-reading).

use serde_json::json;

use super::context::Snapshot;
use super::etag::conditional_write;
use super::{Abort, Cx, Finding};
use crate::etag::{self, EntityTag};
use crate::http::Req;

check!(current_put, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let body = cx.doc(json!({ "n": 2 }));
    let put = cx
        .send(
            Req::put(&fx.url)
                .json(&body)
                .header("If-Match", fx.etag.to_string()),
        )
        .await?;
    if put.status() / 100 != 2 {
        return Ok(Finding::violation(
            "PUT with the current If-Match succeeds (2xx)",
            format!("status {}", put.status()),
            &put,
        ));
    }
    let read = cx.snapshot(&fx.url).await?;
    Ok(if read.body.as_ref() == Some(&body) {
        Finding::Pass(format!(
            "PUT answered {} and the new body was stored",
            put.status()
        ))
    } else {
        Finding::violation(
            "after a successful PUT the next GET returns the body that was sent",
            "the next GET returned a different body",
            &read.exchange,
        )
    })
});

check!(current_patch, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let patch = cx
        .send(
            Req::patch(&fx.url)
                .merge_patch(&json!({ "n": 2 }))
                .header("If-Match", fx.etag.to_string()),
        )
        .await?;
    if patch.status() / 100 != 2 {
        return Ok(Finding::violation(
            "PATCH (application/merge-patch+json) with the current If-Match succeeds (2xx)",
            format!("status {}", patch.status()),
            &patch,
        ));
    }
    let read = cx.snapshot(&fx.url).await?;
    let n = read.body.as_ref().and_then(|b| b.get("n")).cloned();
    Ok(if n == Some(json!(2)) {
        Finding::Pass(format!(
            "PATCH answered {} and the change was stored",
            patch.status()
        ))
    } else {
        Finding::violation(
            "after a successful PATCH the next GET shows the patched member",
            format!(
                "member \"n\" is {}",
                n.map_or("missing".into(), |v| v.to_string())
            ),
            &read.exchange,
        )
    })
});

check!(merge_semantics, |cx| {
    let fx =
        cx.fixture(cx.doc(
            json!({ "keep": "yes", "drop": 1, "nested": { "a": 1, "b": 2 }, "list": [1, 2] }),
        ))
        .await?;
    let patch = json!({ "drop": null, "nested": { "b": 3 }, "list": [9] });
    let sent = cx
        .send(
            Req::patch(&fx.url)
                .merge_patch(&patch)
                .header("If-Match", fx.etag.to_string()),
        )
        .await?;
    if sent.status() / 100 != 2 {
        return Err(Abort::Prerequisite(format!(
            "the merge patch was refused with {}",
            sent.status()
        )));
    }
    let expected = cx.doc(json!({ "keep": "yes", "nested": { "a": 1, "b": 3 }, "list": [9] }));
    let read = cx.snapshot(&fx.url).await?;
    Ok(if read.body.as_ref() == Some(&expected) {
        Finding::Pass("null removed a member, objects merged, arrays were replaced".into())
    } else {
        Finding::violation(
            format!("RFC 7396 result {expected}"),
            format!(
                "stored {}",
                read.body.map_or("(no JSON)".into(), |b| b.to_string())
            ),
            &read.exchange,
        )
    })
});

check!(current_delete, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let delete = cx
        .send(Req::delete(&fx.url).header("If-Match", fx.etag.to_string()))
        .await?;
    if delete.status() / 100 != 2 {
        return Ok(Finding::violation(
            "DELETE with the current If-Match succeeds (2xx)",
            format!("status {}", delete.status()),
            &delete,
        ));
    }
    let read = cx.snapshot(&fx.url).await?;
    Ok(if read.status == 404 || read.status == 410 {
        Finding::Pass(format!(
            "DELETE answered {}; the next GET answered {}",
            delete.status(),
            read.status
        ))
    } else {
        Finding::violation(
            "after a successful DELETE the resource is gone (404 or 410)",
            format!("the next GET answered {}", read.status),
            &read.exchange,
        )
    })
});

/// Creates a resource, writes it once with the current tag, and returns the
/// now-stale tag with a snapshot of the current state.
async fn stale_setup(cx: &Cx) -> Result<(String, EntityTag, Snapshot), Abort> {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    conditional_write(cx, &fx, false, 2).await?;
    let before = cx.snapshot(&fx.url).await?;
    if before.etag.as_deref().and_then(etag::parse) == Some(fx.etag.clone()) {
        return Err(Abort::Prerequisite(
            "the ETag did not change after a write, so no stale ETag exists".into(),
        ));
    }
    Ok((fx.url, fx.etag, before))
}

check!(stale_put, |cx| {
    let (url, stale, before) = stale_setup(cx).await?;
    let put = cx
        .send(
            Req::put(&url)
                .json(&cx.doc(json!({ "n": 3 })))
                .header("If-Match", stale.to_string()),
        )
        .await?;
    cx.judge_refusal(&before, &url, &put, "a PUT with a stale If-Match")
        .await
});

check!(stale_patch, |cx| {
    let (url, stale, before) = stale_setup(cx).await?;
    let patch = cx
        .send(
            Req::patch(&url)
                .merge_patch(&json!({ "n": 3 }))
                .header("If-Match", stale.to_string()),
        )
        .await?;
    cx.judge_refusal(&before, &url, &patch, "a PATCH with a stale If-Match")
        .await
});

check!(stale_delete, |cx| {
    let (url, stale, before) = stale_setup(cx).await?;
    let delete = cx
        .send(Req::delete(&url).header("If-Match", stale.to_string()))
        .await?;
    cx.judge_refusal(&before, &url, &delete, "a DELETE with a stale If-Match")
        .await
});

check!(weak_refused, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
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
    let body = cx.doc(json!({ "n": 2 }));
    let put = cx
        .send(Req::put(&fx.url).json(&body).header("If-Match", "*"))
        .await?;
    let read = cx.snapshot(&fx.url).await?;
    Ok(
        if put.status() / 100 == 2 && read.body.as_ref() == Some(&body) {
            Finding::Pass(format!(
                "If-Match: * on an existing resource answered {}",
                put.status()
            ))
        } else {
            Finding::violation(
                "PUT with If-Match: * on an existing resource succeeds and stores the body",
                format!("status {}", put.status()),
                &put,
            )
        },
    )
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
