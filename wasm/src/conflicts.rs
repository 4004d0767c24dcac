//! `client.conflicts`: the server's conflict log (`list`, `get`, `resolve`) and its live stream
//! (`subscribe`, an async iterable; `subscription.rs`), with records as plain JavaScript objects.

use ifmatch::conflicts::{Choice, Resolution, VersionRef};
use ifmatch::{ConflictFilter, ConflictRecord, ConflictState};
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;

use crate::client::Client;
use crate::error::{invalid_argument, relative_without_base};
use crate::fields::Fields;
use crate::json::{from_js, nullable, object, to_js_opt};
use crate::lock;
use crate::options::{call_options, with_call_options};
use crate::promise::promise;

/// The options of `list`.
const LIST_OPTIONS: &[&str] = &[
    "resources",
    "prefixes",
    "state",
    "limit",
    "after",
    "all",
    "signal",
    "headers",
    "timeout",
];
/// The options of `get`.
const GET_OPTIONS: &[&str] = &["signal", "headers", "timeout"];
/// The options of `resolve`.
const RESOLVE_OPTIONS: &[&str] = &[
    "resolution",
    "document",
    "ifMatch",
    "lock",
    "signal",
    "headers",
    "timeout",
];

/// The server's conflict log, seen through a client (`client.conflicts`).
#[wasm_bindgen]
pub struct Conflicts {
    client: ifmatch::Client,
    has_base_url: bool,
}

#[wasm_bindgen]
impl Client {
    /// `client.conflicts`: list, read, resolve and subscribe to the server's conflict log.
    #[wasm_bindgen(getter)]
    pub fn conflicts(&self) -> Conflicts {
        let (client, has_base_url) = self.parts();
        Conflicts {
            client,
            has_base_url,
        }
    }
}

#[wasm_bindgen]
impl Conflicts {
    /// `list({ resources, prefixes, state, limit, after, all, signal, headers, timeout })` →
    /// `{ conflicts, nextAfter }`, oldest first.
    pub fn list(&self, options: JsValue) -> Promise {
        let (client, has_base_url) = (self.client.clone(), self.has_base_url);
        promise(async move {
            let o = Fields::new(&options, "options", LIST_OPTIONS).map_err(invalid_argument)?;
            let filter = filter(&o)?;
            base_url_needed(has_base_url)?;
            let call = call_options(&o)?;
            let mut list = with_call_options!(client.conflicts().list(filter), call);
            if let Some(limit) = o.whole("limit", 1).map_err(invalid_argument)? {
                list = list.limit(limit);
            }
            if let Some(after) = o.number("after", 0).map_err(invalid_argument)? {
                list = list.after(after as u64);
            }
            let token = call.link.token().clone();
            let page = if o.boolean("all").map_err(invalid_argument)? == Some(true) {
                token
                    .run("GET", list.all())
                    .await
                    .map(|all| page_to_js(&all, None))
            } else {
                token
                    .run("GET", list.send())
                    .await
                    .map(|page| page_to_js(&page.conflicts, page.next_after))
            };
            page.map_err(|e| call.link.reject(&e, None))
        })
    }

    /// `get(id, { signal, headers, timeout })` → the record.
    pub fn get(&self, id: JsValue, options: JsValue) -> Promise {
        let (client, has_base_url) = (self.client.clone(), self.has_base_url);
        promise(async move {
            let id = id_arg(&id)?;
            let o = Fields::new(&options, "options", GET_OPTIONS).map_err(invalid_argument)?;
            base_url_needed(has_base_url)?;
            let call = call_options(&o)?;
            let get = with_call_options!(client.conflicts().get(&id), call);
            let record = call.link.token().run("GET", get.send()).await;
            record
                .map(|r| record_to_js(&r))
                .map_err(|e| call.link.reject(&e, None))
        })
    }

    /// `resolve(id, { resolution: 'mine' | 'theirs' | 'merged', document, ifMatch, lock, signal,
    /// headers, timeout })` → the record, resolved.
    pub fn resolve(&self, id: JsValue, options: JsValue) -> Promise {
        let (client, has_base_url) = (self.client.clone(), self.has_base_url);
        promise(async move {
            let id = id_arg(&id)?;
            let o = Fields::new(&options, "options", RESOLVE_OPTIONS).map_err(invalid_argument)?;
            let choice = o
                .choice("resolution", &["mine", "theirs", "merged"])
                .map_err(invalid_argument)?;
            let document = o.get("document");
            let resolution = match (choice, document) {
                (Some("mine"), None) => Resolution::Mine,
                (Some("merged"), Some(doc)) => Resolution::Merged(
                    from_js(&doc, "options.document").map_err(invalid_argument)?,
                ),
                (Some("merged"), None) => {
                    return Err(invalid_argument(
                        "resolution 'merged' needs the document to write: { resolution: 'merged', document }",
                    ))
                }
                (Some(_), None) => Resolution::Theirs,
                (Some(_), Some(_)) => {
                    return Err(invalid_argument(
                        "options.document goes only with resolution 'merged' ('mine' writes the refused body, 'theirs' writes nothing)",
                    ))
                }
                (None, _) => {
                    return Err(invalid_argument(
                        "options.resolution is required: 'mine' (apply the refused write), 'theirs' (keep the current document) or 'merged' (with options.document)",
                    ))
                }
            };
            base_url_needed(has_base_url)?;
            let call = call_options(&o)?;
            let under = lock::option(&o)?;
            let mut resolve = client.conflicts().resolve(&id, resolution);
            if let Some(tag) = o.get("ifMatch") {
                resolve = resolve.if_match(&etag_arg(&tag)?);
            }
            let resolve = with_call_options!(resolve, call);
            let resolve = lock::under(resolve, under, ifmatch::Resolve::under);
            let record = call.link.token().run("POST", resolve.send()).await;
            record
                .map(|r| record_to_js(&r))
                .map_err(|e| call.link.reject(&e, None))
        })
    }

