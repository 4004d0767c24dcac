//! `POST /batch` on the emulated server: operations run in order against the state
//! the earlier ones left, and the first that fails restores the state from before
//! the batch, with the faults that break each batch rule.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{json, Map, Value};
use wiremock::{Request, ResponseTemplate};

use super::staging::{parse_cond, Kind, Refusal};
use super::{Doc, Emulator, State};
use crate::support::faults::Fault;
use crate::support::merge::merge_patch;

/// Most operations in one batch.
const MAX_OPERATIONS: usize = 100;
/// Members an operation may have.
const MEMBERS: [&str; 8] = [
    "op",
    "path",
    "ref",
    "lid",
    "if_match",
    "if_none_match",
    "lock_token",
    "body",
];

/// A failed operation: its index, `op` and path when known, and why.
struct Failed {
    at: usize,
    op: Option<String>,
    path: Option<String>,
    refusal: Refusal,
}

/// What the batch has seen so far.
struct Run<'a> {
    lids: HashMap<String, String>,
    /// Documents as they were before the batch (`BatchOpsSeeOriginal`).
    original: &'a HashMap<String, Doc>,
}

impl Emulator {
    pub(super) fn batch(&self, st: &mut State, req: &Request) -> ResponseTemplate {
        let body = match self.json_body(req, "application/json") {
            Ok(body) => body,
            Err(refused) => return refused,
        };
        let ops = match body.get("operations").and_then(Value::as_array) {
            Some(ops) if !ops.is_empty() && ops.len() <= MAX_OPERATIONS => ops.clone(),
            _ => {
                let detail = "send {\"operations\": [...]} with 1 to 100 operations";
                return self.problem(400, "malformed-body", detail, None);
            }
        };
        let original = st.docs.clone();
        let counters = (st.next_id, st.next_version);
        let mut run = Run {
            lids: HashMap::new(),
            original: &original,
        };
        let mut results = Vec::new();
        for (at, op) in ops.iter().enumerate() {
            match self.operation(st, &mut run, at, op) {
                Ok(Some(result)) => results.push(result),
                Ok(None) => {}
                Err(failed) => {
                    let stale = matches!(failed.refusal.status, 409 | 412);
                    if !(stale && self.has(Fault::BatchPartialOnStale)) {
                        st.docs = original.clone();
                        (st.next_id, st.next_version) = counters;
                    }
                    return self.batch_refused(failed);
                }
            }
        }
        ResponseTemplate::new(200).set_body_json(json!({ "results": results }))
    }

    fn batch_refused(&self, failed: Failed) -> ResponseTemplate {
        let mut members = Map::new();
        if !self.has(Fault::BatchProblemWithoutOperation) {
            members.insert("operation".into(), json!(failed.at));
            members.insert("op".into(), json!(failed.op));
            if let Some(path) = failed.path {
                members.insert("path".into(), json!(path));
            }
        }
        self.refused(failed.refusal, members)
    }

