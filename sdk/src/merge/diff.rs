//! The JSON Patch (RFC 6902) that turns one document into another.

use serde_json::{Map, Value};

use super::{
    patch::{JsonPatch, PatchOp},
    pointer,
};

/// The operations that turn `from` into `to`: `apply(from, &diff(from, to)) == to`.
///
/// - **Objects** are compared member by member, recursively, in key order: a member only in
///   `from` is a `remove`, only in `to` an `add`, in both a recursive diff.
/// - **Arrays** are compared by index: element `i` of `from` against element `i` of `to`
///   (recursively), then the extra elements of `to` are `add`ed at their indices, or the
///   surplus of `from` is `remove`d from the end backwards (so every index stays valid while the
///   patch is applied). No moves are detected: an element inserted at the front shows up as
///   a change of every element after it. That keeps the patch exact and cheap (linear) at the
///   price of minimality; use [`PatchOp::Replace`] of the whole array when you want that.
/// - **Anything else** that differs (a scalar, a change of type) is a `replace`; the empty path
///   replaces the whole document.
///
/// Paths are JSON Pointers with `~` escaped as `~0` and `/` as `~1`.
pub fn diff(from: &Value, to: &Value) -> JsonPatch {
    let mut ops = Vec::new();
    let mut path = String::new();
    walk(&mut path, from, to, &mut ops);
    JsonPatch(ops)
}

fn walk(path: &mut String, from: &Value, to: &Value, ops: &mut Vec<PatchOp>) {
    if from == to {
        return;
    }
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => objects(path, a, b, ops),
        (Value::Array(a), Value::Array(b)) => arrays(path, a, b, ops),
        _ => ops.push(PatchOp::Replace {
            path: path.clone(),
            value: to.clone(),
        }),
    }
}

fn objects(
    path: &mut String,
    a: &Map<String, Value>,
    b: &Map<String, Value>,
    ops: &mut Vec<PatchOp>,
) {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let len = pointer::push(path, key);
        match (a.get(key), b.get(key)) {
            (Some(old), Some(new)) => walk(path, old, new, ops),
            (Some(_), None) => ops.push(PatchOp::Remove { path: path.clone() }),
            (None, Some(new)) => ops.push(PatchOp::Add {
                path: path.clone(),
                value: new.clone(),
            }),
            (None, None) => {}
        }
        pointer::pop(path, len);
    }
}

fn arrays(path: &mut String, a: &[Value], b: &[Value], ops: &mut Vec<PatchOp>) {
    let common = a.len().min(b.len());
    for (i, (old, new)) in a.iter().zip(b).enumerate() {
        let len = pointer::push(path, &i.to_string());
        walk(path, old, new, ops);
        pointer::pop(path, len);
    }
    for (i, new) in b.iter().enumerate().skip(common) {
        let len = pointer::push(path, &i.to_string());
        ops.push(PatchOp::Add {
            path: path.clone(),
            value: new.clone(),
        });
        pointer::pop(path, len);
    }
    for i in (common..a.len()).rev() {
        let len = pointer::push(path, &i.to_string());
        ops.push(PatchOp::Remove { path: path.clone() });
        pointer::pop(path, len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::apply;
    use serde_json::json;

    fn ops(from: Value, to: Value) -> Value {
        let patch = diff(&from, &to);
        assert_eq!(
            apply(&from, &patch).unwrap(),
            to,
            "the patch must reproduce `to`"
        );
        serde_json::to_value(patch).unwrap()
    }

    #[test]
    fn equal_documents_have_an_empty_patch() {
        assert!(diff(&json!({"a": [1, {"b": 2}]}), &json!({"a": [1, {"b": 2}]})).is_empty());
    }

    #[test]
    fn members_are_added_removed_and_replaced_in_key_order() {
        assert_eq!(
            ops(
                json!({"a": 1, "b": 2, "c": {"d": 1}}),
                json!({"b": 3, "c": {"d": 1, "e": null}, "z": true})
            ),
            json!([
                {"op": "remove", "path": "/a"},
                {"op": "replace", "path": "/b", "value": 3},
                {"op": "add", "path": "/c/e", "value": null},
                {"op": "add", "path": "/z", "value": true},
            ])
        );
    }

    #[test]
    fn keys_with_slash_and_tilde_are_escaped() {
        assert_eq!(
            ops(
                json!({"a/b": 1, "m~n": {"~/": 1}}),
                json!({"a/b": 2, "m~n": {"~/": 2}})
            ),
            json!([
                {"op": "replace", "path": "/a~1b", "value": 2},
                {"op": "replace", "path": "/m~0n/~0~1", "value": 2},
            ])
        );
    }

    #[test]
    fn arrays_are_diffed_by_index_and_shrink_from_the_end() {
        assert_eq!(
            ops(json!([1, 2, 3, 4]), json!([1, 9])),
            json!([
                {"op": "replace", "path": "/1", "value": 9},
                {"op": "remove", "path": "/3"},
                {"op": "remove", "path": "/2"},
            ])
        );
        assert_eq!(
            ops(json!({"t": [{"a": 1}]}), json!({"t": [{"a": 2}, "x"]})),
            json!([
                {"op": "replace", "path": "/t/0/a", "value": 2},
                {"op": "add", "path": "/t/1", "value": "x"},
            ])
        );
    }

    #[test]
    fn type_changes_and_the_root_are_replaced() {
        assert_eq!(
            ops(json!({"a": [1]}), json!({"a": {"0": 1}})),
            json!([{"op": "replace", "path": "/a", "value": {"0": 1}}])
        );
        assert_eq!(
            ops(json!(1), json!("one")),
            json!([{"op": "replace", "path": "", "value": "one"}])
        );
    }
}
