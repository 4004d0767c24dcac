//! Property tests: entity-tag parsing, the three-way merge laws, and JSON Patch diffs.

use ifmatch::{merge::three_way, EntityTag};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Opaque parts: any etagc characters (visible ASCII except `"`, plus non-ASCII).
fn opaque() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('!'),
            (0x23u8..=0x7e).prop_map(char::from),
            Just('é'),
            Just('✓')
        ],
        0..12,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-100i64..100).prop_map(Value::from),
        "[a-z]{0,4}".prop_map(Value::from),
        proptest::collection::vec((-3i64..3).prop_map(Value::from), 0..3).prop_map(Value::from),
    ]
}

fn json_doc() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        proptest::collection::btree_map("[a-d]", inner, 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    })
}

/// A base object and two edits that touch disjoint top-level keys.
fn disjoint_edits() -> impl Strategy<Value = (Value, Value, Value)> {
    (
        proptest::collection::btree_map("[a-h]", json_doc(), 0..8),
        proptest::collection::btree_map("[a-h]", proptest::option::of(json_doc()), 0..8),
        any::<u8>(),
    )
        .prop_map(|(base, edits, split)| {
            let base: Map<String, Value> = base.into_iter().collect();
            let (mut mine, mut theirs) = (base.clone(), base.clone());
            for (i, (key, edit)) in edits.into_iter().enumerate() {
                // Each edited key goes to exactly one side, so the edits never overlap.
                let side = if (split >> (i % 8)) & 1 == 0 {
                    &mut mine
                } else {
                    &mut theirs
                };
                match edit {
                    Some(value) => side.insert(key, value),
                    None => side.remove(&key),
                };
            }
            (
                Value::Object(base),
                Value::Object(mine),
                Value::Object(theirs),
            )
        })
}

proptest! {
    #[test]
    fn etag_display_then_parse_round_trips(weak in any::<bool>(), opaque in opaque()) {
        let tag = if weak { EntityTag::weak(opaque) } else { EntityTag::strong(opaque) }.unwrap();
        let parsed: EntityTag = tag.to_string().parse().unwrap();
        prop_assert_eq!(&parsed, &tag);
        prop_assert_eq!(parsed.weak_eq(&tag), true);
        prop_assert_eq!(parsed.strong_eq(&tag), !weak);
    }

    #[test]
    fn etag_parser_never_panics(input in ".{0,16}") {
        let _ = input.parse::<EntityTag>();
    }

    #[test]
    fn merging_with_unchanged_theirs_gives_mine(base in json_doc(), mine in json_doc()) {
        prop_assert_eq!(three_way(&base, &mine, &base), Ok(mine));
    }

    #[test]
    fn merging_with_unchanged_mine_gives_theirs(base in json_doc(), theirs in json_doc()) {
        prop_assert_eq!(three_way(&base, &base, &theirs), Ok(theirs));
    }

    #[test]
    fn disjoint_edits_merge_and_commute((base, mine, theirs) in disjoint_edits()) {
        let forward = three_way(&base, &mine, &theirs);
        prop_assert!(forward.is_ok(), "{:?}", forward);
        prop_assert_eq!(forward, three_way(&base, &theirs, &mine));
    }
}

/// Documents with arrays of documents, keys that need escaping (`/`, `~`) and type changes.
fn json_tree() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            proptest::collection::btree_map("[ab/~]{0,2}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn applying_the_diff_gives_the_target(from in json_tree(), to in json_tree()) {
        let patch = ifmatch::merge::diff(&from, &to);
        prop_assert_eq!(ifmatch::merge::apply(&from, &patch), Ok(to.clone()));
        // The RFC 6902 array survives a round trip through JSON.
        let wire = serde_json::to_value(&patch).unwrap();
        let parsed: ifmatch::merge::JsonPatch = serde_json::from_value(wire).unwrap();
        prop_assert_eq!(&parsed, &patch);
        prop_assert_eq!(patch.is_empty(), from == to);
    }
}
