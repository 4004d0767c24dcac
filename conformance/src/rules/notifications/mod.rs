//! The `notifications` profile: every refused conditional write is recorded as a
//! conflict in a log (`GET {conflicts}`, `GET {conflicts}/{id}`), subscribers of
//! `GET {conflicts}/stream` (Server-Sent Events) hear of it as it happens, and the
//! client that caused it (or an admin) resolves it with `POST
//! {conflicts}/{id}/resolve`. Every verdict is judged by state: the record read
//! back, the events a subscriber received, the document re-read.

mod auth;
mod catalogue;
mod config;
mod filters;
mod record;
mod resolve;
mod stream;

use serde_json::{json, Value};

pub(super) use catalogue::RULES;
pub use config::{
    Identity, NotifyConfig, ADMIN_TOKEN_ENV, DEFAULT_CONFLICTS_PATH, DEFAULT_SSE_WAIT,
    OTHER_TOKEN_ENV, TOKEN_ENV,
};

use super::context::Snapshot;
use super::{resolve as resolve_url, Abort, Cx};
use crate::http::{Exchange, Req};

/// Who a request is sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Who {
    /// The client the suite writes as (`--token`), anonymous without one.
    Writer,
    /// Another client (`--other-token`).
    Other,
    /// An admin (`--admin-token`).
    Admin,
    /// No `Authorization` at all.
    Anonymous,
    /// A bearer token no server issued.
    Unknown,
}

/// A token no server issued, for the 401 of an unknown token.
const UNKNOWN_TOKEN: &str = "ifmatch-conformance-not-a-token";

/// `req` sent as `who`.
pub(super) fn as_who(cx: &Cx, req: Req, who: Who) -> Req {
    let notify = cx.notify();
    let identity = match who {
        Who::Writer => notify.writer.as_ref(),
        Who::Other => notify.other.as_ref(),
        Who::Admin => notify.admin.as_ref(),
        Who::Anonymous => None,
        Who::Unknown => return req.header("Authorization", format!("Bearer {UNKNOWN_TOKEN}")),
    };
    match identity {
        Some(id) => req.header("Authorization", id.bearer()),
        None => req,
    }
}

