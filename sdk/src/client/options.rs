//! Per-request options shared by every request builder: extra headers, query, attempt timeout.

use std::{sync::Arc, time::Duration};

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::{lock::LockState, Error};

/// What one request adds to the client's settings. A bad header is kept as an error and
/// returned when the request is sent, so builder chains stay infallible (as reqwest's do).
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    pub headers: HeaderMap,
    pub query: Vec<(String, String)>,
    /// `Some(None)`: no attempt timeout for this request; `None`: the client's.
    pub attempt_timeout: Option<Option<Duration>>,
    /// The lock a write is made under, when named explicitly.
    pub lock: Option<Arc<LockState>>,
    /// The transaction the request is made in.
    pub transaction: Option<crate::Transaction>,
    pub invalid: Option<String>,
}

impl Options {
    /// Options carrying only these headers.
    pub(crate) fn with_headers(headers: HeaderMap) -> Self {
        Self {
            headers,
            ..Self::default()
        }
    }

    pub(crate) fn header(&mut self, name: &str, value: &str) {
        let name = match HeaderName::from_bytes(name.as_bytes()) {
            Ok(name) => name,
            Err(e) => return self.reject(format!("invalid header name {name:?}: {e}")),
        };
        match HeaderValue::from_str(value) {
            Ok(value) => {
                self.headers.insert(name, value);
            }
            Err(e) => self.reject(format!("invalid value for header {name}: {e}")),
        }
    }

    /// `Authorization: Bearer <token>` for this request only.
    pub(crate) fn bearer_token(&mut self, token: &str) {
        match super::auth::bearer(token) {
            Ok(value) => {
                self.headers.insert(http::header::AUTHORIZATION, value);
            }
            Err(reason) => self.reject(reason),
        }
    }

    fn reject(&mut self, reason: String) {
        self.invalid.get_or_insert(reason);
    }

    /// The first invalid setting, as the error the request fails with.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if let Some(tx) = &self.transaction {
            tx.check_open()?;
        }
        match &self.invalid {
            Some(reason) => Err(Error::Config {
                field: "header",
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// Generates the per-request option setters on a builder with an `options: Options` field.
macro_rules! request_options {
    ($builder:ident $(<$($param:ident),*>)?) => {
        impl$(<$($param),*>)? $builder$(<$($param),*>)? {
            /// Adds a header to this request only (after the client's own headers, replacing
            /// one of the same name). An invalid name or value fails the request with
            /// [`crate::Error::Config`] when it is sent.
            pub fn header(mut self, name: &str, value: &str) -> Self {
                self.options.header(name, value);
                self
            }

            /// Sends `Authorization: Bearer <token>` with this request instead of the client's
            /// [`crate::ClientBuilder::bearer_token`]. The value is marked sensitive (never in
            /// `Debug` output or logs); a token that cannot be sent in a header fails the
            /// request with [`crate::Error::Config`] when it is sent.
            pub fn bearer_token(mut self, token: &str) -> Self {
                self.options.bearer_token(token);
                self
            }

            /// Appends query parameters (percent-encoded) to this request's URL. The ETag cache
            /// keys on the whole URL, so each query has its own entry.
            pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
                self.options.query.extend(
                    pairs
                        .iter()
                        .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned())),
                );
                self
            }

            /// The attempt timeout for this request (each HTTP request it sends), instead of
            /// the client's `attempt_timeout`; `None` for no limit.
            pub fn timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
                self.options.attempt_timeout = Some(timeout);
                self
            }

            /// Sends `Api-Version: <version>` with this request instead of the client's
            /// [`crate::ClientBuilder::api_version`] (an invalid value fails the request with
            /// [`crate::Error::Config`] when it is sent).
            pub fn api_version(mut self, version: &str) -> Self {
                self.options.header("api-version", version);
                self
            }
        }
    };
}

pub(crate) use request_options;

/// Generates `.under(&lock)` on a write builder with an `options: Options` field.
macro_rules! under_lock {
    ($builder:ident $(<$($param:ident),*>)?) => {
        impl$(<$($param),*>)? $builder$(<$($param),*>)? {
            /// Makes this write under `lock`: it carries that lock's token. Needed only when
            /// tasks sharing the client each hold a lock on the resource; otherwise the
            /// client's one lock on it is used by itself.
            pub fn under(mut self, lock: &crate::LockGuard) -> Self {
                self.options.lock = Some(lock.state().clone());
                self
            }
        }
    };
}

pub(crate) use under_lock;

/// Generates `.within(&tx)` on a request builder with an `options: Options` field.
macro_rules! within_transaction {
    ($builder:ident $(<$($param:ident),*>)?) => {
        impl$(<$($param),*>)? $builder$(<$($param),*>)? {
            /// Makes this request inside `tx`: it carries `Transaction-Id`, sees (or stages)
            /// the transaction's state, and neither uses nor fills the ETag cache (a write's
            /// tag is provisional until the commit). What [`crate::Transaction::get`],
            /// [`crate::Transaction::put`], … return is already within it.
            pub fn within(mut self, tx: &crate::Transaction) -> Self {
                self.options.transaction = Some(tx.clone());
                self
            }
        }
    };
}

pub(crate) use within_transaction;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_invalid_header_is_reported_when_sent() {
        let mut options = Options::default();
        options.header("x-ok", "1");
        options.header("bad name", "v");
        options.header("x", "line\nbreak");
        let err = options.check().unwrap_err();
        assert_eq!(err.code(), "invalid_config");
        assert!(err.to_string().contains("\"bad name\""), "{err}");
        assert_eq!(options.headers["x-ok"], "1");
    }
}
