//! Advice for a browser's CORS refusals, which `fetch` reports as a bare `TypeError` and which
//! would otherwise read as "the server is down". `send` in `wasm/js/shim.js` notes a failed
//! cross-origin request with what the server must allow; the wording of errors asks for it here.

use ifmatch::Error;
use wasm_bindgen::prelude::*;

use crate::transport::js_cause;

#[wasm_bindgen(module = "/js/shim.js")]
extern "C" {
    /// The advice `send` noted for what `fetch` threw, if CORS may explain it.
    #[wasm_bindgen(js_name = corsAdvice)]
    fn cors_advice(error: &JsValue) -> Option<String>;

    /// This page's origin when `url` is on another one; `None` outside a page.
    #[wasm_bindgen(js_name = crossOrigin)]
    fn cross_origin(url: &str) -> Option<String>;
}

/// The hint of a `network` error that CORS may explain: what the server must allow and expose.
pub(crate) fn network_hint(err: &Error) -> Option<String> {
    let advice = cors_advice(&js_cause(err)?)?;
    Some(if err.is_outcome_unknown() {
        format!("{advice}; the write may or may not have been applied, so read the resource before retrying it")
    } else {
        advice
    })
}

/// For a `missing_etag` error on a cross-origin resource in a page: the `ETag` may be there but
/// hidden from JavaScript by CORS.
pub(crate) fn missing_etag_note(err: &Error) -> Option<String> {
    let page = cross_origin(err.url()?)?;
    Some(format!(
        "in a browser, an ETag from another origin is visible only if the server lists it in Access-Control-Expose-Headers (this page is {page}), so check that first; otherwise "
    ))
}
