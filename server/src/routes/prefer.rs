//! `Prefer: return=representation` (RFC 7240 §4.2) on a conditional write: the client asks that
//! a refusal (412, or 409 in the 409 profile) carry the current representation, so it can
//! re-apply its change without a second round trip to read it. The refusal then has the
//! problem member `current` (the document as a GET in the same API version would return it) next
//! to `current_etag` and the `ETag` header, and `Preference-Applied: return=representation`.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::api_version::Api;
use crate::problem::Problem;
use crate::storage::Document;

/// The response field naming the preferences honoured (RFC 7240 §3).
const PREFERENCE_APPLIED: HeaderName = HeaderName::from_static("preference-applied");

/// The problem member with the current representation.
pub(crate) const CURRENT_MEMBER: &str = "current";

/// Whether any `Prefer` field of the request asks for `return=representation`. Preferences are
/// comma-separated, each `token [= value] *( ; parameter )`; the token is case-insensitive and
/// the value may be quoted. An unreadable field is ignored, as RFC 7240 §2 allows.
pub(crate) fn wants_representation(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|field| field.split(','))
        .any(|preference| {
            let head = preference.split(';').next().unwrap_or_default();
            let (token, value) = head.split_once('=').unwrap_or((head, ""));
            token.trim().eq_ignore_ascii_case("return")
                && value.trim().trim_matches('"') == "representation"
        })
}

impl Api {
    /// `problem` (a refused write of document `id`) with `current`'s representation when the
    /// client asked for it and the document exists; unchanged otherwise.
    pub(crate) fn with_representation(
        self,
        problem: Problem,
        asked: bool,
        id: &str,
        current: Option<&Document>,
    ) -> Problem {
        let Some(doc) = current.filter(|_| asked) else {
            return problem;
        };
        // Stored bodies are JSON by construction; one that is not is left out, not invented.
        match serde_json::from_slice::<Value>(&self.body(id, doc)) {
            Ok(body) => problem.with_member(CURRENT_MEMBER, body).with_header(
                PREFERENCE_APPLIED,
                HeaderValue::from_static("return=representation"),
            ),
            Err(_) => problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asks(values: &[&str]) -> bool {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("prefer", HeaderValue::from_str(v).unwrap());
        }
        wants_representation(&headers)
    }

    #[test]
    fn return_representation_is_found_among_other_preferences() {
        assert!(asks(&["return=representation"]));
        assert!(asks(&["RETURN = \"representation\""]));
        assert!(asks(&[
            "respond-async, wait=10",
            "return=representation; x=1"
        ]));
        assert!(asks(&["handling=lenient, return=representation"]));
    }

    #[test]
    fn other_preferences_do_not_ask_for_it() {
        assert!(!asks(&[]));
        assert!(!asks(&["return=minimal"]));
        assert!(!asks(&["return"]));
        assert!(!asks(&["x-return=representation"]));
        assert!(!asks(&["return=representations"]));
        assert!(!asks(&["wait=representation"]));
    }
}
