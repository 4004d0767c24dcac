//! Errors as real JavaScript `Error` objects with a stable `code` and the SDK's details.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::json::{millis, nullable, strings, to_js};

/// The `name` every error from this package carries.
const NAME: &str = "IfmatchError";

/// An `IfmatchError` with `code` and every detail field set to its "none" value.
fn new_error(code: &str, message: &str) -> js_sys::Error {
    let error = js_sys::Error::new(message);
    error.set_name(NAME);
    set(&error, "code", JsValue::from_str(code));
    set(&error, "status", JsValue::NULL);
    set(&error, "problem", JsValue::NULL);
    set(&error, "retryAfterMs", JsValue::NULL);
    set(&error, "currentEtag", JsValue::NULL);
    set(&error, "conflictPaths", strings(&[]));
    error
}

fn set(error: &js_sys::Error, name: &str, value: JsValue) {
    // Setting a data property on a fresh Error object cannot fail.
    let _ = Reflect::set(error, &JsValue::from_str(name), &value);
}

/// Bad input to this package (wrong type, unknown option): code `invalid_argument`.
pub(crate) fn invalid_argument(message: impl AsRef<str>) -> JsValue {
    new_error("invalid_argument", message.as_ref()).into()
}

/// The SDK's advice names Rust API items; JavaScript users get the equivalent option instead.
/// (wasm/tests/node/messages.test.mjs snapshots the results, so a changed SDK text shows up.)
const JS_WORDING: &[(&str, &str)] = &[
    (
        "Strategy::three_way_merge_with(...) or use Strategy::Reapply",
        "a `resolve` function (strategy 'merge') or use strategy 'reapply'",
    ),
    (
        "inspect error.current() and decide",
        "inspect error.current and decide",
    ),
    (
        "raise RetryConfig::with_max_attempts / with_total_deadline",
        "raise retry.maxAttempts / retry.totalDeadlineMs",
    ),
    (
        "use LongWaitPolicy::Clamp / a larger with_max_retry_after",
        "use retry.longWait 'clamp' / a larger retry.maxRetryAfterMs",
    ),
    (
        "(Precondition::unconditional() for a write, MissingEtagPolicy::Unconditional for update())",
        "({ unconditional: true } for put/patch/delete, missingEtag: 'unconditional' for update())",
    ),
    (
        "raise ClientBuilder::attempt_timeout for a slow server",
        "raise the attemptTimeoutMs option for a slow server",
    ),
    (
        "raise RetryConfig::with_total_deadline for long operations",
        "raise retry.totalDeadlineMs for long operations",
    ),
    (
        "set Client::builder().base_url(...)",
        "set the baseUrl option",
    ),
];

fn message(err: &ifmatch::Error) -> String {
    JS_WORDING
        .iter()
        .fold(err.to_string(), |text, (rust, js)| text.replace(rust, js))
}

/// An SDK error as an `IfmatchError`; `cause` is what user code (a change function or resolver) threw.
pub(crate) fn from_sdk(err: &ifmatch::Error, cause: Option<JsValue>) -> JsValue {
    let error = new_error(err.code(), &message(err));
    set(&error, "status", nullable(err.status()));
    set(
        &error,
        "problem",
        nullable(err.problem().map(|p| to_js(&p.to_json()))),
    );
    set(
        &error,
        "retryAfterMs",
        nullable(err.retry_after().map(millis)),
    );
    set(
        &error,
        "currentEtag",
        nullable(err.current_etag().map(|t| t.to_string())),
    );
    set(&error, "conflictPaths", strings(err.conflict_paths()));
    if let Some(current) = err.current() {
        set(&error, "current", to_js(current));
    }
    if let Some(cause) = cause {
        set(&error, "cause", cause);
    }
    error.into()
}

/// Whether `err` is an error from this package (an `Error` named `IfmatchError` with a string `code`).
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
