//! `new Client(options)`: JavaScript options to the SDK's builder and retry settings.

use std::time::Duration;

use ifmatch::{LongWaitPolicy, MissingEtagPolicy, RetryConfig};
use js_sys::Object;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::abort::AbortLink;
use crate::error::{from_sdk, invalid_argument};
use crate::event::observer;
use crate::fields::Fields;
use crate::json::as_object;
use crate::transport::FetchTransport;

#[wasm_bindgen::prelude::wasm_bindgen(module = "/js/shim.js")]
extern "C" {
    /// The `hooks` option around the `fetch` and `onEvent` options: `[fetch, onEvent]`, or the
    /// error message.
    fn hooked(fetch: &JsValue, on_event: &JsValue, hooks: &JsValue) -> JsValue;
    /// The `searchParams` option as a flat `[name, value, …]` list, or the error message.
    #[wasm_bindgen(js_name = searchPairs)]
    fn search_pairs(value: &JsValue) -> JsValue;
}

const CLIENT_OPTIONS: &[&str] = &[
    "baseUrl",
    "cacheSize",
    "partition",
    "missingEtag",
    "timeout",
    "serverHonoursIdempotencyKeys",
    "trustWriteBodies",
    "adaptivePacing",
    "headers",
    "credentials",
    "fetch",
    "retry",
    "onEvent",
    "bearerToken",
    "apiVersion",
    "versionField",
    "weakValidators",
    "hooks",
];
/// Client options that were renamed, with their new names (the old names are refused, so that
/// a setting is never silently ignored).
const RENAMED: &[(&str, &str)] = &[("attemptTimeoutMs", "timeout")];
const RETRY_OPTIONS: &[&str] = &[
    "preset",
    "maxAttempts",
    "initialDelayMs",
    "maxDelayMs",
    "factor",
    "jitter",
    "seed",
    "minDelayMs",
    "totalDeadlineMs",
    "maxRetryAfterMs",
    "longWait",
    "maxConflictAttempts",
    "conflictBackoff",
    "budget",
];

/// The SDK client described by `options`, and whether it has a base URL; a thrown
/// `IfmatchError` for bad options.
pub(crate) fn client(options: &JsValue) -> Result<(ifmatch::Client, bool), JsValue> {
    let o = Fields::new(options, "options", CLIENT_OPTIONS).map_err(|message| {
        let renamed = RENAMED.iter().find(|(old, _)| has_own(options, old));
        invalid_argument(match renamed {
            Some((old, new)) => {
                format!("options.{old} is now options.{new} (the same setting); rename it")
            }
            None => message,
        })
    })?;
    let mut builder = ifmatch::Client::builder();
    let base_url = o.string("baseUrl").map_err(invalid_argument)?;
    if let Some(url) = &base_url {
        builder = builder.base_url(url).map_err(|e| from_sdk(&e, None))?;
    }
    if let Some(size) = o.whole("cacheSize", 0).map_err(invalid_argument)? {
        builder = builder.cache_capacity(size as usize);
    }
    if let Some(partition) = o.string("partition").map_err(invalid_argument)? {
        builder = builder.partition(partition);
    }
    let policy = o
        .choice(
            "missingEtag",
            &["fetchFirst", "createOnly", "unconditional"],
        )
        .map_err(invalid_argument)?;
    builder = builder.missing_etag(match policy {
        Some("createOnly") => MissingEtagPolicy::CreateOnly,
        Some("unconditional") => MissingEtagPolicy::Unconditional,
        _ => MissingEtagPolicy::FetchFirst,
    });
    if let Some(limit) = timeout(&o)? {
        builder = builder.attempt_timeout(limit);
    }
    if let Some(honoured) = o
        .boolean("serverHonoursIdempotencyKeys")
        .map_err(invalid_argument)?
    {
        builder = builder.server_honours_idempotency_keys(honoured);
    }
    if let Some(trusted) = o.boolean("trustWriteBodies").map_err(invalid_argument)? {
        builder = builder.trust_write_bodies(trusted);
    }
    if let Some(on) = o.boolean("adaptivePacing").map_err(invalid_argument)? {
        builder = builder.adaptive_pacing(on);
    }
    for (name, value) in headers(&o)? {
        builder = builder
            .header(&name, &value)
            .map_err(|e| from_sdk(&e, None))?;
    }
    let credentials = o
        .choice("credentials", &["omit", "same-origin", "include"])
        .map_err(invalid_argument)?;
    let mut fetch = o
        .function("fetch")
        .map_err(invalid_argument)?
        .map_or(JsValue::UNDEFINED, JsValue::from);
    let mut listener = o
        .function("onEvent")
        .map_err(invalid_argument)?
        .map_or(JsValue::UNDEFINED, JsValue::from);
    if let Some(hooks) = o.get("hooks") {
        let pair = hooked(&fetch, &listener, &hooks);
        if let Some(message) = pair.as_string() {
            return Err(invalid_argument(message));
        }
        let pair = js_sys::Array::from(&pair);
        (fetch, listener) = (pair.get(0), pair.get(1));
    }
    let transport = FetchTransport { fetch, credentials };
    if let Some(retry) = o.get("retry") {
        builder = builder.retry(retry_config(&retry).map_err(invalid_argument)?);
    }
    if let Ok(listener) = listener.dyn_into::<js_sys::Function>() {
        builder = builder.on_event(observer(listener));
    }
    builder = crate::versions::client_options(&o, builder)?;
    // `build_with_transport`, not `.transport(…).build()`: then the SDK's own default transport
    // (its `fetch` transport, about 4 KB gzipped) is not linked into the module next to this one.
    let client = builder
        .build_with_transport(transport)
        .map_err(|e| from_sdk(&e, None))?;
    Ok((client, base_url.is_some()))
}

