//! Writes and reads of a locked resource: others are refused with 423, the holder
//! writes (still under `If-Match`), a token that lost its lock is refused with 412,
//! and reads are never blocked.

use std::time::Duration;

use serde_json::json;

use super::{
    hold, refused_unchanged, release, reread, sleep_until, unknown_token, Held, LONG_TTL_MS,
};
use crate::http::Req;
use crate::rules::{Abort, Cx, Evidence, Finding};

/// The lease `stale-token-412` waits out.
const SHORT_TTL_MS: u64 = 300;
/// The longest lease the suite waits out; a server that grants more is not judged.
pub(super) const MAX_WAITED_TTL: Duration = Duration::from_secs(5);

/// Takes a lock meant to expire soon; skips the check when the server grants a
/// lease longer than the suite waits for.
pub(super) async fn expiring(cx: &Cx, item: &str, who: &str, ttl_ms: u64) -> Result<Held, Abort> {
    let held = hold(cx, item, who, ttl_ms).await?;
    match held.ttl_ms {
        Some(ms) if Duration::from_millis(ms) > MAX_WAITED_TTL => Err(Abort::Prerequisite(format!(
            "asked for a {ttl_ms} ms lock, the server granted {ms} ms; the suite waits at most {} s for an expiry",
            MAX_WAITED_TTL.as_secs()
        ))),
        _ => Ok(held),
    }
}

check!(write_without_token_423, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let held = hold(cx, &fx.url, "write-without-token-423 (holder)", LONG_TTL_MS).await?;
    let before = reread(cx, &fx.url, Some(&held)).await?;
    let tag = fx.etag.to_string();
    let writes = [
        (
            "a PUT without the holder's Lock-Token",
            Req::put(&fx.url).json(&cx.doc(json!({ "n": 2 }))),
        ),
        (
            "a PATCH without the holder's Lock-Token",
            Req::patch(&fx.url).merge_patch(&json!({ "n": 2 })),
        ),
        (
            "a DELETE without the holder's Lock-Token",
            Req::delete(&fx.url),
        ),
    ];
    for (what, req) in writes {
        let attempt = cx.send(req.header("If-Match", tag.clone())).await?;
        if let Some(broken) =
            refused_unchanged(cx, &before, &attempt, 423, what, Some(&held)).await?
        {
            return Ok(broken);
        }
    }
    release(cx, &held).await?;
    Ok(Finding::Pass(
        "PUT, PATCH and DELETE without the holder's Lock-Token answered 423; re-reads showed nothing changed"
            .into(),
    ))
});

check!(holder_writes, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let held = hold(cx, &fx.url, "holder-writes", LONG_TTL_MS).await?;
    let body = cx.doc(json!({ "n": 2 }));
    let put = cx
        .send(
            Req::put(&fx.url)
                .json(&body)
                .header("If-Match", fx.etag.to_string())
                .header("Lock-Token", held.header.clone()),
        )
        .await?;
    let after = reread(cx, &fx.url, Some(&held)).await?;
    if put.status() / 100 != 2 || after.body.as_ref() != Some(&body) {
        return Ok(Finding::violation(
            "the holder's PUT with its Lock-Token and the current If-Match succeeds and stores the body",
            format!(
                "the PUT answered {}{}",
                put.status(),
                if after.body.as_ref() == Some(&body) {
                    ""
                } else {
                    ", and a re-read does not show the body sent"
                }
            ),
            &put,
        ));
    }
    // The lock does not switch If-Match off: the tag read before the PUT is stale now.
    let stale = cx
        .send(
            Req::patch(&fx.url)
                .merge_patch(&json!({ "n": 3 }))
                .header("If-Match", fx.etag.to_string())
                .header("Lock-Token", held.header.clone()),
        )
        .await?;
    let status = match stale.status() {
        409 => 409,
        _ => 412,
    };
    let what = "the holder's PATCH with its Lock-Token and a stale If-Match";
    if let Some(broken) = refused_unchanged(cx, &after, &stale, status, what, Some(&held)).await? {
        return Ok(broken);
    }
    release(cx, &held).await?;
    let written = format!("the holder's PUT answered {}", put.status());
    Ok(match status {
        409 if cx.accepts_409() => Finding::NonStrict(format!(
            "{written}; {what} was refused with the declared 409; nothing changed"
        )),
        409 => Finding::Warn(Evidence {
            expectation: format!(
                "{what} is refused with 412 Precondition Failed; declare --mismatch-status 409 to accept 409"
            ),
            observed: "409 Conflict (state unchanged)".into(),
            exchange: Some(stale),
            write: None,
        }),
        _ => Finding::Pass(format!(
            "{written}; {what} was refused with 412; nothing changed"
        )),
    })
});

