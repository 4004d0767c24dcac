//! Versions: `client.versions/version/restore/diff/deprecations`, the pure `diff`/`applyPatch`
//! exports (the SDK's `merge::diff`/`merge::apply`), the client options `apiVersion`,
//! `versionField` and `weakValidators`, and deprecation notices as JavaScript objects.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ifmatch::merge::{JsonPatch, PatchOp};
use ifmatch::{ClientBuilder, DeprecationNotice, VersionField, WeakValidators};
use js_sys::{Array, Promise};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::client::{url_arg, versioned, Client};
use crate::error::{coded, invalid_argument};
use crate::fields::Fields;
use crate::json::{from_js, nullable, object, strings, to_js};
use crate::lock;
use crate::options::{call_options, with_call_options};
use crate::promise::promise;

/// The options of `versions`, `version` and `diff`.
const READ_OPTIONS: &[&str] = &["apiVersion", "signal", "headers", "timeout"];
/// The options of `restore`.
const RESTORE_OPTIONS: &[&str] = &[
    "retryConflicts",
    "lock",
    "apiVersion",
    "signal",
    "headers",
    "timeout",
];

/// The client options this module reads: `apiVersion`, `versionField`, `weakValidators` and
/// `bearerToken`.
pub(crate) fn client_options(
    o: &Fields<'_>,
    mut builder: ClientBuilder,
) -> Result<ClientBuilder, JsValue> {
    if let Some(token) = o.string("bearerToken").map_err(invalid_argument)? {
        builder = builder.bearer_token(&token).map_err(|_| {
            // The SDK's reason, without repeating the token (it never does either).
            invalid_argument("options.bearerToken must be non-empty visible ASCII without spaces (an RFC 6750 token)")
        })?;
    }
    if let Some(version) = o.string("apiVersion").map_err(invalid_argument)? {
        builder = builder.api_version(&version);
    }
    if let Some(field) = o.get("versionField") {
        builder = builder.version_field(version_field(&field).map_err(invalid_argument)?);
    }
    if let Some(weak) = o.get("weakValidators") {
        builder = builder.weak_validators(weak_validators(&weak).map_err(invalid_argument)?);
    }
    Ok(builder)
}

/// `weakValidators: { rereads, withinMs, unmodifiedSince, sendAsIs }`; the SDK's defaults
/// (3 re-reads after 250, 500 and 1000 ms, no `If-Unmodified-Since`) for what is left out.
fn weak_validators(value: &JsValue) -> Result<WeakValidators, String> {
    let f = Fields::new(
        value,
        "options.weakValidators",
        &["rereads", "withinMs", "unmodifiedSince", "sendAsIs"],
    )?;
    if f.boolean("sendAsIs")? == Some(true) {
        return Ok(WeakValidators::send_as_is());
    }
    let default = WeakValidators::default();
    let rereads = f.whole("rereads", 0)?.unwrap_or(default.rereads());
    let within = f
        .whole("withinMs", 0)?
        .map_or(default.within(), |ms| Duration::from_millis(ms.into()));
    let dates = f.boolean("unmodifiedSince")?.unwrap_or(false);
    Ok(WeakValidators::wait(rereads, within).or_unmodified_since(dates))
}

/// `versionField: { pointer, ifMatch, documentAt, sentAt, query }`.
fn version_field(value: &JsValue) -> Result<VersionField, String> {
    let f = Fields::new(
        value,
        "options.versionField",
        &["pointer", "ifMatch", "documentAt", "sentAt", "query"],
    )?;
    let pointer = f.string("pointer")?.ok_or(
        "options.versionField.pointer is required: the JSON Pointer of the version in the body, e.g. '/version'",
    )?;
    let mut field = VersionField::at(&pointer);
    if let Some(if_match) = f.boolean("ifMatch")? {
        field = field.with_if_match(if_match);
    }
    if let Some(at) = f.string("documentAt")? {
        field = field.document_at(&at);
    }
    if let Some(at) = f.string("sentAt")? {
        field = field.sent_at(&at);
    }
    if let Some(name) = f.string("query")? {
        field = field.sent_in_query(&name);
    }
    Ok(field)
}

#[wasm_bindgen]
impl Client {
    /// `versions(url, { signal, headers, timeout, apiVersion })` → `{ versions, policy }`.
    pub fn versions(&self, url: JsValue, options: JsValue) -> Promise {
        let (client, has_base_url) = self.parts();
        promise(async move {
            let url = url_arg(&url, has_base_url)?;
            let o = Fields::new(&options, "options", READ_OPTIONS).map_err(invalid_argument)?;
            let call = call_options(&o)?;
            // A plain GET of `{url}/versions` (the reference server's layout, the SDK's default
            // `versions_path`), read here: the SDK's typed history decoder would bring serde's
            // "invalid type" messages and their float formatting (about 7 KB gzipped) into the
            // wasm.
            let history = history_url(&url);
            let get = client.request(ifmatch::http::Method::GET, &history);
            let get = with_call_options!(get, call);
            let read = call.link.token().run("GET", get).await;
            let read = read.map_err(|e| call.link.reject(&e, None))?;
            history_to_js(&read.value).ok_or_else(|| {
                coded(
                    "decode",
                    &format!("GET {history} answered with something that is not a version list ({{ versions: [{{ version, at_ms, … }}], policy }}); check that the server keeps document history"),
                    &history,
                )
            })
        })
    }

