//! The client's transport: one `fetch` call per request, with the `fetch` and `credentials`
//! client options, keeping what `fetch` threw as the error's `cause`.
//!
//! It does what the SDK's own wasm32 transport (`sdk/src/transport/fetch.rs`, private to the SDK)
//! does: `redirect: 'manual'` for writes, and an `AbortController` that aborts the request (or
//! its body read) when the SDK drops the future, so a cancelled or timed-out operation ends its
//! request. The JavaScript half is `send` in `wasm/js/shim.js`.

use std::{
    cell::{Cell, RefCell},
    fmt,
};

use ifmatch::http::{self, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use ifmatch::rt::{BoxError, BoxFuture};
use ifmatch::transport::{Bytes, Transport};
use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::error::{describe, IfmatchError};

#[wasm_bindgen(module = "/js/shim.js")]
extern "C" {
    #[allow(clippy::too_many_arguments)]
    fn send(
        fetch: &JsValue,
        method: &str,
        url: &str,
        headers: Array,
        body: Option<Uint8Array>,
        write: bool,
        credentials: Option<&str>,
        signal: &JsValue,
    ) -> Promise;

    /// What `send` resolves to.
    type Answer;
    #[wasm_bindgen(method, getter, js_name = opaqueRedirect)]
    fn opaque_redirect(this: &Answer) -> Option<bool>;
    #[wasm_bindgen(method, getter)]
    fn status(this: &Answer) -> u16;
    #[wasm_bindgen(method, getter)]
    fn headers(this: &Answer) -> Array;
    #[wasm_bindgen(method, getter)]
    fn body(this: &Answer) -> Uint8Array;
}

#[wasm_bindgen]
extern "C" {
    /// The global `AbortController` (browsers and Node 15+).
    type AbortController;
    #[wasm_bindgen(constructor, catch)]
    fn new() -> Result<AbortController, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn signal(this: &AbortController) -> JsValue;
    #[wasm_bindgen(method)]
    fn abort(this: &AbortController);
}

/// Where a browser's opaque redirect "went": the SDK reports a write redirect only for a 3xx
/// response (its own marker error for transports is private), so an opaque redirect comes back
/// as a 307 with this `Location`, and `crate::error` words it as "the browser hides where to".
pub(crate) const OPAQUE_REDIRECT: &str = "ifmatch:opaque-redirect";

/// `fetch` (the given function, or the global one) as the SDK's transport.
pub(crate) struct FetchTransport {
    /// `undefined` for the global `fetch`.
    pub(crate) fetch: JsValue,
    /// `RequestInit.credentials`, when set.
    pub(crate) credentials: Option<&'static str>,
}

impl Transport for FetchTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, BoxError>> {
        Box::pin(self.fetch(request))
    }

    fn send_streaming(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<ifmatch::transport::BodyStream>, BoxError>> {
        Box::pin(self.open(request))
    }

    /// What `fetch` threw (the network failed) may pass on a resend; a hook's failure (an
    /// `IfmatchError`, `hooked` in shim.js) or an answer `fetch` never gives (a fake `fetch`)
    /// would only repeat.
    fn is_transient(&self, error: &BoxError) -> bool {
        error
            .downcast_ref::<JsCause>()
            .and_then(JsCause::value)
            .is_some_and(|thrown| !thrown.is_instance_of::<IfmatchError>())
    }
}

/// Aborts the fetch (request or body read) when dropped before [`AbortOnDrop::finished`].
pub(crate) struct AbortOnDrop(Option<AbortController>);

impl AbortOnDrop {
    /// A new `AbortController` to pass to `fetch`.
    pub(crate) fn new() -> Result<Self, BoxError> {
        Ok(Self(Some(AbortController::new().map_err(JsCause::boxed)?)))
    }

    /// The controller's signal.
    pub(crate) fn signal(&self) -> JsValue {
        self.0.as_ref().map_or(JsValue::UNDEFINED, |c| c.signal())
    }

    /// The fetch has ended (its body read): nothing to abort. Aborting anyway would be a no-op
    /// for the request, but costs about 0.1 ms in Node (a `DOMException` with its stack, an
    /// `abort` event through undici's listeners) on every operation.
    pub(crate) fn finished(mut self) {
        self.0 = None;
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = &self.0 {
            controller.abort();
        }
    }
}

impl FetchTransport {
    async fn fetch(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, BoxError> {
        let headers = Array::new();
        for (name, value) in request.headers() {
            let value = value
                .to_str()
                .map_err(|_| format!("the value of header {name} is not visible ASCII"))?;
            headers.push(&JsValue::from_str(name.as_str()));
            headers.push(&JsValue::from_str(value));
        }
        let body = (!request.body().is_empty()).then(|| Uint8Array::from(&request.body()[..]));
        let abort = AbortOnDrop::new()?;
        let write = !matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        );
        let sent = send(
            &self.fetch,
            request.method().as_str(),
            &request.uri().to_string(),
            headers,
            body,
            write,
            self.credentials,
            &abort.signal(),
        );
        let answer: Answer = JsFuture::from(sent)
            .await
            .map_err(JsCause::boxed)?
            .unchecked_into();
        abort.finished();
        if answer.opaque_redirect() == Some(true) {
            let mut out = http::Response::new(Bytes::new());
            *out.status_mut() = StatusCode::TEMPORARY_REDIRECT;
            out.headers_mut().insert(
                http::header::LOCATION,
                HeaderValue::from_static(OPAQUE_REDIRECT),
            );
            return Ok(out);
        }
        let status = StatusCode::from_u16(answer.status())
            .map_err(|_| format!("fetch answered with status {}", answer.status()))?;
        let mut out = http::Response::new(Bytes::from(answer.body().to_vec()));
        *out.status_mut() = status;
        *out.headers_mut() = copy_headers(&answer.headers())
            .ok_or("fetch answered with a header that is not valid in HTTP")?;
        Ok(out)
    }
}

/// Response headers from the flat [name, value, …] list; `None` if one is not a valid HTTP
/// header (fetch never yields those; a fake `fetch` might).
pub(crate) fn copy_headers(flat: &Array) -> Option<HeaderMap> {
    let mut headers = HeaderMap::new();
    for i in (0..flat.length()).step_by(2) {
        let name = HeaderName::from_bytes(flat.get(i).as_string()?.as_bytes()).ok()?;
        let value = HeaderValue::from_str(&flat.get(i + 1).as_string()?).ok()?;
        headers.append(name, value);
    }
    Some(headers)
}

thread_local! {
    /// The JavaScript values behind live [`JsCause`]s (wasm32 has one thread).
    static KEPT: RefCell<Vec<(u32, JsValue)>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u32> = const { Cell::new(0) };
}

/// A JavaScript value (what `fetch` threw) as a Rust error that can travel through the SDK as
/// an error's `source()`: the SDK's errors must be `Send + Sync`, which a `JsValue` is not, so
/// the value stays in a table on this (the only) thread until the error is dropped.
pub(crate) struct JsCause {
    id: u32,
    text: String,
}

impl JsCause {
    pub(crate) fn boxed(value: JsValue) -> BoxError {
        let id = NEXT_ID.with(|next| {
            let id = next.get();
            next.set(id.wrapping_add(1));
            id
        });
        let text = describe(&value);
        KEPT.with(|kept| kept.borrow_mut().push((id, value)));
        Box::new(Self { id, text })
    }

    fn value(&self) -> Option<JsValue> {
        KEPT.with(|kept| {
            kept.borrow()
                .iter()
                .find(|(id, _)| *id == self.id)
                .map(|(_, value)| value.clone())
        })
    }
}

impl Drop for JsCause {
    fn drop(&mut self) {
        KEPT.with(|kept| kept.borrow_mut().retain(|(id, _)| *id != self.id));
    }
}

impl fmt::Debug for JsCause {
    // The text alone: `debug_tuple` would add formatting code to the wasm for nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for JsCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for JsCause {}

/// The JavaScript value behind `err`'s chain of sources, if a [`JsCause`] is in it.
pub(crate) fn js_cause(err: &ifmatch::Error) -> Option<JsValue> {
    let mut source = std::error::Error::source(err);
    while let Some(current) = source {
        if let Some(cause) = current.downcast_ref::<JsCause>() {
            return cause.value();
        }
        source = current.source();
    }
    None
}
