//! `/conflicts` on the emulated server: every refused `If-Match` write of a
//! document is recorded, the log is listed (filtered by resource) and read by id,
//! and conflicts are resolved (`POST /conflicts/{id}/resolve`) by the client that
//! caused them or an admin. The stream lives in `stream.rs` and reads the same log.
//!
//! Clients are fixed: [`CLIENTS`] and [`ADMINS`] (name, bearer token).

use std::time::Instant;

use serde_json::{json, Map, Value};
use wiremock::{Request, ResponseTemplate};

use super::locks::unix_ms;
use super::{Doc, Emulator, State};
use crate::support::faults::Fault;
use crate::support::merge::merge_patch;

/// The clients the emulator knows: (name, token).
pub const CLIENTS: [(&str, &str); 2] = [("writer", "tok-writer"), ("other", "tok-other")];
/// The admins the emulator knows: (name, token).
pub const ADMINS: [(&str, &str); 1] = [("admin", "tok-admin")];

/// An event of the stream: `conflict` or `resolved`, about `resource`.
#[derive(Debug, Clone)]
pub struct LogEvent {
    pub seq: u64,
    pub kind: &'static str,
    pub resource: String,
    pub data: Value,
}

/// The write being answered, noted before it is judged so that a refusal can
/// be recorded with what was sent.
#[derive(Debug, Clone)]
struct Pending {
    method: String,
    resource: String,
    if_match: Option<String>,
    client: Option<String>,
    body: Option<Value>,
}

/// The conflict log, shared with the stream.
#[derive(Debug, Default)]
pub struct Log {
    pending: Option<Pending>,
    records: Vec<Value>,
    pub events: Vec<LogEvent>,
    pub seq: u64,
}

impl Log {
    fn push_event(&mut self, kind: &'static str, record: &Value) -> u64 {
        self.seq += 1;
        let resource = record["resource"].as_str().unwrap_or_default().to_owned();
        self.events.push(LogEvent {
            seq: self.seq,
            kind,
            resource,
            data: record.clone(),
        });
        self.seq
    }
}

/// Who sent `req`: `Ok(None)` anonymous, `Ok(Some((name, admin)))`, `Err` a bad token.
fn identity(req: &Request) -> Result<Option<(String, bool)>, ()> {
    let Some(value) = req.headers.get("authorization") else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(())?;
    let client = CLIENTS
        .iter()
        .find(|(_, t)| *t == token)
        .map(|(n, _)| (n.to_string(), false));
    let admin = ADMINS
        .iter()
        .find(|(_, t)| *t == token)
        .map(|(n, _)| (n.to_string(), true));
    client.or(admin).map(Some).ok_or(())
}

/// The version number inside one of the emulator's tags (`"e7"` → 7).
fn version_in(tag: &str) -> Option<u64> {
    tag.trim_start_matches("W/")
        .trim_matches('"')
        .strip_prefix('e')?
        .parse()
        .ok()
}

