//! Judging state by content: "the body sent was stored" and "nothing changed"
//! mean every member the suite knows about is there with the same value.
//! Members the server adds are allowed; members named by ignored JSON pointers
//! are not compared; arrays are compared whole.

use serde_json::Value;

/// Removes the member at JSON pointer `pointer` from `value`; nothing happens
/// when it is absent. `~1` and `~0` are unescaped as RFC 6901 says.
pub(crate) fn remove_pointer(value: &mut Value, pointer: &str) {
    let Some(rest) = pointer.strip_prefix('/') else {
        return;
    };
    let tokens: Vec<String> = rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let (last, parents) = tokens.split_last().expect("split yields one token");
    let mut at = value;
    for token in parents {
        at = match at {
            Value::Object(map) => match map.get_mut(token) {
                Some(next) => next,
                None => return,
            },
            Value::Array(items) => match token.parse::<usize>().ok().and_then(|i| items.get_mut(i))
            {
                Some(next) => next,
                None => return,
            },
            _ => return,
        };
    }
    match at {
        Value::Object(map) => {
            map.remove(last);
        }
        Value::Array(items) => {
            if let Ok(i) = last.parse::<usize>() {
                if i < items.len() {
                    items.remove(i);
                }
            }
        }
        _ => {}
    }
}

/// `value` without the members at `ignore`.
pub(crate) fn without(value: &Value, ignore: &[String]) -> Value {
    let mut v = value.clone();
    for p in ignore {
        remove_pointer(&mut v, p);
    }
    v
}

/// Every way `stored` fails to hold the members of `expected` (after removing
/// the `ignore` pointers from both), as `"/pointer: …"` lines; empty when
/// `stored` holds them all with the same values.
pub(crate) fn differences(expected: &Value, stored: &Value, ignore: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    walk(
        &without(expected, ignore),
        &without(stored, ignore),
        "",
        &mut out,
    );
    out
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn walk(expected: &Value, stored: &Value, path: &str, out: &mut Vec<String>) {
    match (expected, stored) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, value) in want {
                let at = format!("{path}/{}", escape(key));
                match have.get(key) {
                    Some(found) => walk(value, found, &at, out),
                    None => out.push(format!("{at}: sent {value}, missing")),
                }
            }
        }
        _ if expected == stored => {}
        _ => {
            let at = if path.is_empty() { "the body" } else { path };
            out.push(format!("{at}: expected {expected}, found {stored}"));
        }
    }
}

/// The differences in one sentence (the first three, then how many more).
pub(crate) fn summary(diffs: &[String]) -> String {
    let mut text = diffs.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
    if diffs.len() > 3 {
        text.push_str(&format!("; and {} more", diffs.len() - 3));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_remove_nested_members_and_array_items() {
        let mut v = json!({ "a": { "b": 1, "c": 2 }, "l": [1, 2, 3], "x/y": 1, "t~": 2 });
        remove_pointer(&mut v, "/a/b");
        remove_pointer(&mut v, "/l/1");
        remove_pointer(&mut v, "/x~1y");
        remove_pointer(&mut v, "/t~0");
        remove_pointer(&mut v, "/missing/deep");
        remove_pointer(&mut v, "no-slash");
        assert_eq!(v, json!({ "a": { "c": 2 }, "l": [1, 3] }));
    }

    #[test]
    fn members_the_server_adds_are_allowed() {
        let sent = json!({ "n": 2, "meta": { "k": "v" } });
        let stored = json!({ "n": 2, "id": 7, "meta": { "k": "v", "at": "now" } });
        assert!(differences(&sent, &stored, &[]).is_empty());
    }

    #[test]
    fn changed_and_missing_members_are_named() {
        let sent = json!({ "n": 2, "meta": { "k": "v" }, "gone": true });
        let stored = json!({ "n": 3, "meta": { "k": "w" } });
        let diffs = differences(&sent, &stored, &[]);
        assert_eq!(
            diffs,
            [
                "/gone: sent true, missing",
                "/meta/k: expected \"v\", found \"w\"",
                "/n: expected 2, found 3"
            ]
        );
        assert!(summary(&diffs).starts_with("/gone"));
    }

    #[test]
    fn arrays_are_compared_whole() {
        let diffs = differences(&json!({ "l": [1, 2] }), &json!({ "l": [1, 2, 3] }), &[]);
        assert_eq!(diffs.len(), 1, "{diffs:?}");
        assert!(differences(&json!([1]), &json!([1]), &[]).is_empty());
        assert_eq!(
            differences(&json!([1]), &json!({ "a": 1 }), &[]),
            ["the body: expected [1], found {\"a\":1}"]
        );
    }

    #[test]
    fn ignored_pointers_are_not_compared() {
        let before = json!({ "n": 1, "updated_at": "t1", "meta": { "rv": "5" } });
        let after = json!({ "n": 1, "updated_at": "t2", "meta": { "rv": "6" } });
        assert_eq!(differences(&before, &after, &[]).len(), 2);
        let ignore = ["/updated_at".to_owned(), "/meta/rv".to_owned()];
        assert!(differences(&before, &after, &ignore).is_empty());
    }

    #[test]
    fn summaries_stop_after_three() {
        let d: Vec<String> = (0..5).map(|i| format!("/m{i}: x")).collect();
        assert_eq!(summary(&d), "/m0: x; /m1: x; /m2: x; and 2 more");
    }
}
