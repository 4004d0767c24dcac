//! `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and the `Link` relations that go with them:
//! parsed from any response, reported once per client for each distinct notice.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Mutex,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use http::HeaderMap;

/// A response said the API it came from is deprecated (`Deprecation`) or will go away
/// (`Sunset`); carried by [`crate::Event::Deprecated`] and [`crate::Client::deprecations`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeprecationNotice {
    /// The absolute URL of the request whose answer carried it (the first one, per notice).
    pub url: String,
    /// When the API was (or will be) deprecated: `Deprecation: @<unix seconds>`.
    pub deprecation: Option<SystemTime>,
    /// When it stops working: `Sunset: <HTTP-date>`.
    pub sunset: Option<SystemTime>,
    /// Where its successor is: `Link: <…>; rel="successor-version"`, resolved against `url`.
    pub successor: Option<String>,
    /// Where the deprecation is explained: `Link: <…>; rel="deprecation"`, resolved.
    pub policy: Option<String>,
    /// Headers that were present but malformed, as `Name: value` (the notice is reported
    /// anyway: a deprecation with an unreadable date is still a deprecation).
    pub malformed: Vec<String>,
}

/// `@<seconds since the epoch>` (an RFC 9651 Date item).
fn parse_deprecation(raw: &str) -> Option<SystemTime> {
    let seconds: i64 = raw.trim().strip_prefix('@')?.parse().ok()?;
    match u64::try_from(seconds) {
        Ok(after) => UNIX_EPOCH.checked_add(Duration::from_secs(after)),
        Err(_) => UNIX_EPOCH.checked_sub(Duration::from_secs(seconds.unsigned_abs())),
    }
}

/// An HTTP-date (RFC 9110 §5.6.7), as `Retry-After` uses.
fn parse_sunset(raw: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(raw.trim()).ok()
}

/// The targets of `Link` header values (RFC 8288) whose `rel` includes `relation`, first wins.
fn link(headers: &HeaderMap, relation: &str, base: &str) -> Option<String> {
    headers
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(split_links)
        .find_map(|(target, params)| {
            let rels = params.iter().find(|(k, _)| k.eq_ignore_ascii_case("rel"))?;
            rels.1
                .split_ascii_whitespace()
                .any(|rel| rel.eq_ignore_ascii_case(relation))
                .then(|| resolve(base, &target))
        })
}

fn resolve(base: &str, target: &str) -> String {
    url::Url::parse(base)
        .and_then(|b| b.join(target))
        .map_or_else(|_| target.to_owned(), String::from)
}

/// `<a>; rel="x y", <b>; rel=z` → `[(a, [(rel, "x y")]), (b, [(rel, z)])]`. Commas inside `<>`
/// or quotes do not split.
fn split_links(value: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut links = Vec::new();
    let mut rest = value.trim_start();
    while let Some(open) = rest.strip_prefix('<') {
        let Some(close) = open.find('>') else { break };
        let target = open[..close].to_owned();
        rest = &open[close + 1..];
        let mut params = Vec::new();
        loop {
            rest = rest.trim_start();
            let Some(param) = rest.strip_prefix(';') else {
                break;
            };
            let (name, after) = param.split_at(param.find(['=', ';', ',']).unwrap_or(param.len()));
            rest = after;
            let mut value = String::new();
            if let Some(after_eq) = rest.strip_prefix('=') {
                let after_eq = after_eq.trim_start();
                if let Some(quoted) = after_eq.strip_prefix('"') {
                    let end = quoted.find('"').unwrap_or(quoted.len());
                    value = quoted[..end].to_owned();
                    rest = quoted.get(end + 1..).unwrap_or("");
                } else {
                    let end = after_eq.find([';', ',']).unwrap_or(after_eq.len());
                    value = after_eq[..end].trim().to_owned();
                    rest = &after_eq[end..];
                }
            }
            params.push((name.trim().to_owned(), value));
        }
        links.push((target, params));
        rest = rest
            .trim_start()
            .strip_prefix(',')
            .unwrap_or("")
            .trim_start();
    }
    links
}

/// The notice a response carries, if it has `Deprecation` or `Sunset`, with the key that tells
/// notices apart: the URL's origin and the two raw values.
#[cfg(test)]
pub(crate) fn notice_of(url: &str, headers: &HeaderMap) -> Option<(NoticeKey, DeprecationNotice)> {
    let key = notice_key(url, headers)?;
    let notice = notice_for(url, headers, &key);
    Some((key, notice))
}

