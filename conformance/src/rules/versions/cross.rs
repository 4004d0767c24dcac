//! One representation's ETag sent to the other's URL. A current one may be accepted
//! (both name the same stored version) or refused (a stricter server): either is
//! allowed and only reported. A stale one must be refused, as any stale tag.

use serde_json::json;

use super::{rewrite, v2_body, v2_url};
use crate::http::{Exchange, Req};
use crate::rules::context::describe_change;
use crate::rules::{Abort, Cx, Finding};

/// The document's current tags: `(v1, v2)`.
async fn tags(cx: &Cx, url: &str, v2: &str) -> Result<(String, String), Abort> {
    let first = cx.snapshot(url).await?;
    let second = cx.snapshot(v2).await?;
    match (first.etag, second.etag) {
        (Some(a), Some(b)) if first.status == 200 && second.status == 200 => Ok((a, b)),
        _ => Err(Abort::Prerequisite(format!(
            "could not read both representations' ETags: GET {url} answered {}, GET {v2} answered {}",
            first.status, second.status
        ))),
    }
}

/// Whether a finding is no worse than a pass.
fn kept(finding: &Finding) -> bool {
    matches!(finding, Finding::Pass(_) | Finding::NonStrict(_))
}

check!(cross_etag_stale, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let v2 = v2_url(cx, &fx.url)?;
    let (old_v1, old_v2) = tags(cx, &fx.url, &v2).await?;
    rewrite(cx, &fx.url, &cx.doc(json!({ "n": 2 })), &old_v1).await?;
    let before = cx.snapshot(&fx.url).await?;
    let to_v2 = cx
        .send(
            Req::put(&v2)
                .json(&v2_body(&cx.doc(json!({ "n": 3 })), None))
                .header("If-Match", old_v1.clone()),
        )
        .await?;
    let what = format!("a v2 PUT with If-Match: {old_v1}, the stale v1 ETag,");
    let first = cx.judge_refusal(&before, &fx.url, &to_v2, &what).await?;
    if !kept(&first) {
        return Ok(first);
    }
    let to_v1 = cx
        .send(
            Req::put(&fx.url)
                .json(&cx.doc(json!({ "n": 4 })))
                .header("If-Match", old_v2.clone()),
        )
        .await?;
    let what = format!("a v1 PUT with If-Match: {old_v2}, the stale v2 ETag,");
    let second = cx.judge_refusal(&before, &fx.url, &to_v1, &what).await?;
    Ok(match (&first, second) {
        (Finding::Pass(_), Finding::Pass(_)) => Finding::Pass(format!(
            "stale tags of the other representation were refused with 412 both ways ({} to v2, {} to v1); nothing changed",
            old_v1, old_v2
        )),
        (_, second) if !kept(&second) => second,
        _ => Finding::NonStrict(format!(
            "stale tags of the other representation were refused with {} and {} (declared with --mismatch-status 409); nothing changed",
            to_v2.status(),
            to_v1.status()
        )),
    })
});

/// What became of a write with the other representation's current tag.
async fn fate(
    cx: &Cx,
    url: &str,
    write: &Exchange,
    before: &crate::rules::context::Snapshot,
) -> Result<Result<String, Finding>, Abort> {
    let after = cx.snapshot(url).await?;
    let change = describe_change(before, &after);
    Ok(match (write.status() / 100 == 2, change) {
        (true, Some(_)) => Ok(format!("accepted it ({})", write.status())),
        (false, None) => Ok(format!("refused it ({}; nothing changed)", write.status())),
        (true, None) => Err(Finding::violation(
            "a write the server answers with 2xx is applied",
            format!(
                "it answered {}, but a re-read shows nothing changed",
                write.status()
            ),
            write,
        )),
        (false, Some(change)) => Err(Finding::violation(
            "a write the server refuses changes nothing",
            format!(
                "it answered {}, and a re-read shows {change}",
                write.status()
            ),
            write,
        )),
    })
}

check!(cross_etag, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let v2 = v2_url(cx, &fx.url)?;
    let (v1_tag, _) = tags(cx, &fx.url, &v2).await?;
    let before = cx.snapshot(&fx.url).await?;
    let to_v2 = cx
        .send(
            Req::put(&v2)
                .json(&v2_body(&cx.doc(json!({ "n": 2 })), None))
                .header("If-Match", v1_tag.clone()),
        )
        .await?;
    let first = match fate(cx, &fx.url, &to_v2, &before).await? {
        Ok(text) => text,
        Err(broken) => return Ok(broken),
    };
    let (_, v2_tag) = tags(cx, &fx.url, &v2).await?;
    let before = cx.snapshot(&fx.url).await?;
    let to_v1 = cx
        .send(
            Req::put(&fx.url)
                .json(&cx.doc(json!({ "n": 3 })))
                .header("If-Match", v2_tag.clone()),
        )
        .await?;
    let second = match fate(cx, &fx.url, &to_v1, &before).await? {
        Ok(text) => text,
        Err(broken) => return Ok(broken),
    };
    Ok(Finding::Info(format!(
        "a v2 PUT with the current v1 ETag: the server {first}; a v1 PUT with the current v2 ETag: the server {second}. Both are allowed: the tags name the same stored version, and a client refused only loses a round trip"
    )))
});
