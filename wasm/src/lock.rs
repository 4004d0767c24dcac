//! `client.lock(url, options)` and the exported `Lock` class: the SDK's `LockGuard` kept alive
//! inside a JavaScript object, so that its background renewal runs until `release()`, `free()`
//! or garbage collection.
//!
//! A `Lock` passed as a write's `lock` option must be found again from its JavaScript object,
//! which wasm-bindgen gives no public way to borrow: a `WeakMap` (which does not keep the object
//! alive) maps each `Lock` object to an id, and a table on this (the only) thread maps ids to the
//! lock's shared state for as long as that state lives.

use std::{
    cell::{Cell, RefCell},
    rc::{Rc, Weak},
    time::Duration,
};

use ifmatch::LockGuard;
use js_sys::{Function, Promise, WeakMap};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::error::{invalid_argument, lock_error, released, LockCall};
use crate::fields::Fields;
use crate::json::{as_object, millis, nullable, type_name};
use crate::options::ms;
use crate::promise::promise;

/// The options of `lock`.
pub(crate) const LOCK_OPTIONS: &[&str] = &["ttl", "wait", "owner", "signal", "headers", "timeout"];
/// Misspellings of the lock options (durations of a call are named like `timeout`, without `Ms`).
const RENAMED: &[(&str, &str)] = &[("ttlMs", "ttl"), ("waitMs", "wait")];

/// The builder settings of a lock request: `ttl`, `wait` and `owner`.
pub(crate) fn request(
    mut request: ifmatch::LockRequest,
    options: &JsValue,
) -> Result<(ifmatch::LockRequest, Fields<'_>), JsValue> {
    let o = Fields::new(options, "options", LOCK_OPTIONS).map_err(|message| {
        let renamed = as_object(options).and_then(|object| {
            RENAMED
                .iter()
                .find(|(old, _)| js_sys::Object::has_own(object, &JsValue::from_str(old)))
        });
        invalid_argument(match renamed {
            Some((old, new)) => format!(
                "options.{old} is spelled options.{new} (milliseconds, like timeout); rename it"
            ),
            None => message,
        })
    })?;
    if let Some(ttl) = o.number("ttl", 1).map_err(invalid_argument)? {
        request = request.ttl(ms(ttl));
    }
    if let Some(wait) = o.number("wait", 0).map_err(invalid_argument)? {
        request = request.wait(ms(wait));
    }
    if let Some(owner) = o.string("owner").map_err(invalid_argument)? {
        request = request.owner(owner);
    }
    Ok((request, o))
}

/// A held lock on one resource (see `docs/javascript.md`, "Locks"). While it is held, the
/// client's writes of that resource carry its token and a background task renews it.
#[wasm_bindgen]
pub struct Lock {
    held: Rc<Held>,
}

/// What a `Lock` object and its running `renew()`/`release()` calls share.
struct Held {
    id: u32,
    url: String,
    token: String,
    fencing: Option<u64>,
    owner: Option<String>,
    /// The guard until `release()` takes it; an `Rc` so that `renew()` can use it while it runs.
    guard: RefCell<Option<Rc<LockGuard>>>,
    /// The lease last seen, for `ttlMs` after release.
    ttl: Cell<Duration>,
    /// `renew()` calls running (each holds a clone of the guard's `Rc`).
    renewing: Cell<u32>,
    /// Resolves the promise a `release()` waits on until the running renewals are done.
    idle: RefCell<Option<Function>>,
    /// The first `release()`'s promise; later calls wait for it and resolve.
    released: RefCell<Option<Promise>>,
}

#[wasm_bindgen(module = "/js/shim.js")]
extern "C" {
    /// A promise that resolves (to `undefined`) once `promise` settles, however it settles.
    fn settled(promise: &Promise) -> Promise;
}

thread_local! {
    /// `Lock` object → id (weakly: the map does not keep a `Lock` alive).
    static IDS: WeakMap = WeakMap::new();
    /// id → the lock's shared state, while it lives.
    static HELD: RefCell<Vec<(u32, Weak<Held>)>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u32> = const { Cell::new(0) };
}

impl Lock {
    /// The `Lock` object for a guard just acquired.
    pub(crate) fn wrap(guard: LockGuard) -> JsValue {
        let id = NEXT_ID.with(|next| {
            let id = next.get();
            next.set(id.wrapping_add(1));
            id
        });
        let held = Rc::new(Held {
            id,
            url: guard.url().to_owned(),
            token: guard.token().to_owned(),
            fencing: guard.fencing(),
            owner: guard.owner().map(str::to_owned),
            ttl: Cell::new(guard.ttl()),
            guard: RefCell::new(Some(Rc::new(guard))),
            renewing: Cell::new(0),
            idle: RefCell::new(None),
            released: RefCell::new(None),
        });
        HELD.with(|table| table.borrow_mut().push((id, Rc::downgrade(&held))));
        let object = JsValue::from(Lock { held });
        IDS.with(|ids| ids.set(object.unchecked_ref(), &JsValue::from(id)));
        object
    }
}

impl Held {
    /// The guard, unless the lock was released.
    fn guard(&self) -> Option<Rc<LockGuard>> {
        let guard = self.guard.borrow().clone();
        if let Some(guard) = &guard {
            self.ttl.set(guard.ttl());
        }
        guard
    }

