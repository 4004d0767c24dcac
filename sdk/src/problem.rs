//! RFC 9457 problem details, parsed leniently.

use serde_json::{Map, Value};

use crate::EntityTag;

/// The problem type the reference server uses for a stale version answered with 409.
pub const VERSION_CONFLICT_TYPE: &str = "urn:ifmatch:problem:version-conflict";
/// The problem type the reference server uses for a failed precondition (412).
pub const PRECONDITION_FAILED_TYPE: &str = "urn:ifmatch:problem:precondition-failed";

/// A problem details body (`application/problem+json`, RFC 9457).
///
/// Members of the wrong JSON type are ignored rather than failing the parse, as RFC 9457 §3.1
/// asks consumers to do; unknown members are kept in [`Problem::extensions`].
///
/// ```
/// use ifmatch::Problem;
///
/// let body = br#"{"type":"urn:ifmatch:problem:version-conflict","status":409,"current_etag":"\"8\"","hint":1}"#;
/// let problem = Problem::from_json(body).expect("an object");
/// assert!(problem.is_version_conflict());
/// assert_eq!(problem.current_etag.unwrap().opaque(), "8");
/// assert_eq!(problem.extensions["hint"], 1);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Problem {
    /// `type`: a URI naming the problem kind; `about:blank` when absent.
    pub type_: String,
    /// `title`: a short human summary of the problem kind.
    pub title: Option<String>,
    /// `status`: the HTTP status code the server meant.
    pub status: Option<u16>,
    /// `detail`: a human explanation of this occurrence.
    pub detail: Option<String>,
    /// `instance`: a URI for this occurrence.
    pub instance: Option<String>,
    /// `current_etag` extension: the resource's current validator, sent with 409/412.
    pub current_etag: Option<EntityTag>,
    /// Every other member, as sent.
    pub extensions: Map<String, Value>,
}

impl Problem {
    /// Parses a JSON object body; `None` when the body is not a JSON object.
    pub fn from_json(body: &[u8]) -> Option<Self> {
        match serde_json::from_slice::<Value>(body).ok()? {
            Value::Object(map) => Some(Self::from_map(map)),
            _ => None,
        }
    }

    fn from_map(mut map: Map<String, Value>) -> Self {
        let mut take_str = |key: &str| match map.remove(key) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        let type_ = take_str("type").unwrap_or_else(|| "about:blank".to_owned());
        let title = take_str("title");
        let detail = take_str("detail");
        let instance = take_str("instance");
        let current_etag = take_str("current_etag").and_then(|raw| parse_loose_etag(&raw));
        let status = map
            .remove("status")
            .and_then(|v| v.as_u64())
            .and_then(|n| u16::try_from(n).ok());
        Self {
            type_,
            title,
            status,
            detail,
            instance,
            current_etag,
            extensions: map,
        }
    }

    /// Whether the problem type says the write lost a version race (409 or 412 from a stale
    /// validator). A `current_etag` member alone does not: a business-rule 409 may carry one.
    pub fn is_version_conflict(&self) -> bool {
        self.type_ == VERSION_CONFLICT_TYPE
            || self.type_ == PRECONDITION_FAILED_TYPE
            || self.type_.ends_with("version-conflict")
    }

    /// Whether the problem type says a lock token was not (or no longer) valid: a lock lost,
    /// not a version race.
    pub fn is_lock_token_invalid(&self) -> bool {
        self.type_.ends_with("lock-token-invalid")
    }

    /// The problem as a JSON object (for logging or handing to JavaScript).
    pub fn to_json(&self) -> Value {
        let mut map = self.extensions.clone();
        map.insert("type".into(), self.type_.clone().into());
        let optional = [
            ("title", self.title.clone().map(Value::from)),
            ("status", self.status.map(Value::from)),
            ("detail", self.detail.clone().map(Value::from)),
            ("instance", self.instance.clone().map(Value::from)),
            (
                "current_etag",
                self.current_etag.as_ref().map(|t| t.to_string().into()),
            ),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                map.insert(key.into(), value);
            }
        }
        Value::Object(map)
    }
}

/// Servers write `current_etag` either as a full tag (`"\"7\""`) or bare (`"7"`); accept both.
fn parse_loose_etag(raw: &str) -> Option<EntityTag> {
    raw.parse()
        .ok()
        .or_else(|| EntityTag::strong(raw.to_owned()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_type_defaults_to_about_blank() {
        let p = Problem::from_json(br#"{"title":"Nope"}"#).unwrap();
        assert_eq!(p.type_, "about:blank");
        assert_eq!(p.title.as_deref(), Some("Nope"));
        assert!(!p.is_version_conflict());
    }

    #[test]
    fn wrong_member_types_are_ignored_not_fatal() {
        let p = Problem::from_json(br#"{"type":5,"status":"409","detail":["x"]}"#).unwrap();
        assert_eq!(p.type_, "about:blank");
        assert_eq!(p.status, None);
        assert_eq!(p.detail, None);
    }

    #[test]
    fn non_object_bodies_are_not_problems() {
        assert!(Problem::from_json(b"[1]").is_none());
        assert!(Problem::from_json(b"not json").is_none());
        assert!(Problem::from_json(b"").is_none());
    }

    #[test]
    fn current_etag_accepts_quoted_and_bare_forms() {
        let quoted = Problem::from_json(br#"{"current_etag":"\"5\""}"#).unwrap();
        let bare = Problem::from_json(br#"{"current_etag":"5"}"#).unwrap();
        assert_eq!(quoted.current_etag, bare.current_etag);
        assert!(!quoted.is_version_conflict(), "a member alone is no type");
    }

    #[test]
    fn to_json_round_trips_members() {
        let body = br#"{"type":"urn:x","title":"T","status":412,"detail":"D","instance":"/i","current_etag":"\"1\"","extra":true}"#;
        let p = Problem::from_json(body).unwrap();
        let expected: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(p.to_json(), expected);
    }
}
