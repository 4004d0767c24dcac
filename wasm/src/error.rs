//! Errors as `IfmatchError` objects (the class in `wasm/js/shim.js`, a real subclass of `Error`)
//! with a stable `code`, the SDK's details, and advice worded for JavaScript.
//!
//! The message is the SDK's `summary()` (what happened, without advice) and a hint chosen here
//! by error code, naming this package's options rather than the SDK's Rust API. The SDK's own
//! `hint()` is never shown. wasm/tests/node/messages.test.mjs snapshots the results and fails on
//! Rust names.

use std::borrow::Cow;

use ifmatch::http::Method;
use ifmatch::{Error, TimeoutScope, UpdateEnd};
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::json::{millis, nullable, object, strings, to_js};
use crate::transport::{js_cause, OPAQUE_REDIRECT};

#[wasm_bindgen(module = "/js/shim.js")]
extern "C" {
    #[wasm_bindgen(extends = js_sys::Error)]
    pub(crate) type IfmatchError;

    #[wasm_bindgen(constructor)]
    fn new(message: &str, options: &JsValue) -> IfmatchError;
}

/// The `name` every error from this package carries.
const NAME: &str = "IfmatchError";

/// Bad input to this package (wrong type, unknown option): code `invalid_argument`.
pub(crate) fn invalid_argument(message: impl AsRef<str>) -> JsValue {
    let options = object(&[("code", JsValue::from_str("invalid_argument"))]);
    IfmatchError::new(message.as_ref(), &options).into()
}

/// An error this package finds itself (not the SDK), with its `code` and `url`.
pub(crate) fn coded(code: &str, message: &str, url: &str) -> JsValue {
    let options = object(&[
        ("code", JsValue::from_str(code)),
        ("url", JsValue::from_str(url)),
    ]);
    IfmatchError::new(message, &options).into()
}

/// Bad input in operation `operation` of a batch: code `invalid_argument`, with the operation's
/// index and, when it has a valid one, its `op`, as the error of a failed operation has them.
pub(crate) fn invalid_operation(message: &str, operation: usize, op: Option<&str>) -> JsValue {
    let options = object(&[
        ("code", JsValue::from_str("invalid_argument")),
        ("operation", JsValue::from(operation as u32)),
        ("op", op.map_or(JsValue::UNDEFINED, JsValue::from_str)),
    ]);
    IfmatchError::new(message, &options).into()
}

/// A relative URL for a client without `baseUrl` (checked here, so that the message names the
/// JavaScript option): code `invalid_url`, as the SDK would report it.
pub(crate) fn relative_without_base(url: &str) -> JsValue {
    let message = format!(
        "invalid URL {url:?}: a relative path needs a base URL; set the baseUrl option (new Client({{ baseUrl: 'https://api.example.com' }}))"
    );
    let options = object(&[
        ("code", JsValue::from_str("invalid_url")),
        ("url", JsValue::from_str(url)),
    ]);
    IfmatchError::new(&message, &options).into()
}

/// An SDK error as an `IfmatchError`; `cause` is what user code (a change function, resolver or
/// strategy function) threw, else what `fetch` threw.
pub(crate) fn from_sdk(err: &Error, cause: Option<JsValue>) -> JsValue {
    // A hook's failure (`hooked` in shim.js) is already worded, as an `IfmatchError`.
    if let Some(failure) = js_cause(err).filter(|c| c.is_instance_of::<IfmatchError>()) {
        return failure;
    }
    worded(err, summary(err), hint(err), cause)
}

/// Which call on a `Lock` an error is about: the SDK words a lost lock for a write.
#[derive(Clone, Copy)]
pub(crate) enum LockCall {
    Write,
    Renew,
    Release,
}