impl Emulator {
    /// Notes a document write before it is judged (see [`Pending`]).
    pub(super) fn note_write(&self, req: &Request, path: &str) {
        let write = matches!(req.method.as_str(), "PUT" | "PATCH" | "DELETE")
            && path
                .strip_prefix("/items/")
                .is_some_and(|id| !id.contains('/'))
            && !req.headers.contains_key("transaction-id");
        let pending = write.then(|| Pending {
            method: req.method.to_string(),
            resource: path.to_owned(),
            if_match: req
                .headers
                .get("if-match")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned()),
            client: identity(req).ok().flatten().map(|(name, _)| name),
            body: serde_json::from_slice(&req.body).ok(),
        });
        self.conflicts
            .lock()
            .expect("conflict log poisoned")
            .pending = pending;
    }

    /// Records the noted write as refused with `status`/`kind` while `version`
    /// was current; the members the refusal's problem gains.
    pub(super) fn record_conflict(
        &self,
        status: u16,
        kind: &str,
        version: u64,
    ) -> Map<String, Value> {
        let mut log = self.conflicts.lock().expect("conflict log poisoned");
        let Some(p) = log.pending.take().filter(|_| self.options.conflicts) else {
            return Map::new();
        };
        let current = json!({ "etag": self.etag(version), "version": version });
        let based_on = match &p.if_match {
            _ if self.has(Fault::RecordNamesCurrentAsBase) => current.clone(),
            Some(tag) if tag != "*" => json!({ "etag": tag, "version": version_in(tag) }),
            _ => Value::Null,
        };
        let seq = log.seq + 1;
        let id = format!("c-{seq}");
        let record = json!({
            "id": id, "seq": seq, "kind": kind, "status": status, "method": p.method,
            "resource": p.resource, "client": p.client, "at_ms": unix_ms(Instant::now()),
            "based_on": based_on, "current": current,
            "rejected": { "content_type": "application/json", "body": p.body, "truncated": false },
            "state": "open", "resolution": null,
        });
        log.push_event("conflict", &record);
        log.records.push(record);
        let mut members = Map::new();
        members.insert("conflict_id".into(), Value::from(id.clone()));
        members.insert(
            "conflict_url".into(),
            Value::from(format!("/conflicts/{id}")),
        );
        members
    }

    /// Answers `/conflicts…` (but the stream, which the front serves).
    pub(super) fn conflict_route(
        &self,
        st: &mut State,
        req: &Request,
        path: &str,
    ) -> Option<ResponseTemplate> {
        let rest = path.strip_prefix("/conflicts")?;
        if !self.options.conflicts {
            return Some(self.problem(404, "not-found", "no such route", None));
        }
        let who = match identity(req) {
            Ok(who) => who,
            Err(()) => return Some(self.unauthorized("unknown or malformed bearer token")),
        };
        let method = req.method.as_str();
        Some(
            match (
                method,
                rest.trim_start_matches('/')
                    .split('/')
                    .collect::<Vec<_>>()
                    .as_slice(),
            ) {
                ("GET", [""]) => self.list(req),
                ("GET", ["stream"]) => ResponseTemplate::new(200)
                    .set_body_raw(b"retry: 2000\n\n".to_vec(), "text/event-stream"),
                ("GET", [id]) => match self
                    .conflicts
                    .lock()
                    .expect("conflict log poisoned")
                    .records
                    .iter()
                    .find(|r| r["id"] == *id)
                {
                    Some(record) => ResponseTemplate::new(200).set_body_json(record),
                    None => self.problem(404, "conflict-not-found", "no such conflict", None),
                },
                ("POST", [id, "resolve"]) => self.resolve(st, req, id, who),
                _ => self.problem(
                    405,
                    "method-not-allowed",
                    "use GET, or POST …/resolve",
                    None,
                ),
            },
        )
    }

    fn unauthorized(&self, detail: &str) -> ResponseTemplate {
        self.problem(401, "unauthorized", detail, None)
            .insert_header("WWW-Authenticate", "Bearer realm=\"emulator\"")
    }

    fn list(&self, req: &Request) -> ResponseTemplate {
        let resources: Vec<String> = req
            .url
            .query_pairs()
            .filter(|(k, _)| k == "resource")
            .map(|(_, v)| v.into_owned())
            .collect();
        let filtered = !resources.is_empty() && !self.has(Fault::LogIgnoresFilter);
        let state = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .filter(|_| !self.has(Fault::ListIgnoresState));
        let log = self.conflicts.lock().expect("conflict log poisoned");
        let conflicts: Vec<&Value> = log
            .records
            .iter()
            .filter(|r| !filtered || resources.iter().any(|x| r["resource"] == *x.as_str()))
            .filter(|r| state.as_deref().is_none_or(|s| r["state"] == *s))
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({ "conflicts": conflicts, "next_after": null }))
    }

    fn resolve(
        &self,
        st: &mut State,
        req: &Request,
        id: &str,
        who: Option<(String, bool)>,
    ) -> ResponseTemplate {
        let mut log = self.conflicts.lock().expect("conflict log poisoned");
        let Some(index) = log.records.iter().position(|r| r["id"] == id) else {
            return self.problem(404, "conflict-not-found", "no such conflict", None);
        };
        let record = log.records[index].clone();
        let allowed = match (&who, record["client"].as_str()) {
            (Some((_, true)), _) => !self.has(Fault::AdminRefused),
            (Some((name, false)), Some(client)) => {
                name == client || self.has(Fault::AnyClientMayResolve)
            }
            (Some(_), None) => self.has(Fault::AnyClientMayResolve),
            (None, _) => self.has(Fault::AnonymousMayResolve),
        };
        match (&who, allowed) {
            (None, false) => return self.unauthorized("resolving a conflict needs a bearer token"),
            (Some(_), false) => return self.problem(403, "forbidden", "not your conflict", None),
            _ => {}
        }
        if record["state"] == "resolved" && !self.has(Fault::ResolveTwiceApplies) {
            return self.problem(409, "conflict-resolved", "already resolved", None);
        }
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            return self.problem(400, "malformed-body", "send JSON", None);
        };
        let choice = body["resolution"].as_str().unwrap_or_default().to_owned();
        let doc_id = record["resource"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("/items/")
            .to_owned();
        let now = st.docs.get(&doc_id).map(|d| d.version);
        if now != record["current"]["version"].as_u64() && !self.has(Fault::ResolveIgnoresChanges) {
            return self.problem(
                412,
                "precondition-failed",
                "the document changed since",
                now.map(|v| self.etag(v)),
            );
        }
        let rejected = &record["rejected"]["body"];
        let method = record["method"].as_str().unwrap_or_default();
        let mine = |st: &mut State| self.replay(st, &doc_id, method, rejected);
        match choice.as_str() {
            "mine" if self.has(Fault::ResolveMineKeepsCurrent) => {}
            "mine" => mine(st),
            "theirs" if self.has(Fault::ResolveTheirsApplies) => mine(st),
            "theirs" => {}
            "merged" if self.has(Fault::ResolveMergedWritesMine) => mine(st),
            "merged" if body.get("document").is_some() => {
                self.replay(st, &doc_id, "PUT", &body["document"])
            }
            _ => {
                return self.problem(
                    400,
                    "malformed-body",
                    "resolution must be mine, theirs or merged (with document)",
                    None,
                )
            }
        }
        let after = st.docs.get(&doc_id).map(|d| d.version);
        let by = who.map(|(name, _)| name);
        let mut updated = record;
        updated["state"] = json!("resolved");
        updated["resolution"] = json!({
            "choice": choice, "by": by, "at_ms": unix_ms(Instant::now()),
            "etag": after.map(|v| self.etag(v)), "version": after,
        });
        log.records[index] = updated.clone();
        log.push_event("resolved", &updated);
        ResponseTemplate::new(200).set_body_json(updated)
    }

    /// Replays a write of `method` with `body` on document `id`.
    fn replay(&self, st: &mut State, id: &str, method: &str, body: &Value) {
        if method == "DELETE" {
            st.docs.remove(id);
            return;
        }
        let version = Self::next_version(st);
        let doc = st.docs.entry(id.to_owned()).or_insert_with(|| Doc {
            body: Value::Null,
            version,
            older: vec![],
            reads_since_write: 0,
        });
        if doc.version != version {
            doc.older.push(doc.version);
        }
        if method == "PATCH" {
            merge_patch(&mut doc.body, body);
        } else {
            doc.body = body.clone();
        }
        doc.version = version;
        doc.reads_since_write = 0;
        st.cache.insert(id.to_owned(), version);
    }
}
