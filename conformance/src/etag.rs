//! Entity-tag parsing (RFC 9110 §8.8.3) just strict enough to judge servers.

use std::fmt;

/// An entity tag as sent in `ETag`, `If-Match` or `If-None-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    /// `true` for `W/"..."`.
    pub weak: bool,
    /// The characters between the quotes.
    pub opaque: String,
}

impl EntityTag {
    /// Parses one entity tag; `None` when the value is not valid RFC 9110 syntax
    /// (for example an unquoted token, which many servers send by mistake).
    ///
    /// ```
    /// use ifmatch_conformance::etag::EntityTag;
    /// let tag = EntityTag::parse("W/\"abc\"").unwrap();
    /// assert!(tag.weak);
    /// assert!(EntityTag::parse("abc").is_none());
    /// ```
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let (weak, rest) = match value.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        let opaque = rest.strip_prefix('"')?.strip_suffix('"')?;
        // etagc = %x21 / %x23-7E / obs-text: everything visible except DQUOTE.
        let valid = opaque
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80);
        valid.then(|| EntityTag {
            weak,
            opaque: opaque.to_owned(),
        })
    }

    /// Strong comparison (RFC 9110 §8.8.3.2): both strong and equal opaque parts.
    pub fn strong_eq(&self, other: &EntityTag) -> bool {
        !self.weak && !other.weak && self.opaque == other.opaque
    }

    /// The weak form of this tag, `W/"opaque"`.
    pub fn weakened(&self) -> EntityTag {
        EntityTag {
            weak: true,
            opaque: self.opaque.clone(),
        }
    }
}

impl fmt::Display for EntityTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.weak {
            f.write_str("W/")?;
        }
        write!(f, "\"{}\"", self.opaque)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strong_and_weak_tags() {
        assert_eq!(
            EntityTag::parse("\"1\""),
            Some(EntityTag {
                weak: false,
                opaque: "1".into()
            })
        );
        assert!(EntityTag::parse("W/\"1\"").unwrap().weak);
        assert_eq!(EntityTag::parse("\"\"").unwrap().opaque, "");
    }

    #[test]
    fn rejects_malformed_tags() {
        for bad in ["1", "\"1", "1\"", "w/\"1\"", "\"a\"b\"", "W/1", "\"a b\""] {
            assert_eq!(EntityTag::parse(bad), None, "{bad} must not parse");
        }
    }

    #[test]
    fn comparison_follows_rfc_9110_table() {
        let w1 = EntityTag::parse("W/\"1\"").unwrap();
        let s1 = EntityTag::parse("\"1\"").unwrap();
        let s2 = EntityTag::parse("\"2\"").unwrap();
        assert!(!w1.strong_eq(&w1));
        assert!(!w1.strong_eq(&s1));
        assert!(!s1.strong_eq(&s2));
        assert!(s1.strong_eq(&s1));
    }

    #[test]
    fn display_round_trips() {
        for text in ["\"x\"", "W/\"x\""] {
            assert_eq!(EntityTag::parse(text).unwrap().to_string(), text);
        }
    }
}
