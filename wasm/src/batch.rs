//! `client.batch(operations, options)`: an array of JavaScript operations to the SDK's `Batch`,
//! and its results back. The SDK checks `lid`s and `ref`s, resolves paths and sends; this file
//! only checks each operation's members, so that a mistake names the operation's index.

use ifmatch::{Batch, BatchResult, OpResult, Precondition, Target};
use js_sys::{Array, Object, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::error::{invalid_argument, invalid_operation};
use crate::fields::Fields;
use crate::json::{as_object, from_js, nullable, object, to_js, type_name};
use crate::lock;
use crate::precondition::{self, Write};

/// The options of `batch`.
pub(crate) const BATCH_OPTIONS: &[&str] = &["lock", "signal", "headers", "timeout"];
/// What `op` may be.
const OPS: &[&str] = &["create", "put", "patch", "delete", "check"];
/// The members of each kind of operation (anything else is refused, as the server refuses
/// unknown members, so that a misspelt precondition is never dropped in silence).
const ANY: &[&str] = &[
    "op",
    "lid",
    "path",
    "ref",
    "body",
    "ifMatch",
    "createOnly",
    "unconditional",
];
const CREATE: &[&str] = &["op", "lid", "body"];
const PUT: &[&str] = &[
    "op",
    "path",
    "ref",
    "body",
    "ifMatch",
    "createOnly",
    "unconditional",
];
const DELETE: &[&str] = &["op", "path", "ref", "ifMatch", "unconditional"];
const CHECK: &[&str] = &["op", "path", "ref", "ifMatch"];

/// The local ids of the batch's creates, with their index, for `created`.
pub(crate) type Lids = Vec<(String, usize)>;

/// Adds every operation of `operations` (a non-empty array) to `batch`.
pub(crate) fn build(mut batch: Batch, operations: &JsValue) -> Result<(Batch, Lids), JsValue> {
    let operations = operations
        .dyn_ref::<Array>()
        .filter(|ops| ops.length() > 0)
        .ok_or_else(|| {
            invalid_argument(format!(
                "client.batch() takes a non-empty array of operations such as {{ op: 'put', path, body, ifMatch: read.etag }}, not {}",
                match operations.dyn_ref::<Array>() {
                    Some(_) => "an empty array".to_owned(),
                    None => type_name(operations),
                }
            ))
        })?;
    let mut lids = Lids::new();
    for (index, value) in operations.iter().enumerate() {
        batch = add(batch, index, &value, &mut lids)?;
    }
    Ok((batch, lids))
}

/// Adds operation `index`.
fn add(batch: Batch, index: usize, value: &JsValue, lids: &mut Lids) -> Result<Batch, JsValue> {
    let context = format!("operations[{index}]");
    let fail = |op: Option<&str>, message: String| invalid_operation(&message, index, op);
    // The members an operation may have depend on its `op`, read first.
    let op = as_object(value)
        .and_then(|object| Reflect::get(object, &JsValue::from_str("op")).ok())
        .and_then(|op| op.as_string());
    let members = match op.as_deref() {
        Some("create") => CREATE,
        Some("put" | "patch") => PUT,
        Some("delete") => DELETE,
        Some("check") => CHECK,
        _ => ANY,
    };
    let o = Fields::new(value, context.clone(), members).map_err(|m| fail(None, m))?;
    let op = o
        .choice("op", OPS)
        .map_err(|m| fail(None, m))?
        .ok_or_else(|| {
            let message = format!("{context} needs op: one of '{}'", OPS.join("', '"));
            fail(None, message)
        })?;
    let fail = |message: String| {
        // Messages from the option readers already start with `operations[i].member`.
        let message = if message.starts_with(&context) {
            message
        } else {
            format!("{context} ({op}): {message}")
        };
        invalid_operation(&message, index, Some(op))
    };
    let body = |what: &str| -> Result<Value, JsValue> {
        let value = o
            .get("body")
            .ok_or_else(|| fail(format!("a {op} needs body: {what}")))?;
        from_js(&value, &format!("{context}.body")).map_err(fail)
    };
    if op == "create" {
        let doc = body("the new document")?;
        return Ok(match o.string("lid").map_err(fail)? {
            Some(lid) => {
                lids.push((lid.clone(), index));
                batch.create_as(&lid, &doc)
            }
            None => batch.create(&doc),
        });
    }
    let target = match (o.string("path"), o.string("ref")) {
        (Ok(Some(path)), Ok(None)) => Target::Path(path),
        (Ok(None), Ok(Some(lid))) => Target::Lid(lid),
        (Err(message), _) | (_, Err(message)) => return Err(fail(message)),
        (Ok(None), Ok(None)) => {
            return Err(fail(
                "name its document with path (e.g. '/items/a'), or with ref: the lid of a create earlier in the batch".to_owned(),
            ))
        }
        (Ok(Some(_)), Ok(Some(_))) => {
            return Err(fail(
                "path and ref exclude each other; give path for a stored document, ref for one created earlier in the batch".to_owned(),
            ))
        }
    };
    let precondition = if op == "check" {
        // A check without ifMatch asserts that the document exists.
        match o.get("ifMatch") {
            Some(tag) => precondition::if_match(&context, &tag).map_err(fail)?,
            None => Precondition::unconditional(),
        }
    } else {
        precondition::from_options(&o, Write::InBatch).map_err(fail)?
    };
    Ok(match op {
        "put" => batch.put(target, &body("the document to store")?, precondition),
        "patch" => batch.patch(target, &body("the JSON Merge Patch")?, precondition),
        "delete" => batch.delete(target, precondition),
        _ => batch.check(target, precondition),
    })
}

/// The batch's `lock` option: a `Lock`, or an array of them (one per locked document).
pub(crate) fn under(mut batch: Batch, o: &Fields<'_>) -> Result<Batch, JsValue> {
    let Some(value) = o.get("lock") else {
        return Ok(batch);
    };
    let locks = match value.dyn_ref::<Array>() {
        Some(locks) => locks.to_vec(),
        None => vec![value],
    };
    for value in &locks {
        batch = batch.under(&*lock::guard_of(value)?);
    }
    Ok(batch)
}

/// `{ results, created, attempts }`; `created[lid]` is the same object as its entry in `results`.
pub(crate) fn result(done: &BatchResult, lids: &Lids) -> JsValue {
    let results: Array = done.iter().map(op_result).collect();
    let created: Array = lids
        .iter()
        .map(|(lid, index)| Array::of2(&JsValue::from_str(lid), &results.get(*index as u32)))
        .collect();
    object(&[
        ("results", results.into()),
        // fromEntries defines own members, so even a lid named __proto__ is a plain member.
        (
            "created",
            Object::from_entries(&created).map_or(JsValue::NULL, Into::into),
        ),
        ("attempts", done.attempts().into()),
    ])
}

/// One operation's result: `{ op, status, path, url, etag, value }`.
pub(crate) fn op_result(result: &OpResult) -> JsValue {
    object(&[
        ("op", nullable(result.op().map(|op| op.as_str()))),
        ("status", result.status().as_u16().into()),
        ("path", result.path().into()),
        ("url", result.url().into()),
        ("etag", nullable(result.etag().map(|t| t.to_string()))),
        ("value", result.body().map_or(JsValue::NULL, to_js)),
    ])
}
