//! The exported `Client` class: each method converts its arguments, runs the SDK operation under
//! the caller's `AbortSignal` with the call's `headers` and `timeout`, and converts the result
//! or error.

use ifmatch::Versioned;
use js_sys::{Function, Promise};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::batch;
use crate::error::{invalid_argument, relative_without_base};
use crate::event::stats_to_js;
use crate::fields::Fields;
use crate::json::{self, from_js, type_name};
use crate::lock::{self, Lock};
use crate::options::{self, call_options, with_call_options, CallOptions};
use crate::precondition::{self, Write, WRITE_OPTIONS};
use crate::promise::promise;
use crate::transaction;
use crate::update::{self, Thrown};

/// The options of `get`, `create` and `head`.
pub(crate) const CALL_OPTIONS: &[&str] =
    &["signal", "headers", "timeout", "apiVersion", "searchParams"];
/// The options of `update`.
const UPDATE_OPTIONS: &[&str] = &[
    "strategy",
    "resolve",
    "lock",
    "signal",
    "headers",
    "timeout",
    "apiVersion",
    "searchParams",
];

#[wasm_bindgen(module = "/js/shim.js")]
extern "C" {
    #[wasm_bindgen(js_name = isAbsoluteUrl)]
    fn is_absolute_url(url: &str) -> bool;

    /// `{ value, etag, version, location, attempts, fromCache, status, headers }`, `value` and
    /// `version` given as JSON texts, absent strings as "", `headers` as a flat `[name, value, …]`
    /// list.
    #[wasm_bindgen(js_name = versioned)]
    #[allow(clippy::too_many_arguments)]
    fn versioned_object(
        value: &str,
        etag: &str,
        version: &str,
        location: &str,
        attempts: u32,
        from_cache: bool,
        status: u16,
        headers: js_sys::Array,
    ) -> JsValue;
    /// A `Headers` object with the flat `[name, value, …]` list's headers.
    #[wasm_bindgen(js_name = headersOf)]
    fn headers_of(flat: &js_sys::Array) -> JsValue;
    /// The options of `extend(extra)`: `base` with `extra` on top, or the error message.
    #[wasm_bindgen(js_name = extendOptions)]
    fn extend_options(base: &JsValue, extra: &JsValue) -> JsValue;
}

/// An HTTP client for JSON resources that makes concurrent writes safe (see `docs/javascript.md`).
#[wasm_bindgen]
pub struct Client {
    inner: ifmatch::Client,
    has_base_url: bool,
    /// A shallow copy of the options it was made with, for `extend()`.
    options: JsValue,
}

