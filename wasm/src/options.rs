//! `new Client(options)`: JavaScript options to the SDK's builder and retry settings.

use std::time::Duration;

use ifmatch::{ClientBuilder, LongWaitPolicy, MissingEtagPolicy, RetryConfig};
use js_sys::Object;
use wasm_bindgen::JsValue;

use crate::error::{from_sdk, invalid_argument};
use crate::event::observer;
use crate::fields::Fields;
use crate::json::as_object;

const CLIENT_OPTIONS: &[&str] = &[
    "baseUrl",
    "cacheSize",
    "partition",
    "missingEtag",
    "attemptTimeoutMs",
    "serverHonoursIdempotencyKeys",
    "trustWriteBodies",
    "headers",
    "retry",
    "onEvent",
];
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

/// The SDK client builder described by `options`; a thrown `IfmatchError` for bad options.
pub(crate) fn builder(options: &JsValue) -> Result<ClientBuilder, JsValue> {
    let o = Fields::new(options, "options", CLIENT_OPTIONS).map_err(invalid_argument)?;
    let mut builder = ifmatch::Client::builder();
    if let Some(url) = o.string("baseUrl").map_err(invalid_argument)? {
        builder = builder.base_url(&url).map_err(|e| from_sdk(&e, None))?;
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
    // At least 1 ms: a shorter limit fails every request (and would round to the zero the SDK refuses).
    if let Some(limit) = o
        .number_or_null("attemptTimeoutMs", 1, "no limit")
        .map_err(invalid_argument)?
    {
        builder = builder.attempt_timeout(limit.map(ms));
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
    if let Some(headers) = o.get("headers") {
        for (name, value) in header_pairs(&headers).map_err(invalid_argument)? {
            builder = builder
                .header(&name, &value)
                .map_err(|e| from_sdk(&e, None))?;
        }
    }
    if let Some(retry) = o.get("retry") {
        builder = builder.retry(retry_config(&retry).map_err(invalid_argument)?);
    }
    if let Some(listener) = o.function("onEvent").map_err(invalid_argument)? {
        builder = builder.on_event(observer(listener));
    }
    Ok(builder)
}

fn header_pairs(headers: &JsValue) -> Result<Vec<(String, String)>, String> {
    let object = as_object(headers)
        .ok_or("options.headers must be an object of header names to string values")?;
    Object::entries(object)
        .iter()
        .map(|entry| {
            let pair = js_sys::Array::from(&entry);
            let name = pair.get(0).as_string().unwrap_or_default();
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
fn ms(value: f64) -> Duration {
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
        let need = |v: Option<f64>, name: &str| {
            v.ok_or_else(|| format!("options.retry.conflictBackoff.{name} is required"))
        };
        let initial = need(b.number("initialMs", 0)?, "initialMs")?;
        let factor = need(b.number("factor", 1)?, "factor")?;
        let max = need(b.number("maxMs", 0)?, "maxMs")?;
        config = config.with_conflict_backoff(ms(initial), factor as f32, ms(max));
    }
    if let Some(budget) = r.get("budget") {
        let b = Fields::new(
            &budget,
            "options.retry.budget",
            &["capacity", "retryCost", "successRefund"],
        )?;
        let need = |v: Option<u32>, name: &str| {
            v.ok_or_else(|| format!("options.retry.budget.{name} is required"))
        };
        let capacity = need(b.whole("capacity", 0)?, "capacity")?;
        let cost = need(b.whole("retryCost", 0)?, "retryCost")?;
        let refund = need(b.whole("successRefund", 0)?, "successRefund")?;
        config = config.with_budget(capacity, cost, refund);
    }
    Ok(config)
}
