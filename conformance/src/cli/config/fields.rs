//! The top-level keys of the configuration file: one per `check` flag.

use std::path::PathBuf;

use serde_json::Value;

use super::{FileConfig, OutputSpec};

/// Top-level keys that set a field of the shape tables (the "Target shape" flags).
const SHAPE_KEYS: &[(&str, &str, &str)] = &[
    ("create", "create", "method"),
    ("create-url", "create", "url"),
    ("location", "create", "location"),
    ("version-read", "version", "read"),
    ("version-send", "version", "send"),
    ("stale-status", "version", "stale-status"),
    ("fixture", "body", "fixture"),
    ("ignore", "body", "ignore"),
    ("patch", "body", "patch"),
    ("malformed-status", "body", "malformed-status"),
    ("missing-id", "body", "missing-id"),
    ("error-format", "errors", "format"),
];

/// Every other top-level key, as `check --help` spells the flag (without dashes).
pub(super) const KEYS: &[&str] = &[
    "base-url",
    "collection",
    "profile",
    "mismatch-status",
    "header",
    "rule",
    "format",
    "output",
    "dry-run",
    "show-secrets",
    "max-retry-wait",
    "lock-path",
    "batch-path",
    "transactions-path",
    "versions-path",
    "api-prefixes",
    "conflicts-path",
    "token",
    "other-token",
    "admin-token",
    "sse-wait",
    "repeat",
    "wait-for",
    "fail-on-skipped",
];

pub(super) fn is_shape_key(key: &str) -> bool {
    SHAPE_KEYS.iter().any(|(k, _, _)| *k == key)
}

/// The table and field a top-level shape key sets, and its value in the table's form.
pub(super) fn shape_alias(
    key: &str,
    value: Value,
    file: &str,
) -> Result<(&'static str, &'static str, Value), String> {
    let (_, table, field) = SHAPE_KEYS
        .iter()
        .find(|(k, _, _)| *k == key)
        .expect("a shape key");
    let value = match (key, value) {
        ("stale-status" | "malformed-status", v) => Value::from(statuses(key, v, file)?),
        ("ignore", v) => Value::from(list(key, v, file)?),
        ("fixture", Value::String(s)) => {
            let parsed: Value = serde_json::from_str(&s).map_err(|e| {
                format!("{file}: `fixture` is not a JSON object ({e}); write a table, e.g. fixture = {{ title = \"t\" }}")
            })?;
            if !parsed.is_object() {
                return Err(format!(
                    "{file}: `fixture` must be a JSON object or a table"
                ));
            }
            parsed
        }
        ("missing-id", Value::Number(n)) => Value::String(n.to_string()),
        ("create", v) if !v.is_string() => {
            return Err(format!(
                "{file}: `create` must be \"post\", \"put\", or a [create] table"
            ))
        }
        (_, v) => v,
    };
    Ok((table, field, value))
}

/// Stores the value of the top-level key `key` in `config`.
pub(super) fn set(
    config: &mut FileConfig,
    key: &str,
    value: Value,
    file: &str,
) -> Result<(), String> {
    let c = config;
    match key {
        "base-url" => c.base_url = Some(string(key, value, file)?),
        "collection" => c.collection = Some(string(key, value, file)?),
        "profile" => c.profile = Some(list(key, value, file)?),
        "mismatch-status" => {
            let status = number(key, value, file)?;
            if status != 412 && status != 409 {
                return Err(format!(
                    "{file}: `mismatch-status` = {status}: write 412 or 409"
                ));
            }
            c.mismatch_status = Some(status as u16);
        }
        "header" => {
            c.header = Some(match value {
                Value::String(s) => vec![s],
                v => strings(key, v, file)?,
            })
        }
        "rule" => c.rule = Some(list(key, value, file)?),
        "format" => c.format = Some(list(key, value, file)?),
        "output" => c.output = Some(output(value, file)?),
        "dry-run" => c.dry_run = Some(boolean(key, value, file)?),
        "show-secrets" => c.show_secrets = Some(boolean(key, value, file)?),
        "fail-on-skipped" => c.fail_on_skipped = Some(boolean(key, value, file)?),
        "max-retry-wait" => c.max_retry_wait = Some(number(key, value, file)?),
        "sse-wait" => c.sse_wait = Some(number(key, value, file)?),
        "wait-for" => c.wait_for = Some(number(key, value, file)?),
        "repeat" => {
            let n = number(key, value, file)?;
            c.repeat =
                Some(u32::try_from(n).map_err(|_| {
                    format!("{file}: `repeat` = {n} is out of range; give 1 to 100")
                })?);
        }
        "lock-path" => c.lock_path = Some(string(key, value, file)?),
        "batch-path" => c.batch_path = Some(string(key, value, file)?),
        "transactions-path" => c.transactions_path = Some(string(key, value, file)?),
        "versions-path" => c.versions_path = Some(string(key, value, file)?),
        "api-prefixes" => c.api_prefixes = Some(string(key, value, file)?),
        "conflicts-path" => c.conflicts_path = Some(string(key, value, file)?),
        "token" => c.token = Some(string(key, value, file)?),
        "other-token" => c.other_token = Some(string(key, value, file)?),
        "admin-token" => c.admin_token = Some(string(key, value, file)?),
        _ => return Err(unknown(key, file)),
    }
    Ok(())
}

