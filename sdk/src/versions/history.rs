//! A document's history as the server lists it (`GET {item}/versions`), parsed strictly.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::{EntityTag, Error};

/// One kept version of a document, newest first in a [`History`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionEntry {
    /// The version number (grows with every write of the document, skipping numbers).
    pub version: u64,
    /// The ETag the document had at this version; `None` for the deletion entry (tombstone).
    pub etag: Option<EntityTag>,
    /// When it was written, in milliseconds since the Unix epoch (see [`VersionEntry::at`]).
    pub at_ms: u64,
    /// The authenticated client that wrote it; `None` for anonymous writes.
    pub author: Option<String>,
    /// Whether this entry is the deletion (the tombstone, which has no content).
    pub deleted: bool,
    /// The stored body's length in bytes (0 for the tombstone).
    pub size: u64,
}

impl VersionEntry {
    /// When it was written. (Computed from [`VersionEntry::at_ms`] without reading a clock, so
    /// it works on wasm32 too.)
    pub fn at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.at_ms)
    }
}

/// How long the server keeps versions (per document).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetentionPolicy {
    /// At most this many versions are kept.
    pub max_versions: Option<u64>,
    /// None older than this is kept (the current version always is); `None`: no age limit.
    pub max_age: Option<Duration>,
    /// How long a deleted document's tombstone and history are kept after the delete.
    pub tombstone_ttl: Option<Duration>,
}

/// A document's kept versions, newest first, and the server's retention policy; from
/// [`crate::Client::versions`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct History {
    /// The kept versions, newest first (a deleted document's tombstone is first).
    pub versions: Vec<VersionEntry>,
    /// The retention policy, when the server stated it.
    pub policy: Option<RetentionPolicy>,
}

impl History {
    /// The newest entry (the tombstone of a deleted document).
    pub fn latest(&self) -> Option<&VersionEntry> {
        self.versions.first()
    }

    /// The oldest version still kept.
    pub fn oldest(&self) -> Option<&VersionEntry> {
        self.versions.last()
    }

    /// The entry of version `n`, if it is kept.
    pub fn get(&self, n: u64) -> Option<&VersionEntry> {
        self.versions.iter().find(|entry| entry.version == n)
    }

    /// Whether the document is deleted (its newest entry is the tombstone).
    pub fn is_deleted(&self) -> bool {
        self.latest().is_some_and(|entry| entry.deleted)
    }
}

#[derive(Deserialize)]
struct WireHistory {
    versions: Vec<WireEntry>,
    policy: Option<WirePolicy>,
}

#[derive(Deserialize)]
struct WireEntry {
    version: u64,
    etag: Option<String>,
    at_ms: u64,
    author: Option<String>,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    size: u64,
}

#[derive(Deserialize)]
struct WirePolicy {
    max_versions: Option<u64>,
    max_age_ms: Option<u64>,
    tombstone_ttl_ms: Option<u64>,
}

/// Parses `{"versions": [...], "policy": {...}}`. A malformed entry fails the whole list
/// ([`Error::Decode`]): a history with a silently dropped version would mislead a restore.
/// An unparsable `etag` counts as none (as a malformed `ETag` header is ignored).
pub(crate) fn parse_history(url: &str, body: &[u8]) -> Result<History, Error> {
    let wire: WireHistory = serde_json::from_slice(body).map_err(|source| Error::Decode {
        url: url.to_owned(),
        source,
    })?;
    let ms = |v: Option<u64>| v.map(Duration::from_millis);
    Ok(History {
        versions: wire
            .versions
            .into_iter()
            .map(|e| VersionEntry {
                version: e.version,
                etag: e.etag.and_then(|raw| raw.parse().ok()),
                at_ms: e.at_ms,
                author: e.author,
                deleted: e.deleted,
                size: e.size,
            })
            .collect(),
        policy: wire.policy.map(|p| RetentionPolicy {
            max_versions: p.max_versions,
            max_age: ms(p.max_age_ms).filter(|d| !d.is_zero()),
            tombstone_ttl: ms(p.tombstone_ttl_ms),
        }),
    })
}

/// A 404 that says the version is not kept (`version-not-found`) becomes
/// [`Error::VersionNotFound`], with the oldest kept version when the server named it.
pub(crate) fn version_not_found(err: Error, version: u64) -> Error {
    let Error::Status {
        url,
        status,
        problem: Some(problem),
        ..
    } = &err
    else {
        return err;
    };
    if *status != http::StatusCode::NOT_FOUND || !problem.type_.ends_with("version-not-found") {
        return err;
    }
    let oldest = problem.extensions.get("oldest").and_then(|v| v.as_u64());
    Error::VersionNotFound {
        url: url.clone(),
        version,
        oldest,
        problem: Some(problem.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;
    use serde_json::json;

    #[test]
    fn the_reference_servers_list_parses() {
        let body = json!({"versions": [
            {"version": 58, "at_ms": 1767225620000u64, "author": "bob", "deleted": true, "size": 0},
            {"version": 57, "etag": "\"3f9a-57\"", "at_ms": 1767225610000u64, "author": "alice", "deleted": false, "size": 14},
            {"version": 41, "etag": "\"3f9a-41\"", "at_ms": 1767225600000u64, "author": null, "deleted": false, "size": 12}],
            "policy": {"max_versions": 20, "max_age_ms": 0, "tombstone_ttl_ms": 86400000}});
        let history = parse_history("u", body.to_string().as_bytes()).unwrap();
        assert!(history.is_deleted());
        assert_eq!(history.latest().unwrap().etag, None);
        let v57 = history.get(57).unwrap();
        assert_eq!(v57.etag, EntityTag::strong("3f9a-57").ok());
        assert_eq!(v57.author.as_deref(), Some("alice"));
        assert_eq!(v57.at(), UNIX_EPOCH + Duration::from_secs(1_767_225_610));
        assert_eq!(history.oldest().unwrap().version, 41);
        assert_eq!(history.oldest().unwrap().author, None);
        let policy = history.policy.unwrap();
        assert_eq!(policy.max_versions, Some(20));
        assert_eq!(policy.max_age, None, "0 is no age limit");
        assert_eq!(policy.tombstone_ttl, Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn malformed_lists_are_decode_errors() {
        for bad in [
            json!({"versions": [{"version": "x", "at_ms": 1}]}),
            json!({"versions": [{"at_ms": 1}]}),
            json!({"items": []}),
            json!([1]),
        ] {
            let err = parse_history("u", bad.to_string().as_bytes()).unwrap_err();
            assert_eq!(err.code(), "decode", "{bad}");
        }
    }

    #[test]
    fn only_a_version_not_found_404_becomes_version_not_found() {
        let status = |code: u16, body: serde_json::Value| Error::Status {
            method: Method::GET,
            url: "http://h/items/a/versions/3".into(),
            status: http::StatusCode::from_u16(code).unwrap(),
            problem: crate::Problem::from_json(body.to_string().as_bytes()).map(Box::new),
        };
        let typed = json!({"type": "urn:ifmatch:problem:version-not-found", "oldest": 41});
        let err = version_not_found(status(404, typed), 3);
        assert_eq!(err.code(), "version_not_found");
        assert_eq!(err.oldest_version(), Some(41));
        assert!(err.is_not_found());
        let plain = version_not_found(
            status(404, json!({"type": "urn:ifmatch:problem:not-found"})),
            3,
        );
        assert_eq!(plain.code(), "http_status");
        assert_eq!(plain.oldest_version(), None);
    }
}
