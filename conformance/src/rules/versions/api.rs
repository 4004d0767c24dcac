//! Two API versions of the same documents: each under its URL prefix, chosen by
//! `Api-Version` on unprefixed URLs (with `Vary`), an unknown version refused with
//! the supported ones listed, and each representation with its own strong ETag.

use serde_json::{json, Value};

use super::{envelope, rewrite, v2_url, Envelope, API_VERSION_HEADER, V1, V2};
use crate::etag;
use crate::http::{Exchange, Req};
use crate::rules::context::describe_change;
use crate::rules::{Abort, Evidence, Finding, Fixture};

/// An `Api-Version` no server offers.
const UNKNOWN: &str = "3";

/// What is wrong with a v2 answer for the document `fx`, if anything.
fn envelope_mismatch(fx: &Fixture, answer: &Exchange) -> Option<String> {
    let id = fx
        .url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let Some(Envelope {
        id: named,
        version,
        modified_at_ms,
        data,
    }) = envelope(answer)
    else {
        return Some(format!(
            "it answered {} with a body that is no envelope (no data member)",
            answer.status()
        ));
    };
    let mut wrong = Vec::new();
    if answer.status() != 200 {
        wrong.push(format!("the status is {}", answer.status()));
    }
    if data != fx.body {
        wrong.push("data is not the document".to_owned());
    }
    if named.as_deref() != Some(id) {
        wrong.push(format!("id is {named:?}, not {id:?}"));
    }
    if version.is_none() {
        wrong.push("version is not a number".to_owned());
    }
    if modified_at_ms.is_none() {
        wrong.push("modified_at_ms is not a number".to_owned());
    }
    (!wrong.is_empty()).then(|| wrong.join("; "))
}

/// What is wrong with a v1 answer for the document `fx`, if anything.
fn plain_mismatch(fx: &Fixture, answer: &Exchange) -> Option<String> {
    let tag = fx.etag.to_string();
    if answer.status() != 200 || answer.json().as_ref() != Some(&fx.body) {
        return Some(format!(
            "it answered {} {}",
            answer.status(),
            if answer.json().as_ref() == Some(&fx.body) {
                "with the document"
            } else {
                "with a body other than the stored document"
            }
        ));
    }
    (answer.etag_raw() != Some(tag.as_str())).then(|| {
        format!(
            "it answered ETag {}, not {tag}",
            answer.etag_raw().unwrap_or("(none)")
        )
    })
}

/// Whether `Vary` names `Api-Version` (or is `*`).
fn varies_on_version(answer: &Exchange) -> bool {
    answer.response.headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("vary")
            && value.split(',').any(|v| {
                let v = v.trim();
                v == "*" || v.eq_ignore_ascii_case(API_VERSION_HEADER)
            })
    })
}

check!(api_prefix, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let v2 = v2_url(cx, &fx.url)?;
    let second = cx.send(Req::get(&v2)).await?;
    if matches!(second.status(), 404 | 405 | 501) && envelope(&second).is_none() {
        return Ok(Finding::Skip(format!(
            "the server offers no API version 2 at {v2}: GET answered {}, so the API-version rules are skipped. If its versions live under other prefixes, say so with --api-prefixes",
            second.status()
        )));
    }
    if let Some(wrong) = envelope_mismatch(&fx, &second) {
        return Ok(Finding::violation(
            format!("GET {v2} answers 200 with the v2 envelope of the document: {{\"id\", \"version\", \"modified_at_ms\", \"data\"}}, data the stored document"),
            wrong,
            &second,
        ));
    }
    let Some(v1) = cx.versions().v1(&fx.url) else {
        return Err(Abort::Prerequisite(format!(
            "cannot derive the API version 1 URL of {}: it is not under --base-url",
            fx.url
        )));
    };
    let first = cx.send(Req::get(&v1)).await?;
    if let Some(wrong) = plain_mismatch(&fx, &first) {
        return Ok(Finding::violation(
            format!("GET {v1} answers exactly what the unprefixed URL answers: 200, the stored document and its ETag"),
            wrong,
            &first,
        ));
    }
    Ok(Finding::Pass(format!(
        "{v1} answered the document with its ETag, {v2} its envelope"
    )))
});

check!(api_header, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let reference = cx.send(Req::get(&v2_url(cx, &fx.url)?)).await?;
    let by_header = |version: &str| Req::get(&fx.url).header(API_VERSION_HEADER, version);
    let second = cx.send(by_header(V2)).await?;
    let mismatch = envelope_mismatch(&fx, &second).or_else(|| {
        (second.etag_raw() != reference.etag_raw()).then(|| {
            format!(
                "it answered ETag {}, the v2 URL {}",
                second.etag_raw().unwrap_or("(none)"),
                reference.etag_raw().unwrap_or("(none)")
            )
        })
    });
    if let Some(wrong) = mismatch {
        return Ok(Finding::violation(
            "a GET of the unprefixed URL with Api-Version: 2 answers the v2 envelope with the v2 URL's ETag",
            wrong,
            &second,
        ));
    }
    let first = cx.send(by_header(V1)).await?;
    if let Some(wrong) = plain_mismatch(&fx, &first) {
        return Ok(Finding::violation(
            "a GET of the unprefixed URL with Api-Version: 1 answers the stored document and its ETag",
            wrong,
            &first,
        ));
    }
    let plain = cx.send(Req::get(&fx.url)).await?;
    if let Some(unvaried) = [&second, &plain]
        .into_iter()
        .find(|a| !varies_on_version(a))
    {
        return Ok(Finding::Warn(Evidence {
            expectation: "an unprefixed answer, which depends on Api-Version, says so with Vary: Api-Version (RFC 9110 §12.5.5), so caches keep the representations apart".into(),
            observed: format!(
                "a GET {} answered Vary: {}",
                if unvaried.request.headers.iter().any(|(n, _)| n == API_VERSION_HEADER) {
                    "with Api-Version: 2"
                } else {
                    "without Api-Version"
                },
                unvaried.header("vary").unwrap_or("(none)")
            ),
            exchange: Some(unvaried.clone()),
            write: None,
        }));
    }
    Ok(Finding::Pass(
        "Api-Version: 2 selected the envelope and Api-Version: 1 the document on the unprefixed URL, with Vary: Api-Version".into(),
    ))
});

