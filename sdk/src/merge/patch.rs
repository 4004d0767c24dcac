//! JSON Patch (RFC 6902) documents: the `add`, `remove` and `replace` operations [`super::diff`]
//! produces, and [`apply`] to replay them.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::pointer;

/// One RFC 6902 operation. `path` is a JSON Pointer (RFC 6901) with `~` written `~0` and `/`
/// written `~1`; the empty path is the whole document.
///
/// Serializes as the RFC's object, e.g. `{"op":"replace","path":"/title","value":"b"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
#[non_exhaustive]
pub enum PatchOp {
    /// Adds a member, or inserts into an array at an index (`-` appends).
    Add {
        /// Where.
        path: String,
        /// The value added.
        value: Value,
    },
    /// Removes a member or an array element.
    Remove {
        /// What.
        path: String,
    },
    /// Replaces an existing value.
    Replace {
        /// Where.
        path: String,
        /// The new value.
        value: Value,
    },
}

impl PatchOp {
    /// The operation's JSON Pointer.
    pub fn path(&self) -> &str {
        match self {
            Self::Add { path, .. } | Self::Remove { path } | Self::Replace { path, .. } => path,
        }
    }
}

/// A JSON Patch document (RFC 6902): operations applied in order. Serializes as the RFC's
/// array (`application/json-patch+json`).
///
/// ```
/// use ifmatch::merge::{apply, diff};
/// use serde_json::json;
///
/// let from = json!({"title": "a", "tags": ["x"], "a/b": 1});
/// let to = json!({"title": "b", "tags": ["x", "y"]});
/// let patch = diff(&from, &to);
/// assert_eq!(
///     serde_json::to_value(&patch)?,
///     json!([
///         {"op": "remove", "path": "/a~1b"},
///         {"op": "add", "path": "/tags/1", "value": "y"},
///         {"op": "replace", "path": "/title", "value": "b"},
///     ])
/// );
/// assert_eq!(apply(&from, &patch)?, to);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JsonPatch(pub Vec<PatchOp>);

impl JsonPatch {
    /// The operations, in order.
    pub fn ops(&self) -> &[PatchOp] {
        &self.0
    }

    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many operations it has.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl IntoIterator for JsonPatch {
    type Item = PatchOp;
    type IntoIter = std::vec::IntoIter<PatchOp>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Why a patch could not be applied: which operation, and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PatchError {
    /// The failed operation's index, from 0.
    pub operation: usize,
    /// Its path.
    pub path: String,
    /// What was wrong (a missing member, an index out of range, a malformed pointer).
    pub reason: String,
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "JSON Patch operation {} at {:?} cannot be applied: {}",
            self.operation, self.path, self.reason
        )
    }
}

impl std::error::Error for PatchError {}

/// Applies `patch` to a copy of `doc` (RFC 6902 §4: `add`, `remove`, `replace`), all or nothing.
///
/// # Errors
/// [`PatchError`] for the first operation whose path does not exist (or, for `add`, whose
/// parent does not), an array index out of range, or a malformed pointer.
pub fn apply(doc: &Value, patch: &JsonPatch) -> Result<Value, PatchError> {
    let mut out = doc.clone();
    for (operation, op) in patch.0.iter().enumerate() {
        apply_one(&mut out, op).map_err(|reason| PatchError {
            operation,
            path: op.path().to_owned(),
            reason,
        })?;
    }
    Ok(out)
}

