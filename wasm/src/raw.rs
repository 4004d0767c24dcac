//! `client.request(method, url, options)` and `client.head(url, options)`: the SDK's escape
//! hatch (`Client::request`) for requests the other methods do not model, with the same cache,
//! preconditions and retries.

use ifmatch::http::Method;
use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::client::{headers_to_js, url_arg, versioned, Client, CALL_OPTIONS};
use crate::error::invalid_argument;
use crate::fields::Fields;
use crate::json::{from_js, nullable, object, to_js};
use crate::lock;
use crate::options::{call_options, with_call_options};
use crate::precondition::{self, Write};
use crate::promise::promise;

/// The options of `request`.
const REQUEST_OPTIONS: &[&str] = &[
    "json",
    "ifMatch",
    "createOnly",
    "unconditional",
    "lock",
    "signal",
    "headers",
    "timeout",
    "apiVersion",
    "searchParams",
];

#[wasm_bindgen(module = "/js/shim.js")]
extern "C" {
    /// The method of `request(method, url, options)`, checked with its options (a GET takes
    /// no body and no precondition); throws an `IfmatchError` for a wrong one.
    #[wasm_bindgen(js_name = requestMethod, catch)]
    fn request_method(method: &JsValue, options: &JsValue) -> Result<String, JsValue>;
}

#[wasm_bindgen]
impl Client {
    /// `request(method, url, { json, ifMatch | createOnly | unconditional, lock, signal,
    /// headers, timeout, searchParams })` → `{ status, headers, value, etag, … }`: GET through
    /// the cache; any other method is a write with the precondition given.
    pub fn request(&self, method: JsValue, url: JsValue, options: JsValue) -> Promise {
        let (client, has_base_url) = self.parts();
        promise(async move {
            let o = Fields::new(&options, "options", REQUEST_OPTIONS).map_err(invalid_argument)?;
            let name = request_method(&method, &options)?;
            let method = Method::from_bytes(name.as_bytes())
                .map_err(|_| invalid_argument("the method is not an HTTP method name"))?;
            let url = url_arg(&url, has_base_url)?;
            let mut raw = client.request(method.clone(), &url);
            if method != Method::GET {
                let precondition =
                    precondition::from_options(&o, Write::Request).map_err(invalid_argument)?;
                raw = raw.precondition(precondition);
                if let Some(json) = o.get("json") {
                    raw = raw.json(&from_js(&json, "options.json").map_err(invalid_argument)?);
                }
            }
            let under = lock::option(&o)?;
            let call = call_options(&o)?;
            let raw = with_call_options!(raw, call);
            let raw = lock::under(raw, under, ifmatch::Raw::under);
            let done = call.link.token().run(method.as_str(), raw).await;
            done.map(versioned).map_err(|e| call.link.reject(&e, None))
        })
    }

    /// `head(url, { signal, headers, timeout, searchParams })` → `{ status, etag, version,
    /// headers, attempts }`; neither reads nor changes the cache.
    pub fn head(&self, url: JsValue, options: JsValue) -> Promise {
        let (client, has_base_url) = self.parts();
        promise(async move {
            let url = url_arg(&url, has_base_url)?;
            let o = Fields::new(&options, "options", CALL_OPTIONS).map_err(invalid_argument)?;
            let call = call_options(&o)?;
            let raw = with_call_options!(client.request(Method::HEAD, &url), call);
            let done = call.link.token().run("HEAD", raw).await;
            done.map(|v| {
                object(&[
                    ("status", v.status.as_u16().into()),
                    ("etag", nullable(v.etag.map(|t| t.to_string()))),
                    (
                        "version",
                        v.version.map_or(JsValue::NULL, |v| to_js(&v.to_json())),
                    ),
                    ("headers", headers_to_js(&v.headers)),
                    ("attempts", v.attempts.into()),
                ])
            })
            .map_err(|e| call.link.reject(&e, None))
        })
    }
}
