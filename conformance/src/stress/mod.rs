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
mod steady;
mod summary;
mod text;

use clap::ValueEnum;

pub use cli::{exit_code, run_cli, StressArgs};
pub use driver::{run, StressConfig};
pub use record::{EXCERPT_CHARS, FIRST_FAILURES};
pub use steady::{Ack, SteadyWindow};
pub use summary::{percentile, BaseUrlCounts, FailedUpdate, StressSummary};

/// Most concurrent clients one run may start.
pub const MAX_CLIENTS: usize = 256;
/// Most updates one client may make.
pub const MAX_UPDATES: usize = 10_000;
/// Most slots the counter document may have (`StressConfig::slots`).
pub const MAX_SLOTS: usize = 10_000;

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

/// How the SDK strategies (`reapply`, `merge`, `lww`) retry a version conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RetryArg {
    /// `RetryConfig::contended()`: 32 writes, pauses growing from 5 ms by 1.5x up to 250 ms,
    /// full jitter.
    Contended,
    /// As `contended`, but the first pause is 2 round trips of the refused write
    /// (`with_conflict_rtt_scale`), growing the same way.
    ContendedRtt,
    /// client-go's `DefaultRetry` for comparison: 5 writes with a fixed 10 ms step (no
    /// jitter, no growth), then give up; never asks for the representation.
    ClientGo,
}

impl RetryArg {
    /// The command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            RetryArg::Contended => "contended",
            RetryArg::ContendedRtt => "contended-rtt",
            RetryArg::ClientGo => "client-go",
        }
    }

    /// The SDK settings; `representation` is whether updates ask refusals to carry the current
    /// document (never for `client-go`).
    pub fn config(self, representation: bool) -> ifmatch::RetryConfig {
        use ifmatch::RetryConfig;
        match self {
            RetryArg::Contended => {
                RetryConfig::contended().with_conflict_representation(representation)
            }
            RetryArg::ContendedRtt => RetryConfig::contended()
                .with_conflict_rtt_scale(Some(RetryConfig::CONTENDED_RTT_SCALE))
                .with_conflict_representation(representation),
            RetryArg::ClientGo => RetryConfig::new()
                .with_jitter(false)
                .with_conflict_representation(false),
        }
    }
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
