//! How a transaction is kept in its `ifmatch_txns` row: the staged state of an open one, and
//! how an ended one ended, as JSON text. Bodies are kept as text when they are UTF-8 (JSON
//! documents always are) and as hex otherwise, so every byte comes back as it went in.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::super::outcome::{CommitResult, Conflict, Ended, Outcome};
use super::super::state::{Phase, Summary, Tracked, Tx, View};
use super::super::TxId;
use crate::etag::EntityTag;
use crate::lock::{Lease, Snapshot};
use crate::lock::{LockToken, Refusal};
use crate::storage::{Document, StoreError};

fn bad(what: &str) -> StoreError {
    StoreError::from_message(&format!(
        "postgres: a stored transaction is malformed ({what})"
    ))
}

fn tag(etag: Option<&EntityTag>) -> Value {
    etag.map_or(Value::Null, |tag| Value::from(tag.to_string()))
}

fn read_tag(value: &Value) -> Result<Option<EntityTag>, StoreError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => EntityTag::parse(text).map(Some).ok_or_else(|| bad("tag")),
        _ => Err(bad("tag")),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Result<Vec<u8>, StoreError> {
    let digits = text.as_bytes();
    if digits.len() % 2 != 0 {
        return Err(bad("hex body"));
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| bad("hex body"))
        })
        .collect()
}

fn doc(doc: Option<&Document>) -> Value {
    let Some(doc) = doc else {
        return Value::Null;
    };
    let body = match std::str::from_utf8(&doc.body) {
        Ok(text) => json!({ "text": text }),
        Err(_) => json!({ "hex": hex(&doc.body) }),
    };
    json!({ "etag": doc.etag.to_string(), "body": body, "at_ms": doc.at_ms })
}

fn read_doc(value: &Value) -> Result<Option<Document>, StoreError> {
    if value.is_null() {
        return Ok(None);
    }
    let etag = read_tag(&value["etag"])?.ok_or_else(|| bad("document tag"))?;
    let body = match (&value["body"]["text"], &value["body"]["hex"]) {
        (Value::String(text), _) => text.as_bytes().to_vec(),
        (_, Value::String(text)) => unhex(text)?,
        _ => return Err(bad("document body")),
    };
    let at_ms = value["at_ms"]
        .as_u64()
        .ok_or_else(|| bad("document time"))?;
    Ok(Some(Document { etag, body, at_ms }))
}

fn strings(value: &Value) -> Result<Vec<String>, StoreError> {
    value
        .as_array()
        .ok_or_else(|| bad("id list"))?
        .iter()
        .map(|id| id.as_str().map(str::to_owned).ok_or_else(|| bad("id")))
        .collect()
}

/// The staged state of an open transaction.
pub(super) fn encode_tx(tx: &Tx) -> String {
    let docs: Map<String, Value> = tx
        .docs
        .iter()
        .map(|(id, tracked)| {
            let own = match &tracked.view {
                View::Pinned => Value::Null,
                View::Own(own) => json!({ "doc": doc(own.as_ref()) }),
            };
            let token = tracked
                .lock_token
                .as_ref()
                .map_or(Value::Null, |t| Value::from(t.as_str()));
            let entry =
                json!({ "pinned": doc(tracked.pinned.as_ref()), "own": own, "token": token });
            (id.clone(), entry)
        })
        .collect();
    json!({
        "docs": docs,
        "touched": tx.touched,
        "written": tx.written,
        "provisional": tx.provisional,
    })
    .to_string()
}

/// An open transaction from its row: `remaining` is how long it has left by the database's
/// clock.
pub(super) fn decode_tx(
    id: TxId,
    ttl: Duration,
    remaining: Duration,
    expires_at_ms: u64,
    text: &str,
) -> Result<Tx, StoreError> {
    let value: Value = serde_json::from_str(text).map_err(|_| bad("state"))?;
    let mut docs = HashMap::new();
    for (doc_id, entry) in value["docs"].as_object().ok_or_else(|| bad("docs"))? {
        let view = match &entry["own"] {
            Value::Null => View::Pinned,
            own => View::Own(read_doc(&own["doc"])?),
        };
        let lock_token = match &entry["token"] {
            Value::String(token) => Some(LockToken::from_stored(token.clone())),
            _ => None,
        };
        let pinned = read_doc(&entry["pinned"])?;
        let tracked = Tracked {
            pinned,
            view,
            lock_token,
        };
        docs.insert(doc_id.clone(), tracked);
    }
    Ok(Tx {
        id,
        ttl,
        expires_at: Instant::now() + remaining,
        expires_at_ms,
        phase: Phase::Open,
        docs,
        touched: strings(&value["touched"])?,
        written: strings(&value["written"])?,
        provisional: value["provisional"]
            .as_u64()
            .ok_or_else(|| bad("counter"))?,
    })
}

fn pairs(list: &[(String, Option<EntityTag>)]) -> Value {
    list.iter()
        .map(|(id, etag)| json!([id, tag(etag.as_ref())]))
        .collect()
}

fn read_pairs(value: &Value) -> Result<Vec<(String, Option<EntityTag>)>, StoreError> {
    value
        .as_array()
        .ok_or_else(|| bad("summary"))?
        .iter()
        .map(|pair| {
            let id = pair[0].as_str().ok_or_else(|| bad("summary id"))?;
            Ok((id.to_owned(), read_tag(&pair[1])?))
        })
        .collect()
}

