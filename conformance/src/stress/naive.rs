//! The `naive` strategy: read, change, write back without any precondition — the
//! lost-update bug. A version the target keeps in the body is left out of the
//! write (and none is sent in the query), so it is truly unconditional.

use std::time::Instant;

use serde_json::Value;

use super::driver::{increment, slot, Tally};
use super::record::{excerpt, Refusal};
use super::shared::Shared;
use crate::target::{VersionSend, VersionSource};

/// How one naive update ended.
enum Outcome {
    Written,
    Refused(Refusal),
    /// No usable answer: the failure's key (`connection`, `not_json`) and what happened.
    Unanswered(&'static str, String),
    /// The write went out and no answer came: it may have been applied.
    WriteUnanswered(String),
}

/// One client's naive updates.
pub(super) async fn naive_client(
    shared: &Shared,
    url: &str,
    i: usize,
    base: &str,
) -> Result<Tally, String> {
    let updates = shared.config.updates;
    let key = slot(i);
    let mut tally = Tally::default();
    for done in 0..updates {
        if Instant::now() >= shared.deadline {
            tally.not_started = (updates - done) as u64;
            break;
        }
        let began = Instant::now();
        let at = (i, done + 1, base);
        match naive_update(shared, url, &key).await {
            Outcome::Written => {
                // One write per acknowledged update; refused writes are counted by status.
                tally.acknowledge(began, 1);
            }
            Outcome::Refused(r) => {
                match r.status {
                    409 => tally.status_409 += 1,
                    412 => tally.status_412 += 1,
                    429 => tally.status_429 += 1,
                    _ => {}
                }
                tally.fail(shared.refused(at, r));
            }
            Outcome::Unanswered(key, what) => tally.fail(shared.unanswered(at, key, what)),
            Outcome::WriteUnanswered(what) => {
                tally.fail_unknown(shared.unanswered(at, "connection", what))
            }
        }
    }
    Ok(tally)
}

async fn refusal(method: &str, url: &str, response: reqwest::Response) -> Refusal {
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap_or_default();
    Refusal {
        status,
        request: format!("{method} {url}"),
        excerpt: excerpt(&body),
    }
}

async fn naive_update(shared: &Shared, url: &str, key: &str) -> Outcome {
    let read = match shared.http.get(url).send().await {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => return Outcome::Refused(refusal("GET", url, r).await),
        Err(e) => return Outcome::Unanswered("connection", format!("GET {url}: {e}")),
    };
    let mut doc: Value = match read.json().await {
        Ok(doc) => doc,
        Err(e) => {
            return Outcome::Unanswered(
                "not_json",
                format!("GET {url} answered 2xx with a body that is not JSON: {e}"),
            )
        }
    };
    increment(&mut doc, key);
    let version = &shared.config.shape.version;
    if let VersionSource::Body(pointer) = &version.read {
        super::setup::without_member(&mut doc, pointer);
    }
    if let VersionSend::Body(pointer) = &version.send {
        super::setup::without_member(&mut doc, pointer);
    }
    match shared.http.put(url).json(&doc).send().await {
        Ok(r) if r.status().is_success() => Outcome::Written,
        Ok(r) => Outcome::Refused(refusal("PUT", url, r).await),
        Err(e) => Outcome::WriteUnanswered(format!("PUT {url}: {e}")),
    }
}
