//! What a stress run measured, and its JSON rendering (the text one is in `text.rs`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

pub use super::record::FailedUpdate;
use super::steady::SteadyWindow;

/// The outcome of a stress run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StressSummary {
    /// `reapply`, `merge`, `lww`, `naive` or `lock`.
    pub strategy: String,
    /// How the SDK strategies retried conflicts: `contended`, `contended-rtt` or `client-go`.
    pub retry: String,
    /// Whether SDK updates asked refusals to carry the current document.
    pub representation: bool,
    /// Whether the clients were tasks sharing one SDK client (`--shared-client`).
    pub shared_client: bool,
    /// Concurrent clients.
    pub clients: usize,
    /// Slots in the counter document (one per client unless `--slots` asked for more).
    pub slots: usize,
    /// Increments each client was asked to make.
    pub updates_per_client: usize,
    /// The counter document's URL (on the first base URL).
    pub counter_url: String,
    /// The extra request headers, values redacted (`Authorization: <redacted>`).
    pub headers: Vec<String>,
    /// `clients × updates_per_client`.
    pub requested: u64,
    /// Updates the server acknowledged (2xx to the final write).
    pub acknowledged: u64,
    /// Updates that ended in an error (refused, conflict retries exhausted, 429 budget…),
    /// including the [`unknown_outcomes`](Self::unknown_outcomes).
    pub failed: u64,
    /// Failed updates whose write was sent but whose outcome is unknown: the connection failed
    /// or timed out after the request went out (the SDK's `Error::is_outcome_unknown`), so the
    /// increment may or may not have been applied. A read that fails is not one: nothing was
    /// written.
    pub unknown_outcomes: u64,
    /// Updates not started because the time limit was reached.
    pub not_started: u64,
    /// The counter read back at the end (sum of the slots).
    pub final_value: i64,
    /// Acknowledged updates missing from the final value: `acknowledged - final_value` when
    /// the counter is below the acknowledged updates, else 0. Never negative.
    pub lost_updates: i64,
    /// Increments nobody can account for: `final_value - (acknowledged + unknown_outcomes)`
    /// when the counter is above that, else 0 (an update applied twice, or a write the server
    /// applied although it refused it).
    pub extra_updates: i64,
    /// How many of the [`unknown_outcomes`](Self::unknown_outcomes) were in fact applied:
    /// `final_value - acknowledged`, kept within `0..=unknown_outcomes`.
    pub unknown_applied: i64,
    /// Wall-clock duration in seconds.
    pub elapsed_seconds: f64,
    /// Acknowledged updates per second.
    pub goodput_per_second: f64,
    /// Write attempts per acknowledged update.
    pub attempts_per_update: f64,
    /// Writes refused with 409.
    pub status_409: u64,
    /// Writes refused with 412.
    pub status_412: u64,
    /// Throttled answers (429) waited out.
    pub status_429: u64,
    /// Median latency of an acknowledged update, in milliseconds.
    pub p50_ms: f64,
    /// 99th-percentile latency of an acknowledged update, in milliseconds.
    pub p99_ms: f64,
    /// The same figures while every client was still running (see [`SteadyWindow`]): with
    /// fixed counts per client the run ends with fewer clients than it started with. `null`
    /// for one client.
    pub steady: Option<SteadyWindow>,
    /// Per base URL, in the order given: how many updates its clients made and how they ended.
    pub base_urls: Vec<BaseUrlCounts>,
    /// Failed updates by what ended them: a status (`"500"`), `"connection"` when no
    /// response came, `"not_json"` when a naive read's 2xx body was not JSON, or the
    /// SDK's error code (e.g. `"missing_etag"`).
    pub failures_by_status: BTreeMap<String, u64>,
    /// At most 5 failed updates: the first of each kind, then the earliest others, in
    /// update order.
    pub first_failures: Vec<FailedUpdate>,
    /// What the failures mean, in plain sentences (bad credentials, a naive run refused…).
    pub notes: Vec<String>,
}

/// The updates made through one base URL.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BaseUrlCounts {
    /// The base URL.
    pub base_url: String,
    /// Clients that used it.
    pub clients: usize,
    /// Updates tried (acknowledged + failed).
    pub updates: u64,
    /// Updates acknowledged.
    pub acknowledged: u64,
    /// Updates failed.
    pub failed: u64,
}

/// The `p`-th percentile (0–100) of `sorted` by nearest rank; zero when empty.
///
/// ```
/// use ifmatch_conformance::stress::percentile;
/// use std::time::Duration;
/// let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
/// assert_eq!(percentile(&ms, 50.0), Duration::from_millis(50));
/// assert_eq!(percentile(&ms, 99.0), Duration::from_millis(99));
/// ```
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

/// The median and 99th percentile of `latencies` (sorted here), in milliseconds to two decimals.
pub(super) fn p50_p99_ms(latencies: &mut [Duration]) -> (f64, f64) {
    latencies.sort_unstable();
    (
        ms(percentile(latencies, 50.0)),
        ms(percentile(latencies, 99.0)),
    )
}

