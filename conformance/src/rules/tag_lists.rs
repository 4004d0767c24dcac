//! Lists of entity tags and weak comparison in conditional requests
//! (RFC 9110 §13.1.1: `If-Match` is true when *any* listed tag matches, by strong
//! comparison; §13.1.2: `If-None-Match` is false when any listed tag matches, by
//! weak comparison).

use serde_json::json;

use super::{Abort, Cx, Finding, Fixture};
use crate::http::{Exchange, Req};

const OTHER: &str = "\"ifmatch-conformance-other\"";
const BOGUS: &str = "\"ifmatch-conformance-bogus\"";

/// The fixture of a rule about ETag headers, or the skip that says why there is
/// none: the server must send a strong ETag (wherever `[version]` says the
/// version lives, `If-None-Match` is about ETags).
async fn etag_fixture(cx: &Cx) -> Result<Fixture, Abort> {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    if !fx.has_etag {
        return Err(Abort::Prerequisite(format!(
            "not applicable: the server sends no strong ETag (its version is read from {}); this rule is about ETag headers",
            cx.shape().version.read
        )));
    }
    Ok(fx)
}

/// Judges a conditional GET that must answer 304 because `header` matches.
fn expect_304(get: &Exchange, header: &str, why: &str) -> Finding {
    if get.status() == 304 && get.response.body.is_empty() {
        Finding::Pass(format!(
            "GET with If-None-Match: {header} answered 304 without a body"
        ))
    } else {
        Finding::violation(
            format!(
                "GET with If-None-Match: {header} answers 304 Not Modified without a body: {why}"
            ),
            if get.status() == 304 {
                "304 with a body".to_owned()
            } else {
                format!("the server answered {} instead of 304", get.status())
            },
            get,
        )
    }
}

check!(inm_weak_comparison, |cx| {
    let fx = etag_fixture(cx).await?;
    let weak = format!("W/\"{}\"", fx.etag.opaque());
    let get = cx
        .send(Req::get(&fx.url).header("If-None-Match", weak.clone()))
        .await?;
    Ok(expect_304(
        &get,
        &weak,
        &format!(
            "If-None-Match uses weak comparison (RFC 9110 §13.1.2), so {weak} matches the current {}",
            fx.etag
        ),
    ))
});

check!(inm_list, |cx| {
    let fx = etag_fixture(cx).await?;
    let list = format!("{OTHER}, {}", fx.etag);
    let get = cx
        .send(Req::get(&fx.url).header("If-None-Match", list.clone()))
        .await?;
    Ok(expect_304(
        &get,
        &list,
        "one member of the list is the current ETag, and any member matching is enough (RFC 9110 §13.1.2)",
    ))
});

check!(if_match_list, |cx| {
    let fx = etag_fixture(cx).await?;
    cx.needs_if_match(fx.has_etag)?;
    let list = format!("{BOGUS}, {}", fx.etag);
    let body = cx.doc(json!({ "n": 2 }));
    let put = cx
        .send(
            Req::put(&fx.url)
                .json(&body)
                .header("If-Match", list.clone()),
        )
        .await?;
    let expectation = format!(
        "PUT with If-Match: {list} succeeds (2xx) and stores the body: one member is the current ETag, and any member matching is enough (RFC 9110 §13.1.1)"
    );
    if put.status() / 100 != 2 {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the server answered {}: it refused a list whose second member is current",
                put.status()
            ),
            &put,
        ));
    }
    let read = cx.snapshot(&fx.url).await?;
    Ok(match cx.not_stored(&body, read.body.as_ref()) {
        None => Finding::Pass(format!(
            "PUT with a two-tag If-Match answered {} and the body was stored",
            put.status()
        )),
        Some(missing) => Finding::violation_after(
            expectation,
            format!(
                "PUT answered {} but a re-read does not show what was sent: {missing}",
                put.status()
            ),
            &put,
            &read.exchange,
        ),
    })
});
