//! The answers about locks: grants, the lock as others see it, and the refusals.

use std::time::Instant;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::request::LOCK_TOKEN;
use crate::lock::{millis, Grant, Refusal, Snapshot};
use crate::problem::{Problem, ProblemKind};
use crate::rate_limit::retry_after_secs;

/// `201` (acquired) or `200` (renewed): the token in the body and in `Lock-Token`.
pub(crate) fn granted(status: StatusCode, grant: &Grant, lock_path: &str) -> Response {
    let lease = &grant.lease;
    let body = json!({
        "token": grant.token.as_str(),
        "owner": lease.owner,
        "expires_at_ms": lease.expires_at_ms,
        "ttl_ms": millis(lease.ttl),
        "fencing": lease.fencing,
    });
    let mut headers = lock_headers();
    if let Ok(value) = HeaderValue::from_str(&grant.token.header_value()) {
        headers.insert(LOCK_TOKEN, value);
    }
    if status == StatusCode::CREATED {
        if let Ok(value) = HeaderValue::from_str(lock_path) {
            headers.insert(header::LOCATION, value);
        }
    }
    (status, headers, body.to_string()).into_response()
}

/// `200` with the current lock as anyone may see it: no token, but the queue length.
pub(crate) fn current(snapshot: &Snapshot) -> Response {
    let lease = &snapshot.lease;
    let body = json!({
        "owner": lease.owner,
        "expires_at_ms": lease.expires_at_ms,
        "ttl_ms": millis(lease.ttl),
        "fencing": lease.fencing,
        "waiters": snapshot.waiters,
    });
    (StatusCode::OK, lock_headers(), body.to_string()).into_response()
}

fn lock_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // A lock changes by itself (expiry); a cached copy would be wrong at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers
}

/// `404` for `GET …/lock` when nobody holds the lock.
pub(crate) fn not_locked(instance: &str, lock_path: &str) -> Problem {
    Problem::new(
        ProblemKind::NotFound,
        instance,
        format!("nobody holds a lock on this document; take one with POST {lock_path}"),
    )
}

fn who(snapshot: &Snapshot) -> String {
    snapshot.lease.owner.as_deref().map_or_else(
        || "an unnamed client".to_owned(),
        |owner| format!("{owner:?}"),
    )
}

/// Whole seconds until the lock expires, rounded up and at least 1: the `Retry-After`.
fn retry_secs(snapshot: &Snapshot) -> u64 {
    retry_after_secs(snapshot.lease.remaining(Instant::now()))
}

/// Adds what a client needs to decide when to come back: `Retry-After` and the members
/// `expires_at_ms` and `owner`.
fn with_lock(problem: Problem, snapshot: &Snapshot, seconds: u64) -> Problem {
    problem
        .with_header(header::RETRY_AFTER, HeaderValue::from(seconds))
        .with_member("expires_at_ms", json!(snapshot.lease.expires_at_ms))
        .with_member("owner", json!(snapshot.lease.owner))
}

/// `423` for a write (or a lock request) while someone else holds the lock.
pub(crate) fn locked(
    snapshot: &Snapshot,
    instance: &str,
    lock_path: &str,
    waited: bool,
) -> Problem {
    let seconds = retry_secs(snapshot);
    let advice = if instance != lock_path {
        "nothing was changed. Retry after Retry-After seconds, or take the lock yourself and send its Lock-Token"
    } else if waited {
        "the wait (wait_ms) ran out first; retry later or wait longer"
    } else {
        "retry after Retry-After seconds, or send wait_ms to queue for it"
    };
    let detail = format!(
        "{instance} is locked by {} for about {seconds} s more (expires_at_ms {}); {advice} (POST {lock_path})",
        who(snapshot),
        snapshot.lease.expires_at_ms,
    );
    with_lock(
        Problem::new(ProblemKind::Locked, instance, detail),
        snapshot,
        seconds,
    )
}

