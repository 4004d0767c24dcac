//! The version a `put`, `patch` or `delete` is conditional on. Every write names exactly one:
//! `{ ifMatch: read.etag }`, `{ createOnly: true }` or `{ unconditional: true }`. The client never
//! takes it from its cache: another caller sharing the client may have refreshed the cache since
//! this caller's read, and writing with that newer ETag would overwrite the change (a lost update).

use ifmatch::{EntityTag, Error, Precondition};
use wasm_bindgen::prelude::*;

use crate::fields::Fields;
use crate::json::type_name;

#[wasm_bindgen(module = "/js/shim.js")]
extern "C" {
    /// `read.etag` for a read (an object with `value` and `etag`), else the value itself.
    #[wasm_bindgen(js_name = versionOf)]
    fn version_of(value: &JsValue) -> JsValue;
}

/// The members of a write's options object.
pub(crate) const WRITE_OPTIONS: &[&str] = &[
    "ifMatch",
    "createOnly",
    "unconditional",
    "lock",
    "signal",
    "headers",
    "timeout",
    "apiVersion",
    "searchParams",
];

/// Which write the options are for; says in errors what the write needs.
#[derive(Clone, Copy)]
pub(crate) enum Write {
    Put,
    Patch,
    Delete,
    /// A `put`, `patch` or `delete` operation of `client.batch()`.
    InBatch,
    /// `request()` with a method other than GET.
    Request,
}

impl Write {
    /// What to pass when no precondition was given.
    fn needs(self) -> &'static str {
        match self {
            Self::Put => "put() needs the version the document was read at, so that it cannot overwrite a change made since: pass { ifMatch: read.etag }, or { createOnly: true } / { unconditional: true }",
            Self::Patch => "patch() needs the version the patch was made against, so that it cannot overwrite a change made since: pass { ifMatch: read.etag }, or { createOnly: true } / { unconditional: true }",
            Self::Delete => "delete() needs the version being deleted, so that it cannot delete a change made since: pass { ifMatch: read.etag }, or { unconditional: true }",
            Self::Request => "request() with a method other than GET is a write and needs the version it is conditional on, so that it cannot overwrite a change made since: pass { ifMatch: read.etag }, or { createOnly: true } / { unconditional: true }",
            Self::InBatch => "a write in a batch needs the version its document was read at, so that it cannot overwrite a change made since: give the operation ifMatch: read.etag, or createOnly: true / unconditional: true",
        }
    }
}

/// The precondition named in `o`: exactly one of `ifMatch`, `createOnly`, `unconditional`.
/// `ifMatch: null` (the `etag` of a read that had none) is the SDK's precondition for "read
/// without an ETag", which refuses the write with `missing_etag` before anything is sent; so
/// is a weak tag, which `If-Match` never matches.
pub(crate) fn from_options(o: &Fields<'_>, write: Write) -> Result<Precondition, String> {
    let given: Vec<&str> = ["ifMatch", "createOnly", "unconditional"]
        .into_iter()
        .filter(|name| o.get(name).is_some())
        .collect();
    match given.as_slice() {
        // Under a lock nobody else writes, so a document read after taking it is current.
        [] if o.get("lock").is_some() => Err(format!(
            "{}; under a lock, {{ unconditional: true }} is safe for a document read after the lock was taken",
            write.needs()
        )),
        [] => Err(write.needs().to_owned()),
        ["ifMatch"] => if_match(o.context(), &o.get("ifMatch").unwrap_or(JsValue::NULL)),
        [flag] => {
            let value = o.get(flag).unwrap_or(JsValue::NULL);
            if value.as_bool() != Some(true) {
                return Err(format!(
                    "{}.{flag} must be true when given, not {}; leave it out otherwise",
                    o.context(),
                    type_name(&value)
                ));
            }
            Ok(if *flag == "createOnly" {
                Precondition::create_only()
            } else {
                Precondition::unconditional()
            })
        }
        _ => Err(format!(
            "{0}.ifMatch, {0}.createOnly and {0}.unconditional exclude each other; pass exactly one, not {1}",
            o.context(),
            given.join(" and ")
        )),
    }
}

/// `ifMatch` (of `context`, e.g. `options`): the ETag string a read returned, `null` for a read
/// that had none, or the read itself (what `get`, a write or a batch resolved to: an object with
/// `value` and `etag`), whose `etag` is the version.
pub(crate) fn if_match(context: &str, value: &JsValue) -> Result<Precondition, String> {
    let value = &version_of(value);
    if value.is_null() {
        return Ok(Precondition::from(None::<EntityTag>));
    }
    let text = value.as_string().ok_or_else(|| {
        format!(
            "{context}.ifMatch must be a read (or its etag, read.etag), a string such as '\"v1\"', not {}",
            type_name(value)
        )
    })?;
    match text.parse::<EntityTag>() {
        Ok(tag) => Ok(Precondition::matching(tag)),
        Err(Error::InvalidEtag { reason, .. }) => Err(format!(
            "{context}.ifMatch must be the etag of a read (read.etag), not {}: {reason}",
            type_name(value)
        )),
        Err(other) => Err(format!("{context}.ifMatch: {}", other.summary())),
    }
}
