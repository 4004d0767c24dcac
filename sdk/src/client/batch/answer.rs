//! Reading a batch's answer: the results and what the cache and the locks learn from them,
//! or the refused operation's error as the single request would have had it.

use std::sync::Arc;

use http::Method;
use url::Url;

use crate::{
    batch::{
        wire::{failed_operation, parse_results, url_under, Answered, Prepared},
        BatchOp, BatchResult, OpResult,
    },
    cache::CacheEntry,
    lock::LockState,
    precondition::Header,
    stats::Counters,
    transport::Incoming,
    Error, Problem,
};

use super::super::{exchange::Exchanged, send_write::with_create_only, Client};

/// A batch (or a commit) on the wire, for reading its answer.
pub(in crate::client) struct Sent<'a> {
    pub url: &'a str,
    /// What the paths in the answer are relative to.
    pub root: &'a Url,
    pub prepared: &'a [Prepared],
    /// The lock each operation was made under.
    pub held: &'a [Option<Arc<LockState>>],
}

impl Sent<'_> {
    /// Wraps an operation's error.
    fn failed(&self, index: usize, sent: bool, error: Error) -> Error {
        let op = &self.prepared[index];
        batch_error(self.url, index, op.op, target_of(op), sent, error)
    }
}

pub(super) fn batch_error(
    url: &str,
    operation: usize,
    op: BatchOp,
    target: String,
    sent: bool,
    error: Error,
) -> Error {
    Error::Batch {
        url: url.to_owned(),
        operation,
        op,
        target,
        sent,
        error: Box::new(error),
    }
}

/// How an error names the operation's document: its path, its `ref`, or a create's `lid`.
fn target_of(op: &Prepared) -> String {
    match (&op.path, &op.reference, &op.lid) {
        (Some(path), _, _) => path.clone(),
        (None, Some(lid), _) => format!("lid {lid:?}"),
        (None, None, Some(lid)) => format!("as {lid:?}"),
        (None, None, None) => String::new(),
    }
}

impl Client {
    /// A 2xx: the results, and what the cache and the locks learn from them.
    pub(super) fn batch_applied(
        &self,
        sent: &Sent<'_>,
        exchanged: &Exchanged,
    ) -> Result<BatchResult, Error> {
        let answered = match parse_results(&exchanged.response.body, Some(sent.prepared.len())) {
            Ok(answered) => answered,
            Err(reason) => {
                // Applied, but at versions we cannot tell: nothing cached about them is true.
                for url in sent.prepared.iter().filter_map(|op| op.url.as_ref()) {
                    self.inner.cache.remove(&self.key(url));
                }
                return Err(Error::Decode {
                    url: sent.url.to_owned(),
                    source: serde::de::Error::custom(format!(
                        "{reason}; the batch was applied (200), so read its documents again"
                    )),
                });
            }
        };
        let mut results = Vec::with_capacity(answered.len());
        for ((answer, op), lock) in answered.into_iter().zip(sent.prepared).zip(sent.held) {
            let result = self.op_result(sent, answer, Some(op))?;
            self.learn(op.op, &result);
            if op.op == BatchOp::Delete {
                self.lock_used(lock.as_deref(), &Method::DELETE);
            }
            results.push(result);
        }
        let lids = sent
            .prepared
            .iter()
            .enumerate()
            .filter_map(|(index, op)| op.lid.clone().map(|lid| (lid, index)))
            .collect();
        Ok(BatchResult {
            results,
            lids,
            attempts: exchanged.attempts,
        })
    }

