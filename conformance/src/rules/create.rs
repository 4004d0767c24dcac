//! Creation (POST to the collection, or PUT with `If-None-Match: *` where the
//! target says so): 201, where the new resource is, and its ETag.

use serde_json::json;

use super::{Cx, Finding};
use crate::etag;
use crate::http::Exchange;
use crate::target::LocationFrom;

/// Where the new resource's URL came from, for verdict texts.
fn located(cx: &Cx, created: &Exchange, url: &str) -> String {
    match &cx.shape().create.location {
        LocationFrom::Body(pointer) => format!("naming its id at {pointer}: {url}"),
        LocationFrom::Header if created.header("location").is_some() => {
            format!("with Location {url}")
        }
        _ => format!("at {url}, the URL the suite chose"),
    }
}

/// What a conforming create answers, for this target.
fn expectation(cx: &Cx) -> String {
    match &cx.shape().create.location {
        LocationFrom::Header => "201 Created with a Location header naming the new resource".into(),
        LocationFrom::Body(pointer) => {
            format!("201 Created with the new resource's id at {pointer} of the body")
        }
        LocationFrom::Template => "201 Created for a PUT that creates (RFC 9110 §9.3.4)".into(),
    }
}

/// The create request as the report names it, e.g. `POST` or `PUT`.
fn method(created: &Exchange) -> &str {
    &created.request.method
}

check!(post_returns_201, |cx| {
    let (created, url) = cx.create(&cx.doc(json!({ "n": 1 }))).await?;
    let status = created.status();
    Ok(match (status, url) {
        (201, Some(url)) => Finding::Pass(format!(
            "{} answered 201 Created {}",
            method(&created),
            located(cx, &created, &url)
        )),
        (201, None) => Finding::violation(
            expectation(cx),
            match &cx.shape().create.location {
                LocationFrom::Body(pointer) => format!("201 without an id at {pointer}"),
                _ => "201 without a usable Location header".into(),
            },
            &created,
        ),
        (status, _) => Finding::violation(
            expectation(cx),
            format!("{} answered {status}", method(&created)),
            &created,
        ),
    })
});

check!(create_returns_etag, |cx| {
    let (created, url) = cx.create(&cx.doc(json!({ "n": 1 }))).await?;
    let status = created.status();
    let Some(url) = url.filter(|_| status / 100 == 2) else {
        return Ok(Finding::Skip(format!(
            "the create ({} answered {status}) made no resource the suite could find",
            method(&created)
        )));
    };
    let Some(tag) = created.etag() else {
        return Ok(Finding::violation(
            format!("the {status} that created the resource carries its strong ETag"),
            format!(
                "ETag header {}",
                created
                    .etag_raw()
                    .map_or("absent".into(), |v| format!("{v:?} (malformed)"))
            ),
            &created,
        ));
    };
    if tag.is_weak() {
        return Ok(Finding::violation(
            format!("the {status} that created the resource carries its strong ETag, equal to the next GET's"),
            format!("the {status}'s ETag {tag} is weak; the contract needs a strong tag (RFC 9110 §8.8.3: If-Match compares strongly, so a weak tag can never be written against)"),
            &created,
        ));
    }
    let read = cx.snapshot(&url).await?;
    let current = read.etag.as_deref().and_then(etag::parse);
    Ok(match current {
        Some(current) if current.strong_eq(&tag) => Finding::Pass(format!(
            "the {status} carries {tag}, the same as the next GET"
        )),
        current => Finding::violation_after(
            format!("the {status}'s ETag equals the ETag of the next GET (and is strong)"),
            match (current, read.etag.as_deref()) {
                (Some(c), _) if c.is_weak() && c.opaque() == tag.opaque() => format!(
                    "the {status} said {tag} but the next GET said {c}, the weak form of it; the GET's tag must be strong and equal"
                ),
                (Some(c), _) => format!("the {status}'s ETag {tag} differs from the next GET's {c}"),
                (None, Some(raw)) => format!("the {status} said {tag}; the next GET's ETag {raw:?} is malformed"),
                (None, None) => format!(
                    "the {status} said {tag}; the next GET (status {}) sent no ETag",
                    read.status
                ),
            },
            &created,
            &read.exchange,
        ),
    })
});
