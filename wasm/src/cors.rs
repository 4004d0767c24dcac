//! Advice for a browser's CORS refusals, which `fetch` reports as a bare `TypeError` and which
//! would otherwise read as "the server is down". `send` in `wasm/js/shim.js` notes a failed
//! cross-origin request with what the server must allow; the wording of errors asks for it here.

use ifmatch::Error;
use wasm_bindgen::prelude::*;

use crate::transport::js_cause;

#[wasm_bindgen(module = "/js/shim.js")]
extern "C" {
    /// The advice `send` noted for what `fetch` threw, if CORS may explain it; `write`: the
    /// request may have been applied.
    #[wasm_bindgen(js_name = corsAdvice)]
    fn cors_advice(error: &JsValue, write: bool) -> Option<String>;

    /// For a resource on another origin than this page's: that a hidden `ETag` may be the cause.
    #[wasm_bindgen(js_name = exposeNote)]
    fn expose_note(url: &str) -> Option<String>;
}

/// The hint of a `network` error that CORS may explain: what the server must allow and expose.
pub(crate) fn network_hint(err: &Error) -> Option<String> {
    cors_advice(&js_cause(err)?, err.is_outcome_unknown())
}

/// The start of a `missing_etag` hint for a cross-origin resource in a page: the `ETag` may be
/// there but hidden from JavaScript by CORS.
pub(crate) fn missing_etag_note(err: &Error) -> Option<String> {
    expose_note(err.url()?)
}
