//! Entity tags and the `If-Match` / `If-None-Match` field values (RFC 9110 §8.8.3, §13.1).

use std::fmt;

/// An entity tag: `"opaque"` (strong) or `W/"opaque"` (weak).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntityTag {
    weak: bool,
    opaque: String,
}

impl EntityTag {
    /// A strong tag. The caller guarantees `opaque` holds only `etagc` characters;
    /// the server builds its own tags from hex digits, decimal digits and `-`.
    pub(crate) fn strong(opaque: String) -> Self {
        debug_assert!(opaque.bytes().all(is_etagc), "invalid etagc in {opaque:?}");
        Self {
            weak: false,
            opaque,
        }
    }

    /// Whether this is a weak tag (`W/"…"`).
    pub(crate) fn is_weak(&self) -> bool {
        self.weak
    }

    /// The text between the quotes.
    pub(crate) fn opaque(&self) -> &str {
        &self.opaque
    }

    /// The same tag (same weakness) with another opaque part; `opaque` must hold only `etagc`
    /// characters, as for [`EntityTag::strong`].
    pub(crate) fn with_opaque(&self, opaque: String) -> Self {
        debug_assert!(opaque.bytes().all(is_etagc), "invalid etagc in {opaque:?}");
        Self {
            weak: self.weak,
            opaque,
        }
    }

    /// Strong comparison (RFC 9110 §8.8.3.2): both strong and the opaque parts equal.
    pub(crate) fn strong_eq(&self, other: &Self) -> bool {
        !self.weak && !other.weak && self.opaque == other.opaque
    }

    /// Weak comparison (RFC 9110 §8.8.3.2): the opaque parts equal, weakness ignored.
    pub(crate) fn weak_eq(&self, other: &Self) -> bool {
        self.opaque == other.opaque
    }

    /// Parses one stored or received tag, e.g. `"a1"` or `W/"a1"`.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut cursor = Cursor::new(text.as_bytes());
        let tag = cursor.entity_tag().ok()?;
        cursor.at_end().then_some(tag)
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

/// The value of an `If-Match` or `If-None-Match` field: `*` or a list of entity tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Condition {
    /// `*`: any current representation.
    Any,
    /// One or more entity tags.
    Tags(Vec<EntityTag>),
}

impl Condition {
    /// Parses the combined field value (several field lines joined with `,`).
    ///
    /// Empty list elements are allowed, as RFC 9110 §5.6.1 asks recipients to accept them.
    pub(crate) fn parse(value: &[u8]) -> Result<Self, String> {
        let trimmed = value.trim_ascii();
        if trimmed == b"*" {
            return Ok(Self::Any);
        }
        let mut cursor = Cursor::new(trimmed);
        let mut tags = Vec::new();
        loop {
            cursor.skip_separators();
            if cursor.at_end() {
                break;
            }
            if cursor.peek() == Some(b'*') {
                return Err("`*` cannot be combined with entity-tags".to_owned());
            }
            tags.push(cursor.entity_tag()?);
            cursor.skip_ows();
            match cursor.peek() {
                None | Some(b',') => {}
                Some(other) => {
                    return Err(format!(
                        "unexpected character `{}` after an entity-tag; separate tags with commas",
                        char::from(other).escape_default()
                    ))
                }
            }
        }
        if tags.is_empty() {
            return Err("the value is empty".to_owned());
        }
        Ok(Self::Tags(tags))
    }
}

