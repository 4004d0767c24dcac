//! Many writers on one document: goodput and attempts per update for `Reapply` and
//! `ThreeWayMerge`, against the same number of uncontended sequential updates.

use std::time::{Duration, Instant};

use ifmatch::{Client, RetryConfig, Strategy};
use serde_json::{json, Value};

use crate::bed::{bump, Bed, BoxError};
use crate::support::{report::Metric, Comparison, Row};

/// Size of one contended run.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// Concurrent writers, each with its own client (its own cache, like separate processes).
    pub writers: usize,
    /// Updates per writer.
    pub updates: usize,
    /// Runs per case; the run with the median wall time is reported.
    pub runs: usize,
}

impl Load {
    /// This load, or a tiny one for a smoke run.
    pub fn or_smoke(self, smoke: bool) -> Self {
        if smoke {
            Self {
                writers: 2,
                updates: 2,
                runs: 1,
            }
        } else {
            self
        }
    }

    fn total(&self) -> usize {
        self.writers * self.updates
    }
}

/// What one run did.
#[derive(Clone, Copy, Debug, Default)]
struct Run {
    wall: Duration,
    /// Writes sent by `update()`, summed over all updates.
    writes: u64,
    /// HTTP requests (reads and writes).
    requests: u64,
}

/// One way of running `load.total()` increments.
#[derive(Clone)]
enum Case {
    /// One client, one after another (the baseline).
    Sequential,
    /// Concurrent clients, each on its own document: concurrency without conflicts.
    Separate,
    /// Concurrent clients on one document, recovering with this strategy and retry config.
    Shared(Strategy, Box<RetryConfig>),
}

/// Runs the baseline and the concurrent cases `load.runs` times, interleaved.
pub async fn contended(bed: &Bed, load: Load) -> Result<Comparison, BoxError> {
    // Without pauses a writer may lose many races in a row; the bound only keeps it finite.
    let no_pause = RetryConfig::contended()
        .with_conflict_delay(Duration::ZERO)
        .with_conflict_max_delay(Duration::ZERO)
        .with_max_conflict_attempts(1000);
    let cases = [
        Case::Sequential,
        Case::Separate,
        Case::Shared(Strategy::Reapply, Box::new(RetryConfig::contended())),
        Case::Shared(Strategy::ThreeWayMerge, Box::new(RetryConfig::contended())),
        Case::Shared(Strategy::Reapply, Box::new(no_pause)),
    ];
    let mut runs = vec![Vec::new(); cases.len()];
    for _ in 0..load.runs {
        for (case, done) in cases.iter().zip(&mut runs) {
            done.push(match case {
                Case::Sequential => sequential(bed, load).await?,
                Case::Separate => {
                    let contended = RetryConfig::contended();
                    concurrent(bed, load, &Strategy::Reapply, contended, false).await?
                }
                Case::Shared(strategy, retry) => {
                    concurrent(bed, load, strategy, **retry, true).await?
                }
            });
        }
    }
    let total = load.total();
    let row = |label: String, runs: &mut Vec<Run>| {
        runs.sort_by_key(|r| r.wall);
        let run = runs[runs.len() / 2];
        let per_update = |n: u64| n as f64 / total as f64;
        let metric = |name, value, unit| Metric { name, value, unit };
        Row {
            label,
            metrics: vec![
                metric(
                    "goodput",
                    total as f64 / run.wall.as_secs_f64(),
                    "updates/s",
                ),
                metric("wall", run.wall.as_secs_f64() * 1e3, "ms"),
                metric("writes/update", per_update(run.writes), ""),
                metric("requests/update", per_update(run.requests), ""),
            ],
        }
    };
    let (w, u) = (load.writers, load.updates);
    Ok(Comparison {
        name: "contended",
        title: format!(
            "{w} writers x {u} increments of their own slot in one document, RetryConfig::contended()"
        ),
        samples: load.runs,
        baseline: row(format!("1 client, {} sequential update()s", total), &mut runs[0]),
        measured: vec![
            row(format!("{w} concurrent clients, own documents"), &mut runs[1]),
            row(format!("{w} concurrent clients, Reapply"), &mut runs[2]),
            row(format!("{w} concurrent clients, ThreeWayMerge"), &mut runs[3]),
            row(format!("{w} concurrent clients, Reapply, no pauses"), &mut runs[4]),
        ],
    })
}

