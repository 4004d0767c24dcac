//! JSON three-way merge: combine "mine" and "theirs", both edited from a common "base".
//!
//! Objects merge member by member, recursively. Anything else (numbers, strings, arrays, type
//! changes) is a single value: if only one side changed it, that side wins; if both changed it,
//! that is an overlap at its JSON Pointer: [`three_way`] accepts identical changes and reports
//! the others as conflicts; [`three_way_with`] asks a resolver about every overlap.
//! Arrays are replaced whole, as in JSON Merge Patch (RFC 7396). An absent member is `None`,
//! so a deletion on one side and an untouched member on the other merge to the deletion.
//!
//! ```
//! use ifmatch::merge::{three_way, three_way_with, Resolution};
//! use serde_json::json;
//!
//! let base = json!({"title": "a", "n": 1});
//! let mine = json!({"title": "b", "n": 1});
//! let theirs = json!({"title": "a", "n": 2});
//! assert_eq!(three_way(&base, &mine, &theirs), Ok(json!({"title": "b", "n": 2})));
//!
//! let both = json!({"title": "c", "n": 1});
//! assert_eq!(three_way(&base, &mine, &both), Err(vec!["/title".to_owned()]));
//! let settled = three_way_with(&base, &mine, &both, |_path, _b, _m, _t| Resolution::Theirs);
//! assert_eq!(settled, Ok(json!({"title": "c", "n": 1})));
//! ```
//!
//! [`diff`] computes the JSON Patch (RFC 6902) between two documents (e.g. two versions of a
//! resource, see `Client::diff`), and [`apply`] replays one.

mod diff;
mod patch;
pub(crate) mod pointer;

pub use diff::diff;
pub use patch::{apply, JsonPatch, PatchError, PatchOp};

use std::iter::Peekable;

use serde_json::{Map, Value};

/// How a resolver settles one overlapping edit.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Resolution {
    /// Keep my side (an absent side removes the member).
    Mine,
    /// Keep their side.
    Theirs,
    /// Keep the base value (drop both edits).
    Base,
    /// Write this value.
    Use(Value),
    /// Leave it unresolved; the merge fails listing this path.
    Fail,
}

/// Merges without a resolver: both sides making the same change is fine; any other
/// overlapping edit fails the merge.
///
/// # Errors
/// The JSON Pointers of every overlapping edit, in document order.
pub fn three_way(base: &Value, mine: &Value, theirs: &Value) -> Result<Value, Vec<String>> {
    three_way_with(base, mine, theirs, |_, _, mine, theirs| {
        if mine == theirs {
            Resolution::Mine
        } else {
            Resolution::Fail
        }
    })
}

/// Merges, asking `resolve(path, base, mine, theirs)` about each member both sides changed,
/// including members both changed to the same value (answer [`Resolution::Mine`] to accept it;
/// a counter incremented on both sides needs both increments).
///
/// # Errors
/// The JSON Pointers of the edits the resolver answered [`Resolution::Fail`] for.
pub fn three_way_with<F>(
    base: &Value,
    mine: &Value,
    theirs: &Value,
    mut resolve: F,
) -> Result<Value, Vec<String>>
where
    F: FnMut(&str, Option<&Value>, Option<&Value>, Option<&Value>) -> Resolution,
{
    let mut merger = Merger {
        path: String::new(),
        conflicts: Vec::new(),
        resolve: &mut resolve,
    };
    let merged = merger.merge(Some(base), Some(mine), Some(theirs));
    if merger.conflicts.is_empty() {
        Ok(merged.unwrap_or(Value::Null))
    } else {
        Err(merger.conflicts)
    }
}

type ResolveFn<'r> =
    dyn FnMut(&str, Option<&Value>, Option<&Value>, Option<&Value>) -> Resolution + 'r;

struct Merger<'r> {
    path: String,
    conflicts: Vec<String>,
    resolve: &'r mut ResolveFn<'r>,
}

