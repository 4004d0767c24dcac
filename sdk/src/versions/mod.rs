//! Resource versions: the version token ([`Version`]), a document's history as the server lists
//! it ([`History`]), servers that keep the version in the body ([`VersionField`]), and notices
//! of deprecated API versions ([`DeprecationNotice`]). Pure types and parsing; the requests are
//! in `client/versions/`.

mod conditions;
mod deprecation;
mod field;
mod history;

use std::fmt;

use serde_json::Value;

pub(crate) use conditions::{for_update_of, for_write, Refused};
pub use deprecation::DeprecationNotice;
pub(crate) use deprecation::{notice_for, notice_key, Notices};
pub use field::VersionField;
pub(crate) use history::{parse_history, version_not_found};
pub use history::{History, RetentionPolicy, VersionEntry};

/// A resource's version as the server names it: a number (the reference server's `Version`
/// header and v2 `version` member, a history entry) or an opaque string (Kubernetes'
/// `resourceVersion`, CouchDB's `_rev`, a GitHub `sha`). It is written back exactly as it was
/// read, with the same JSON type.
///
/// ```
/// use ifmatch::Version;
///
/// assert_eq!(Version::from(57).as_u64(), Some(57));
/// assert_eq!(Version::text("3-a1b2").to_string(), "3-a1b2");
/// assert_eq!(Version::text("3-a1b2").as_u64(), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version(Repr);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Repr {
    Number(u64),
    Text(String),
}

impl Version {
    /// A numbered version.
    pub const fn number(n: u64) -> Self {
        Self(Repr::Number(n))
    }

    /// An opaque version token (sent back as a JSON string).
    pub fn text(token: impl Into<String>) -> Self {
        Self(Repr::Text(token.into()))
    }

    /// The number, for a numbered version.
    pub fn as_u64(&self) -> Option<u64> {
        match &self.0 {
            Repr::Number(n) => Some(*n),
            Repr::Text(_) => None,
        }
    }

    /// The token, for an opaque version.
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::Text(text) => Some(text),
            Repr::Number(_) => None,
        }
    }

    /// The JSON value written into a body: a number or a string, as it was read.
    pub fn to_json(&self) -> Value {
        match &self.0 {
            Repr::Number(n) => Value::from(*n),
            Repr::Text(text) => Value::from(text.as_str()),
        }
    }

    /// A version read from a body: a non-negative integer or a string; anything else is none.
    pub(crate) fn from_json(value: &Value) -> Option<Self> {
        match value {
            Value::Number(n) => n.as_u64().map(Self::number),
            Value::String(s) => Some(Self::text(s.as_str())),
            _ => None,
        }
    }

    /// A version from a `Version` response header: digits are a number, else the text.
    pub(crate) fn from_header(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        Some(raw.parse().map_or_else(|_| Self::text(raw), Self::number))
    }
}

impl From<u64> for Version {
    fn from(n: u64) -> Self {
        Self::number(n)
    }
}

impl From<&str> for Version {
    fn from(token: &str) -> Self {
        Self::text(token)
    }
}

impl From<String> for Version {
    fn from(token: String) -> Self {
        Self::text(token)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Number(n) => write!(f, "{n}"),
            Repr::Text(text) => f.write_str(text),
        }
    }
}

/// The `Version` response header (the reference server sends it on every answer about a
/// document).
pub(crate) const VERSION_HEADER: &str = "version";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_keep_their_json_type() {
        for value in [json!(57), json!("12345"), json!("3-abc")] {
            assert_eq!(Version::from_json(&value).unwrap().to_json(), value);
        }
        for not_a_version in [json!(-1), json!(1.5), json!(null), json!({}), json!([1])] {
            assert_eq!(Version::from_json(&not_a_version), None, "{not_a_version}");
        }
    }

    #[test]
    fn header_digits_are_numbers() {
        assert_eq!(Version::from_header(" 41 "), Some(Version::number(41)));
        assert_eq!(Version::from_header("r7"), Some(Version::text("r7")));
        assert_eq!(Version::from_header(""), None);
    }
}
