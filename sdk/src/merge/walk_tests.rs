//! The merge-walk of ordered maps against the sort-and-look-up merge it replaced: same
//! results, same conflicts, and the resolver asked the same questions in the same order.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::{keys_ascend, pointer, three_way_with, Merger, Resolution};

/// One resolver question: the path and the three values it was shown.
type Asked = (String, Option<Value>, Option<Value>, Option<Value>);

/// The merge as it was before the walk (keys of all three maps sorted, each looked up).
fn reference(
    path: &mut String,
    asked: &mut Vec<Asked>,
    conflicts: &mut Vec<String>,
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
    if let (Some(Value::Object(m)), Some(Value::Object(t))) = (mine, theirs) {
        let empty = Map::new();
        let b = match base {
            Some(Value::Object(b)) => b,
            _ => &empty,
        };
        let mut keys: Vec<&String> = b.keys().chain(m.keys()).chain(t.keys()).collect();
        keys.sort();
        keys.dedup();
        let mut out = Map::new();
        for key in keys {
            let len = pointer::push(path, key);
            if let Some(v) = reference(path, asked, conflicts, b.get(key), m.get(key), t.get(key)) {
                out.insert(key.clone(), v);
            }
            pointer::pop(path, len);
        }
        return Some(Value::Object(out));
    }
    asked.push((path.clone(), base.cloned(), mine.cloned(), theirs.cloned()));
    match answer(mine, theirs) {
        Resolution::Mine => mine.cloned(),
        Resolution::Theirs => theirs.cloned(),
        Resolution::Base => base.cloned(),
        Resolution::Use(value) => Some(value),
        Resolution::Fail => {
            conflicts.push(path.clone());
            theirs.cloned()
        }
    }
}

/// A resolver with every kind of answer, chosen by the values, so both runs answer alike.
fn answer(mine: Option<&Value>, theirs: Option<&Value>) -> Resolution {
    match (mine, theirs) {
        (Some(Value::Number(_)), _) => Resolution::Theirs,
        (None, _) => Resolution::Base,
        (_, Some(Value::Bool(_))) => Resolution::Use(Value::from("used")),
        (_, None) => Resolution::Fail,
        _ => Resolution::Mine,
    }
}

fn doc() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-2i64..2).prop_map(Value::from),
        "[xy]{0,2}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        proptest::collection::btree_map("[a-f~/]{1,2}", inner, 0..6)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    })
}

proptest! {
    #[test]
    fn walk_matches_the_sorting_merge(base in doc(), mine in doc(), theirs in doc()) {
        let mut walked = Vec::new();
        let got = three_way_with(&base, &mine, &theirs, |path, b, m, t| {
            walked.push((path.to_owned(), b.cloned(), m.cloned(), t.cloned()));
            answer(m, t)
        });
        let (mut asked, mut conflicts) = (Vec::new(), Vec::new());
        let root = (Some(&base), Some(&mine), Some(&theirs));
        let want = reference(&mut String::new(), &mut asked, &mut conflicts, root.0, root.1, root.2);
        prop_assert_eq!(&walked, &asked);
        if conflicts.is_empty() {
            prop_assert_eq!(got, Ok(want.unwrap_or(Value::Null)));
        } else {
            prop_assert_eq!(got, Err(conflicts));
        }
    }

    #[test]
    fn walk_and_sorting_paths_agree_on_flat_maps(
        b in proptest::collection::btree_map("[a-h]", -2i64..2, 0..8),
        m in proptest::collection::btree_map("[a-h]", -2i64..2, 0..8),
        t in proptest::collection::btree_map("[a-h]", -2i64..2, 0..8),
    ) {
        let to_map = |m: std::collections::BTreeMap<String, i64>| -> Map<String, Value> {
            m.into_iter().map(|(k, v)| (k, Value::from(v))).collect()
        };
        let (b, m, t) = (to_map(b), to_map(m), to_map(t));
        let run = |sorting: bool| {
            let mut asked = Vec::new();
            let mut resolve = |p: &str, _: Option<&Value>, _: Option<&Value>, _: Option<&Value>| {
                asked.push(p.to_owned());
                if asked.len() % 2 == 0 { Resolution::Fail } else { Resolution::Mine }
            };
            let mut merger = Merger { path: String::new(), conflicts: Vec::new(), resolve: &mut resolve };
            let out = if sorting {
                merger.merge_objects_sorting(&b, &m, &t)
            } else {
                merger.merge_objects(&b, &m, &t)
            };
            let conflicts = merger.conflicts;
            (out, conflicts, asked)
        };
        prop_assert_eq!(run(false), run(true));
    }
}

#[test]
fn keys_ascend_holds_for_btree_maps_and_empty_ones() {
    assert!(keys_ascend(&Map::new()));
    let map: Map<String, Value> = [("b", 1), ("a", 2), ("c", 3)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::from(v)))
        .collect();
    assert!(keys_ascend(&map));
}
