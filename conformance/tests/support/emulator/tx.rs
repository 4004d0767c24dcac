//! `/transactions` on the emulated server: begin (POST), show (GET), roll back
//! (DELETE) and commit (`POST …/commit`), with lazy expiry and the faults that
//! break each transaction rule. Requests inside a transaction are in `tx_items.rs`.
//!
//! A transaction pins the version of every document it touches (`None`: absent)
//! and stages its writes with provisional tags; a commit checks every pin against
//! the committed state and applies the staged writes in first-write order.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use wiremock::{Request, ResponseTemplate};

use super::locks::unix_ms;
use super::{Emulator, State};
use crate::support::faults::Fault;

/// Longest lifetime the emulator grants.
const MAX_TTL_MS: u64 = 60_000;
const DEFAULT_TTL_MS: u64 = 30_000;
/// `TxRacyCommit`: time between validating a commit and applying its writes.
const RACE_WINDOW: Duration = Duration::from_millis(50);

/// A staged write: the body (`None`: deleted) and its provisional tag.
#[derive(Debug, Clone)]
pub(super) struct Staged {
    pub body: Option<Value>,
    pub tag: String,
}

/// How a transaction ended, kept to answer a repeated commit.
#[derive(Debug, Clone)]
pub(super) enum Ended {
    Committed(Vec<Value>),
    Aborted(Vec<Value>),
    RolledBack,
}

#[derive(Debug)]
pub(super) struct Tx {
    pub ttl_ms: u64,
    pub expires: Instant,
    pub ended: Option<Ended>,
    /// The version each touched document had when first touched, with its body.
    pub pinned: HashMap<String, Option<(u64, Value)>>,
    pub staged: HashMap<String, Staged>,
    /// Written documents in first-write order.
    pub order: Vec<String>,
    pub writes: u64,
}

/// A write a commit applies: the document and its new version and body (`None`:
/// deleted).
type Write = (String, Option<(u64, Value)>);

/// Every transaction, and the writes of racy commits not yet applied.
#[derive(Debug, Default)]
pub(super) struct TxTable {
    pub txs: HashMap<String, Tx>,
    pub next: u64,
    pending: Vec<(Instant, Vec<Write>)>,
}

impl Emulator {
    /// Whether transaction `id` is open now (not ended, not expired).
    pub(super) fn is_open(&self, st: &State, id: &str, now: Instant) -> bool {
        st.txs.txs.get(id).is_some_and(|tx| {
            tx.ended.is_none() && (now < tx.expires || self.has(Fault::TxNeverExpires))
        })
    }

    pub(super) fn tx_not_found(&self, id: &str) -> ResponseTemplate {
        let detail =
            format!("no open transaction {id} (never begun, expired or ended); begin a new one");
        self.problem(404, "transaction-not-found", &detail, None)
    }

    pub(super) fn tx_route(&self, st: &mut State, req: &Request, rest: &str) -> ResponseTemplate {
        let method = req.method.as_str();
        let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
        match (method, parts.as_slice()) {
            ("POST", []) => self.begin_tx(st, req),
            ("GET", [id]) => self.show_tx(st, id),
            ("DELETE", [id]) => self.roll_back_tx(st, id),
            ("POST", [id, "commit"]) => self.commit_tx(st, id),
            _ => self.problem(405, "method-not-allowed", "POST /transactions, GET or DELETE /transactions/{id}, POST /transactions/{id}/commit", None),
        }
    }

    fn begin_tx(&self, st: &mut State, req: &Request) -> ResponseTemplate {
        let mut ttl_ms = DEFAULT_TTL_MS;
        if !req.body.iter().all(u8::is_ascii_whitespace) {
            let body = match self.json_body(req, "application/json") {
                Ok(body) => body,
                Err(refused) => return refused,
            };
            let fields = body.as_object().cloned().unwrap_or_default();
            if fields.keys().any(|k| k != "ttl_ms") {
                return self.problem(400, "malformed-body", "the only member is ttl_ms", None);
            }
            ttl_ms = fields
                .get("ttl_ms")
                .and_then(Value::as_u64)
                .unwrap_or(ttl_ms);
        }
        let ttl_ms = ttl_ms.clamp(1, MAX_TTL_MS);
        st.txs.next += 1;
        let id = format!("tx-{}-emu", st.txs.next);
        let expires = Instant::now() + Duration::from_millis(ttl_ms);
        let tx = Tx {
            ttl_ms,
            expires,
            ended: None,
            pinned: HashMap::new(),
            staged: HashMap::new(),
            order: Vec::new(),
            writes: 0,
        };
        st.txs.txs.insert(id.clone(), tx);
        let body = json!({ "id": id, "state": "open", "expires_at_ms": unix_ms(expires), "ttl_ms": ttl_ms });
        let answer = ResponseTemplate::new(if self.has(Fault::TxBegin200) {
            200
        } else {
            201
        })
        .set_body_json(body);
        if self.has(Fault::TxBegin200) {
            return answer;
        }
        answer.insert_header("Location", format!("/transactions/{id}").as_str())
    }

    fn show_tx(&self, st: &State, id: &str) -> ResponseTemplate {
        let now = Instant::now();
        let Some(tx) = st.txs.txs.get(id) else {
            return self.tx_not_found(id);
        };
        let state = match &tx.ended {
            None if self.is_open(st, id, now) => "open",
            Some(Ended::Committed(_)) => "committed",
            Some(Ended::Aborted(_)) => "aborted",
            _ => return self.tx_not_found(id),
        };
        ResponseTemplate::new(200).set_body_json(json!({
            "id": id, "state": state, "expires_at_ms": unix_ms(tx.expires), "ttl_ms": tx.ttl_ms,
            "reads": tx.pinned.len(), "writes": tx.order.len(),
        }))
    }