/// The key of the notice a response carries (see [`notice_of`]), without parsing the notice:
/// enough to tell one already seen.
pub(crate) fn notice_key(url: &str, headers: &HeaderMap) -> Option<NoticeKey> {
    let raw = |name: &str| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let (deprecation_raw, sunset_raw) = (raw("deprecation"), raw("sunset"));
    if deprecation_raw.is_none() && sunset_raw.is_none() {
        return None;
    }
    Some((crate::authority::origin(url), deprecation_raw, sunset_raw))
}

/// The notice whose key is `key` (from [`notice_key`] for the same response), parsed.
pub(crate) fn notice_for(url: &str, headers: &HeaderMap, key: &NoticeKey) -> DeprecationNotice {
    let mut malformed = Vec::new();
    let mut parsed = |name: &str, raw: &Option<String>, parse: fn(&str) -> Option<SystemTime>| {
        let value = raw.as_deref()?;
        let time = parse(value);
        if time.is_none() {
            malformed.push(format!("{name}: {value}"));
        }
        time
    };
    let deprecation = parsed("Deprecation", &key.1, parse_deprecation);
    let sunset = parsed("Sunset", &key.2, parse_sunset);
    DeprecationNotice {
        url: url.to_owned(),
        deprecation,
        sunset,
        successor: link(headers, "successor-version", url),
        policy: link(headers, "deprecation", url),
        malformed,
    }
}

/// What tells two notices apart: the origin, the raw `Deprecation`, the raw `Sunset`.
pub(crate) type NoticeKey = (String, Option<String>, Option<String>);

/// The notices a client has seen, and its counters of deprecated answers.
#[derive(Debug, Default)]
pub(crate) struct Notices {
    /// The keys seen (a few: one per origin and announcement) and the notices, in that order.
    seen: Mutex<(Vec<NoticeKey>, Vec<DeprecationNotice>)>,
    /// Answers that carried `Deprecation` or `Sunset`.
    pub responses: AtomicU64,
    /// The earliest sunset announced, in seconds since the epoch (`u64::MAX`: none). Atomic, so
    /// `Stats` can stay `Copy`.
    earliest_sunset: AtomicU64,
}

impl Notices {
    pub(crate) fn new() -> Self {
        Self {
            earliest_sunset: AtomicU64::new(u64::MAX),
            ..Self::default()
        }
    }

    /// Counts the answer if its notice (by `key`) was seen before, and says so; the notice then
    /// need not be parsed (its sunset already counts in the earliest).
    pub(crate) fn count_if_seen(&self, key: &NoticeKey) -> bool {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let known = seen.0.contains(key);
        if known {
            self.responses.fetch_add(1, Relaxed);
        }
        known
    }