pub(super) fn unknown(key: &str, file: &str) -> String {
    let kebab = key.replace('_', "-");
    let hint = if kebab != key && (KEYS.contains(&kebab.as_str()) || is_shape_key(&kebab)) {
        format!(" (did you mean `{kebab}`?)")
    } else {
        String::new()
    };
    format!(
        "{file}: unknown key `{key}`{hint}; the keys are the `check` flags without their dashes (see `ifmatch-conformance check --help`) and the tables [create], [version], [body] and [errors]"
    )
}

fn string(key: &str, value: Value, file: &str) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(format!("{file}: `{key}` must be a string, not {other}")),
    }
}

fn boolean(key: &str, value: Value, file: &str) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| format!("{file}: `{key}` must be true or false, not {value}"))
}

fn number(key: &str, value: Value, file: &str) -> Result<u64, String> {
    value
        .as_u64()
        .ok_or_else(|| format!("{file}: `{key}` must be a whole number of at least 0, not {value}"))
}

fn strings(key: &str, value: Value, file: &str) -> Result<Vec<String>, String> {
    match value {
        Value::Array(items) => items.into_iter().map(|v| string(key, v, file)).collect(),
        other => Err(format!(
            "{file}: `{key}` must be an array of strings, not {other}"
        )),
    }
}

/// An array of strings, or one comma-separated string.
fn list(key: &str, value: Value, file: &str) -> Result<Vec<String>, String> {
    match value {
        Value::String(s) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()),
        v => strings(key, v, file),
    }
}

/// An array of statuses, or one comma-separated string of them.
fn statuses(key: &str, value: Value, file: &str) -> Result<Vec<u16>, String> {
    let items = match value {
        Value::Number(_) => vec![value],
        Value::String(s) => s
            .split(',')
            .map(|s| Value::String(s.trim().to_owned()))
            .collect(),
        Value::Array(items) => items,
        other => {
            return Err(format!(
                "{file}: `{key}` must be a list of statuses, not {other}"
            ))
        }
    };
    items
        .into_iter()
        .map(|v| {
            let n = match &v {
                Value::String(s) => s.parse::<u16>().ok(),
                v => v.as_u64().and_then(|n| u16::try_from(n).ok()),
            };
            n.ok_or_else(|| format!("{file}: `{key}`: {v} is not an HTTP status"))
        })
        .collect()
}

fn output(value: Value, file: &str) -> Result<OutputSpec, String> {
    match value {
        Value::String(path) => Ok(OutputSpec::File(PathBuf::from(path))),
        Value::Object(map) => map
            .into_iter()
            .map(|(format, path)| {
                let path = string(&format!("output.{format}"), path, file)?;
                Ok((format, PathBuf::from(path)))
            })
            .collect::<Result<_, String>>()
            .map(OutputSpec::PerFormat),
        other => Err(format!(
            "{file}: `output` must be a file name, or a table of formats and files such as {{ junit = \"conformance.xml\" }}, not {other}"
        )),
    }
}
