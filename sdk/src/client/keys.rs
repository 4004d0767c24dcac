//! Idempotency keys and jitter seeds.
//!
//! Keys must be unique, not secret: a fastrand generator seeded from the wall clock, a
//! process-local counter and the randomized std hasher (where the platform has one) suffices,
//! and works on wasm32 without pulling in an OS randomness crate.

use std::{
    collections::hash_map::RandomState,
    hash::{BuildHasher, Hasher},
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

static CLIENTS: AtomicU64 = AtomicU64::new(0);

pub(crate) struct KeySource {
    rng: Mutex<fastrand::Rng>,
}

impl KeySource {
    pub(crate) fn new() -> Self {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u128(super::exchange::wall_clock().as_nanos());
        hasher.write_u64(CLIENTS.fetch_add(1, Ordering::Relaxed));
        let local = 0u8;
        hasher.write_usize(std::ptr::addr_of!(local) as usize);
        Self {
            rng: Mutex::new(fastrand::Rng::with_seed(hasher.finish())),
        }
    }

    pub(crate) fn next_u64(&self) -> u64 {
        self.rng.lock().unwrap_or_else(|p| p.into_inner()).u64(..)
    }

    /// A UUID-v4-shaped key as an RFC 8941 string (the Idempotency-Key draft's syntax).
    pub(crate) fn idempotency_key(&self) -> String {
        let (hi, lo) = (self.next_u64(), self.next_u64());
        let hi = (hi & !0xF000) | 0x4000; // version 4
        let lo = (lo & !(0xC << 60)) | (0x8 << 60); // RFC 4122 variant
        format!(
            "\"{:08x}-{:04x}-{:04x}-{:04x}-{:012x}\"",
            hi >> 32,
            (hi >> 16) & 0xFFFF,
            hi & 0xFFFF,
            lo >> 48,
            lo & 0xFFFF_FFFF_FFFF
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_quoted_uuid_shaped_and_distinct() {
        let keys = KeySource::new();
        let a = keys.idempotency_key();
        let b = keys.idempotency_key();
        assert_ne!(a, b);
        assert_eq!(a.len(), 38);
        assert!(a.starts_with('"') && a.ends_with('"'));
        assert_eq!(&a[15..16], "4");
        let other_client = KeySource::new();
        assert_ne!(other_client.idempotency_key(), a);
    }
}
