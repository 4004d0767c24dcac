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

fn ms(value: f64) -> Duration {
    Duration::from_secs_f64(value / 1000.0)
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
    if r.get("totalDeadlineMs").is_some_and(|v| v.is_null()) {
        config = config.with_total_deadline(None);
    } else if let Some(n) = r.number("totalDeadlineMs", 0)? {
        config = config.with_total_deadline(Some(ms(n)));
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
