//! Property tests over the server's parsers of untrusted input (request headers and bodies):
//! no input panics, and what a client writes is read as written. See "Fuzzing" in
//! `docs/reliability.md`. Parsers in private modules keep theirs next to them
//! (`conflicts/fuzz.rs`, `routes/batch/fuzz.rs`, the `properties` tests of `etag.rs` and
//! `api_version/timestamp.rs`).

mod headers;

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value};

use crate::merge_patch;
use crate::routes::items::canonical_json;
use crate::routes::request::parse_json;

/// The proptest configuration for a fuzz test: `cases` per run unless `PROPTEST_CASES` asks
/// for another number, and no persistence file written into the source tree (a failure found
/// is kept as a named unit test instead).
pub(crate) fn config(cases: u32) -> Config {
    let default = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            default.cases
        } else {
            cases
        },
        failure_persistence: None,
        ..default
    }
}

/// Arbitrary JSON: every type, any text, any `f64`, integers at the edges of `u64`/`i64`.
pub(crate) fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            proptest::collection::btree_map(".{0,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The merge patch that turns `from` into `to`: members gone become `null`, changed objects
/// recurse, anything else is replaced whole.
fn merge_diff(from: &Value, to: &Value) -> Value {
    let (Value::Object(f), Value::Object(t)) = (from, to) else {
        return to.clone();
    };
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
                patch.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(patch)
}

/// Whether a merge patch can produce `value`: RFC 7396 cannot write a `null` member.
fn expressible(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.values().all(|v| !v.is_null() && expressible(v)),
        _ => true,
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn request_bodies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse_json(&bytes, "/items/1");
    }

    #[test]
    fn a_stored_document_is_the_document_sent(doc in json()) {
        let sent = serde_json::to_vec(&doc).unwrap();
        let stored = canonical_json(&parse_json(&sent, "/items/1").expect("valid JSON"));
        prop_assert_eq!(parse_json(&stored, "/items/1").ok(), Some(doc));
    }

    #[test]
    fn merge_patches_never_panic_and_are_idempotent(target in json(), patch in json()) {
        let once = merge_patch::apply(target, &patch);
        prop_assert_eq!(merge_patch::apply(once.clone(), &patch), once);
    }

    #[test]
    fn the_merge_diff_applies_to_the_target(from in json(), to in json()) {
        prop_assume!(expressible(&to));
        let patch = merge_diff(&from, &to);
        prop_assert_eq!(merge_patch::apply(from, &patch), to);
    }
}

/// Found by fuzzing: without `serde_json`'s `float_roundtrip` feature, a PUT of
/// `-908102.3388671875` was stored as `-908102.3388671876` (a number one ULP away).
#[test]
fn floats_are_stored_exactly() {
    for text in [
        "-908102.3388671875",
        "1.8899222644776688e244",
        "6.0646244737065945e-193",
    ] {
        let stored = canonical_json(&parse_json(text.as_bytes(), "/items/1").unwrap());
        let stored: f64 = String::from_utf8(stored).unwrap().parse().unwrap();
        assert_eq!(stored, text.parse::<f64>().unwrap(), "{text}");
    }
}
