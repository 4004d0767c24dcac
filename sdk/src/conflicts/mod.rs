//! Conflict notifications and resolution, as plain data: the records a server keeps of refused
//! conditional writes, the filter, the events of the stream, and the subscription's decisions
//! (deliver each event once, in order; when to reconnect). The I/O lives with the client in
//! `client/conflicts/`; the server's shape is `docs/server.md`, "Conflict notifications".

mod filter;
mod record;
pub(crate) mod track;

use serde_json::Value;

pub use filter::ConflictFilter;
pub use record::{
    Choice, ConflictEvent, ConflictPage, ConflictRecord, ConflictState, Rejected, ResolutionRecord,
    VersionRef,
};

/// How to resolve a conflict ([`crate::Conflicts::resolve`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Resolution {
    /// Apply the refused write now (PUT: its body; PATCH: its merge patch on the current
    /// document; DELETE: delete). Not possible when the server did not keep the body.
    Mine,
    /// Keep the current document; nothing is written.
    Theirs,
    /// Write this document instead (PUT semantics).
    Merged(Value),
}

impl Resolution {
    /// The request body's `resolution` (and `document`) members.
    pub(crate) fn to_json(&self) -> serde_json::Map<String, Value> {
        let mut body = serde_json::Map::new();
        let choice = match self {
            Self::Mine => "mine",
            Self::Theirs => "theirs",
            Self::Merged(doc) => {
                body.insert("document".into(), doc.clone());
                "merged"
            }
        };
        body.insert("resolution".into(), choice.into());
        body
    }
}

/// The default path of the conflict log (the reference server's).
pub const DEFAULT_CONFLICTS_PATH: &str = "/conflicts";

/// A conflict id as one path segment (ids are the server's; keep any byte of them literal).
pub(crate) fn segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn resolutions_serialize_as_the_server_expects() {
        assert_eq!(
            Value::Object(Resolution::Mine.to_json()),
            json!({"resolution": "mine"})
        );
        assert_eq!(
            Value::Object(Resolution::Merged(json!({"a": 1})).to_json()),
            json!({"resolution": "merged", "document": {"a": 1}})
        );
    }

    #[test]
    fn ids_are_one_path_segment() {
        assert_eq!(segment("c-12"), "c-12");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }
}
