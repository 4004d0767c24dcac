//! Parsers for `Retry-After` (RFC 9110 §10.2.3) and the IETF httpapi
//! `RateLimit` / `RateLimit-Policy` fields.

use std::time::{Duration, SystemTime};

/// Parses `Retry-After` as delay-seconds or an HTTP-date; `None` when it is neither.
///
/// ```
/// use ifmatch_conformance::rate_limit::parse_retry_after;
/// use std::time::Duration;
/// assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
/// assert_eq!(parse_retry_after("soon"), None);
/// ```
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Valid delay-seconds beyond u64 saturate (they used to read as no Retry-After).
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// One list member of a `RateLimit` or `RateLimit-Policy` field, e.g.
/// `"default";r=0;t=3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldItem {
    /// The policy name (the quoted string or token).
    pub name: String,
    /// Integer parameters in order, e.g. `[("r", 0), ("t", 3)]`.
    pub params: Vec<(String, i64)>,
}

impl FieldItem {
    /// The integer parameter `key`, if present.
    pub fn param(&self, key: &str) -> Option<i64> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

/// Parses a structured-field list of items with integer parameters; `None` when
/// malformed (clients must then ignore the field).
pub fn parse_fields(value: &str) -> Option<Vec<FieldItem>> {
    value.split(',').map(parse_item).collect()
}

fn parse_item(text: &str) -> Option<FieldItem> {
    let mut parts = text.trim().split(';');
    let raw_name = parts.next()?.trim();
    let name = match raw_name.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"')?.to_owned(),
        None if is_token(raw_name) => raw_name.to_owned(),
        None => return None,
    };
    let params = parts
        .map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            let key = k.trim();
            (is_token(key)).then_some(())?;
            Some((key.to_owned(), v.trim().parse::<i64>().ok()?))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(FieldItem { name, params })
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.*".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_both_forms() {
        assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        let past = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(parse_retry_after(past), Some(Duration::ZERO));
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(100));
        let wait = parse_retry_after(&future).unwrap();
        assert!(wait <= Duration::from_secs(100) && wait >= Duration::from_secs(90));
    }

    #[test]
    fn delay_seconds_beyond_u64_saturate() {
        // Found by fuzzing: valid delay-seconds too long for u64 read as no Retry-After.
        let absurd = "1000000000000000000000000000000";
        assert_eq!(
            parse_retry_after(absurd),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn retry_after_rejects_garbage() {
        for bad in ["", "-1", "1.5", "soon", "10s", "Sunday"] {
            assert_eq!(parse_retry_after(bad), None, "{bad}");
        }
    }

    #[test]
    fn rate_limit_fields_parse() {
        let items = parse_fields("\"default\";r=0;t=3").unwrap();
        assert_eq!(items[0].name, "default");
        assert_eq!(items[0].param("r"), Some(0));
        assert_eq!(items[0].param("t"), Some(3));
        let policy = parse_fields("\"burst\";q=100;w=60, \"day\";q=1000;w=86400").unwrap();
        assert_eq!(policy.len(), 2);
        assert_eq!(policy[1].param("w"), Some(86400));
    }

    #[test]
    fn malformed_rate_limit_fields_are_rejected() {
        for bad in ["\"x;r=1", "r=;t=1", "\"d\";r=one", "a b;r=1", "\"d\";=1"] {
            assert_eq!(parse_fields(bad), None, "{bad}");
        }
    }
}
