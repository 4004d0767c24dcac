//! Wires a JavaScript `AbortSignal` to the SDK's `CancelToken`.

use ifmatch::CancelToken;
use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// The global `AbortSignal` (browsers and Node 18+).
    #[wasm_bindgen(extends = js_sys::Object)]
    pub(crate) type AbortSignal;

    #[wasm_bindgen(method, getter)]
    fn aborted(this: &AbortSignal) -> bool;

    #[wasm_bindgen(method, js_name = addEventListener)]
    fn add_event_listener(this: &AbortSignal, kind: &str, listener: &Function);

    #[wasm_bindgen(method, js_name = removeEventListener)]
    fn remove_event_listener(this: &AbortSignal, kind: &str, listener: &Function);
}

/// A cancel token that follows a signal for as long as this value lives.
pub(crate) struct AbortLink {
    token: CancelToken,
    listener: Option<(AbortSignal, Closure<dyn FnMut()>)>,
}

impl AbortLink {
    /// Links `signal` (an `AbortSignal` or `undefined`); an error message for anything else.
    pub(crate) fn new(signal: Option<JsValue>) -> Result<Self, String> {
        let token = CancelToken::new();
        let Some(signal) = signal else {
            return Ok(Self {
                token,
                listener: None,
            });
        };
        let signal = signal.dyn_into::<AbortSignal>().map_err(|v| {
            format!(
                "options.signal must be an AbortSignal, not {}",
                crate::json::type_name(&v)
            )
        })?;
        if signal.aborted() {
            token.cancel();
            return Ok(Self {
                token,
                listener: None,
            });
        }
        let canceller = token.clone();
        let closure = Closure::<dyn FnMut()>::new(move || canceller.cancel());
        signal.add_event_listener("abort", closure.as_ref().unchecked_ref());
        Ok(Self {
            token,
            listener: Some((signal, closure)),
        })
    }

    /// The token to run the operation under.
    pub(crate) fn token(&self) -> &CancelToken {
        &self.token
    }
}

impl Drop for AbortLink {
    fn drop(&mut self) {
        // A long-lived signal must not keep this operation's listener (and its token) alive.
        if let Some((signal, closure)) = &self.listener {
            signal.remove_event_listener("abort", closure.as_ref().unchecked_ref());
        }
    }
}
