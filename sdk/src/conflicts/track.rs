//! The subscription's decisions as plain data: which events to deliver (each once, in order)
//! and how long to wait before reconnecting. No I/O and no clock.

use std::time::Duration;

use serde_json::Value;

use super::{ConflictEvent, ConflictRecord};
use crate::sse::SseEvent;

/// Remembers the last sequence number delivered, so that a replay after a reconnect never
/// yields an event twice.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    last_seq: Option<u64>,
}

impl Tracker {
    /// Starts after `after` (events up to it are not delivered).
    pub(crate) fn new(after: Option<u64>) -> Self {
        Self { last_seq: after }
    }

    /// What to send as `Last-Event-ID`.
    pub(crate) fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }

    /// The event to deliver for `event`: `None` for a duplicate or an event this client does
    /// not know (forward compatible), `Err` for one it cannot read.
    pub(crate) fn accept(&mut self, event: &SseEvent) -> Option<Result<ConflictEvent, String>> {
        match event.event.as_str() {
            "conflict" | "resolved" => {
                let seq = event
                    .id
                    .as_deref()
                    .and_then(|id| id.trim().parse::<u64>().ok());
                if let Some(seq) = seq {
                    if self.last_seq.is_some_and(|last| seq <= last) {
                        return None;
                    }
                    self.last_seq = Some(seq);
                }
                // `from_slice`, as every other body is read: `from_str` would link a second
                // instance of the whole parser into the wasm module (1.3 KB gzipped).
                let record = serde_json::from_slice::<Value>(event.data.as_bytes())
                    .map_err(|e| format!("`{}` data is not JSON: {e}", event.event))
                    .and_then(|value| ConflictRecord::from_json(&value));
                Some(record.map(|record| match event.event.as_str() {
                    "conflict" => ConflictEvent::Conflict(record),
                    _ => ConflictEvent::Resolved(record),
                }))
            }
            "gap" => {
                let value: Value =
                    serde_json::from_slice(event.data.as_bytes()).unwrap_or(Value::Null);
                let field = |key: &str| value.get(key).and_then(Value::as_u64);
                Some(match (field("after"), field("oldest")) {
                    (Some(after), Some(oldest)) => Ok(ConflictEvent::Gap { after, oldest }),
                    _ => Err(format!(
                        "`gap` data needs whole numbers `after` and `oldest`: {}",
                        event.data
                    )),
                })
            }
            _ => None,
        }
    }
}

/// The reconnection schedule: the base is the server's `retry:` (or the client's
/// `RetryConfig::initial_delay` until it sent one), doubled (`factor`) per failed connection in
/// a row up to `max_delay`, with equal jitter (a uniform draw from `[d/2, d)`, so a restarted
/// server is not hit by every subscriber at once, yet nobody comes back much sooner than asked);
/// a server hint (`Retry-After` of a 503) is taken as it is, up to `max_retry_after`.
#[derive(Debug)]
pub(crate) struct Reconnect {
    initial: Duration,
    factor: f32,
    max: Duration,
    min: Duration,
    max_hint: Duration,
    server_retry: Option<Duration>,
    failures: u32,
    jitter: Option<fastrand::Rng>,
}

impl Reconnect {
    pub(crate) fn new(config: &crate::RetryConfig, seed: Option<u64>) -> Self {
        Self {
            initial: config.initial_delay(),
            factor: config.factor(),
            max: config.max_delay(),
            min: config.min_delay(),
            max_hint: config.max_retry_after(),
            server_retry: None,
            failures: 0,
            jitter: seed.map(fastrand::Rng::with_seed),
        }
    }

    /// The server's `retry:` field.
    pub(crate) fn set_server_retry(&mut self, retry: Duration) {
        self.server_retry = Some(retry);
    }

    /// A connection delivered something: the next wait starts from the base again.
    pub(crate) fn healthy(&mut self) {
        self.failures = 0;
    }

