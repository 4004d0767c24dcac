//! Transaction ids: how they are minted, and how a `Transaction-Id` field value is read.

use std::fmt;

/// Names one transaction. Never reused: it joins the table's per-boot random epoch, a counter
/// that only grows, and a 128-bit nonce from the operating system (so an id cannot be guessed,
/// from another one or otherwise: whoever holds it may act in the transaction).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TxId(String);

/// Longest accepted id, so a hostile header cannot make the server hash megabytes.
const MAX_LEN: usize = 128;

impl TxId {
    /// The id of transaction number `seq` in the boot `epoch`.
    pub(crate) fn mint(epoch: &str, seq: u64) -> Self {
        Self(format!(
            "tx-{epoch}-{seq}-{}",
            crate::nonce::unguessable_hex()
        ))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Reads a `Transaction-Id` field value or the `{id}` of `/transactions/{id}`: the id as
    /// the server gave it, optionally in double quotes. Whether it names a transaction is
    /// decided later, by the table.
    pub(crate) fn parse(value: &[u8]) -> Result<Self, String> {
        let value = value.trim_ascii();
        let inner = match value {
            [b'"', inner @ .., b'"'] => inner,
            [b'"', ..] => return Err("the opening quote is not closed".to_owned()),
            _ => value,
        };
        if inner.is_empty() {
            return Err("the id is empty".to_owned());
        }
        if inner.len() > MAX_LEN {
            return Err(format!("the id is longer than {MAX_LEN} characters"));
        }
        if let Some(bad) = inner
            .iter()
            .find(|&&b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
        {
            return Err(format!(
                "character `{}` cannot appear in a transaction id",
                char::from(*bad).escape_default()
            ));
        }
        // Checked above: every byte is ASCII.
        Ok(Self(String::from_utf8_lossy(inner).into_owned()))
    }
}

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_ids_differ_and_read_back() {
        let a = TxId::mint("3f9a", 1);
        let b = TxId::mint("3f9a", 1);
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("tx-3f9a-1-"), "{a}");
        assert_eq!(TxId::parse(a.as_str().as_bytes()), Ok(a.clone()));
        assert_eq!(TxId::parse(format!(" \"{a}\" ").as_bytes()), Ok(a));
    }

    #[test]
    fn malformed_values_are_refused_with_a_reason() {
        let long = "x".repeat(MAX_LEN + 1);
        let cases: [&[u8]; 6] = [b"", b"\"\"", b"\"tx", b"tx a", b"tx/1", long.as_bytes()];
        for case in cases {
            assert!(
                TxId::parse(case).is_err(),
                "{:?} should be refused",
                String::from_utf8_lossy(case)
            );
        }
    }
}
