//! Runs the clients: SDK clients for `reapply`, `merge` and `lww`, SDK clients
//! that take the resource's lock for `lock`, plain GET-then-PUT for `naive`;
//! spread round-robin over the base URLs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ifmatch::transport::ReqwestTransport;
use serde_json::Value;
use tokio::task::JoinSet;

use super::record::{FailedUpdate, FIRST_FAILURES};
use super::setup;
use super::shared::{header_map, Shared};
use super::steady::{Ack, SteadyWindow};
use super::summary::{BaseUrlCounts, StressSummary};
use super::{RetryArg, StrategyArg};
use crate::target::TargetShape;

/// One stress run.
#[derive(Debug, Clone)]
pub struct StressConfig {
    /// Base URLs of the server (several for replicas); clients are spread over
    /// them round-robin, and the counter is created on the first.
    pub base_urls: Vec<String>,
    /// Collection to create the counter document in, used exactly as given (a
    /// trailing slash is kept).
    pub collection: String,
    /// Extra headers for every request, e.g. credentials.
    pub headers: Vec<(String, String)>,
    /// How the target creates resources, where versions live, what bodies carry.
    pub shape: TargetShape,
    /// Concurrent clients.
    pub clients: usize,
    /// Increments per client.
    pub updates: usize,
    /// How clients write.
    pub strategy: StrategyArg,
    /// No update starts after this much time.
    pub max_duration: Duration,
    /// How the SDK strategies retry a version conflict.
    pub retry: RetryArg,
    /// Whether SDK updates ask refusals to carry the current document
    /// (`Prefer: return=representation`); ignored by `client-go`.
    pub representation: bool,
    /// Whether the SDK clients are told the server honours `Idempotency-Key`
    /// (`ClientBuilder::server_honours_idempotency_keys`): then every write carries a key, and
    /// a write whose answer was lost is resent with it and answered with the first outcome,
    /// so it is not left an unknown outcome.
    pub idempotency_keys: bool,
    /// Whether the clients are tasks sharing one SDK [`ifmatch::Client`] (as the threads of one
    /// process would) instead of each having its own (as separate processes have). The shared
    /// client's update queue lets its updates of the counter take turns, so they never refuse
    /// each other's writes. Only for the SDK strategies `reapply`, `merge` and `lww`.
    pub shared_client: bool,
    /// Slots in the counter document (`c0`, `c1`, …; client *i* increments `c<i>`): `None` for
    /// one per client. More make every update read and write the larger document an N-client
    /// run writes, which is what a 1-client baseline for that run must do (at least
    /// [`clients`](Self::clients), at most [`super::MAX_SLOTS`]).
    pub slots: Option<usize>,
}