    fn renewal_done(&self) {
        self.renewing.set(self.renewing.get() - 1);
        if self.renewing.get() == 0 {
            if let Some(resolve) = self.idle.borrow_mut().take() {
                let _ = resolve.call0(&JsValue::NULL);
            }
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // The guard (if not released) drops with this value: the SDK releases it in the background.
        HELD.with(|table| table.borrow_mut().retain(|(id, _)| *id != self.id));
    }
}

#[wasm_bindgen]
impl Lock {
    /// The locked resource's absolute URL.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.held.url.clone()
    }

    /// The lock token (sent as `Lock-Token` with writes).
    #[wasm_bindgen(getter)]
    pub fn token(&self) -> String {
        self.held.token.clone()
    }

    /// The server's fencing number (higher for every later lock), or `null`.
    #[wasm_bindgen(getter)]
    pub fn fencing(&self) -> JsValue {
        // Fencing numbers count grants; they stay far below 2^53.
        nullable(self.held.fencing.map(|n| n as f64))
    }

    /// The holder's name, or `null`.
    #[wasm_bindgen(getter)]
    pub fn owner(&self) -> JsValue {
        nullable(self.held.owner.as_deref())
    }

    /// The lease the server granted, in milliseconds.
    #[wasm_bindgen(getter, js_name = ttlMs)]
    pub fn ttl_ms(&self) -> JsValue {
        self.held.guard();
        millis(self.held.ttl.get())
    }

    /// Milliseconds left before the lock ends unless renewed; 0 once released.
    #[wasm_bindgen(getter, js_name = expiresInMs)]
    pub fn expires_in_ms(&self) -> JsValue {
        millis(self.held.guard().map_or(Duration::ZERO, |g| g.expires_in()))
    }

    /// Why the lock is no longer held, or `null` while it is.
    #[wasm_bindgen(getter)]
    pub fn lost(&self) -> JsValue {
        match self.held.guard() {
            Some(guard) => nullable(guard.lost()),
            None => JsValue::from_str(RELEASED),
        }
    }

    /// Renews the lease now (the lock also renews itself in the background).
    pub fn renew(&self) -> Promise {
        let held = self.held.clone();
        let guard = held.guard();
        if guard.is_some() {
            held.renewing.set(held.renewing.get() + 1);
        }
        promise(async move {
            let Some(guard) = guard else {
                return Err(released(Some(&held.url), LockCall::Renew));
            };
            let renewed = guard.renew().await;
            drop(guard);
            held.renewal_done();
            renewed
                .map(|()| JsValue::UNDEFINED)
                .map_err(|e| lock_error(&e, LockCall::Renew))
        })
    }

    /// Releases the lock; later calls resolve once the first one is done.
    pub fn release(&self) -> Promise {
        if let Some(first) = self.held.released.borrow().as_ref() {
            return settled(first);
        }
        let held = self.held.clone();
        let guard = held.guard();
        held.guard.borrow_mut().take();
        let promise = promise(async move {
            let Some(guard) = guard else {
                return Ok(JsValue::UNDEFINED);
            };
            if held.renewing.get() > 0 {
                let idle = Promise::new(&mut |resolve, _| {
                    *held.idle.borrow_mut() = Some(resolve);
                });
                let _ = JsFuture::from(idle).await;
            }
            match Rc::try_unwrap(guard) {
                Ok(guard) => guard
                    .release()
                    .await
                    .map(|()| JsValue::UNDEFINED)
                    .map_err(|e| lock_error(&e, LockCall::Release)),
                // Only renewals keep the guard across an await, and they are done. Should another
                // holder appear, dropping the guard still releases the lock, in the background.
                Err(_) => Ok(JsValue::UNDEFINED),
            }
        });
        *self.held.released.borrow_mut() = Some(promise.clone());
        promise
    }
}

/// What `lost` says after `release()`.
const RELEASED: &str = "it was released";

/// The `lock` option of a write: the guard of the `Lock` given, or `None` without one. The
/// guard must be used (`.under(&guard)`) and dropped before the write is awaited, or a
/// `release()` would have to wait for the write.
pub(crate) fn option(o: &Fields<'_>) -> Result<Option<Rc<LockGuard>>, JsValue> {
    o.get("lock").map(|value| guard_of(&value)).transpose()
}

/// The guard of a `Lock` object given as a `lock` option; `lock_lost` for a released or freed
/// one, `invalid_argument` for anything else.
pub(crate) fn guard_of(value: &JsValue) -> Result<Rc<LockGuard>, JsValue> {
    let id = as_object(value)
        .and_then(|object| IDS.with(|ids| ids.get(object)).as_f64())
        .ok_or_else(|| {
            invalid_argument(format!(
                "options.lock must be a Lock from client.lock(), not {}",
                type_name(value)
            ))
        })?;
    let held = HELD.with(|table| {
        table
            .borrow()
            .iter()
            .find(|(held, _)| f64::from(*held) == id)
            .and_then(|(_, held)| held.upgrade())
    });
    // A freed Lock is gone from the table; a released one has no guard.
    match held {
        Some(held) => held
            .guard()
            .ok_or_else(|| released(Some(&held.url), LockCall::Write)),
        None => Err(released(None, LockCall::Write)),
    }
}

/// Makes `builder` a write under `lock` (`.under(&guard)` of the SDK builder), and lets go of
/// the guard.
pub(crate) fn under<B>(
    builder: B,
    lock: Option<Rc<LockGuard>>,
    apply: impl FnOnce(B, &LockGuard) -> B,
) -> B {
    match lock {
        Some(guard) => apply(builder, &guard),
        None => builder,
    }
}
