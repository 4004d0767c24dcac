//! A document's history: its versions listed newest first with the tags the writes
//! answered, a past version read back as it was, a restore that adds a version
//! instead of rewriting history, 404 for a version the document never had, and the
//! tombstone a DELETE leaves.

use serde_json::{json, Value};

use super::{entries, history, rewrite, version_of, version_url, Entry};
use crate::http::{Exchange, Req};
use crate::rules::{Abort, Cx, Finding};

/// How many versions the suite may find missing because the server keeps fewer.
const ENOUGH_KEPT: u64 = 3;
/// A version number no store of the suite's size reaches.
const NEVER_REACHED: u64 = 999_999_999_999;

/// A document the check created and wrote: its URL, and every body and tag it had,
/// oldest first, as the writes answered them.
struct Written {
    url: String,
    bodies: Vec<Value>,
    tags: Vec<String>,
}

/// Creates a document with `POST` and writes it `writes` more times with `PUT` and
/// the current `If-Match`; the tags are those the writes answered.
async fn written(cx: &Cx, writes: i64) -> Result<Written, Abort> {
    let first = cx.doc(json!({ "n": 1 }));
    let (created, url) = cx.create(&first).await?;
    let (Some(url), Some(tag)) = (url, created.etag_raw()) else {
        return Err(Abort::Prerequisite(format!(
            "could not create a test resource with an ETag: POST {} answered {}",
            cx.collection_url(),
            created.status()
        )));
    };
    let mut done = Written {
        url,
        bodies: vec![first],
        tags: vec![tag.to_owned()],
    };
    for n in 2..=writes + 1 {
        let body = cx.doc(json!({ "n": n }));
        let last = done.tags.last().cloned().unwrap_or_default();
        let answer = rewrite(cx, &done.url, &body, &last).await?;
        done.tags
            .push(answer.etag_raw().unwrap_or_default().to_owned());
        done.bodies.push(body);
    }
    Ok(done)
}

/// The tags of the first `n` entries, for messages (`(none)` for a tombstone).
fn head_tags(listed: &[Entry], n: usize) -> Vec<String> {
    listed
        .iter()
        .take(n)
        .map(|e| e.etag.clone().unwrap_or_else(|| "(none)".into()))
        .collect()
}

/// Whether `listed` starts with the versions tagged `newest_first`, live.
fn starts_with(listed: &[Entry], newest_first: &[&String]) -> bool {
    listed.len() >= newest_first.len()
        && listed
            .iter()
            .zip(newest_first)
            .all(|(e, tag)| !e.deleted && e.etag.as_ref() == Some(*tag))
}

/// The most versions the server says it keeps (`policy.max_versions`).
fn max_versions(answer: &Exchange) -> Option<u64> {
    answer.json()?.get("policy")?.get("max_versions")?.as_u64()
}

check!(history_lists_writes, |cx| {
    let doc = written(cx, 2).await?;
    let (answer, listed) = history(cx, &doc.url).await?;
    if matches!(answer.status(), 404 | 405 | 501) && entries(&answer).is_none() {
        return Ok(Finding::Skip(format!(
            "the server keeps no history at {}: GET answered {} for a document that exists, so the history rules are skipped. If its history lives elsewhere, say where with --versions-path",
            answer.request.url,
            answer.status()
        )));
    }
    if max_versions(&answer).is_some_and(|kept| kept < ENOUGH_KEPT) {
        return Ok(Finding::Skip(format!(
            "the server keeps fewer than {ENOUGH_KEPT} versions of a document (policy.max_versions), so three writes cannot all be listed"
        )));
    }
    let newest_first: Vec<&String> = doc.tags.iter().rev().collect();
    let numbers: Vec<Option<u64>> = listed.iter().take(3).map(|e| e.version).collect();
    let descending = numbers.windows(2).all(|w| match (w[0], w[1]) {
        (Some(newer), Some(older)) => newer > older,
        _ => false,
    });
    let expectation = format!(
        "GET {{history}} after a POST and two PUTs answers 200 {{\"versions\": [...]}} listing them newest first, with the ETags the writes answered ({}) and decreasing version numbers",
        doc.tags.iter().rev().cloned().collect::<Vec<_>>().join(", ")
    );
    if answer.status() != 200 || entries(&answer).is_none() {
        return Ok(Finding::violation(
            expectation,
            format!(
                "GET {} answered {} without a versions array",
                answer.request.url,
                answer.status()
            ),
            &answer,
        ));
    }
    if !starts_with(&listed, &newest_first) {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the listing starts with ETags {:?} ({} entries)",
                head_tags(&listed, 3),
                listed.len()
            ),
            &answer,
        ));
    }
    if !descending {
        return Ok(Finding::violation(
            expectation,
            format!("the newest three versions are numbered {numbers:?}"),
            &answer,
        ));
    }
    let numbers: Vec<String> = numbers.iter().flatten().map(u64::to_string).collect();
    Ok(Finding::Pass(format!(
        "the history lists the three writes newest first, versions {}, with the ETags they answered",
        numbers.join(", ")
    )))
});

