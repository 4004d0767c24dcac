//! `/items/{id}/lock`: take (POST), renew (PUT), release or break (DELETE) and show (GET) the
//! pessimistic lock on one document.
//!
//! A JSON sub-resource rather than WebDAV's LOCK/UNLOCK methods and XML bodies: browsers'
//! `fetch` and CORS handle the standard methods and JSON without special cases, and every
//! HTTP library can send them. What WebDAV contributes is kept: the `Lock-Token` field, 423
//! Locked, 412 for a token that does not match, refresh and unlock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::item::IdPath;
use super::lock_response::{
    all_queues_full, current, granted, locked, not_locked, queue_full, token_invalid,
};
use super::request::{item_id, lock_token, read_body, require_json};
use super::response::{internal, item_path, not_found};
use super::{blocking, AppState};
use crate::auth::Identity;
use crate::lock::{
    now, Acquired, Grant, LockManager, LockRequest, SharedAcquired, SharedTicket, Snapshot, Ticket,
    Waited,
};
use crate::problem::{Problem, ProblemKind};
use crate::storage::Decision;

/// The longest `owner` accepted; it is echoed in every 423, so it is kept short.
const MAX_OWNER_CHARS: usize = 256;

/// The body of `POST …/lock`; every member is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcquireBody {
    owner: Option<String>,
    ttl_ms: Option<u64>,
    wait_ms: Option<u64>,
}

/// The body of `PUT …/lock`; without `ttl_ms` the lock is renewed by its last TTL.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RenewBody {
    ttl_ms: Option<u64>,
}

/// `/items/{id}/lock`, percent-encoded like `Location` of the document.
pub(crate) fn lock_path(id: &str) -> String {
    format!("{}/lock", item_path(id))
}

/// Reads an optional JSON options body: empty means "all defaults".
async fn options<T: DeserializeOwned + Default>(
    app: &AppState,
    headers: &HeaderMap,
    body: Body,
    instance: &str,
    members: &str,
) -> Result<T, Problem> {
    let bytes = read_body(headers, body, app.max_body_bytes, instance).await?;
    if bytes.trim_ascii().is_empty() {
        return Ok(T::default());
    }
    require_json(headers, instance)?;
    serde_json::from_slice(&bytes).map_err(|err| {
        Problem::new(
            ProblemKind::MalformedBody,
            instance,
            format!("the lock options are not valid ({err}); send a JSON object with {members}, or no body for the defaults"),
        )
    })
}

fn positive_ttl(ttl_ms: Option<u64>, instance: &str) -> Result<Option<u64>, Problem> {
    if ttl_ms == Some(0) {
        return Err(Problem::new(
            ProblemKind::MalformedBody,
            instance,
            "ttl_ms must be at least 1 (milliseconds); leave it out for the default of 30000",
        ));
    }
    Ok(ttl_ms)
}

/// `POST /items/{id}/lock` → 201 with the token; 423 while held (after waiting up to
/// `wait_ms` in a first-come-first-served queue); 503 when the queue is full.
pub(super) async fn acquire(
    State(app): State<AppState>,
    path: IdPath,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = item_id(path, instance)?;
    let started = Instant::now();
    let asked: AcquireBody = options(
        &app,
        &headers,
        body,
        instance,
        "the optional members owner (string), ttl_ms and wait_ms (whole milliseconds)",
    )
    .await?;
    if asked
        .owner
        .as_ref()
        .is_some_and(|owner| owner.chars().count() > MAX_OWNER_CHARS)
    {
        return Err(Problem::new(
            ProblemKind::MalformedBody,
            instance,
            format!("owner is longer than {MAX_OWNER_CHARS} characters; name the client briefly"),
        ));
    }
    let limits = app.locks.limits();
    let request = LockRequest {
        owner: asked.owner,
        ttl: limits.ttl(positive_ttl(asked.ttl_ms, instance)?),
    };
    let wait = limits.wait(asked.wait_ms.unwrap_or(0));
    let lock_path = lock_path(&id);
    let mut queue = wait > Duration::ZERO;
    loop {
        let wait_for = if queue { wait } else { Duration::ZERO };
        match try_acquire(&app, &id, &request, wait_for, instance).await? {
            Attempt::Missing => return Err(not_found(instance)),
            Attempt::Granted(grant) => {
                shared_grant_observed(&app, Duration::ZERO);
                return Ok(granted(StatusCode::CREATED, &grant, &lock_path));
            }
            Attempt::Busy(snapshot) => return Err(locked(&snapshot, instance, &lock_path, false)),
            Attempt::QueueFull(snapshot) => {
                return Err(queue_full(&snapshot, instance, limits.max_waiters))
            }
            Attempt::AllQueuesFull(snapshot) => {
                return Err(all_queues_full(
                    &snapshot,
                    instance,
                    limits.max_total_waiters,
                ))
            }
            Attempt::Queued(ticket) => match queued(ticket, started + wait, instance).await? {
                Waited::Granted(grant) => {
                    shared_grant_observed(&app, started.elapsed());
                    return Ok(granted(StatusCode::CREATED, &grant, &lock_path));
                }
                Waited::Gone => return Err(not_found(instance)),
                Waited::TimedOut(Some(snapshot)) => {
                    return Err(locked(&snapshot, instance, &lock_path, true))
                }
                // Freed at the very end of the wait without going to anyone: one last try,
                // without queueing again.
                Waited::TimedOut(None) => queue = false,
            },
        }
    }
}

