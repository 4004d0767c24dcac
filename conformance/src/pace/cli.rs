//! `ifmatch-conformance pace`: its flags.

use std::time::Duration;

use ifmatch_server::RateLimit;

use super::{measure, PaceConfig, MAX_PACE_CLIENTS, MAX_PACE_SECONDS};
use crate::cli::Io;

/// Arguments of `ifmatch-conformance pace`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Each client count is measured twice, adaptive pacing off (the baseline) then on, against a fresh embedded reference server started with --rate-limit (or --base-url, which must be idle and limited as --rate-limit says). Exit status: 0 measured; 2 usage or connection errors."
)]
pub struct PaceArgs {
    /// The server's token bucket, RPS[:BURST] (burst defaults to the rate).
    #[arg(long, value_name = "RPS[:BURST]", default_value = "200:20")]
    rate_limit: String,
    /// Client counts to measure, comma-separated (each 1 to 64).
    #[arg(long, value_name = "N,...", value_delimiter = ',', default_values_t = [4, 8])]
    clients: Vec<usize>,
    /// Length of each run in seconds (1 to 10).
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    seconds: u64,
    /// Measure this server instead of an embedded one (its limit must be --rate-limit's).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

fn configure(args: &PaceArgs) -> Result<PaceConfig, String> {
    let limit: RateLimit = args
        .rate_limit
        .parse()
        .map_err(|e| format!("--rate-limit: {e}"))?;
    if args.clients.is_empty()
        || args
            .clients
            .iter()
            .any(|n| !(1..=MAX_PACE_CLIENTS).contains(n))
    {
        return Err(format!(
            "--clients: give client counts of 1 to {MAX_PACE_CLIENTS}, e.g. 4,8"
        ));
    }
    if !(1..=MAX_PACE_SECONDS).contains(&args.seconds) {
        return Err(format!(
            "--seconds {}: give 1 to {MAX_PACE_SECONDS}",
            args.seconds
        ));
    }
    Ok(PaceConfig {
        limit,
        clients: args.clients.clone(),
        length: Duration::from_secs(args.seconds),
        base_url: args.base_url.clone(),
    })
}

/// Runs the `pace` subcommand: 0 when measured, 2 for usage or connection errors.
pub async fn run_cli(args: PaceArgs, io: Io<'_>) -> i32 {
    let config = match configure(&args) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            return 2;
        }
    };
    match measure(&config).await {
        Ok(summary) => {
            let text = if args.json {
                summary.to_json()
            } else {
                summary.to_text()
            };
            let _ = io.out.write_all(text.as_bytes());
            0
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
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: PaceArgs,
    }

    fn parse(args: &[&str]) -> Result<PaceConfig, String> {
        let all = std::iter::once("pace").chain(args.iter().copied());
        configure(
            &Wrapper::try_parse_from(all)
                .map_err(|e| e.to_string())?
                .args,
        )
    }

    async fn cli(args: &[&str]) -> (i32, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let io = Io {
            out: &mut out,
            err: &mut err,
            progress: false,
        };
        let all = ["ifmatch-conformance", "pace"]
            .into_iter()
            .chain(args.iter().copied());
        let code = crate::cli::run(all, io).await;
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (code, text(out), text(err))
    }

    #[tokio::test]
    async fn help_names_every_flag() {
        let (code, out, _) = cli(&["--help"]).await;
        assert_eq!(code, 0);
        insta::assert_snapshot!("pace_help", out);
    }

    #[tokio::test]
    async fn bad_flags_are_usage_errors() {
        let (code, _, err) = cli(&["--seconds", "60"]).await;
        assert_eq!(code, 2);
        assert!(err.contains("--seconds 60: give 1 to 10"), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_short_measurement_paces_only_the_adaptive_run() {
        let (code, out, err) = cli(&[
            "--rate-limit",
            "100:10",
            "--clients",
            "2",
            "--seconds",
            "1",
            "--json",
        ])
        .await;
        assert_eq!(code, 0, "{err}");
        let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
        let runs = summary["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(
            (runs[0]["adaptive"].as_bool(), runs[1]["adaptive"].as_bool()),
            (Some(false), Some(true))
        );
        assert_eq!(runs[0]["paced_requests"], 0);
        assert!(runs[1]["paced_requests"].as_u64().unwrap() > 0, "{out}");
        for run in runs {
            assert!(run["succeeded"].as_u64().unwrap() > 0, "{out}");
            let requests = run["requests"].as_u64().unwrap();
            let answered = run["succeeded"].as_u64().unwrap() + run["throttled"].as_u64().unwrap();
            assert_eq!(
                requests, answered,
                "every request is a success or a 429: {out}"
            );
        }
    }

    #[test]
    fn defaults_and_limits() {
        let config = parse(&[]).unwrap();
        assert_eq!(
            config.limit,
            RateLimit {
                per_second: 200,
                burst: 20
            }
        );
        assert_eq!(config.clients, vec![4, 8]);
        assert_eq!(config.length, Duration::from_secs(5));
        assert!(parse(&["--seconds", "11"]).unwrap_err().contains("1 to 10"));
        assert!(parse(&["--clients", "0"]).unwrap_err().contains("1 to 64"));
        assert!(parse(&["--rate-limit", "fast"])
            .unwrap_err()
            .contains("--rate-limit"));
    }
}
