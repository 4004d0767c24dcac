//! Wires a JavaScript `AbortSignal` to the SDK's `CancelToken`; an aborted operation rejects
//! with the signal's reason, as `fetch` does.

use ifmatch::CancelToken;
use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::from_sdk;

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

#[wasm_bindgen(module = "/js/shim.js")]
extern "C" {
    #[wasm_bindgen(js_name = abortReason)]
    fn abort_reason(signal: &AbortSignal) -> JsValue;
}

/// A cancel token that follows a signal for as long as this value lives.
pub(crate) struct AbortLink {
    token: CancelToken,
    signal: Option<AbortSignal>,
    listener: Option<Closure<dyn FnMut()>>,
}

impl AbortLink {
    /// Links `signal` (an `AbortSignal` or `undefined`); an error message for anything else.
    pub(crate) fn new(signal: Option<JsValue>) -> Result<Self, String> {
        let token = CancelToken::new();
        let Some(signal) = signal else {
            return Ok(Self {
                token,
                signal: None,
                listener: None,
            });
        };
        let signal = signal.dyn_into::<AbortSignal>().map_err(|v| {
            format!(
                "options.signal must be an AbortSignal, not {}",
                crate::json::type_name(&v)
            )
        })?;
        let listener = if signal.aborted() {
            token.cancel();
            None
        } else {
            let canceller = token.clone();
            let closure = Closure::<dyn FnMut()>::new(move || canceller.cancel());
            signal.add_event_listener("abort", closure.as_ref().unchecked_ref());
            Some(closure)
        };
        Ok(Self {
            token,
            signal: Some(signal),
            listener,
        })
    }

    /// The token to run the operation under.
    pub(crate) fn token(&self) -> &CancelToken {
        &self.token
    }

    /// What the operation rejects with for `err`: the signal's reason when the signal ended it,
    /// otherwise an `IfmatchError` (`cause`: what the user's function threw, if anything).
    pub(crate) fn reject(&self, err: &ifmatch::Error, cause: Option<JsValue>) -> JsValue {
        match &self.signal {
            Some(signal) if err.is_cancelled() => abort_reason(signal),
            _ => from_sdk(err, cause),
        }
    }
}

impl Drop for AbortLink {
    fn drop(&mut self) {
        // A long-lived signal must not keep this operation's listener (and its token) alive.
        if let (Some(signal), Some(closure)) = (&self.signal, &self.listener) {
            signal.remove_event_listener("abort", closure.as_ref().unchecked_ref());
        }
    }
}