/// An error of `lock.renew()` or `lock.release()`, worded for that call.
pub(crate) fn lock_error(err: &Error, call: LockCall) -> JsValue {
    let Error::LockLost { url, reason, .. } = err else {
        return from_sdk(err, None);
    };
    let (summary, hint) = match call {
        LockCall::Release => (
            format!("the lock on {url} had been lost before release() ({reason})"),
            "writes made under it after that were refused or not sent; re-read the resource to see what is stored",
        ),
        _ => (format!("the lock on {url} was lost ({reason})"), LOCK_LOST),
    };
    worded(err, Cow::Owned(summary), Some(Cow::Borrowed(hint)), None)
}

/// What to do after a lost lock.
const LOCK_LOST: &str = "take the lock again (client.lock()) and re-read the resource before writing: someone else may have changed it meanwhile";

/// A `Lock` used after `release()` or `free()` (for a write: as its `lock` option): code
/// `lock_lost`, nothing sent. `url` is `None` for a freed `Lock`, whose state is gone.
pub(crate) fn released(url: Option<&str>, call: LockCall) -> JsValue {
    let what = match url {
        Some(url) => format!("the lock on {url} was released"),
        None => {
            "the lock was freed (lock.free(), or the end of a `using` block), which released it"
                .to_owned()
        }
    };
    let message = match call {
        LockCall::Renew => format!("{what}; renew() needs a held lock; {LOCK_LOST}"),
        _ => format!("{what} before this write, so it was not sent; {LOCK_LOST}"),
    };
    let options = object(&[
        ("code", JsValue::from_str("lock_lost")),
        ("hint", JsValue::from_str(LOCK_LOST)),
        ("url", nullable(url)),
    ]);
    IfmatchError::new(&message, &options).into()
}

/// `err` as an `IfmatchError` with the given wording: the message is the summary, then `; ` and
/// the hint.
fn worded(
    err: &Error,
    summary: Cow<'_, str>,
    hint: Option<Cow<'static, str>>,
    cause: Option<JsValue>,
) -> JsValue {
    let message = match &hint {
        Some(hint) => format!("{summary}; {hint}"),
        None => summary.into_owned(),
    };
    let opaque = matches!(err, Error::Redirected { location: Some(l), .. } if l == OPAQUE_REDIRECT);
    let status = err.status().filter(|_| !opaque).map(|s| s.as_u16());
    let mut fields = vec![
        ("code", JsValue::from_str(err.code())),
        ("status", nullable(status)),
        (
            "problem",
            nullable(err.problem().map(|p| to_js(&p.to_json()))),
        ),
        ("retryAfterMs", nullable(err.retry_after().map(millis))),
        (
            "currentEtag",
            nullable(err.current_etag().map(|t| t.to_string())),
        ),
        ("conflictPaths", strings(err.conflict_paths())),
        ("hint", nullable(hint.as_deref())),
        ("url", nullable(err.url())),
    ];
    if let Some(current) = err.current() {
        fields.push(("current", to_js(current)));
    }
    if !err.stale_reads().is_empty() {
        let stale: js_sys::Array = err
            .stale_reads()
            .iter()
            .map(|read| {
                object(&[
                    ("path", read.path().into()),
                    ("url", read.url().into()),
                    (
                        "readEtag",
                        nullable(read.read_etag().map(|t| t.to_string())),
                    ),
                    (
                        "currentEtag",
                        nullable(read.current_etag().map(|t| t.to_string())),
                    ),
                ])
            })
            .collect();
        fields.push(("staleReads", stale.into()));
    }
    // The server's record of this refusal (`client.conflicts.get(conflictId)`), when it kept one.
    if let Some(id) = err.conflict_id() {
        fields.push(("conflictId", JsValue::from_str(id)));
        fields.push(("conflictUrl", nullable(err.conflict_url())));
    }
    if let Some(oldest) = err.oldest_version() {
        fields.push(("oldestVersion", JsValue::from_f64(oldest as f64)));
    }
    if let Error::Batch { operation, op, .. } = err {
        fields.push(("operation", JsValue::from(*operation as u32)));
        fields.push(("op", JsValue::from_str(op.as_str())));
    }
    if let Some(cause) = cause.or_else(|| js_cause(err)) {
        fields.push(("cause", cause));
    }
    IfmatchError::new(&message, &object(&fields)).into()
}