#[wasm_bindgen]
impl Client {
    /// `new Client({ baseUrl, cacheSize, partition, headers, credentials, fetch, timeout,
    /// missingEtag, serverHonoursIdempotencyKeys, trustWriteBodies, adaptivePacing, retry, onEvent })`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<Client, JsValue> {
        let (inner, has_base_url) = options::client(&options)?;
        // A copy, so that changing the object afterwards changes neither client.
        let options = match crate::json::as_object(&options) {
            Some(o) => js_sys::Object::assign(&js_sys::Object::new(), o).into(),
            None => JsValue::UNDEFINED,
        };
        Ok(Client {
            inner,
            has_base_url,
            options,
        })
    }

    /// `extend(options)` → a new `Client` with these options on top of this one's: `headers`
    /// merged, `hooks` concatenated, the others replaced. It has its own cache and counters.
    pub fn extend(&self, options: JsValue) -> Result<Client, JsValue> {
        let merged = extend_options(&self.options, &options);
        if let Some(message) = merged.as_string() {
            return Err(invalid_argument(message));
        }
        Client::new(merged)
    }

    /// `get(url, { signal, headers, timeout })` → `{ value, etag, … }`.
    pub fn get(&self, url: JsValue, options: JsValue) -> Promise {
        self.scope().get(url, options)
    }

    /// `create(url, doc, { signal, headers, timeout })`: POST.
    pub fn create(&self, url: JsValue, doc: JsValue, options: JsValue) -> Promise {
        self.scope().create(url, doc, options)
    }

    /// `put(url, doc, { ifMatch | createOnly | unconditional, signal, headers, timeout })`: PUT
    /// conditional on the version the document was read at.
    pub fn put(&self, url: JsValue, doc: JsValue, options: JsValue) -> Promise {
        self.scope().put(url, doc, options)
    }

    /// `patch(url, mergePatch, { ifMatch | createOnly | unconditional, signal, headers, timeout })`:
    /// PATCH with a JSON Merge Patch, conditional like `put`.
    pub fn patch(&self, url: JsValue, merge_patch: JsValue, options: JsValue) -> Promise {
        self.scope().patch(url, merge_patch, options)
    }

    /// `delete(url, { ifMatch | unconditional, signal, headers, timeout })`: DELETE, conditional
    /// like `put`; resolves to `undefined`.
    pub fn delete(&self, url: JsValue, options: JsValue) -> Promise {
        self.scope().delete(url, options)
    }

    /// `update(url, change, { strategy, resolve, signal, headers, timeout })`: read, change,
    /// write, recover.
    pub fn update(&self, url: JsValue, change: JsValue, options: JsValue) -> Promise {
        let client = self.inner.clone();
        let has_base_url = self.has_base_url;
        promise(async move {
            let url = url_arg(&url, has_base_url)?;
            let change = change.dyn_into::<Function>().map_err(|v| {
                invalid_argument(format!(
                    "the change must be a function, not {}",
                    type_name(&v)
                ))
            })?;
            let o = Fields::new(&options, "options", UPDATE_OPTIONS).map_err(invalid_argument)?;
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
            let call = call_options(&o)?;
            let under = lock::option(&o)?;
            let update = client
                .update_async::<Value, _, _>(&url, update::change(change, thrown.clone()))
                .strategy(strategy)
                .cancel_on(call.link.token());
            let update = lock::under(update, under, ifmatch::Update::under);
            let updated = with_call_options!(update, call).await;
            updated
                .map(versioned)
                .map_err(|e| call.link.reject(&e, thrown.take()))
        })
    }

    /// `batch(operations, { lock, signal, headers, timeout })` → `{ results, created, attempts }`:
    /// writes (and checks) that the server applies all together or not at all.
    pub fn batch(&self, operations: JsValue, options: JsValue) -> Promise {
        let client = self.inner.clone();
        let has_base_url = self.has_base_url;
        promise(async move {
            let o =
                Fields::new(&options, "options", batch::BATCH_OPTIONS).map_err(invalid_argument)?;
            let (request, lids) = batch::build(client.batch(), &operations)?;
            if !has_base_url {
                // The batch endpoint is a path (`/batch`) under the base URL.
                return Err(relative_without_base("/batch"));
            }
            let request = batch::under(request, &o)?;
            let call = call_options(&o)?;
            let request = with_call_options!(request, call);
            let done = call.link.token().run("POST", request).await;
            done.map(|done| batch::result(&done, &lids))
                .map_err(|e| call.link.reject(&e, None))
        })
    }

    /// `begin({ ttl, signal, headers, timeout })` → a `Transaction`.
    pub fn begin(&self, options: JsValue) -> Promise {
        transaction::begin(self.inner.clone(), self.has_base_url, options)
    }

    /// `transaction(fn, { ttl, maxAttempts, signal, headers, timeout })`: runs `fn(tx)` in a
    /// transaction and commits it, again in a new one after a commit conflict.
    pub fn transaction(&self, function: JsValue, options: JsValue) -> Promise {
        transaction::run(self.inner.clone(), self.has_base_url, function, options)
    }

    /// `lock(url, { ttl, wait, owner, signal, headers, timeout })` → a `Lock`: takes a lock on
    /// the resource, renewed in the background until it is released.
    pub fn lock(&self, url: JsValue, options: JsValue) -> Promise {
        let client = self.inner.clone();
        let has_base_url = self.has_base_url;
        promise(async move {
            let url = url_arg(&url, has_base_url)?;
            let (request, o) = lock::request(client.lock(&url), &options)?;
            let call = call_options(&o)?;
            let request = with_call_options!(request, call);
            let guard = call.link.token().run("POST", request).await;
            guard
                .map(Lock::wrap)
                .map_err(|e| call.link.reject(&e, None))
        })
    }

    /// `stats()`: the client's counters.
    pub fn stats(&self) -> JsValue {
        stats_to_js(&self.inner.stats())
    }
}

