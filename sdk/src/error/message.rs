//! The words of every error: what happened ([`Error::summary`]) and what to do ([`Error::hint`]).

use std::time::Duration;

use http::{Method, StatusCode};

use super::{Error, TimeoutScope, UpdateEnd};
use crate::{EntityTag, Problem};

impl Error {
    /// What happened, to which resource, without advice (for callers that word their own).
    pub fn summary(&self) -> String {
        match self {
            Self::InvalidUrl { input, reason } => format!("invalid URL {input:?}: {reason}"),
            Self::Config { field, reason } => {
                format!("invalid configuration for `{field}`: {reason}")
            }
            Self::InvalidEtag { input, reason } => {
                format!("invalid entity tag {input:?}: {reason}")
            }
            Self::Transport { method, url, .. } => {
                format!("{method} {url} failed before a response arrived")
            }
            Self::Status {
                method,
                url,
                status,
                problem,
            } => format!(
                "{method} {url} returned {status}{}",
                problem_suffix(problem.as_deref(), *status)
            ),
            Self::Conflict {
                method,
                url,
                status,
                attempts,
                create_only: true,
                ..
            } => format!(
                "{method} {url} was refused with {status}{}: the resource already exists and the write was create-only",
                attempts_suffix(*attempts)
            ),
            Self::Conflict {
                method,
                url,
                status,
                attempts,
                current_etag,
                ..
            } => format!(
                "{method} {url} was refused with {status}{} because the resource changed since it was read{}",
                attempts_suffix(*attempts),
                etag_suffix(current_etag.as_ref())
            ),
            Self::MergeConflict { url, paths } => format!(
                "three-way merge for {url} found overlapping edits at {}",
                paths.join(", ")
            ),
            Self::Aborted { url, etag, .. } => format!(
                "update of {url} aborted: the resource changed since it was read (now {})",
                etag.as_ref()
                    .map_or_else(|| "without an ETag".to_owned(), |t| format!("ETag {t}"))
            ),
            Self::RateLimited {
                method,
                url,
                status,
                attempts,
                retry_after,
                ..
            } => format!(
                "{method} {url} was throttled with {status} after {attempts} attempt(s){}",
                retry_after_suffix(*retry_after)
            ),
            Self::Unavailable {
                method,
                url,
                status,
                attempts,
                retry_after,
                ..
            } => format!(
                "{method} {url} was answered {status} after {attempts} attempt(s){}",
                retry_after_suffix(*retry_after)
            ),
            Self::RetryAfterTooLong {
                method,
                url,
                status,
                delay,
                max,
            } => format!(
                "{method} {url} was answered {status} and asked to wait {delay:?}, longer than the allowed {max:?}"
            ),
            Self::BudgetExhausted {
                method,
                url,
                host,
                status,
            } => format!(
                "{method} {url} was not retried after {status}: the retry budget for {host} is exhausted"
            ),
            Self::MissingEtag { method, url, weak } => format!(
                "{method} {url} needs If-Match but there is no strong ETag to send{}",
                if *weak {
                    " (only a weak one, which If-Match never matches)"
                } else {
                    ""
                }
            ),
            Self::Timeout {
                what, after, scope, ..
            } => format!(
                "{what} timed out after {after:?} ({})",
                match scope {
                    TimeoutScope::Attempt => "no response to one request",
                    TimeoutScope::Operation => "the whole operation",
                }
            ),
            Self::Redirected {
                method,
                url,
                status,
                location,
            } => format!(
                "{method} {url} was redirected{}{}; nothing was written there",
                status.map_or_else(String::new, |s| format!(" with {s}")),
                location.as_ref().map_or_else(
                    || " (the browser hides where to)".to_owned(),
                    |l| format!(" to {l}")
                )
            ),
            Self::OutcomeUnknown {
                method,
                url,
                status,
                reason,
            } => format!(
                "{method} {url} may or may not have been applied: an earlier attempt was answered 503, the resend was refused with {status}, and {reason}"
            ),
            Self::Locked {
                method,
                url,
                retry_after,
                commit: Some(commit),
                ..
            } => format!(
                "the commit {method} {commit} was refused with 423 Locked: another client holds the lock on {url}{}, so nothing of the transaction was applied and it is over",
                retry_after.map_or_else(String::new, |d| format!(" (it expires in {d:?})"))
            ),
            Self::Locked {
                method,
                url,
                retry_after,
                ..
            } => format!(
                "{method} {url} was refused with 423 Locked: another client holds the lock{}",
                retry_after.map_or_else(String::new, |d| format!(" (it expires in {d:?})"))
            ),
            Self::LockLost { url, reason } => {
                format!("the lock on {url} was lost ({reason}); nothing was written under it")
            }
            Self::Decode { url, .. } => {
                format!("the response from {url} could not be decoded as the requested type")
            }
            Self::Encode { .. } => "the request body could not be serialized to JSON".to_owned(),
            Self::Change { url, .. } => format!("the change for {url} failed; nothing was written"),
            Self::Cancelled { what } => format!("{what} was cancelled"),
            Self::TransactionConflict {
                url,
                stale,
                attempts,
                ..
            } => {
                let changed: Vec<String> = stale.iter().map(describe_stale).collect();
                format!(
                    "the commit POST {url} was refused with 409 Conflict{}, so nothing of the transaction was applied: documents it read have changed since{}",
                    attempts_suffix(*attempts),
                    if changed.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", changed.join(", "))
                    }
                )
            }
            Self::TransactionLost {
                method,
                url,
                reason,
                ..
            } => format!(
                "{method} {url} was refused with 404 Not Found: the server no longer knows the transaction{}",
                reason.as_ref().map_or_else(String::new, |r| format!(" ({r})"))
            ),
            Self::VersionNotFound {
                url,
                version,
                oldest,
                ..
            } => format!(
                "GET {url} found no version {version}: the server does not keep it (it was never this document's version, retention dropped it, or it is the deletion){}",
                oldest.map_or_else(String::new, |o| format!(", and the oldest version it keeps is {o}"))
            ),
            Self::MissingVersion {
                method,
                url,
                pointer,
            } => format!(
                "{method} {url} needs the version it is based on in its body at {pointer:?}, but none is known, so nothing was sent"
            ),
            Self::WeakValidator {
                url,
                etag,
                rereads,
                last_modified,
            } => format!(
                "PUT {url} was not sent: the server offers only a weak ETag ({etag}) for it, still after {rereads} more read(s), and If-Match never matches a weak tag{}",
                if *last_modified { "; it sends Last-Modified" } else { "" }
            ),
            Self::Auth {
                method,
                url,
                status,
                problem,
            } => format!(
                "{method} {url} was refused with {status}: {}{}",
                if *status == StatusCode::FORBIDDEN {
                    "the credentials are valid but not allowed to do this"
                } else {
                    "the request carried no valid credentials"
                },
                problem_suffix(problem.as_deref(), *status)
            ),
            Self::ConflictResolved { url, problem } => format!(
                "POST {url} was refused with 409 Conflict: the conflict is resolved already, so nothing was written{}",
                problem_suffix(problem.as_deref(), StatusCode::CONFLICT)
            ),
            Self::Batch {
                url,
                operation,
                op,
                target,
                sent,
                error,
            } => {
                let named = if target.is_empty() {
                    op.to_string()
                } else {
                    format!("{op} {target}")
                };
                if *sent {
                    format!(
                        "the batch POST {url} failed at operation {operation} ({named}), so none of it was applied: {}",
                        error.summary()
                    )
                } else {
                    format!(
                        "the batch for {url} was not sent because of operation {operation} ({named}): {}",
                        error.summary()
                    )
                }
            }
        }
    }

    /// What to do next, in Rust terms, when there is something to do; `Display` appends it.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Self::InvalidUrl { .. } => {
                "give an absolute http(s) URL such as https://api.example.com/items/1, or set Client::builder().base_url(...) and pass a path"
            }
            Self::Config { .. } | Self::InvalidEtag { .. } => return None,
            Self::Change { .. } => return None,
            Self::Transport { method, .. } if is_read(method) => {
                "check that the server is reachable, then retry"
            }
            Self::Transport { .. } => {
                "check that the server is reachable; the write may or may not have been applied, so read the resource before retrying it"
            }
            Self::Status { status, .. } => status_advice(*status),
            Self::Conflict {
                create_only: true, ..
            } => "read it and write with its version if replacing it is what you want",
            Self::Conflict {
                ended_update: Some(UpdateEnd::OutOfAttempts),
                ..
            } => {
                "other clients kept writing it, and every write this update was allowed found a newer version: allow more (RetryConfig::with_max_conflict_attempts), merge (Strategy::ThreeWayMerge), or have fewer clients write it at once (one client's updates already take turns)"
            }
            Self::Conflict {
                ended_update: Some(UpdateEnd::OutOfTime),
                ..
            } => {
                "other clients kept writing it until the update's time ran out: allow more (RetryConfig::with_total_deadline), merge (Strategy::ThreeWayMerge), or have fewer clients write it at once"
            }
            Self::Conflict {
                ended_update: Some(UpdateEnd::Escalated),
                ..
            } => {
                "the update handed it to the manual flow (Strategy::Escalate): resolve it with client.conflicts().resolve(...); error.conflict_id() names the server's record of it, when it keeps one"
            }
            Self::Conflict { .. } => {
                "re-read it and apply the change again (client.update() does this for you)"
            }
            Self::MergeConflict { .. } => {
                "resolve them with Strategy::three_way_merge_with(...) or use Strategy::Reapply"
            }
            Self::Aborted { .. } => "inspect error.current() and decide, or choose another strategy",
            Self::RateLimited { .. } => {
                "slow down, or raise RetryConfig::with_max_attempts / with_total_deadline"
            }
            Self::Unavailable {
                method, attempts, ..
            } if *attempts == 1 && matches!(*method, Method::POST | Method::PATCH) => {
                "it was not resent, because a proxy may answer 503 after the server applied it: read before retrying, or declare ClientBuilder::server_honours_idempotency_keys(true) if the server replays keyed requests"
            }
            Self::Unavailable { .. } => "the server is down or overloaded; retry later",
            Self::RetryAfterTooLong { .. } => {
                "retry after that time, or use LongWaitPolicy::Clamp / a larger RetryConfig::with_max_retry_after"
            }
            Self::BudgetExhausted { .. } => {
                "the server is overloaded; back off before sending more"
            }
            Self::MissingEtag { .. } => {
                "make the server send strong ETags, or accept losing concurrent changes explicitly (Precondition::unconditional() for a write, MissingEtagPolicy::Unconditional for update())"
            }
            Self::Timeout {
                read_only, scope, ..
            } => match (read_only, scope) {
                (true, TimeoutScope::Attempt) => {
                    "nothing was changed: retry, or raise ClientBuilder::attempt_timeout for a slow server"
                }
                (true, TimeoutScope::Operation) => {
                    "nothing was changed: retry, or raise RetryConfig::with_total_deadline"
                }
                (false, TimeoutScope::Attempt) => {
                    "the write may or may not have been applied, so read the resource before retrying it; raise ClientBuilder::attempt_timeout for a slow server"
                }
                (false, TimeoutScope::Operation) => {
                    "the write may or may not have been applied, so read the resource before retrying it; raise RetryConfig::with_total_deadline for long operations"
                }
            },
            Self::Redirected { .. } => {
                "writes never follow redirects: send the write to the new location yourself"
            }
            Self::OutcomeUnknown { .. } => "read the resource and decide before writing again",
            Self::Locked {
                commit: Some(_), ..
            } => {
                "wait until the lock is released or expires, then run the transaction again in a new one (client.transaction(...) reruns only after transaction_conflict)"
            }
            Self::Locked { .. } => {
                "wait for it (client.lock(path).wait(...) queues for it), or retry after it expires"
            }
            Self::LockLost { .. } => {
                "take the lock again and re-read the resource before writing: someone else may have changed it meanwhile"
            }
            Self::Decode { .. } => "check that the type matches the server's JSON (the cause says where)",
            Self::Encode { .. } => {
                "make the value JSON-representable (e.g. maps need string keys)"
            }
            Self::Cancelled { .. } => {
                "it may or may not have reached the server, so read the resource before assuming either"
            }
            Self::TransactionConflict { attempts, .. } if *attempts > 1 => {
                "the documents it reads are contended: run it again later, or allow more runs (RunTransaction::max_attempts, RetryConfig::with_max_conflict_attempts)"
            }
            Self::TransactionConflict { .. } => {
                "run the transaction again from the start (client.transaction(...) does this for you)"
            }
            Self::TransactionLost { .. } => {
                "nothing it staged will be applied: begin a new transaction (client.begin()) and run it again"
            }
            Self::Auth { status, .. } if *status == StatusCode::FORBIDDEN => {
                "use a token allowed to do this (a conflict may be resolved only by the client that caused it, or an admin)"
            }
            Self::Auth { .. } => {
                "send a valid token: ClientBuilder::bearer_token(...), or .bearer_token(...) on the request"
            }
            Self::ConflictResolved { .. } => {
                "read it with client.conflicts().get(id) to see how it was resolved"
            }
            Self::VersionNotFound { .. } => {
                "list the versions it keeps with client.versions(path) and ask for one of those"
            }
            Self::MissingVersion { .. } => {
                "pass what you read (client.put(path, &doc, &read)) so its version goes along, or a version you kept (Precondition::at_version(..)); client.update() does this for you"
            }
            Self::WeakValidator { .. } => {
                "if its tags turn strong a moment after a write (Apache mod_dav), wait longer: WeakValidators::wait(reads, within); if it sends Last-Modified and the resource changes less than once a second, WeakValidators::or_unmodified_since(true); if it compares weak tags in If-Match on purpose (FHIR), WeakValidators::send_as_is()"
            }
            Self::Batch { error, .. } if error.is_conflict() => {
                "re-read the documents it depends on and send the batch again with their new versions"
            }
            Self::Batch { error, .. } => return error.hint(),
        })
    }
}

