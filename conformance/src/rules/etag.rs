//! Validators: a strong, stable ETag that every write changes, and write
//! responses whose ETag is the stored one.

use serde_json::json;

use super::{Abort, Cx, Finding, Fixture};
use crate::http::{Exchange, Req};

check!(strong_on_get, |cx| {
    let (created, url) = cx.create(&cx.doc(json!({ "n": 1 }))).await?;
    let Some(url) = url.filter(|_| created.status() / 100 == 2) else {
        return Err(Abort::Prerequisite(format!(
            "POST {} answered {} without a usable Location",
            cx.collection_url(),
            created.status()
        )));
    };
    let read = cx.snapshot(&url).await?;
    let expectation = "GET answers 200 with a strong ETag such as \"abc\" (quoted, no W/ prefix)";
    Ok(
        match (read.status, read.exchange.etag_raw(), read.exchange.etag()) {
            (200, _, Some(tag)) if !tag.is_weak() => {
                Finding::Pass(format!("GET returned strong ETag {tag}"))
            }
            (200, _, Some(tag)) => {
                Finding::violation(expectation, format!("weak ETag {tag}"), &read.exchange)
            }
            (200, Some(raw), None) => Finding::violation(
                expectation,
                format!("malformed ETag {raw:?}"),
                &read.exchange,
            ),
            (200, None, None) => Finding::violation(expectation, "no ETag header", &read.exchange),
            (status, _, _) => {
                Finding::violation(expectation, format!("status {status}"), &read.exchange)
            }
        },
    )
});

check!(stable_without_change, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    for _ in 0..3 {
        let read = cx.snapshot(&fx.url).await?;
        if read.exchange.etag() != Some(fx.etag.clone()) {
            return Ok(Finding::violation(
                format!(
                    "every GET without an intervening write returns the same ETag {}",
                    fx.etag
                ),
                format!("GET returned {}", read.etag.as_deref().unwrap_or("no ETag")),
                &read.exchange,
            ));
        }
    }
    Ok(Finding::Pass(format!("four GETs all returned {}", fx.etag)))
});

/// Writes with the current `If-Match` and requires success (a prerequisite).
pub(super) async fn conditional_write(
    cx: &Cx,
    fx: &Fixture,
    patch: bool,
    n: u64,
) -> Result<Exchange, Abort> {
    let req = if patch {
        Req::patch(&fx.url).merge_patch(&json!({ "n": n }))
    } else {
        Req::put(&fx.url).json(&cx.doc(json!({ "n": n })))
    };
    let sent = cx.send(req.header("If-Match", fx.etag.to_string())).await?;
    if sent.status() / 100 != 2 {
        let method = if patch { "PATCH" } else { "PUT" };
        return Err(Abort::Prerequisite(format!(
            "a {method} with the current If-Match was refused with {}",
            sent.status()
        )));
    }
    Ok(sent)
}

async fn changes_on_write(cx: &Cx, patch: bool) -> Result<Finding, Abort> {
    let method = if patch { "PATCH" } else { "PUT" };
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let write = conditional_write(cx, &fx, patch, 2).await?;
    let read = cx.snapshot(&fx.url).await?;
    Ok(match read.exchange.etag() {
        Some(tag) if tag != fx.etag => Finding::Pass(format!(
            "{method} changed the ETag from {} to {tag}",
            fx.etag
        )),
        _ => Finding::violation(
            format!("after a successful {method} the next GET returns a new ETag"),
            format!(
                "the ETag stayed {} although the {method} answered {}",
                read.etag.as_deref().unwrap_or("(none)"),
                write.status()
            ),
            &read.exchange,
        ),
    })
}

check!(changes_on_put, |cx| { changes_on_write(cx, false).await });
check!(changes_on_patch, |cx| { changes_on_write(cx, true).await });

check!(write_returns_etag, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let write = conditional_write(cx, &fx, false, 2).await?;
    Ok(match write.etag() {
        Some(tag) if !tag.is_weak() => {
            Finding::Pass(format!("PUT answered {} with ETag {tag}", write.status()))
        }
        _ => Finding::violation(
            "a successful conditional PUT returns the new strong ETag, saving the client a GET",
            format!("ETag header {}", write.etag_raw().unwrap_or("absent")),
            &write,
        ),
    })
});

check!(write_etag_matches_get, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let put = conditional_write(cx, &fx, false, 2).await?;
    let Some(put_tag) = put.etag() else {
        return Ok(Finding::Skip(
            "the PUT response carried no ETag to compare".into(),
        ));
    };
    let read = cx.snapshot(&fx.url).await?;
    if read.exchange.etag() != Some(put_tag.clone()) {
        return Ok(Finding::violation(
            "the ETag of a PUT response equals the ETag of the next GET",
            format!(
                "PUT said {put_tag}, the next GET said {}",
                read.etag.as_deref().unwrap_or("(none)")
            ),
            &put,
        ));
    }
    let current = Fixture {
        url: fx.url.clone(),
        etag: put_tag,
        body: fx.body.clone(),
    };
    let patch = conditional_write(cx, &current, true, 3).await?;
    let Some(patch_tag) = patch.etag() else {
        return Ok(Finding::Pass(format!(
            "PUT response and GET agree on {}",
            current.etag
        )));
    };
    let read = cx.snapshot(&fx.url).await?;
    Ok(if read.exchange.etag() == Some(patch_tag.clone()) {
        Finding::Pass(format!(
            "PUT and PATCH responses both match the next GET's ETag ({patch_tag})"
        ))
    } else {
        Finding::violation(
            "the ETag of a PATCH response equals the ETag of the next GET",
            format!(
                "PATCH said {patch_tag}, the next GET said {}",
                read.etag.as_deref().unwrap_or("(none)")
            ),
            &patch,
        )
    })
});

check!(head_matches_get, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let head = cx.send(Req::head(&fx.url)).await?;
    Ok(match head.etag() {
        Some(tag) if head.status() == 200 && tag == fx.etag => {
            Finding::Pass(format!("HEAD returned the GET's ETag {tag}"))
        }
        _ => Finding::violation(
            format!("HEAD answers 200 with the same ETag as GET ({})", fx.etag),
            format!(
                "HEAD answered {} with ETag {}",
                head.status(),
                head.etag_raw().unwrap_or("(none)")
            ),
            &head,
        ),
    })
});

check!(last_modified_info, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let read = cx.snapshot(&fx.url).await?;
    Ok(Finding::Info(match read.exchange.header("last-modified") {
        Some(value) if httpdate::parse_http_date(value).is_ok() => {
            "GET also sends a valid Last-Modified; the ETag stays the validator the contract relies on".into()
        }
        Some(value) => format!("GET sends a Last-Modified that is not an HTTP-date: {value:?}"),
        None => "GET sends no Last-Modified; only the ETag validates (fine for this contract)".into(),
    }))
});