impl Merger<'_> {
    fn merge(
        &mut self,
        base: Option<&Value>,
        mine: Option<&Value>,
        theirs: Option<&Value>,
    ) -> Option<Value> {
        if theirs == base {
            return mine.cloned();
        }
        if mine == base {
            return theirs.cloned();
        }
        // Both sides changed this member. Equal changes still go to the resolver: a counter
        // incremented on both sides must become +2, not +1.

        if let (Some(Value::Object(m)), Some(Value::Object(t))) = (mine, theirs) {
            // A base that was not an object (or absent) contributes no members.
            let empty = Map::new();
            let b = match base {
                Some(Value::Object(b)) => b,
                _ => &empty,
            };
            return Some(Value::Object(self.merge_objects(b, m, t)));
        }
        match (self.resolve)(&self.path, base, mine, theirs) {
            Resolution::Mine => mine.cloned(),
            Resolution::Theirs => theirs.cloned(),
            Resolution::Base => base.cloned(),
            Resolution::Use(value) => Some(value),
            Resolution::Fail => {
                self.conflicts.push(self.path.clone());
                theirs.cloned()
            }
        }
    }

    /// Merges three objects member by member, in key order.
    ///
    /// serde_json's `Map` iterates in key order (it is a `BTreeMap`), so the members are
    /// gathered by one merge-walk of the three iterators: linear in the members, where sorting
    /// the keys and looking each up three times cost 9-10x a clone of a 1,000-member object
    /// (docs/performance.md). With serde_json's `preserve_order` feature (enabled by any crate
    /// in a build) a map iterates in insertion order; such maps take the sorting path, so
    /// results and the order of reported conflicts are the same either way. The result is built
    /// by inserting (in ascending key order) rather than collecting: `collect` into a `BTreeMap`
    /// sorts first, and that sort's instance cost the npm package's wasm 2.5 KB gzipped.
    fn merge_objects(
        &mut self,
        b: &Map<String, Value>,
        m: &Map<String, Value>,
        t: &Map<String, Value>,
    ) -> Map<String, Value> {
        if !(keys_ascend(b) && keys_ascend(m) && keys_ascend(t)) {
            return self.merge_objects_sorting(b, m, t);
        }
        let (mut bi, mut mi, mut ti) = (
            b.iter().peekable(),
            m.iter().peekable(),
            t.iter().peekable(),
        );
        let mut out = Map::new();
        loop {
            let key = [bi.peek(), mi.peek(), ti.peek()]
                .into_iter()
                .flatten()
                .map(|(k, _)| *k)
                .min();
            let Some(key) = key else { break };
            let (bv, mv, tv) = (take(&mut bi, key), take(&mut mi, key), take(&mut ti, key));
            let len = pointer::push(&mut self.path, key);
            if let Some(value) = self.merge(bv, mv, tv) {
                out.insert(key.clone(), value);
            }
            pointer::pop(&mut self.path, len);
        }
        out
    }

    /// The same merge for maps that do not iterate in key order (`preserve_order`).
    fn merge_objects_sorting(
        &mut self,
        b: &Map<String, Value>,
        m: &Map<String, Value>,
        t: &Map<String, Value>,
    ) -> Map<String, Value> {
        let mut keys: Vec<&String> = b.keys().chain(m.keys()).chain(t.keys()).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut out = Map::new();
        for key in keys {
            let len = pointer::push(&mut self.path, key);
            if let Some(value) = self.merge(b.get(key), m.get(key), t.get(key)) {
                out.insert(key.clone(), value);
            }
            pointer::pop(&mut self.path, len);
        }
        out
    }
}

/// The value of `key` if it is the next member of `members` (which is then passed).
fn take<'v>(members: &mut Peekable<serde_json::map::Iter<'v>>, key: &str) -> Option<&'v Value> {
    members.next_if(|(k, _)| *k == key).map(|(_, v)| v)
}

/// Whether `map` iterates in strictly ascending key order (always, unless serde_json's
/// `preserve_order` feature is on).
fn keys_ascend(map: &Map<String, Value>) -> bool {
    let mut keys = map.keys();
    let Some(mut previous) = keys.next() else {
        return true;
    };
    keys.all(|key| std::mem::replace(&mut previous, key) < key)
}

