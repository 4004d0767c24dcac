//! Property tests over the SDK's parsers of untrusted input (server bodies and headers): no
//! input panics, and what the SDK writes, it reads back. See "Fuzzing" in `docs/reliability.md`.
//!
//! Parsers in private modules keep their property tests next to them (`retry/hint/fuzz.rs`,
//! `versions/deprecation/fuzz.rs`, `sse/tests.rs`); the public merge functions are fuzzed from
//! `tests/fuzz_merge.rs`.

mod bodies;
mod merge_patch;

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value;

/// The proptest configuration for a fuzz test: `cases` per run unless `PROPTEST_CASES` asks
/// for more (or fewer), and no persistence file written into the source tree: a failure found
/// is kept as a named unit test instead.
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

/// Arbitrary JSON values: every type, any text, any `f64`, integers at the edges of
/// `u64`/`i64`. (Floats survive a write and a read because native builds enable `serde_json`'s
/// `float_roundtrip`; see "Fuzzing" in `docs/reliability.md`.)
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

/// A JSON object whose members are named from `keys` (the names a parser looks for, and some
/// it does not) with arbitrary values: the shapes a server of another kind may answer with.
pub(crate) fn object_with(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(proptest::sample::select(keys), json(), 0..keys.len() + 1)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

/// Arbitrary bytes, half of the time the encoding of an arbitrary JSON value.
pub(crate) fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        json().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
    ]
}
