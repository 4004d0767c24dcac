//! A refusal that carries the current representation: `update()` asks for it with
//! `Prefer: return=representation` (RFC 7240) on its writes, and a server that honours it puts
//! the current document in the problem member `current` of its 412/409, next to `current_etag`.
//! The re-read after a version conflict then costs nothing.
//!
//! Only a pair that is safe to write on is used: a JSON document and a strong, well-formed tag
//! that the body and the `ETag` header (when both are sent) agree on (`Error::current_etag`
//! already requires that). Anything else, or a client with a version field (whose version lives
//! in the body and is read by its own rules), falls back to a GET.

use std::sync::Arc;

use http::HeaderValue;
use serde_json::Value;

use crate::{EntityTag, Error};

/// The request field that asks for the representation.
pub(super) const PREFER: &str = "prefer";

/// Its value.
pub(super) fn prefer_value() -> HeaderValue {
    HeaderValue::from_static("return=representation")
}

/// The problem member holding the representation.
const MEMBER: &str = "current";

/// The current document and its strong tag, when `err` carries a usable pair.
pub(super) fn carried(err: &Error) -> Option<(Arc<Value>, EntityTag)> {
    let etag = err.current_etag().filter(|tag| !tag.is_weak())?;
    let body = err.problem()?.extensions.get(MEMBER)?;
    // `null` would be "no document", which a refusal of an update never means.
    (!body.is_null()).then(|| (Arc::new(body.clone()), etag.clone()))
}

#[cfg(test)]
mod tests {
    use http::{Method, StatusCode};
    use serde_json::json;

    use super::*;
    use crate::Problem;

    fn conflict(body: &str, current_etag: Option<&str>) -> Error {
        Error::Conflict {
            method: Method::PUT,
            url: "http://h/items/1".into(),
            status: StatusCode::PRECONDITION_FAILED,
            attempts: 1,
            create_only: false,
            current_etag: current_etag.map(|t| t.parse().unwrap()),
            problem: Problem::from_json(body.as_bytes()).map(Box::new),
            ended_update: None,
        }
    }

    #[test]
    fn a_strong_tag_and_a_document_are_used() {
        let err = conflict(
            r#"{"status":412,"current_etag":"\"7\"","current":{"n":7}}"#,
            Some("\"7\""),
        );
        let (body, etag) = carried(&err).expect("a usable pair");
        assert_eq!(*body, json!({"n": 7}));
        assert_eq!(etag.to_string(), "\"7\"");
    }

    #[test]
    fn weak_missing_or_absent_pairs_fall_back_to_a_read() {
        let doc = r#"{"status":412,"current":{"n":7}}"#;
        assert!(carried(&conflict(doc, None)).is_none(), "no tag");
        assert!(
            carried(&conflict(doc, Some("W/\"7\""))).is_none(),
            "weak tag"
        );
        let no_body = r#"{"status":412,"current_etag":"\"7\""}"#;
        assert!(carried(&conflict(no_body, Some("\"7\""))).is_none());
        let null = r#"{"status":412,"current":null}"#;
        assert!(carried(&conflict(null, Some("\"7\""))).is_none());
        assert!(carried(&conflict("not json", Some("\"7\""))).is_none());
    }
}
