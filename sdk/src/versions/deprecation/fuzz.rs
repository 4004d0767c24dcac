//! Property tests of `Deprecation`, `Sunset` and `Link`: any value is survived, and the dates a
//! server writes are read back.

use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

use super::{notice_of, parse_deprecation, split_links};
use crate::fuzz::config;

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn any_header_bytes_are_survived(
        deprecation in proptest::collection::vec(any::<u8>(), 0..32),
        sunset in proptest::collection::vec(any::<u8>(), 0..32),
        link in "[<>;,=\" a-z/:.-]{0,48}",
        url in ".{0,16}",
    ) {
        let mut headers = HeaderMap::new();
        for (name, bytes) in [("deprecation", &deprecation), ("sunset", &sunset), ("link", &link.as_bytes().to_vec())] {
            if let Ok(value) = HeaderValue::from_bytes(bytes) {
                headers.insert(name, value);
            }
        }
        let _ = notice_of(&url, &headers);
        let _ = split_links(&link);
    }

    #[test]
    fn deprecation_dates_round_trip(seconds in any::<i64>()) {
        let parsed = parse_deprecation(&format!("@{seconds}"));
        let expected = match u64::try_from(seconds) {
            Ok(after) => UNIX_EPOCH.checked_add(Duration::from_secs(after)),
            Err(_) => UNIX_EPOCH.checked_sub(Duration::from_secs(seconds.unsigned_abs())),
        };
        prop_assert_eq!(parsed, expected);
    }

    #[test]
    fn sunset_dates_and_links_round_trip(
        at in 0u64..=253_402_300_799,
        successor in "/[a-z0-9]{1,8}",
        policy in "https://[a-z]{1,6}\\.example/[a-z]{0,6}",
    ) {
        let sunset = UNIX_EPOCH + Duration::from_secs(at);
        let mut headers = HeaderMap::new();
        headers.insert("sunset", HeaderValue::from_str(&httpdate::fmt_http_date(sunset)).unwrap());
        let link = format!("<{successor}>; rel=\"successor-version\", <{policy}>; rel=deprecation");
        headers.insert("link", HeaderValue::from_str(&link).unwrap());
        let (_, notice) = notice_of("http://h.example/api/x", &headers).expect("a notice");
        prop_assert_eq!(notice.sunset, Some(sunset));
        prop_assert_eq!(notice.successor, Some(format!("http://h.example{successor}")));
        let expected = url::Url::parse(&policy).ok().map(String::from);
        prop_assert_eq!(notice.policy, expected);
        prop_assert!(notice.malformed.is_empty());
    }
}
