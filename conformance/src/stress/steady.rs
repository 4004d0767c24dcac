//! The run's steady part: from the start until the first client stopped (it made all its
//! updates, or the time limit stopped it). Only then were all N clients contending; a run of
//! fixed counts per client ends with fewer and fewer clients left, one at last, and the whole
//! run's goodput mixes those lighter phases (and the waits of the last clients' long conflict
//! pauses) into the N-client figure.

use std::time::Duration;

use serde::Serialize;

use super::summary::p50_p99_ms;

/// What the clients achieved while all of them were still running.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SteadyWindow {
    /// From the start until the first client stopped, in seconds.
    pub seconds: f64,
    /// Updates acknowledged within that time.
    pub acknowledged: u64,
    /// Those updates per second.
    pub goodput_per_second: f64,
    /// Median latency of those updates, in milliseconds.
    pub p50_ms: f64,
    /// 99th-percentile latency of those updates, in milliseconds.
    pub p99_ms: f64,
    /// Clients with at least one of those updates: fewer than all means some waited out the
    /// whole steady part without getting a write in (starved by the others).
    pub clients_acknowledged: usize,
}

/// One acknowledged update: when it ended (from the start of the run) and how long it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// When the update was acknowledged, from the start of the run.
    pub ended: Duration,
    /// How long the update took.
    pub latency: Duration,
}

impl SteadyWindow {
    /// The steady part of a run whose first client stopped `window` after the start, from
    /// each client's acknowledged updates; `None` with fewer than two clients (the whole run
    /// is then its own steady part) or an empty window.
    ///
    /// ```
    /// use ifmatch_conformance::stress::{Ack, SteadyWindow};
    /// use std::time::Duration;
    /// let ms = Duration::from_millis;
    /// let ack = |ended, latency| Ack { ended: ms(ended), latency: ms(latency) };
    /// // Client 0 made 3 updates by 30 ms and stopped; client 1 got one in at 500 ms.
    /// let clients = vec![
    ///     vec![ack(10, 10), ack(20, 10), ack(30, 10)],
    ///     vec![ack(500, 500)],
    /// ];
    /// let steady = SteadyWindow::measure(ms(30), &clients).unwrap();
    /// assert_eq!((steady.acknowledged, steady.clients_acknowledged), (3, 1));
    /// assert_eq!(steady.goodput_per_second, 100.0);
    /// ```
    pub fn measure(window: Duration, clients: &[Vec<Ack>]) -> Option<SteadyWindow> {
        if clients.len() < 2 || window.is_zero() {
            return None;
        }
        let mut latencies = Vec::new();
        let mut clients_acknowledged = 0;
        for acks in clients {
            let before = latencies.len();
            latencies.extend(acks.iter().filter(|a| a.ended <= window).map(|a| a.latency));
            if latencies.len() > before {
                clients_acknowledged += 1;
            }
        }
        let (p50_ms, p99_ms) = p50_p99_ms(&mut latencies);
        let acknowledged = latencies.len() as u64;
        Some(SteadyWindow {
            seconds: (window.as_secs_f64() * 1000.0).round() / 1000.0,
            acknowledged,
            goodput_per_second: acknowledged as f64 / window.as_secs_f64(),
            p50_ms,
            p99_ms,
            clients_acknowledged,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms_(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn counts_only_updates_acknowledged_before_the_first_client_stopped() {
        let ack = |ended, latency| Ack {
            ended: ms_(ended),
            latency: ms_(latency),
        };
        let clients = vec![
            vec![ack(100, 1), ack(200, 2), ack(250, 50)],
            vec![ack(150, 150), ack(260, 3)],
            vec![],
        ];
        let s = SteadyWindow::measure(ms_(250), &clients).unwrap();
        assert_eq!(s.acknowledged, 4);
        assert_eq!(s.clients_acknowledged, 2);
        assert_eq!(s.seconds, 0.25);
        assert_eq!(s.goodput_per_second, 16.0);
        assert_eq!((s.p50_ms, s.p99_ms), (2.0, 150.0));
    }

    #[test]
    fn one_client_or_no_time_has_no_steady_part() {
        let one = vec![vec![Ack {
            ended: ms_(1),
            latency: ms_(1),
        }]];
        assert_eq!(SteadyWindow::measure(ms_(10), &one), None);
        assert_eq!(
            SteadyWindow::measure(Duration::ZERO, &[vec![], vec![]]),
            None
        );
        let none = SteadyWindow::measure(ms_(10), &[vec![], vec![]]).unwrap();
        assert_eq!((none.acknowledged, none.clients_acknowledged), (0, 0));
        assert_eq!((none.p50_ms, none.p99_ms), (0.0, 0.0));
    }
}