fn apply_one(doc: &mut Value, op: &PatchOp) -> Result<(), String> {
    let mut tokens = pointer::tokens(op.path())?;
    let Some(last) = tokens.pop() else {
        // The whole document.
        match op {
            PatchOp::Add { value, .. } | PatchOp::Replace { value, .. } => *doc = value.clone(),
            PatchOp::Remove { .. } => *doc = Value::Null,
        }
        return Ok(());
    };
    let parent = tokens.iter().try_fold(doc, |node, token| match node {
        Value::Object(members) => members
            .get_mut(token)
            .ok_or_else(|| format!("no member {token:?}")),
        Value::Array(items) => pointer::index(token)
            .and_then(|i| items.get_mut(i))
            .ok_or_else(|| format!("no element {token:?}")),
        _ => Err(format!("{token:?} is inside a scalar")),
    })?;
    match (parent, op) {
        (Value::Object(members), PatchOp::Add { value, .. }) => {
            members.insert(last, value.clone());
        }
        (Value::Object(members), PatchOp::Replace { value, .. }) => {
            let slot = members
                .get_mut(&last)
                .ok_or_else(|| format!("no member {last:?} to replace"))?;
            *slot = value.clone();
        }
        (Value::Object(members), PatchOp::Remove { .. }) => {
            members
                .remove(&last)
                .ok_or_else(|| format!("no member {last:?} to remove"))?;
        }
        (Value::Array(items), PatchOp::Add { value, .. }) => {
            let at = if last == "-" {
                items.len()
            } else {
                pointer::index(&last)
                    .filter(|&i| i <= items.len())
                    .ok_or_else(|| format!("index {last:?} is out of range 0..={}", items.len()))?
            };
            items.insert(at, value.clone());
        }
        (Value::Array(items), op) => {
            let at = pointer::index(&last)
                .filter(|&i| i < items.len())
                .ok_or_else(|| format!("index {last:?} is out of range 0..{}", items.len()))?;
            match op {
                PatchOp::Replace { value, .. } => items[at] = value.clone(),
                _ => {
                    items.remove(at);
                }
            }
        }
        _ => return Err(format!("the parent of {last:?} is a scalar")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(ops: Value) -> JsonPatch {
        serde_json::from_value(ops).unwrap()
    }

    #[test]
    fn serializes_as_the_rfc_array() {
        let p = JsonPatch(vec![
            PatchOp::Add {
                path: "/a".into(),
                value: json!(1),
            },
            PatchOp::Remove { path: "/b".into() },
        ]);
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!([{"op": "add", "path": "/a", "value": 1}, {"op": "remove", "path": "/b"}])
        );
        assert_eq!(patch(serde_json::to_value(&p).unwrap()), p);
    }

    #[test]
    fn the_rfc_examples_apply() {
        // RFC 6902 appendix A.1, A.2, A.3, A.5.
        let doc = json!({"foo": "bar", "baz": "qux", "arr": ["bar", "baz"]});
        let p = patch(json!([
            {"op": "add", "path": "/x", "value": "y"},
            {"op": "add", "path": "/arr/1", "value": "qux"},
            {"op": "remove", "path": "/baz"},
            {"op": "replace", "path": "/foo", "value": "boo"},
            {"op": "add", "path": "/arr/-", "value": "end"},
        ]));
        assert_eq!(
            apply(&doc, &p).unwrap(),
            json!({"foo": "boo", "x": "y", "arr": ["bar", "qux", "baz", "end"]})
        );
    }

    #[test]
    fn escaped_pointers_reach_members_with_slash_and_tilde() {
        let doc = json!({"a/b": {"m~n": 1}});
        let p = patch(json!([{"op": "replace", "path": "/a~1b/m~0n", "value": 2}]));
        assert_eq!(apply(&doc, &p).unwrap(), json!({"a/b": {"m~n": 2}}));
    }

    #[test]
    fn failures_name_the_operation_and_leave_the_input_alone() {
        let doc = json!({"a": [1]});
        let bad = [
            (json!([{"op": "remove", "path": "/b"}]), "no member"),
            (
                json!([{"op": "replace", "path": "/a/1", "value": 0}]),
                "out of range",
            ),
            (
                json!([{"op": "add", "path": "/a/3", "value": 0}]),
                "out of range",
            ),
            (
                json!([{"op": "add", "path": "/a/01", "value": 0}]),
                "out of range",
            ),
            (
                json!([{"op": "add", "path": "/x/y", "value": 0}]),
                "no member",
            ),
            (
                json!([{"op": "add", "path": "a", "value": 0}]),
                "start with",
            ),
        ];
        for (ops, why) in bad {
            let err = apply(&doc, &patch(ops)).unwrap_err();
            assert_eq!(err.operation, 0);
            assert!(err.to_string().contains(why), "{err}");
        }
        let second = patch(json!([
            {"op": "add", "path": "/b", "value": 1},
            {"op": "remove", "path": "/zzz"},
        ]));
        assert_eq!(apply(&doc, &second).unwrap_err().operation, 1);
    }

    #[test]
    fn the_empty_path_replaces_the_document() {
        let p = patch(json!([{"op": "replace", "path": "", "value": [1]}]));
        assert_eq!(apply(&json!({"a": 1}), &p).unwrap(), json!([1]));
    }
}