/// What happened: the SDK's summary, except where it names Rust settings.
fn summary(err: &Error) -> Cow<'_, str> {
    match err {
        Error::Config { field, reason, .. } => Cow::Owned(config_message(field, reason)),
        Error::Redirected {
            method,
            url,
            location: Some(location),
            ..
        } if location == OPAQUE_REDIRECT => Cow::Owned(format!(
            "{method} {url} was redirected (the browser hides the status and where to); nothing was written there"
        )),
        // The SDK's words, with the operation's own error worded for JavaScript.
        Error::Batch {
            url,
            operation,
            op,
            target,
            sent,
            error,
            ..
        } => {
            // The SDK names a document created earlier in the batch `lid "…"`; here it is a `ref`.
            let named = match target.as_str() {
                "" => op.to_string(),
                target => match target.strip_prefix("lid ") {
                    Some(lid) => format!("{op} ref {lid}"),
                    None => format!("{op} {target}"),
                },
            };
            Cow::Owned(if *sent {
                format!("the batch POST {url} failed at operation {operation} ({named}), so none of it was applied: {}", summary(error))
            } else {
                format!("the batch for {url} was not sent because of operation {operation} ({named}): {}", summary(error))
            })
        }
        _ => Cow::Owned(err.summary()),
    }
}

/// An invalid setting, named as the JavaScript option: the SDK checks the retry settings
/// together when the client is built, and names them in Rust.
fn config_message(field: &str, reason: &str) -> String {
    match field {
        "retry.initial_delay" => "options.retry.initialDelayMs is longer than options.retry.maxDelayMs (given, or the preset's), which caps every wait; raise maxDelayMs or lower initialDelayMs".to_owned(),
        "retry.conflict_delay" => "options.retry.conflictBackoff.initialMs is longer than options.retry.conflictBackoff.maxMs (given, or the preset's), which caps every pause; raise maxMs or lower initialMs".to_owned(),
        "retry.min_delay" => "options.retry.minDelayMs is longer than options.retry.maxRetryAfterMs (given, or the preset's), so every server hint would be refused; lower minDelayMs".to_owned(),
        "retry.total_deadline" => "options.retry.totalDeadlineMs must be more than 0 (a zero deadline fails every call), or null for no limit".to_owned(),
        "retry.max_attempts" => "options.retry.maxAttempts must be at least 1 (the first attempt counts)".to_owned(),
        "retry.max_conflict_attempts" => "options.retry.maxConflictAttempts must be at least 1 (the first write counts)".to_owned(),
        "retry.factor" => "options.retry.factor must be a finite number of at least 1".to_owned(),
        "retry.conflict_factor" => "options.retry.conflictBackoff.factor must be a finite number of at least 1".to_owned(),
        "attempt_timeout" => "options.timeout must be more than 0, or null for no limit".to_owned(),
        // A batch's `lid`s and `ref`s, checked before it is sent, and a request in a
        // transaction that is over: the reason says it all.
        "batch" | "transaction" => reason.to_owned(),
        "header" => format!("options.headers: {reason}"),
        "version_field" => format!("options.versionField: {reason}"),
        "api_version" => format!("options.apiVersion: {reason}"),
        // The SDK names its builder method `.under(&lock)`; here it is the write's `lock` option.
        "lock" => format!(
            "{}; say which lock a write is made under with its lock option: {{ lock }}",
            reason.split_once(';').map_or(reason, |(what, _)| what)
        ),
        _ => format!("invalid configuration for {field}: {reason}"),
    }
}

