//! Request headers and command-line values: `If-Match`/`If-None-Match` lists, `Lock-Token`,
//! `Transaction-Id`, `Api-Version` with the URL prefix, and the values of the server's flags.

use axum::http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

use super::config;
use crate::api_version::select;
use crate::etag::{Condition, EntityTag};
use crate::lock::LockToken;
use crate::txn::TxId;
use crate::{MismatchStatus, RateLimit, Storage, TokenPair};

/// A tag with any `etagc` opaque part, obs-text included.
fn tag() -> impl Strategy<Value = (bool, String)> {
    (
        any::<bool>(),
        proptest::collection::vec(
            prop_oneof![Just('!'), (0x23u8..=0x7E).prop_map(char::from), Just('é')],
            0..10,
        )
        .prop_map(|chars| chars.into_iter().collect::<String>()),
    )
}

/// A list separator: a comma with optional whitespace, and sometimes empty list elements.
fn separator() -> impl Strategy<Value = String> {
    "[ \t]{0,2},([ \t]{0,2},){0,2}[ \t]{0,2}"
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn entity_tag_lists_round_trip(
        tags in proptest::collection::vec(tag(), 1..6),
        separators in proptest::collection::vec(separator(), 6),
        lead in "[ \t,]{0,3}",
        trail in "[ \t,]{0,3}",
    ) {
        let expected: Vec<EntityTag> = tags
            .iter()
            .map(|(weak, opaque)| {
                let strong = EntityTag::parse(&format!("\"{opaque}\"")).expect("a strong tag");
                if *weak { EntityTag::parse(&format!("W/{strong}")).expect("a weak tag") } else { strong }
            })
            .collect();
        let mut value = lead;
        for (i, tag) in expected.iter().enumerate() {
            if i > 0 { value += &separators[i]; }
            value += &tag.to_string();
        }
        value += &trail;
        prop_assert_eq!(Condition::parse(value.as_bytes()), Ok(Condition::Tags(expected)), "{}", value);
        prop_assert_eq!(Condition::parse(format!(" {}\t", "*").as_bytes()), Ok(Condition::Any));
    }

    #[test]
    fn list_like_text_is_survived(raw in "[W/\"a*, \t!é]{0,24}") {
        if let Ok(Condition::Tags(tags)) = Condition::parse(raw.as_bytes()) {
            // Whatever was accepted reads back the same when the server lists it again.
            let listed = tags.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            prop_assert_eq!(Condition::parse(listed.as_bytes()), Ok(Condition::Tags(tags)));
        }
    }

    #[test]
    fn lock_tokens_and_transaction_ids_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..140)) {
        let _ = LockToken::parse(&bytes);
        let _ = TxId::parse(&bytes);
    }

    #[test]
    fn lock_tokens_round_trip(token in "[!#-;=?-~]{1,128}") {
        let parsed = LockToken::parse(format!("\"{token}\"").as_bytes()).expect("a quoted token");
        prop_assert_eq!(parsed.as_str(), token.as_str());
        for form in [parsed.header_value(), format!(" <{token}> "), token.clone()] {
            prop_assert_eq!(LockToken::parse(form.as_bytes()), Ok(parsed.clone()), "{}", form);
        }
    }

    #[test]
    fn transaction_ids_round_trip(id in "[A-Za-z0-9._-]{1,128}") {
        let parsed = TxId::parse(id.as_bytes()).expect("an id");
        prop_assert_eq!(parsed.as_str(), id.as_str());
        let quoted = TxId::parse(format!("\"{id}\"").as_bytes()).expect("a quoted id");
        prop_assert_eq!(quoted.as_str(), id.as_str());
    }

    #[test]
    fn api_version_selection_never_panics(
        path in "(/v[0-9]{0,2})?(/items(/[a-z0-9%]{0,4})?)?|.{0,12}",
        headers in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..6), 0..3),
    ) {
        let mut map = HeaderMap::new();
        for bytes in headers {
            if let Ok(value) = HeaderValue::from_bytes(&bytes) {
                map.append("api-version", value);
            }
        }
        let _ = select(&path, &map);
    }

    #[test]
    fn flag_values_never_panic(text in ".{0,24}", digits in "[0-9]{0,30}(/[0-9]{0,30})?") {
        let _ = text.parse::<Storage>();
        let _ = text.parse::<MismatchStatus>();
        let _ = text.parse::<RateLimit>();
        let _ = digits.parse::<RateLimit>();
        let _ = text.parse::<TokenPair>();
    }
}
