//! Interactive transactions: `client.begin(options)` → the exported `Transaction` class (the
//! SDK's `Transaction` inside a JavaScript object), and `client.transaction(fn, options)`, the
//! SDK's `Client::transaction` running a JavaScript function.
//!
//! The SDK's closure must fail with an SDK `Error`, which cannot carry a JavaScript value, and
//! the SDK has no public constructor for one: what the function threw is kept aside (as
//! `update` keeps what a change function threw) and the closure fails with a cancellation,
//! which the SDK treats as every other error of the closure (it rolls the transaction back and
//! returns it without running again). The call then rejects with what the function threw.

use std::{cell::RefCell, rc::Rc, time::Duration};

use ifmatch::{rt::BoxFuture, CancelToken, CommitResult, Error};
use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use crate::batch::op_result;
use crate::client::{Scope, CALL_OPTIONS};
use crate::error::{invalid_argument, relative_without_base};
use crate::fields::Fields;
use crate::json::{millis, nullable, object, type_name};
use crate::options::{call_options, ms, with_call_options};
use crate::promise::promise;

/// The options of `begin`.
const BEGIN_OPTIONS: &[&str] = &["ttl", "signal", "headers", "timeout"];
/// The options of `transaction`.
const RUN_OPTIONS: &[&str] = &["ttl", "maxAttempts", "signal", "headers", "timeout"];

/// An open interactive transaction (see `docs/javascript.md`, "Transactions"): reads and writes
/// made through it act inside it, and `commit()` applies its writes together, unless a document
/// it read changed meanwhile.
#[wasm_bindgen]
pub struct Transaction {
    inner: ifmatch::Transaction,
    has_base_url: bool,
}

impl Transaction {
    fn scope(&self) -> Scope {
        Scope {
            client: self.inner.client().clone(),
            tx: Some(self.inner.clone()),
            has_base_url: self.has_base_url,
        }
    }
}

#[wasm_bindgen]
impl Transaction {
    /// The server's id for it (sent as `Transaction-Id`).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_owned()
    }

    /// Its absolute URL (`…/transactions/{id}`).
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.inner.url().to_owned()
    }

    /// When the server rolls it back unless committed (Unix time in milliseconds, the server's
    /// clock), or `null` when the server did not say.
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> JsValue {
        // Unix milliseconds stay far below 2^53.
        nullable(self.inner.expires_at_ms().map(|at| at as f64))
    }

    /// The lifetime the server granted, in milliseconds, or `null` when unknown.
    #[wasm_bindgen(getter, js_name = ttlMs)]
    pub fn ttl_ms(&self) -> JsValue {
        self.inner.ttl().map_or(JsValue::NULL, millis)
    }

    /// Milliseconds left before it expires (by this client's clock), or `null` when unknown.
    #[wasm_bindgen(getter, js_name = expiresInMs)]
    pub fn expires_in_ms(&self) -> JsValue {
        self.inner.expires_in().map_or(JsValue::NULL, millis)
    }

    /// Whether it is still open: not committed, rolled back, or ended by a refused commit.
    #[wasm_bindgen(getter)]
    pub fn open(&self) -> bool {
        self.inner.is_open()
    }

    /// `get(url, { signal, headers, timeout })` inside the transaction.
    pub fn get(&self, url: JsValue, options: JsValue) -> Promise {
        self.scope().get(url, options)
    }

    /// `create(url, doc, options)` inside the transaction.
    pub fn create(&self, url: JsValue, doc: JsValue, options: JsValue) -> Promise {
        self.scope().create(url, doc, options)
    }

    /// `put(url, doc, options)` inside the transaction.
    pub fn put(&self, url: JsValue, doc: JsValue, options: JsValue) -> Promise {
        self.scope().put(url, doc, options)
    }

    /// `patch(url, mergePatch, options)` inside the transaction.
    pub fn patch(&self, url: JsValue, merge_patch: JsValue, options: JsValue) -> Promise {
        self.scope().patch(url, merge_patch, options)
    }

    /// `delete(url, options)` inside the transaction.
    pub fn delete(&self, url: JsValue, options: JsValue) -> Promise {
        self.scope().delete(url, options)
    }

    /// `commit({ signal, headers, timeout })` → `{ id, results, attempts }`.
    pub fn commit(&self, options: JsValue) -> Promise {
        let tx = self.inner.clone();
        promise(async move {
            let o = Fields::new(&options, "options", CALL_OPTIONS).map_err(invalid_argument)?;
            let call = call_options(&o)?;
            let commit = with_call_options!(tx.commit(), call);
            let done = call.link.token().run("commit", commit).await;
            done.map(|done| committed(&done))
                .map_err(|e| call.link.reject(&e, None))
        })
    }

    /// `rollback({ signal, headers, timeout })`: nothing the transaction staged is applied.
    pub fn rollback(&self, options: JsValue) -> Promise {
        let tx = self.inner.clone();
        promise(async move {
            let o = Fields::new(&options, "options", CALL_OPTIONS).map_err(invalid_argument)?;
            let call = call_options(&o)?;
            let rollback = with_call_options!(tx.rollback(), call);
            let done = call.link.token().run("rollback", rollback).await;
            done.map(|()| JsValue::UNDEFINED)
                .map_err(|e| call.link.reject(&e, None))
        })
    }
}