    /// `version(url, n, { signal, headers, timeout, apiVersion })` → `{ value, etag, version, … }`.
    pub fn version(&self, url: JsValue, n: JsValue, options: JsValue) -> Promise {
        let (client, has_base_url) = self.parts();
        promise(async move {
            let url = url_arg(&url, has_base_url)?;
            let n = number_arg(&n, "the version")?;
            let o = Fields::new(&options, "options", READ_OPTIONS).map_err(invalid_argument)?;
            let call = call_options(&o)?;
            let get = with_call_options!(client.version::<Value>(&url, n), call);
            let read = call.link.token().run("GET", get).await;
            read.map(versioned).map_err(|e| call.link.reject(&e, None))
        })
    }

    /// `restore(url, n, { retryConflicts, lock, signal, headers, timeout, apiVersion })`: writes
    /// version `n`'s content back as a new version, conditional on the current one.
    pub fn restore(&self, url: JsValue, n: JsValue, options: JsValue) -> Promise {
        let (client, has_base_url) = self.parts();
        promise(async move {
            let url = url_arg(&url, has_base_url)?;
            let n = number_arg(&n, "the version")?;
            let o = Fields::new(&options, "options", RESTORE_OPTIONS).map_err(invalid_argument)?;
            let retry = o.boolean("retryConflicts").map_err(invalid_argument)?;
            let call = call_options(&o)?;
            let under = lock::option(&o)?;
            let restore = client
                .restore(&url, n)
                .retry_conflicts(retry.unwrap_or(false));
            let restore = with_call_options!(restore, call);
            let restore = lock::under(restore, under, ifmatch::Restore::under);
            let written = call.link.token().run("PUT", restore).await;
            written
                .map(versioned)
                .map_err(|e| call.link.reject(&e, None))
        })
    }

    /// `diff(url, from, to, { signal, headers, timeout, apiVersion })` → the JSON Patch (RFC
    /// 6902) from version `from` to version `to`.
    pub fn diff(&self, url: JsValue, from: JsValue, to: JsValue, options: JsValue) -> Promise {
        let (client, has_base_url) = self.parts();
        promise(async move {
            let url = url_arg(&url, has_base_url)?;
            let from = number_arg(&from, "from")?;
            let to = number_arg(&to, "to")?;
            let o = Fields::new(&options, "options", READ_OPTIONS).map_err(invalid_argument)?;
            let call = call_options(&o)?;
            let diff = with_call_options!(client.diff(&url, from, to), call);
            let patch = call.link.token().run("GET", diff).await;
            patch
                .map(|p| patch_to_js(&p))
                .map_err(|e| call.link.reject(&e, None))
        })
    }

    /// `deprecations()`: the distinct deprecation notices answers carried, oldest first.
    pub fn deprecations(&self) -> Array {
        self.parts()
            .0
            .deprecations()
            .iter()
            .map(|n| notice_to_js(n, None))
            .collect()
    }
}

/// `diff(from, to)`: the JSON Patch (RFC 6902) that turns `from` into `to` (add, remove and
/// replace; arrays compared by index).
#[wasm_bindgen]
pub fn diff(from: JsValue, to: JsValue) -> Result<JsValue, JsValue> {
    let from = from_js(&from, "from").map_err(invalid_argument)?;
    let to = from_js(&to, "to").map_err(invalid_argument)?;
    Ok(patch_to_js(&ifmatch::merge::diff(&from, &to)))
}

/// `applyPatch(doc, patch)`: a copy of `doc` with the JSON Patch applied (add, remove and
/// replace), all or nothing; `invalid_argument` naming the operation that cannot be applied.
#[wasm_bindgen(js_name = applyPatch)]
pub fn apply_patch(doc: JsValue, patch: JsValue) -> Result<JsValue, JsValue> {
    let doc = from_js(&doc, "the document").map_err(invalid_argument)?;
    let patch = from_js(&patch, "the patch").map_err(invalid_argument)?;
    let patch = patch_from_json(&patch).map_err(|(i, what)| {
        invalid_argument(format!(
            "the patch must be an array of {{ op: 'add' | 'remove' | 'replace', path, value }} operations; operation {i} {what}"
        ))
    })?;
    ifmatch::merge::apply(&doc, &patch)
        .map(|v| to_js(&v))
        .map_err(|e| invalid_argument(e.to_string()))
}

