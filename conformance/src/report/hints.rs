//! The most likely cause of a failed or warned rule, and how to fix it.
//!
//! A table keyed by rule ID prefix and, where one prefix has several usual
//! causes, by what the evidence shows (a weak ETag, an error carrying an ETag,
//! a PATCH that was refused or ignored). The first matching row wins, so rows
//! go from specific to general; every profile ends with a generic row, which is
//! what a rule gets when nothing more specific matches.

mod optional;
mod table;

use serde::Serialize;

use super::diff::Change;
use super::Failure;

/// What most likely broke a rule and what to change.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Hint {
    /// The most likely cause, in the server's terms.
    pub cause: String,
    /// What to change, with the usual fix for common frameworks where there is one.
    pub fix: String,
}

/// When a row applies, beyond its ID prefix.
#[derive(Clone, Copy)]
enum When {
    /// Whatever the evidence shows.
    Always,
    /// Only when the evidence matches.
    Seen(fn(&Failure) -> bool),
}

/// One row of the table.
struct Row {
    /// A rule ID, or the start of one (see [`prefix_matches`]).
    prefix: &'static str,
    when: When,
    cause: &'static str,
    fix: &'static str,
}

/// The hint of a rule no row names (every catalogue rule has a row; a test keeps it so).
const FALLBACK: (&str, &str) = (
    "The server does not do what this rule describes.",
    "Read the rule in docs/contract.md and compare with the reference server: run `ifmatch-conformance check` without --base-url to see every rule pass against it.",
);

/// Whether `prefix` names `id` or a group it is in: it ends where a segment
/// (`.`) or a word (`-`) of the ID ends, so `core.etag.changes-on` names
/// `core.etag.changes-on-put` but `core.if-m` names nothing.
fn prefix_matches(prefix: &str, id: &str) -> bool {
    id.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '-']))
}

/// The hint for rule `id`, judged by `failure` when there is one.
///
/// ```
/// use ifmatch_conformance::report::hints::hint_for;
/// let hint = hint_for("core.concurrency.single-winner", None);
/// assert!(hint.fix.contains("WHERE id = ? AND version = ?"));
/// ```
pub fn hint_for(id: &str, failure: Option<&Failure>) -> Hint {
    let row = rows().find(|row| {
        prefix_matches(row.prefix, id)
            && match row.when {
                When::Always => true,
                When::Seen(seen) => failure.is_some_and(seen),
            }
    });
    let (cause, fix) = row.map_or(FALLBACK, |r| (r.cause, r.fix));
    Hint {
        cause: cause.to_owned(),
        fix: fix.to_owned(),
    }
}

/// The hint of a rule the suite could not judge because the server did not answer
/// (a transport error): whatever the rule, the cause is the connection.
pub fn harness_hint() -> Hint {
    Hint {
        cause: "The server did not answer: it closed the connection, crashed, or took longer than the suite's timeout while handling this rule's requests.".into(),
        fix: "Check the server's log around this rule's requests (send them with the curl commands of the rules before it); a crash on an unusual request (a malformed If-Match, a merge patch) is the usual cause. With `--wait-for SECS` the suite waits for a server still starting.".into(),
    }
}

/// The prefix of the unconditional row rule `id` falls back to, if the table has one
/// (every rule of the catalogue should: a test keeps it so).
pub fn generic_row(id: &str) -> Option<&'static str> {
    rows()
        .find(|row| matches!(row.when, When::Always) && prefix_matches(row.prefix, id))
        .map(|row| row.prefix)
}

/// Every row, in the order they are searched.
fn rows() -> impl Iterator<Item = &'static Row> {
    table::ROWS.iter().chain(optional::ROWS)
}

/// Every ETag the failure's responses carry.
fn etags(f: &Failure) -> impl Iterator<Item = &str> {
    let write = f.write.iter().flat_map(|w| w.response_headers.iter());
    f.response_headers
        .iter()
        .chain(write)
        .filter(|(n, _)| n.eq_ignore_ascii_case("etag"))
        .map(|(_, v)| v.trim())
}

/// A response in the evidence carried a weak ETag.
fn weak_etag(f: &Failure) -> bool {
    etags(f).any(|v| v.starts_with("W/")) || f.observed.contains("W/\"")
}

/// The refusal (a 409 or 412) carried an ETag header, whose value the rule did not
/// find to be the current one.
fn etag_on_error(f: &Failure) -> bool {
    matches!(f.response_status, Some(409 | 412))
        && f.response_headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("etag"))
}

/// A merge-patch PATCH was refused as unreadable (400/415/422) or answered 2xx
/// while the re-read shows the patch was not applied.
fn patch_unparsed(f: &Failure) -> bool {
    let merge = |req: &crate::http::RecordedRequest| {
        req.method == "PATCH"
            && req.headers.iter().any(|(n, v)| {
                n.eq_ignore_ascii_case("content-type") && v.contains("merge-patch+json")
            })
    };
    if let Some(w) = &f.write {
        if merge(&w.request) {
            let ignored = f.diff.as_ref().is_some_and(|d| {
                d.iter()
                    .any(|e| matches!(e.change, Change::Changed | Change::NotRemoved))
            });
            return matches!(w.response_status, 400 | 415 | 422) || ignored;
        }
    }
    f.request.as_ref().is_some_and(merge) && matches!(f.response_status, Some(400 | 415 | 422))
}

/// The server rejected the request's invented id as invalid (400/422), not missing.
fn invalid_id(f: &Failure) -> bool {
    matches!(f.response_status, Some(400 | 422))
}

/// The malformed body was refused with 422 (FastAPI's validation status).
fn refused_422(f: &Failure) -> bool {
    f.response_status == Some(422)
}

/// A stale conditional write was answered 2xx (accepted).
fn stale_write_accepted(f: &Failure) -> bool {
    write_status(f).is_some_and(|s| (200..300).contains(&s))
}

/// The status the failure's write answered, or else its exchange's.
fn write_status(f: &Failure) -> Option<u16> {
    f.write
        .as_ref()
        .map(|w| w.response_status)
        .or(f.response_status)
}

/// A PUT or POST with a body was refused as invalid (400/422): the server validates
/// bodies and the suite's test document lacks something it requires.
fn body_rejected(f: &Failure) -> bool {
    let request = f.write.as_ref().map(|w| &w.request).or(f.request.as_ref());
    request.is_some_and(|r| matches!(r.method.as_str(), "PUT" | "POST") && r.body.is_some())
        && matches!(write_status(f), Some(400 | 422))
}

/// The re-read lacks members the write sent.
fn members_dropped(f: &Failure) -> bool {
    f.diff
        .as_ref()
        .is_some_and(|d| d.iter().any(|e| e.change == Change::Missing))
}

/// The refusal was a 409 (the rule wanted 412, or 409 declared).
fn answered_409(f: &Failure) -> bool {
    write_status(f) == Some(409)
}

#[cfg(test)]
mod tests;