    /// Counts the answer; returns the notice if this client has not reported it yet.
    pub(crate) fn record(
        &self,
        key: NoticeKey,
        notice: DeprecationNotice,
    ) -> Option<DeprecationNotice> {
        self.responses.fetch_add(1, Relaxed);
        if let Some(secs) = notice
            .sunset
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        {
            self.earliest_sunset.fetch_min(secs.as_secs(), Relaxed);
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.0.contains(&key) {
            return None;
        }
        seen.0.push(key);
        seen.1.push(notice.clone());
        Some(notice)
    }

    /// The distinct notices, in the order they were first seen.
    pub(crate) fn all(&self) -> Vec<DeprecationNotice> {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .clone()
    }

    /// The earliest sunset announced, if any.
    pub(crate) fn earliest_sunset(&self) -> Option<SystemTime> {
        match self.earliest_sunset.load(Relaxed) {
            u64::MAX => None,
            secs => UNIX_EPOCH.checked_add(Duration::from_secs(secs)),
        }
    }
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const URL: &str = "http://api.example:8080/items/doc";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_bytes(value.as_bytes()).unwrap());
        }
        map
    }

    fn at(secs: u64) -> Option<SystemTime> {
        Some(UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn the_reference_servers_v1_notice_parses() {
        let (key, notice) = notice_of(
            URL,
            &headers(&[
                ("deprecation", "@1780272000"),
                ("sunset", "Tue, 01 Jun 2027 00:00:00 GMT"),
                ("link", "</v2/items/doc>; rel=\"successor-version\""),
                (
                    "link",
                    "<https://docs.example/v1>; rel=\"deprecation\"; type=\"text/html\"",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(notice.deprecation, at(1_780_272_000));
        assert_eq!(notice.sunset, at(1_811_808_000));
        assert_eq!(
            notice.successor.as_deref(),
            Some("http://api.example:8080/v2/items/doc")
        );
        assert_eq!(notice.policy.as_deref(), Some("https://docs.example/v1"));
        assert!(notice.malformed.is_empty());
        assert_eq!(key.0, "http://api.example:8080");
    }

    #[test]
    fn either_header_alone_is_a_notice_and_none_is_none() {
        let only_sunset = notice_of(
            URL,
            &headers(&[("sunset", "Tue, 01 Jun 2027 00:00:00 GMT")]),
        );
        assert_eq!(only_sunset.unwrap().1.deprecation, None);
        assert!(notice_of(URL, &headers(&[("deprecation", "@0")])).is_some());
        assert!(notice_of(URL, &headers(&[("link", "<x>; rel=\"successor-version\"")])).is_none());
    }

    #[test]
    fn malformed_values_are_reported_raw_never_a_panic() {
        for (deprecation, sunset) in [
            ("true", "tomorrow"),
            ("@", "2027-06-01"),
            ("@1.5", ""),
            ("@99999999999999999999", "Tue, 32 Jun 2027 00:00:00 GMT"),
            ("1780272000", "1 juin 2027, été"),
        ] {
            let (_, notice) = notice_of(
                URL,
                &headers(&[("deprecation", deprecation), ("sunset", sunset)]),
            )
            .unwrap();
            assert_eq!(
                (notice.deprecation, notice.sunset),
                (None, None),
                "{deprecation} {sunset}"
            );
            assert_eq!(
                notice.malformed,
                [
                    format!("Deprecation: {deprecation}"),
                    format!("Sunset: {sunset}")
                ]
            );
        }
        assert_eq!(
            parse_deprecation("@-86400"),
            UNIX_EPOCH.checked_sub(Duration::from_secs(86_400))
        );
    }

    #[test]
    fn link_lists_split_on_commas_outside_brackets_and_quotes() {
        let value =
            "<https://a/x,y>; rel=\"prev, next\", <../v2>; title=\"a;b\"; rel=successor-version";
        assert_eq!(
            link(&headers(&[("link", value)]), "successor-version", URL).as_deref(),
            Some("http://api.example:8080/v2")
        );
        assert_eq!(
            link(&headers(&[("link", value)]), "next", URL).as_deref(),
            Some("https://a/x,y")
        );
        assert_eq!(
            link(
                &headers(&[("link", "garbage; rel=deprecation")]),
                "deprecation",
                URL
            ),
            None
        );
        assert_eq!(
            link(&headers(&[("link", "<unterminated; rel=x")]), "x", URL),
            None
        );
    }

    #[test]
    fn each_distinct_notice_is_reported_once_and_every_answer_counted() {
        let notices = Notices::new();
        let first = notice_of(
            URL,
            &headers(&[
                ("deprecation", "@1"),
                ("sunset", "Tue, 01 Jun 2027 00:00:00 GMT"),
            ]),
        )
        .unwrap();
        assert!(notices.record(first.0.clone(), first.1.clone()).is_some());
        assert!(
            notices.record(first.0, first.1).is_none(),
            "same origin and values"
        );
        let other_path = notice_of(
            "http://api.example:8080/items/other",
            &headers(&[
                ("deprecation", "@1"),
                ("sunset", "Tue, 01 Jun 2027 00:00:00 GMT"),
            ]),
        )
        .unwrap();
        assert!(
            notices.record(other_path.0, other_path.1).is_none(),
            "same origin"
        );
        let earlier = notice_of(
            URL,
            &headers(&[("sunset", "Mon, 01 Jun 2026 00:00:00 GMT")]),
        )
        .unwrap();
        assert!(
            notices.record(earlier.0, earlier.1).is_some(),
            "another sunset"
        );
        let other_origin = notice_of("http://other/x", &headers(&[("deprecation", "@1")])).unwrap();
        assert!(notices.record(other_origin.0, other_origin.1).is_some());
        assert_eq!(notices.responses.load(Relaxed), 5);
        assert_eq!(notices.all().len(), 3);
        assert_eq!(notices.earliest_sunset(), at(1_780_272_000));
        assert_eq!(Notices::new().earliest_sunset(), None);
    }
}
