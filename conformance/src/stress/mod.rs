//! `stress`: N concurrent SDK clients each increment a shared counter document M
//! times; the summary compares the final value with the acknowledged increments.
//!
//! The counter document is `{"slots": {"c0": 0, "c1": 0, ...}}` and its value is
//! the sum of the slots; client *i* increments only `c<i>`. A plain integer
//! cannot be three-way merged (two increments of 5 both write 6, and identical
//! edits are not a conflict), while per-writer slots merge cleanly, so the same
//! document serves every strategy. The `lock` strategy needs no merge at all: the
//! server's lock makes each read-increment-write exclusive.
//!
//! The target is described as for `check` (`--config`, `ifmatch-conformance.toml`):
//! the counter is created the way `[create]` says, carries the `[body] fixture`
//! members, and the SDK finds the version where `[version]` says. Clients are
//! spread round-robin over one or more base URLs (replicas). When updates fail,
//! the summary says why: failures by status and the first few with a body excerpt.

mod cli;
mod driver;
mod lock;
mod naive;
mod record;
mod setup;
mod shared;
mod summary;
mod text;

use clap::ValueEnum;

pub use cli::{exit_code, run_cli, StressArgs};
pub use driver::{run, StressConfig};
pub use record::{EXCERPT_CHARS, FIRST_FAILURES};
pub use summary::{percentile, BaseUrlCounts, FailedUpdate, StressSummary};

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