/// Skips a rule that needs identities the run was not given.
pub(super) fn needs(cx: &Cx, who: &[Who]) -> Result<(), Abort> {
    let notify = cx.notify();
    let missing: Vec<&str> = who
        .iter()
        .filter_map(|w| match w {
            Who::Writer if notify.writer.is_none() => {
                Some("--token NAME=TOKEN (or IFMATCH_CONFORMANCE_TOKEN) for the client the suite writes as")
            }
            Who::Other if notify.other.is_none() => {
                Some("--other-token NAME=TOKEN (or IFMATCH_CONFORMANCE_OTHER_TOKEN) for a second client")
            }
            Who::Admin if notify.admin.is_none() => {
                Some("--admin-token NAME=TOKEN (or IFMATCH_CONFORMANCE_ADMIN_TOKEN) for an admin")
            }
            _ => None,
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Abort::Prerequisite(format!(
        "this rule needs tokens the run was not given: pass {}",
        missing.join(", and ")
    )))
}

/// A document changed once, so that its first tag is stale.
#[derive(Debug, Clone)]
pub(super) struct Prepared {
    /// Its absolute URL.
    pub url: String,
    /// The tag it had first (now stale), quoted.
    pub stale: String,
    /// The `Version` header of the first read, if the server sends one.
    pub stale_version: Option<String>,
    /// The document as changed.
    pub current: Snapshot,
}

/// A stale write the server refused.
#[derive(Debug, Clone)]
pub(super) struct Refused {
    /// The body of the refused PUT.
    pub mine: Value,
    /// The refusal.
    pub answer: Exchange,
    /// The problem's `conflict_id`.
    pub id: Option<String>,
    /// The record's URL: the problem's `conflict_url`, else `{conflicts}/{id}`.
    pub record_url: Option<String>,
}

/// A refusal that named its record.
#[derive(Debug, Clone)]
pub(super) struct Conflict {
    /// The document.
    pub doc: Prepared,
    /// The refused body.
    pub mine: Value,
    /// The record's `id`.
    pub id: String,
    /// The record's URL.
    pub record_url: String,
    /// The record's `resource` as the server wrote it (the filter value).
    pub resource: String,
}

/// The `Version` header of an answer.
pub(super) fn version_of(exchange: &Exchange) -> Option<String> {
    exchange.header("version").map(|v| v.trim().to_owned())
}

/// Creates a document and changes it once (as the writer), so that its first
/// tag is stale.
pub(super) async fn prepare(cx: &Cx) -> Result<Prepared, Abort> {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let first = cx.snapshot(&fx.url).await?;
    let stale = fx.etag.to_string();
    let change = Req::put(&fx.url)
        .json(&cx.doc(json!({ "n": 2, "by": "theirs" })))
        .header("If-Match", stale.clone());
    let changed = cx.send(as_who(cx, change, Who::Writer)).await?;
    if changed.status() / 100 != 2 {
        return Err(Abort::Prerequisite(format!(
            "could not change a test document: PUT {} with its current If-Match answered {}",
            fx.url,
            changed.status()
        )));
    }
    Ok(Prepared {
        stale_version: version_of(&first.exchange),
        current: cx.snapshot(&fx.url).await?,
        url: fx.url,
        stale,
    })
}

/// PUTs `doc` with its stale tag as the writer; anything but 412 or 409 skips the
/// rule (the core rules judge stale writes).
pub(super) async fn refuse(cx: &Cx, doc: &Prepared, n: i64) -> Result<Refused, Abort> {
    let mine = cx.doc(json!({ "n": 100 + n, "by": "mine" }));
    let put = Req::put(&doc.url)
        .json(&mine)
        .header("If-Match", doc.stale.clone());
    let answer = cx.send(as_who(cx, put, Who::Writer)).await?;
    if !matches!(answer.status(), 409 | 412) {
        return Err(Abort::Prerequisite(format!(
            "PUT {} with a stale If-Match answered {} instead of 412; core.if-match.stale-put judges that",
            doc.url,
            answer.status()
        )));
    }
    let problem = answer.json().unwrap_or(Value::Null);
    let id = problem
        .get("conflict_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let record_url = match (problem.get("conflict_url").and_then(Value::as_str), &id) {
        (Some(url), _) => resolve_url(&answer.request.url, url),
        (None, Some(id)) => Some(format!("{}/{id}", cx.conflicts_url())),
        (None, None) => None,
    };
    Ok(Refused {
        mine,
        answer,
        id,
        record_url,
    })
}

/// A stale write of `doc` refused with a named record; without one the rule is
/// skipped (`notifications.conflict-recorded` judges that).
pub(super) async fn conflict_on(cx: &Cx, doc: &Prepared, n: i64) -> Result<Conflict, Abort> {
    let refused = refuse(cx, doc, n).await?;
    let (Some(id), Some(record_url)) = (refused.id, refused.record_url) else {
        return Err(Abort::Prerequisite(format!(
            "the refusal of a stale PUT of {} named no conflict_id; notifications.conflict-recorded judges that",
            doc.url
        )));
    };
    let (read, record) = read_record(cx, &record_url).await?;
    let resource = record
        .as_ref()
        .and_then(|r| r.get("resource"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Abort::Prerequisite(format!(
                "GET {record_url} answered {} without a record naming its resource; notifications.conflict-recorded judges that",
                read.status()
            ))
        })?
        .to_owned();
    Ok(Conflict {
        doc: doc.clone(),
        mine: refused.mine,
        id,
        record_url,
        resource,
    })
}

/// A fresh document and one conflict on it.
pub(super) async fn conflict(cx: &Cx) -> Result<Conflict, Abort> {
    let doc = prepare(cx).await?;
    conflict_on(cx, &doc, 1).await
}

/// `GET` a record (as the writer): the exchange and the record, if 200 JSON.
pub(super) async fn read_record(cx: &Cx, url: &str) -> Result<(Exchange, Option<Value>), Abort> {
    let read = cx.send(as_who(cx, Req::get(url), Who::Writer)).await?;
    let record = (read.status() == 200)
        .then(|| read.json())
        .flatten()
        .filter(Value::is_object);
    Ok((read, record))
}

/// A record's `state`.
pub(super) fn state_of(record: &Value) -> Option<&str> {
    record.get("state").and_then(Value::as_str)
}

/// A string member at `path` (e.g. `["based_on", "etag"]`).
pub(super) fn text_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |v, key| v.get(*key))
        .and_then(Value::as_str)
}

/// Whether the recorded `resource` names the document at `url`: the same path,
/// or its tail (a server records unprefixed paths, `/items/x` for `/v1/items/x`).
pub(super) fn names_document(resource: &str, url: &str) -> bool {
    let path = super::transactions::path_of(url);
    resource.starts_with('/') && (path == resource || path.ends_with(resource))
}

/// Skips the rule when the server has no conflict log at the configured path.
pub(super) async fn offers_log(cx: &Cx) -> Result<(), Abort> {
    let url = cx.conflicts_url();
    let answer = cx.send(as_who(cx, Req::get(url), Who::Writer)).await?;
    if matches!(answer.status(), 404 | 405 | 501) {
        return Err(Abort::Prerequisite(format!(
            "the server offers no conflict log: GET {url} answered {}; point --conflicts-path at it, or leave the notifications profile out",
            answer.status()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::names_document;

    #[test]
    fn resources_name_documents_by_path_or_unprefixed_tail() {
        assert!(names_document("/items/7", "http://h:1/items/7"));
        assert!(names_document("/items/7", "http://h:1/v1/items/7"));
        assert!(!names_document("/items/7", "http://h:1/items/77"));
        assert!(!names_document("items/7", "http://h:1/items/7"));
        assert!(!names_document("/items/8", "http://h:1/items/7"));
    }
}
