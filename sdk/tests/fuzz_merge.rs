//! Fuzzing the merges: the three-way merge laws and JSON Patch (RFC 6902) on random documents,
//! and JSON Patch parsing of arbitrary JSON. See "Fuzzing" in `docs/reliability.md`.
//! (Runs `FUZZ_CASES` cases per property; `PROPTEST_CASES=N` runs N for a longer campaign.)

use ifmatch::merge::{apply, diff, three_way, three_way_with, JsonPatch, Resolution};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value};

const FUZZ_CASES: u32 = 256;

fn config() -> Config {
    let default = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            default.cases
        } else {
            FUZZ_CASES
        },
        failure_persistence: None,
        ..default
    }
}

/// Keys that exercise JSON Pointer escaping and look like array indexes.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-d]",
        Just(String::new()),
        Just("0".to_owned()),
        Just("-".to_owned()),
        Just("a/b".to_owned()),
        Just("~1".to_owned()),
        Just("é".to_owned()),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-3i64..3).prop_map(Value::from),
        any::<i16>().prop_map(|n| Value::from(f64::from(n) / 8.0)),
        "[a-c]{0,2}".prop_map(Value::from),
    ]
}

/// Any document: objects, arrays, scalars, at the root too.
fn doc() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(key(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An edit of `base`: members of objects changed, added or removed at any depth.
fn edit(base: Value) -> impl Strategy<Value = Value> {
    (doc(), any::<u64>()).prop_map(move |(new, seed)| mutate(&base, &new, seed))
}

fn mutate(base: &Value, new: &Value, seed: u64) -> Value {
    match (base, seed % 5) {
        (_, 0) => new.clone(),
        (Value::Object(map), _) => {
            let mut out = map.clone();
            let keys: Vec<String> = map.keys().cloned().collect();
            match (seed / 5) % 3 {
                0 if !keys.is_empty() => {
                    out.remove(&keys[(seed / 15) as usize % keys.len()]);
                }
                1 if !keys.is_empty() => {
                    let k = &keys[(seed / 15) as usize % keys.len()];
                    out.insert(k.clone(), mutate(&map[k], new, seed / 15));
                }
                _ => {
                    out.insert(format!("new{}", seed % 3), new.clone());
                }
            }
            Value::Object(out)
        }
        _ => base.clone(),
    }
}

/// The member at `path` (a JSON Pointer) reached through objects only, as the merge sees it:
/// it merges objects member by member, and an array or scalar on the way contributes no
/// members (`Value::pointer` would index into an array: `/0` of `["b"]` is `"b"`).
fn member(value: &Value, path: &str) -> Option<Value> {
    let mut at = value;
    for token in path.split('/').skip(1) {
        let key = token.replace("~1", "/").replace("~0", "~");
        at = at.as_object()?.get(&key)?;
    }
    Some(at.clone())
}

fn base_and_edits() -> impl Strategy<Value = (Value, Value, Value)> {
    doc().prop_flat_map(|base| (Just(base.clone()), edit(base.clone()), edit(base)))
}

/// Applies the disjoint edits `(key, Some(value) | None)` to the object `base`.
fn edited(base: &Map<String, Value>, edits: &[(String, Option<Value>)]) -> Value {
    let mut out = base.clone();
    for (key, value) in edits {
        match value {
            Some(value) => out.insert(key.clone(), value.clone()),
            None => out.remove(key),
        };
    }
    Value::Object(out)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn only_theirs_changed_gives_theirs((base, _, theirs) in base_and_edits()) {
        prop_assert_eq!(three_way(&base, &base, &theirs), Ok(theirs));
    }

    #[test]
    fn only_mine_changed_gives_mine((base, mine, _) in base_and_edits()) {
        prop_assert_eq!(three_way(&base, &mine, &base), Ok(mine));
    }

    #[test]
    fn the_same_change_on_both_sides_is_that_change((base, x, _) in base_and_edits()) {
        prop_assert_eq!(three_way(&base, &x, &x), Ok(x));
    }

    #[test]
    fn unrelated_documents_merge_by_the_laws(base in doc(), x in doc()) {
        prop_assert_eq!(three_way(&base, &base, &x), Ok(x.clone()));
        prop_assert_eq!(three_way(&base, &x, &base), Ok(x.clone()));
        prop_assert_eq!(three_way(&base, &x, &x), Ok(x));
    }

    #[test]
    fn the_merge_is_symmetric((base, mine, theirs) in base_and_edits()) {
        prop_assert_eq!(three_way(&base, &mine, &theirs), three_way(&base, &theirs, &mine));
    }

    #[test]
    fn a_clean_merge_keeps_every_change_and_conflicts_name_changed_paths(
        (base, mine, theirs) in base_and_edits(),
    ) {
        match three_way(&base, &mine, &theirs) {
            Ok(merged) => {
                // Every member either side changed has that side's value in the result.
                for (side, other) in [(&mine, &theirs), (&theirs, &mine)] {
                    for op in diff(&base, side) {
                        let path = op.path();
                        let from_side = side.pointer(path);
                        if other.pointer(path) == base.pointer(path) {
                            prop_assert_eq!(merged.pointer(path), from_side, "{}", path);
                        }
                    }
                }
            }
            Err(paths) => {
                prop_assert!(!paths.is_empty());
                for path in paths {
                    // Both sides changed it, to different values.
                    prop_assert_ne!(mine.pointer(&path), base.pointer(&path), "{}", path);
                    prop_assert_ne!(theirs.pointer(&path), base.pointer(&path), "{}", path);
                    prop_assert_ne!(mine.pointer(&path), theirs.pointer(&path), "{}", path);
                }
            }
        }
    }

    #[test]
    fn disjoint_member_edits_are_both_kept(
        base in proptest::collection::btree_map(key(), doc(), 0..6),
        edits in proptest::collection::btree_map(key(), proptest::option::of(doc()), 0..6),
        split in any::<u8>(),
    ) {
        let base: Map<String, Value> = base.into_iter().collect();
        let (mut mine_edits, mut theirs_edits) = (Vec::new(), Vec::new());
        for (i, edit) in edits.into_iter().enumerate() {
            if (split >> (i % 8)) & 1 == 0 { mine_edits.push(edit) } else { theirs_edits.push(edit) }
        }
        let mine = edited(&base, &mine_edits);
        let theirs = edited(&base, &theirs_edits);
        let both: Vec<_> = mine_edits.iter().chain(&theirs_edits).cloned().collect();
        prop_assert_eq!(three_way(&Value::Object(base.clone()), &mine, &theirs), Ok(edited(&base, &both)));
    }

    #[test]
    fn a_resolver_is_asked_only_about_real_overlaps((base, mine, theirs) in base_and_edits()) {
        let mut asked = Vec::new();
        let merged = three_way_with(&base, &mine, &theirs, |path, b, m, t| {
            asked.push((path.to_owned(), b.cloned(), m.cloned(), t.cloned()));
            Resolution::Theirs
        });
        prop_assert!(merged.is_ok());
        for (path, b, m, t) in asked {
            prop_assert_eq!(&b, &member(&base, &path));
            prop_assert_eq!(&m, &member(&mine, &path));
            prop_assert_eq!(&t, &member(&theirs, &path));
            prop_assert!(m != b && t != b, "{}", path);
        }
    }

    #[test]
    fn applying_the_diff_gives_the_target(from in doc(), to in doc()) {
        let patch = diff(&from, &to);
        prop_assert_eq!(apply(&from, &patch), Ok(to.clone()));
        let wire = serde_json::to_string(&patch).unwrap();
        prop_assert_eq!(serde_json::from_str::<JsonPatch>(&wire).ok(), Some(patch));
    }

    #[test]
    fn arbitrary_patches_never_panic(
        target in doc(),
        ops in proptest::collection::vec(
            (
                prop_oneof![Just("add"), Just("remove"), Just("replace"), Just("move"), Just("test"), Just("")],
                "(/([a-d0-9~-]|~0|~1|~2|a/b){0,2}){0,3}|[a-z]{1,3}",
                proptest::option::of(doc()),
            ),
            0..5,
        ),
    ) {
        let wire: Vec<Value> = ops
            .into_iter()
            .map(|(op, path, value)| {
                let mut m = Map::new();
                m.insert("op".into(), op.into());
                m.insert("path".into(), path.into());
                if let Some(value) = value { m.insert("value".into(), value); }
                Value::Object(m)
            })
            .collect();
        if let Ok(patch) = serde_json::from_value::<JsonPatch>(Value::from(wire)) {
            let _ = apply(&target, &patch);
        }
    }

    #[test]
    fn arbitrary_json_is_never_a_panicking_patch(value in doc()) {
        let _ = serde_json::from_value::<JsonPatch>(value);
    }
}

/// Found by `a_resolver_is_asked_only_about_real_overlaps`: an array replaced on both sides by
/// the same object. The merge asks about member `/0` with no base (the array has no members),
/// not with the array's first element.
#[test]
fn a_base_array_replaced_by_objects_on_both_sides_has_no_base_members() {
    let (base, mine) = (serde_json::json!(["b"]), serde_json::json!({"0": null}));
    let mut asked = Vec::new();
    let merged = three_way_with(&base, &mine, &mine, |path, b, m, t| {
        asked.push((path.to_owned(), b.cloned(), m.cloned(), t.cloned()));
        Resolution::Theirs
    });
    assert_eq!(merged, Ok(mine.clone()));
    assert_eq!(
        asked,
        [("/0".to_owned(), None, Some(Value::Null), Some(Value::Null))]
    );
    assert_eq!(member(&base, "/0"), None);
}