#[cfg(test)]
mod walk_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn disjoint_member_edits_merge() {
        let base = json!({"a": 1, "b": {"x": 1, "y": 1}});
        let mine = json!({"a": 2, "b": {"x": 1, "y": 1}});
        let theirs = json!({"a": 1, "b": {"x": 1, "y": 5}, "c": true});
        assert_eq!(
            three_way(&base, &mine, &theirs),
            Ok(json!({"a": 2, "b": {"x": 1, "y": 5}, "c": true}))
        );
    }

    #[test]
    fn identical_edits_on_both_sides_are_not_conflicts() {
        let base = json!({"a": 1});
        let both = json!({"a": 9});
        assert_eq!(three_way(&base, &both, &both), Ok(both.clone()));
    }

    #[test]
    fn deletion_on_one_side_wins_over_no_change() {
        let base = json!({"a": 1, "b": 2});
        let mine = json!({"b": 2});
        assert_eq!(three_way(&base, &mine, &base), Ok(json!({"b": 2})));
        assert_eq!(three_way(&base, &base, &mine), Ok(json!({"b": 2})));
    }

    #[test]
    fn delete_versus_edit_is_a_conflict() {
        let base = json!({"a": 1});
        let mine = json!({});
        let theirs = json!({"a": 2});
        assert_eq!(three_way(&base, &mine, &theirs), Err(vec!["/a".to_owned()]));
    }

    #[test]
    fn arrays_are_replaced_whole() {
        let base = json!({"tags": [1, 2]});
        let mine = json!({"tags": [1, 2, 3]});
        let theirs = json!({"tags": [0, 1, 2]});
        assert_eq!(
            three_way(&base, &mine, &theirs),
            Err(vec!["/tags".to_owned()])
        );
    }

    #[test]
    fn all_overlapping_paths_are_listed_with_escaping() {
        let base = json!({"a/b": 1, "n": {"m~": 1}});
        let mine = json!({"a/b": 2, "n": {"m~": 2}});
        let theirs = json!({"a/b": 3, "n": {"m~": 3}});
        assert_eq!(
            three_way(&base, &mine, &theirs),
            Err(vec!["/a~1b".to_owned(), "/n/m~0".to_owned()])
        );
    }

    #[test]
    fn root_scalar_conflict_has_the_empty_pointer() {
        assert_eq!(
            three_way(&json!(1), &json!(2), &json!(3)),
            Err(vec![String::new()])
        );
    }

    #[test]
    fn resolver_sees_the_three_values_and_can_compute_one() {
        // A counter merged as theirs + (mine - base): both increments survive.
        let base = json!({"n": 5});
        let mine = json!({"n": 6});
        let theirs = json!({"n": 7});
        let merged = three_way_with(&base, &mine, &theirs, |path, b, m, t| {
            assert_eq!(path, "/n");
            let n = |v: Option<&Value>| v.and_then(Value::as_i64).unwrap_or(0);
            Resolution::Use(json!(n(t) + n(m) - n(b)))
        });
        assert_eq!(merged, Ok(json!({"n": 8})));
    }

    #[test]
    fn resolver_is_asked_about_identical_edits_too() {
        let (b, both) = (json!({"n": 1}), json!({"n": 2}));
        let merged = three_way_with(&b, &both, &both, |_, b, m, t| {
            let n = |v: Option<&Value>| v.and_then(Value::as_i64).unwrap_or(0);
            Resolution::Use(json!(n(t) + n(m) - n(b)))
        });
        assert_eq!(merged, Ok(json!({"n": 3})));
    }

    #[test]
    fn resolver_choices_mine_theirs_base() {
        let (b, m, t) = (json!({"v": 0}), json!({"v": 1}), json!({"v": 2}));
        let run = |r: Resolution| three_way_with(&b, &m, &t, move |_, _, _, _| r.clone());
        assert_eq!(run(Resolution::Mine), Ok(json!({"v": 1})));
        assert_eq!(run(Resolution::Theirs), Ok(json!({"v": 2})));
        assert_eq!(run(Resolution::Base), Ok(json!({"v": 0})));
    }
}
