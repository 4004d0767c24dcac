//! The authentication part of [`Config`]: tokens from flags or a file, and whether anonymous
//! requests are refused.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::tokens::{parse_pair, read_file, Credential, Secret, TokenTable};
use crate::{Config, Error};

/// What [`Config`] keeps about authentication; checked when the router is built.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct AuthSettings {
    credentials: Vec<Credential>,
    tokens_file: Option<PathBuf>,
    require: bool,
}

impl AuthSettings {
    pub(crate) const fn new() -> Self {
        Self {
            credentials: Vec::new(),
            tokens_file: None,
            require: false,
        }
    }

    /// The token table, with the file's tokens read now: fails for a name or token given
    /// twice, an unreadable file, or `--require-auth` without any token.
    pub(crate) fn table(&self) -> Result<TokenTable, Error> {
        let mut credentials = self.credentials.clone();
        if let Some(path) = &self.tokens_file {
            credentials.extend(read_file(path)?);
        }
        let table = TokenTable::new(credentials)?;
        if self.require && table.is_empty() {
            return Err(Error::Auth {
                reason: "--require-auth refuses every request without a token, but no token is configured; add --client-token, --admin-token or --tokens-file".to_owned(),
            });
        }
        Ok(table)
    }

    pub(crate) const fn require(&self) -> bool {
        self.require
    }
}

/// `NAME=TOKEN`, as `--client-token` and `--admin-token` take it. Names are 1 to 64
/// characters of `[A-Za-z0-9_.-]`; tokens are what `Authorization: Bearer` can carry. The
/// `Debug` form and parse errors never show the token.
///
/// ```
/// use ifmatch_server::TokenPair;
///
/// let pair: TokenPair = "alice=s3cr3t".parse().unwrap();
/// assert_eq!((pair.name(), pair.token()), ("alice", "s3cr3t"));
/// assert!("alice".parse::<TokenPair>().is_err());
/// assert!("al ice=x".parse::<TokenPair>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TokenPair {
    name: String,
    token: String,
}

impl TokenPair {
    /// The client's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bearer token.
    pub fn token(&self) -> &str {
        &self.token
    }
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl FromStr for TokenPair {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let credential = parse_pair(text, false)?;
        Ok(Self {
            name: credential.name,
            token: credential.token.0,
        })
    }
}

/// Authentication setters; see `docs/server.md` ("Authentication").
impl Config {
    /// Adds a client that authenticates with `Authorization: Bearer <token>`. Its name is the
    /// `author` of the versions it writes and the `client` of the conflicts it causes. Names
    /// and tokens are checked when the server starts ([`crate::spawn`], [`crate::router`]): a
    /// malformed one, or a name or token given twice, is an [`Error::Auth`].
    pub fn with_client_token(self, name: impl Into<String>, token: impl Into<String>) -> Self {
        self.with_credential(name.into(), token.into(), false)
    }

    /// Adds an admin: a client that may also resolve other clients' conflicts.
    pub fn with_admin_token(self, name: impl Into<String>, token: impl Into<String>) -> Self {
        self.with_credential(name.into(), token.into(), true)
    }

    /// Reads more tokens, when the server starts, from a JSON file
    /// `{"clients": {"NAME": "TOKEN"}, "admins": {"NAME": "TOKEN"}}` (both members optional),
    /// for tokens that should not appear in a process list.
    pub fn with_tokens_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.auth.tokens_file = Some(path.into());
        self
    }

    /// When on, requests without a valid token are refused with 401 (except `/metrics`).
    /// Needs at least one token.
    pub const fn with_require_auth(mut self, on: bool) -> Self {
        self.auth.require = on;
        self
    }

    /// Whether requests without a valid token are refused.
    pub const fn require_auth(&self) -> bool {
        self.auth.require
    }

    fn with_credential(mut self, name: String, token: String, admin: bool) -> Self {
        self.auth.credentials.push(Credential {
            name,
            token: Secret(token),
            admin,
        });
        self
    }
}
