//! A refusal carries the current representation when the client asks for it
//! (`Prefer: return=representation`, RFC 7240 §4.2), so a client can re-apply
//! its change without a second round trip to read the document (`core`, SHOULD).

use serde_json::{json, Value};

use super::context::{differences, summary};
use super::problem::NOT_CURRENT;
use super::{Abort, Finding};
use crate::http::Req;
use crate::target::VersionSend;

/// The problem member that carries the current representation.
const MEMBER: &str = "current";

check!(conflict_representation, |cx| {
    if cx.shape().version.send != VersionSend::IfMatch {
        return Ok(Finding::Skip(format!(
            "not applicable: this target's writes carry the version in {}, not If-Match ([version] send); the rule asks a refused If-Match write for the current representation",
            cx.version_carrier()
        )));
    }
    let fx = cx.fixture_allowing_weak(cx.doc(json!({ "n": 1 }))).await?;
    let put = Req::put(&fx.url)
        .json(&cx.doc(json!({ "n": 2 })))
        .header("If-Match", NOT_CURRENT)
        .header("Prefer", "return=representation");
    let refused = cx.send(put).await?;
    let status = refused.status();
    if !matches!(status, 409 | 412) {
        return Err(Abort::Prerequisite(format!(
            "a PUT with a non-matching If-Match was not refused (status {status}; see core.if-match.honoured)"
        )));
    }
    let reread = cx.snapshot(&fx.url).await?;
    let Some(current) = reread.body.clone() else {
        return Err(Abort::Prerequisite(format!(
            "a re-read after the refusal answered {} without a JSON body, so there is no representation to compare with",
            reread.status
        )));
    };
    let expectation = format!(
        "asked with Prefer: return=representation, the {status} carries the current representation (problem member \"{MEMBER}\"), as a re-read shows it, so the client re-applies its change without reading again"
    );
    let carried = refused.json().and_then(|body| body.get(MEMBER).cloned());
    let applied = refused
        .header("preference-applied")
        .is_some_and(|v| v.to_ascii_lowercase().contains("return=representation"));
    // Judged by content, as stored bodies are: members the target says are not compared
    // (timestamps a refusal may touch, say) are left out.
    let diffs = carried
        .as_ref()
        .map(|member| differences(&current, member, &cx.ignored_pointers()));
    Ok(match carried {
        None => Finding::violation(
            expectation,
            format!(
                "the {status} has no \"{MEMBER}\" member{}: every refused write costs the client another GET",
                if applied { " although it says Preference-Applied: return=representation" } else { "" }
            ),
            &refused,
        ),
        Some(member) if diffs.as_ref().is_some_and(|d| !d.is_empty()) => Finding::violation_after(
            expectation,
            format!(
                "the {status}'s \"{MEMBER}\" is {} but a re-read answered {} ({}): a client that re-applies its change to it is refused again, or overwrites what it did not see",
                brief(&member),
                brief(&current),
                summary(diffs.as_deref().unwrap_or_default())
            ),
            &refused,
            &reread.exchange,
        ),
        Some(_) => Finding::Pass(format!(
            "the {status} carries the current representation in \"{MEMBER}\", as a re-read confirms{}",
            if applied { ", with Preference-Applied: return=representation" } else { "" }
        )),
    })
});

/// A JSON value in at most 80 characters, for a message.
fn brief(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 80 {
        return text;
    }
    let cut: String = text.chars().take(77).collect();
    format!("{cut}...")
}
