//! Entity tags (RFC 9110 §8.8.3) as a type, with strong and weak comparison.

use std::{fmt, str::FromStr};

use crate::Error;

/// An HTTP entity tag: `"opaque"` (strong) or `W/"opaque"` (weak).
///
/// Derived equality (`==`) is structural; use [`EntityTag::strong_eq`] for `If-Match`
/// semantics and [`EntityTag::weak_eq`] for `If-None-Match` semantics.
///
/// ```
/// use ifmatch::EntityTag;
///
/// let tag: EntityTag = "W/\"v7\"".parse()?;
/// assert!(tag.is_weak());
/// assert_eq!(tag.opaque(), "v7");
/// assert_eq!(tag.to_string(), "W/\"v7\"");
/// assert!(tag.weak_eq(&EntityTag::strong("v7")?));
/// assert!(!tag.strong_eq(&EntityTag::strong("v7")?));
/// # Ok::<(), ifmatch::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EntityTag {
    weak: bool,
    opaque: String,
}

impl EntityTag {
    /// A strong tag with the given opaque part (without quotes).
    ///
    /// # Errors
    /// [`Error::InvalidEtag`] when `opaque` contains a `"`, a control character or a space.
    pub fn strong(opaque: impl Into<String>) -> Result<Self, Error> {
        Self::checked(false, opaque.into())
    }

    /// A weak tag with the given opaque part (without quotes).
    ///
    /// # Errors
    /// [`Error::InvalidEtag`] when `opaque` contains a `"`, a control character or a space.
    pub fn weak(opaque: impl Into<String>) -> Result<Self, Error> {
        Self::checked(true, opaque.into())
    }

    fn checked(weak: bool, opaque: String) -> Result<Self, Error> {
        match opaque.chars().find(|c| !is_etagc(*c)) {
            Some(bad) => Err(Error::InvalidEtag {
                input: opaque.clone(),
                reason: format!("character {bad:?} is not allowed inside an entity tag"),
            }),
            None => Ok(Self { weak, opaque }),
        }
    }

    /// Whether this is a weak validator (`W/` prefix).
    pub fn is_weak(&self) -> bool {
        self.weak
    }

    /// The opaque part, without quotes or `W/`.
    pub fn opaque(&self) -> &str {
        &self.opaque
    }

    /// Strong comparison (RFC 9110 §8.8.3.2): both strong and the opaque parts equal.
    /// This is the comparison `If-Match` uses.
    pub fn strong_eq(&self, other: &Self) -> bool {
        !self.weak && !other.weak && self.opaque == other.opaque
    }

    /// Weak comparison (RFC 9110 §8.8.3.2): the opaque parts equal, weakness ignored.
    /// This is the comparison `If-None-Match` uses.
    pub fn weak_eq(&self, other: &Self) -> bool {
        self.opaque == other.opaque
    }
}

/// `etagc = %x21 / %x23-7E / obs-text`; obs-text arrives here as non-ASCII chars.
fn is_etagc(c: char) -> bool {
    c == '\x21' || ('\x23'..='\x7e').contains(&c) || (c as u32) >= 0x80
}

impl FromStr for EntityTag {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self, Error> {
        let fail = |reason: &str| Error::InvalidEtag {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = input.trim_matches(|c| c == ' ' || c == '\t');
        let (weak, quoted) = match trimmed.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let opaque = quoted
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .ok_or_else(|| {
                fail("an entity tag must be a quoted string such as \"abc\" or W/\"abc\"")
            })?;
        Self::checked(weak, opaque.to_owned()).map_err(|_| {
            fail("the quoted part may not contain quotes, spaces or control characters")
        })
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

    fn tag(s: &str) -> EntityTag {
        s.parse().unwrap()
    }

    #[test]
    fn comparison_matches_rfc_9110_table() {
        // RFC 9110 §8.8.3.2: (ETag 1, ETag 2, strong, weak)
        let table = [
            (r#"W/"1""#, r#"W/"1""#, false, true),
            (r#"W/"1""#, r#"W/"2""#, false, false),
            (r#"W/"1""#, r#""1""#, false, true),
            (r#""1""#, r#""1""#, true, true),
        ];
        for (a, b, strong, weak) in table {
            assert_eq!(tag(a).strong_eq(&tag(b)), strong, "strong {a} vs {b}");
            assert_eq!(tag(a).weak_eq(&tag(b)), weak, "weak {a} vs {b}");
            assert_eq!(
                tag(b).strong_eq(&tag(a)),
                strong,
                "strong symmetric {b} vs {a}"
            );
            assert_eq!(tag(b).weak_eq(&tag(a)), weak, "weak symmetric {b} vs {a}");
        }
    }

    #[test]
    fn parses_strong_weak_and_empty_tags() {
        assert_eq!(tag(r#""xyzzy""#), EntityTag::strong("xyzzy").unwrap());
        assert_eq!(tag(r#"W/"xyzzy""#), EntityTag::weak("xyzzy").unwrap());
        assert_eq!(tag(r#""""#).opaque(), "");
        assert_eq!(tag(" \"a\"\t").opaque(), "a");
    }

    #[test]
    fn rejects_malformed_tags() {
        for bad in [
            "xyzzy",
            "\"unterminated",
            "w/\"lowercase-w\"",
            "W/xyzzy",
            "\"in\"side\"",
            "\"sp ace\"",
            "\"",
            "",
            "*",
        ] {
            let err = bad.parse::<EntityTag>().unwrap_err();
            assert_eq!(err.code(), "invalid_etag", "{bad:?} should be rejected");
        }
    }

    #[test]
    fn constructors_reject_quotes_inside() {
        assert!(EntityTag::strong("a\"b").is_err());
        assert!(EntityTag::weak("tab\t").is_err());
    }
}