/// A grant of a lock kept in the database, counted by the replica that made it (the in-process
/// table counts its own grants as the metrics' observer): `waited` in the queue, 0 when free.
fn shared_grant_observed(app: &AppState, waited: Duration) {
    if app.locks.shared().is_some() {
        app.metrics.shared_lock_granted(waited);
    }
}

/// One lock request against the table.
enum Attempt {
    Missing,
    Granted(Grant),
    Queued(Queued),
    Busy(Snapshot),
    QueueFull(Snapshot),
    AllQueuesFull(Snapshot),
}

/// A place in a queue: in the process's table, or in the database's.
enum Queued {
    Memory(Ticket),
    Shared(SharedTicket),
}

async fn queued(ticket: Queued, deadline: Instant, instance: &str) -> Result<Waited, Problem> {
    match ticket {
        Queued::Memory(ticket) => Ok(ticket.wait(deadline).await),
        Queued::Shared(ticket) => ticket
            .wait(deadline)
            .await
            .map_err(|err| internal(&err, instance)),
    }
}

async fn try_acquire(
    app: &AppState,
    id: &str,
    request: &LockRequest,
    wait_for: Duration,
    instance: &str,
) -> Result<Attempt, Problem> {
    let wait = wait_for > Duration::ZERO;
    let locks = Arc::clone(&app.locks);
    let queue_limit = wait.then_some(locks.limits().max_waiters);
    if let Some(shared) = locks.shared() {
        let acquired = shared
            .acquire(id, request.clone(), queue_limit, wait_for)
            .await
            .map_err(|err| internal(&err, instance))?;
        return Ok(match acquired {
            SharedAcquired::Missing => Attempt::Missing,
            SharedAcquired::Granted(grant) => Attempt::Granted(grant),
            SharedAcquired::Queued(ticket) => Attempt::Queued(Queued::Shared(ticket)),
            SharedAcquired::Busy(snapshot) => Attempt::Busy(snapshot),
            SharedAcquired::QueueFull(snapshot) => Attempt::QueueFull(snapshot),
            SharedAcquired::AllQueuesFull(snapshot) => Attempt::AllQueuesFull(snapshot),
        });
    }
    let (key, request) = (id.to_owned(), request.clone());
    blocking(&app.store, move |store| {
        // Whether the document exists and the grant are decided in one critical section of
        // the store (then the table, the order every write takes them in), so a DELETE cannot
        // slip in between and leave a lock on a document that is gone.
        let mut acquired = None;
        let applied = store.apply(&key, &mut |doc| {
            if doc.is_some() {
                let outcome = locks
                    .table()
                    .acquire(&key, request.clone(), queue_limit, now());
                acquired = Some(outcome);
            }
            Decision::Abort
        });
        // The place in the queue becomes a ticket before anything can fail, so that dropping
        // it (here, or when the client goes away) always leaves the queue.
        let attempt = attempt(acquired, &locks, key);
        applied?;
        Ok(attempt)
    })
    .await
    .map_err(|err| internal(&err, instance))
}

fn attempt(acquired: Option<Acquired>, locks: &Arc<LockManager>, key: String) -> Attempt {
    match acquired {
        None => Attempt::Missing,
        Some(Acquired::Granted(grant)) => Attempt::Granted(grant),
        Some(Acquired::Busy(snapshot)) => Attempt::Busy(snapshot),
        Some(Acquired::QueueFull(snapshot)) => Attempt::QueueFull(snapshot),
        Some(Acquired::AllQueuesFull(snapshot)) => Attempt::AllQueuesFull(snapshot),
        Some(Acquired::Queued(queued)) => {
            Attempt::Queued(Queued::Memory(Ticket::new(Arc::clone(locks), key, queued)))
        }
    }
}

/// 400 when a request about one's own lock has no `Lock-Token`.
fn required_token(
    headers: &HeaderMap,
    instance: &str,
    lock_path: &str,
    what: &str,
) -> Result<crate::lock::LockToken, Problem> {
    lock_token(headers, instance)?.ok_or_else(|| {
        Problem::new(
            ProblemKind::InvalidHeader,
            instance,
            format!("{what} needs the Lock-Token header with the token the lock was granted with (POST {lock_path} answered it)"),
        )
    })
}