    fn roll_back_tx(&self, st: &mut State, id: &str) -> ResponseTemplate {
        if !self.is_open(st, id, Instant::now()) {
            return self.tx_not_found(id);
        }
        if self.has(Fault::TxRollbackCommits) {
            self.apply(st, id);
        }
        if let Some(tx) = st.txs.txs.get_mut(id) {
            tx.ended = Some(Ended::RolledBack);
        }
        ResponseTemplate::new(204)
    }

    fn commit_tx(&self, st: &mut State, id: &str) -> ResponseTemplate {
        let now = Instant::now();
        let ended = st.txs.txs.get(id).and_then(|tx| tx.ended.clone());
        match ended {
            Some(Ended::Committed(_)) if self.has(Fault::TxRecommitApplies) => {
                let results = self.apply(st, id);
                return self.committed(id, results);
            }
            Some(Ended::Committed(results)) => return self.committed(id, results),
            Some(Ended::Aborted(conflicts)) => return self.conflicted(conflicts),
            _ if !self.is_open(st, id, now) => return self.tx_not_found(id),
            _ => {}
        }
        let conflicts = self.conflicts(st, id);
        let tx = st.txs.txs.get_mut(id).expect("open above");
        if !conflicts.is_empty() {
            tx.ended = Some(Ended::Aborted(conflicts.clone()));
            return self.conflicted(conflicts);
        }
        if let Some(refused) = self.commit_locked(st, id, now) {
            return refused;
        }
        let results = self.apply(st, id);
        if let Some(tx) = st.txs.txs.get_mut(id) {
            tx.ended = Some(Ended::Committed(results.clone()));
        }
        let answer = self.committed(id, results);
        if self.has(Fault::TxRacyCommit) {
            return answer.set_delay(RACE_WINDOW);
        }
        answer
    }

    /// 423 when a document the transaction writes is locked now, and the
    /// transaction is over (`TxCommitIgnoresLocks`: locks are not looked at).
    fn commit_locked(&self, st: &mut State, id: &str, now: Instant) -> Option<ResponseTemplate> {
        if self.has(Fault::TxCommitIgnoresLocks) {
            return None;
        }
        let lease = st.txs.txs[id]
            .order
            .iter()
            .find_map(|doc| Self::busy_for_writer(st, doc, now))?;
        if let Some(tx) = st.txs.txs.get_mut(id) {
            tx.ended = Some(Ended::Aborted(Vec::new()));
        }
        let detail =
            "a document the transaction writes is locked by someone else; nothing was applied";
        Some(self.locked(&lease, detail, true))
    }

    /// Every pinned version that is no longer the committed one (`TxWriteSkew`:
    /// only of the documents the transaction wrote).
    fn conflicts(&self, st: &State, id: &str) -> Vec<Value> {
        let tx = &st.txs.txs[id];
        let tag = |v: Option<u64>| v.map(|v| self.etag(v));
        tx.pinned
            .iter()
            .filter(|(doc, _)| !self.has(Fault::TxWriteSkew) || tx.staged.contains_key(*doc))
            .filter_map(|(doc, pin)| {
                let read = pin.as_ref().map(|(v, _)| *v);
                let current = st.docs.get(doc).map(|d| d.version);
                (read != current).then(|| {
                    json!({ "path": format!("/items/{doc}"), "read_etag": tag(read), "current_etag": tag(current) })
                })
            })
            .collect()
    }

    /// Applies the staged writes of `id` (later, with `TxRacyCommit`): the results.
    fn apply(&self, st: &mut State, id: &str) -> Vec<Value> {
        let tx = &st.txs.txs[id];
        let writes: Vec<(String, Option<Value>)> = tx
            .order
            .iter()
            .map(|doc| (doc.clone(), tx.staged[doc].body.clone()))
            .collect();
        let (mut results, mut later) = (Vec::new(), Vec::new());
        for (doc, body) in writes {
            let path = format!("/items/{doc}");
            let Some(body) = body else {
                results.push(json!({ "path": path, "status": 204 }));
                if !self.has(Fault::TxCommitSkipsDeletes) {
                    later.push((doc, None));
                }
                continue;
            };
            let status = if st.docs.contains_key(&doc) { 200 } else { 201 };
            let version = Self::next_version(st);
            results.push(json!({ "path": path, "status": status, "etag": self.etag(version) }));
            later.push((doc, Some((version, body))));
        }
        if self.has(Fault::TxRacyCommit) {
            st.txs.pending.push((Instant::now() + RACE_WINDOW, later));
        } else {
            Self::place_all(st, later);
        }
        results
    }

    /// Applies the racy commits whose time has come.
    pub(super) fn apply_due(st: &mut State) {
        let now = Instant::now();
        let (due, waiting) = std::mem::take(&mut st.txs.pending)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        st.txs.pending = waiting;
        for (_, writes) in due {
            Self::place_all(st, writes);
        }
    }

    fn place_all(st: &mut State, writes: Vec<Write>) {
        for (doc, write) in writes {
            match write {
                Some((version, body)) => Self::place(st, &doc, version, body),
                None => {
                    st.docs.remove(&doc);
                    Self::forget_locks(st, &doc);
                }
            }
        }
    }

    fn committed(&self, id: &str, results: Vec<Value>) -> ResponseTemplate {
        ResponseTemplate::new(200)
            .set_body_json(json!({ "id": id, "state": "committed", "results": results }))
    }

    fn conflicted(&self, conflicts: Vec<Value>) -> ResponseTemplate {
        let mut members = Map::new();
        members.insert("conflicts".into(), Value::from(conflicts));
        let detail =
            "documents the transaction read changed since; nothing was applied. Run it again";
        self.problem_with(409, "transaction-conflict", detail, None, members)
    }
}