impl StressSummary {
    /// Judges the final counter against the updates' outcomes: every acknowledged update
    /// must be in it and nothing beyond the unknown outcomes may be, i.e.
    /// `acknowledged <= final_value <= acknowledged + unknown_outcomes`. Sets
    /// [`lost_updates`](Self::lost_updates), [`extra_updates`](Self::extra_updates) and
    /// [`unknown_applied`](Self::unknown_applied).
    ///
    /// Returns `(lost_updates, extra_updates, unknown_applied)`.
    ///
    /// ```
    /// use ifmatch_conformance::stress::StressSummary;
    /// // 10 acknowledged, 2 unknown: a counter of 11 means one unknown write landed.
    /// assert_eq!(StressSummary::judge(10, 2, 11), (0, 0, 1));
    /// assert_eq!(StressSummary::judge(10, 2, 9), (1, 0, 0));
    /// assert_eq!(StressSummary::judge(10, 2, 13), (0, 1, 2));
    /// ```
    pub fn judge(acknowledged: u64, unknown_outcomes: u64, final_value: i64) -> (i64, i64, i64) {
        let acked = i64::try_from(acknowledged).unwrap_or(i64::MAX);
        let unknown = i64::try_from(unknown_outcomes).unwrap_or(i64::MAX);
        let lost = acked.saturating_sub(final_value).max(0);
        let extra = final_value
            .saturating_sub(acked.saturating_add(unknown))
            .max(0);
        let applied = final_value.saturating_sub(acked).clamp(0, unknown);
        (lost, extra, applied)
    }

    /// Fills in the latency fields from the acknowledged updates' latencies.
    pub fn set_latencies(&mut self, mut latencies: Vec<Duration>) {
        (self.p50_ms, self.p99_ms) = p50_p99_ms(&mut latencies);
    }

    /// Pretty-printed JSON with stable field names.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a summary always serialises");
        s.push('\n');
        s
    }

    /// Fills in [`notes`](Self::notes) from the failures: bad credentials, and a
    /// `naive` run the server refused because it requires preconditions.
    pub fn explain_failures(&mut self) {
        self.notes.clear();
        let seen = |s: &str| self.failures_by_status.contains_key(s);
        for (code, text) in [("401", "401 Unauthorized"), ("403", "403 Forbidden")] {
            if seen(code) {
                self.notes
                    .push(format!("{text}: {}", super::setup::AUTH_HINT));
            }
        }
        if seen("missing_etag") {
            self.notes.push(
                "the server sent no strong ETag to write with: if it keeps the version in the body, describe it in the configuration's [version] table (e.g. read = \"body:/_rev\", send = \"body:/_rev\"); --strategy naive needs no version".into(),
            );
        }
        if seen("weak_validator") {
            self.notes.push(
                "the server sent only weak ETags, which If-Match cannot use (RFC 9110 §13.1.1): make it send strong ones, or describe a version in the body in [version]".into(),
            );
        }
        if seen("not_json") {
            self.notes.push(
                "some reads answered 2xx with a body that is not JSON: a server that writes documents in place can serve a half-written one while another client writes it".into(),
            );
        }
        if seen("409") && self.strategy != "naive" {
            self.notes.push(format!(
                "the server refused writes with 409 and a body the SDK does not take for a version conflict, so they were not retried: if 409 means a stale version there, answer 412, or send problem+json with type {} (bodies in the style of Kubernetes, CouchDB, GitHub or S3 are recognised too)",
                ifmatch::VERSION_CONFLICT_TYPE
            ));
        }
        if let Some((first, others)) = self.base_urls.split_first() {
            for b in others {
                if b.updates > 0 && b.acknowledged == 0 && first.acknowledged > 0 {
                    self.notes.push(format!(
                        "every update through {} failed while {} acknowledged {}: check that the base URLs are replicas sharing one store (the counter was created on the first)",
                        b.base_url, first.base_url, first.acknowledged
                    ));
                }
            }
        }
        let refusals = ["428", "412", "409"];
        let all_refused = self.failed > 0
            && self.acknowledged == 0
            && self
                .failures_by_status
                .keys()
                .all(|k| refusals.contains(&k.as_str()));
        if self.strategy == "naive" && all_refused {
            let statuses: Vec<&str> = refusals
                .iter()
                .filter(|s| seen(s))
                .map(|s| match *s {
                    "428" => "428 Precondition Required",
                    "412" => "412 Precondition Failed",
                    _ => "409 Conflict",
                })
                .collect();
            self.notes.push(format!(
                "the server refused unconditional writes ({}): it requires preconditions — good news; the naive strategy cannot run here",
                statuses.join(", ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_of_empty_and_single() {
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
        let one = [Duration::from_millis(7)];
        assert_eq!(percentile(&one, 0.0), Duration::from_millis(7));
        assert_eq!(percentile(&one, 100.0), Duration::from_millis(7));
    }
}
