//! Interactive transactions as plain data: the server's answers (begin, commit, conflicts), the
//! life of a transaction, and what a commit teaches the cache. The I/O lives with the client in
//! `client/transaction/`.

use std::{collections::HashMap, ops::Index, sync::Mutex, time::Duration};

use serde_json::Value;

use crate::{EntityTag, OpResult, Problem};

/// The server's answer to `POST /transactions`.
#[derive(Debug, PartialEq)]
pub(crate) struct Began {
    pub id: String,
    pub expires_at_ms: Option<u64>,
    pub ttl_ms: Option<u64>,
}

impl Began {
    /// Parses the answer; `None` when it names no transaction id.
    pub(crate) fn parse(body: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(body).ok()?;
        let id = value.get("id")?.as_str()?.to_owned();
        (!id.is_empty()).then(|| Self {
            id,
            expires_at_ms: value.get("expires_at_ms").and_then(Value::as_u64),
            ttl_ms: value.get("ttl_ms").and_then(Value::as_u64),
        })
    }
}

/// A document a transaction read (or wrote over) that changed before the commit, so the
/// commit was refused; from the `conflicts` member of a `transaction-conflict` problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleRead {
    pub(crate) path: String,
    pub(crate) url: String,
    pub(crate) read_etag: Option<EntityTag>,
    pub(crate) current_etag: Option<EntityTag>,
}

impl StaleRead {
    /// The document's path as the server named it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The document's absolute URL (the path resolved against the client's base URL).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The version the transaction saw; `None` when it saw the document absent.
    pub fn read_etag(&self) -> Option<&EntityTag> {
        self.read_etag.as_ref()
    }

    /// The version now; `None` when the document no longer exists.
    pub fn current_etag(&self) -> Option<&EntityTag> {
        self.current_etag.as_ref()
    }
}

/// The stale reads a `transaction-conflict` problem lists, with their paths resolved by
/// `resolve`. Entries without a `path` are skipped; tags that do not parse count as unknown.
pub(crate) fn stale_reads(problem: &Problem, resolve: impl Fn(&str) -> String) -> Vec<StaleRead> {
    let Some(conflicts) = problem
        .extensions
        .get("conflicts")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let tag = |entry: &Value, key: &str| {
        entry
            .get(key)
            .and_then(Value::as_str)
            .and_then(|raw| raw.parse().ok())
    };
    conflicts
        .iter()
        .filter_map(|entry| {
            let path = entry.get("path")?.as_str()?.to_owned();
            Some(StaleRead {
                url: resolve(&path),
                read_etag: tag(entry, "read_etag"),
                current_etag: tag(entry, "current_etag"),
                path,
            })
        })
        .collect()
}

/// Whether a problem is the server's `transaction-not-found`.
pub(crate) fn is_not_found(problem: &Problem) -> bool {
    problem.type_.ends_with("transaction-not-found")
}

/// Whether a problem is the server's `transaction-conflict`.
pub(crate) fn is_conflict(problem: &Problem) -> bool {
    problem.type_.ends_with("transaction-conflict")
}

/// The answer to a commit that was applied: one [`OpResult`] per document the transaction
/// wrote, in the order it first wrote them, with the documents' real (no longer provisional)
/// entity tags.
#[derive(Clone, Debug, PartialEq)]
pub struct CommitResult {
    pub(crate) id: String,
    pub(crate) results: Vec<OpResult>,
    pub(crate) attempts: u32,
}

impl CommitResult {
    /// The transaction's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The written documents' results (`path`, `url`, `status`, `etag`; no `body`).
    pub fn results(&self) -> &[OpResult] {
        &self.results
    }

    /// The result for the document at `url` (absolute, as [`OpResult::url`]) or `path` (as the
    /// server names it), if the transaction wrote it.
    pub fn find(&self, url_or_path: &str) -> Option<&OpResult> {
        self.results
            .iter()
            .find(|r| r.url == url_or_path || r.path == url_or_path)
    }

    /// How many documents were written.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// Whether the transaction wrote nothing.
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// The results, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, OpResult> {
        self.results.iter()
    }

    /// How many times the commit was sent (resends after 503 or a lost answer included).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl Index<usize> for CommitResult {
    type Output = OpResult;

    fn index(&self, index: usize) -> &OpResult {
        &self.results[index]
    }
}

impl<'a> IntoIterator for &'a CommitResult {
    type Item = &'a OpResult;
    type IntoIter = std::slice::Iter<'a, OpResult>;

    fn into_iter(self) -> Self::IntoIter {
        self.results.iter()
    }
}

