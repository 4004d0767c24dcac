//! The configured tokens: checked once at start-up (names, token syntax, duplicates), then
//! looked up in constant time on every request.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::Identity;
use crate::Error;

/// A bearer token. Its `Debug` form hides the secret, so a logged `Config` never leaks it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// One configured credential: who, with which token, in which role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Credential {
    pub(crate) name: String,
    pub(crate) token: Secret,
    pub(crate) admin: bool,
}

const NAME_FORM: &str = "1 to 64 characters of A-Z, a-z, 0-9, `_`, `.` and `-`";
const TOKEN_FORM: &str =
    "a bearer token of 1 to 4096 characters of A-Z, a-z, 0-9, `-._~+/`, optionally ending in `=`";

/// Whether `name` is a valid client name.
pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Whether `token` can travel in `Authorization: Bearer` (RFC 6750 §2.1, `b64token`).
pub(crate) fn valid_token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    (1..=4096).contains(&token.len())
        && !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// Parses `NAME=TOKEN` as the `--client-token` and `--admin-token` flags take it.
pub(crate) fn parse_pair(text: &str, admin: bool) -> Result<Credential, Error> {
    let what = "token pair";
    let invalid = |expected| Error::InvalidValue {
        what,
        // Never echo the token itself.
        value: text
            .split_once('=')
            .map_or_else(|| "(no `=`)".to_owned(), |(name, _)| format!("{name}=…")),
        expected,
    };
    let Some((name, token)) = text.split_once('=') else {
        return Err(invalid("NAME=TOKEN, e.g. alice=s3cr3t-token"));
    };
    if !valid_name(name) {
        return Err(invalid(
            "NAME=TOKEN where NAME is 1 to 64 characters of A-Z, a-z, 0-9, `_`, `.` and `-`",
        ));
    }
    if !valid_token(token) {
        return Err(invalid(
            "NAME=TOKEN where TOKEN is 1 to 4096 characters of A-Z, a-z, 0-9, `-._~+/`, optionally ending in `=`",
        ));
    }
    Ok(Credential {
        name: name.to_owned(),
        token: Secret(token.to_owned()),
        admin,
    })
}

/// The JSON of `--tokens-file`: `{"clients": {"NAME": "TOKEN"}, "admins": {"NAME": "TOKEN"}}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
    clients: Pairs,
    #[serde(default)]
    admins: Pairs,
}