fn snapshot(snapshot: &Snapshot) -> Value {
    json!({
        "owner": snapshot.lease.owner,
        "ttl_ms": crate::lock::millis(snapshot.lease.ttl),
        "expires_at_ms": snapshot.lease.expires_at_ms,
        "fencing": snapshot.lease.fencing,
        "waiters": snapshot.waiters,
    })
}

/// A lock as a remembered refusal showed it; its expiry is placed by this replica's clock.
fn read_snapshot(value: &Value, now_ms: u64) -> Result<Snapshot, StoreError> {
    let number = |key: &str| value[key].as_u64().ok_or_else(|| bad("lock"));
    let expires_at_ms = number("expires_at_ms")?;
    Ok(Snapshot {
        lease: Lease {
            owner: value["owner"].as_str().map(str::to_owned),
            ttl: Duration::from_millis(number("ttl_ms")?),
            expires_at: Instant::now()
                + Duration::from_millis(expires_at_ms.saturating_sub(now_ms)),
            expires_at_ms,
            fencing: number("fencing")?,
        },
        waiters: usize::try_from(number("waiters")?).unwrap_or(usize::MAX),
    })
}

fn outcome(outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Committed(results) => json!({
            "committed": results
                .iter()
                .map(|r| json!([r.id, r.status, tag(r.etag.as_ref())]))
                .collect::<Vec<_>>(),
        }),
        Outcome::Conflict(conflicts) => json!({
            "conflict": conflicts
                .iter()
                .map(|c| json!([c.id, tag(c.read_etag.as_ref()), tag(c.current_etag.as_ref())]))
                .collect::<Vec<_>>(),
        }),
        Outcome::Locked { id, refusal } => {
            let (kind, lock) = match refusal {
                Refusal::Locked(lock) => ("locked", snapshot(lock)),
                Refusal::TokenInvalid(lock) => {
                    ("token_invalid", lock.as_ref().map_or(Value::Null, snapshot))
                }
            };
            json!({ "locked": { "id": id, "refusal": kind, "lock": lock } })
        }
        Outcome::RolledBack => json!("rolled_back"),
        Outcome::Expired => json!("expired"),
    }
}

fn read_outcome(value: &Value, now_ms: u64) -> Result<Outcome, StoreError> {
    if let Some(results) = value["committed"].as_array() {
        let results = results.iter().map(|r| {
            Ok(CommitResult {
                id: r[0].as_str().ok_or_else(|| bad("result"))?.to_owned(),
                status: r[1]
                    .as_u64()
                    .and_then(|s| u16::try_from(s).ok())
                    .ok_or_else(|| bad("status"))?,
                etag: read_tag(&r[2])?,
            })
        });
        return Ok(Outcome::Committed(
            results.collect::<Result<_, StoreError>>()?,
        ));
    }
    if let Some(conflicts) = value["conflict"].as_array() {
        let conflicts = conflicts.iter().map(|c| {
            Ok(Conflict {
                id: c[0].as_str().ok_or_else(|| bad("conflict"))?.to_owned(),
                read_etag: read_tag(&c[1])?,
                current_etag: read_tag(&c[2])?,
            })
        });
        return Ok(Outcome::Conflict(
            conflicts.collect::<Result<_, StoreError>>()?,
        ));
    }
    let locked = &value["locked"];
    if locked.is_object() {
        let lock = &locked["lock"];
        let refusal = match locked["refusal"].as_str() {
            Some("locked") => Refusal::Locked(read_snapshot(lock, now_ms)?),
            Some("token_invalid") if lock.is_null() => Refusal::TokenInvalid(None),
            Some("token_invalid") => Refusal::TokenInvalid(Some(read_snapshot(lock, now_ms)?)),
            _ => return Err(bad("refusal")),
        };
        let id = locked["id"].as_str().ok_or_else(|| bad("locked id"))?;
        return Ok(Outcome::Locked {
            id: id.to_owned(),
            refusal,
        });
    }
    match value.as_str() {
        Some("rolled_back") => Ok(Outcome::RolledBack),
        Some("expired") => Ok(Outcome::Expired),
        _ => Err(bad("outcome")),
    }
}

/// How a transaction ended, as its row keeps it.
pub(super) fn encode_ended(outcome_of: &Outcome, ended_at_ms: u64, summary: &Summary) -> String {
    json!({
        "outcome": outcome(outcome_of),
        "ended_at_ms": ended_at_ms,
        "reads": pairs(&summary.reads),
        "writes": pairs(&summary.writes),
    })
    .to_string()
}

/// An ended transaction from its row; `forget_in` is how long until the database forgets it,
/// `now_ms` the database's clock.
pub(super) fn decode_ended(
    text: &str,
    ttl: Duration,
    expires_at_ms: u64,
    forget_in: Duration,
    now_ms: u64,
) -> Result<Ended, StoreError> {
    let value: Value = serde_json::from_str(text).map_err(|_| bad("ended state"))?;
    Ok(Ended {
        outcome: read_outcome(&value["outcome"], now_ms)?,
        ttl,
        expires_at_ms,
        ended_at_ms: value["ended_at_ms"]
            .as_u64()
            .ok_or_else(|| bad("end time"))?,
        forget_at: Instant::now() + forget_in,
        summary: Summary {
            reads: read_pairs(&value["reads"])?,
            writes: read_pairs(&value["writes"])?,
        },
    })
}