pub(crate) fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The problem's detail, or its title unless that only repeats the status's reason phrase.
fn problem_suffix(problem: Option<&Problem>, status: StatusCode) -> String {
    let Some(p) = problem else {
        return String::new();
    };
    match (&p.title, &p.detail) {
        (_, Some(detail)) => format!(" ({detail})"),
        (Some(title), None) if Some(title.as_str()) != status.canonical_reason() => {
            format!(" ({title})")
        }
        _ => String::new(),
    }
}

fn status_advice(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "fix the request body",
        401 | 403 => "check the credentials",
        404 | 410 => "the resource does not exist; create it first",
        409 => "the write conflicts with the resource's state (not a version race); fix the data before retrying",
        428 => "the server requires a precondition: pass the version you read (client.put(path, &doc, &read)), or use client.update()",
        s if s >= 500 => "the server failed; retry later",
        _ => "see the status and problem details",
    }
}

/// `/items/a (read "v41", now "v58")`.
fn describe_stale(read: &crate::StaleRead) -> String {
    let tag = |t: Option<&EntityTag>, absent: &str| {
        t.map_or_else(|| absent.to_owned(), ToString::to_string)
    };
    format!(
        "{} (read {}, now {})",
        read.path(),
        tag(read.read_etag(), "absent"),
        tag(read.current_etag(), "deleted")
    )
}

fn etag_suffix(etag: Option<&EntityTag>) -> String {
    etag.map_or_else(String::new, |t| format!(" (current ETag {t})"))
}

fn attempts_suffix(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

fn retry_after_suffix(retry_after: Option<Duration>) -> String {
    retry_after.map_or_else(String::new, |d| format!(" (server asked to wait {d:?})"))
}
