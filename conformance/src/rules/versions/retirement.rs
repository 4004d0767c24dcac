//! The retirement of API version 1: every v1 answer says since when it is deprecated
//! (`Deprecation: @<unix seconds>`, RFC 9745) and when it goes away (`Sunset:
//! <HTTP-date>`, RFC 8594, after the deprecation); v2 answers say neither.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::{rewrite, v2_url};
use crate::http::{Exchange, Req};
use crate::rules::Finding;

/// The `Deprecation` value as a time, when it has RFC 9745's form `@<digits>`.
fn deprecated_at(value: &str) -> Option<SystemTime> {
    let digits = value.trim().strip_prefix('@')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(UNIX_EPOCH + Duration::from_secs(digits.parse().ok()?))
}

/// What is wrong with the retirement fields of a v1 answer, if anything.
fn retirement_mismatch(answer: &Exchange) -> Option<String> {
    let (deprecation, sunset) = (answer.header("deprecation"), answer.header("sunset"));
    let Some(deprecation) = deprecation else {
        return Some("it carries no Deprecation".into());
    };
    let Some(since) = deprecated_at(deprecation) else {
        return Some(format!(
            "Deprecation is {deprecation:?}, not @<unix seconds> (RFC 9745 §2.1)"
        ));
    };
    let Some(sunset) = sunset else {
        return Some("it carries Deprecation but no Sunset".into());
    };
    match httpdate::parse_http_date(sunset.trim()) {
        Err(_) => Some(format!(
            "Sunset is {sunset:?}, not an HTTP-date (RFC 8594 §3)"
        )),
        Ok(end) if end <= since => Some(format!(
            "Sunset {sunset} is not after Deprecation {deprecation}"
        )),
        Ok(_) => None,
    }
}

check!(deprecation_headers, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let read = cx.send(Req::get(&fx.url)).await?;
    if read.header("deprecation").is_none() && read.header("sunset").is_none() {
        return Ok(Finding::Skip(format!(
            "GET {} (API version 1) answered without Deprecation and Sunset: the server has not deprecated version 1, so there is nothing to judge",
            fx.url
        )));
    }
    let expectation = "every v1 answer carries Deprecation: @<unix seconds> (RFC 9745) and Sunset: <HTTP-date> (RFC 8594) after it, and v2 answers carry neither";
    let prefixed = match cx.versions().v1(&fx.url) {
        Some(v1) => Some(cx.send(Req::get(&v1)).await?),
        None => None,
    };
    let written = rewrite(
        cx,
        &fx.url,
        &cx.doc(json!({ "n": 2 })),
        &fx.etag.to_string(),
    )
    .await?;
    for (what, answer) in [
        ("a GET", Some(&read)),
        ("a GET of the /v1 URL", prefixed.as_ref()),
        ("a PUT", Some(&written)),
    ] {
        let Some(answer) = answer else { continue };
        if let Some(wrong) = retirement_mismatch(answer) {
            return Ok(Finding::violation(
                expectation,
                format!("{what}: {wrong}"),
                answer,
            ));
        }
    }
    let second = cx.send(Req::get(&v2_url(cx, &fx.url)?)).await?;
    if let Some(field) = ["deprecation", "sunset"]
        .into_iter()
        .find(|f| second.header(f).is_some())
    {
        return Ok(Finding::violation(
            expectation,
            format!(
                "a GET of the v2 URL answered {field}: {}",
                second.header(field).unwrap_or_default()
            ),
            &second,
        ));
    }
    Ok(Finding::Pass(format!(
        "v1 answers carry Deprecation: {} and Sunset: {}; v2 answers neither",
        read.header("deprecation").unwrap_or_default(),
        read.header("sunset").unwrap_or_default()
    )))
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deprecation_takes_only_rfc_9745_form() {
        assert_eq!(
            deprecated_at("@1780272000"),
            Some(UNIX_EPOCH + Duration::from_secs(1_780_272_000))
        );
        for bad in [
            "1780272000",
            "@",
            "@-1",
            "@1.5",
            "Mon, 01 Jun 2026 00:00:00 GMT",
            "true",
        ] {
            assert_eq!(deprecated_at(bad), None, "{bad}");
        }
    }
}
