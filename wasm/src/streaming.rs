//! `Transport::send_streaming` for the client's `fetch` transport: the head as soon as it has
//! arrived, then the body chunk by chunk (Server-Sent Events of a conflict subscription never
//! end by themselves). `EventSource` cannot send `Authorization`, so the stream comes through
//! `fetch` like every other request. The JavaScript half is `openStream`/`readChunk` in
//! `wasm/js/shim.js`.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::Stream;
use ifmatch::http::{self, StatusCode};
use ifmatch::rt::BoxError;
use ifmatch::transport::{BodyStream, Bytes};
use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::transport::{copy_headers, AbortOnDrop, FetchTransport, JsCause};

#[wasm_bindgen(module = "/js/shim.js")]
extern "C" {
    #[wasm_bindgen(js_name = openStream)]
    fn open_stream(
        fetch: &JsValue,
        url: &str,
        headers: Array,
        credentials: Option<&str>,
        signal: &JsValue,
    ) -> Promise;

    #[wasm_bindgen(js_name = readChunk)]
    fn read_chunk(reader: &JsValue) -> Promise;

    /// What `openStream` resolves to.
    type Opened;
    #[wasm_bindgen(method, getter)]
    fn status(this: &Opened) -> u16;
    #[wasm_bindgen(method, getter)]
    fn headers(this: &Opened) -> Array;
    #[wasm_bindgen(method, getter)]
    fn reader(this: &Opened) -> JsValue;
}

impl FetchTransport {
    /// Sends `request` (a GET) and answers with its head and a body that is read on demand.
    pub(crate) async fn open(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<BodyStream>, BoxError> {
        let headers = Array::new();
        for (name, value) in request.headers() {
            let value = value
                .to_str()
                .map_err(|_| format!("the value of header {name} is not visible ASCII"))?;
            headers.push(&JsValue::from_str(name.as_str()));
            headers.push(&JsValue::from_str(value));
        }
        let abort = AbortOnDrop::new()?;
        let opened = open_stream(
            &self.fetch,
            &request.uri().to_string(),
            headers,
            self.credentials,
            &abort.signal(),
        );
        let opened: Opened = JsFuture::from(opened)
            .await
            .map_err(JsCause::boxed)?
            .unchecked_into();
        let status = StatusCode::from_u16(opened.status())
            .map_err(|_| format!("fetch answered with status {}", opened.status()))?;
        let mut out = http::Response::new(Box::pin(Chunks {
            reader: opened.reader(),
            pending: None,
            _abort: abort,
        }) as BodyStream);
        *out.status_mut() = status;
        *out.headers_mut() = copy_headers(&opened.headers())
            .ok_or("fetch answered with a header that is not valid in HTTP")?;
        // `fetch` decodes the body itself; a length would describe the encoded one.
        out.headers_mut().remove(http::header::CONTENT_LENGTH);
        Ok(out)
    }
}

/// The body, read one chunk at a time; dropping it aborts the `fetch` (its `AbortController`).
struct Chunks {
    /// The body's reader (`null` for a response without a body).
    reader: JsValue,
    pending: Option<JsFuture>,
    _abort: AbortOnDrop,
}

impl Stream for Chunks {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.reader.is_null() || self.reader.is_undefined() {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        let pending = this
            .pending
            .get_or_insert_with(|| JsFuture::from(read_chunk(&this.reader)));
        let read = match Pin::new(pending).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(read) => read,
        };
        this.pending = None;
        Poll::Ready(match read {
            Err(error) => {
                this.reader = JsValue::NULL;
                Some(Err(JsCause::boxed(error)))
            }
            Ok(chunk) if chunk.is_undefined() => {
                this.reader = JsValue::NULL;
                None
            }
            Ok(chunk) => Some(Ok(Bytes::from(Uint8Array::new(&chunk).to_vec()))),
        })
    }
}