    /// Failed connections in a row.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// Counts a connection that ended or failed, and returns the wait before the next one.
    pub(crate) fn next_delay(&mut self, hint: Option<Duration>) -> Duration {
        let exponent = self.failures.min(30);
        self.failures = self.failures.saturating_add(1);
        if let Some(hint) = hint {
            return hint.clamp(self.min, self.max_hint.max(self.min));
        }
        let base = self.server_retry.unwrap_or(self.initial);
        let grown = base.as_secs_f64() * f64::from(self.factor).powi(exponent as i32);
        let ceiling = Duration::from_secs_f64(grown.min(self.max.max(base).as_secs_f64()));
        let wait = match &mut self.jitter {
            Some(rng) => ceiling / 2 + ceiling.mul_f64(rng.f64() / 2.0),
            None => ceiling,
        };
        Duration::from_millis(wait.as_millis() as u64).max(self.min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sse(name: &str, id: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: name.into(),
            data: data.into(),
            id: id.map(Into::into),
        }
    }

    fn record(seq: u64) -> String {
        format!(r#"{{"id":"c-{seq}","seq":{seq},"resource":"/items/a","state":"open"}}"#)
    }

    #[test]
    fn a_replayed_event_is_delivered_once() {
        let mut tracker = Tracker::new(None);
        assert!(tracker
            .accept(&sse("conflict", Some("3"), &record(3)))
            .is_some());
        assert!(tracker
            .accept(&sse("conflict", Some("3"), &record(3)))
            .is_none());
        assert!(tracker
            .accept(&sse("conflict", Some("2"), &record(2)))
            .is_none());
        assert!(tracker
            .accept(&sse("resolved", Some("4"), &record(3)))
            .is_some());
        assert_eq!(tracker.last_seq(), Some(4));
    }

    #[test]
    fn starting_after_a_sequence_skips_what_came_before() {
        let mut tracker = Tracker::new(Some(10));
        assert!(tracker
            .accept(&sse("conflict", Some("10"), &record(10)))
            .is_none());
        assert!(tracker
            .accept(&sse("conflict", Some("11"), &record(11)))
            .is_some());
    }

    #[test]
    fn gaps_and_unknown_events() {
        let mut tracker = Tracker::new(Some(5));
        let gap = tracker.accept(&sse("gap", None, r#"{"after":5,"oldest":9}"#));
        assert_eq!(
            gap,
            Some(Ok(ConflictEvent::Gap {
                after: 5,
                oldest: 9
            }))
        );
        assert!(tracker.accept(&sse("gap", None, "{}")).unwrap().is_err());
        assert!(tracker.accept(&sse("message", Some("99"), "x")).is_none());
        assert_eq!(tracker.last_seq(), Some(5), "unknown events move nothing");
    }

    #[test]
    fn an_unreadable_record_is_an_error_but_is_not_asked_for_again() {
        let mut tracker = Tracker::new(None);
        let out = tracker
            .accept(&sse("conflict", Some("7"), "{not json"))
            .unwrap();
        assert!(out.unwrap_err().contains("not JSON"));
        assert_eq!(tracker.last_seq(), Some(7));
    }

    fn config() -> crate::RetryConfig {
        crate::RetryConfig::default()
    }

    #[test]
    fn the_schedule_grows_from_the_server_retry_and_is_capped() {
        let mut r = Reconnect::new(&config(), None);
        let ms = Duration::from_millis;
        assert_eq!(
            r.next_delay(None),
            ms(1000),
            "the client's initial delay first"
        );
        r.healthy();
        r.set_server_retry(ms(2000));
        let waits: Vec<_> = (0..6).map(|_| r.next_delay(None)).collect();
        assert_eq!(
            waits,
            [
                ms(2000),
                ms(4000),
                ms(8000),
                ms(16000),
                ms(20000),
                ms(20000)
            ]
        );
        assert_eq!(r.failures(), 6);
        r.healthy();
        assert_eq!(r.next_delay(None), ms(2000));
    }

    #[test]
    fn a_hint_is_taken_within_bounds_and_jitter_stays_in_the_upper_half() {
        let mut r = Reconnect::new(&config(), None);
        let s = Duration::from_secs;
        assert_eq!(r.next_delay(Some(s(3))), s(3));
        assert_eq!(r.next_delay(Some(s(3600))), s(30), "max_retry_after");
        assert_eq!(
            r.next_delay(Some(Duration::ZERO)),
            Duration::from_millis(100)
        );
        let mut jittered = Reconnect::new(&config(), Some(7));
        jittered.set_server_retry(s(2));
        for ceiling in [2, 4, 8, 16, 20] {
            let wait = jittered.next_delay(None);
            assert!(wait >= s(ceiling) / 2 && wait < s(ceiling), "{wait:?}");
        }
    }
}
