//! A conflict record and the events of the stream, read leniently from the server's JSON.

use serde_json::{Map, Value};

use crate::EntityTag;

/// Whether a conflict still waits for a resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConflictState {
    /// Nobody has resolved it yet.
    Open,
    /// It was resolved ([`ConflictRecord::resolution`] says how).
    Resolved,
}

impl ConflictState {
    /// The wire form: `open` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Resolved => "resolved",
        }
    }
}

/// A version as a record names it: its entity tag and number (either may be unknown).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionRef {
    /// The version's strong entity tag (usable in `If-Match`).
    pub etag: Option<EntityTag>,
    /// The version's number, when the server numbers versions.
    pub version: Option<u64>,
}

/// What the refused request tried to write.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Rejected {
    /// Its `Content-Type`.
    pub content_type: Option<String>,
    /// The document (or merge patch); `None` for a delete, or when it was too large to keep
    /// (`truncated`).
    pub body: Option<Value>,
    /// The body was over the server's limit and not kept (`mine` cannot replay it).
    pub truncated: bool,
}

/// Which side a resolution kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Choice {
    /// The refused write was applied.
    Mine,
    /// The current document was kept.
    Theirs,
    /// Another document was written.
    Merged,
}

/// How a conflict was resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResolutionRecord {
    /// The side kept.
    pub choice: Choice,
    /// Who resolved it (`None`: anonymously, on a server without tokens).
    pub by: Option<String>,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The document's tag after the resolution (`None`: deleted or absent).
    pub etag: Option<EntityTag>,
    /// The document's version number after it.
    pub version: Option<u64>,
}

/// One refused conditional write, as the server recorded it (`GET /conflicts/{id}`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ConflictRecord {
    /// The record's id, e.g. `c-12` (what [`crate::Error::conflict_id`] names).
    pub id: String,
    /// Its place in the server's event sequence (grows with every event).
    pub seq: u64,
    /// The refusal's problem type, last segment: `precondition-failed`, `version-conflict`,
    /// `locked` or `transaction-conflict`.
    pub kind: String,
    /// The refusal's HTTP status (412, 409, 423).
    pub status: u16,
    /// The refused request's method.
    pub method: String,
    /// The document's path on the server, e.g. `/items/doc` (unprefixed, whatever API
    /// version the request used; for a transaction conflict its first stale document).
    pub resource: String,
    /// The authenticated name of the client that caused it (`None`: anonymous).
    pub client: Option<String>,
    /// When it was refused, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The version the refused write was based on (its `If-Match`), if it named one.
    pub based_on: Option<VersionRef>,
    /// The document's version when it was refused (`None`: it did not exist).
    pub current: Option<VersionRef>,
    /// What the refused request tried to write (`None` for a transaction conflict).
    pub rejected: Option<Rejected>,
    /// Open or resolved.
    pub state: ConflictState,
    /// How it was resolved, once it is.
    pub resolution: Option<ResolutionRecord>,
}

impl ConflictRecord {
    /// When it was refused, as a [`web_time::SystemTime`] (`std::time::SystemTime` natively).
    pub fn at(&self) -> web_time::SystemTime {
        web_time::UNIX_EPOCH + std::time::Duration::from_millis(self.at_ms)
    }

    /// Whether it still waits for a resolution.
    pub fn is_open(&self) -> bool {
        self.state == ConflictState::Open
    }

    /// Reads a record; `Err` names what is missing or malformed. Unknown members are ignored,
    /// and optional ones may be absent or `null`.
    pub(crate) fn from_json(value: &Value) -> Result<Self, String> {
        let map = value
            .as_object()
            .ok_or("a conflict record is a JSON object")?;
        let state = match text(map, "state").as_deref() {
            Some("open") => ConflictState::Open,
            Some("resolved") => ConflictState::Resolved,
            other => {
                return Err(format!(
                    "`state` is {other:?}, not \"open\" or \"resolved\""
                ))
            }
        };
        let resolution = match map.get("resolution") {
            None | Some(Value::Null) => None,
            Some(value) => Some(resolution(value)?),
        };
        Ok(Self {
            id: text(map, "id").ok_or("`id` is missing")?,
            seq: number(map, "seq").ok_or("`seq` is missing")?,
            kind: text(map, "kind").unwrap_or_default(),
            status: number(map, "status")
                .and_then(|n| u16::try_from(n).ok())
                .unwrap_or_default(),
            method: text(map, "method").unwrap_or_default(),
            resource: text(map, "resource").ok_or("`resource` is missing")?,
            client: text(map, "client"),
            at_ms: number(map, "at_ms").unwrap_or_default(),
            based_on: version_ref(map.get("based_on")),
            current: version_ref(map.get("current")),
            rejected: map
                .get("rejected")
                .and_then(Value::as_object)
                .map(|r| Rejected {
                    content_type: text(r, "content_type"),
                    body: r.get("body").filter(|b| !b.is_null()).cloned(),
                    truncated: r.get("truncated").and_then(Value::as_bool).unwrap_or(false),
                }),
            state,
            resolution,
        })
    }
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn number(map: &Map<String, Value>, key: &str) -> Option<u64> {
    map.get(key).and_then(Value::as_u64)
}

/// A tag as the server writes it (`"\"e-7\""`); a malformed one is treated as unknown.
fn tag(map: &Map<String, Value>, key: &str) -> Option<EntityTag> {
    text(map, key).and_then(|t| t.parse().ok())
}

fn version_ref(value: Option<&Value>) -> Option<VersionRef> {
    let map = value?.as_object()?;
    Some(VersionRef {
        etag: tag(map, "etag"),
        version: number(map, "version"),
    })
}

fn resolution(value: &Value) -> Result<ResolutionRecord, String> {
    let map = value.as_object().ok_or("`resolution` is not an object")?;
    let choice = match text(map, "choice").as_deref() {
        Some("mine") => Choice::Mine,
        Some("theirs") => Choice::Theirs,
        Some("merged") => Choice::Merged,
        other => return Err(format!("`resolution.choice` is {other:?}")),
    };
    Ok(ResolutionRecord {
        choice,
        by: text(map, "by"),
        at_ms: number(map, "at_ms").unwrap_or_default(),
        etag: tag(map, "etag"),
        version: number(map, "version"),
    })
}

/// One page of `GET /conflicts`, oldest first.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ConflictPage {
    /// The records.
    pub conflicts: Vec<ConflictRecord>,
    /// Pass it to `.after(..)` for the next page; `None` on the last page.
    pub next_after: Option<u64>,
}