/// A version number argument: a whole number that JavaScript holds exactly.
fn number_arg(value: &JsValue, what: &str) -> Result<u64, JsValue> {
    match value.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => Ok(n as u64),
        _ => Err(invalid_argument(format!(
            "{what} must be a whole version number (e.g. 41), not {}",
            crate::json::type_name(value)
        ))),
    }
}

/// The patch as the RFC 6902 array. Built member by member: serde's derived (internally
/// tagged) forms of `PatchOp` would pull serde's buffering and float formatting into the wasm.
fn patch_to_js(patch: &JsonPatch) -> JsValue {
    let ops: Array = patch
        .ops()
        .iter()
        .map(|op| {
            let (name, value) = match op {
                PatchOp::Add { value, .. } => ("add", Some(value)),
                PatchOp::Replace { value, .. } => ("replace", Some(value)),
                _ => ("remove", None),
            };
            let mut members = vec![
                ("op", JsValue::from_str(name)),
                ("path", JsValue::from_str(op.path())),
            ];
            if let Some(value) = value {
                members.push(("value", to_js(value)));
            }
            object(&members)
        })
        .collect();
    ops.into()
}

/// A JSON Patch from its RFC 6902 array; `(index, what is wrong)` for a bad operation.
fn patch_from_json(patch: &Value) -> Result<JsonPatch, (usize, &'static str)> {
    let ops = patch
        .as_array()
        .ok_or((0, "is missing: it is not an array"))?;
    let mut out = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let text = |name: &str| op.get(name).and_then(Value::as_str).map(str::to_owned);
        let path = text("path").ok_or((i, "has no string path"))?;
        let value = || op.get("value").cloned().ok_or((i, "has no value"));
        out.push(match text("op").as_deref() {
            Some("add") => PatchOp::Add {
                path,
                value: value()?,
            },
            Some("replace") => PatchOp::Replace {
                path,
                value: value()?,
            },
            Some("remove") => PatchOp::Remove { path },
            _ => return Err((i, "is not add, remove or replace")),
        });
    }
    Ok(JsonPatch(out))
}

/// A number JavaScript holds exactly (versions, counters and times stay far below 2^53).
fn num(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

/// `{url}/versions`, before the URL's query.
fn history_url(url: &str) -> String {
    match url.split_once('?') {
        Some((path, query)) => format!("{}/versions?{query}", path.trim_end_matches('/')),
        None => format!("{}/versions", url.trim_end_matches('/')),
    }
}

/// The server's `{ versions, policy }` with camelCase members; `None` when it is not a version
/// list (every entry needs its `version` number: a silently dropped one would mislead a restore).
fn history_to_js(history: &Value) -> Option<JsValue> {
    let n = |v: &Value, name: &str| v.get(name).and_then(Value::as_u64);
    let text = |v: &Value, name: &str| nullable(v.get(name).and_then(Value::as_str));
    let versions = history.get("versions")?.as_array()?;
    let list = Array::new();
    for v in versions {
        list.push(&object(&[
            ("version", num(n(v, "version")?)),
            ("etag", text(v, "etag")),
            ("atMs", num(n(v, "at_ms").unwrap_or_default())),
            ("author", text(v, "author")),
            (
                "deleted",
                (v.get("deleted") == Some(&Value::Bool(true))).into(),
            ),
            ("size", num(n(v, "size").unwrap_or_default())),
        ]));
    }
    let policy = history
        .get("policy")
        .filter(|p| p.is_object())
        .map_or(JsValue::NULL, |p| {
            let ms = |name: &str| nullable(n(p, name).map(|n| n as f64));
            object(&[
                ("maxVersions", ms("max_versions")),
                ("maxAgeMs", ms("max_age_ms")),
                ("tombstoneTtlMs", ms("tombstone_ttl_ms")),
            ])
        });
    Some(object(&[("versions", list.into()), ("policy", policy)]))
}

/// Unix milliseconds, `null` for `None`.
pub(crate) fn unix_ms(time: Option<SystemTime>) -> JsValue {
    nullable(
        time.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as f64),
    )
}

/// A notice as `{ url, deprecationMs, sunsetMs, successor, policy, malformed }`, with `type`
/// first when it is an event.
pub(crate) fn notice_to_js(notice: &DeprecationNotice, kind: Option<&str>) -> JsValue {
    let mut members = Vec::with_capacity(7);
    if let Some(kind) = kind {
        members.push(("type", JsValue::from_str(kind)));
    }
    members.extend([
        ("url", JsValue::from_str(&notice.url)),
        ("deprecationMs", unix_ms(notice.deprecation)),
        ("sunsetMs", unix_ms(notice.sunset)),
        ("successor", nullable(notice.successor.as_deref())),
        ("policy", nullable(notice.policy.as_deref())),
        ("malformed", strings(&notice.malformed)),
    ]);
    object(&members)
}
