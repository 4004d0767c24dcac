//! Error bodies are RFC 9457 problem details, and refusals name the current ETag.

use serde_json::{json, Value};

use super::{Abort, Cx, Finding};
use crate::http::{Exchange, Req};

const NOT_CURRENT: &str = "\"ifmatch-conformance-not-current\"";

/// Provokes a 404, a 412 (or 409) and a 400 and returns the error responses.
async fn error_samples(cx: &Cx) -> Result<Vec<Exchange>, Abort> {
    let missing = cx.send(Req::get(&cx.fresh_url())).await?;
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let refused = cx
        .send(
            Req::put(&fx.url)
                .json(&cx.doc(json!({ "n": 2 })))
                .header("If-Match", NOT_CURRENT),
        )
        .await?;
    let malformed = cx
        .send(
            Req::put(&fx.url)
                .raw_body("application/json", "{\"n\": ".into())
                .header("If-Match", fx.etag.to_string()),
        )
        .await?;
    let errors: Vec<Exchange> = [missing, refused, malformed]
        .into_iter()
        .filter(|e| e.status() >= 400)
        .collect();
    if errors.is_empty() {
        return Err(Abort::Prerequisite(
            "none of the provoking requests got an error answer".into(),
        ));
    }
    Ok(errors)
}

fn statuses(errors: &[Exchange]) -> String {
    errors
        .iter()
        .map(|e| e.status().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

check!(media_type, |cx| {
    let errors = error_samples(cx).await?;
    for e in &errors {
        if e.media_type().as_deref() != Some("application/problem+json") || e.json().is_none() {
            return Ok(Finding::violation(
                "every 4xx/5xx body is application/problem+json (RFC 9457)",
                format!(
                    "a {} came as {} ",
                    e.status(),
                    e.header("content-type").unwrap_or("(no Content-Type)")
                ),
                e,
            ));
        }
    }
    Ok(Finding::Pass(format!(
        "problem+json for {}",
        statuses(&errors)
    )))
});

check!(status_member, |cx| {
    let errors = error_samples(cx).await?;
    for e in &errors {
        let status = e.json().and_then(|b| b.get("status").cloned());
        if status != Some(Value::from(e.status())) {
            return Ok(Finding::violation(
                format!(
                    "the problem's \"status\" member equals the HTTP status {}",
                    e.status()
                ),
                format!(
                    "\"status\" is {}",
                    status.map_or("missing".into(), |s| s.to_string())
                ),
                e,
            ));
        }
    }
    Ok(Finding::Pass(format!(
        "\"status\" matched for {}",
        statuses(&errors)
    )))
});

check!(type_member, |cx| {
    let errors = error_samples(cx).await?;
    for e in &errors {
        let ty = e
            .json()
            .and_then(|b| b.get("type").and_then(Value::as_str).map(str::to_owned));
        let is_uri = ty.as_deref().is_some_and(|t| {
            t.split_once(':').is_some_and(|(scheme, rest)| {
                !rest.is_empty()
                    && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            })
        });
        if !is_uri {
            return Ok(Finding::violation(
                "each problem names its kind with a \"type\" URI a client can branch on",
                format!(
                    "\"type\" is {}",
                    ty.map_or("missing".into(), |t| format!("{t:?}"))
                ),
                e,
            ));
        }
    }
    Ok(Finding::Pass(format!(
        "\"type\" URIs present for {}",
        statuses(&errors)
    )))
});

check!(conflict_current_etag, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let refused = cx
        .send(
            Req::put(&fx.url)
                .json(&cx.doc(json!({ "n": 2 })))
                .header("If-Match", NOT_CURRENT),
        )
        .await?;
    if !matches!(refused.status(), 409 | 412) {
        return Err(Abort::Prerequisite(format!(
            "a PUT with a non-matching If-Match was not refused (status {})",
            refused.status()
        )));
    }
    let current = fx.etag.to_string();
    let header = refused.etag_raw().map(str::to_owned);
    let member = refused.json().and_then(|b| {
        b.get("current_etag")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let named: Vec<&String> = header.iter().chain(member.iter()).collect();
    Ok(
        if named.iter().any(|t| **t == current) && named.iter().all(|t| **t == current) {
            Finding::Pass(format!(
                "the {} names the current ETag {current}",
                refused.status()
            ))
        } else {
            Finding::violation(
            format!("the {} carries the current ETag {current} (ETag header or \"current_etag\" member)", refused.status()),
            format!(
                "ETag header {}, current_etag {}",
                header.as_deref().unwrap_or("absent"),
                member.as_deref().unwrap_or("absent")
            ),
            &refused,
        )
        },
    )
});
