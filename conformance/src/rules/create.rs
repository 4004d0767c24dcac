//! Creation by POST: 201, `Location`, and the new resource's ETag.

use serde_json::json;

use super::Finding;
use crate::etag;

check!(post_returns_201, |cx| {
    let (created, url) = cx.create(&cx.doc(json!({ "n": 1 }))).await?;
    Ok(match (created.status(), url) {
        (201, Some(url)) => Finding::Pass(format!("201 Created with Location {url}")),
        (201, None) => Finding::violation(
            "201 Created with a Location header naming the new resource",
            "201 without a usable Location header",
            &created,
        ),
        (status, _) => Finding::violation(
            "201 Created with a Location header naming the new resource",
            format!("status {status}"),
            &created,
        ),
    })
});

check!(create_returns_etag, |cx| {
    let (created, url) = cx.create(&cx.doc(json!({ "n": 1 }))).await?;
    let Some(url) = url.filter(|_| created.status() / 100 == 2) else {
        return Ok(Finding::Skip(
            "the POST created no resource with a Location".into(),
        ));
    };
    let Some(tag) = created.etag() else {
        return Ok(Finding::violation(
            "the 201 response carries the new resource's strong ETag",
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
            "the 201 response carries the new resource's strong ETag, equal to the next GET's",
            format!("the 201's ETag {tag} is weak; the contract needs a strong tag (RFC 9110 §8.8.3: If-Match compares strongly, so a weak tag can never be written against)"),
            &created,
        ));
    }
    let read = cx.snapshot(&url).await?;
    let current = read.etag.as_deref().and_then(etag::parse);
    Ok(match current {
        Some(current) if current.strong_eq(&tag) => {
            Finding::Pass(format!("201 carries {tag}, the same as the next GET"))
        }
        current => Finding::violation_after(
            "the 201 response's ETag equals the ETag of the next GET (and is strong)",
            match (current, read.etag.as_deref()) {
                (Some(c), _) if c.is_weak() && c.opaque() == tag.opaque() => format!(
                    "the 201 said {tag} but the next GET said {c}, the weak form of it; the GET's tag must be strong and equal"
                ),
                (Some(c), _) => format!("the 201's ETag {tag} differs from the next GET's {c}"),
                (None, Some(raw)) => format!("the 201 said {tag}; the next GET's ETag {raw:?} is malformed"),
                (None, None) => format!(
                    "the 201 said {tag}; the next GET (status {}) sent no ETag",
                    read.status
                ),
            },
            &created,
            &read.exchange,
        ),
    })
});
