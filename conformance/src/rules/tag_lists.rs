//! Lists of entity tags and weak comparison in conditional requests
//! (RFC 9110 §13.1.1: `If-Match` is true when *any* listed tag matches, by strong
//! comparison; §13.1.2: `If-None-Match` is false when any listed tag matches, by
//! weak comparison).

use serde_json::{json, Value};

use super::{Abort, Cx, Finding, Fixture};
use crate::http::{Exchange, Req};

const OTHER: &str = "\"ifmatch-conformance-other\"";
const BOGUS: &str = "\"ifmatch-conformance-bogus\"";

/// Whether every member of `sent` is in `stored` with the same value (members the
/// server adds itself, such as `id` or timestamps, are allowed).
pub(super) fn stores_members(sent: &Value, stored: Option<&Value>) -> bool {
    match (sent, stored) {
        (Value::Object(sent), Some(Value::Object(stored))) => {
            sent.iter().all(|(k, v)| stored.get(k) == Some(v))
        }
        (sent, stored) => stored == Some(sent),
    }
}

/// The fixture of a rule about ETag headers, or the skip that says why there is none.
async fn etag_fixture(cx: &Cx) -> Result<Fixture, Abort> {
    if !cx.shape().uses_etags() {
        return Err(Abort::Prerequisite(
            "not applicable: this target's version is not an ETag sent back in If-Match ([version] read/send)".into(),
        ));
    }
    cx.fixture(cx.doc(json!({ "n": 1 }))).await
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
    Ok(if stores_members(&body, read.body.as_ref()) {
        Finding::Pass(format!(
            "PUT with a two-tag If-Match answered {} and the body was stored",
            put.status()
        ))
    } else {
        Finding::violation_after(
            expectation,
            format!(
                "PUT answered {} but a re-read shows a body without the members sent",
                put.status()
            ),
            &put,
            &read.exchange,
        )
    })
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_members_may_be_extended_but_not_changed() {
        let sent = json!({ "a": 1, "b": { "c": [1, 2] } });
        assert!(stores_members(&sent, Some(&sent)));
        let extended = json!({ "a": 1, "b": { "c": [1, 2] }, "id": 7 });
        assert!(stores_members(&sent, Some(&extended)));
        let changed = json!({ "a": 2, "b": { "c": [1, 2] } });
        assert!(!stores_members(&sent, Some(&changed)));
        assert!(!stores_members(&sent, Some(&json!({ "a": 1 }))));
        assert!(!stores_members(&sent, None));
    }
}
