//! The crate's one error type.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything that can go wrong when configuring or starting the server.
///
/// Request-level failures never surface here: they become `application/problem+json` answers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listening socket could not be bound (address in use, no permission, ...).
    #[error(
        "cannot listen on {addr}: {source}; pick a free address or port 0 for an ephemeral one"
    )]
    Bind {
        /// The address that was requested.
        addr: SocketAddr,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The SQLite database could not be opened or prepared.
    #[error("cannot open the SQLite database at {}: {source}; check the path and its permissions", path.display())]
    SqliteOpen {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The PostgreSQL database could not be reached or prepared.
    #[error("cannot open the PostgreSQL database {target}: {source}; check that the server runs, the URL (user, password, host, port, database) and that the user may create tables")]
    PostgresOpen {
        /// Where the URL connects (user, hosts, database), without the password.
        target: String,
        /// The database's or the connection's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A configuration value given as text (flag or `FromStr`) is not valid.
    #[error("invalid {what} `{value}`: expected {expected}")]
    InvalidValue {
        /// Which setting was being parsed.
        what: &'static str,
        /// The text that was given.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// A `--faults` spec is not valid: which item, why, and the forms accepted.
    #[error("invalid --faults item `{part}`: {why}; expected {expected}")]
    InvalidFaults {
        /// The item (or the whole spec, when the rates add up to more than 1).
        part: String,
        /// What is wrong with it.
        why: String,
        /// The valid forms.
        expected: &'static str,
    },
    /// The `--tokens-file` could not be read or is not valid.
    #[error("cannot use the tokens file {}: {reason}", path.display())]
    TokensFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The authentication settings contradict themselves (a name or token given twice,
    /// `--require-auth` without any token).
    #[error("invalid authentication settings: {reason}")]
    Auth {
        /// What is wrong, and what to do.
        reason: String,
    },
}
