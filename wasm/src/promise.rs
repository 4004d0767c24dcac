//! Every exported async method's `Promise`, made by one instance of `future_to_promise`.
//!
//! `future_to_promise` is generic over the future, and each instance carries its own copy of the
//! task, spawn and resolve/reject glue; with a dozen async methods that glue was the largest
//! block of `js_sys` in the wasm. Boxed first, every method shares one instance.

use std::{future::Future, pin::Pin};

use js_sys::Promise;
use wasm_bindgen::JsValue;

/// What an exported async method runs: resolves the promise with `Ok`, rejects it with `Err`.
type Boxed = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// The promise of `future` (`wasm_bindgen_futures::future_to_promise`, boxed).
pub(crate) fn promise(future: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> Promise {
    boxed(Box::pin(future))
}

fn boxed(future: Boxed) -> Promise {
    wasm_bindgen_futures::future_to_promise(future)
}
