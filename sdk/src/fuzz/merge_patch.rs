//! JSON Merge Patch (RFC 7396), as the SDK applies it to judge whether a PATCH landed.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::{config, json};
use crate::outcome::apply_merge_patch;

/// The merge patch that turns `from` into `to` (RFC 7396 §2 read backwards): members gone
/// become `null`, changed objects recurse, anything else is replaced whole.
pub(crate) fn merge_diff(from: &Value, to: &Value) -> Value {
    match (from, to) {
        (Value::Object(f), Value::Object(t)) => {
            let mut patch = Map::new();
            for key in f.keys().filter(|k| !t.contains_key(*k)) {
                patch.insert(key.clone(), Value::Null);
            }
            for (key, value) in t {
                match f.get(key) {
                    Some(old) if old == value => {}
                    Some(old) => {
                        patch.insert(key.clone(), merge_diff(old, value));
                    }
                    None => {
                        patch.insert(key.clone(), merge_diff(&Value::Null, value));
                    }
                }
            }
            Value::Object(patch)
        }
        // A new object is written member by member onto nothing (no `null`s to remove).
        (_, to) => to.clone(),
    }
}

/// Whether a merge patch can produce `value`: RFC 7396 cannot write a `null` member.
pub(crate) fn expressible(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.values().all(|v| !v.is_null() && expressible(v)),
        _ => true,
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn applying_any_patch_never_panics_and_is_idempotent(target in json(), patch in json()) {
        let once = apply_merge_patch(&target, &patch);
        prop_assert_eq!(apply_merge_patch(&once, &patch), once);
    }

    #[test]
    fn the_merge_diff_applies_to_the_target(from in json(), to in json()) {
        prop_assume!(expressible(&to));
        let patch = merge_diff(&from, &to);
        prop_assert_eq!(apply_merge_patch(&from, &patch), to);
    }
}
