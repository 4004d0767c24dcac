//! `client.conflicts.subscribe(options)`: the SDK's `Subscription` as an async iterable
//! (`iterable` in `wasm/js/shim.js`), which a `break`, `return()` or the `signal` closes: the
//! subscription is dropped, which aborts its `fetch`.

use std::{cell::RefCell, rc::Rc};

use ifmatch::{CancelToken, ConflictEvent, Subscription};
use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::abort::AbortLink;
use crate::conflicts::{filter, record_to_js};
use crate::error::{from_sdk, invalid_argument};
use crate::fields::Fields;
use crate::json::object;
use crate::options::ms;
use crate::promise::promise;

#[wasm_bindgen(module = "/js/shim.js")]
extern "C" {
    fn iterable(next: JsValue, close: JsValue) -> JsValue;
}

/// The options of `subscribe`.
const SUBSCRIBE_OPTIONS: &[&str] = &[
    "resources",
    "prefixes",
    "state",
    "after",
    "stallTimeoutMs",
    "maxFailures",
    "signal",
    "headers",
];

/// A subscription between `next()` calls; `None` once it is closed or over.
struct Open {
    subscription: RefCell<Option<Subscription>>,
    /// Cancelled by `close()` (and by the signal, through `link`): ends a pending `next()`.
    closed: CancelToken,
    /// Keeps the signal's listener for as long as the subscription lives.
    _link: AbortLink,
}

impl Open {
    fn close(&self) {
        self.closed.cancel();
        // Not in use unless a `next()` is pending, which then sees the token and drops it.
        self.subscription.borrow_mut().take();
    }

    /// The next event, `undefined` at the end (closed, aborted or over).
    async fn next(self: Rc<Self>) -> Result<JsValue, JsValue> {
        let Some(mut subscription) = self.subscription.borrow_mut().take() else {
            return Ok(JsValue::UNDEFINED);
        };
        let next = subscription.next().await;
        if self.closed.is_cancelled() {
            return Ok(JsValue::UNDEFINED);
        }
        match next {
            Some(Ok(event)) => {
                *self.subscription.borrow_mut() = Some(subscription);
                Ok(event_to_js(&event))
            }
            Some(Err(e)) if e.is_cancelled() => Ok(JsValue::UNDEFINED),
            Some(Err(e)) => Err(from_sdk(&e, None)),
            None => Ok(JsValue::UNDEFINED),
        }
    }
}

pub(crate) fn subscribe(client: &ifmatch::Client, options: &JsValue) -> Result<JsValue, JsValue> {
    let o = Fields::new(options, "options", SUBSCRIBE_OPTIONS).map_err(invalid_argument)?;
    let link = AbortLink::new(o.get("signal")).map_err(invalid_argument)?;
    let closed = link.token().clone();
    let mut subscription = client.conflicts().subscribe(filter(&o)?).cancel_on(&closed);
    if let Some(after) = o.number("after", 0).map_err(invalid_argument)? {
        subscription = subscription.after(after as u64);
    }
    if let Some(stall) = o
        .number_or_null("stallTimeoutMs", 1, "no limit")
        .map_err(invalid_argument)?
    {
        subscription = subscription.stall_timeout(stall.map(ms));
    }
    if let Some(n) = o.whole("maxFailures", 1).map_err(invalid_argument)? {
        subscription = subscription.max_failures(n);
    }
    if let Some(headers) = o.get("headers") {
        for (name, value) in crate::options::header_pairs(&headers).map_err(invalid_argument)? {
            subscription = subscription.header(&name, &value);
        }
    }
    let open = Rc::new(Open {
        subscription: RefCell::new(Some(subscription)),
        closed,
        _link: link,
    });
    let for_next = open.clone();
    let next = Closure::<dyn FnMut() -> Promise>::new(move || promise(for_next.clone().next()));
    let close = Closure::<dyn FnMut()>::new(move || open.close());
    Ok(iterable(next.into_js_value(), close.into_js_value()))
}

fn event_to_js(event: &ConflictEvent) -> JsValue {
    let kind = |k: &str| JsValue::from_str(k);
    match event {
        ConflictEvent::Conflict(record) => {
            object(&[("type", kind("conflict")), ("record", record_to_js(record))])
        }
        ConflictEvent::Resolved(record) => {
            object(&[("type", kind("resolved")), ("record", record_to_js(record))])
        }
        ConflictEvent::Gap { after, oldest } => object(&[
            ("type", kind("gap")),
            ("after", JsValue::from_f64(*after as f64)),
            ("oldest", JsValue::from_f64(*oldest as f64)),
        ]),
        _ => object(&[("type", kind("other"))]),
    }
}