check!(stale_token_412, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let released = hold(cx, &fx.url, "stale-token-412 (released)", LONG_TTL_MS).await?;
    let freed = release(cx, &released).await?;
    if freed.status() / 100 != 2 {
        return Err(Abort::Prerequisite(format!(
            "the holder's release answered {}",
            freed.status()
        )));
    }
    let before = cx.snapshot(&fx.url).await?;
    let write = |token: &str, n: u32| {
        Req::put(&fx.url)
            .json(&cx.doc(json!({ "n": n })))
            .header("If-Match", fx.etag.to_string())
            .header("Lock-Token", token)
    };
    let attempt = cx.send(write(&released.header, 2)).await?;
    let what = "a PUT with the token of a released lock (nobody holds the lock now)";
    if let Some(broken) = refused_unchanged(cx, &before, &attempt, 412, what, None).await? {
        return Ok(broken);
    }
    let attempt = cx.send(write(&unknown_token(cx), 3)).await?;
    let what = "a PUT with a token the server never issued";
    if let Some(broken) = refused_unchanged(cx, &before, &attempt, 412, what, None).await? {
        return Ok(broken);
    }
    // A holder that paused past its TTL must not write as if it still held the lock.
    let lapsed = expiring(cx, &fx.url, "stale-token-412 (expiring)", SHORT_TTL_MS).await?;
    sleep_until(lapsed.surely_expired_at(SHORT_TTL_MS)).await;
    let attempt = cx.send(write(&lapsed.header, 4)).await?;
    let what = "a PUT with the token of a lock that expired (nobody renewed or released it)";
    if let Some(broken) = refused_unchanged(cx, &before, &attempt, 412, what, None).await? {
        return Ok(broken);
    }
    cx.forget_lock(&lapsed.header);
    Ok(Finding::Pass(
        "PUTs with a released, a never-issued and an expired token were refused with 412; nothing changed"
            .into(),
    ))
});

check!(reads_unblocked, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let held = hold(cx, &fx.url, "reads-unblocked (holder)", LONG_TTL_MS).await?;
    let expectation = "reads of a locked resource are answered as usual: GET 200 with its ETag and body, HEAD 200 with its ETag, a GET with If-None-Match naming it 304";
    let get = cx.snapshot(&fx.url).await?;
    if get.status != 200
        || get.exchange.etag() != Some(fx.etag.clone())
        || get.body != Some(fx.body.clone())
    {
        return Ok(Finding::violation(
            expectation,
            format!(
                "a GET without the Lock-Token answered {} with ETag {}",
                get.status,
                get.etag.as_deref().unwrap_or("(none)")
            ),
            &get.exchange,
        ));
    }
    let head = cx.send(Req::head(&fx.url)).await?;
    if head.status() != 200 || head.etag() != Some(fx.etag.clone()) {
        return Ok(Finding::violation(
            expectation,
            format!("HEAD answered {}", head.status()),
            &head,
        ));
    }
    let conditional = cx
        .send(Req::get(&fx.url).header("If-None-Match", fx.etag.to_string()))
        .await?;
    if conditional.status() != 304 {
        return Ok(Finding::violation(
            expectation,
            format!(
                "a GET with If-None-Match naming the current ETag answered {}",
                conditional.status()
            ),
            &conditional,
        ));
    }
    release(cx, &held).await?;
    Ok(Finding::Pass(
        "GET (200), HEAD (200) and a conditional GET (304) of the locked resource were answered as usual"
            .into(),
    ))
});
