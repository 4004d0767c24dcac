//! What the `notifications` profile needs to know beyond the collection: where
//! the conflict log lives, the identities it acts as, and how long it waits for
//! a stream's heartbeat.

use std::time::Duration;

use crate::http::REDACTED;

/// Where the conflict log lives by default, relative to the base URL.
pub const DEFAULT_CONFLICTS_PATH: &str = "/conflicts";
/// How long `notifications.stream-heartbeat` waits for a comment by default: a
/// little more than the reference server's 15 s heartbeat.
pub const DEFAULT_SSE_WAIT: Duration = Duration::from_secs(20);
/// The environment variable read when `--token` is not given.
pub const TOKEN_ENV: &str = "IFMATCH_CONFORMANCE_TOKEN";
/// The environment variable read when `--other-token` is not given.
pub const OTHER_TOKEN_ENV: &str = "IFMATCH_CONFORMANCE_OTHER_TOKEN";
/// The environment variable read when `--admin-token` is not given.
pub const ADMIN_TOKEN_ENV: &str = "IFMATCH_CONFORMANCE_ADMIN_TOKEN";

/// A client the suite acts as: its name (what the server records as `client`)
/// and its bearer token. `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    /// The client's name.
    pub name: String,
    /// Its bearer token (a secret).
    pub token: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("name", &self.name)
            .field("token", &REDACTED)
            .finish()
    }
}

impl Identity {
    /// Parses `NAME=TOKEN`; `what` names the flag in the error.
    pub fn parse(text: &str, what: &str) -> Result<Identity, String> {
        let (name, token) = text.split_once('=').ok_or_else(|| {
            format!("{what} needs NAME=TOKEN: the client's name, '=', and its bearer token")
        })?;
        let (name, token) = (name.trim(), token.trim());
        let valid_name = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if !valid_name {
            return Err(format!(
                "{what}: the name {name:?} must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', '-'"
            ));
        }
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "{what}: the token for {name:?} must be non-empty visible ASCII (no spaces)"
            ));
        }
        Ok(Identity {
            name: name.to_owned(),
            token: token.to_owned(),
        })
    }

    /// The `Authorization` value.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }
}

/// The settings of the `notifications` profile.
///
/// # Defaults
/// conflicts at `/conflicts`, no identities (the suite writes and resolves
/// anonymously, and the rules about who may resolve are skipped), a 20 s wait
/// for a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyConfig {
    /// Where the conflict log lives, joined to the base URL like the collection;
    /// the stream is at `{conflicts}/stream`, a record at `{conflicts}/{id}`.
    pub conflicts_path: String,
    /// The client the suite writes and resolves as (`--token`).
    pub writer: Option<Identity>,
    /// Another client, which must not resolve the writer's conflicts (`--other-token`).
    pub other: Option<Identity>,
    /// An admin, who may resolve anyone's conflicts (`--admin-token`).
    pub admin: Option<Identity>,
    /// Longest wait for a comment (heartbeat) on a quiet stream.
    pub sse_wait: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            conflicts_path: DEFAULT_CONFLICTS_PATH.into(),
            writer: None,
            other: None,
            admin: None,
            sse_wait: DEFAULT_SSE_WAIT,
        }
    }
}

impl NotifyConfig {
    /// Fills in the identities not given with new ones, named `ifmatch-writer`,
    /// `ifmatch-other` and `ifmatch-admin`, whose tokens are drawn for this run
    /// (for the embedded server, which is started knowing them; they are random,
    /// not secret-grade, and live only as long as that loopback server).
    pub fn with_generated_identities(mut self) -> Self {
        for (slot, name) in [
            (&mut self.writer, "ifmatch-writer"),
            (&mut self.other, "ifmatch-other"),
            (&mut self.admin, "ifmatch-admin"),
        ] {
            if slot.is_none() {
                *slot = Some(Identity {
                    name: name.to_owned(),
                    token: random_token(),
                });
            }
        }
        self
    }
}

/// 32 hex digits from the standard library's randomly keyed hasher.
fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut digits = String::new();
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        digits.push_str(&format!("{:016x}", h.finish()));
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_documented() {
        let config = NotifyConfig::default();
        assert_eq!(config.conflicts_path, "/conflicts");
        assert_eq!(config.sse_wait, Duration::from_secs(20));
        assert!(config.writer.is_none() && config.other.is_none() && config.admin.is_none());
    }

    #[test]
    fn generated_identities_fill_only_the_missing_ones() {
        let given = Identity::parse("alice=a", "--token").unwrap();
        let config = NotifyConfig {
            writer: Some(given.clone()),
            ..NotifyConfig::default()
        }
        .with_generated_identities();
        assert_eq!(config.writer, Some(given));
        let (other, admin) = (config.other.unwrap(), config.admin.unwrap());
        assert_eq!(
            (other.name.as_str(), admin.name.as_str()),
            ("ifmatch-other", "ifmatch-admin")
        );
        assert_eq!(other.token.len(), 32);
        assert_ne!(other.token, admin.token);
    }

    #[test]
    fn identities_parse_and_never_show_their_token() {
        let alice = Identity::parse("alice=s3cr3t", "--token").unwrap();
        assert_eq!(
            (alice.name.as_str(), alice.bearer().as_str()),
            ("alice", "Bearer s3cr3t")
        );
        assert!(!format!("{alice:?}").contains("s3cr3t"));
        for bad in ["alice", "=t", "al ice=t", "alice=", "alice=a b"] {
            let err = Identity::parse(bad, "--token").unwrap_err();
            assert!(err.starts_with("--token"), "{err}");
            assert!(!err.contains("a b"), "{err}");
        }
    }
}
