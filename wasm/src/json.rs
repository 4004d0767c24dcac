//! JSON values across the boundary: JavaScript values go through `JSON.stringify` / `JSON.parse`,
//! so the SDK sees exactly what would be sent on the wire.

use js_sys::{Array, Object, JSON};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::describe;

/// Reads a JavaScript value as JSON; the error says what `what` is and why it is not JSON.
pub(crate) fn from_js(value: &JsValue, what: &str) -> Result<Value, String> {
    if value.is_undefined() || value.is_function() || value.is_symbol() {
        return Err(format!(
            "{what} must be a JSON value, not {}",
            type_name(value)
        ));
    }
    let text = JSON::stringify(value)
        .map_err(|err| format!("{what} is not JSON: {}", describe(&err)))?
        .as_string()
        .ok_or_else(|| format!("{what} must be a JSON value, not {}", type_name(value)))?;
    // `from_slice`, as the SDK reads bodies: `from_str` would be a second instance of the parser.
    serde_json::from_slice(text.as_bytes()).map_err(|err| format!("{what} is not JSON: {err}"))
}

/// A JSON value as a fresh JavaScript value (a new object graph on every call).
pub(crate) fn to_js(value: &Value) -> JsValue {
    // JSON.parse accepts everything serde_json writes; `null` is only a fallback that cannot be
    // reached.
    JSON::parse(&text(value)).unwrap_or(JsValue::NULL)
}

/// A JSON value as JSON text, for JavaScript to `JSON.parse` (one string crosses the boundary).
pub(crate) fn text(value: &Value) -> String {
    // Serializing a `serde_json::Value` cannot fail: its map keys are strings.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// An optional JSON value, `undefined` for `None` (an absent member).
pub(crate) fn to_js_opt(value: Option<&Value>) -> JsValue {
    value.map_or(JsValue::UNDEFINED, to_js)
}

#[wasm_bindgen(module = "/js/shim.js")]
extern "C" {
    /// `object[name] = value`, on a fresh plain object (which cannot throw).
    #[wasm_bindgen(js_name = setMember)]
    fn set_member(object: &Object, name: &str, value: &JsValue);

    /// `object[name]`, `undefined` if reading it throws (a getter or a proxy of the caller's).
    #[wasm_bindgen(js_name = getMember)]
    fn get_member(object: &Object, name: &str) -> JsValue;
}

/// A plain object with the given members.
pub(crate) fn object(members: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (name, value) in members {
        // One call per member: `Reflect::set` took two (the name as a `JsValue` first) and went
        // through wasm-bindgen's exception wrapper, about 2 µs a member in Node.
        set_member(&object, name, value);
    }
    object.into()
}

/// The member `name` of `object`, `None` when it is absent, `undefined`, or reading it throws.
pub(crate) fn member(object: &Object, name: &str) -> Option<JsValue> {
    let value = get_member(object, name);
    (!value.is_undefined()).then_some(value)
}

/// A JavaScript array of strings.
pub(crate) fn strings(items: &[String]) -> JsValue {
    items
        .iter()
        .map(|s| JsValue::from_str(s))
        .collect::<Array>()
        .into()
}

/// `null` for `None`.
pub(crate) fn nullable<T: Into<JsValue>>(value: Option<T>) -> JsValue {
    value.map_or(JsValue::NULL, Into::into)
}

/// Milliseconds as a JavaScript number.
pub(crate) fn millis(duration: std::time::Duration) -> JsValue {
    JsValue::from_f64(duration.as_secs_f64() * 1000.0)
}

/// A short description of a value's type for error messages.
pub(crate) fn type_name(value: &JsValue) -> String {
    if value.is_null() {
        "null".to_owned()
    } else if Array::is_array(value) {
        "an array".to_owned()
    } else if value.is_instance_of::<js_sys::Promise>() {
        "a Promise".to_owned()
    } else {
        match value.js_typeof().as_string().as_deref() {
            Some("undefined") => "undefined".to_owned(),
            Some("object") => "an object".to_owned(),
            Some(kind @ ("function" | "symbol" | "bigint")) => format!("a {kind}"),
            // Quoted, so that the string "10" is not mistaken for the number 10.
            Some("string") => format!("a string ({:?})", value.as_string().unwrap_or_default()),
            Some(kind) => format!("a {kind} ({})", describe(value)),
            None => "an unknown value".to_owned(),
        }
    }
}

/// `value` as a plain JavaScript object, if it is one (not an array, not a function).
pub(crate) fn as_object(value: &JsValue) -> Option<&Object> {
    (value.is_object() && !Array::is_array(value)).then(|| value.unchecked_ref::<Object>())
}
