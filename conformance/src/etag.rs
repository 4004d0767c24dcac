//! Entity tags (RFC 9110 §8.8.3): the SDK's [`ifmatch::EntityTag`], so the checker judges a
//! server's validators with exactly the syntax and comparisons the client relies on.

pub use ifmatch::EntityTag;

/// Parses one entity tag; `None` when the value is not valid RFC 9110 syntax
/// (for example an unquoted token, which many servers send by mistake).
///
/// ```
/// use ifmatch_conformance::etag::parse;
/// let tag = parse("W/\"abc\"").unwrap();
/// assert!(tag.is_weak());
/// assert!(parse("abc").is_none());
/// ```
pub fn parse(value: &str) -> Option<EntityTag> {
    value.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strong_and_weak_tags() {
        let strong = parse("\"1\"").unwrap();
        assert!(!strong.is_weak());
        assert_eq!(strong.opaque(), "1");
        assert!(parse("W/\"1\"").unwrap().is_weak());
        assert_eq!(parse("\"\"").unwrap().opaque(), "");
    }

    #[test]
    fn rejects_malformed_tags() {
        for bad in ["1", "\"1", "1\"", "w/\"1\"", "\"a\"b\"", "W/1", "\"a b\""] {
            assert_eq!(parse(bad), None, "{bad} must not parse");
        }
    }
}