impl ConflictPage {
    pub(crate) fn from_json(value: &Value) -> Result<Self, String> {
        let list = value
            .get("conflicts")
            .and_then(Value::as_array)
            .ok_or("the answer has no `conflicts` array")?;
        Ok(Self {
            conflicts: list
                .iter()
                .map(ConflictRecord::from_json)
                .collect::<Result<_, _>>()?,
            next_after: value.get("next_after").and_then(Value::as_u64),
        })
    }
}

/// What a conflict subscription yields.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ConflictEvent {
    /// A write was refused and recorded (`event: conflict`).
    Conflict(ConflictRecord),
    /// A conflict was resolved (`event: resolved`); the record carries its resolution.
    Resolved(ConflictRecord),
    /// Events after `after` were forgotten by the server's bounded log before this subscriber
    /// could receive them; `oldest` is the oldest sequence number it still holds. List what is
    /// still open ([`crate::Conflicts::list`]) to catch up.
    Gap {
        /// The last sequence number this subscriber had seen.
        after: u64,
        /// The oldest sequence number the server still keeps.
        oldest: u64,
    },
}

impl ConflictEvent {
    /// The record, for a conflict or a resolution.
    pub fn record(&self) -> Option<&ConflictRecord> {
        match self {
            Self::Conflict(record) | Self::Resolved(record) => Some(record),
            Self::Gap { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample() -> Value {
        json!({"id": "c-12", "seq": 12, "kind": "precondition-failed", "status": 412,
               "method": "PUT", "resource": "/items/doc", "client": "alice",
               "at_ms": 1_767_225_610_000u64,
               "based_on": {"etag": "\"3f9a-41\"", "version": 41},
               "current": {"etag": "\"3f9a-57\"", "version": 57},
               "rejected": {"content_type": "application/json", "body": {"title": "mine"}, "truncated": false},
               "state": "open", "resolution": null, "future_member": [1]})
    }

    #[test]
    fn the_documented_record_reads_completely() {
        let r = ConflictRecord::from_json(&sample()).unwrap();
        assert_eq!((r.id.as_str(), r.seq, r.status), ("c-12", 12, 412));
        assert_eq!(r.resource, "/items/doc");
        assert_eq!(r.client.as_deref(), Some("alice"));
        assert_eq!(r.based_on.unwrap().version, Some(41));
        let current = r.current.unwrap();
        assert_eq!(current.etag.unwrap().opaque(), "3f9a-57");
        assert_eq!(r.rejected.unwrap().body, Some(json!({"title": "mine"})));
        assert!(r.state == ConflictState::Open && r.resolution.is_none());
    }

    #[test]
    fn a_resolved_record_carries_its_resolution() {
        let mut v = sample();
        v["state"] = "resolved".into();
        v["resolution"] = json!({"choice": "merged", "by": "admin", "at_ms": 5, "etag": "\"3f9a-58\"", "version": 58});
        v["based_on"] = Value::Null;
        v["rejected"] = Value::Null;
        let r = ConflictRecord::from_json(&v).unwrap();
        let resolution = r.resolution.unwrap();
        assert_eq!(resolution.choice, Choice::Merged);
        assert_eq!(resolution.version, Some(58));
        assert!(r.based_on.is_none() && r.rejected.is_none());
    }

    #[test]
    fn missing_or_malformed_members_are_named() {
        for (key, value) in [
            ("id", Value::Null),
            ("state", json!("closed")),
            ("seq", json!("12")),
        ] {
            let mut v = sample();
            v[key] = value;
            let err = ConflictRecord::from_json(&v).unwrap_err();
            assert!(err.contains(key), "{key}: {err}");
        }
        assert!(ConflictRecord::from_json(&json!([1])).is_err());
    }

    #[test]
    fn a_page_names_where_the_next_one_starts() {
        let page =
            ConflictPage::from_json(&json!({"conflicts": [sample()], "next_after": 12})).unwrap();
        assert_eq!(page.conflicts.len(), 1);
        assert_eq!(page.next_after, Some(12));
        let last = ConflictPage::from_json(&json!({"conflicts": [], "next_after": null})).unwrap();
        assert_eq!(last.next_after, None);
    }
}
