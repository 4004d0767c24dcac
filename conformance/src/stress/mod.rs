//! `stress`: N concurrent SDK clients each increment a shared counter document M
//! times; the summary compares the final value with the acknowledged increments.
//!
//! The counter document is `{"slots": {"c0": 0, "c1": 0, ...}}` and its value is
//! the sum of the slots; client *i* increments only `c<i>`. A plain integer
//! cannot be three-way merged (two increments of 5 both write 6, and identical
//! edits are not a conflict), while per-writer slots merge cleanly, so the same
//! document serves every strategy. The `lock` strategy needs no merge at all: the
//! server's lock makes each read-increment-write exclusive.

mod driver;
mod lock;
mod summary;

use std::time::Duration;

use clap::ValueEnum;

pub use driver::{run, StressConfig};
pub use summary::{percentile, StressSummary};

use crate::cli::Io;

/// Most concurrent clients one run may start.
pub const MAX_CLIENTS: usize = 256;
/// Most updates one client may make.
pub const MAX_UPDATES: usize = 10_000;

/// How each client writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// SDK, `Strategy::Reapply`: re-run the change on fresh state after a conflict.
    Reapply,
    /// SDK, `Strategy::ThreeWayMerge`: merge my edit with theirs after a conflict.
    Merge,
    /// SDK, `Strategy::LastWriteWins`: overwrite theirs (lossy by design).
    Lww,
    /// Plain GET then unconditional PUT, no preconditions (loses updates).
    Naive,
    /// SDK lock: take the resource's lock (waiting in the server's queue), read,
    /// write without If-Match under the lock, release.
    Lock,
}

impl StrategyArg {
    /// The command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyArg::Reapply => "reapply",
            StrategyArg::Merge => "merge",
            StrategyArg::Lww => "lww",
            StrategyArg::Naive => "naive",
            StrategyArg::Lock => "lock",
        }
    }

    /// Whether this strategy promises that no update is lost.
    pub fn is_safe(self) -> bool {
        matches!(
            self,
            StrategyArg::Reapply | StrategyArg::Merge | StrategyArg::Lock
        )
    }
}

/// Arguments of `ifmatch-conformance stress`.
#[derive(Debug, clap::Args)]
pub struct StressArgs {
    /// Server to load, e.g. http://127.0.0.1:8080. Without it the embedded
    /// reference server is started on an ephemeral loopback port.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Collection to create the counter document in.
    #[arg(long, value_name = "PATH", default_value = "/items")]
    collection: String,
    /// Concurrent clients (1 to 256).
    #[arg(long, value_name = "N", default_value_t = 8)]
    clients: usize,
    /// Increments per client (1 to 10000).
    #[arg(long, value_name = "M", default_value_t = 25)]
    updates: usize,
    /// How clients write.
    #[arg(long, value_enum, default_value_t = StrategyArg::Reapply)]
    strategy: StrategyArg,
    /// Stop starting new updates after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    max_duration: u64,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// 1 when a strategy that promises no loss lost (or invented) updates, else 0.
pub fn exit_code(strategy: StrategyArg, summary: &StressSummary) -> i32 {
    i32::from(strategy.is_safe() && summary.lost_updates != 0)
}

/// Runs the `stress` subcommand; exit status 1 when a safe strategy lost updates.
pub async fn run_cli(args: StressArgs, io: Io<'_>) -> i32 {
    if !(1..=MAX_CLIENTS).contains(&args.clients) || !(1..=MAX_UPDATES).contains(&args.updates) {
        let _ = writeln!(
            io.err,
            "error: --clients must be 1..={MAX_CLIENTS} and --updates 1..={MAX_UPDATES} (got {} and {})",
            args.clients, args.updates
        );
        return 2;
    }
    let mut embedded = None;
    let base_url = match &args.base_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => match crate::embedded::start(&[], 412).await {
            Ok(server) => {
                let url = server.base_url();
                embedded = Some(server);
                url
            }
            Err(e) => {
                let _ = writeln!(io.err, "error: {e}");
                return 2;
            }
        },
    };
    let config = StressConfig {
        base_url,
        collection: args.collection.clone(),
        clients: args.clients,
        updates: args.updates,
        strategy: args.strategy,
        max_duration: Duration::from_secs(args.max_duration),
    };
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
