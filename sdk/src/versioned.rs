//! A value together with the validator it was read or written with.

use http::{HeaderMap, StatusCode};

use crate::{EntityTag, Version};

/// A representation and its version, as returned by every read and write.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Versioned<T> {
    /// The decoded body: for a write, the representation when the server named it, else (PUT)
    /// the document sent, else the server's answer (`null` when empty).
    pub value: T,
    /// The version `value` is at: the ETag the server sent for it. `None` when there was none,
    /// or when a write's answer is not known to be the resource (so no later write can be made
    /// conditional on a body the server never said it stored).
    pub etag: Option<EntityTag>,
    /// The absolute `Location` of a created resource (from `create`), if the server sent one.
    pub location: Option<String>,
    /// Writes sent by `update()`; times the write was sent for `put`/`patch`/`delete`/`create`
    /// (resends included); HTTP requests sent by `get` (revalidation and redirects included).
    pub attempts: u32,
    /// Whether the value came from the cache after a 304 Not Modified.
    pub from_cache: bool,
    /// The version number or token `value` is at, when known: with a
    /// [`crate::ClientBuilder::version_field`], the one in the body at its pointer; otherwise
    /// the `Version` response header (which the reference server sends); for
    /// [`crate::Client::version`], the version asked for. `None` when the server named none, or
    /// when a write's answer is not known to be the resource.
    pub version: Option<Version>,
    /// The headers of the response `value` came from: for a read served from the cache, those
    /// of the `304 Not Modified` (the cache keeps no headers to merge them with); for `update`,
    /// those of its successful write; empty where no response was involved (e.g. a value made
    /// with [`Versioned::map`] keeps its own). Moved out of the response, not copied, where
    /// the response is not needed afterwards.
    pub headers: HeaderMap,
    /// The status of that response: `304` for a read served from the cache, `200` where no
    /// response was involved.
    pub status: StatusCode,
}

impl<T> Versioned<T> {
    pub(crate) fn new(value: T, etag: Option<EntityTag>) -> Self {
        Self {
            value,
            etag,
            location: None,
            attempts: 1,
            from_cache: false,
            version: None,
            headers: HeaderMap::new(),
            status: StatusCode::OK,
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
            version: self.version,
            headers: self.headers,
            status: self.status,
        }
    }
}
