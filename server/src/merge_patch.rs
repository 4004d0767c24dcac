//! JSON Merge Patch (RFC 7396), free of I/O.

use serde_json::{Map, Value};

/// Applies `patch` to `target` as RFC 7396 §2 describes: an object patch merges member by
/// member (a `null` member removes), anything else replaces the target whole.
pub(crate) fn apply(target: Value, patch: &Value) -> Value {
    let Value::Object(patch_members) = patch else {
        return patch.clone();
    };
    let mut members = match target {
        Value::Object(members) => members,
        _ => Map::new(),
    };
    for (name, patch_value) in patch_members {
        if patch_value.is_null() {
            members.remove(name);
        } else {
            let current = members.remove(name).unwrap_or(Value::Null);
            members.insert(name.clone(), apply(current, patch_value));
        }
    }
    Value::Object(members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The test cases of RFC 7396 Appendix A.
    #[test]
    fn rfc_7396_appendix_a_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (target, patch, expected) in cases {
            assert_eq!(
                apply(target.clone(), &patch),
                expected,
                "{target} + {patch}"
            );
        }
    }
}
