//! A value together with the validator it was read or written with.

use crate::EntityTag;

/// A representation and its version, as returned by every read and write.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Versioned<T> {
    /// The decoded body (for writes answered without a body: the document sent, or `null`).
    pub value: T,
    /// The ETag the server sent, if any.
    pub etag: Option<EntityTag>,
    /// The absolute `Location` of a created resource (from `create`), if the server sent one.
    pub location: Option<String>,
    /// Writes sent by `update()`; HTTP requests sent by the other operations (retries included).
    pub attempts: u32,
    /// Whether the value came from the cache after a 304 Not Modified.
    pub from_cache: bool,
}

impl<T> Versioned<T> {
    pub(crate) fn new(value: T, etag: Option<EntityTag>) -> Self {
        Self {
            value,
            etag,
            location: None,
            attempts: 1,
            from_cache: false,
        }
    }

    /// Converts the value, keeping the version information.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Versioned<U> {
        Versioned {
            value: f(self.value),
            etag: self.etag,
            location: self.location,
            attempts: self.attempts,
            from_cache: self.from_cache,
        }
    }
}
