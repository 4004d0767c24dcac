//! The command line: `check`, `rules` and `stress`.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::check::{self, CheckConfig};
use crate::http::parse_header_arg;
use crate::report;
use crate::rules::{Profile, CATALOGUE};

mod notify;

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
    Check(Box<CheckArgs>),
    /// List every rule: ID, level, profile, RFC section, summary.
    Rules {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// N concurrent SDK clients increment one counter; reports lost updates and latency.
    Stress(crate::stress::StressArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Server to check, e.g. http://127.0.0.1:8080. Without it the embedded
    /// reference server is started on an ephemeral loopback port.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Collection the suite may create (and delete) its own resources in.
    #[arg(long, value_name = "PATH", default_value = "/items")]
    collection: String,
    /// Comma-separated profiles: core, require-preconditions, locking, transactions, versions, notifications, rate-limit.
    #[arg(long, value_name = "LIST", default_value = "core")]
    profile: String,
    /// Status the server uses for a failed If-Match: 412 (RFC) or 409 (declared, non-strict).
    #[arg(long, value_name = "412|409", default_value_t = 412, value_parser = parse_mismatch)]
    mismatch_status: u16,
    /// Extra header for every request, e.g. 'Authorization: Bearer …' (repeatable; redacted in reports).
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    headers: Vec<String>,
    /// Only rules whose ID matches: an ID, an ID prefix (core.if-match) or a glob (*stale*). Repeatable.
    #[arg(long = "rule", value_name = "PATTERN")]
    rules: Vec<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print the requests each selected rule would send, and send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write secret header values (Authorization, Cookie, --header values) into reports.
    #[arg(long)]
    show_secrets: bool,
    /// Longest wait, in seconds, for one Retry-After while checking.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    max_retry_wait: u64,
    /// Where a resource's lock lives (profile locking): {item} is the resource's URL, or {id} its last segment in a path such as /locks/{id}.
    #[arg(long, value_name = "TEMPLATE", default_value = crate::rules::DEFAULT_LOCK_PATH)]
    lock_path: String,
    /// Where atomic batches are sent (profile transactions), joined to --base-url like --collection.
    #[arg(long, value_name = "PATH", default_value = crate::rules::DEFAULT_BATCH_PATH)]
    batch_path: String,
    /// Where transactions begin (profile transactions), joined to --base-url like --collection.
    #[arg(long, value_name = "PATH", default_value = crate::rules::DEFAULT_TRANSACTIONS_PATH)]
    transactions_path: String,
    /// Where a document's history lives (profile versions), a template like --lock-path; version n is at <history>/n.
    #[arg(long, value_name = "TEMPLATE", default_value = crate::rules::DEFAULT_VERSIONS_PATH)]
    versions_path: String,
    /// URL prefixes of API versions 1 and 2 (profile versions), put between --base-url and a document's path; v1 may be empty.
    #[arg(long, value_name = "v1=PATH,v2=PATH", default_value = "v1=/v1,v2=/v2", value_parser = crate::rules::ApiPrefixes::parse)]
    api_prefixes: crate::rules::ApiPrefixes,
    #[command(flatten)]
    notify: Box<notify::NotifyArgs>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Junit,
    Html,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ListFormat {
    Text,
    Json,
}

fn parse_mismatch(s: &str) -> Result<u16, String> {
    match s {
        "412" => Ok(412),
        "409" => Ok(409),
        _ => Err(format!("{s:?} is not 412 or 409")),
    }
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
/// 2 usage or connection error.
pub async fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>, io: Io<'_>) -> i32 {
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
        Command::Check(args) => run_check(*args, io).await,
        Command::Stress(args) => crate::stress::run_cli(args, io).await,
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

fn build_config(args: &CheckArgs, base_url: &str) -> Result<CheckConfig, String> {
    let mut config = CheckConfig::new(base_url);
    config.collection = format!("/{}", args.collection.trim_matches('/'));
    config.profiles = args
        .profile
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(Profile::parse)
        .collect::<Result<_, _>>()?;
    config.profiles.sort();
    config.profiles.dedup();
    if config.profiles.is_empty() {
        return Err("--profile is empty; name at least one profile, e.g. core".into());
    }
    config.mismatch_status = args.mismatch_status;
    config.headers = args
        .headers
        .iter()
        .map(|h| parse_header_arg(h))
        .collect::<Result<_, _>>()?;
    config.rule_patterns = args.rules.clone();
    config.show_secrets = args.show_secrets;
    config.max_retry_wait = Duration::from_secs(args.max_retry_wait);
    if !args.lock_path.contains("{item}") && !args.lock_path.contains("{id}") {
        return Err(format!(
            "--lock-path {:?} names no resource; write {{item}}/lock, or a path with {{id}} such as /locks/{{id}}",
            args.lock_path
        ));
    }
    config.lock_path = args.lock_path.clone();
    config.notifications = args.notify.config(|var| std::env::var(var).ok())?;
    if !args.versions_path.contains("{item}") && !args.versions_path.contains("{id}") {
        return Err(format!(
            "--versions-path {:?} names no resource; write {{item}}/versions, or a path with {{id}} such as /history/{{id}}",
            args.versions_path
        ));
    }
    config.versions_path = args.versions_path.clone();
    config.api_prefixes = args.api_prefixes.clone();
    for (flag, path, example) in [
        ("--batch-path", &args.batch_path, "batch"),
        (
            "--transactions-path",
            &args.transactions_path,
            "transactions",
        ),
    ] {
        if path.trim_matches('/').is_empty() || path.contains(['?', '#', '{']) {
            return Err(format!(
                "{flag} {path:?} is not a path; write one like /{example} or /v1/{example}"
            ));
        }
    }
    config.batch_path = format!("/{}", args.batch_path.trim_matches('/'));
    config.transactions_path = format!("/{}", args.transactions_path.trim_matches('/'));
    if config.selected_rules().is_empty() {
        return Err(format!(
            "no rule matches --rule {} in profiles {}; list the rules with `ifmatch-conformance rules`",
            args.rules.join(", "),
            args.profile
        ));
    }
    if let Some(url) = &args.base_url {
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            format!("--base-url {url:?} is not a URL ({e}); write it like http://127.0.0.1:8080")
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!(
                "--base-url {url:?}: the scheme must be http or https"
            ));
        }
    }
    Ok(config)
}

async fn run_check(args: CheckArgs, io: Io<'_>) -> i32 {
    let placeholder = args
        .base_url
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1:<embedded>".into());
    let config = match build_config(&args, &placeholder) {
        Ok(c) => c,
        Err(msg) => {
            let _ = writeln!(io.err, "error: {msg}");
            return 2;
        }
    };
    if args.dry_run {
        let _ = io.out.write_all(crate::dry_run::plan(&config).as_bytes());
        return 0;
    }
    let mut embedded = None;
    let mut config = config;
    if args.base_url.is_none() {
        if config.profiles.contains(&Profile::Notifications) {
            config.notifications = config.notifications.clone().with_generated_identities();
        }
        let notify = &config.notifications;
        match crate::embedded::start_with(&config.profiles, config.mismatch_status, notify).await {
            Ok(server) => {
                config.base_url = server.base_url();
                if io.progress {
                    let _ = writeln!(
                        io.err,
                        "started the embedded reference server at {}",
                        config.base_url
                    );
                }
                embedded = Some(server);
            }
            Err(e) => {
                let _ = writeln!(io.err, "error: {e}");
                return 2;
            }
        }
    }
    let progress: Option<&mut dyn Write> = if io.progress {
        Some(&mut *io.err)
    } else {
        None
    };
    let result = check::run(&config, progress).await;
    if let Some(server) = embedded {
        server.shutdown().await;
    }
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            return 2;
        }
    };
    let rendered = match args.format {
        Format::Text => report::render_text(&report),
        Format::Json => report::render_json(&report),
        Format::Junit => report::render_junit(&report),
        Format::Html => report::render_html(&report),
    };
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, rendered) {
                let _ = writeln!(
                    io.err,
                    "error: cannot write the report to {}: {e}",
                    path.display()
                );
                return 2;
            }
            let counts: Vec<String> = report
                .counts()
                .iter()
                .map(|(v, n)| format!("{n} {}", v.as_str()))
                .collect();
            let _ = writeln!(
                io.err,
                "{} ({}); report written to {}",
                if report.exit_code() == 0 {
                    "passed"
                } else {
                    "FAILED"
                },
                counts.join(", "),
                path.display()
            );
        }
        None => {
            let _ = io.out.write_all(rendered.as_bytes());
        }
    }
    report.exit_code()
}