/// `412` for a `Lock-Token` that does not name the current lock.
pub(crate) fn token_invalid(
    current: Option<&Snapshot>,
    instance: &str,
    lock_path: &str,
) -> Problem {
    let now_held = match current {
        Some(snapshot) => format!(" The lock is now held by {}.", who(snapshot)),
        None => String::new(),
    };
    let detail = format!(
        "the Lock-Token does not name the current lock on this document: the lock expired, was released or broken, or was granted before the server restarted.{now_held} Nothing was changed; take a new lock with POST {lock_path}, re-read the document, and retry with the new token"
    );
    let problem = Problem::new(ProblemKind::LockTokenInvalid, instance, detail);
    match current {
        Some(snapshot) => with_lock(problem, snapshot, retry_secs(snapshot)),
        None => problem,
    }
}

/// `503` when as many requests as the server allows already wait for this lock.
pub(crate) fn queue_full(snapshot: &Snapshot, instance: &str, limit: usize) -> Problem {
    let seconds = retry_secs(snapshot);
    let detail = format!(
        "{limit} requests already wait for this lock, the most this server queues; retry after {seconds} s (Retry-After), by when the current lock has expired at the latest"
    );
    with_lock(
        Problem::new(ProblemKind::LockQueueFull, instance, detail),
        snapshot,
        seconds,
    )
}

/// `503` when as many requests as the server allows already wait for locks, all documents
/// together (`--max-lock-waiters-total`).
pub(crate) fn all_queues_full(snapshot: &Snapshot, instance: &str, limit: usize) -> Problem {
    let seconds = retry_secs(snapshot);
    let detail = format!(
        "{limit} requests already wait for locks on this server, all documents together (--max-lock-waiters-total), the most it queues; retry after {seconds} s (Retry-After), by when the current lock on this document has expired at the latest"
    );
    with_lock(
        Problem::new(ProblemKind::LockQueueFull, instance, detail),
        snapshot,
        seconds,
    )
}

/// The problem for a write refused by the lock table.
pub(crate) fn refused_by_lock(refusal: &Refusal, instance: &str, lock_path: &str) -> Problem {
    match refusal {
        Refusal::Locked(snapshot) => locked(snapshot, instance, lock_path, false),
        Refusal::TokenInvalid(current) => token_invalid(current.as_ref(), instance, lock_path),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::Value;

    use super::*;
    use crate::lock::Lease;

    fn json_body(response: Response) -> Value {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = runtime
            .block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    fn snapshot(remaining: Duration) -> Snapshot {
        Snapshot {
            lease: Lease {
                owner: Some("alice".to_owned()),
                ttl: Duration::from_secs(30),
                expires_at: Instant::now() + remaining,
                expires_at_ms: 42,
                fencing: 7,
            },
            waiters: 2,
        }
    }

    #[test]
    fn a_full_table_of_waiters_names_the_flag() {
        let problem = all_queues_full(
            &snapshot(Duration::from_millis(2500)),
            "/items/a/lock",
            1024,
        );
        let response = problem.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
        let body = json_body(response);
        assert_eq!(body["type"], "urn:ifmatch:problem:lock-queue-full");
        insta::assert_snapshot!("all_lock_queues_full", body["detail"].as_str().unwrap());
    }

    #[test]
    fn locked_answers_name_the_owner_expiry_and_a_rounded_up_retry_after() {
        let problem = locked(
            &snapshot(Duration::from_millis(2500)),
            "/items/a",
            "/items/a/lock",
            false,
        );
        let response = problem.into_response();
        assert_eq!(response.status(), StatusCode::LOCKED);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
        let body = json_body(response);
        assert_eq!(body["owner"], "alice");
        assert_eq!(body["expires_at_ms"], 42);
        assert!(body["detail"].as_str().unwrap().contains("Lock-Token"));
    }

    #[test]
    fn an_invalid_token_without_a_current_lock_has_no_lock_members() {
        let body = json_body(token_invalid(None, "/items/a", "/items/a/lock").into_response());
        assert_eq!(body["status"], 412);
        assert!(body.get("owner").is_none());
        let held = token_invalid(Some(&snapshot(Duration::ZERO)), "/items/a", "/items/a/lock");
        let body = json_body(held.into_response());
        assert_eq!(body["owner"], "alice");
    }
}