    /// One result of a batch (`op` is the operation it answers) or a commit (`None`).
    pub(in crate::client) fn op_result(
        &self,
        sent: &Sent<'_>,
        answer: Answered,
        op: Option<&Prepared>,
    ) -> Result<OpResult, Error> {
        let undecodable = |reason: String| Error::Decode {
            url: sent.url.to_owned(),
            source: serde::de::Error::custom(reason),
        };
        let path = answer
            .path
            .or_else(|| op.and_then(|op| op.path.clone()))
            .ok_or_else(|| undecodable("a result names no `path`".into()))?;
        let status = http::StatusCode::from_u16(answer.status)
            .map_err(|_| undecodable(format!("status {} is not an HTTP status", answer.status)))?;
        let etag = match answer.etag {
            Some(Ok(tag)) => Some(tag),
            Some(Err(raw)) => {
                Counters::bump(&self.inner.counters.malformed_headers);
                tracing::warn!(etag = %raw, %path, "ignoring a malformed etag in a batch result");
                None
            }
            None => None,
        };
        Ok(OpResult {
            op: op.map(|op| op.op).or(answer.op),
            status,
            url: url_under(sent.root, &path),
            path,
            etag,
            body: answer.body,
        })
    }

    /// What the cache learns from one result: the stored document at its new version, a
    /// deletion, or (a check) whether the cached version is still current.
    pub(in crate::client) fn learn(&self, op: BatchOp, result: &OpResult) {
        let key = self.key(&result.url);
        let strong = result.etag.clone().filter(|tag| !tag.is_weak());
        match (op, strong, &result.body) {
            (BatchOp::Delete, _, _) => self.inner.cache.remove(&key),
            (BatchOp::Check, Some(tag), _) => {
                if self.inner.cache.get(&key).is_some_and(|e| e.etag != tag) {
                    self.inner.cache.remove(&key);
                }
            }
            (BatchOp::Check, None, _) => {}
            (_, Some(etag), Some(body)) => self.inner.cache.put(
                key,
                CacheEntry {
                    etag,
                    body: Arc::new(body.clone()),
                },
            ),
            // Written, but not known as what: what the cache held is out of date.
            _ => self.inner.cache.remove(&key),
        }
    }

    /// A refusal: the failed operation's error as the single request would have had it.
    pub(super) fn batch_refused(&self, sent: &Sent<'_>, exchanged: &Exchanged) -> Error {
        let Exchanged {
            response,
            attempts,
            resent_after_503,
        } = exchanged;
        let problem = Problem::from_json(&response.body);
        let Some(index) = failed_operation(problem.as_ref(), sent.prepared.len()) else {
            return self.error_for(&Method::POST, sent.url, response, *attempts, None);
        };
        let op = &sent.prepared[index];
        let doc_url = op
            .url
            .clone()
            .or_else(|| problem_path(problem.as_ref()).map(|p| url_under(sent.root, &p)))
            .unwrap_or_else(|| sent.url.to_owned());
        let sent_tag = match &op.precondition {
            Header::IfMatch(tag) => Some(tag),
            _ => None,
        };
        let err = self.error_for(&op.op.method(), &doc_url, response, *attempts, sent_tag);
        let err = with_create_only(err, op.precondition == Header::IfNoneMatchAny);
        let err = self.lock_refused(sent.held[index].as_deref(), err);
        if *resent_after_503 && (err.is_conflict() || err.is_not_found()) {
            return ambiguous(sent, index, response);
        }
        if let Some(status) = err.status().filter(|_| err.is_conflict()) {
            let counters = &self.inner.counters;
            Counters::bump(if status == http::StatusCode::CONFLICT {
                &counters.conflicts_409
            } else {
                &counters.conflicts_412
            });
            self.inner.cache.remove(&self.key(&doc_url));
        }
        sent.failed(index, true, err)
    }
}

/// A batch resent after a 503 was refused: perhaps because the attempt answered 503 had been
/// applied. Nothing tells which, so the caller must read before sending it again.
fn ambiguous(sent: &Sent<'_>, index: usize, response: &Incoming) -> Error {
    let op = &sent.prepared[index];
    Error::OutcomeUnknown {
        method: Method::POST,
        url: sent.url.to_owned(),
        status: response.status,
        reason: format!(
            "operation {index} ({} {}) may have been refused because that earlier attempt applied the batch",
            op.op,
            target_of(op)
        ),
    }
}

pub(in crate::client) fn problem_path(problem: Option<&Problem>) -> Option<String> {
    problem?.extensions.get("path")?.as_str().map(str::to_owned)
}
