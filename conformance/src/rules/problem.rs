//! Error bodies have the declared format (the `errors` profile: RFC 9457 problem
//! details by default), and refusals name the current ETag (`core`).

use serde_json::{json, Value};

use super::context::Write;
use super::if_match::stale_setup;
use super::{Abort, Cx, Finding};
use crate::http::{Exchange, Req};
use crate::target::{ErrorFormat, VersionSend};

/// The skip of a rule `[errors] format` makes inapplicable, or `None` to judge it.
/// `problem_only` rules judge problem+json members; the media-type rule judges `json` too.
fn not_applicable(cx: &Cx, problem_only: bool) -> Option<Finding> {
    match cx.shape().errors.format {
        ErrorFormat::ProblemJson => None,
        ErrorFormat::Json if !problem_only => None,
        ErrorFormat::Json => Some(Finding::Skip(
            "not applicable to json errors ([errors] format = \"json\" declares any JSON error body, not problem+json)".into(),
        )),
        ErrorFormat::Any => Some(Finding::Skip(
            "not applicable: [errors] format = \"any\" does not judge error bodies".into(),
        )),
    }
}

/// Whether a media type is JSON: `application/json` or any `+json` type.
fn is_json_media_type(media: Option<&str>) -> bool {
    media.is_some_and(|m| {
        m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
    })
}

pub(super) const NOT_CURRENT: &str = "\"ifmatch-conformance-not-current\"";