impl Client {
    /// The SDK client and whether it has a base URL, for the methods defined in other files.
    pub(crate) fn parts(&self) -> (ifmatch::Client, bool) {
        (self.inner.clone(), self.has_base_url)
    }

    fn scope(&self) -> Scope {
        Scope {
            client: self.inner.clone(),
            tx: None,
            has_base_url: self.has_base_url,
        }
    }
}

/// Where a read or write is made: a client, and the transaction it is made in, if any (the
/// methods of `Client` and of `Transaction` share these).
pub(crate) struct Scope {
    pub(crate) client: ifmatch::Client,
    pub(crate) tx: Option<ifmatch::Transaction>,
    pub(crate) has_base_url: bool,
}

/// Makes an SDK request builder part of the scope's transaction, if it has one.
macro_rules! within {
    ($builder:expr, $scope:expr) => {{
        let builder = $builder;
        match &$scope.tx {
            Some(tx) => builder.within(tx),
            None => builder,
        }
    }};
}

impl Scope {
    pub(crate) fn get(self, url: JsValue, options: JsValue) -> Promise {
        promise(async move {
            let (url, call) = request(&url, &options, self.has_base_url)?;
            let get = within!(self.client.get::<Value>(&url), self);
            let get = with_call_options!(get, call);
            let read = call.link.token().run("GET", get).await;
            read.map(versioned).map_err(|e| call.link.reject(&e, None))
        })
    }

    pub(crate) fn create(self, url: JsValue, doc: JsValue, options: JsValue) -> Promise {
        promise(async move {
            let (url, call) = request(&url, &options, self.has_base_url)?;
            let doc = from_js(&doc, "the document").map_err(invalid_argument)?;
            let create = within!(self.client.create(&url, &doc), self);
            let create = with_call_options!(create, call);
            let written = call.link.token().run("POST", create).await;
            written
                .map(versioned)
                .map_err(|e| call.link.reject(&e, None))
        })
    }

    pub(crate) fn put(self, url: JsValue, doc: JsValue, options: JsValue) -> Promise {
        promise(async move {
            let (url, precondition, call, under) =
                write_request(&url, &options, Write::Put, self.has_base_url)?;
            let doc = from_js(&doc, "the document").map_err(invalid_argument)?;
            let put = within!(self.client.put(&url, &doc, precondition), self);
            let put = with_call_options!(put, call);
            let put = lock::under(put, under, ifmatch::Write::under);
            let written = call.link.token().run("PUT", put).await;
            written
                .map(versioned)
                .map_err(|e| call.link.reject(&e, None))
        })
    }

    pub(crate) fn patch(self, url: JsValue, merge_patch: JsValue, options: JsValue) -> Promise {
        promise(async move {
            let (url, precondition, call, under) =
                write_request(&url, &options, Write::Patch, self.has_base_url)?;
            let patch = from_js(&merge_patch, "the merge patch").map_err(invalid_argument)?;
            let patch = within!(self.client.patch(&url, &patch, precondition), self);
            let patch = with_call_options!(patch, call);
            let patch = lock::under(patch, under, ifmatch::Write::under);
            let written = call.link.token().run("PATCH", patch).await;
            written
                .map(versioned)
                .map_err(|e| call.link.reject(&e, None))
        })
    }