/// Where a transaction is in its life, as far as this client knows.
#[derive(Clone, Debug)]
pub(crate) enum Phase {
    Open,
    Committed(CommitResult),
    /// Rolled back by the client (explicitly, or when dropped).
    RolledBack,
    /// Over at the server: its commit was refused (409, 423) or the server no longer knows it.
    Ended(String),
}

impl Phase {
    /// Why a request in (or a commit of) the transaction must not be sent; `None` while open.
    pub(crate) fn closed(&self) -> Option<String> {
        match self {
            Self::Open => None,
            Self::Committed(_) => Some("it was committed".into()),
            Self::RolledBack => Some("it was rolled back".into()),
            Self::Ended(why) => Some(why.clone()),
        }
    }
}

/// The life of one transaction and what its writes staged: for each written document's URL,
/// the body it will have once committed, when known (`None`: unknown, or deleted).
#[derive(Debug)]
pub(crate) struct Life {
    phase: Mutex<Phase>,
    staged: Mutex<HashMap<String, Option<Value>>>,
}

impl Default for Life {
    fn default() -> Self {
        Self {
            phase: Mutex::new(Phase::Open),
            staged: Mutex::new(HashMap::new()),
        }
    }
}

impl Life {
    pub(crate) fn phase(&self) -> Phase {
        self.phase.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Moves to `next`; returns the phase it left.
    pub(crate) fn set(&self, next: Phase) -> Phase {
        std::mem::replace(
            &mut *self.phase.lock().unwrap_or_else(|p| p.into_inner()),
            next,
        )
    }

    /// Moves an open transaction to `next`; `false` (and nothing changes) when it was not open.
    pub(crate) fn close(&self, next: Phase) -> bool {
        let mut phase = self.phase.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(*phase, Phase::Open) {
            *phase = next;
            true
        } else {
            false
        }
    }

    /// Records what a write in the transaction made of a document.
    pub(crate) fn stage(&self, url: &str, body: Option<Value>) {
        self.staged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(url.to_owned(), body);
    }

    /// The body a committed document has, when the transaction's writes said it.
    pub(crate) fn staged(&self, url: &str) -> Option<Value> {
        self.staged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(url)
            .cloned()
            .flatten()
    }
}

/// Milliseconds, for `ttl_ms`.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_begin_answer_needs_an_id() {
        let began = Began::parse(
            br#"{"id":"tx-1-8-c1","state":"open","expires_at_ms":1767225610000,"ttl_ms":10000}"#,
        )
        .unwrap();
        assert_eq!(
            began,
            Began {
                id: "tx-1-8-c1".into(),
                expires_at_ms: Some(1_767_225_610_000),
                ttl_ms: Some(10_000),
            }
        );
        assert_eq!(Began::parse(br#"{"id":""}"#), None);
        assert_eq!(Began::parse(br#"{"state":"open"}"#), None);
        assert_eq!(Began::parse(b"<html>"), None);
    }

    #[test]
    fn stale_reads_are_read_from_the_conflict_problem() {
        let problem = Problem::from_json(
            br#"{"type":"urn:ifmatch:problem:transaction-conflict","conflicts":[
                {"path":"/items/a","read_etag":"\"v41\"","current_etag":"\"v58\""},
                {"path":"/items/b","read_etag":null,"current_etag":"\"v3\""},
                {"read_etag":"\"x\""}]}"#,
        )
        .unwrap();
        assert!(is_conflict(&problem) && !is_not_found(&problem));
        let stale = stale_reads(&problem, |p| format!("http://h{p}"));
        assert_eq!(stale.len(), 2, "an entry without a path is skipped");
        assert_eq!(stale[0].url(), "http://h/items/a");
        assert_eq!(stale[0].read_etag(), Some(&"\"v41\"".parse().unwrap()));
        assert_eq!(stale[0].current_etag(), Some(&"\"v58\"".parse().unwrap()));
        assert_eq!(stale[1].read_etag(), None, "read as absent");
        let none = Problem::from_json(br#"{"type":"about:blank"}"#).unwrap();
        assert!(stale_reads(&none, str::to_owned).is_empty());
    }

    #[test]
    fn a_transaction_closes_once() {
        let life = Life::default();
        assert!(life.phase().closed().is_none());
        assert!(life.close(Phase::RolledBack));
        assert!(!life.close(Phase::Ended("late".into())), "already closed");
        assert_eq!(life.phase().closed().as_deref(), Some("it was rolled back"));
    }

    #[test]
    fn staged_bodies_are_known_only_when_a_write_said_them() {
        let life = Life::default();
        life.stage("u", Some(serde_json::json!({"n": 1})));
        life.stage("v", None);
        assert_eq!(life.staged("u"), Some(serde_json::json!({"n": 1})));
        assert_eq!(life.staged("v"), None);
        assert_eq!(life.staged("w"), None);
    }
}
