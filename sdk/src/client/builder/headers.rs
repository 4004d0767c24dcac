//! Headers sent with every request: any header, and the bearer token.

use http::{HeaderName, HeaderValue};

use crate::Error;

use super::ClientBuilder;

impl ClientBuilder {
    /// A header sent with every request (e.g. `authorization`).
    ///
    /// # Errors
    /// [`Error::Config`] if the name or value is not valid in HTTP.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, Error> {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| Error::Config {
            field: "header",
            reason: format!("invalid header name {name:?}: {e}"),
        })?;
        let value = HeaderValue::from_str(value).map_err(|e| Error::Config {
            field: "header",
            reason: format!("invalid value for {name}: {e}"),
        })?;
        self.headers.insert(name, value);
        Ok(self)
    }

    /// Sends `Authorization: Bearer <token>` with every request (the reference server's
    /// authentication, see `docs/server.md`). The token is marked sensitive: it never appears in
    /// `Debug` output, errors or logs. One request can send another with its own
    /// `.bearer_token(..)` (or `.header("authorization", ..)`).
    ///
    /// # Errors
    /// [`Error::Config`] if the token cannot be sent in a header (not visible ASCII); the error
    /// does not repeat the token.
    pub fn bearer_token(mut self, token: &str) -> Result<Self, Error> {
        let value = crate::client::auth::bearer(token).map_err(|reason| Error::Config {
            field: "bearer_token",
            reason,
        })?;
        self.headers.insert(http::header::AUTHORIZATION, value);
        Ok(self)
    }
}
