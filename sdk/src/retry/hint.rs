//! Reading a server's wait hint from a 429/503 response, never trusting it blindly.

use std::time::Duration;

use http::HeaderMap;

/// Hints beyond a day are treated as a day: large enough to fail any sane `max_retry_after`,
/// small enough to never overflow time arithmetic.
pub(crate) const ABSURD_HINT: Duration = Duration::from_secs(24 * 60 * 60);

/// Which header a wait hint came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HintSource {
    /// `retry-after-ms` (milliseconds; sent by several API gateways).
    RetryAfterMs,
    /// `Retry-After` as delay-seconds.
    RetryAfterSeconds,
    /// `Retry-After` as an HTTP-date.
    RetryAfterDate,
    /// The `t` parameter of the IETF `RateLimit` field.
    RateLimit,
}

/// The hint found in a response, plus the names of headers that were present but unusable.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Hint {
    pub wait: Option<(Duration, HintSource)>,
    pub malformed: Vec<&'static str>,
}

/// Reads the wait hint; `now_since_epoch` is the wall clock, injected for HTTP-dates.
///
/// Precedence: `retry-after-ms` (the most precise), then `Retry-After`, then `RateLimit`'s `t`
/// (the RateLimit draft says Retry-After wins when both are present).
pub(crate) fn read_hint(headers: &HeaderMap, now_since_epoch: Duration) -> Hint {
    let mut hint = Hint::default();
    let mut found = |name: &'static str, parsed: Option<(Duration, HintSource)>| -> bool {
        match parsed {
            Some(wait) => {
                if hint.wait.is_none() {
                    hint.wait = Some((wait.0.min(ABSURD_HINT), wait.1));
                }
                true
            }
            None => {
                hint.malformed.push(name);
                false
            }
        }
    };
    if let Some(raw) = header_str(headers, "retry-after-ms") {
        found(
            "retry-after-ms",
            parse_millis(raw).map(|d| (d, HintSource::RetryAfterMs)),
        );
    }
    if let Some(raw) = header_str(headers, "retry-after") {
        found("retry-after", parse_retry_after(raw, now_since_epoch));
    }
    if let Some(raw) = header_str(headers, "ratelimit") {
        found(
            "ratelimit",
            parse_ratelimit_t(raw).map(|d| (d, HintSource::RateLimit)),
        );
    }
    // Headers present with bytes that are not visible ASCII are malformed too.
    for name in ["retry-after-ms", "retry-after", "ratelimit"] {
        if headers.contains_key(name) && header_str(headers, name).is_none() {
            hint.malformed.push(name);
        }
    }
    hint
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// A string of digits as a number; a digit string too long for u64 is absurd, not malformed, so
/// it saturates (and `read_hint` caps the wait at [`ABSURD_HINT`]).
pub(crate) fn digits(raw: &str) -> Option<u64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(raw.parse().unwrap_or(u64::MAX))
}

fn parse_millis(raw: &str) -> Option<Duration> {
    digits(raw).map(Duration::from_millis)
}

fn parse_seconds(raw: &str) -> Option<Duration> {
    digits(raw).map(|s| Duration::from_secs(s.min(ABSURD_HINT.as_secs())))
}

/// `Retry-After = HTTP-date / delay-seconds` (RFC 9110 §10.2.3).
fn parse_retry_after(raw: &str, now_since_epoch: Duration) -> Option<(Duration, HintSource)> {
    if let Some(d) = parse_seconds(raw) {
        return Some((d, HintSource::RetryAfterSeconds));
    }
    let at = httpdate::parse_http_date(raw).ok()?;
    let at = at.duration_since(std::time::UNIX_EPOCH).ok()?;
    // A date in the past means "retry now".
    Some((
        at.saturating_sub(now_since_epoch),
        HintSource::RetryAfterDate,
    ))
}

/// The `t` parameter of `RateLimit: "policy";r=0;t=30, ...` (structured-field list).
///
/// With several policies, the exhausted ones (`r=0`) decide; among them the longest wait wins.
fn parse_ratelimit_t(raw: &str) -> Option<Duration> {
    let mut exhausted: Option<u64> = None;
    let mut any: Option<u64> = None;
    for item in raw.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next()?;
        if name.is_empty() {
            return None;
        }
        let (mut r, mut t) = (None, None);
        for param in parts {
            let (key, value) = param.split_once('=')?;
            match key.trim() {
                "r" => r = Some(sf_integer(value)?),
                "t" => t = Some(sf_integer(value)?),
                _ => {}
            }
        }
        let Some(t) = t else { continue };
        any = any.max(Some(t));
        if r == Some(0) {
            exhausted = exhausted.max(Some(t));
        }
    }
    exhausted
        .or(any)
        .map(|t| Duration::from_secs(t.min(ABSURD_HINT.as_secs())))
}

