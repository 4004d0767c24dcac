//! What the SDK costs and saves over hand-written HTTP, measured against the in-process
//! reference server on 127.0.0.1. Every figure is reported as a ratio against a baseline
//! measured in the same run.
//!
//! Run with `cargo bench -p ifmatch --bench overhead` (`-- --json` or `BENCH_JSON=1` for
//! machine-readable output; `-- <name>` to run only comparisons whose name contains it:
//! `update`, `get_cached`, `contended`).

#[path = "../support/mod.rs"]
mod support;

mod bed;
mod contended;
mod single;

use bed::{Bed, BoxError};
use contended::Load;
use support::{Mode, Output, Plan};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mode = Mode::from_env();
    let plan = Plan {
        warmup: 20,
        rounds: 10,
        per_round: 30,
    }
    .or_smoke(&mode);
    let load = Load {
        writers: 8,
        updates: 50,
        runs: 3,
    }
    .or_smoke(mode.smoke);

    let bed = Bed::start().await?;
    let mut out = Output::new("overhead", &mode);
    if mode.selects("update") {
        out.push(single::update(&bed, plan).await?);
    }
    if mode.selects("get_cached") {
        out.push(single::get_cached(&bed, plan).await?);
    }
    if mode.selects("contended") {
        out.push(contended::contended(&bed, load).await?);
    }
    out.finish();
    bed.stop().await;
    Ok(())
}