fn slots(writers: usize) -> Value {
    let slots: serde_json::Map<String, Value> = (0..writers).map(|i| (slot(i), json!(0))).collect();
    json!({"title": "counter", "slots": slots})
}

fn slot(writer: usize) -> String {
    format!("w{writer}")
}

fn increment(
    client: &Client,
    url: &str,
    writer: usize,
    strategy: Strategy,
) -> ifmatch::Update<Value> {
    let key = slot(writer);
    client
        .update::<Value>(url, move |doc| {
            bump(&mut doc["slots"], &key);
            Ok(())
        })
        .strategy(strategy)
}

async fn sequential(bed: &Bed, load: Load) -> Result<Run, BoxError> {
    let url = bed.create(&slots(load.writers)).await?;
    let client = bed.client(true, RetryConfig::contended())?;
    let start = Instant::now();
    let mut writes = 0;
    for i in 0..load.total() {
        let out = increment(&client, &url, i % load.writers, Strategy::Reapply)
            .send()
            .await?;
        writes += u64::from(out.attempts);
    }
    let wall = start.elapsed();
    check_no_update_lost(bed, &url, load, |_| true).await?;
    Ok(Run {
        wall,
        writes,
        requests: client.stats().requests,
    })
}

/// `shared`: all writers on one document; otherwise one document per writer.
async fn concurrent(
    bed: &Bed,
    load: Load,
    strategy: &Strategy,
    retry: RetryConfig,
    shared: bool,
) -> Result<Run, BoxError> {
    let mut urls = Vec::with_capacity(load.writers);
    for _ in 0..load.writers {
        urls.push(match urls.first() {
            Some(first) if shared => String::clone(first),
            _ => bed.create(&slots(load.writers)).await?,
        });
    }
    let clients = (0..load.writers)
        .map(|_| bed.client(true, retry))
        .collect::<Result<Vec<_>, _>>()?;
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (writer, client) in clients.iter().cloned().enumerate() {
        let (url, strategy) = (urls[writer].clone(), strategy.clone());
        tasks.spawn(async move {
            let mut writes = 0u64;
            for _ in 0..load.updates {
                let out = increment(&client, &url, writer, strategy.clone())
                    .send()
                    .await?;
                writes += u64::from(out.attempts);
            }
            Ok::<_, ifmatch::Error>(writes)
        });
    }
    let mut writes = 0;
    while let Some(joined) = tasks.join_next().await {
        writes += joined??;
    }
    let wall = start.elapsed();
    for (writer, url) in urls.iter().enumerate() {
        let updated = |w: usize| shared || w == writer;
        check_no_update_lost(bed, url, load, updated).await?;
    }
    Ok(Run {
        wall,
        writes,
        requests: clients.iter().map(|c| c.stats().requests).sum(),
    })
}

/// Every acknowledged increment must be in the final document: `load.updates` in the slots of
/// the writers that `updated` it, none elsewhere.
async fn check_no_update_lost(
    bed: &Bed,
    url: &str,
    load: Load,
    updated: impl Fn(usize) -> bool,
) -> Result<(), BoxError> {
    let doc: Value = bed.raw.get(url).send().await?.json().await?;
    for writer in 0..load.writers {
        let n = doc["slots"][slot(writer)].as_u64().unwrap_or(0);
        let expected = if updated(writer) {
            load.updates as u64
        } else {
            0
        };
        if n != expected {
            return Err(format!(
                "lost updates: writer {writer}'s slot in {url} is {n}, expected {expected}"
            )
            .into());
        }
    }
    Ok(())
}
