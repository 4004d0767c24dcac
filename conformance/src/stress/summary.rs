//! What a stress run measured, and its text and JSON renderings.

use std::time::Duration;

use serde::Serialize;

/// The outcome of a stress run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StressSummary {
    /// `reapply`, `merge`, `lww` or `naive`.
    pub strategy: String,
    /// Concurrent clients.
    pub clients: usize,
    /// Increments each client was asked to make.
    pub updates_per_client: usize,
    /// `clients × updates_per_client`.
    pub requested: u64,
    /// Updates the server acknowledged (2xx to the final write).
    pub acknowledged: u64,
    /// Updates that ended in an error (conflict retries exhausted, 429 budget…).
    pub failed: u64,
    /// Updates not started because the time limit was reached.
    pub not_started: u64,
    /// The counter read back at the end (sum of the slots).
    pub final_value: i64,
    /// Acknowledged updates missing from the final value.
    pub lost_updates: i64,
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

impl StressSummary {
    /// Fills in the latency fields from the acknowledged updates' latencies.
    pub fn set_latencies(&mut self, mut latencies: Vec<Duration>) {
        latencies.sort();
        self.p50_ms = ms(percentile(&latencies, 50.0));
        self.p99_ms = ms(percentile(&latencies, 99.0));
    }

    /// Pretty-printed JSON with stable field names.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a summary always serialises");
        s.push('\n');
        s
    }

    /// A short human summary.
    pub fn to_text(&self) -> String {
        let verdict = if self.lost_updates == 0 {
            "no update lost".to_owned()
        } else {
            format!("{} acknowledged update(s) LOST", self.lost_updates)
        };
        format!(
            "stress: {clients} clients × {updates} updates, strategy {strategy}\n\
             final value   {final_value} (acknowledged {ack} of {req}; {failed} failed, {ns} not started)\n\
             lost updates  {lost}: {verdict}\n\
             goodput       {goodput:.1} updates/s over {elapsed:.2} s\n\
             attempts      {attempts:.2} writes per acknowledged update\n\
             refusals      409: {c409}, 412: {c412}, 429: {c429}\n\
             latency       p50 {p50:.2} ms, p99 {p99:.2} ms\n",
            clients = self.clients,
            updates = self.updates_per_client,
            strategy = self.strategy,
            final_value = self.final_value,
            ack = self.acknowledged,
            req = self.requested,
            failed = self.failed,
            ns = self.not_started,
            lost = self.lost_updates,
            goodput = self.goodput_per_second,
            elapsed = self.elapsed_seconds,
            attempts = self.attempts_per_update,
            c409 = self.status_409,
            c412 = self.status_412,
            c429 = self.status_429,
            p50 = self.p50_ms,
            p99 = self.p99_ms,
        )
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
