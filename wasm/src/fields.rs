//! Reading an options object member by member, with errors that name the member and the fix.

use std::borrow::Cow;

use js_sys::{Function, Object};
use wasm_bindgen::{JsCast, JsValue};

use crate::json::{as_object, member, type_name};

/// The members of one options object; `context` names it in errors (e.g. `options.retry`, or
/// `operations[2]` for an operation of a batch).
pub(crate) struct Fields<'a> {
    object: Option<&'a Object>,
    context: Cow<'static, str>,
}

impl<'a> Fields<'a> {
    /// `value` must be an object, or `undefined` (no options).
    pub(crate) fn new(
        value: &'a JsValue,
        context: impl Into<Cow<'static, str>>,
        known: &[&str],
    ) -> Result<Self, String> {
        let context = context.into();
        if value.is_undefined() {
            return Ok(Self {
                object: None,
                context,
            });
        }
        let object = as_object(value)
            .ok_or_else(|| format!("{context} must be an object, not {}", type_name(value)))?;
        for key in Object::keys(object).iter() {
            let key = key.as_string().unwrap_or_default();
            if !known.contains(&key.as_str()) {
                return Err(format!(
                    "unknown option `{key}` in {context}; the options are: {}",
                    known.join(", ")
                ));
            }
        }
        Ok(Self {
            object: Some(object),
            context,
        })
    }

    /// What errors call the object, e.g. `options`.
    pub(crate) fn context(&self) -> &str {
        &self.context
    }

    /// The member's value, `None` when it is absent or `undefined`.
    pub(crate) fn get(&self, name: &str) -> Option<JsValue> {
        member(self.object?, name)
    }

    fn wrong(&self, name: &str, expected: &str, value: &JsValue) -> String {
        format!(
            "{}.{name} must be {expected}, not {}",
            self.context,
            type_name(value)
        )
    }

    /// A string member.
    pub(crate) fn string(&self, name: &str) -> Result<Option<String>, String> {
        self.get(name)
            .map(|v| {
                v.as_string()
                    .ok_or_else(|| self.wrong(name, "a string", &v))
            })
            .transpose()
    }

    /// A boolean member.
    pub(crate) fn boolean(&self, name: &str) -> Result<Option<bool>, String> {
        self.get(name)
            .map(|v| {
                v.as_bool()
                    .ok_or_else(|| self.wrong(name, "true or false", &v))
            })
            .transpose()
    }

    /// A finite number ≥ `min` (`min` is whole so that messages need no float formatting,
    /// which would add kilobytes of formatting code to the wasm).
    pub(crate) fn number(&self, name: &str, min: u32) -> Result<Option<f64>, String> {
        self.get(name)
            .map(|v| match v.as_f64() {
                Some(n) if n.is_finite() && n >= f64::from(min) => Ok(n),
                _ => Err(self.wrong(name, &format!("a finite number of at least {min}"), &v)),
            })
            .transpose()
    }

    /// A finite number ≥ `min`, or `null` for "none" (`Some(None)`); `null_means` says in
    /// the error message what `null` stands for (e.g. "no limit").
    pub(crate) fn number_or_null(
        &self,
        name: &str,
        min: u32,
        null_means: &str,
    ) -> Result<Option<Option<f64>>, String> {
        self.get(name)
            .map(|v| match v.as_f64() {
                _ if v.is_null() => Ok(None),
                Some(n) if n.is_finite() && n >= f64::from(min) => Ok(Some(n)),
                _ => Err(self.wrong(
                    name,
                    &format!("a finite number of at least {min}, or null for {null_means}"),
                    &v,
                )),
            })
            .transpose()
    }

    /// A whole number in `min..=u32::MAX` (also used for sizes and counts).
    pub(crate) fn whole(&self, name: &str, min: u32) -> Result<Option<u32>, String> {
        self.get(name)
            .map(|v| match v.as_f64() {
                Some(n) if n.fract() == 0.0 && n >= f64::from(min) && n <= f64::from(u32::MAX) => {
                    Ok(n as u32)
                }
                _ => Err(self.wrong(
                    name,
                    &format!("a whole number from {min} to {}", u32::MAX),
                    &v,
                )),
            })
            .transpose()
    }

    /// One of `choices` (strings).
    pub(crate) fn choice(
        &self,
        name: &str,
        choices: &[&'static str],
    ) -> Result<Option<&'static str>, String> {
        self.get(name)
            .map(|v| {
                v.as_string()
                    .and_then(|s| choices.iter().copied().find(|c| *c == s))
                    .ok_or_else(|| {
                        let shown = v
                            .as_string()
                            .map_or_else(|| type_name(&v), |s| format!("'{s}'"));
                        format!(
                            "{}.{name} must be one of '{}', not {shown}",
                            self.context,
                            choices.join("', '")
                        )
                    })
            })
            .transpose()
    }

    /// A function member.
    pub(crate) fn function(&self, name: &str) -> Result<Option<Function>, String> {
        self.get(name)
            .map(|v| {
                v.dyn_into::<Function>()
                    .map_err(|v| self.wrong(name, "a function", &v))
            })
            .transpose()
    }
}
