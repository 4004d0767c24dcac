//! Unguessable nonces for the names that act as capabilities: lock tokens (whoever sends one
//! may write under the lock) and transaction ids (whoever sends one may act in the
//! transaction). They come from the operating system's random source, not from `fastrand`,
//! whose small fast generator is for ids and jitter, not for secrets.

/// 128 random bits from the operating system, as 32 lowercase hex digits.
///
/// Should the operating system's source fail (it does not on a running Linux, macOS or
/// Windows), the nonce falls back to `fastrand` and the failure is logged as an error: a lock
/// or transaction is still granted, with a name that is unique but easier to guess.
pub(crate) fn unguessable_hex() -> String {
    let mut bytes = [0u8; 16];
    if let Err(e) = getrandom::fill(&mut bytes) {
        tracing::error!(error = %e, "the operating system's random source failed; this lock token or transaction id is made with a weaker generator");
        bytes = fastrand::u128(..).to_le_bytes();
    }
    format!("{:032x}", u128::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_32_hex_digits_and_differ() {
        let a = unguessable_hex();
        let b = unguessable_hex();
        assert_eq!(a.len(), 32, "{a}");
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{a}"
        );
        assert_ne!(a, b);
    }
}
