//! One conflict record, as `GET /conflicts/{id}` and the stream show it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::etag::EntityTag;

/// Whether a conflict still waits for a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum State {
    Open,
    Resolved,
}

/// A version as a record names it: its tag and number (either may be unknown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct VersionRef {
    pub(crate) etag: Option<String>,
    pub(crate) version: Option<u64>,
}

impl VersionRef {
    /// The version `etag` names, as its v1 tag: records use one representation whatever API
    /// version the refused request used.
    pub(crate) fn of(etag: &EntityTag) -> Self {
        let tag = v1_tag(etag);
        Self {
            version: version_number(&tag),
            etag: Some(tag),
        }
    }
}

/// `etag` in its v1 text form (a v2 tag `"e-7.v2"` names the same version as `"e-7"`).
pub(crate) fn v1_tag(etag: &EntityTag) -> String {
    let text = etag.to_string();
    match text.strip_suffix(".v2\"") {
        Some(head) => format!("{head}\""),
        None => text,
    }
}

/// The version number of a tag's text: the digits after the last `-` (`None` when the tag
/// is not one this server made, e.g. `*`).
pub(crate) fn version_number(tag: &str) -> Option<u64> {
    let opaque = tag.trim_start_matches("W/").trim_matches('"');
    let opaque = opaque.strip_suffix(".v2").unwrap_or(opaque);
    opaque.rsplit_once('-')?.1.parse().ok()
}

/// What the refused request tried to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Rejected {
    pub(crate) content_type: Option<String>,
    /// The document or merge patch; `None` for a delete or when `truncated`.
    pub(crate) body: Option<Value>,
    pub(crate) truncated: bool,
}

/// How a conflict was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Choice {
    Mine,
    Theirs,
    Merged,
}

/// The `resolution` member of a resolved record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Resolution {
    pub(crate) choice: Choice,
    /// Who resolved it (`None`: anonymous, on a server without tokens).
    pub(crate) by: Option<String>,
    pub(crate) at_ms: u64,
    /// The document after the resolution (`None`: deleted or absent).
    pub(crate) etag: Option<String>,
    pub(crate) version: Option<u64>,
}

/// One refused write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// `c-<seq>`.
    pub(crate) id: String,
    pub(crate) seq: u64,
    /// The problem type's last segment (`precondition-failed`, `version-conflict`, `locked`,
    /// `transaction-conflict`).
    pub(crate) kind: String,
    pub(crate) status: u16,
    pub(crate) method: String,
    /// The document's unprefixed path (`/items` for a refused create).
    pub(crate) resource: String,
    pub(crate) client: Option<String>,
    pub(crate) at_ms: u64,
    pub(crate) based_on: Option<VersionRef>,
    pub(crate) current: Option<VersionRef>,
    pub(crate) rejected: Option<Rejected>,
    pub(crate) state: State,
    pub(crate) resolution: Option<Resolution>,
    /// The document's id (`None` for a refused create).
    #[serde(skip)]
    pub(crate) doc_id: Option<String>,
    /// The seq of the `resolved` event, once resolved.
    #[serde(skip)]
    pub(crate) resolved_seq: Option<u64>,
    /// A request that repeats the same refusal (a transaction's commit, committed again)
    /// names the same record instead of adding one.
    #[serde(skip)]
    pub(crate) origin: Option<String>,
}

/// A record before the log numbers it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Draft {
    pub(crate) kind: String,
    pub(crate) status: u16,
    pub(crate) method: String,
    pub(crate) doc_id: Option<String>,
    pub(crate) resource: String,
    pub(crate) client: Option<String>,
    pub(crate) based_on: Option<VersionRef>,
    pub(crate) current: Option<VersionRef>,
    pub(crate) rejected: Option<Rejected>,
    pub(crate) origin: Option<String>,
}

impl Record {
    pub(crate) fn new(draft: Draft, seq: u64, at_ms: u64) -> Self {
        Self {
            id: conflict_id(seq),
            seq,
            kind: draft.kind,
            status: draft.status,
            method: draft.method,
            resource: draft.resource,
            client: draft.client,
            at_ms,
            based_on: draft.based_on,
            current: draft.current,
            rejected: draft.rejected,
            state: State::Open,
            resolution: None,
            doc_id: draft.doc_id,
            resolved_seq: None,
            origin: draft.origin,
        }
    }

    /// The record as it was when recorded (what its `conflict` event carries).
    pub(crate) fn as_recorded(&self) -> Self {
        Self {
            state: State::Open,
            resolution: None,
            resolved_seq: None,
            ..self.clone()
        }
    }

    /// The record as compact JSON on one line.
    pub(crate) fn to_json(&self) -> String {
        // Serializing strings, numbers and JSON values cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// `/conflicts/c-<seq>`.
    pub(crate) fn url(&self) -> String {
        format!("/conflicts/{}", self.id)
    }
}

/// `c-<seq>`.
pub(crate) fn conflict_id(seq: u64) -> String {
    format!("c-{seq}")
}

/// The seq of `c-<seq>`.
pub(crate) fn parse_id(id: &str) -> Option<u64> {
    let digits = id.strip_prefix("c-")?;
    if digits.starts_with('+') {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_either_representation() {
        assert_eq!(version_number("\"3f9a-41\""), Some(41));
        assert_eq!(version_number("\"3f9a-41.v2\""), Some(41));
        assert_eq!(version_number("W/\"3f9a-7\""), Some(7));
        assert_eq!(version_number("*"), None);
        assert_eq!(version_number("\"abc\""), None);
        let v2 = EntityTag::parse("\"e-9.v2\"").unwrap();
        assert_eq!(
            VersionRef::of(&v2),
            VersionRef {
                etag: Some("\"e-9\"".into()),
                version: Some(9)
            }
        );
    }

    #[test]
    fn ids_round_trip() {
        assert_eq!(parse_id(&conflict_id(12)), Some(12));
        for bad in ["12", "c-", "c-x", "c-+1", "C-1", "c--1"] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }
}
