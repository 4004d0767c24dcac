//! Lock tokens: how they are minted, and how a `Lock-Token` field value is read.

use std::fmt;

/// Names one grant of a lock. Never reused: it joins the lock table's per-boot random epoch,
/// a grant counter that only grows, and a 128-bit nonce from the operating system. The epoch
/// keeps tokens of earlier boots from matching (locks live in the process, so a restart forgets
/// them); the nonce keeps a token from being derived from what `GET …/lock` shows (the fencing
/// number) or guessed from other tokens: whoever holds a token may write under the lock.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct LockToken(String);

/// Longest accepted token, so a hostile header cannot make the server compare megabytes.
const MAX_LEN: usize = 128;

impl LockToken {
    /// The token of grant number `seq` in the boot `epoch`.
    pub(crate) fn mint(epoch: &str, seq: u64) -> Self {
        Self(format!(
            "lock-{epoch}-{seq}-{}",
            crate::nonce::unguessable_hex()
        ))
    }

    /// A token as the database stored it when it was minted.
    pub(crate) fn from_stored(token: String) -> Self {
        Self(token)
    }

    /// The token as the JSON `token` member carries it (no quotes).
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The `Lock-Token` field value the server sends: the token in double quotes.
    pub(crate) fn header_value(&self) -> String {
        format!("\"{}\"", self.0)
    }

    /// Reads a `Lock-Token` field value. The server sends `"token"`; WebDAV clients send a
    /// Coded-URL `<token>`, and a hand-written request may send it bare, so all three are
    /// accepted. Whether the token names a live lock is decided later, by the lock table.
    pub(crate) fn parse(value: &[u8]) -> Result<Self, String> {
        let value = value.trim_ascii();
        let inner = match (value.first(), value.last()) {
            (Some(b'"'), Some(b'"')) | (Some(b'<'), Some(b'>')) if value.len() >= 2 => {
                &value[1..value.len() - 1]
            }
            (Some(b'"' | b'<'), _) => {
                return Err("the opening quote or angle bracket is not closed".to_owned())
            }
            _ => value,
        };
        if inner.is_empty() {
            return Err("the token is empty".to_owned());
        }
        if inner.len() > MAX_LEN {
            return Err(format!("the token is longer than {MAX_LEN} characters"));
        }
        if let Some(bad) = inner
            .iter()
            .find(|&&b| !b.is_ascii_graphic() || matches!(b, b'"' | b'<' | b'>'))
        {
            return Err(format!(
                "character `{}` cannot appear in a lock token",
                char::from(*bad).escape_default()
            ));
        }
        // Checked above: every byte is visible ASCII.
        Ok(Self(String::from_utf8_lossy(inner).into_owned()))
    }
}

impl fmt::Display for LockToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_differ_even_for_the_same_epoch_and_sequence() {
        let a = LockToken::mint("e", 1);
        let b = LockToken::mint("e", 1);
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("lock-e-1-"), "{a}");
    }

    #[test]
    fn quoted_angle_bracketed_and_bare_values_name_the_same_token() {
        let token = LockToken::mint("3f9a", 7);
        for value in [
            token.header_value(),
            format!("<{token}>"),
            token.to_string(),
            format!("  {}\t", token.header_value()),
        ] {
            assert_eq!(
                LockToken::parse(value.as_bytes()),
                Ok(token.clone()),
                "{value}"
            );
        }
    }

    #[test]
    fn malformed_values_are_refused_with_a_reason() {
        let long = "x".repeat(MAX_LEN + 1);
        let cases: [&[u8]; 8] = [
            b"",
            b"\"\"",
            b"<>",
            b"\"abc",
            b"<abc",
            b"a b",
            b"\"a\"b\"",
            long.as_bytes(),
        ];
        for case in cases {
            assert!(
                LockToken::parse(case).is_err(),
                "{:?} should be refused",
                String::from_utf8_lossy(case)
            );
        }
    }
}