/// A JSON object read as its members in order, keeping repeated names (which a map would
/// silently merge) so that they can be refused.
#[derive(Default)]
struct Pairs(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor;
        impl<'de> Visitor<'de> for PairsVisitor {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of names to token strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, String>()? {
                    pairs.push(pair);
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(PairsVisitor)
    }
}

/// Reads `--tokens-file`.
pub(crate) fn read_file(path: &Path) -> Result<Vec<Credential>, Error> {
    let invalid = |reason: String| Error::TokensFile {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read(path).map_err(|err| invalid(err.to_string()))?;
    let file: TokensFile = serde_json::from_slice(&text).map_err(|err| {
        invalid(format!(
            "{err}; expected {{\"clients\": {{\"NAME\": \"TOKEN\"}}, \"admins\": {{\"NAME\": \"TOKEN\"}}}}"
        ))
    })?;
    let roles = [(file.clients, false), (file.admins, true)];
    let mut credentials = Vec::new();
    for (pairs, admin) in roles {
        for (name, token) in pairs.0 {
            if !valid_name(&name) {
                return Err(invalid(format!(
                    "the name `{}` is not valid: names are {NAME_FORM}",
                    name.escape_debug()
                )));
            }
            if !valid_token(&token) {
                return Err(invalid(format!(
                    "the token of `{name}` is not valid: it must be {TOKEN_FORM}"
                )));
            }
            credentials.push(Credential {
                name,
                token: Secret(token),
                admin,
            });
        }
    }
    Ok(credentials)
}

/// The credentials a server accepts, checked for duplicates.
#[derive(Debug, Default)]
pub(crate) struct TokenTable {
    credentials: Vec<Credential>,
}

impl TokenTable {
    /// Refuses a name or a token given twice (in flags, the file, or both).
    pub(crate) fn new(credentials: Vec<Credential>) -> Result<Self, Error> {
        let mut names = HashSet::new();
        let mut tokens = HashSet::new();
        for credential in &credentials {
            if !valid_name(&credential.name) {
                return Err(Error::Auth {
                    reason: format!(
                        "the client name `{}` is not valid: names are {NAME_FORM}",
                        credential.name.escape_debug()
                    ),
                });
            }
            if !valid_token(&credential.token.0) {
                return Err(Error::Auth {
                    reason: format!(
                        "the token of `{}` is not valid: it must be {TOKEN_FORM}",
                        credential.name
                    ),
                });
            }
            if !names.insert(credential.name.as_str()) {
                return Err(Error::Auth {
                    reason: format!(
                        "the client name `{}` is given twice; every client (or admin) needs its own name",
                        credential.name
                    ),
                });
            }
            if !tokens.insert(credential.token.0.as_str()) {
                return Err(Error::Auth {
                    reason: format!(
                        "the token of `{}` is also another client's token; every client needs its own token",
                        credential.name
                    ),
                });
            }
        }
        Ok(Self { credentials })
    }

    /// Whether any token is configured.
    pub(crate) fn is_empty(&self) -> bool {
        self.credentials.is_empty()
    }

    /// Who `token` belongs to. Every configured token is compared, each in constant time, so
    /// the time taken says neither which token nor how much of one matched.
    pub(crate) fn identify(&self, token: &[u8]) -> Option<Identity> {
        let mut found = None;
        for credential in &self.credentials {
            if constant_time_eq(credential.token.0.as_bytes(), token) {
                found = Some(credential);
            }
        }
        found.map(|credential| Identity {
            name: credential.name.clone(),
            admin: credential.admin,
        })
    }
}

/// Compares without returning early: the time depends only on the lengths. (A token's length
/// is not secret enough to hide; its bytes are.)
pub(crate) fn constant_time_eq(expected: &[u8], given: &[u8]) -> bool {
    let mut difference = u8::from(expected.len() != given.len());
    for (index, byte) in given.iter().enumerate() {
        let other = expected
            .get(index % expected.len().max(1))
            .copied()
            .unwrap_or(0);
        difference |= std::hint::black_box(byte ^ other);
    }
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_agrees_with_eq() {
        for (a, b) in [
            ("", ""),
            ("a", "a"),
            ("a", "b"),
            ("abc", "abd"),
            ("abc", "ab"),
            ("ab", "abc"),
            ("abcabc", "abc"),
            ("", "x"),
            ("x", ""),
        ] {
            assert_eq!(
                constant_time_eq(a.as_bytes(), b.as_bytes()),
                a == b,
                "{a:?} {b:?}"
            );
        }
    }

    #[test]
    fn pairs_are_checked_and_never_echo_the_token() {
        let ok = parse_pair("alice=t0k.en~+/==", false).unwrap();
        assert_eq!(ok.name, "alice");
        assert!(!ok.admin);
        for bad in [
            "alice",
            "=sekrit",
            "al ice=sekrit",
            "alice=",
            "alice=sek rit",
            "alice=a=b",
        ] {
            let err = parse_pair(bad, true).unwrap_err().to_string();
            assert!(err.contains("NAME=TOKEN"), "{bad}: {err}");
            assert!(!err.contains("sek"), "{bad}: {err}");
        }
        assert!(parse_pair(&format!("{}=t", "n".repeat(65)), false).is_err());
        assert!(format!("{ok:?}").contains("Secret(…)"));
    }

    #[test]
    fn duplicates_are_refused_and_lookup_finds_the_role() {
        let alice = parse_pair("alice=a1", false).unwrap();
        let root = parse_pair("root=r1", true).unwrap();
        let table = TokenTable::new(vec![alice.clone(), root.clone()]).unwrap();
        assert_eq!(
            table.identify(b"r1"),
            Some(Identity {
                name: "root".into(),
                admin: true
            })
        );
        assert_eq!(table.identify(b"a1").map(|i| i.admin), Some(false));
        assert_eq!(table.identify(b"a"), None);
        let twice = TokenTable::new(vec![
            alice.clone(),
            parse_pair("alice=other", true).unwrap(),
        ]);
        assert!(twice
            .unwrap_err()
            .to_string()
            .contains("`alice` is given twice"));
        let shared = TokenTable::new(vec![alice, parse_pair("bob=a1", false).unwrap()]);
        assert!(shared.unwrap_err().to_string().contains("token of `bob`"));
    }

    #[test]
    fn the_file_keeps_repeated_names_so_they_can_be_refused() {
        let dir = std::env::temp_dir().join(format!("ifmatch-tokens-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokens.json");
        std::fs::write(
            &path,
            r#"{"clients": {"a": "t1", "a": "t2"}, "admins": {"r": "t3"}}"#,
        )
        .unwrap();
        let credentials = read_file(&path).unwrap();
        assert_eq!(credentials.len(), 3);
        assert!(TokenTable::new(credentials).is_err());
        std::fs::write(&path, r#"{"client": {}}"#).unwrap();
        assert!(read_file(&path)
            .unwrap_err()
            .to_string()
            .contains("unknown field"));
        std::fs::write(&path, r#"{"admins": {"bad name": "t"}}"#).unwrap();
        assert!(read_file(&path)
            .unwrap_err()
            .to_string()
            .contains("not valid"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