/// What is wrong with the refusal of an unknown `Api-Version`, if anything.
fn unknown_refusal(answer: &Exchange) -> Option<String> {
    if !(400..500).contains(&answer.status()) {
        return Some(format!("it answered {}", answer.status()));
    }
    if answer.media_type().as_deref() != Some("application/problem+json") {
        return Some(format!(
            "it answered {} as {}",
            answer.status(),
            answer.header("content-type").unwrap_or("(no Content-Type)")
        ));
    }
    let supported: Vec<String> = answer
        .json()
        .and_then(|b| b.get("supported").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    (![V1, V2].iter().all(|v| supported.iter().any(|s| s == v))).then(|| {
        format!("its problem lists supported versions {supported:?}, not \"{V1}\" and \"{V2}\"")
    })
}

check!(api_unknown, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let before = cx.snapshot(&fx.url).await?;
    let expectation = format!(
        "a request with Api-Version: {UNKNOWN} is refused with a 4xx problem+json whose member supported lists \"{V1}\" and \"{V2}\", and changes nothing"
    );
    let read = cx
        .send(Req::get(&fx.url).header(API_VERSION_HEADER, UNKNOWN))
        .await?;
    if let Some(wrong) = unknown_refusal(&read) {
        return Ok(Finding::violation(
            expectation,
            format!("a GET: {wrong}"),
            &read,
        ));
    }
    let write = cx
        .send(
            Req::put(&fx.url)
                .json(&cx.doc(json!({ "n": 2 })))
                .header("If-Match", fx.etag.to_string())
                .header(API_VERSION_HEADER, UNKNOWN),
        )
        .await?;
    if let Some(wrong) = unknown_refusal(&write) {
        return Ok(Finding::violation(
            expectation,
            format!("a PUT with the current If-Match: {wrong}"),
            &write,
        ));
    }
    let after = cx.snapshot(&fx.url).await?;
    if let Some(change) = describe_change(&before, &after) {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the PUT answered {}, and a re-read shows {change}",
                write.status()
            ),
            &write,
        ));
    }
    Ok(Finding::Pass(format!(
        "a GET and a PUT with Api-Version: {UNKNOWN} answered {} and {} listing the supported versions; nothing changed",
        read.status(),
        write.status()
    )))
});

check!(etag_per_representation, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let v2 = v2_url(cx, &fx.url)?;
    let expectation = "the v1 and v2 representations each have their own strong ETag (their bytes differ), and a write gives both new ones";
    let first = cx.send(Req::get(&v2)).await?;
    let written = rewrite(
        cx,
        &fx.url,
        &cx.doc(json!({ "n": 2 })),
        &fx.etag.to_string(),
    )
    .await?;
    let second = cx.send(Req::get(&v2)).await?;
    let tags = [
        ("the first v1", Some(fx.etag.to_string()), None),
        (
            "the first v2",
            first.etag_raw().map(str::to_owned),
            Some(&first),
        ),
        (
            "the written v1",
            written.etag_raw().map(str::to_owned),
            Some(&written),
        ),
        (
            "the written v2",
            second.etag_raw().map(str::to_owned),
            Some(&second),
        ),
    ];
    for (what, tag, answer) in &tags {
        let strong = tag
            .as_deref()
            .and_then(etag::parse)
            .is_some_and(|t| !t.is_weak());
        if !strong {
            return Ok(Finding::Violation(Evidence {
                expectation: expectation.into(),
                observed: format!("{what} ETag is {}", tag.as_deref().unwrap_or("(none)")),
                exchange: answer.cloned(),
                write: None,
            }));
        }
    }
    for (i, (what, tag, answer)) in tags.iter().enumerate() {
        if let Some((other, _, _)) = tags[..i].iter().find(|(_, t, _)| t == tag) {
            return Ok(Finding::Violation(Evidence {
                expectation: expectation.into(),
                observed: format!(
                    "{what} ETag {} equals {other} ETag",
                    tag.as_deref().unwrap_or_default()
                ),
                exchange: answer.cloned(),
                write: None,
            }));
        }
    }
    Ok(Finding::Pass(format!(
        "four distinct strong ETags: v1 {} and v2 {}, then v1 {} and v2 {} after a write",
        fx.etag,
        first.etag_raw().unwrap_or_default(),
        written.etag_raw().unwrap_or_default(),
        second.etag_raw().unwrap_or_default()
    )))
});
