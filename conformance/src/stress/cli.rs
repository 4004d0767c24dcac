//! `ifmatch-conformance stress`: its flags, the configuration file they share with
//! `check`, and the exit status.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{run, RetryArg, StrategyArg, StressConfig, StressSummary, MAX_CLIENTS, MAX_UPDATES};
use crate::cli::config;
use crate::cli::Io;

/// Longest `--wait-for`, in seconds.
const MAX_WAIT_FOR: u64 = 600;

/// Arguments of `ifmatch-conformance stress`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 every started update was acknowledged and no safe strategy (reapply, merge, lock) lost one; 1 an update failed (the summary says why) or a safe strategy lost updates; 2 usage, configuration or connection errors."
)]
pub struct StressArgs {
    /// The configuration file describing the target (as for `check`): base-url,
    /// header, collection, wait-for and the [create], [version] and [body] tables.
    /// Default: $IFMATCH_CONFORMANCE_CONFIG, else ./ifmatch-conformance.toml if it exists.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Server to load, e.g. http://127.0.0.1:8080. Repeat it (or separate URLs
    /// with commas) to spread clients over replicas. Without it the embedded
    /// reference server is started on an ephemeral loopback port.
    #[arg(long, value_name = "URL")]
    base_url: Vec<String>,
    /// Collection to create the counter document in, used exactly as given (a
    /// trailing slash is kept). Default /items.
    #[arg(long, value_name = "PATH")]
    collection: Option<String>,
    /// Extra header for every request, e.g. 'Authorization: Bearer …' (repeatable; redacted in output).
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    headers: Vec<String>,
    /// Concurrent clients (1 to 256).
    #[arg(long, value_name = "N", default_value_t = 8)]
    clients: usize,
    /// Increments per client (1 to 10000).
    #[arg(long, value_name = "M", default_value_t = 25)]
    updates: usize,
    /// How clients write.
    #[arg(long, value_enum, default_value_t = StrategyArg::Reapply)]
    strategy: StrategyArg,
    /// How reapply, merge and lww retry a version conflict (client-go: the baseline to compare with).
    #[arg(long, value_enum, default_value_t = RetryArg::Contended)]
    retry: RetryArg,
    /// Do not ask refusals to carry the current document (`Prefer: return=representation`):
    /// every conflict is followed by a GET, as against a server that ignores the preference.
    #[arg(long)]
    no_representation: bool,
    /// Tell the SDK the server honours `Idempotency-Key` (replays the first answer of a keyed
    /// write): every write carries a key, and one whose answer was lost is resent with it
    /// instead of ending as an unknown outcome.
    #[arg(long)]
    idempotency_keys: bool,
    /// Make the clients tasks that share one SDK client (as the threads of one process would),
    /// instead of one client each (as separate processes): its update queue makes their updates
    /// of the counter take turns. Only with --strategy reapply, merge or lww.
    #[arg(long)]
    shared_client: bool,
    /// Slots in the counter document (at least --clients; default one per client). A 1-client
    /// baseline for an N-client run takes --slots N, so that both write the same document.
    #[arg(long, value_name = "N")]
    slots: Option<usize>,
    /// Stop starting new updates after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    max_duration: u64,
    /// Wait up to this many seconds for the server to answer before starting.
    #[arg(long, value_name = "SECS")]
    wait_for: Option<u64>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// The exit status of a run: 1 when any update failed, or when a strategy that
/// promises no loss (`reapply`, `merge`, `lock`) lost (or invented) updates; else 0.
/// (2, for usage and connection errors, is never a run's.)
pub fn exit_code(strategy: StrategyArg, summary: &StressSummary) -> i32 {
    let wrong_count = summary.lost_updates != 0 || summary.extra_updates != 0;
    i32::from(summary.failed != 0 || (strategy.is_safe() && wrong_count))
}

/// The run the flags and the configuration file describe, and the `wait-for` seconds.
fn configure(args: &StressArgs, cwd: &Path) -> Result<(StressConfig, u64), String> {
    if !(1..=MAX_CLIENTS).contains(&args.clients) || !(1..=MAX_UPDATES).contains(&args.updates) {
        return Err(format!(
            "--clients must be 1..={MAX_CLIENTS} and --updates 1..={MAX_UPDATES} (got {} and {})",
            args.clients, args.updates
        ));
    }
    let env = |name: &str| std::env::var(name).ok();
    let file = match config::locate(args.config.as_deref(), env, cwd) {
        Some((path, _)) => config::load(&path, env)?,
        None => config::FileConfig::default(),
    };
    let urls = if args.base_url.is_empty() {
        file.base_url.iter().cloned().collect()
    } else {
        args.base_url.clone()
    };
    let mut config = StressConfig::new("");
    config.base_urls = urls
        .iter()
        .flat_map(|u| u.split(','))
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect();
    for url in &config.base_urls {
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            format!("--base-url {url:?} is not a URL ({e}); write it like http://127.0.0.1:8080")
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!(
                "--base-url {url:?}: the scheme must be http or https"
            ));
        }
    }
    if let Some(c) = args.collection.clone().or(file.collection.clone()) {
        config.collection = c;
    }
    config.headers = config::merge_headers(&args.headers, Some(&file))?;
    config.shape = file.shape;
    config.clients = args.clients;
    config.updates = args.updates;
    config.strategy = args.strategy;
    config.retry = args.retry;
    config.representation = !args.no_representation;
    config.idempotency_keys = args.idempotency_keys;
    config.shared_client = args.shared_client;
    config.slots = args.slots;
    config.max_duration = Duration::from_secs(args.max_duration);
    let wait_for = args.wait_for.or(file.wait_for).unwrap_or(0);
    if wait_for > MAX_WAIT_FOR {
        return Err(format!(
            "--wait-for {wait_for}: give at most {MAX_WAIT_FOR} seconds"
        ));
    }
    Ok((config, wait_for))
}

