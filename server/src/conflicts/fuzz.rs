//! Property tests of the conflict log's parsers: the query of `GET /conflicts` and
//! `/conflicts/stream`, conflict ids, and `Last-Event-ID`.

use axum::http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

use super::query::{decode, decode_segment, parse, Route, DEFAULT_LIMIT, MAX_LIMIT};
use super::record::{conflict_id, parse_id, State};
use super::stream::last_event_id;
use crate::fuzz::config;

/// Percent-encodes every byte of `text` the `seed` picks (and always `%`, `+`, `&`, `=`).
fn encode(text: &str, seed: u64) -> String {
    text.bytes()
        .enumerate()
        .map(|(i, b)| {
            if matches!(b, b'%' | b'+' | b'&' | b'=')
                || !b.is_ascii_graphic()
                || (seed >> (i % 64)) & 1 == 1
            {
                format!("%{b:02X}")
            } else {
                char::from(b).to_string()
            }
        })
        .collect()
}

/// One query parameter of `GET /conflicts`.
#[derive(Debug, Clone)]
enum Param {
    Resource(String),
    Prefix(String),
    State(bool),
    Limit(u64),
    After(u64),
}

fn param() -> impl Strategy<Value = Param> {
    prop_oneof![
        ".{0,8}".prop_map(Param::Resource),
        ".{0,8}".prop_map(Param::Prefix),
        any::<bool>().prop_map(Param::State),
        (1u64..).prop_map(Param::Limit),
        any::<u64>().prop_map(Param::After),
    ]
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn arbitrary_queries_never_panic(query in "[a-z_=&%+0-9A-F]{0,32}|.{0,16}") {
        let _ = parse(Some(&query), Route::List, "/conflicts");
        let _ = parse(Some(&query), Route::Stream, "/conflicts/stream");
        let _ = decode_segment(&query);
        let _ = parse_id(&query);
    }

    #[test]
    fn percent_encoding_round_trips(text in ".{0,12}", seed in any::<u64>()) {
        prop_assert_eq!(decode(&encode(&text, seed)), Some(text.clone()));
        prop_assert_eq!(decode_segment(&encode(&text, seed)), Some(text));
    }

    #[test]
    fn queries_round_trip(params in proptest::collection::vec(param(), 0..6), seed in any::<u64>()) {
        let query = params
            .iter()
            .map(|p| match p {
                Param::Resource(r) => format!("resource={}", encode(r, seed)),
                Param::Prefix(r) => format!("prefix={}", encode(r, seed)),
                Param::State(open) => format!("state={}", if *open { "open" } else { "resolved" }),
                Param::Limit(n) => format!("limit={n}"),
                Param::After(n) => format!("after={n}"),
            })
            .collect::<Vec<_>>()
            .join("&");
        let parsed = parse(Some(&query), Route::List, "/conflicts").expect("a well-formed query");
        let (mut resources, mut prefixes, mut state) = (Vec::new(), Vec::new(), None);
        let (mut limit, mut after) = (DEFAULT_LIMIT, 0);
        for p in &params {
            match p {
                Param::Resource(r) => resources.push(r.clone()),
                Param::Prefix(r) => prefixes.push(r.clone()),
                Param::State(open) => state = Some(if *open { State::Open } else { State::Resolved }),
                Param::Limit(n) => limit = usize::try_from(*n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
                Param::After(n) => after = *n,
            }
        }
        prop_assert_eq!(parsed.filter.resources, resources);
        prop_assert_eq!(parsed.filter.prefixes, prefixes);
        prop_assert_eq!(parsed.filter.state, state);
        prop_assert_eq!((parsed.limit, parsed.after), (limit, after));
    }

    #[test]
    fn conflict_ids_round_trip(seq in any::<u64>()) {
        prop_assert_eq!(parse_id(&conflict_id(seq)), Some(seq));
        let stream = parse(Some(&format!("last_event_id={seq}")), Route::Stream, "/s").unwrap();
        prop_assert_eq!(stream.last_event_id, Some(seq));
        let mut headers = HeaderMap::new();
        headers.insert("last-event-id", HeaderValue::from_str(&format!(" {seq} ")).unwrap());
        prop_assert_eq!(last_event_id(&headers, "/s").ok(), Some(Some(seq)));
    }

    #[test]
    fn last_event_ids_are_numbers_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..24)) {
        let Ok(value) = HeaderValue::from_bytes(&bytes) else { return Ok(()) };
        let mut headers = HeaderMap::new();
        headers.insert("last-event-id", value);
        let trimmed = String::from_utf8_lossy(&bytes).trim().to_owned();
        match last_event_id(&headers, "/s") {
            Ok(None) => prop_assert!(trimmed.is_empty()),
            Ok(Some(id)) => {
                prop_assert!(trimmed.bytes().all(|b| b.is_ascii_digit()), "{:?}", trimmed);
                prop_assert_eq!(trimmed.parse::<u64>().ok(), Some(id));
            }
            Err(_) => prop_assert!(!trimmed.is_empty()),
        }
    }
}

#[test]
fn last_event_id_beyond_ascii_is_refused_not_ignored() {
    // Found by fuzzing: a value that was not visible ASCII read as "no id" (live events only).
    let mut headers = HeaderMap::new();
    headers.insert("last-event-id", HeaderValue::from_bytes(b"1\xe9").unwrap());
    assert!(last_event_id(&headers, "/s").is_err());
}
