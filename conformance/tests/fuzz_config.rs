//! Fuzzing the suite's parsers of what it reads: its configuration file (TOML with `${NAME}`
//! substitution), `--header` arguments, and the server's `Retry-After`, `RateLimit` and
//! `ETag` fields. No input panics; what a server writes is read back. See "Fuzzing" in
//! `docs/reliability.md` (`PROPTEST_CASES=N` runs N cases per property instead of 64).

use std::time::Duration;

use ifmatch_conformance::cli::config;
use ifmatch_conformance::etag;
use ifmatch_conformance::http::parse_header_arg;
use ifmatch_conformance::rate_limit::{parse_fields, parse_retry_after, FieldItem};
use proptest::prelude::*;
use proptest::test_runner::Config;

fn fuzz_config(cases: u32) -> Config {
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

const KEYS: &[&str] = &[
    "base-url",
    "collection",
    "profile",
    "mismatch-status",
    "header",
    "rule",
    "format",
    "output",
    "dry-run",
    "max-retry-wait",
    "lock-path",
    "api-prefixes",
    "token",
    "sse-wait",
    "repeat",
    "wait-for",
    "fail-on-skipped",
    "create",
    "create-url",
    "location",
    "version-read",
    "version-send",
    "stale-status",
    "fixture",
    "ignore",
    "patch",
    "malformed-status",
    "missing-id",
    "error-format",
    "unknown-key",
];
const TABLES: &[&str] = &["create", "version", "body", "errors", "other"];

/// A TOML value of any type, strings with `${NAME}` references and `$${` escapes.
fn toml_value() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        "[a-z0-9/:.${}-]{0,12}".prop_map(|s| format!("{s:?}")),
        Just("\"${TOKEN}\"".to_owned()),
        Just("\"$${literal}\"".to_owned()),
        Just("\"${MISSING}\"".to_owned()),
        Just("\"${\"".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("1.5".to_owned()),
        Just("1979-05-27T07:32:00Z".to_owned()),
    ];
    scalar.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3)
                .prop_map(|v| format!("[{}]", v.join(", "))),
            proptest::collection::vec(("[a-z-]{1,8}", inner), 0..3).prop_map(|v| {
                let members: Vec<String> =
                    v.into_iter().map(|(k, v)| format!("{k:?} = {v}")).collect();
                format!("{{ {} }}", members.join(", "))
            }),
        ]
    })
}

/// A configuration file: top-level keys, then tables with keys of their own.
fn config_file() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec((proptest::sample::select(KEYS), toml_value()), 0..6),
        proptest::collection::vec(
            (
                proptest::sample::select(TABLES),
                proptest::collection::vec(("[a-z-]{1,10}", toml_value()), 0..4),
            ),
            0..3,
        ),
    )
        .prop_map(|(top, tables)| {
            let mut text = String::new();
            for (key, value) in top {
                text += &format!("{key} = {value}\n");
            }
            for (table, members) in tables {
                text += &format!("[{table}]\n");
                for (key, value) in members {
                    text += &format!("{key} = {value}\n");
                }
            }
            text
        })
}

fn load(text: &str) -> Result<config::FileConfig, String> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("ifmatch-conformance.toml");
    std::fs::write(&path, text).expect("the file is written");
    let env = |name: &str| (name == "TOKEN").then(|| "s3cret".to_owned());
    let loaded = config::load(&path, env);
    if let Err(message) = &loaded {
        assert!(
            message.contains("ifmatch-conformance.toml"),
            "names the file: {message}"
        );
    }
    loaded
}

/// A `RateLimit` item as a server writes it: a token or quoted name, integer parameters
/// (RFC 9651 integers have at most 15 digits).
fn field_item() -> impl Strategy<Value = FieldItem> {
    (
        "[a-z*][a-z0-9_.*-]{0,8}|[ a-z]{0,6}",
        proptest::collection::vec(
            (
                "[a-z][a-z0-9_-]{0,3}",
                -999_999_999_999_999i64..=999_999_999_999_999,
            ),
            0..4,
        ),
    )
        .prop_map(|(name, params)| FieldItem { name, params })
}

fn write_item(item: &FieldItem, quote: bool) -> String {
    let mut text = if quote || item.name.contains(' ') || item.name.is_empty() {
        format!("\"{}\"", item.name)
    } else {
        item.name.clone()
    };
    for (key, value) in &item.params {
        text += &format!(";{key}={value}");
    }
    text
}

proptest! {
    #![proptest_config(fuzz_config(64))]

    #[test]
    fn any_text_as_a_configuration_file_is_survived(text in "[a-z\\[\\]=\"${}.,0-9 \n-]{0,80}|.{0,40}") {
        let _ = load(&text);
    }

    #[test]
    fn generated_configuration_files_are_loaded_or_refused_with_a_message(text in config_file()) {
        let _ = load(&text);
    }

    #[test]
    fn header_arguments_are_split_or_refused(arg in ".{0,24}", name in "[A-Za-z0-9-]{1,12}", value in "[ -~]{0,16}") {
        let _ = parse_header_arg(&arg);
        let parsed = parse_header_arg(&format!("{name}: {value}"));
        prop_assert_eq!(parsed, Ok((name, value.trim().to_owned())));
    }

    #[test]
    fn server_fields_never_panic(raw in ".{0,32}", listy in "[a-z0-9\"=;, *.-]{0,32}") {
        for text in [&raw, &listy] {
            let _ = parse_retry_after(text);
            let _ = parse_fields(text);
            let _ = etag::parse(text);
        }
    }

    #[test]
    fn ratelimit_fields_round_trip(items in proptest::collection::vec(field_item(), 1..4), quote in any::<bool>()) {
        let text = items.iter().map(|i| write_item(i, quote)).collect::<Vec<_>>().join(", ");
        prop_assert_eq!(parse_fields(&text), Some(items), "{}", text);
    }

    #[test]
    fn retry_after_seconds_round_trip_and_absurd_ones_saturate(n in any::<u64>(), digits in "[1-9][0-9]{20,30}") {
        prop_assert_eq!(parse_retry_after(&format!(" {n} ")), Some(Duration::from_secs(n)));
        prop_assert_eq!(parse_retry_after(&digits), Some(Duration::from_secs(u64::MAX)));
    }

    #[test]
    fn entity_tags_round_trip(weak in any::<bool>(), opaque in "[!#-~]{0,12}") {
        let text = format!("{}\"{opaque}\"", if weak { "W/" } else { "" });
        let tag = etag::parse(&format!("  {text}\t")).expect("a valid tag");
        prop_assert_eq!(tag.to_string(), text);
        prop_assert_eq!(tag.is_weak(), weak);
    }
}
