//! One `pace` measurement: the runs, and what each counted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ifmatch::transport::ReqwestTransport;
use ifmatch::Client;
use ifmatch_server::{Config, RateLimit};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::task::JoinSet;

/// What to measure.
#[derive(Debug, Clone)]
pub struct PaceConfig {
    /// The server's limit: against the embedded server it is started with it; against
    /// `base_url` it must describe that server's limit (the shares are computed from it).
    pub limit: RateLimit,
    /// Client counts, one pair of runs (pacing off, then on) each.
    pub clients: Vec<usize>,
    /// Length of each run.
    pub length: Duration,
    /// A server to measure instead of a fresh embedded one per run; it must be idle, and
    /// between runs its bucket is given time to refill.
    pub base_url: Option<String>,
}

/// One run's counts.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PaceRun {
    /// Concurrent clients.
    pub clients: usize,
    /// Whether the SDK's adaptive pacing was on.
    pub adaptive: bool,
    /// Length of the run in seconds.
    pub seconds: f64,
    /// HTTP requests sent (every attempt).
    pub requests: u64,
    /// Requests answered with success (2xx or 304).
    pub succeeded: u64,
    /// Requests answered 429.
    pub throttled: u64,
    /// Calls that failed (429 after the last attempt, or another error).
    pub failed_calls: u64,
    /// Successful requests per second.
    pub successes_per_second: f64,
    /// `succeeded / (burst + rate × seconds)`: the share of what the server could accept.
    pub share_of_capacity: f64,
    /// `throttled / requests`.
    pub throttled_share: f64,
    /// Requests the limiter held back, and for how long in all (seconds).
    pub paced_requests: u64,
    /// Total time requests were held back, in seconds (all clients together).
    pub pacing_wait_seconds: f64,
}

/// A whole measurement.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PaceSummary {
    /// Tokens per second of the server's bucket.
    pub rate: u32,
    /// Its size.
    pub burst: u32,
    /// The runs, pacing off then on for each client count.
    pub runs: Vec<PaceRun>,
}

impl PaceSummary {
    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Runs every pair of runs `config` describes.
pub async fn measure(config: &PaceConfig) -> Result<PaceSummary, String> {
    let mut runs = Vec::new();
    for &clients in &config.clients {
        for adaptive in [false, true] {
            runs.push(one_run(config, clients, adaptive).await?);
        }
    }
    Ok(PaceSummary {
        rate: config.limit.per_second,
        burst: config.limit.burst,
        runs,
    })
}

async fn one_run(config: &PaceConfig, clients: usize, adaptive: bool) -> Result<PaceRun, String> {
    let mut server = None;
    let base = match &config.base_url {
        Some(url) => {
            // Let the bucket refill after the previous run (and the set-up write).
            let limit = config.limit;
            let refill = f64::from(limit.burst) / f64::from(limit.per_second) + 1.0;
            tokio::time::sleep(Duration::from_secs_f64(refill)).await;
            url.clone()
        }
        None => {
            let started = ifmatch_server::spawn(Config::new().with_rate_limit(Some(config.limit)))
                .await
                .map_err(|e| format!("cannot start the embedded reference server: {e}"))?;
            let url = started.base_url();
            server = Some(started);
            url
        }
    };
    let document = create_document(&base).await?;
    if config.base_url.is_some() {
        let limit = config.limit;
        let refill = f64::from(limit.burst) / f64::from(limit.per_second) + 1.0;
        tokio::time::sleep(Duration::from_secs_f64(refill)).await;
    }
    let result = read_for(&base, &document, clients, adaptive, config.length).await;
    if let Some(server) = server {
        server.shutdown().await;
    }
    let (counts, seconds) = result?;
    let capacity = f64::from(config.limit.burst) + f64::from(config.limit.per_second) * seconds;
    let requests = counts.requests;
    Ok(PaceRun {
        clients,
        adaptive,
        seconds,
        requests,
        succeeded: counts.succeeded,
        throttled: counts.throttled,
        failed_calls: counts.failed_calls,
        successes_per_second: counts.succeeded as f64 / seconds,
        share_of_capacity: counts.succeeded as f64 / capacity,
        throttled_share: if requests == 0 {
            0.0
        } else {
            counts.throttled as f64 / requests as f64
        },
        paced_requests: counts.paced,
        pacing_wait_seconds: counts.pacing_wait.as_secs_f64(),
    })
}

/// Creates the document the clients read (retrying while the server answers 429).
async fn create_document(base: &str) -> Result<String, String> {
    let client = client(base, false)?;
    let created = client
        .create("/items", &json!({"pace": true}))
        .await
        .map_err(|e| format!("cannot create the document to read at {base}/items: {e}"))?;
    created
        .location
        .ok_or_else(|| format!("{base}/items answered the create without a Location"))
}

fn client(base: &str, adaptive: bool) -> Result<Client, String> {
    // One connection pool per client, as separate processes would have.
    let transport = ReqwestTransport::new(reqwest::Client::new());
    Client::builder()
        .base_url(base)
        .and_then(|b| b.adaptive_pacing(adaptive).build_with_transport(transport))
        .map_err(|e| e.to_string())
}

#[derive(Debug, Default)]
struct Counts {
    requests: u64,
    succeeded: u64,
    throttled: u64,
    failed_calls: u64,
    paced: u64,
    pacing_wait: Duration,
}

/// `clients` clients each read `document` in a loop for `length`; returns the counts and the
/// time from the start until the last call ended.
async fn read_for(
    base: &str,
    document: &str,
    clients: usize,
    adaptive: bool,
    length: Duration,
) -> Result<(Counts, f64), String> {
    let stop = Arc::new(AtomicBool::new(false));
    let succeeded = Arc::new(AtomicU64::new(0));
    let throttled_failures = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    let mut all = Vec::new();
    let started = Instant::now();
    for _ in 0..clients {
        let client = client(base, adaptive)?;
        all.push(client.clone());
        let (stop, document) = (stop.clone(), document.to_owned());
        let (succeeded, throttled_failures, failed) = (
            succeeded.clone(),
            throttled_failures.clone(),
            failed.clone(),
        );
        tasks.spawn(async move {
            while !stop.load(Relaxed) {
                match client.get::<Value>(&document).await {
                    Ok(_) => {
                        succeeded.fetch_add(1, Relaxed);
                    }
                    Err(e) => {
                        failed.fetch_add(1, Relaxed);
                        if e.status().map(|s| s.as_u16()) == Some(429) {
                            throttled_failures.fetch_add(1, Relaxed);
                        }
                    }
                }
            }
        });
    }
    tokio::time::sleep(length).await;
    stop.store(true, Relaxed);
    // A call in a Retry-After wait may take that long to end; its answers count.
    while tasks.join_next().await.is_some() {}
    let seconds = started.elapsed().as_secs_f64();
    let mut counts = Counts {
        succeeded: succeeded.load(Relaxed),
        failed_calls: failed.load(Relaxed),
        ..Counts::default()
    };
    let mut waited = throttled_failures.load(Relaxed);
    for client in &all {
        let stats = client.stats();
        counts.requests += stats.requests;
        waited += stats.throttle_waits;
        counts.paced += stats.paced_requests;
        counts.pacing_wait += stats.pacing_wait_total;
    }
    counts.throttled = waited;
    Ok((counts, seconds))
}