/// Runs the `stress` subcommand; see [`exit_code`], and 2 for usage or connection errors.
pub async fn run_cli(args: StressArgs, io: Io<'_>) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let (mut config, wait_for) = match configure(&args, &cwd) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            return 2;
        }
    };
    let mut embedded = None;
    if config.base_urls.is_empty() {
        match crate::embedded::start(&[], 412).await {
            Ok(server) => {
                config.base_urls = vec![server.base_url()];
                embedded = Some(server);
            }
            Err(e) => {
                let _ = writeln!(io.err, "error: {e}");
                return 2;
            }
        }
    } else if wait_for > 0 {
        for url in &config.base_urls {
            let limit = Duration::from_secs(wait_for);
            if let Err(e) = crate::cli::wait::until_answers(url, limit).await {
                let _ = writeln!(
                    io.err,
                    "error: {url} did not answer within --wait-for {wait_for} s ({e}); is the server running and --base-url right?"
                );
                return 2;
            }
        }
    }
    let result = run(&config).await;
    if let Some(server) = embedded {
        server.shutdown().await;
    }
    match result {
        Ok(summary) => {
            let text = if args.json {
                summary.to_json()
            } else {
                summary.to_text()
            };
            let _ = io.out.write_all(text.as_bytes());
            exit_code(args.strategy, &summary)
        }
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_flag_replaces_the_files_header_of_its_name() {
        let file = config::FileConfig {
            header: Some(vec![
                "Authorization: Bearer file".into(),
                "X-Team: a".into(),
            ]),
            ..config::FileConfig::default()
        };
        let merged =
            config::merge_headers(&["authorization: Bearer flag".into()], Some(&file)).unwrap();
        assert_eq!(
            merged,
            vec![
                ("X-Team".to_owned(), "a".to_owned()),
                ("authorization".to_owned(), "Bearer flag".to_owned()),
            ]
        );
        let bad = config::FileConfig {
            header: Some(vec!["no colon".into()]),
            ..config::FileConfig::default()
        };
        assert!(config::merge_headers(&[], Some(&bad))
            .unwrap_err()
            .contains("header \"no colon\""));
    }

    #[test]
    fn exit_status_counts_failed_updates_and_safe_losses() {
        let mut s = StressSummary {
            strategy: "naive".into(),
            retry: "contended".into(),
            representation: true,
            shared_client: false,
            slots: 1,
            clients: 1,
            updates_per_client: 1,
            counter_url: String::new(),
            headers: Vec::new(),
            requested: 1,
            acknowledged: 1,
            failed: 0,
            unknown_outcomes: 0,
            not_started: 0,
            final_value: 0,
            lost_updates: 1,
            extra_updates: 0,
            unknown_applied: 0,
            elapsed_seconds: 0.0,
            goodput_per_second: 0.0,
            attempts_per_update: 1.0,
            status_409: 0,
            status_412: 0,
            status_429: 0,
            p50_ms: 0.0,
            p99_ms: 0.0,
            steady: None,
            base_urls: Vec::new(),
            failures_by_status: Default::default(),
            first_failures: Vec::new(),
            notes: Vec::new(),
        };
        assert_eq!(exit_code(StrategyArg::Naive, &s), 0);
        assert_eq!(exit_code(StrategyArg::Reapply, &s), 1);
        s.lost_updates = 0;
        assert_eq!(exit_code(StrategyArg::Reapply, &s), 0);
        s.extra_updates = 1;
        assert_eq!(exit_code(StrategyArg::Reapply, &s), 1);
        s.extra_updates = 0;
        s.failed = 1;
        assert_eq!(exit_code(StrategyArg::Naive, &s), 1);
    }
}
