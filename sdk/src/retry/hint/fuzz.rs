//! Property tests of the wait hints (`Retry-After`, `retry-after-ms`, `RateLimit`): any header
//! value is survived, what a server writes is read back, and absurd values are capped.

use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

use super::{read_hint, HintSource, ABSURD_HINT};
use crate::fuzz::config;

/// The last second an HTTP-date can name (9999-12-31T23:59:59Z).
const LAST_HTTP_DATE: u64 = 253_402_300_799;

fn one(name: &'static str, value: &str) -> HeaderMap {
    let mut map = HeaderMap::new();
    map.insert(name, HeaderValue::from_str(value).expect("a visible value"));
    map
}

fn capped(d: Duration) -> Duration {
    d.min(ABSURD_HINT)
}

/// A `RateLimit` policy: name, `r`, `t`, and an unknown parameter or not.
fn policy() -> impl Strategy<Value = (String, Option<u64>, Option<u64>, bool)> {
    (
        "[a-z]{1,6}",
        proptest::option::of(prop_oneof![Just(0u64), any::<u64>()]),
        proptest::option::of(any::<u64>()),
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn any_header_bytes_are_survived(
        name in proptest::sample::select(&["retry-after", "retry-after-ms", "ratelimit"][..]),
        bytes in proptest::collection::vec(any::<u8>(), 0..48),
        now in any::<u64>(),
    ) {
        let Ok(value) = HeaderValue::from_bytes(&bytes) else { return Ok(()) };
        let mut headers = HeaderMap::new();
        headers.insert(name, value);
        let hint = read_hint(&headers, Duration::from_secs(now));
        if let Some((wait, _)) = hint.wait {
            prop_assert!(wait <= ABSURD_HINT);
        } else {
            prop_assert_eq!(hint.malformed.len(), 1);
        }
    }

    #[test]
    fn structured_looking_text_is_survived(
        raw in "[a-z0-9\"=;, .:-]{0,40}",
        name in proptest::sample::select(&["retry-after", "retry-after-ms", "ratelimit"][..]),
    ) {
        let hint = read_hint(&one(name, &raw), Duration::ZERO);
        prop_assert!(hint.wait.is_none_or(|(wait, _)| wait <= ABSURD_HINT));
    }

    #[test]
    fn delay_seconds_and_millis_round_trip(n in any::<u64>()) {
        let hint = read_hint(&one("retry-after", &n.to_string()), Duration::ZERO);
        prop_assert_eq!(hint.wait, Some((capped(Duration::from_secs(n)), HintSource::RetryAfterSeconds)));
        let hint = read_hint(&one("retry-after-ms", &n.to_string()), Duration::ZERO);
        prop_assert_eq!(hint.wait, Some((capped(Duration::from_millis(n)), HintSource::RetryAfterMs)));
    }

    #[test]
    fn numbers_beyond_u64_are_capped_not_malformed(digits in "[1-9][0-9]{20,40}") {
        for name in ["retry-after", "retry-after-ms"] {
            let hint = read_hint(&one(name, &digits), Duration::ZERO);
            prop_assert_eq!(hint.wait.map(|w| w.0), Some(ABSURD_HINT), "{}", name);
        }
        let hint = read_hint(&one("ratelimit", &format!("\"p\";r=0;t={digits}")), Duration::ZERO);
        prop_assert_eq!(hint.wait, Some((ABSURD_HINT, HintSource::RateLimit)));
    }

    #[test]
    fn http_dates_round_trip(at in 0..=LAST_HTTP_DATE, now in 0..=LAST_HTTP_DATE + 1_000) {
        let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(at));
        let hint = read_hint(&one("retry-after", &date), Duration::from_secs(now));
        prop_assert_eq!(
            hint.wait,
            Some((capped(Duration::from_secs(at.saturating_sub(now))), HintSource::RetryAfterDate))
        );
    }

    #[test]
    fn ratelimit_t_round_trips(policies in proptest::collection::vec(policy(), 1..5)) {
        let raw = policies
            .iter()
            .map(|(name, r, t, extra)| {
                let mut item = format!("\"{name}\"");
                if let Some(r) = r { item += &format!(";r={r}"); }
                if *extra { item += ";pk=:abc=:"; }
                if let Some(t) = t { item += &format!(" ; t={t}"); }
                item
            })
            .collect::<Vec<_>>()
            .join(", ");
        let exhausted = policies.iter().filter(|p| p.1 == Some(0)).filter_map(|p| p.2).max();
        let any = policies.iter().filter_map(|p| p.2).max();
        let expected = exhausted.or(any).map(|t| (capped(Duration::from_secs(t)), HintSource::RateLimit));
        let hint = read_hint(&one("ratelimit", &raw), Duration::ZERO);
        prop_assert_eq!(hint.wait, expected, "{}", raw);
    }
}