/// A non-negative integer parameter; digits beyond `u64` saturate (an absurd `t` is capped
/// like an absurd `Retry-After`, not dropped as malformed).
fn sf_integer(raw: &str) -> Option<u64> {
    digits(raw.trim())
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    // Sun, 06 Nov 1994 08:49:37 GMT
    const NOW: Duration = Duration::from_secs(784_111_777);

    #[test]
    fn retry_after_seconds() {
        let h = read_hint(&headers(&[("retry-after", "120")]), NOW);
        assert_eq!(
            h.wait,
            Some((Duration::from_secs(120), HintSource::RetryAfterSeconds))
        );
        assert!(h.malformed.is_empty());
    }

    #[test]
    fn retry_after_http_date_is_relative_to_now() {
        let h = read_hint(
            &headers(&[("retry-after", "Sun, 06 Nov 1994 08:50:07 GMT")]),
            NOW,
        );
        assert_eq!(
            h.wait,
            Some((Duration::from_secs(30), HintSource::RetryAfterDate))
        );
    }

    #[test]
    fn retry_after_date_in_the_past_means_now() {
        let h = read_hint(
            &headers(&[("retry-after", "Sun, 06 Nov 1994 08:00:00 GMT")]),
            NOW,
        );
        assert_eq!(h.wait, Some((Duration::ZERO, HintSource::RetryAfterDate)));
    }

    #[test]
    fn retry_after_ms_wins_over_retry_after() {
        let h = read_hint(
            &headers(&[("retry-after", "3"), ("retry-after-ms", "250")]),
            NOW,
        );
        assert_eq!(
            h.wait,
            Some((Duration::from_millis(250), HintSource::RetryAfterMs))
        );
    }

    #[test]
    fn retry_after_wins_over_ratelimit() {
        let h = read_hint(
            &headers(&[("ratelimit", "\"burst\";r=0;t=30"), ("retry-after", "5")]),
            NOW,
        );
        assert_eq!(
            h.wait,
            Some((Duration::from_secs(5), HintSource::RetryAfterSeconds))
        );
    }

    #[test]
    fn ratelimit_t_prefers_exhausted_policies() {
        let h = read_hint(
            &headers(&[("ratelimit", "\"day\";r=100;t=3600, \"burst\";r=0;t=7")]),
            NOW,
        );
        assert_eq!(
            h.wait,
            Some((Duration::from_secs(7), HintSource::RateLimit))
        );
    }

    #[test]
    fn malformed_headers_are_ignored_and_reported() {
        for bad in ["-1", "1.5", "soon", "", "Sun, 99 Nov 1994 08:50:07 GMT"] {
            let h = read_hint(&headers(&[("retry-after", bad)]), NOW);
            assert_eq!(h.wait, None, "{bad:?} must not be trusted");
            assert_eq!(h.malformed, vec!["retry-after"], "{bad:?}");
        }
        let h = read_hint(
            &headers(&[("ratelimit", "\"b\";r=0;t=abc"), ("retry-after-ms", "x")]),
            NOW,
        );
        assert_eq!(h.wait, None);
        assert_eq!(h.malformed, vec!["retry-after-ms", "ratelimit"]);
    }

    #[test]
    fn malformed_header_does_not_hide_a_valid_one() {
        let h = read_hint(
            &headers(&[("retry-after-ms", "oops"), ("retry-after", "2")]),
            NOW,
        );
        assert_eq!(
            h.wait,
            Some((Duration::from_secs(2), HintSource::RetryAfterSeconds))
        );
        assert_eq!(h.malformed, vec!["retry-after-ms"]);
    }

    #[test]
    fn absurd_values_are_capped() {
        let h = read_hint(&headers(&[("retry-after", "99999999999999999999999")]), NOW);
        assert_eq!(h.wait, Some((ABSURD_HINT, HintSource::RetryAfterSeconds)));
        let h = read_hint(&headers(&[("retry-after-ms", "18446744073709551615")]), NOW);
        assert_eq!(h.wait, Some((ABSURD_HINT, HintSource::RetryAfterMs)));
        // Found by fuzzing: a `t` beyond u64 was dropped as malformed instead of capped.
        let h = read_hint(
            &headers(&[("ratelimit", "\"p\";r=0;t=1000000000000000000000000000000")]),
            NOW,
        );
        assert_eq!(h.wait, Some((ABSURD_HINT, HintSource::RateLimit)));
    }

    #[test]
    fn no_headers_no_hint() {
        assert_eq!(read_hint(&HeaderMap::new(), NOW), Hint::default());
    }
}
