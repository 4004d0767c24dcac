//! `pace`: N SDK clients (separate `Client`s, so separate limiters) read one document as fast
//! as they can from a server limited to R requests/s, once with the SDK's adaptive pacing off
//! (the baseline: every 429 waited out as `Retry-After` says) and once on, each for a bounded
//! time. The report gives, per run, the successful requests as a share of what the server
//! could accept in that time (its full bucket at the start plus R per second) and the share of
//! requests answered 429.

mod cli;
mod run;
mod text;

pub use cli::{run_cli, PaceArgs};
pub use run::{measure, PaceConfig, PaceRun, PaceSummary};

/// Most clients one run may start.
pub const MAX_PACE_CLIENTS: usize = 64;
/// Longest run, in seconds.
pub const MAX_PACE_SECONDS: u64 = 10;
