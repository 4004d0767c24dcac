//! Runs the clients: SDK clients for `reapply`, `merge` and `lww`, SDK clients
//! that take the resource's lock for `lock`, plain GET-then-PUT for `naive`.

use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tokio::task::JoinSet;

use super::summary::StressSummary;
use super::StrategyArg;

/// One stress run.
#[derive(Debug, Clone)]
pub struct StressConfig {
    /// Base URL of the server.
    pub base_url: String,
    /// Collection to create the counter document in.
    pub collection: String,
    /// Concurrent clients.
    pub clients: usize,
    /// Increments per client.
    pub updates: usize,
    /// How clients write.
    pub strategy: StrategyArg,
    /// No update starts after this much time.
    pub max_duration: Duration,
}

#[derive(Debug, Default)]
pub(super) struct Tally {
    pub acknowledged: u64,
    pub failed: u64,
    pub not_started: u64,
    pub attempts: u64,
    pub status_409: u64,
    pub status_412: u64,
    pub status_429: u64,
    pub latencies: Vec<Duration>,
}

impl Tally {
    fn absorb(&mut self, other: Tally) {
        self.acknowledged += other.acknowledged;
        self.failed += other.failed;
        self.not_started += other.not_started;
        self.attempts += other.attempts;
        self.status_409 += other.status_409;
        self.status_412 += other.status_412;
        self.status_429 += other.status_429;
        self.latencies.extend(other.latencies);
    }
}

pub(super) fn slot(i: usize) -> String {
    format!("c{i}")
}

fn total(doc: &Value) -> i64 {
    doc.get("slots")
        .and_then(Value::as_object)
        .map_or(0, |slots| slots.values().filter_map(Value::as_i64).sum())
}

pub(super) fn increment(doc: &mut Value, key: &str) {
    let n = doc["slots"][key].as_i64().unwrap_or(0);
    doc["slots"][key] = Value::from(n + 1);
}

/// Creates the counter document, runs every client, reads the final value back
/// and deletes the document.
pub async fn run(config: &StressConfig) -> Result<StressSummary, String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let collection = format!(
        "{}/{}",
        config.base_url,
        config.collection.trim_start_matches('/')
    );
    let slots: Map<String, Value> = (0..config.clients)
        .map(|i| (slot(i), Value::from(0)))
        .collect();
    let created = http
        .post(&collection)
        .json(&json!({ "slots": slots }))
        .send()
        .await
        .map_err(|e| format!("cannot reach {collection}: {e}; is the server running?"))?;
    let location = created
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .and_then(|loc| crate::rules::resolve(&collection, loc))
        .filter(|_| created.status().is_success())
        .ok_or_else(|| {
            format!(
                "POST {collection} answered {} without a usable Location",
                created.status()
            )
        })?;

    let started = Instant::now();
    let deadline = started + config.max_duration;
    let mut set = JoinSet::new();
    for i in 0..config.clients {
        let (http, url, config) = (http.clone(), location.clone(), config.clone());
        set.spawn(async move {
            match config.strategy {
                StrategyArg::Naive => naive_client(&http, &url, i, config.updates, deadline).await,
                StrategyArg::Lock => super::lock::lock_client(&config, &url, i, deadline).await,
                _ => sdk_client(&config, &url, i, deadline).await,
            }
        });
    }
    let mut tally = Tally::default();
    while let Some(joined) = set.join_next().await {
        tally.absorb(joined.map_err(|e| format!("a client task died: {e}"))??);
    }
    let elapsed = started.elapsed();

    let read = http
        .get(&location)
        .send()
        .await
        .map_err(|e| format!("cannot read the counter back: {e}"))?;
    let doc: Value = read
        .json()
        .await
        .map_err(|e| format!("the counter document is not JSON: {e}"))?;
    let _ = http.delete(&location).header("If-Match", "*").send().await;

    let final_value = total(&doc);
    let mut summary = StressSummary {
        strategy: config.strategy.as_str().to_owned(),
        clients: config.clients,
        updates_per_client: config.updates,
        requested: (config.clients * config.updates) as u64,
        acknowledged: tally.acknowledged,
        failed: tally.failed,
        not_started: tally.not_started,
        final_value,
        lost_updates: tally.acknowledged as i64 - final_value,
        elapsed_seconds: (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        goodput_per_second: tally.acknowledged as f64 / elapsed.as_secs_f64().max(1e-9),
        attempts_per_update: tally.attempts as f64 / (tally.acknowledged.max(1)) as f64,
        status_409: tally.status_409,
        status_412: tally.status_412,
        status_429: tally.status_429,
        p50_ms: 0.0,
        p99_ms: 0.0,
    };
    summary.set_latencies(tally.latencies);
    Ok(summary)
}