/// `{ id, results, attempts }` of a commit.
fn committed(done: &CommitResult) -> JsValue {
    let results: Array = done.iter().map(op_result).collect();
    object(&[
        ("id", done.id().into()),
        ("results", results.into()),
        ("attempts", done.attempts().into()),
    ])
}

/// The `ttl` option of `begin` and `transaction`.
fn ttl(o: &Fields<'_>) -> Result<Option<Duration>, JsValue> {
    Ok(o.number("ttl", 1).map_err(invalid_argument)?.map(ms))
}

/// `client.begin({ ttl, signal, headers, timeout })` → a `Transaction`.
pub(crate) fn begin(client: ifmatch::Client, has_base_url: bool, options: JsValue) -> Promise {
    promise(async move {
        let o = Fields::new(&options, "options", BEGIN_OPTIONS).map_err(invalid_argument)?;
        let mut begin = client.begin();
        if let Some(ttl) = ttl(&o)? {
            begin = begin.ttl(ttl);
        }
        needs_base_url(has_base_url)?;
        let call = call_options(&o)?;
        let begin = with_call_options!(begin, call);
        let began = call.link.token().run("begin", begin).await;
        began
            .map(|inner| {
                JsValue::from(Transaction {
                    inner,
                    has_base_url,
                })
            })
            .map_err(|e| call.link.reject(&e, None))
    })
}

/// Transactions begin at a path (`/transactions`) under the base URL.
fn needs_base_url(has_base_url: bool) -> Result<(), JsValue> {
    match has_base_url {
        true => Ok(()),
        false => Err(relative_without_base("/transactions")),
    }
}

/// `client.transaction(fn, { ttl, maxAttempts, signal, headers, timeout })`: runs `fn(tx)` in a
/// transaction and commits, again in a new transaction after a commit conflict, as the SDK's
/// `Client::transaction` does; resolves to what `fn` returned (awaited).
pub(crate) fn run(
    client: ifmatch::Client,
    has_base_url: bool,
    function: JsValue,
    options: JsValue,
) -> Promise {
    promise(async move {
        let function = function.dyn_into::<Function>().map_err(|v| {
            invalid_argument(format!(
                "client.transaction() takes a function that gets the transaction, such as async (tx) => {{ … }}, not {}",
                type_name(&v)
            ))
        })?;
        let o = Fields::new(&options, "options", RUN_OPTIONS).map_err(invalid_argument)?;
        let thrown = Rc::new(RefCell::new(None::<JsValue>));
        let current = Rc::new(RefCell::new(None::<ifmatch::Transaction>));
        let (keep, last) = (thrown.clone(), current.clone());
        let mut run = client.transaction(move |tx: ifmatch::Transaction| {
            let object = JsValue::from(Transaction {
                inner: tx.clone(),
                has_base_url,
            });
            *last.borrow_mut() = Some(tx);
            let (function, keep) = (function.clone(), keep.clone());
            async move {
                match call(&function, &object).await {
                    Ok(value) => Ok(value),
                    Err(err) => {
                        *keep.borrow_mut() = Some(err);
                        Err(thrown_error().await)
                    }
                }
            }
        });
        if let Some(ttl) = ttl(&o)? {
            run = run.ttl(ttl);
        }
        if let Some(n) = o.whole("maxAttempts", 1).map_err(invalid_argument)? {
            run = run.max_attempts(n);
        }
        needs_base_url(has_base_url)?;
        let call = call_options(&o)?;
        let run = with_call_options!(run, call);
        let done = call.link.token().run("transaction", run).await;
        done.map_err(|e| {
            if let Some(thrown) = thrown.borrow_mut().take() {
                return thrown;
            }
            // Aborted while the function ran: its transaction is still open, and the function
            // (or a request it made) may keep it from being dropped.
            if let Some(tx) = current.borrow_mut().take().filter(|tx| tx.is_open()) {
                // Boxed as the SDK boxes its background tasks, so that both share one
                // instance of `spawn_local` in the wasm.
                let rollback: BoxFuture<'static, ()> = Box::pin(async move {
                    let _ = tx.rollback().await;
                });
                spawn_local(rollback);
            }
            call.link.reject(&e, None)
        })
    })
}

/// Calls the function with the transaction object and awaits what it returns.
async fn call(function: &Function, tx: &JsValue) -> Result<JsValue, JsValue> {
    let returned = function.call1(&JsValue::NULL, tx)?;
    // `Promise.resolve` also adopts a thenable, and passes any other value through.
    JsFuture::from(Promise::resolve(&returned)).await
}

/// The SDK error the closure fails with when the function threw (see the module comment).
async fn thrown_error() -> Error {
    let token = CancelToken::new();
    token.cancel();
    // A cancelled token never runs its operation, so this is always the cancellation.
    let pending = std::future::pending::<Result<Error, Error>>();
    match token.run("the transaction function", pending).await {
        Ok(err) | Err(err) => err,
    }
}