/// `PUT /items/{id}/lock` with `Lock-Token` → 200 with the new expiry; 412 when the token is
/// not the current lock's.
pub(super) async fn renew(
    State(app): State<AppState>,
    path: IdPath,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = item_id(path, instance)?;
    let lock_path = lock_path(&id);
    let token = required_token(&headers, instance, &lock_path, "renewing a lock")?;
    let asked: RenewBody = options(
        &app,
        &headers,
        body,
        instance,
        "the optional member ttl_ms (whole milliseconds)",
    )
    .await?;
    let limits = app.locks.limits();
    let ttl = positive_ttl(asked.ttl_ms, instance)?.map(|ms| limits.ttl(Some(ms)));
    let renewed = match app.locks.shared() {
        Some(shared) => shared
            .renew(&id, &token, ttl)
            .await
            .map_err(|err| internal(&err, instance))?,
        None => app.locks.table().renew(&id, &token, ttl, now()),
    };
    match renewed {
        Ok(grant) => Ok(granted(StatusCode::OK, &grant, &lock_path)),
        Err(current) => Err(token_invalid(current.as_ref(), instance, &lock_path)),
    }
}

/// `DELETE /items/{id}/lock` with `Lock-Token` → 204 (the next in the queue gets the lock);
/// `?break=true` ends anyone's lock without a lock token, but when the server has bearer
/// tokens only an authenticated client may break (401 otherwise).
pub(super) async fn release(
    State(app): State<AppState>,
    identity: Option<Identity>,
    path: IdPath,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = item_id(path, instance)?;
    let lock_path = lock_path(&id);
    if breaks(uri.query(), instance)? {
        if app.conflicts.auth_enabled && identity.is_none() {
            return Err(crate::auth::unauthorized(
                instance,
                "breaking a lock needs a token on this server: send Authorization: Bearer <token> with the token you were given (the lock's holder releases it with its Lock-Token instead)",
            ));
        }
        match app.locks.shared() {
            Some(shared) => {
                shared
                    .break_lock(&id)
                    .await
                    .map_err(|err| internal(&err, instance))?;
            }
            None => {
                app.locks.table().break_lock(&id, now());
            }
        }
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let token = required_token(&headers, instance, &lock_path, "releasing a lock")?;
    let released = match app.locks.shared() {
        Some(shared) => shared
            .release(&id, &token)
            .await
            .map_err(|err| internal(&err, instance))?,
        None => app.locks.table().release(&id, &token, now()),
    };
    match released {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(current) => Err(token_invalid(current.as_ref(), instance, &lock_path)),
    }
}

/// Whether the query asks to break the lock: `break=true` (or `1`); `false`, `0` or no
/// `break` parameter mean an ordinary release. Other parameters are ignored.
fn breaks(query: Option<&str>, instance: &str) -> Result<bool, Problem> {
    let mut answer = false;
    for pair in query.unwrap_or_default().split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name != "break" {
            continue;
        }
        answer = match value {
            "true" | "1" => true,
            "false" | "0" => false,
            other => {
                return Err(Problem::new(
                    ProblemKind::InvalidQuery,
                    instance,
                    format!("break={} is not understood; send break=true to break the lock, or no break parameter to release your own", other.escape_debug()),
                ))
            }
        };
    }
    Ok(answer)
}

/// `GET /items/{id}/lock` → 200 with the lock (no token) and the queue length; 404 when free.
pub(super) async fn show(
    State(app): State<AppState>,
    path: IdPath,
    uri: Uri,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = item_id(path, instance)?;
    let snapshot = match app.locks.shared() {
        Some(shared) => shared
            .snapshot(&id)
            .await
            .map_err(|err| internal(&err, instance))?,
        None => app.locks.table().snapshot(&id, now()),
    };
    snapshot
        .map(|snapshot| current(&snapshot))
        .ok_or_else(|| not_locked(instance, &lock_path(&id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn break_parameter_is_true_false_or_refused() {
        assert!(!breaks(None, "/i").unwrap());
        assert!(!breaks(Some("x=1&break=false"), "/i").unwrap());
        assert!(breaks(Some("break=true"), "/i").unwrap());
        assert!(breaks(Some("other&break=1"), "/i").unwrap());
        assert_eq!(
            breaks(Some("break=yes"), "/i").unwrap_err().kind(),
            ProblemKind::InvalidQuery
        );
        assert!(breaks(Some("break"), "/i").is_err());
    }

    #[test]
    fn lock_paths_escape_the_id_like_locations_do() {
        assert_eq!(lock_path("a b"), "/items/a%20b/lock");
    }
}