async fn sdk_client(
    config: &StressConfig,
    url: &str,
    i: usize,
    deadline: Instant,
) -> Result<Tally, String> {
    let client = ifmatch::Client::builder()
        .base_url(&config.base_url)
        .and_then(|b| b.retry(ifmatch::RetryConfig::contended()).build())
        .map_err(|e| format!("cannot build an SDK client: {e}"))?;
    let strategy = match config.strategy {
        StrategyArg::Merge => ifmatch::Strategy::ThreeWayMerge,
        StrategyArg::Lww => ifmatch::Strategy::LastWriteWins,
        _ => ifmatch::Strategy::Reapply,
    };
    let key = slot(i);
    let mut tally = Tally::default();
    for done in 0..config.updates {
        if Instant::now() >= deadline {
            tally.not_started = (config.updates - done) as u64;
            break;
        }
        let began = Instant::now();
        let key = key.clone();
        let result = client
            .update::<Value>(url, move |doc: &mut Value| {
                increment(doc, &key);
                Ok(())
            })
            .strategy(strategy.clone())
            .send()
            .await;
        match result {
            Ok(written) => {
                tally.acknowledged += 1;
                tally.attempts += u64::from(written.attempts);
                tally.latencies.push(began.elapsed());
            }
            Err(_) => tally.failed += 1,
        }
    }
    let stats = client.stats();
    tally.status_409 = stats.conflicts_409;
    tally.status_412 = stats.conflicts_412;
    tally.status_429 = stats.throttle_waits;
    Ok(tally)
}

/// Read, change, write back without any precondition: the lost-update bug.
async fn naive_client(
    http: &reqwest::Client,
    url: &str,
    i: usize,
    updates: usize,
    deadline: Instant,
) -> Result<Tally, String> {
    let key = slot(i);
    let mut tally = Tally::default();
    for done in 0..updates {
        if Instant::now() >= deadline {
            tally.not_started = (updates - done) as u64;
            break;
        }
        let began = Instant::now();
        let read = async {
            let mut doc: Value = http
                .get(url)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            increment(&mut doc, &key);
            http.put(url).json(&doc).send().await
        };
        tally.attempts += 1;
        match read.await {
            Ok(r) if r.status().is_success() => {
                tally.acknowledged += 1;
                tally.latencies.push(began.elapsed());
            }
            Ok(r) => {
                match r.status().as_u16() {
                    409 => tally.status_409 += 1,
                    412 => tally.status_412 += 1,
                    429 => tally.status_429 += 1,
                    _ => {}
                }
                tally.failed += 1;
            }
            Err(_) => tally.failed += 1,
        }
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_sums_the_slots_and_increment_touches_one() {
        let mut doc = json!({ "slots": { "c0": 2, "c1": 3 } });
        increment(&mut doc, "c1");
        assert_eq!(doc, json!({ "slots": { "c0": 2, "c1": 4 } }));
        assert_eq!(total(&doc), 6);
        assert_eq!(total(&json!({})), 0);
    }
}