    /// `subscribe({ resources, prefixes, state, after, stallTimeoutMs, maxFailures, signal,
    /// headers })` → an async iterable of `{ type: 'conflict' | 'resolved' | 'gap', … }`.
    pub fn subscribe(&self, options: JsValue) -> Result<JsValue, JsValue> {
        if !self.has_base_url {
            return Err(relative_without_base("/conflicts/stream"));
        }
        crate::subscription::subscribe(&self.client, &options)
    }
}

/// The conflict log is a path under the base URL (`/conflicts`).
fn base_url_needed(has_base_url: bool) -> Result<(), JsValue> {
    if has_base_url {
        Ok(())
    } else {
        Err(relative_without_base("/conflicts"))
    }
}

/// `ifMatch` of a resolution: the ETag of a read.
fn etag_arg(value: &JsValue) -> Result<ifmatch::EntityTag, JsValue> {
    value
        .as_string()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| {
            invalid_argument(format!(
                "options.ifMatch must be the etag of a read (read.etag), a string such as '\"v1\"', not {}",
                crate::json::type_name(value)
            ))
        })
}

fn id_arg(id: &JsValue) -> Result<String, JsValue> {
    id.as_string().filter(|id| !id.is_empty()).ok_or_else(|| {
        invalid_argument(format!(
            "the conflict id must be a non-empty string (e.g. 'c-12', error.conflictId), not {}",
            crate::json::type_name(id)
        ))
    })
}

/// `resources`, `prefixes` and `state` of a list or subscription.
pub(crate) fn filter(o: &Fields<'_>) -> Result<ConflictFilter, JsValue> {
    let mut filter = ConflictFilter::new();
    for path in string_list(o, "resources")? {
        filter = filter.resource(path);
    }
    for prefix in string_list(o, "prefixes")? {
        filter = filter.prefix(prefix);
    }
    match o
        .choice("state", &["open", "resolved"])
        .map_err(invalid_argument)?
    {
        Some("open") => filter = filter.state(ConflictState::Open),
        Some(_) => filter = filter.state(ConflictState::Resolved),
        None => {}
    }
    Ok(filter)
}

fn string_list(o: &Fields<'_>, name: &str) -> Result<Vec<String>, JsValue> {
    let Some(value) = o.get(name) else {
        return Ok(Vec::new());
    };
    let wrong = || {
        invalid_argument(format!(
            "{}.{name} must be an array of paths (e.g. ['/items/doc'])",
            o.context()
        ))
    };
    if !Array::is_array(&value) {
        return Err(wrong());
    }
    Array::from(&value)
        .iter()
        .map(|item| item.as_string().ok_or_else(wrong))
        .collect()
}

fn page_to_js(records: &[ConflictRecord], next_after: Option<u64>) -> JsValue {
    let list: Array = records.iter().map(record_to_js).collect();
    object(&[
        ("conflicts", list.into()),
        ("nextAfter", nullable(next_after.map(|n| n as f64))),
    ])
}

fn num(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

fn version_ref(v: Option<&VersionRef>) -> JsValue {
    v.map_or(JsValue::NULL, |v| {
        object(&[
            ("etag", nullable(v.etag.as_ref().map(|t| t.to_string()))),
            ("version", nullable(v.version.map(|n| n as f64))),
        ])
    })
}

/// A record with camelCase members (docs/javascript.md, "Conflict notifications").
pub(crate) fn record_to_js(r: &ConflictRecord) -> JsValue {
    let rejected = r.rejected.as_ref().map_or(JsValue::NULL, |rej| {
        let body = to_js_opt(rej.body.as_ref());
        object(&[
            ("contentType", nullable(rej.content_type.as_deref())),
            (
                "body",
                if body.is_undefined() {
                    JsValue::NULL
                } else {
                    body
                },
            ),
            ("truncated", rej.truncated.into()),
        ])
    });
    let resolution = r.resolution.as_ref().map_or(JsValue::NULL, |res| {
        let choice = match res.choice {
            Choice::Mine => "mine",
            Choice::Theirs => "theirs",
            _ => "merged",
        };
        object(&[
            ("choice", JsValue::from_str(choice)),
            ("by", nullable(res.by.as_deref())),
            ("atMs", num(res.at_ms)),
            ("etag", nullable(res.etag.as_ref().map(|t| t.to_string()))),
            ("version", nullable(res.version.map(|n| n as f64))),
        ])
    });
    object(&[
        ("id", JsValue::from_str(&r.id)),
        ("seq", num(r.seq)),
        ("kind", JsValue::from_str(&r.kind)),
        ("status", r.status.into()),
        ("method", JsValue::from_str(&r.method)),
        ("resource", JsValue::from_str(&r.resource)),
        ("client", nullable(r.client.as_deref())),
        ("atMs", num(r.at_ms)),
        ("basedOn", version_ref(r.based_on.as_ref())),
        ("current", version_ref(r.current.as_ref())),
        ("rejected", rejected),
        ("state", JsValue::from_str(r.state.as_str())),
        ("resolution", resolution),
    ])
}
