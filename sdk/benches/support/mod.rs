//! A small benchmark harness shared by the SDK's benches (no criterion: it is a heavy build on
//! a 2-core machine, and these benches need only medians of interleaved runs).
//!
//! Every comparison runs a baseline and the measured cases in the same process, interleaved
//! round by round, so a machine that slows down mid-run slows all of them alike; results are
//! reported as ratios against that baseline.

// Each bench binary compiles this module and uses only the timing function it needs.
#![allow(dead_code)]

pub mod report;

use std::{future::Future, time::Duration, time::Instant};

pub use report::{Comparison, Output, Row};

/// How much to run: bounded counts, never "until stable".
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Untimed iterations per case before the first round.
    pub warmup: usize,
    /// Rounds; each round runs every case once, in order.
    pub rounds: usize,
    /// Timed samples per case and round.
    pub per_round: usize,
}

impl Plan {
    /// This plan, or a tiny one when the binary runs as a test (`cargo test --benches` runs
    /// bench targets without `--bench`), so test runs only check that the bench works.
    pub fn or_smoke(self, mode: &Mode) -> Self {
        if mode.smoke {
            Self {
                warmup: 1,
                rounds: 1,
                per_round: 2,
            }
        } else {
            self
        }
    }

    /// Timed samples per case.
    pub const fn samples(&self) -> usize {
        self.rounds * self.per_round
    }
}

/// How the binary was invoked.
#[derive(Debug)]
pub struct Mode {
    /// Print JSON instead of text (`--json` or `BENCH_JSON=1`).
    pub json: bool,
    /// Run as a quick check rather than a measurement (no `--bench` argument).
    pub smoke: bool,
    /// Run only comparisons whose name contains this.
    pub filter: Option<String>,
}

impl Mode {
    /// Reads the command line and `BENCH_JSON`.
    pub fn from_env() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        Self {
            json: args.iter().any(|a| a == "--json")
                || std::env::var("BENCH_JSON").is_ok_and(|v| v == "1"),
            smoke: !args.iter().any(|a| a == "--bench"),
            filter: args.into_iter().find(|a| !a.starts_with('-')),
        }
    }

    /// Whether the comparison called `name` should run.
    pub fn selects(&self, name: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| name.contains(f))
    }
}

/// Median and 90th percentile of a set of samples.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    /// The middle sample.
    pub median: Duration,
    /// The sample 90 % of the others are not above.
    pub p90: Duration,
}

impl Summary {
    /// Summarizes samples (nearest-rank percentiles); `None` for no samples.
    pub fn of(mut samples: Vec<Duration>) -> Option<Self> {
        samples.sort_unstable();
        let rank = |p: usize| samples[(samples.len() * p).div_ceil(100).max(1) - 1];
        (!samples.is_empty()).then(|| Self {
            median: rank(50),
            p90: rank(90),
        })
    }
}

/// Times `cases` async cases: `step(i)` runs case `i` once. Case 0 is the baseline. Returns one
/// summary per case, in order.
pub async fn compare_async<F, Fut, E>(
    plan: Plan,
    cases: usize,
    mut step: F,
) -> Result<Vec<Summary>, E>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    for case in 0..cases {
        for _ in 0..plan.warmup {
            step(case).await?;
        }
    }
    let mut samples = vec![Vec::with_capacity(plan.samples()); cases];
    for _ in 0..plan.rounds {
        for (case, times) in samples.iter_mut().enumerate() {
            for _ in 0..plan.per_round {
                let start = Instant::now();
                step(case).await?;
                times.push(start.elapsed());
            }
        }
    }
    Ok(summaries(samples))
}

/// Times `cases` synchronous cases like [`compare_async`]; each sample is the mean of `batch`
/// back-to-back calls, since one call can be shorter than the clock's resolution.
pub fn compare_sync<F>(plan: Plan, cases: usize, batch: u32, mut step: F) -> Vec<Summary>
where
    F: FnMut(usize),
{
    for case in 0..cases {
        for _ in 0..plan.warmup * batch as usize {
            step(case);
        }
    }
    let mut samples = vec![Vec::with_capacity(plan.samples()); cases];
    for _ in 0..plan.rounds {
        for (case, times) in samples.iter_mut().enumerate() {
            for _ in 0..plan.per_round {
                let start = Instant::now();
                for _ in 0..batch {
                    step(case);
                }
                times.push(start.elapsed() / batch);
            }
        }
    }
    summaries(samples)
}

fn summaries(samples: Vec<Vec<Duration>>) -> Vec<Summary> {
    samples
        .into_iter()
        .map(|s| Summary::of(s).expect("a plan has at least one round of one sample"))
        .collect()
}
