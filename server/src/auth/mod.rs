//! Bearer-token authentication: who sent a request.
//!
//! Off unless tokens are configured ([`Config::with_client_token`](crate::Config),
//! `--client-token`, `--admin-token`, `--tokens-file`): then the [`authenticate`] middleware
//! reads `Authorization: Bearer <token>` and puts the client's [`Identity`] into the request's
//! extensions. A request without the field is anonymous (no `Identity`; refused with 401 under
//! `--require-auth`); a malformed field, another scheme or an unknown token is 401 whatever
//! the settings. `/metrics` is never checked. When authentication is off, the field is ignored
//! and every request is anonymous.
//!
//! Handlers that need the client take the [`Author`] extractor (its name, `None` when
//! anonymous) or `Option<Identity>` (name and role). The history of versions records
//! `Author` as the `author` of a write; the conflict log records it as the `client`.

mod settings;
mod tokens;

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub(crate) use settings::AuthSettings;
pub use settings::TokenPair;
pub(crate) use tokens::TokenTable;

use crate::problem::{Problem, ProblemKind};

/// The authenticated client of a request: in the request's extensions when it sent a valid
/// token, absent for anonymous requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    /// The configured name (`[A-Za-z0-9_.-]{1,64}`).
    pub(crate) name: String,
    /// Whether it was configured as an admin (`--admin-token`).
    pub(crate) admin: bool,
}

/// The name of the client that sent a request, `None` for anonymous requests: the `author` a
/// write records. Never fails.
///
/// ```ignore
/// async fn put(Author(author): Author, /* … */) { store.apply_as(&id, author.as_deref(), …) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(dead_code)] // for the routes that write (the history's `author`)
pub(crate) struct Author(pub(crate) Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Author {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Self(
            parts
                .extensions
                .get::<Identity>()
                .map(|identity| identity.name.clone()),
        ))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Identity {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Infallible> {
        Ok(parts.extensions.get::<Self>().cloned())
    }
}

/// The tokens and whether anonymous requests are refused: the middleware's state.
#[derive(Debug)]
pub(crate) struct Authenticator {
    table: TokenTable,
    require: bool,
}

impl Authenticator {
    /// `None` when no token is configured: authentication is off.
    pub(crate) fn new(settings: &AuthSettings) -> Result<Option<Self>, crate::Error> {
        let table = settings.table()?;
        if table.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self {
            table,
            require: settings.require(),
        }))
    }

    /// Who sent `headers`: `Ok(None)` for no `Authorization`, `Err` with the reason for a
    /// field that does not name a configured token.
    pub(crate) fn identify(&self, headers: &HeaderMap) -> Result<Option<Identity>, &'static str> {
        let mut values = headers.get_all(header::AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err("the request carries Authorization more than once; send exactly one");
        }
        let token = bearer_token(value.as_bytes())
            .ok_or("Authorization is not of the form `Bearer <token>`")?;
        self.table
            .identify(token)
            .map(Some)
            .ok_or("the bearer token is not one this server knows")
    }
}

/// What [`Authenticator::identify`] found, when the rate limit (which runs first, to key its
/// buckets by client) already asked: the authentication middleware takes it from the request's
/// extensions instead of looking the token up again.
#[derive(Debug, Clone)]
pub(crate) struct Identified(pub(crate) Result<Option<Identity>, &'static str>);

/// The token of `Bearer <token>` (scheme case-insensitive, RFC 9110 §11.1).
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let space = value.iter().position(|&b| b == b' ')?;
    let (scheme, rest) = value.split_at(space);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty() && !token.contains(&b' ')).then_some(token)
}

/// Middleware: resolves `Authorization: Bearer` to an [`Identity`] or answers 401.
pub(crate) async fn authenticate(
    State(auth): State<Arc<Authenticator>>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.uri().path() == "/metrics" {
        return next.run(request).await;
    }
    let identified = match request.extensions_mut().remove::<Identified>() {
        Some(Identified(identified)) => identified,
        None => auth.identify(request.headers()),
    };
    match identified {
        Ok(Some(identity)) => {
            request.extensions_mut().insert(identity);
            next.run(request).await
        }
        Ok(None) if !auth.require => next.run(request).await,
        Ok(None) => unauthorized(
            request.uri().path(),
            "this server needs a token for every request: send Authorization: Bearer <token> with the token you were given",
        )
        .into_response(),
        Err(reason) => unauthorized(
            request.uri().path(),
            &format!("{reason}. Nothing was done; send Authorization: Bearer <token> with the token you were given, or no Authorization at all where anonymous access is allowed"),
        )
        .into_response(),
    }
}

/// The `WWW-Authenticate` challenge of every 401 (RFC 6750 §3).
pub(crate) const CHALLENGE: &str = "Bearer realm=\"ifmatch\"";

/// `401 unauthorized` with the challenge.
pub(crate) fn unauthorized(instance: &str, detail: &str) -> Problem {
    Problem::new(ProblemKind::Unauthorized, instance, detail).with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(CHALLENGE),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_from_the_field() {
        assert_eq!(bearer_token(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer_token(b"bearer   abc "), Some(&b"abc"[..]));
        assert_eq!(bearer_token(b"Basic abc"), None);
        assert_eq!(bearer_token(b"Bearer"), None);
        assert_eq!(bearer_token(b"Bearer "), None);
        assert_eq!(bearer_token(b"Bearer a b"), None);
        assert_eq!(bearer_token(b"Bearerabc"), None);
    }
}
