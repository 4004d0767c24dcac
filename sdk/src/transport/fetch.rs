//! The default transport on wasm32: the JavaScript `fetch` (browsers, workers, Node 18+).
//!
//! It does what reqwest's wasm client did when that was the default, without reqwest's own
//! request model (9.7 KB of the 146.8 KB gzipped module): the same `Request` construction,
//! an `AbortController` that aborts the fetch when the future is dropped (so cancelling an
//! operation cancels its request), and reqwest's error texts, so messages read as before.

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::{prelude::wasm_bindgen, JsCast};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, ReadableStreamDefaultReader, ReadableStreamReadResult, Request,
    RequestInit, RequestRedirect, Response, ResponseType,
};

use bytes::Bytes;

use crate::rt::{BoxError, BoxFuture};

use super::{is_read, RedirectNotFollowed, Transport};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`; every JavaScript global scope that has one names it so.
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with_request(input: &Request) -> Promise;
}

/// The request could not be built (a header value that is not visible ASCII, a refused header).
const BUILDER: &str = "builder error";
/// `fetch` rejected: no response (unreachable server, CORS refusal, abort).
const SENDING: &str = "error sending request";
/// The response body could not be read.
const DECODING: &str = "error decoding response body";

/// [`Transport`] over the global `fetch`; the default on wasm32.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FetchTransport;

impl Transport for FetchTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, BoxError>> {
        Box::pin(fetch(request))
    }

    fn send_streaming(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<super::BodyStream>, BoxError>> {
        Box::pin(fetch_streaming(request))
    }
}

/// Aborts the fetch (request or body read) unless it finished first; aborting then is a no-op.
struct AbortOnDrop(AbortController);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn fetch(request: http::Request<Bytes>) -> Result<http::Response<Bytes>, BoxError> {
    let (response, status, headers, abort) = start(request).await?;
    let buffer = JsFuture::from(response.array_buffer().map_err(|_| DECODING)?)
        .await
        .map_err(|_| DECODING)?;
    let body = Bytes::from(Uint8Array::new(&buffer).to_vec());
    drop(abort);
    let mut out = http::Response::new(body);
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

/// The body read with the stream's reader, chunk by chunk (`EventSource` cannot send
/// `Authorization`, so Server-Sent Events come through `fetch` too). The abort guard lives in
/// the stream: dropping it aborts the fetch.
async fn fetch_streaming(
    request: http::Request<Bytes>,
) -> Result<http::Response<super::BodyStream>, BoxError> {
    let (response, status, headers, abort) = start(request).await?;
    let reader = match response.body() {
        Some(body) => Some(ReadableStreamDefaultReader::new(&body).map_err(|_| DECODING)?),
        None => None,
    };
    let body = crate::rt::unfold((reader, abort), |(reader, abort)| async move {
        let reader = reader?;
        let read = match JsFuture::from(reader.read()).await {
            Ok(read) => read.unchecked_into::<ReadableStreamReadResult>(),
            Err(_) => return Some((Err(BoxError::from(DECODING)), (None, abort))),
        };
        if read.get_done().unwrap_or(true) {
            return None;
        }
        let chunk = Bytes::from(Uint8Array::new(&read.get_value()).to_vec());
        Some((Ok(chunk), (Some(reader), abort)))
    });
    let mut out = http::Response::new(body);
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

/// Sends the request and waits for the response's head.
async fn start(
    request: http::Request<Bytes>,
) -> Result<(Response, StatusCode, HeaderMap, AbortOnDrop), BoxError> {
    let init = RequestInit::new();
    init.set_method(request.method().as_str());
    if !is_read(request.method()) {
        // A followed redirect could turn a write into a GET or drop its body. Node answers
        // "manual" with the 3xx itself; browsers with an opaque response, handled below.
        init.set_redirect(RequestRedirect::Manual);
    }
    let headers = Headers::new().map_err(|_| BUILDER)?;
    for (name, value) in request.headers() {
        let value = value.to_str().map_err(|_| BUILDER)?;
        headers.append(name.as_str(), value).map_err(|_| BUILDER)?;
    }
    init.set_headers(&headers);
    if !request.body().is_empty() {
        init.set_body(&Uint8Array::from(&request.body()[..]));
    }
    let abort = AbortOnDrop(AbortController::new().map_err(|_| BUILDER)?);
    init.set_signal(Some(&abort.0.signal()));
    let js_request =
        Request::new_with_str_and_init(&request.uri().to_string(), &init).map_err(|_| BUILDER)?;

    let response: Response = JsFuture::from(fetch_with_request(&js_request))
        .await
        .map_err(|_| SENDING)?
        .dyn_into()
        .map_err(|_| SENDING)?;
    if response.type_() == ResponseType::Opaqueredirect {
        return Err(Box::new(RedirectNotFollowed {
            status: None,
            location: None,
        }));
    }
    let status = StatusCode::from_u16(response.status()).map_err(|_| SENDING)?;
    let headers = copy_headers(&response.headers()).ok_or(SENDING)?;
    Ok((response, status, headers, abort))
}

/// All response headers; `None` if one is not a valid HTTP header (fetch never yields those).
fn copy_headers(js_headers: &Headers) -> Option<HeaderMap> {
    let mut headers = HeaderMap::new();
    for entry in js_headers.entries() {
        let pair: Array = entry.ok()?.dyn_into().ok()?;
        let name = HeaderName::from_bytes(pair.get(0).as_string()?.as_bytes()).ok()?;
        let value = HeaderValue::from_str(&pair.get(1).as_string()?).ok()?;
        headers.append(name, value);
    }
    Some(headers)
}
