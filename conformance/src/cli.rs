//! The command line: `check`, `rules`, `stress` and `pace`.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::check;
use crate::rules::{Profile, CATALOGUE};

mod args;
pub mod config;
mod notify;
mod output;
mod settings;
pub(crate) mod wait;

/// Checks that an HTTP API keeps the ifmatch conflict contract (ETags,
/// If-Match, 412/409, 428, 429, locks, batches, transactions, versions, conflict notifications) and stress-tests it
/// with concurrent writers.
#[derive(Debug, Parser)]
#[command(name = "ifmatch-conformance", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the conformance rules against a server (the embedded reference server by default).
    Check(Box<args::CheckArgs>),
    /// List every rule: ID, level, profile, RFC section, summary.
    Rules {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// N concurrent SDK clients increment one counter; reports lost updates and latency.
    Stress(crate::stress::StressArgs),
    /// N SDK clients against a rate-limited server, adaptive pacing off and on: successes as a share of the limit, and the 429 share.
    Pace(crate::pace::PaceArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ListFormat {
    Text,
    Json,
}

/// Where the CLI writes, so tests can capture it.
pub struct Io<'a> {
    /// Reports and listings.
    pub out: &'a mut dyn Write,
    /// Errors and progress.
    pub err: &'a mut dyn Write,
    /// Whether `err` is a terminal (progress lines are shown only then).
    pub progress: bool,
}

/// Runs the command line `args` (including the program name) and returns the exit status:
/// 0 passed, 1 a required rule failed (or stress lost updates with a safe strategy),
/// 2 usage or connection error. Reads the process's environment and current directory.
pub async fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>, io: Io<'_>) -> i32 {
    run_in(args, io, &Environment::process()).await
}

/// Looks an environment variable up by name.
pub type VarLookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// What the command line reads from its surroundings: environment variables
/// (`${NAME}` in the configuration file, the token variables,
/// `IFMATCH_CONFORMANCE_CONFIG`) and the directory `./ifmatch-conformance.toml`
/// and relative paths are looked up in. Tests give their own, so that they need
/// not change the process's (shared) environment or directory.
pub struct Environment {
    /// Looks a variable up.
    pub var: Box<VarLookup>,
    /// The current directory; `None` for the process's own (paths used as given).
    pub cwd: Option<PathBuf>,
}

impl Environment {
    /// The process's environment variables and current directory.
    pub fn process() -> Environment {
        Environment {
            var: Box::new(|name| std::env::var(name).ok()),
            cwd: None,
        }
    }
}

/// [`run`] with the environment and current directory `env` gives.
pub async fn run_in(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    io: Io<'_>,
    env: &Environment,
) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let text = e.render().to_string();
            let _ = if code == 0 {
                write!(io.out, "{text}")
            } else {
                write!(io.err, "{text}")
            };
            return code;
        }
    };
    match cli.command {
        Command::Rules { format } => {
            let _ = io.out.write_all(list_rules(format).as_bytes());
            0
        }
        Command::Check(args) => run_check(*args, io, env).await,
        Command::Stress(args) => crate::stress::run_cli(args, io).await,
        Command::Pace(args) => crate::pace::run_cli(args, io).await,
    }
}

fn list_rules(format: ListFormat) -> String {
    match format {
        ListFormat::Json => {
            let rules: Vec<serde_json::Value> = CATALOGUE
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "level": r.level, "profile": r.profile,
                        "rfc": r.rfc, "summary": r.summary, "requires": r.requires,
                    })
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&rules).expect("rules serialise");
            s.push('\n');
            s
        }
        ListFormat::Text => {
            let width = CATALOGUE.iter().map(|r| r.id.len()).max().unwrap_or(0);
            let mut s = String::new();
            for r in CATALOGUE {
                s.push_str(&format!(
                    "{:<width$}  {:<6}  {}\n",
                    r.id,
                    r.level.as_str(),
                    r.summary
                ));
                s.push_str(&format!(
                    "{:<width$}  {:<6}  profile {}; {}\n",
                    "",
                    "",
                    r.profile.as_str(),
                    r.rfc
                ));
            }
            s
        }
    }
}

/// Reads the configuration file `check` is pointed at, if any.
fn check_file(
    flag: Option<&std::path::Path>,
    io: &mut Io<'_>,
    env: &Environment,
) -> Result<Option<config::FileConfig>, String> {
    let cwd = env.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
    let Some((path, found)) = config::locate(flag, &*env.var, &cwd) else {
        return Ok(None);
    };
    if found && io.progress {
        let _ = writeln!(io.err, "using {}", path.display());
    }
    config::load(&path, &*env.var).map(Some)
}

async fn run_check(args: args::CheckArgs, mut io: Io<'_>, env: &Environment) -> i32 {
    let settings = check_file(args.config.as_deref(), &mut io, env)
        .and_then(|file| settings::build(&args, file.as_ref(), &*env.var, env.cwd.as_deref()));
    let settings = match settings {
        Ok(s) => s,
        Err(msg) => {
            let _ = writeln!(io.err, "error: {msg}");
            return 2;
        }
    };
    let mut config = settings.config;
    if settings.dry_run {
        let _ = io.out.write_all(crate::dry_run::plan(&config).as_bytes());
        return 0;
    }
    let mut embedded = None;
    if !settings.base_url_given {
        if config.profiles.contains(&Profile::Notifications) {
            config.notifications = config.notifications.clone().with_generated_identities();
        }
        match crate::embedded::start_for(&config).await {
            Ok(servers) => {
                config.base_url = servers.main.base_url();
                config.rate_limit_base_url = servers.rate_limited.as_ref().map(|s| s.base_url());
                if io.progress {
                    let _ = writeln!(
                        io.err,
                        "started the embedded reference server at {}",
                        config.base_url
                    );
                    if let Some(url) = &config.rate_limit_base_url {
                        let _ = writeln!(
                            io.err,
                            "and a rate-limited one for the rate-limit rules at {url}"
                        );
                    }
                }
                embedded = Some(servers);
            }
            Err(e) => {
                let _ = writeln!(io.err, "error: {e}");
                return 2;
            }
        }
    } else if !config.wait_for.is_zero() {
        let url = config.collection_url();
        if io.progress {
            let secs = config.wait_for.as_secs();
            let _ = writeln!(io.err, "waiting up to {secs} s for {url} to answer");
        }
        // No answer in time: the check's own start-up request reports it, as without waiting.
        let _ = wait::until_answers(&url, config.wait_for).await;
    }
    let progress: Option<&mut dyn Write> = if io.progress {
        Some(&mut *io.err)
    } else {
        None
    };
    let result = check::run(&config, progress).await;
    if let Some(servers) = embedded {
        servers.shutdown().await;
    }
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            return 2;
        }
    };
    if let Err(msg) = output::write(&report, &settings.outputs, io.out, io.err) {
        let _ = writeln!(io.err, "error: {msg}");
        return 2;
    }
    report.exit_code()
}

#[cfg(test)]
mod tests;
