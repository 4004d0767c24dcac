//! `client.update(url, change, { strategy, resolve })`: the user's functions as SDK closures.
//!
//! The change function may be async (its Promise is awaited); strategy functions and resolvers
//! are called synchronously. The SDK's closures report failures as values (`ChangeError`, `Resolution::Fail`), which cannot
//! carry a JavaScript object; what the user's function threw is kept in a [`Thrown`] cell and
//! attached to the final error as `cause`.

use std::{cell::RefCell, future::Future, pin::Pin, rc::Rc};

use ifmatch::{merge::Resolution, ChangeError, ConflictContext, Decision, Strategy};
use js_sys::Function;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::error::describe;
use crate::json::{as_object, from_js, nullable, object, to_js, to_js_opt, type_name};

/// The first value a user function threw during one update.
#[derive(Clone, Default)]
pub(crate) struct Thrown(Rc<RefCell<Option<JsValue>>>);

impl Thrown {
    fn keep(&self, value: JsValue) {
        self.0.borrow_mut().get_or_insert(value);
    }

    /// The thrown value, if any.
    pub(crate) fn take(&self) -> Option<JsValue> {
        self.0.borrow_mut().take()
    }
}

/// What one call of the change function resolves to.
type Changed = Pin<Box<dyn Future<Output = Result<Value, ChangeError>>>>;

/// The change function as the SDK's asynchronous change: it gets a fresh copy of the document and
/// returns the new one, or edits its argument and returns `undefined`; either may come as a
/// Promise (an async function), which is awaited. A rejection is handled as a throw.
pub(crate) fn change(function: Function, thrown: Thrown) -> impl FnMut(Value) -> Changed {
    move |doc: Value| {
        let (function, thrown) = (function.clone(), thrown.clone());
        Box::pin(async move {
            let argument = to_js(&doc);
            let failed = |verb: &str, err: JsValue| {
                let message = format!("the change function {verb} {}", describe(&err));
                thrown.keep(err);
                ChangeError::msg(message)
            };
            let mut returned = function
                .call1(&JsValue::NULL, &argument)
                .map_err(|err| failed("threw", err))?;
            if let Some(promise) = returned.dyn_ref::<js_sys::Promise>() {
                returned = JsFuture::from(promise.clone())
                    .await
                    .map_err(|err| failed("rejected with", err))?;
            }
            let next = if returned.is_undefined() {
                argument
            } else {
                returned
            };
            from_js(&next, "the document the change function returned").map_err(ChangeError::msg)
        })
    }
}

/// The message for `resolve` given with a strategy other than `'merge'`.
pub(crate) const RESOLVE_ONLY_WITH_MERGE: &str =
    "options.resolve only applies to strategy 'merge'; set strategy: 'merge' or drop resolve";

/// The strategy named in JavaScript, with the resolver for `merge`.
pub(crate) fn strategy(
    name: Option<&str>,
    resolve: Option<Function>,
    thrown: &Thrown,
) -> Result<Strategy, String> {
    if resolve.is_some() && name != Some("merge") {
        return Err(RESOLVE_ONLY_WITH_MERGE.to_owned());
    }
    Ok(match (name, resolve) {
        (Some("merge"), Some(resolve)) => {
            Strategy::three_way_merge_with(resolver(resolve, thrown.clone()))
        }
        (Some("merge"), None) => Strategy::ThreeWayMerge,
        (Some("lastWriteWins"), _) => Strategy::LastWriteWins,
        (Some("abort"), _) => Strategy::Abort,
        _ => Strategy::Reapply,
    })
}

/// A strategy function as the SDK's custom strategy: called with `{ base, mine, theirs,
/// theirsEtag, status, attempt }`, it answers `'reapply'`, `'abort'` or `{ write: doc }`. An
/// answer of another shape, or a throw, aborts the update (with the problem as `cause`).
pub(crate) fn custom(function: Function, thrown: Thrown) -> Strategy {
    Strategy::custom(move |c: &ConflictContext<'_>| {
        let conflict = object(&[
            ("base", to_js(c.base)),
            ("mine", to_js(c.mine)),
            ("theirs", to_js(c.theirs)),
            ("theirsEtag", nullable(c.theirs_etag.map(|t| t.to_string()))),
            ("status", c.status.as_u16().into()),
            ("attempt", c.attempt.into()),
        ]);
        let answer = match function.call1(&JsValue::NULL, &conflict) {
            Ok(answer) => answer,
            Err(err) => {
                thrown.keep(err);
                return Decision::Abort;
            }
        };
        match decision(&answer) {
            Ok(decision) => decision,
            Err(message) => {
                thrown.keep(js_sys::TypeError::new(&message).into());
                Decision::Abort
            }
        }
    })
}

fn decision(answer: &JsValue) -> Result<Decision, String> {
    const SHAPE: &str = "the strategy function must return 'reapply', 'abort' or { write: doc }";
    match answer.as_string().as_deref() {
        Some("reapply") => return Ok(Decision::Reapply),
        Some("abort") => return Ok(Decision::Abort),
        _ => {}
    }
    let object = as_object(answer).ok_or_else(|| format!("{SHAPE}, not {}", type_name(answer)))?;
    let doc =
        js_sys::Reflect::get(object, &JsValue::from_str("write")).unwrap_or(JsValue::UNDEFINED);
    if doc.is_undefined() {
        return Err(format!("{SHAPE}; the object has no `write` member"));
    }
    from_js(
        &doc,
        "the document the strategy function returned in `write`",
    )
    .map(Decision::Write)
}

/// The resolver function as the SDK's path resolver: called with `{ path, base, mine, theirs }`,
/// it returns the value to keep, or `undefined` to leave the path unresolved.
fn resolver(
    function: Function,
    thrown: Thrown,
) -> impl Fn(&str, Option<&Value>, Option<&Value>, Option<&Value>) -> Resolution + 'static {
    move |path, base, mine, theirs| {
        let conflict = object(&[
            ("path", JsValue::from_str(path)),
            ("base", to_js_opt(base)),
            ("mine", to_js_opt(mine)),
            ("theirs", to_js_opt(theirs)),
        ]);
        match function.call1(&JsValue::NULL, &conflict) {
            Ok(kept) if kept.is_undefined() => Resolution::Fail,
            Ok(kept) => match from_js(&kept, "the value the resolver returned") {
                Ok(value) => Resolution::Use(value),
                Err(message) => {
                    thrown.keep(
                        js_sys::TypeError::new(&format!(
                            "{message} (for {path}, got {})",
                            type_name(&kept)
                        ))
                        .into(),
                    );
                    Resolution::Fail
                }
            },
            Err(err) => {
                thrown.keep(err);
                Resolution::Fail
            }
        }
    }
}
