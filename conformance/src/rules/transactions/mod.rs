//! The `transactions` profile: atomic batches (`POST {batch}` with an ordered list of
//! operations, applied all or not at all) and interactive transactions (`POST
//! {transactions}` begins one; requests with `Transaction-Id` act inside it; `POST
//! {transaction}/commit` applies it or answers 409), judged by re-reading every
//! document through plain GETs outside any transaction.
//!
//! Batches and transactions are detected separately: a server may offer one without
//! the other. Every transaction a check begins is committed or rolled back by the
//! check, or rolled back by the runner's cleanup.

mod batch;
mod batch_refusals;
mod catalogue;
mod commit;
mod ending;
mod interactive;
mod locked;
mod serializable;

use std::time::Instant;

use serde_json::{json, Value};

pub(super) use catalogue::RULES;

use super::context::Snapshot;
use super::{resolve, Abort, Cx, Evidence, Finding};
use crate::http::{Exchange, Probe, Req};

/// Where batches are sent by default, relative to the base URL.
pub const DEFAULT_BATCH_PATH: &str = "/batch";
/// Where transactions begin by default, relative to the base URL.
pub const DEFAULT_TRANSACTIONS_PATH: &str = "/transactions";
/// The request header that names the transaction a request acts in.
pub const TRANSACTION_HEADER: &str = "Transaction-Id";
/// A transaction's lifetime long enough that it never runs out while a check works.
const LONG_TTL_MS: u64 = 10_000;

/// The path a batch operation names a document by (`/items/7`).
pub(super) fn path_of(url: &str) -> String {
    reqwest::Url::parse(url).map_or_else(|_| url.to_owned(), |u| u.path().to_owned())
}

/// A batch operation: `{"op": kind, "path": path}` plus `extra` members.
pub(super) fn op(kind: &str, url: &str, extra: Value) -> Value {
    let mut op = json!({ "op": kind, "path": path_of(url) });
    if let (Some(target), Value::Object(extra)) = (op.as_object_mut(), extra) {
        target.extend(extra);
    }
    op
}

/// `POST {batch}` with `operations`; every document a result names is remembered
/// for cleanup.
pub(super) async fn send_batch(cx: &Cx, operations: Vec<Value>) -> Result<Exchange, Abort> {
    let body = json!({ "operations": operations });
    let answer = cx.send(Req::post(cx.batch_url()).json(&body)).await?;
    for result in results(&answer).unwrap_or_default() {
        if let Some(url) = result_url(cx, &result) {
            cx.remember(url);
        }
    }
    Ok(answer)
}

/// The `results` array of a batch's (or a commit's) answer.
pub(super) fn results(answer: &Exchange) -> Option<Vec<Value>> {
    answer.json()?.get("results")?.as_array().cloned()
}

/// The absolute URL of the document a result names.
pub(super) fn result_url(cx: &Cx, result: &Value) -> Option<String> {
    let path = result.get("path")?.as_str()?;
    resolve(cx.collection_url(), path)
}

/// A result's member `name` as a string.
pub(super) fn text<'a>(value: &'a Value, name: &str) -> Option<&'a str> {
    value.get(name).and_then(Value::as_str)
}