/// Provokes a 404, a 412 (or 409) and a 400 and returns the error responses.
/// Without a usable test resource (no strong ETag, say), the 404 and a malformed
/// create still show what errors look like.
async fn error_samples(cx: &Cx) -> Result<Vec<Exchange>, Abort> {
    let mut sent = vec![cx.send(Req::get(&cx.fresh_url())).await?];
    match cx.fixture(cx.doc(json!({ "n": 1 }))).await {
        Ok(fx) => {
            let refused = Req::put(&fx.url)
                .json(&cx.doc(json!({ "n": 2 })))
                .header("If-Match", NOT_CURRENT);
            sent.push(cx.send(refused).await?);
            let malformed = Req::put(&fx.url)
                .raw_body("application/json", "{\"n\": ".into())
                .header("If-Match", fx.etag.to_string());
            sent.push(cx.send(malformed).await?);
        }
        Err(Abort::Prerequisite(_)) => {
            let malformed =
                Req::post(cx.collection_url()).raw_body("application/json", "{\"n\": ".into());
            let answer = cx.send(malformed).await?;
            // A server that took it made a resource: delete it afterwards.
            if let Some(url) = answer
                .header("location")
                .filter(|_| answer.status() / 100 == 2)
                .and_then(|loc| super::resolve(cx.collection_url(), loc))
            {
                cx.remember(url);
            }
            sent.push(answer);
        }
        Err(e) => return Err(e),
    }
    let errors: Vec<Exchange> = sent.into_iter().filter(|e| e.status() >= 400).collect();
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
    if let Some(skip) = not_applicable(cx, false) {
        return Ok(skip);
    }
    let errors = error_samples(cx).await?;
    if cx.shape().errors.format == ErrorFormat::Json {
        for e in &errors {
            if !is_json_media_type(e.media_type().as_deref()) || e.json().is_none() {
                return Ok(Finding::violation(
                    "every 4xx/5xx body is JSON (application/json or a +json type that parses), as [errors] format = \"json\" declares",
                    format!(
                        "a {} came as {}{}",
                        e.status(),
                        e.header("content-type").unwrap_or("(no Content-Type)"),
                        if e.json().is_none() { " and does not parse as JSON" } else { "" }
                    ),
                    e,
                ));
            }
        }
        return Ok(Finding::Pass(format!(
            "JSON error bodies for {}",
            statuses(&errors)
        )));
    }
    for e in &errors {
        if e.media_type().as_deref() != Some("application/problem+json") || e.json().is_none() {
            let json = is_json_media_type(e.media_type().as_deref()) && e.json().is_some();
            return Ok(Finding::violation(
                "every 4xx/5xx body is application/problem+json (RFC 9457)",
                format!(
                    "a {} came as {}{}",
                    e.status(),
                    e.header("content-type").unwrap_or("(no Content-Type)"),
                    if json {
                        "; if JSON errors of your own are intended, declare [errors] format = \"json\""
                    } else {
                        ""
                    }
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
    if let Some(skip) = not_applicable(cx, true) {
        return Ok(skip);
    }
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
    if let Some(skip) = not_applicable(cx, true) {
        return Ok(skip);
    }
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
    // A stale write sent the way the target takes versions: an invented
    // If-Match tag, or a stale version in the body or query (`[version] send`).
    // A weak ETag is enough: the refusal is what is judged.
    let (url, refused, what) = if cx.shape().version.send == VersionSend::IfMatch {
        let fx = cx.fixture_allowing_weak(cx.doc(json!({ "n": 1 }))).await?;
        let put = Req::put(&fx.url)
            .json(&cx.doc(json!({ "n": 2 })))
            .header("If-Match", NOT_CURRENT);
        (fx.url, cx.send(put).await?, "a non-matching If-Match")
    } else {
        let (url, stale, _) = stale_setup(cx).await?;
        let put = cx
            .write(&url, Write::Put(&cx.doc(json!({ "n": 3 }))), Some(&stale))
            .await?;
        (url, put, "a stale version")
    };
    let status = refused.status();
    if !matches!(status, 409 | 412) {
        return Err(Abort::Prerequisite(format!(
            "a PUT with {what} was not refused (status {status}; see core.if-match.honoured)"
        )));
    }
    let header = refused.etag_raw().map(str::to_owned);
    let member = refused.json().and_then(|b| {
        b.get("current_etag")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    if header.is_none() && member.is_none() && cx.shape().version.send != VersionSend::IfMatch {
        return Err(Abort::Prerequisite(format!(
            "not applicable: the {status} carries no ETag header and no \"current_etag\" member, and this target's writes carry the version in {}, not If-Match ([version] send), so no ETag is expected there",
            cx.version_carrier()
        )));
    }
    // What the refusal names counts as current only when a re-read agrees.
    let reread = cx.snapshot(&url).await?;
    let Some(current) = reread.etag.clone() else {
        return Err(Abort::Prerequisite(format!(
            "a re-read after the refusal answered {} without an ETag, so there is no current ETag to compare with",
            reread.status
        )));
    };
    let expectation = format!(
        "the {status} names the resource's current ETag {current} (ETag header or \"current_etag\" member), as a re-read shows it"
    );
    let wrong = [("ETag header", &header), ("current_etag member", &member)]
        .into_iter()
        .find_map(|(what, named)| named.as_ref().filter(|t| **t != current).map(|t| (what, t)));
    Ok(match (wrong, header.is_some() || member.is_some()) {
        (Some((what, named)), _) => Finding::violation_after(
            expectation,
            format!(
                "the {status}'s {what} {named} is not the current ETag: a re-read answered {current}. A client that retries with it is refused again; {}",
                body_tag(named, &refused)
            ),
            &refused,
            &reread.exchange,
        ),
        (None, false) => Finding::violation(
            expectation,
            format!("the {status} names no ETag: no ETag header and no \"current_etag\" member"),
            &refused,
        ),
        (None, true) => Finding::Pass(format!(
            "the {status} names the current ETag {current}, as a re-read confirms"
        )),
    })
});

/// Why a refusal's tag is not the resource's: when its opaque part starts with
/// the error body's length in hex (`W/"39-…"`, as Express and other frameworks
/// tag every answer), it is a tag of the error body itself.
fn body_tag(named: &str, refused: &Exchange) -> String {
    let opaque = named.trim_start_matches("W/").trim_matches('"');
    let len = refused.response.body.len();
    match opaque.split_once('-') {
        Some((hex, _)) if usize::from_str_radix(hex, 16) == Ok(len) && len > 0 => format!(
            "it is a tag of the error body itself ({hex} is the error body's length, {len} bytes, in hex): the server's framework tags every answer, and the refusal's tag names the error, not the resource"
        ),
        _ => "it may be a tag of the error body itself".into(),
    }
}
