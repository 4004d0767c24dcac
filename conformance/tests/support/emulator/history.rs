//! Version history on the emulated server: after every request the versions that
//! request produced are recorded (and a tombstone for a document that went away),
//! so every write path (PUT, PATCH, POST, batches, commits) keeps history without
//! knowing of it. `GET /items/{id}/versions` lists them newest first,
//! `GET /items/{id}/versions/{n}` reads one back.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use wiremock::{Request, ResponseTemplate};

use super::api_versions::Api;
use super::{Emulator, State};
use crate::support::faults::Fault;

/// Most versions kept per document, as the policy says.
const MAX_VERSIONS: u64 = 20;

/// One version of a document; `body: None` is a tombstone.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub version: u64,
    pub body: Option<Value>,
    pub at_ms: u64,
    /// Recorded but not shown (`HistoryMissesCreate`).
    pub hidden: bool,
}

/// Every document's versions, oldest first.
#[derive(Debug, Default)]
pub(super) struct History {
    docs: HashMap<String, Vec<Entry>>,
}

impl History {
    /// When the document's newest version was written.
    pub fn modified_at_ms(&self, id: &str) -> u64 {
        self.docs
            .get(id)
            .and_then(|e| e.last())
            .map_or_else(now_ms, |e| e.at_ms)
    }
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `/items/{id}/versions` → `(id, None)`, `/items/{id}/versions/{n}` → `(id, Some(n))`.
pub(super) fn history_path(path: &str) -> Option<(&str, Option<&str>)> {
    let rest = path.strip_prefix("/items/")?;
    let (id, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("versions")?;
    match rest.strip_prefix('/') {
        None if rest.is_empty() => Some((id, None)),
        Some(n) if !n.is_empty() && !n.contains('/') => Some((id, Some(n))),
        _ => None,
    }
}

impl Emulator {
    /// Records what the last request changed.
    pub(super) fn record(&self, st: &mut State) {
        if !self.options.history {
            return;
        }
        let now = now_ms();
        let mut moved: Vec<(String, u64, Value)> = st
            .docs
            .iter()
            .filter(|(id, doc)| {
                let kept = st.history.docs.get(*id).and_then(|e| e.last());
                kept.is_none_or(|e| e.body.is_none() || e.version != doc.version)
            })
            .map(|(id, doc)| (id.clone(), doc.version, doc.body.clone()))
            .collect();
        moved.sort_by_key(|(_, version, _)| *version);
        for (id, version, body) in moved {
            let entries = st.history.docs.entry(id).or_default();
            let hidden = entries.is_empty() && self.has(Fault::HistoryMissesCreate);
            if self.has(Fault::RestoreRewindsHistory) {
                let last = entries.len().saturating_sub(1);
                let earlier = entries[..last]
                    .iter()
                    .rposition(|e| e.body.as_ref() == Some(&body));
                if let Some(at) = earlier {
                    entries.truncate(at + 1);
                }
            }
            entries.push(Entry {
                version,
                body: Some(body),
                at_ms: now,
                hidden,
            });
        }
        let gone: Vec<String> = st
            .history
            .docs
            .iter()
            .filter(|(id, e)| {
                !st.docs.contains_key(*id) && e.last().is_some_and(|e| e.body.is_some())
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            if self.has(Fault::TombstoneMissing) {
                st.history.docs.remove(&id);
                continue;
            }
            let version = Self::next_version(st);
            st.history.docs.entry(id).or_default().push(Entry {
                version,
                body: None,
                at_ms: now,
                hidden: false,
            });
        }
    }

    /// `GET {id}/versions` and `GET {id}/versions/{n}`, in either API version.
    pub(super) fn history_route(
        &self,
        st: &State,
        req: &Request,
        api: Api,
        id: &str,
        n: Option<&str>,
    ) -> ResponseTemplate {
        if !matches!(req.method.as_str(), "GET" | "HEAD") {
            return self.problem(405, "method-not-allowed", "use GET or HEAD", None);
        }
        let shown: Vec<&Entry> = st
            .history
            .docs
            .get(id)
            .map(|e| e.iter().filter(|e| !e.hidden).collect())
            .unwrap_or_default();
        if shown.is_empty() {
            return self.problem(404, "not-found", &format!("no item {id}"), None);
        }
        let Some(n) = n else {
            let listed: Vec<Value> = shown.iter().rev().map(|e| self.listed(e)).collect();
            let policy =
                json!({ "max_versions": MAX_VERSIONS, "max_age_ms": 0, "tombstone_ttl_ms": 0 });
            return ResponseTemplate::new(200)
                .set_body_json(json!({ "versions": listed, "policy": policy }));
        };
        let wanted: Option<u64> = n.parse().ok();
        let found = if self.has(Fault::UnknownVersionAnyDoc) {
            st.history
                .docs
                .values()
                .flatten()
                .find(|e| Some(e.version) == wanted && !e.hidden)
        } else {
            shown.iter().copied().find(|e| Some(e.version) == wanted)
        };
        let Some((version, Some(mut body))) = found.map(|e| (e.version, e.body.clone())) else {
            let oldest = shown.first().map_or(0, |e| e.version);
            let mut members = Map::new();
            members.insert("oldest".into(), oldest.into());
            let detail = format!("{id} has no version {n}; the oldest kept is {oldest}");
            return self.problem_with(404, "version-not-found", &detail, None, members);
        };
        if self.has(Fault::PastVersionWrongBody) {
            if let Some(doc) = st.docs.get(id) {
                body = doc.body.clone();
            }
        }
        let (tag, shown_body) = match api {
            Api::V1 => (self.etag(version), body),
            Api::V2 => (
                self.v2_tag(version),
                json!({ "id": id, "version": version, "modified_at_ms": 0, "data": body }),
            ),
        };
        let answer = ResponseTemplate::new(200)
            .insert_header("ETag", tag.as_str())
            .insert_header("Version", version.to_string().as_str());
        if req.method.as_str() == "HEAD" {
            return answer;
        }
        answer.set_body_raw(shown_body.to_string().into_bytes(), "application/json")
    }

    fn listed(&self, e: &Entry) -> Value {
        match &e.body {
            Some(body) => json!({
                "version": e.version, "etag": self.etag(e.version), "at_ms": e.at_ms,
                "author": null, "deleted": false, "size": body.to_string().len(),
            }),
            None => json!({
                "version": e.version, "at_ms": e.at_ms, "author": null, "deleted": true, "size": 0,
            }),
        }
    }
}