/// `body` with the members of `patch` set (a merge patch without deletions).
pub(super) fn merged(body: &Value, patch: &Value) -> Value {
    let mut out = body.clone();
    if let (Some(target), Some(patch)) = (out.as_object_mut(), patch.as_object()) {
        target.extend(patch.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    out
}

/// Judges the status of a batch refused for a stale `if_match` whose state was
/// left unchanged: 412 passes with `passed`; 409 is non-strict when declared with
/// `--mismatch-status 409` and a warning when not; anything else breaks the rule.
pub(super) fn stale_verdict(cx: &Cx, answer: &Exchange, what: &str, passed: &str) -> Finding {
    match answer.status() {
        412 => Finding::Pass(format!("{what} answered 412; {passed}")),
        409 if cx.accepts_409() => Finding::NonStrict(format!(
            "{what} answered 409 (declared with --mismatch-status 409; RFC 9110 prefers 412); {passed}"
        )),
        409 => Finding::Warn(Evidence {
            expectation: format!(
                "{what} is refused with 412 Precondition Failed, the status of the single request; declare --mismatch-status 409 to accept 409"
            ),
            observed: "409 Conflict (state unchanged)".into(),
            exchange: Some(answer.clone()),
            write: None,
        }),
        other => Finding::violation(
            format!("{what} is refused with 412 Precondition Failed, the status of the failing operation"),
            format!("the batch answered {other} (state unchanged)"),
            answer,
        ),
    }
}

/// A fixture written once more, so that its first tag is stale: `(stale tag,
/// snapshot of the current state)`.
pub(super) async fn outdated(cx: &Cx, n: i64) -> Result<(String, Snapshot), Abort> {
    let fx = cx.fixture(cx.doc(json!({ "n": n }))).await?;
    let stale = fx.etag.to_string();
    let write = cx
        .send(
            Req::put(&fx.url)
                .json(&cx.doc(json!({ "n": n + 1 })))
                .header("If-Match", stale.clone()),
        )
        .await?;
    if write.status() / 100 != 2 {
        return Err(Abort::Prerequisite(format!(
            "could not make an ETag stale: PUT {} with its current If-Match answered {}",
            fx.url,
            write.status()
        )));
    }
    Ok((stale, cx.snapshot(&fx.url).await?))
}

/// An open transaction the suite began.
#[derive(Debug, Clone)]
pub(super) struct Tx {
    /// Its URL (from `Location`).
    pub url: String,
    /// Its id, the `Transaction-Id` value.
    pub id: String,
    /// The lifetime the server says it granted.
    pub ttl_ms: Option<u64>,
    /// When its 201 arrived.
    pub begun: Instant,
}

impl Tx {
    /// `req` acting inside the transaction.
    pub fn within(&self, req: Req) -> Req {
        req.header(TRANSACTION_HEADER, self.id.clone())
    }

    /// `POST {transaction}/commit`.
    pub fn commit_url(&self) -> String {
        commit_url(&self.url)
    }
}

/// The commit URL of the transaction at `url`.
pub(super) fn commit_url(url: &str) -> String {
    format!("{}/commit", url.trim_end_matches('/'))
}

/// Reads a transaction out of a begin's answer: `Location` (resolved against the
/// URL it was begun at) and the body's `id`.
pub(super) fn begun(answer: &Exchange) -> Option<Tx> {
    let body = answer.json()?;
    let id = body.get("id")?.as_str()?.to_owned();
    let url = resolve(&answer.request.url, answer.header("location")?)?;
    Some(Tx {
        url,
        id,
        ttl_ms: body.get("ttl_ms").and_then(Value::as_u64),
        begun: Instant::now(),
    })
}

/// `POST {transactions}` with `{"ttl_ms"}` sent by `probe`; a 201 that names a
/// transaction is the transaction.
pub(super) async fn try_begin(
    probe: &Probe,
    transactions_url: &str,
    ttl_ms: u64,
) -> Result<(Exchange, Option<Tx>), Abort> {
    let begin = Req::post(transactions_url).json(&json!({ "ttl_ms": ttl_ms }));
    let answer = probe.send(begin).await?;
    let tx = (answer.status() == 201).then(|| begun(&answer)).flatten();
    Ok((answer, tx))
}

/// Begins a transaction; a check that cannot is skipped (`tx-begin-201` judges that).
pub(super) async fn open(cx: &Cx, ttl_ms: u64) -> Result<Tx, Abort> {
    let (answer, tx) = try_begin(&cx.probe, cx.transactions_url(), ttl_ms).await?;
    let Some(tx) = tx else {
        return Err(Abort::Prerequisite(format!(
            "could not begin a transaction: POST {} answered {}",
            answer.request.url,
            answer.status()
        )));
    };
    cx.remember_transaction(&tx.url);
    Ok(tx)
}

/// `POST {transaction}/commit`; the transaction is over whatever it answers.
pub(super) async fn commit(cx: &Cx, tx: &Tx) -> Result<Exchange, Abort> {
    let answer = cx.send(Req::post(&tx.commit_url())).await?;
    cx.forget_transaction(&tx.url);
    Ok(answer)
}

/// `DELETE {transaction}` (roll back).
pub(super) async fn roll_back(cx: &Cx, tx: &Tx) -> Result<Exchange, Abort> {
    let answer = cx.send(Req::delete(&tx.url)).await?;
    cx.forget_transaction(&tx.url);
    Ok(answer)
}

/// Sends a write inside `tx` that the check builds on; a refusal skips the check.
pub(super) async fn staged(cx: &Cx, tx: &Tx, req: Req, what: &str) -> Result<Exchange, Abort> {
    let answer = cx.send(tx.within(req)).await?;
    if answer.status() / 100 != 2 {
        return Err(Abort::Prerequisite(format!(
            "{what} inside the transaction answered {}; the rules about writing inside a transaction cannot be judged",
            answer.status()
        )));
    }
    Ok(answer)
}

/// `POST {collection}` inside `tx`: the absolute URL of the document it will create
/// (remembered for cleanup, in case it lands).
pub(super) async fn create_within(cx: &Cx, tx: &Tx, body: &Value) -> Result<String, Abort> {
    let answer = staged(cx, tx, Req::post(cx.collection_url()).json(body), "a POST").await?;
    let url = answer
        .header("location")
        .and_then(|loc| resolve(cx.collection_url(), loc))
        .ok_or_else(|| {
            Abort::Prerequisite(format!(
                "a POST inside the transaction answered {} without a usable Location",
                answer.status()
            ))
        })?;
    cx.remember(url.clone());
    Ok(url)
}

/// The problem member `name` of an answer.
pub(super) fn member(answer: &Exchange, name: &str) -> Option<Value> {
    answer.json()?.get(name).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_name_documents_by_path() {
        assert_eq!(path_of("http://127.0.0.1:9/items/7"), "/items/7");
        assert_eq!(
            op("check", "http://h/items/7", json!({ "if_match": "\"1\"" })),
            json!({ "op": "check", "path": "/items/7", "if_match": "\"1\"" })
        );
        assert_eq!(
            commit_url("http://h/transactions/tx-1/"),
            "http://h/transactions/tx-1/commit"
        );
    }

    #[test]
    fn merged_sets_the_patch_members() {
        assert_eq!(
            merged(&json!({ "a": 1, "b": 2 }), &json!({ "b": 3, "c": 4 })),
            json!({ "a": 1, "b": 3, "c": 4 })
        );
    }
}
