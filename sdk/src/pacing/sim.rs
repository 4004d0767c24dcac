//! A simulation, in virtual time, of N clients (each with its own [`Pacing`], one request at a
//! time) against a server's token bucket that answers like the reference server: `RateLimit`
//! and `RateLimit-Policy` on every answer, 429 with `Retry-After` in whole seconds (at least
//! one) when the bucket is empty. Nothing sleeps; the same decisions as a real run.

use std::{cmp::Reverse, collections::BinaryHeap, time::Duration};

use http::{HeaderMap, HeaderValue, Method, StatusCode};
use web_time::Instant;

use super::{Pacing, Ticket};

const HOST: &str = "http://127.0.0.1:8080";

pub(super) struct Run {
    pub clients: usize,
    pub rate: u64,
    pub burst: u64,
    pub latency: Duration,
    pub length: Duration,
    pub paced: bool,
}

#[derive(Debug, Default)]
pub(super) struct Outcome {
    pub succeeded: u64,
    pub throttled: u64,
}

impl Outcome {
    /// Successes as a share of everything the server could have accepted in the run
    /// (the full bucket at the start plus the refill).
    fn share_of_capacity(&self, run: &Run) -> f64 {
        let capacity = run.burst as f64 + run.rate as f64 * run.length.as_secs_f64();
        self.succeeded as f64 / capacity
    }

    fn throttled_share(&self) -> f64 {
        self.throttled as f64 / (self.succeeded + self.throttled) as f64
    }
}

struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Duration,
}

impl Bucket {
    /// Spends a token at `now`: `Ok(remaining)` or `Err(seconds to wait)`.
    fn take(&mut self, now: Duration) -> Result<u64, u64> {
        let elapsed = now.saturating_sub(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(self.tokens as u64)
        } else {
            let wait = (1.0 - self.tokens) / self.rate;
            Err((wait.ceil() as u64).max(1))
        }
    }

    fn answer(&self, remaining: u64) -> HeaderMap {
        let window = (self.burst / self.rate).ceil().max(1.0) as u64;
        let mut h = HeaderMap::new();
        let policy = format!("\"default\";q={};w={window}", self.burst as u64);
        h.insert("ratelimit-policy", HeaderValue::from_str(&policy).unwrap());
        let state = format!("\"default\";r={remaining};t=1");
        h.insert("ratelimit", HeaderValue::from_str(&state).unwrap());
        h
    }
}

enum Step {
    Reserve,
    Send(Option<Ticket>),
}

pub(super) fn simulate(run: &Run) -> Outcome {
    let origin = Instant::now();
    let mut bucket = Bucket {
        rate: run.rate as f64,
        burst: run.burst as f64,
        tokens: run.burst as f64,
        at: Duration::ZERO,
    };
    let pacings: Vec<Pacing> = (0..run.clients).map(|_| Pacing::default()).collect();
    let mut steps: Vec<Step> = (0..run.clients).map(|_| Step::Reserve).collect();
    let mut queue: BinaryHeap<Reverse<(Duration, usize)>> = (0..run.clients)
        .map(|i| Reverse((Duration::ZERO, i)))
        .collect();
    let mut outcome = Outcome::default();
    while let Some(Reverse((now, i))) = queue.pop() {
        if now >= run.length {
            continue;
        }
        let pacing = &pacings[i];
        match std::mem::replace(&mut steps[i], Step::Reserve) {
            Step::Reserve if run.paced => {
                let (ticket, wait) = pacing.reserve(HOST, &Method::GET, origin + now);
                steps[i] = Step::Send(Some(ticket));
                queue.push(Reverse((now + wait, i)));
            }
            Step::Reserve => {
                steps[i] = Step::Send(None);
                queue.push(Reverse((now, i)));
            }
            Step::Send(ticket) => {
                let answered = now + run.latency;
                let (status, headers, next) = match bucket.take(now) {
                    Ok(remaining) => {
                        outcome.succeeded += 1;
                        (StatusCode::OK, bucket.answer(remaining), answered)
                    }
                    Err(seconds) => {
                        outcome.throttled += 1;
                        let wait = Duration::from_secs(seconds);
                        let status = StatusCode::TOO_MANY_REQUESTS;
                        (status, bucket.answer(0), answered + wait)
                    }
                };
                if let Some(ticket) = ticket {
                    let at = origin + answered;
                    pacing.observe(HOST, &Method::GET, ticket, status, &headers, at);
                }
                queue.push(Reverse((next, i)));
            }
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(clients: usize, burst: u64, paced: bool) -> Run {
        Run {
            clients,
            rate: 200,
            burst,
            latency: Duration::from_millis(1),
            length: Duration::from_secs(10),
            paced,
        }
    }

    #[test]
    fn paced_clients_share_a_quota_without_refusals() {
        for clients in [4, 8] {
            for burst in [20, 200] {
                let r = run(clients, burst, true);
                let outcome = simulate(&r);
                let (share, refused) = (outcome.share_of_capacity(&r), outcome.throttled_share());
                eprintln!("{clients} clients, burst {burst}: {share:.3} of capacity, {refused:.4} refused");
                assert!(
                    share >= 0.9 && refused <= 0.05,
                    "{clients} clients, burst {burst}: {share:.3} of capacity, {refused:.3} refused ({outcome:?})"
                );
            }
        }
    }

    #[test]
    fn without_pacing_a_small_burst_wastes_the_quota_on_retry_after() {
        for clients in [4, 8] {
            let r = run(clients, 20, false);
            let outcome = simulate(&r);
            let share = outcome.share_of_capacity(&r);
            let refused = outcome.throttled_share();
            eprintln!("baseline, {clients} clients, burst 20: {share:.3} of capacity, {refused:.4} refused");
            assert!(share < 0.5, "{clients} clients: {share:.3} ({outcome:?})");
        }
    }
}