fn has_own(options: &JsValue, name: &str) -> bool {
    as_object(options).is_some_and(|o| Object::has_own(o, &JsValue::from_str(name)))
}

/// The `timeout` option (client or call): milliseconds for one HTTP request, or `null` for
/// no limit. At least 1 ms: a shorter limit fails every request (and would round to the zero
/// the SDK refuses).
fn timeout(o: &Fields<'_>) -> Result<Option<Option<Duration>>, JsValue> {
    let limit = o
        .number_or_null("timeout", 1, "no limit")
        .map_err(invalid_argument)?;
    Ok(limit.map(|limit| limit.map(ms)))
}

/// The `headers` option (client or call): an object of header names to strings.
fn headers(o: &Fields<'_>) -> Result<Vec<(String, String)>, JsValue> {
    match o.get("headers") {
        Some(headers) => header_pairs(&headers).map_err(invalid_argument),
        None => Ok(Vec::new()),
    }
}

/// What every call takes besides its own options: `signal`, `headers`, `timeout`,
/// `searchParams`.
pub(crate) struct CallOptions {
    /// Headers for this call only, after the client's (replacing one of the same name).
    pub(crate) headers: Vec<(String, String)>,
    /// Query parameters appended to this call's URL (`searchParams`).
    pub(crate) query: Vec<(String, String)>,
    /// The timeout for each HTTP request of this call, instead of the client's.
    pub(crate) timeout: Option<Option<Duration>>,
    /// The caller's `AbortSignal`.
    pub(crate) link: AbortLink,
}

/// The call options in `o`.
pub(crate) fn call_options(o: &Fields<'_>) -> Result<CallOptions, JsValue> {
    let mut headers = headers(o)?;
    // `apiVersion` (where the call takes it) is the `Api-Version` header of this call only.
    if let Some(version) = o.string("apiVersion").map_err(invalid_argument)? {
        headers.push(("api-version".to_owned(), version));
    }
    let mut query = Vec::new();
    if let Some(params) = o.get("searchParams") {
        let flat = search_pairs(&params);
        if let Some(message) = flat.as_string() {
            return Err(invalid_argument(message));
        }
        let flat = js_sys::Array::from(&flat);
        for i in (0..flat.length()).step_by(2) {
            let text = |i| flat.get(i).as_string().unwrap_or_default();
            query.push((text(i), text(i + 1)));
        }
    }
    Ok(CallOptions {
        headers,
        query,
        timeout: timeout(o)?,
        link: AbortLink::new(o.get("signal")).map_err(invalid_argument)?,
    })
}

/// Applies [`CallOptions`] to one of the SDK's request builders (which share these setters
/// without a common trait).
macro_rules! with_call_options {
    ($builder:expr, $call:expr) => {{
        let mut builder = $builder;
        for (name, value) in &$call.headers {
            builder = builder.header(name, value);
        }
        if let Some(timeout) = $call.timeout {
            builder = builder.timeout(timeout);
        }
        if !$call.query.is_empty() {
            builder = builder.query(&$call.query);
        }
        builder
    }};
}

pub(crate) use with_call_options;