impl StressConfig {
    /// A run against `base_url` with the defaults of the command line.
    ///
    /// # Defaults
    /// Collection `/items`, no extra headers, the reference server's shape,
    /// 8 clients × 25 updates, strategy `reapply`, 60 s, retry `contended`, asking for the
    /// representation, not declaring that the server honours idempotency keys, one SDK client
    /// per client, one slot per client.
    ///
    /// ```
    /// use ifmatch_conformance::stress::{StrategyArg, StressConfig};
    /// let config = StressConfig::new("http://127.0.0.1:8080");
    /// assert_eq!((config.clients, config.updates), (8, 25));
    /// assert_eq!(config.strategy, StrategyArg::Reapply);
    /// assert_eq!(config.collection, "/items");
    /// ```
    pub fn new(base_url: &str) -> Self {
        StressConfig {
            base_urls: vec![base_url.to_owned()],
            collection: "/items".into(),
            headers: Vec::new(),
            shape: TargetShape::default(),
            clients: 8,
            updates: 25,
            strategy: StrategyArg::Reapply,
            max_duration: Duration::from_secs(60),
            retry: RetryArg::Contended,
            representation: true,
            idempotency_keys: false,
            shared_client: false,
            slots: None,
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Tally {
    pub acknowledged: u64,
    pub failed: u64,
    /// Failed updates whose write went out but whose answer never came.
    pub unknown_outcomes: u64,
    pub not_started: u64,
    pub attempts: u64,
    pub status_409: u64,
    pub status_412: u64,
    pub status_429: u64,
    /// Each acknowledged update: when it was acknowledged and how long it took.
    pub acks: Vec<(Instant, Duration)>,
    pub by_status: BTreeMap<String, u64>,
    /// The first few failures, and the first of each kind, with their kind.
    pub failures: Vec<(String, FailedUpdate)>,
}

impl Tally {
    /// Counts an acknowledged update that began at `began` and `attempts` writes.
    pub fn acknowledge(&mut self, began: Instant, attempts: u32) {
        self.acknowledged += 1;
        self.attempts += u64::from(attempts);
        let now = Instant::now();
        self.acks.push((now, now.saturating_duration_since(began)));
    }

    /// Counts a failed update; the first few are kept with their reason.
    pub fn fail(&mut self, (key, failed): (String, FailedUpdate)) {
        self.failed += 1;
        *self.by_status.entry(key.clone()).or_default() += 1;
        let new_kind = !self.failures.iter().any(|(k, _)| *k == key);
        if self.failures.len() < FIRST_FAILURES || new_kind {
            self.failures.push((key, failed));
        }
    }

    fn absorb(&mut self, other: Tally) {
        self.acknowledged += other.acknowledged;
        self.failed += other.failed;
        self.unknown_outcomes += other.unknown_outcomes;
        self.not_started += other.not_started;
        self.attempts += other.attempts;
        self.status_409 += other.status_409;
        self.status_412 += other.status_412;
        self.status_429 += other.status_429;
        self.acks.extend(other.acks);
        for (k, n) in other.by_status {
            *self.by_status.entry(k).or_default() += n;
        }
        self.failures.extend(other.failures);
    }

    /// Takes the refusal counts from `client`'s statistics.
    pub fn count_stats(&mut self, client: &ifmatch::Client) {
        let stats = client.stats();
        self.status_409 = stats.conflicts_409;
        self.status_412 = stats.conflicts_412;
        self.status_429 = stats.throttle_waits;
    }

    /// Counts a failed update whose write may have been applied (see [`Tally::fail`]).
    pub fn fail_unknown(&mut self, failure: (String, FailedUpdate)) {
        self.unknown_outcomes += 1;
        self.fail(failure);
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
    let bases: Vec<String> = config
        .base_urls
        .iter()
        .map(|b| b.trim_end_matches('/').to_owned())
        .collect();
    let first = bases
        .first()
        .ok_or("no base URL given; pass --base-url URL")?;
    config.shape.validate()?;
    let slots = config.slots.unwrap_or(config.clients);
    if !(config.clients..=super::MAX_SLOTS).contains(&slots) {
        return Err(format!(
            "--slots {slots}: give at least --clients ({}) and at most {}; each client increments a slot of its own",
            config.clients,
            super::MAX_SLOTS
        ));
    }
    let without_sdk_client = match config.strategy {
        StrategyArg::Naive => Some("naive writes with plain HTTP, not through an SDK client"),
        StrategyArg::Lock => Some("lock makes every update wait for the server's lock instead"),
        _ => None,
    };
    if let (true, Some(why)) = (config.shared_client, without_sdk_client) {
        return Err(format!(
            "--shared-client works with --strategy reapply, merge or lww, not {}: {why}; drop --shared-client or choose one of those",
            config.strategy.as_str()
        ));
    }
    let version_field = match config.strategy {
        StrategyArg::Naive => None,
        // Writes under a lock are unconditional: a version the SDK cannot send does not matter.
        StrategyArg::Lock => setup::sdk_version_field(&config.shape).unwrap_or(None),
        _ => setup::sdk_version_field(&config.shape)?,
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .default_headers(header_map(&config.headers)?)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let secrets: Vec<String> = config.headers.iter().map(|(_, v)| v.clone()).collect();
    let collection = setup::collection_url(first, &config.collection);
    let body = setup::counter_body(&config.shape, slots);
    let location =
        setup::create_counter(&http, &config.shape, &collection, &body, &secrets).await?;

    let started = Instant::now();
    let mut shared = Shared {
        config: config.clone(),
        http: http.clone(),
        transport: ReqwestTransport::default(),
        version_field,
        secrets,
        deadline: started + config.max_duration,
        one_client: None,
    };
    shared.one_client = shared.one_client_if_asked(first)?;
    let shared = Arc::new(shared);
    let mut set = JoinSet::new();
    for i in 0..config.clients {
        let base = bases[i % bases.len()].clone();
        let url = setup::on_base(&location, first, &base);
        let shared = shared.clone();
        set.spawn(async move {
            let tally = match shared.config.strategy {
                StrategyArg::Naive => super::naive::naive_client(&shared, &url, i, &base).await,
                StrategyArg::Lock => super::lock::lock_client(&shared, &url, i, &base).await,
                _ => sdk_client(&shared, &url, i, &base).await,
            };
            tally.map(|t| (i, t, Instant::now()))
        });
    }
    let mut tally = Tally::default();
    let mut per_base: Vec<BaseUrlCounts> = bases
        .iter()
        .map(|b| BaseUrlCounts {
            base_url: b.clone(),
            clients: 0,
            updates: 0,
            acknowledged: 0,
            failed: 0,
        })
        .collect();
    // Each client's acknowledged updates, for the steady part; all their latencies.
    let mut per_client = Vec::with_capacity(config.clients);
    let mut latencies = Vec::new();
    let mut first_stopped: Option<Instant> = None;
    while let Some(joined) = set.join_next().await {
        let (i, mut client, stopped) = joined.map_err(|e| format!("a client task died: {e}"))??;
        first_stopped = Some(first_stopped.map_or(stopped, |f| f.min(stopped)));
        let acks = std::mem::take(&mut client.acks);
        latencies.extend(acks.iter().map(|&(_, latency)| latency));
        per_client.push(
            acks.into_iter()
                .map(|(at, latency)| Ack {
                    ended: at.saturating_duration_since(started),
                    latency,
                })
                .collect::<Vec<_>>(),
        );
        let b = &mut per_base[i % bases.len()];
        b.clients += 1;
        b.updates += client.acknowledged + client.failed;
        b.acknowledged += client.acknowledged;
        b.failed += client.failed;
        tally.absorb(client);
    }
    let elapsed = started.elapsed();
    if let Some((client, _)) = &shared.one_client {
        // Counted once: every task's clone shares these counters.
        tally.count_stats(client);
    }

    let doc = setup::read_back(&http, &location, &shared.secrets).await?;
    let _ = http.delete(&location).header("If-Match", "*").send().await;

    let final_value = total(&doc);
    let (lost_updates, extra_updates, unknown_applied) =
        StressSummary::judge(tally.acknowledged, tally.unknown_outcomes, final_value);
    let first_failures = first_failures(tally.failures);
    let mut summary = StressSummary {
        strategy: config.strategy.as_str().to_owned(),
        retry: config.retry.as_str().to_owned(),
        representation: config.representation && config.retry != RetryArg::ClientGo,
        shared_client: config.shared_client,
        slots,
        clients: config.clients,
        updates_per_client: config.updates,
        counter_url: location,
        headers: config
            .headers
            .iter()
            .map(|(n, _)| format!("{n}: <redacted>"))
            .collect(),
        requested: (config.clients * config.updates) as u64,
        acknowledged: tally.acknowledged,
        failed: tally.failed,
        unknown_outcomes: tally.unknown_outcomes,
        not_started: tally.not_started,
        final_value,
        lost_updates,
        extra_updates,
        unknown_applied,
        elapsed_seconds: (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        goodput_per_second: tally.acknowledged as f64 / elapsed.as_secs_f64().max(1e-9),
        attempts_per_update: tally.attempts as f64 / (tally.acknowledged.max(1)) as f64,
        status_409: tally.status_409,
        status_412: tally.status_412,
        status_429: tally.status_429,
        p50_ms: 0.0,
        p99_ms: 0.0,
        steady: None,
        base_urls: per_base,
        failures_by_status: tally.by_status,
        first_failures,
        notes: Vec::new(),
    };
    summary.set_latencies(latencies);
    summary.steady = first_stopped.and_then(|stopped| {
        SteadyWindow::measure(stopped.saturating_duration_since(started), &per_client)
    });
    summary.explain_failures();
    Ok(summary)
}

/// The failures the summary shows: the first of each kind (status or error code),
/// then the earliest others, at most [`FIRST_FAILURES`], in update order — so a
/// rarer kind is not hidden behind many of a common one.
fn first_failures(mut kept: Vec<(String, FailedUpdate)>) -> Vec<FailedUpdate> {
    kept.sort_by_key(|(_, f)| (f.update, f.client));
    let mut kinds: Vec<&str> = Vec::new();
    let mut chosen = vec![false; kept.len()];
    for (i, (key, _)) in kept.iter().enumerate() {
        if !kinds.contains(&key.as_str()) && kinds.len() < FIRST_FAILURES {
            kinds.push(key);
            chosen[i] = true;
        }
    }
    let mut room = FIRST_FAILURES - kinds.len();
    for c in chosen.iter_mut().filter(|c| !**c) {
        if room == 0 {
            break;
        }
        *c = true;
        room -= 1;
    }
    kept.into_iter()
        .zip(chosen)
        .filter_map(|((_, f), c)| c.then_some(f))
        .collect()
}

async fn sdk_client(shared: &Shared, url: &str, i: usize, base: &str) -> Result<Tally, String> {
    let (client, last) = match &shared.one_client {
        Some((client, last)) => (client.clone(), last.clone()),
        None => shared.update_client(base)?,
    };
    let config = &shared.config;
    let strategy = match config.strategy {
        StrategyArg::Merge => ifmatch::Strategy::ThreeWayMerge,
        StrategyArg::Lww => ifmatch::Strategy::LastWriteWins,
        _ => ifmatch::Strategy::Reapply,
    };
    let key = slot(i);
    let mut tally = Tally::default();
    for done in 0..config.updates {
        if Instant::now() >= shared.deadline {
            tally.not_started = (config.updates - done) as u64;
            break;
        }
        let began = Instant::now();
        let key = key.clone();
        last.clear();
        let result = client
            .update::<Value>(url, move |doc: &mut Value| {
                increment(doc, &key);
                Ok(())
            })
            .strategy(strategy.clone())
            .send()
            .await;
        match result {
            Ok(written) => tally.acknowledge(began, written.attempts),
            Err(e) => {
                // A failed read is not an unknown outcome: the SDK says which error followed a
                // write that went out.
                let failure = shared.failure((i, done + 1, base), &e, last.take());
                if e.is_outcome_unknown() {
                    tally.fail_unknown(failure);
                } else {
                    tally.fail(failure);
                }
            }
        }
    }
    if shared.one_client.is_none() {
        tally.count_stats(&client);
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn failure(client: usize, update: usize) -> FailedUpdate {
        FailedUpdate {
            client,
            update,
            base_url: "http://h".into(),
            status: None,
            request: None,
            reason: String::new(),
        }
    }

    #[test]
    fn a_rare_kind_of_failure_is_shown_beside_the_common_one() {
        let mut kept: Vec<(String, FailedUpdate)> =
            (1..=6).map(|u| ("409".to_owned(), failure(0, u))).collect();
        kept.push(("500".into(), failure(1, 9)));
        let shown = first_failures(kept);
        let at: Vec<(usize, usize)> = shown.iter().map(|f| (f.client, f.update)).collect();
        assert_eq!(at, vec![(0, 1), (0, 2), (0, 3), (0, 4), (1, 9)]);
        let mut tally = Tally::default();
        for u in 1..=7 {
            tally.fail(("409".into(), failure(0, u)));
        }
        tally.fail(("500".into(), failure(0, 8)));
        assert_eq!(
            tally.failures.len(),
            FIRST_FAILURES + 1,
            "the first 500 is kept"
        );
        assert_eq!(tally.by_status["409"], 7);
    }

    #[test]
    fn total_sums_the_slots_and_increment_touches_one() {
        let mut doc = json!({ "slots": { "c0": 2, "c1": 3 } });
        increment(&mut doc, "c1");
        assert_eq!(doc, json!({ "slots": { "c0": 2, "c1": 4 } }));
        assert_eq!(total(&doc), 6);
        assert_eq!(total(&json!({})), 0);
    }
}