    pub(crate) fn delete(self, url: JsValue, options: JsValue) -> Promise {
        promise(async move {
            let (url, precondition, call, under) =
                write_request(&url, &options, Write::Delete, self.has_base_url)?;
            // The escape hatch sends the same write as `client.delete` (same path through the
            // SDK), without decoding the answer as `()`: that decoder alone pulls 17 KB of float
            // formatting (serde's "invalid type" message) into the wasm.
            let delete = self
                .client
                .request(ifmatch::http::Method::DELETE, &url)
                .precondition(precondition);
            let delete = within!(delete, self);
            let delete = with_call_options!(delete, call);
            let delete = lock::under(delete, under, ifmatch::Raw::under);
            let deleted = call.link.token().run("DELETE", delete).await;
            deleted
                .map(|_| JsValue::UNDEFINED)
                .map_err(|e| call.link.reject(&e, None))
        })
    }
}

/// The URL argument: a string, and absolute unless the client has a base URL.
pub(crate) fn url_arg(url: &JsValue, has_base_url: bool) -> Result<String, JsValue> {
    let url = url.as_string().ok_or_else(|| {
        invalid_argument(format!("the URL must be a string, not {}", type_name(url)))
    })?;
    if !has_base_url && !is_absolute_url(&url) {
        return Err(relative_without_base(&url));
    }
    Ok(url)
}

/// The URL and the call options of `get` and `create`.
pub(crate) fn request(
    url: &JsValue,
    options: &JsValue,
    has_base_url: bool,
) -> Result<(String, CallOptions), JsValue> {
    let url = url_arg(url, has_base_url)?;
    let o = Fields::new(options, "options", CALL_OPTIONS).map_err(invalid_argument)?;
    Ok((url, call_options(&o)?))
}

/// The URL, the precondition, the call options and the `lock` of a write.
fn write_request(
    url: &JsValue,
    options: &JsValue,
    write: Write,
    has_base_url: bool,
) -> Result<WriteRequest, JsValue> {
    let url = url_arg(url, has_base_url)?;
    let o = Fields::new(options, "options", WRITE_OPTIONS).map_err(invalid_argument)?;
    let precondition = precondition::from_options(&o, write).map_err(invalid_argument)?;
    let call = call_options(&o)?;
    Ok((url, precondition, call, lock::option(&o)?))
}

/// What [`write_request`] finds in a write's arguments.
type WriteRequest = (
    String,
    ifmatch::Precondition,
    CallOptions,
    Option<std::rc::Rc<ifmatch::LockGuard>>,
);

pub(crate) fn versioned(v: Versioned<Value>) -> JsValue {
    // One call into JavaScript, which parses the JSON texts itself: building the object member
    // by member from here took a call per member and one per JSON value. An absent string is
    // passed as "" (no ETag, version or URL is empty).
    versioned_object(
        &json::text(&v.value),
        &v.etag.map(|t| t.to_string()).unwrap_or_default(),
        // The version it is at, when the server named it (`Version` header, or the body's).
        &v.version
            .map(|v| json::text(&v.to_json()))
            .unwrap_or_default(),
        v.location.as_deref().unwrap_or_default(),
        v.attempts,
        v.from_cache,
        v.status.as_u16(),
        flat_headers(&v.headers),
    )
}

/// Response headers as a `Headers` object.
pub(crate) fn headers_to_js(headers: &ifmatch::http::HeaderMap) -> JsValue {
    headers_of(&flat_headers(headers))
}

/// Response headers as a flat `[name, value, …]` list.
fn flat_headers(headers: &ifmatch::http::HeaderMap) -> js_sys::Array {
    let flat = js_sys::Array::new();
    for (name, value) in headers {
        // fetch only yields visible ASCII; a value that is not was not from fetch.
        if let Ok(value) = value.to_str() {
            flat.push(&JsValue::from_str(name.as_str()));
            flat.push(&JsValue::from_str(value));
        }
    }
    flat
}