check!(read_past_version, |cx| {
    let doc = written(cx, 2).await?;
    let n = version_of(cx, &doc.url, &doc.tags[1]).await?;
    let past = cx.send(Req::get(&version_url(cx, &doc.url, n))).await?;
    let expectation = format!(
        "GET {{history}}/{n} answers 200 with the document as it was at that version (the body the PUT wrote) and its ETag {}",
        doc.tags[1]
    );
    if past.status() != 200 {
        return Ok(Finding::violation(
            expectation,
            format!("the past version answered {}", past.status()),
            &past,
        ));
    }
    if past.json().as_ref() != Some(&doc.bodies[1]) || past.etag_raw() != Some(&doc.tags[1]) {
        return Ok(Finding::violation(
            expectation,
            format!(
                "it answered ETag {} and {} body",
                past.etag_raw().unwrap_or("(none)"),
                if past.json().as_ref() == Some(&doc.bodies[1]) {
                    "that version's"
                } else {
                    "another"
                }
            ),
            &past,
        ));
    }
    let now = cx.snapshot(&doc.url).await?;
    if now.body.as_ref() != doc.bodies.last() || now.etag.as_ref() != doc.tags.last() {
        return Ok(Finding::violation(
            "reading a past version changes nothing: the document keeps its newest body and ETag",
            format!(
                "after the read, GET {} answered {} with ETag {}",
                doc.url,
                now.status,
                now.etag.as_deref().unwrap_or("(none)")
            ),
            &now.exchange,
        ));
    }
    Ok(Finding::Pass(format!(
        "version {n} read back with its body and ETag {}; the document is unchanged",
        doc.tags[1]
    )))
});

check!(restore, |cx| {
    let doc = written(cx, 2).await?;
    let (old, current) = (&doc.bodies[1], &doc.tags[2]);
    let restored = rewrite(cx, &doc.url, old, current).await?;
    let tag = restored.etag_raw().unwrap_or_default().to_owned();
    let expectation = "a PUT of an old version's content with the current If-Match makes a new version: the document shows that content under a new ETag, and the history keeps every version, the new one first";
    if doc.tags.contains(&tag) {
        return Ok(Finding::violation(
            expectation,
            format!("the PUT answered the ETag {tag}, which an earlier version had"),
            &restored,
        ));
    }
    let now = cx.snapshot(&doc.url).await?;
    if now.body.as_ref() != Some(old) || now.etag.as_deref() != Some(&tag) {
        return Ok(Finding::violation(
            expectation,
            format!(
                "after the PUT answered ETag {tag}, a GET answered ETag {} and {} body",
                now.etag.as_deref().unwrap_or("(none)"),
                if now.body.as_ref() == Some(old) {
                    "the restored"
                } else {
                    "another"
                }
            ),
            &now.exchange,
        ));
    }
    let (answer, listed) = history(cx, &doc.url).await?;
    let newest_first = [&tag, &doc.tags[2], &doc.tags[1]];
    if !starts_with(&listed, &newest_first) {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the history starts with ETags {:?}, not {tag}, {}, {}",
                head_tags(&listed, 3),
                doc.tags[2],
                doc.tags[1]
            ),
            &answer,
        ));
    }
    Ok(Finding::Pass(format!(
        "the restore made version {tag} with the old content; the history lists it before the versions it followed"
    )))
});

check!(unknown_version_404, |cx| {
    let doc = written(cx, 1).await?;
    let other = written(cx, 1).await?;
    let foreign = version_of(cx, &other.url, &other.tags[1]).await?;
    let (_, before) = history(cx, &doc.url).await?;
    let expectation = "GET {history}/{n} for a version this document never had answers 404 (version-not-found) and changes nothing";
    for (n, what) in [
        (foreign, "another document's version"),
        (NEVER_REACHED, "a version never reached"),
    ] {
        let answer = cx.send(Req::get(&version_url(cx, &doc.url, n))).await?;
        if answer.status() != 404 {
            return Ok(Finding::violation(
                expectation,
                format!(
                    "GET of version {n} ({what}) answered {} with ETag {}",
                    answer.status(),
                    answer.etag_raw().unwrap_or("(none)")
                ),
                &answer,
            ));
        }
    }
    let (answer, after) = history(cx, &doc.url).await?;
    if after != before {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the history changed from {:?} to {:?}",
                head_tags(&before, 4),
                head_tags(&after, 4)
            ),
            &answer,
        ));
    }
    Ok(Finding::Pass(format!(
        "another document's version {foreign} and version {NEVER_REACHED} answered 404; the history is unchanged"
    )))
});

check!(tombstone, |cx| {
    let doc = written(cx, 1).await?;
    let last = &doc.tags[1];
    let deleted = cx
        .send(Req::delete(&doc.url).header("If-Match", last.clone()))
        .await?;
    let gone = cx.snapshot(&doc.url).await?;
    if deleted.status() / 100 != 2 || gone.status != 404 {
        return Err(Abort::Prerequisite(format!(
            "could not delete a test resource: DELETE with its current If-Match answered {}, a GET then {}",
            deleted.status(),
            gone.status
        )));
    }
    let (answer, listed) = history(cx, &doc.url).await?;
    let expectation = format!(
        "after a DELETE the history lists a deletion entry (\"deleted\": true) first, then the versions before it ({last} next)"
    );
    let tombstone_first = listed.first().is_some_and(|e| e.deleted);
    let then_last = listed.get(1).and_then(|e| e.etag.as_ref()) == Some(last);
    if answer.status() != 200 || !tombstone_first || !then_last {
        let seen = if answer.status() == 200 {
            format!(
                "the history lists {} entries, the first {}deleted, then ETag {}",
                listed.len(),
                if tombstone_first { "" } else { "not " },
                listed
                    .get(1)
                    .and_then(|e| e.etag.clone())
                    .unwrap_or_else(|| "(none)".into())
            )
        } else {
            format!(
                "GET {} answered {}: the deletion left no tombstone",
                answer.request.url,
                answer.status()
            )
        };
        return Ok(Finding::violation(expectation, seen, &answer));
    }
    Ok(Finding::Pass(format!(
        "after the DELETE the history lists the tombstone first, then {last}"
    )))
});