/// `etagc = %x21 / %x23-7E / obs-text`
fn is_etagc(byte: u8) -> bool {
    byte == 0x21 || (0x23..=0x7E).contains(&byte) || byte >= 0x80
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    fn entity_tag(&mut self) -> Result<EntityTag, String> {
        let rest = &self.bytes[self.pos..];
        let weak = rest.starts_with(b"W/");
        if weak {
            self.pos += 2;
        }
        if self.peek() != Some(b'"') {
            return Err(
                "expected a quoted entity-tag such as \"v1\" or W/\"v1\" (the quotes are part of the value)"
                    .to_owned(),
            );
        }
        self.pos += 1;
        let start = self.pos;
        while let Some(byte) = self.peek() {
            if byte == b'"' {
                let opaque = String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned();
                self.pos += 1;
                return Ok(EntityTag { weak, opaque });
            }
            if !is_etagc(byte) {
                return Err(format!(
                    "character `{}` is not allowed inside an entity-tag",
                    char::from(byte).escape_default()
                ));
            }
            self.pos += 1;
        }
        Err("an entity-tag is missing its closing quote".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(text: &str) -> EntityTag {
        EntityTag::parse(text).expect("valid tag")
    }

    #[test]
    fn comparison_table_of_rfc_9110_section_8_8_3_2() {
        // (left, right, strong, weak)
        let table = [
            (r#"W/"1""#, r#"W/"1""#, false, true),
            (r#"W/"1""#, r#"W/"2""#, false, false),
            (r#"W/"1""#, r#""1""#, false, true),
            (r#""1""#, r#""1""#, true, true),
        ];
        for (left, right, strong, weak) in table {
            assert_eq!(
                tag(left).strong_eq(&tag(right)),
                strong,
                "{left} vs {right}"
            );
            assert_eq!(tag(left).weak_eq(&tag(right)), weak, "{left} vs {right}");
        }
    }

    #[test]
    fn display_round_trips_strong_and_weak_tags() {
        for text in [r#""abc-1""#, r#"W/"abc""#, r#""""#] {
            assert_eq!(tag(text).to_string(), text);
        }
    }

    #[test]
    fn condition_parses_star_single_and_lists() {
        assert_eq!(Condition::parse(b" * ").unwrap(), Condition::Any);
        assert_eq!(
            Condition::parse(br#""a", W/"b" ,, "c""#).unwrap(),
            Condition::Tags(vec![tag(r#""a""#), tag(r#"W/"b""#), tag(r#""c""#)])
        );
    }

    #[test]
    fn condition_rejects_malformed_values() {
        let cases: [&[u8]; 9] = [
            b"",
            b" , ",
            b"abc",
            br#""abc"#,
            br#"w/"abc""#,
            br#""a" "b""#,
            br#"*, "a""#,
            br#""a b""#,
            b"\"a\x01\"",
        ];
        for case in cases {
            assert!(
                Condition::parse(case).is_err(),
                "{:?} should be rejected",
                String::from_utf8_lossy(case)
            );
        }
    }

    #[test]
    fn parse_rejects_trailing_garbage() {
        assert!(EntityTag::parse(r#""a"x"#).is_none());
        assert!(EntityTag::parse("a").is_none());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn etagc_string() -> impl Strategy<Value = String> {
            // Visible ASCII minus DQUOTE; obs-text is covered by the byte-level property.
            proptest::collection::vec(prop_oneof![Just(0x21u8), 0x23u8..=0x7E], 0..24)
                .prop_map(|bytes| String::from_utf8(bytes).unwrap())
        }

        proptest! {
            #[test]
            fn display_then_parse_round_trips(opaque in etagc_string(), weak: bool) {
                let tag = EntityTag { weak, opaque };
                prop_assert_eq!(EntityTag::parse(&tag.to_string()), Some(tag.clone()));
                let listed = format!("\"other\", {tag}");
                let parsed = Condition::parse(listed.as_bytes()).unwrap();
                prop_assert_eq!(parsed, Condition::Tags(vec![
                    EntityTag { weak: false, opaque: "other".to_owned() },
                    tag,
                ]));
            }

            #[test]
            fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
                let _ = Condition::parse(&bytes);
                let _ = EntityTag::parse(&String::from_utf8_lossy(&bytes));
            }

            #[test]
            fn strong_equality_implies_weak_equality(a in etagc_string(), b in etagc_string(), wa: bool, wb: bool) {
                let left = EntityTag { weak: wa, opaque: a };
                let right = EntityTag { weak: wb, opaque: b };
                prop_assert!(!left.strong_eq(&right) || left.weak_eq(&right));
                prop_assert_eq!(left.strong_eq(&right), right.strong_eq(&left));
            }
        }
    }
}