/// What to do next, in JavaScript terms; `None` where the message says it all. (`Cancelled`
/// never reaches JavaScript: an aborted call rejects with the signal's reason.)
fn hint(err: &Error) -> Option<Cow<'static, str>> {
    if let Some(advice) = crate::cors::network_hint(err) {
        return Some(Cow::Owned(advice));
    }
    let text = match err {
        Error::Batch { error, .. } if error.is_conflict() => {
            "re-read the documents the batch depends on and send it again with their new versions; nothing of it was applied"
        }
        Error::Batch { error, .. } => return hint(error),
        Error::TransactionConflict { .. } => {
            "run it again from the start: client.transaction(fn) does so by itself (retry.maxConflictAttempts runs, or its maxAttempts option); error.staleReads lists the documents that changed"
        }
        Error::TransactionLost { .. } => {
            "nothing it staged will be applied: begin a new transaction (client.begin(), or client.transaction(fn)) and run it again"
        }
        Error::Transport { .. } if err.is_outcome_unknown() => {
            "check that the server is reachable (error.cause is what fetch threw); the write may or may not have been applied, so read the resource before retrying it"
        }
        Error::Transport { .. } => {
            "check that the server is reachable, and in a browser that it allows this origin (CORS); error.cause is what fetch threw"
        }
        Error::Status { status, .. } => match status.as_u16() {
            400 | 422 => "fix the request body; error.problem has the server's details",
            401 | 403 => "check the credentials (the headers option, or credentials: 'include' for cookies)",
            404 | 410 => "the resource does not exist; create it first (create(), or put() with { createOnly: true })",
            409 => "the write conflicts with the resource's state (not a version race); fix the data before retrying",
            428 => "the server requires a precondition: pass the version you read ({ ifMatch: read.etag }), or use update()",
            s if s >= 500 => "the server failed; retry later",
            _ => "see error.status and error.problem",
        },
        Error::Conflict {
            create_only: true, ..
        } => "read it and write with its version ({ ifMatch: read.etag }) if replacing it is what you want",
        Error::Conflict {
            ended_update: Some(UpdateEnd::OutOfAttempts),
            ..
        } => {
            "other clients kept writing it, and every write this update was allowed found a newer version: allow more (retry.maxConflictAttempts), merge (strategy 'merge'), or have fewer clients write it at once (one client's updates already take turns)"
        }
        Error::Conflict {
            ended_update: Some(UpdateEnd::OutOfTime),
            ..
        } => {
            "other clients kept writing it until the update's time ran out: allow more (retry.totalDeadlineMs), merge (strategy 'merge'), or have fewer clients write it at once"
        }
        Error::Conflict { .. } => {
            "re-read it and apply the change again (update() does this for you)"
        }
        Error::MergeConflict { .. } => {
            "settle them with a resolve function (strategy 'merge'), or use strategy 'reapply'; error.conflictPaths lists them"
        }
        Error::Aborted { .. } => "inspect error.current and decide, or choose another strategy",
        Error::RateLimited { .. } => {
            "slow down, or raise retry.maxAttempts / retry.totalDeadlineMs; error.retryAfterMs is the server's last hint"
        }
        Error::Unavailable { .. } if err.problem().is_some_and(|p| p.type_.ends_with("lock-queue-full")) => {
            "too many clients are waiting for this lock; retry after error.retryAfterMs, or without wait to fail at once while it is held"
        }
        Error::Unavailable {
            method, attempts, ..
        } if *attempts == 1 && matches!(*method, Method::POST | Method::PATCH) => {
            "it was not resent, because a proxy may answer 503 after the server applied it: read before retrying, or set serverHonoursIdempotencyKeys: true if the server replays keyed requests"
        }
        Error::Unavailable { .. } => "the server is down or overloaded; retry later",
        // Refused a lock (`POST …/lock`): another client held it throughout.
        Error::Locked { method, url, .. }
            if *method == Method::POST
                && url.split_once('?').map_or(url.as_str(), |(path, _)| path).ends_with("/lock") =>
        {
            "queue for it with client.lock(url, { wait: ms }) (or a longer wait), or retry after error.retryAfterMs, when it expires; error.problem.owner names the holder when the server says"
        }
        Error::Locked { .. } => {
            "take the lock yourself with client.lock(url, { wait: ms }) before writing (it queues for it), or retry after error.retryAfterMs, when it expires; error.problem.owner names the holder when the server says"
        }
        Error::LockLost { .. } => LOCK_LOST,
        Error::Auth { .. } if err.is_forbidden() => {
            "use a token allowed to do this (a conflict may be resolved only by the client that caused it, or an admin)"
        }
        Error::Auth { .. } => {
            "send a valid token: new Client({ bearerToken }), or the authorization header of the headers option"
        }
        Error::ConflictResolved { .. } => {
            "read it with client.conflicts.get(id) to see how it was resolved"
        }
        Error::VersionNotFound { .. } => {
            "list the versions kept with client.versions(url) and ask for one of those (error.oldestVersion is the oldest)"
        }
        Error::WeakValidator { .. } => {
            "set weakValidators: { rereads, withinMs } to wait longer (tags that turn strong after a write), { unmodifiedSince: true } to use Last-Modified (1 s resolution), or { sendAsIs: true } for a server that compares weak tags on purpose (FHIR)"
        }
        Error::MissingVersion { .. } => {
            "write what you read with its version (client.update() does this for you), or use { unconditional: true }"
        }
        Error::RetryAfterTooLong { .. } => {
            "retry after error.retryAfterMs, or use retry.longWait: 'clamp' / a larger retry.maxRetryAfterMs"
        }
        Error::BudgetExhausted { .. } => "the server is overloaded; back off before sending more",
        Error::MissingEtag { .. } => {
            let text = "make the server send strong ETags, or accept losing concurrent changes explicitly ({ unconditional: true } for put/patch/delete, missingEtag: 'unconditional' for update())";
            return Some(match crate::cors::missing_etag_note(err) {
                Some(note) => Cow::Owned(note + text),
                None => Cow::Borrowed(text),
            });
        }
        Error::Timeout { .. } => {
            let changed = err.is_outcome_unknown();
            match (changed, err.timeout_scope()) {
                (false, Some(TimeoutScope::Operation)) => {
                    "nothing was changed: retry, or raise retry.totalDeadlineMs"
                }
                (false, _) => {
                    "nothing was changed: retry, or raise the timeout option (per client or per call) for a slow server"
                }
                (true, Some(TimeoutScope::Operation)) => {
                    "the write may or may not have been applied, so read the resource before retrying it; raise retry.totalDeadlineMs for long operations"
                }
                (true, _) => {
                    "the write may or may not have been applied, so read the resource before retrying it; raise the timeout option (per client or per call) for a slow server"
                }
            }
        }
        Error::Redirected { .. } => {
            "writes never follow redirects: send the write to the new location yourself"
        }
        Error::OutcomeUnknown { .. } => "read the resource and decide before writing again",
        // The change function's problem (it threw, returned a Promise or no JSON) says what to do.
        Error::Change { source, .. } => return Some(Cow::Owned(source.to_string())),
        Error::Decode { source, .. } => {
            return Some(Cow::Owned(format!(
                "check that the server answers with JSON ({source})"
            )))
        }
        _ => return None,
    };
    Some(Cow::Borrowed(text))
}

/// Whether `err` is an error from this package (an `Error` named `IfmatchError` with a string
/// `code`); unlike `instanceof IfmatchError`, also true for errors from another copy of the package.
#[wasm_bindgen(js_name = isIfmatchError)]
pub fn is_ifmatch_error(err: &JsValue) -> bool {
    err.dyn_ref::<js_sys::Error>().is_some_and(|e| {
        e.name() == NAME && Reflect::get(e, &JsValue::from_str("code")).is_ok_and(|c| c.is_string())
    })
}

/// A thrown JavaScript value as text for an error message.
pub(crate) fn describe(value: &JsValue) -> String {
    if let Some(text) = value.as_string() {
        return text;
    }
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.to_string());
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