#[wasm_bindgen(module = "/js/shim.js")]
extern "C" {
    /// Why header `name` may not be set with the `headers` option, if it may not.
    #[wasm_bindgen(js_name = refusedHeader)]
    fn refused_header(name: &str) -> Option<String>;
}

/// The `headers` option as (name, value) pairs. `If-Match` and `If-None-Match` are refused: a
/// default one would be sent on reads and creates too, and a write's version is its `ifMatch`
/// option, which the client checks and never takes from elsewhere.
pub(crate) fn header_pairs(headers: &JsValue) -> Result<Vec<(String, String)>, String> {
    let object = as_object(headers)
        .ok_or("options.headers must be an object of header names to string values")?;
    Object::entries(object)
        .iter()
        .map(|entry| {
            let pair = js_sys::Array::from(&entry);
            let name = pair.get(0).as_string().unwrap_or_default();
            if let Some(refusal) = refused_header(&name) {
                return Err(refusal);
            }
            let value = pair
                .get(1)
                .as_string()
                .ok_or_else(|| format!("options.headers.{name} must be a string"))?;
            Ok((name, value))
        })
        .collect()
}

/// Milliseconds (finite, not negative) as a duration, rounded to whole nanoseconds; huge values
/// saturate at about 584 years instead of panicking as `Duration::from_secs_f64` would.
pub(crate) fn ms(value: f64) -> Duration {
    Duration::from_nanos((value * 1_000_000.0).round() as u64)
}

/// The retry settings: the preset, then every given field on top.
fn retry_config(value: &JsValue) -> Result<RetryConfig, String> {
    let r = Fields::new(value, "options.retry", RETRY_OPTIONS)?;
    let mut config = match r.choice(
        "preset",
        &["default", "contended", "backgroundSync", "disabled"],
    )? {
        Some("contended") => RetryConfig::contended(),
        Some("backgroundSync") => RetryConfig::background_sync(),
        Some("disabled") => RetryConfig::disabled(),
        _ => RetryConfig::default(),
    };
    if let Some(n) = r.whole("maxAttempts", 1)? {
        config = config.with_max_attempts(n);
    }
    if let Some(n) = r.number("initialDelayMs", 0)? {
        config = config.with_initial_delay(ms(n));
    }
    if let Some(n) = r.number("maxDelayMs", 0)? {
        config = config.with_max_delay(ms(n));
    }
    if let Some(n) = r.number("factor", 1)? {
        config = config.with_factor(n as f32);
    }
    if let Some(on) = r.boolean("jitter")? {
        config = config.with_jitter(on);
    }
    if let Some(seed) = r.number("seed", 0)? {
        config = config.with_jitter_seed(seed as u64);
    }
    if let Some(n) = r.number("minDelayMs", 0)? {
        config = config.with_min_delay(ms(n));
    }
    if let Some(deadline) = r.number_or_null("totalDeadlineMs", 0, "no limit")? {
        config = config.with_total_deadline(deadline.map(ms));
    }
    if let Some(n) = r.number("maxRetryAfterMs", 0)? {
        config = config.with_max_retry_after(ms(n));
    }
    if let Some(policy) = r.choice("longWait", &["clamp", "fail"])? {
        config = config.with_long_wait(if policy == "clamp" {
            LongWaitPolicy::Clamp
        } else {
            LongWaitPolicy::Fail
        });
    }
    if let Some(n) = r.whole("maxConflictAttempts", 1)? {
        config = config.with_max_conflict_attempts(n);
    }
    if let Some(backoff) = r.get("conflictBackoff") {
        let b = Fields::new(
            &backoff,
            "options.retry.conflictBackoff",
            &["initialMs", "factor", "maxMs"],
        )?;
        if let Some(n) = b.number("initialMs", 0)? {
            config = config.with_conflict_delay(ms(n));
        }
        if let Some(n) = b.number("factor", 1)? {
            config = config.with_conflict_factor(n as f32);
        }
        if let Some(n) = b.number("maxMs", 0)? {
            config = config.with_conflict_max_delay(ms(n));
        }
    }
    if let Some(budget) = r.get("budget") {
        let b = Fields::new(
            &budget,
            "options.retry.budget",
            &["capacity", "retryCost", "successRefund"],
        )?;
        if let Some(n) = b.whole("capacity", 0)? {
            config = config.with_budget_capacity(n);
        }
        if let Some(n) = b.whole("retryCost", 0)? {
            config = config.with_budget_retry_cost(n);
        }
        if let Some(n) = b.whole("successRefund", 0)? {
            config = config.with_budget_success_refund(n);
        }
    }
    Ok(config)
}
