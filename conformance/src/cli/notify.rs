//! The `check` flags of the `notifications` profile: where the conflict log is,
//! the identities the suite acts as (flags, or environment variables that keep
//! tokens out of `ps`), and how long it waits for a heartbeat.

use std::time::Duration;

use super::config::FileConfig;
use super::settings::pick;
use crate::rules::{
    Identity, NotifyConfig, ADMIN_TOKEN_ENV, DEFAULT_CONFLICTS_PATH, OTHER_TOKEN_ENV, TOKEN_ENV,
};

/// Longest `--sse-wait` accepted, in seconds: every wait of the suite is bounded.
const MAX_SSE_WAIT_SECS: u64 = 600;
/// `--sse-wait` when neither the flag nor the file sets it.
const DEFAULT_SSE_WAIT_SECS: u64 = 20;

/// A flag value that is a secret: never shown by `Debug`, and never echoed by
/// clap (the parser cannot fail, so clap has no error to quote it in).
#[derive(Clone)]
pub(super) struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(crate::http::REDACTED)
    }
}

fn secret(text: &str) -> Result<Secret, std::convert::Infallible> {
    Ok(Secret(text.to_owned()))
}

#[derive(Debug, clap::Args)]
pub(super) struct NotifyArgs {
    /// Where the conflict log lives (profile notifications), joined to --base-url like --collection; its stream is <PATH>/stream [default: /conflicts]
    #[arg(long, value_name = "PATH")]
    conflicts_path: Option<String>,
    /// The client the suite writes and resolves as (profile notifications), NAME=TOKEN; or set IFMATCH_CONFORMANCE_TOKEN.
    #[arg(long, value_name = "NAME=TOKEN", value_parser = secret)]
    token: Option<Secret>,
    /// A second client, which must not resolve the first one's conflicts, NAME=TOKEN; or set IFMATCH_CONFORMANCE_OTHER_TOKEN.
    #[arg(long, value_name = "NAME=TOKEN", value_parser = secret)]
    other_token: Option<Secret>,
    /// An admin, who may resolve any conflict, NAME=TOKEN; or set IFMATCH_CONFORMANCE_ADMIN_TOKEN.
    #[arg(long, value_name = "NAME=TOKEN", value_parser = secret)]
    admin_token: Option<Secret>,
    /// Longest wait, in seconds, for a heartbeat on a quiet conflict stream (profile notifications) [default: 20]
    #[arg(long, value_name = "SECS")]
    sse_wait: Option<u64>,
}

impl NotifyArgs {
    /// The profile's settings: a flag wins over the configuration `file`; a token
    /// given by neither is read from `env`.
    pub(super) fn config(
        &self,
        file: Option<&FileConfig>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<NotifyConfig, String> {
        let path = pick(self.conflicts_path.clone(), file, |f| {
            f.conflicts_path.clone()
        });
        let path = match &path {
            Some((p, origin)) => {
                if p.trim_matches('/').is_empty() || p.contains(['?', '#', '{']) {
                    return Err(format!(
                        "{} is not a path; write one like /conflicts or /v1/conflicts",
                        origin.said("conflicts-path", p)
                    ));
                }
                p.as_str()
            }
            None => DEFAULT_CONFLICTS_PATH,
        };
        let sse_wait = match pick(self.sse_wait, file, |f| f.sse_wait) {
            Some((secs, origin)) if !(1..=MAX_SSE_WAIT_SECS).contains(&secs) => {
                return Err(format!(
                    "{} is out of range; give 1 to {MAX_SSE_WAIT_SECS} seconds",
                    origin.said("sse-wait", &secs)
                ))
            }
            Some((secs, _)) => secs,
            None => DEFAULT_SSE_WAIT_SECS,
        };
        let identity = |flag: &Option<Secret>, key: &str, var: &str| {
            let from_file = |f: &FileConfig| match key {
                "token" => f.token.clone(),
                "other-token" => f.other_token.clone(),
                _ => f.admin_token.clone(),
            };
            let flag = flag.as_ref().map(|Secret(text)| text.clone());
            let (text, source) = match pick(flag, file, from_file) {
                Some((text, origin)) => (Some(text), origin.name(key)),
                None => (env(var).filter(|v| !v.is_empty()), var.to_owned()),
            };
            text.map(|t| Identity::parse(&t, &source)).transpose()
        };
        let config = NotifyConfig {
            conflicts_path: format!("/{}", path.trim_matches('/')),
            writer: identity(&self.token, "token", TOKEN_ENV)?,
            other: identity(&self.other_token, "other-token", OTHER_TOKEN_ENV)?,
            admin: identity(&self.admin_token, "admin-token", ADMIN_TOKEN_ENV)?,
            sse_wait: Duration::from_secs(sse_wait),
        };
        let names: Vec<&str> = [&config.writer, &config.other, &config.admin]
            .into_iter()
            .flatten()
            .map(|i| i.name.as_str())
            .collect();
        if names
            .iter()
            .enumerate()
            .any(|(i, n)| names[..i].contains(n))
        {
            return Err(
                "--token, --other-token and --admin-token must name three different clients".into(),
            );
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        notify: NotifyArgs,
    }

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<NotifyConfig, String> {
        let wrapper = Wrapper::try_parse_from(std::iter::once("x").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        wrapper.notify.config(None, |var| {
            env.iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_and_flags() {
        assert_eq!(parse(&[], &[]).unwrap(), NotifyConfig::default());
        let config = parse(
            &[
                "--conflicts-path",
                "v1/conflicts/",
                "--token",
                "alice=a1",
                "--sse-wait",
                "3",
            ],
            &[],
        )
        .unwrap();
        assert_eq!(config.conflicts_path, "/v1/conflicts");
        assert_eq!(config.writer.unwrap().name, "alice");
        assert_eq!(config.sse_wait, Duration::from_secs(3));
    }

    #[test]
    fn tokens_come_from_the_environment_unless_flagged() {
        let env = [
            (TOKEN_ENV, "eve=e"),
            (OTHER_TOKEN_ENV, "bob=b"),
            (ADMIN_TOKEN_ENV, "root=r"),
        ];
        let config = parse(&["--token", "alice=a"], &env).unwrap();
        assert_eq!(config.writer.unwrap().name, "alice");
        assert_eq!(config.other.unwrap().name, "bob");
        assert_eq!(config.admin.unwrap().token, "r");
    }

    #[test]
    fn bad_values_are_explained_without_echoing_tokens() {
        let err = parse(&["--token", "alice:hunter2"], &[]).unwrap_err();
        assert!(
            err.contains("--token needs NAME=TOKEN") && !err.contains("hunter2"),
            "{err}"
        );
        let err = parse(&[], &[(ADMIN_TOKEN_ENV, "root")]).unwrap_err();
        assert!(err.starts_with(ADMIN_TOKEN_ENV), "{err}");
        let err = parse(&["--token", "a=1", "--admin-token", "a=2"], &[]).unwrap_err();
        assert!(err.contains("three different clients"), "{err}");
        assert!(parse(&["--sse-wait", "0"], &[])
            .unwrap_err()
            .contains("--sse-wait"));
        assert!(parse(&["--conflicts-path", "/"], &[])
            .unwrap_err()
            .contains("not a path"));
        let args = Wrapper::try_parse_from(["x", "--token", "alice=hunter2"]).unwrap();
        assert!(!format!("{args:?}").contains("hunter2"));
    }
}
