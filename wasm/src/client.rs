//! The exported `Client` class: each method converts its arguments, runs the SDK operation under
//! the caller's `AbortSignal`, and converts the result or error.

use ifmatch::Versioned;
use js_sys::{Function, Promise};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::abort::AbortLink;
use crate::error::{from_sdk, invalid_argument};
use crate::event::stats_to_js;
use crate::fields::Fields;
use crate::json::{from_js, nullable, object, to_js, type_name};
use crate::options::builder;
use crate::precondition::{Version, Write, WRITE_OPTIONS};
use crate::update::{self, Thrown};

/// An HTTP client for JSON resources that makes concurrent writes safe (see `docs/javascript.md`).
#[wasm_bindgen]
pub struct Client {
    inner: ifmatch::Client,
}

#[wasm_bindgen]
impl Client {
    /// `new Client({ baseUrl, cacheSize, partition, missingEtag, attemptTimeoutMs,
    /// serverHonoursIdempotencyKeys, trustWriteBodies, headers, retry, onEvent })`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<Client, JsValue> {
        let inner = builder(&options)?.build().map_err(|e| from_sdk(&e, None))?;
        Ok(Client { inner })
    }

    /// `get(url, { signal })` → `{ value, etag, … }`.
    pub fn get(&self, url: JsValue, options: JsValue) -> Promise {
        let client = self.inner.clone();
        future_to_promise(async move {
            let (url, link) = request(&url, &options)?;
            let read = link
                .token()
                .run(&format!("GET {url}"), client.get::<Value>(&url))
                .await;
            read.map(versioned).map_err(|e| from_sdk(&e, None))
        })
    }

    /// `create(url, doc, { signal })`: POST.
    pub fn create(&self, url: JsValue, doc: JsValue, options: JsValue) -> Promise {
        let client = self.inner.clone();
        future_to_promise(async move {
            let (url, link) = request(&url, &options)?;
            let doc = from_js(&doc, "the document").map_err(invalid_argument)?;
            let written = link
                .token()
                .run(&format!("POST {url}"), client.create(&url, &doc))
                .await;
            written.map(versioned).map_err(|e| from_sdk(&e, None))
        })
    }

    /// `put(url, doc, { ifMatch | createOnly | unconditional, signal })`: PUT conditional on
    /// the version the document was read at.
    pub fn put(&self, url: JsValue, doc: JsValue, options: JsValue) -> Promise {
        let client = self.inner.clone();
        future_to_promise(async move {
            let (url, version, link) = write_request(&url, &options, Write::Put)?;
            let doc = from_js(&doc, "the document").map_err(invalid_argument)?;
            let written = link
                .token()
                .run(
                    &format!("PUT {url}"),
                    version.send(|p| client.put(&url, &doc, p)),
                )
                .await;
            written.map(versioned).map_err(|e| from_sdk(&e, None))
        })
    }

    /// `patch(url, mergePatch, { ifMatch | createOnly | unconditional, signal })`: PATCH with a
    /// JSON Merge Patch, conditional like `put`.
    pub fn patch(&self, url: JsValue, merge_patch: JsValue, options: JsValue) -> Promise {
        let client = self.inner.clone();
        future_to_promise(async move {
            let (url, version, link) = write_request(&url, &options, Write::Patch)?;
            let patch = from_js(&merge_patch, "the merge patch").map_err(invalid_argument)?;
            let written = link
                .token()
                .run(
                    &format!("PATCH {url}"),
                    version.send(|p| client.patch(&url, &patch, p)),
                )
                .await;
            written.map(versioned).map_err(|e| from_sdk(&e, None))
        })
    }

    /// `delete(url, { ifMatch | unconditional, signal })`: DELETE, conditional like `put`;
    /// resolves to `undefined`.
    pub fn delete(&self, url: JsValue, options: JsValue) -> Promise {
        let client = self.inner.clone();
        future_to_promise(async move {
            let (url, version, link) = write_request(&url, &options, Write::Delete)?;
            let deleted = link
                .token()
                .run(
                    &format!("DELETE {url}"),
                    version.send(|p| client.delete(&url, p)),
                )
                .await;
            deleted
                .map(|()| JsValue::UNDEFINED)
                .map_err(|e| from_sdk(&e, None))
        })
    }

    /// `update(url, change, { strategy, resolve, signal })`: read, change, write, recover.
    pub fn update(&self, url: JsValue, change: JsValue, options: JsValue) -> Promise {
        let client = self.inner.clone();
        future_to_promise(async move {
            let url = url_arg(&url)?;
            let change = change.dyn_into::<Function>().map_err(|v| {
                invalid_argument(format!(
                    "the change must be a function, not {}",
                    type_name(&v)
                ))
            })?;
            let o = Fields::new(&options, "options", &["strategy", "resolve", "signal"])
                .map_err(invalid_argument)?;
            let thrown = Thrown::default();
            let resolve = o.function("resolve").map_err(invalid_argument)?;
            let strategy = match o.get("strategy").map(|s| s.dyn_into::<Function>()) {
                Some(Ok(function)) if resolve.is_none() => update::custom(function, thrown.clone()),
                Some(Ok(_)) => return Err(invalid_argument(update::RESOLVE_ONLY_WITH_MERGE)),
                _ => {
                    let name = o
                        .choice("strategy", &["reapply", "merge", "lastWriteWins", "abort"])
                        .map_err(invalid_argument)?;
                    update::strategy(name, resolve, &thrown).map_err(invalid_argument)?
                }
            };
            let link = AbortLink::new(o.get("signal")).map_err(invalid_argument)?;
            let updated = client
                .update(&url)
                .change(update::change(change, thrown.clone()))
                .strategy(strategy)
                .cancel_on(link.token())
                .send()
                .await;
            updated
                .map(versioned)
                .map_err(|e| from_sdk(&e, thrown.take()))
        })
    }

    /// `stats()`: the client's counters.
    pub fn stats(&self) -> JsValue {
        stats_to_js(&self.inner.stats())
    }
}

fn url_arg(url: &JsValue) -> Result<String, JsValue> {
    url.as_string().ok_or_else(|| {
        invalid_argument(format!("the URL must be a string, not {}", type_name(url)))
    })
}

/// The URL and the `{ signal }` options every method takes.
fn request(url: &JsValue, options: &JsValue) -> Result<(String, AbortLink), JsValue> {
    let url = url_arg(url)?;
    let o = Fields::new(options, "options", &["signal"]).map_err(invalid_argument)?;
    let link = AbortLink::new(o.get("signal")).map_err(invalid_argument)?;
    Ok((url, link))
}

/// The URL, the precondition and the `{ signal }` of a write.
fn write_request(
    url: &JsValue,
    options: &JsValue,
    write: Write,
) -> Result<(String, Version, AbortLink), JsValue> {
    let url = url_arg(url)?;
    let o = Fields::new(options, "options", WRITE_OPTIONS).map_err(invalid_argument)?;
    let version = Version::from_options(&o, write).map_err(invalid_argument)?;
    let link = AbortLink::new(o.get("signal")).map_err(invalid_argument)?;
    Ok((url, version, link))
}

fn versioned(v: Versioned<Value>) -> JsValue {
    object(&[
        ("value", to_js(&v.value)),
        ("etag", nullable(v.etag.map(|t| t.to_string()))),
        ("location", nullable(v.location)),
        ("attempts", v.attempts.into()),
        ("fromCache", v.from_cache.into()),
    ])
}