    /// Runs one operation: its result, `None` when a fault skips it, or why it failed.
    fn operation(
        &self,
        st: &mut State,
        run: &mut Run<'_>,
        at: usize,
        op: &Value,
    ) -> Result<Option<Value>, Failed> {
        let name = op.get("op").and_then(Value::as_str).map(str::to_owned);
        let fail = |path: Option<&str>, refusal: Refusal| Failed {
            at,
            op: name.clone(),
            path: path.map(str::to_owned),
            refusal,
        };
        let malformed = |detail: &str| fail(None, Refusal::new(400, "malformed-body", detail));
        let Some(fields) = op.as_object() else {
            return Err(malformed("an operation is a JSON object"));
        };
        if let Some(unknown) = fields.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
            return Err(malformed(&format!("unknown member {unknown}")));
        }
        let Some(kind) = name.as_deref().and_then(Kind::parse) else {
            return Err(malformed("op is create, put, patch, delete or check"));
        };
        let body = op.get("body").cloned();
        if matches!(kind, Kind::Create | Kind::Put | Kind::Patch) && body.is_none() {
            return Err(malformed("this op needs a body"));
        }
        if kind == Kind::Create {
            return self
                .batch_create(st, run, op, body.unwrap_or_default())
                .map_err(|r| fail(None, r));
        }
        let id = match self.target(st, run, op) {
            Ok(id) => id,
            Err(refusal) => return Err(fail(None, refusal)),
        };
        let path = format!("/items/{id}");
        let text = |name: &str| op.get(name).and_then(Value::as_str);
        let (im, inm) = (
            parse_cond(text("if_match")),
            parse_cond(text("if_none_match")),
        );
        if let Err(refusal) = self.batch_lock_gate(st, &id, kind, text("lock_token")) {
            return Err(fail(Some(&path), refusal));
        }
        let current = st.docs.get(&id).map(|d| self.etag(d.version));
        if let Err(refusal) = self.judge(kind, current.as_deref(), &im, &inm) {
            if refusal.status == 404 && self.has(Fault::BatchMissingSkipped) {
                return Ok(None);
            }
            return Err(fail(Some(&path), refusal));
        }
        let (status, stored) = match kind {
            Kind::Put => (if current.is_some() { 200 } else { 201 }, body),
            Kind::Patch => {
                let seen_before = self
                    .has(Fault::BatchOpsSeeOriginal)
                    .then(|| run.original.get(&id))
                    .flatten();
                let mut doc = seen_before.unwrap_or(&st.docs[&id]).body.clone();
                merge_patch(&mut doc, &body.unwrap_or_default());
                (200, Some(doc))
            }
            Kind::Delete => {
                st.docs.remove(&id);
                Self::forget_locks(st, &id);
                return Ok(Some(json!({ "op": "delete", "status": 204, "path": path })));
            }
            _ => {
                let tag = current.unwrap_or_default();
                return Ok(Some(
                    json!({ "op": "check", "status": 200, "path": path, "etag": tag }),
                ));
            }
        };
        let stored = stored.unwrap_or_default();
        let version = self.write_doc(st, &id, stored.clone());
        Ok(Some(json!({
            "op": name, "status": status, "path": path,
            "etag": self.result_tag(version), "body": stored,
        })))
    }

    fn batch_create(
        &self,
        st: &mut State,
        run: &mut Run<'_>,
        op: &Value,
        body: Value,
    ) -> Result<Option<Value>, Refusal> {
        st.next_id += 1;
        let id = st.next_id.to_string();
        if let Some(lid) = op.get("lid").and_then(Value::as_str) {
            if run.lids.insert(lid.to_owned(), id.clone()).is_some() {
                return Err(Refusal::new(400, "malformed-body", "lid used twice"));
            }
        }
        let version = self.write_doc(st, &id, body.clone());
        Ok(Some(json!({
            "op": "create", "status": 201, "path": format!("/items/{id}"),
            "etag": self.result_tag(version), "body": body,
        })))
    }

    /// A document locked by someone else refuses the operation with 423 unless it
    /// carries the holder's `lock_token` (412 for a token that holds nothing); a
    /// `check` without a token ignores locks. `BatchIgnoresLocks`: never looked at.
    fn batch_lock_gate(
        &self,
        st: &mut State,
        id: &str,
        kind: Kind,
        token: Option<&str>,
    ) -> Result<(), Refusal> {
        if self.has(Fault::BatchIgnoresLocks) {
            return Ok(());
        }
        let now = Instant::now();
        match token.map(|t| t.trim().trim_matches('"')) {
            Some(token) if Self::held_with(st, id, token, now).is_some() => Ok(()),
            Some(_) => Err(Refusal::new(
                412,
                "lock-token-invalid",
                "the lock_token is not the current lock's",
            )),
            None if kind == Kind::Check => Ok(()),
            None => match Self::busy_for_writer(st, id, now) {
                Some(_) => Err(Refusal::new(
                    423,
                    "locked",
                    "locked by someone else; nothing was changed. Send the holder's lock_token",
                )),
                None => Ok(()),
            },
        }
    }

    /// The id an operation names by `path` or by `ref`.
    fn target(&self, st: &mut State, run: &Run<'_>, op: &Value) -> Result<String, Refusal> {
        let text = |name: &str| op.get(name).and_then(Value::as_str);
        match (text("path"), text("ref")) {
            (Some(path), None) => path
                .strip_prefix("/items/")
                .filter(|id| !id.is_empty() && !id.contains('/'))
                .map(str::to_owned)
                .ok_or_else(|| Refusal::new(400, "malformed-body", "path is /items/{id}")),
            (None, Some(_)) if self.has(Fault::BatchLidRefsIgnored) => {
                // The defect: a ref is taken for a new document of its own.
                st.next_id += 1;
                let id = st.next_id.to_string();
                self.write_doc(st, &id, json!({}));
                Ok(id)
            }
            (None, Some(lid)) => run
                .lids
                .get(lid)
                .cloned()
                .ok_or_else(|| Refusal::new(400, "malformed-body", "ref names no earlier lid")),
            _ => Err(Refusal::new(
                400,
                "malformed-body",
                "exactly one of path and ref",
            )),
        }
    }

    /// The tag a batch result names (`BatchWrongTags`: one that no GET shows).
    fn result_tag(&self, version: u64) -> String {
        let shown = if self.has(Fault::BatchWrongTags) {
            version + 1000
        } else {
            version
        };
        self.etag(shown)
    }

    /// Stores `body` as a new version of `id` (created if absent).
    pub(super) fn write_doc(&self, st: &mut State, id: &str, body: Value) -> u64 {
        let version = Self::next_version(st);
        Self::place(st, id, version, body);
        version
    }

    /// Stores `body` as version `version` of `id`.
    pub(super) fn place(st: &mut State, id: &str, version: u64, body: Value) {
        let older = st.docs.get(id).map(|d| {
            let mut older = d.older.clone();
            older.push(d.version);
            older
        });
        st.docs.insert(
            id.to_owned(),
            Doc {
                body,
                version,
                older: older.unwrap_or_default(),
                reads_since_write: 0,
            },
        );
    }
}
