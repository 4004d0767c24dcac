//! Sending one request, waiting out throttling (429/503) as the retry policy allows.

use std::time::Duration;

use http::{header, Method};
use tracing::Instrument;
use web_time::Instant;

use crate::{
    retry::{decide_throttle, read_hint, Backoff, GiveUp, ThrottleDecision, Throttled},
    stats::Counters,
    transport::{HttpRequest, HttpResponse},
    Error, Event,
};

use super::{Client, Inner};

/// State shared by all requests of one logical operation (a get, a write, a whole update).
pub(crate) struct OpState {
    started: Instant,
    backoff: Backoff,
    /// HTTP requests sent so far.
    pub requests: u32,
}

impl OpState {
    pub(crate) fn new(inner: &Inner) -> Self {
        let config = &inner.retry;
        Self {
            started: inner.sleeper.now(),
            backoff: Backoff::new(
                config.initial_delay(),
                config.factor(),
                config.max_delay(),
                jitter_seed(inner),
            ),
            requests: 0,
        }
    }

    pub(crate) fn elapsed(&self, inner: &Inner) -> Duration {
        inner.sleeper.now().saturating_duration_since(self.started)
    }
}

/// With a fixed seed every operation replays the same jitter sequence (reproducible tests);
/// otherwise each operation draws its own seed.
pub(crate) fn jitter_seed(inner: &Inner) -> Option<u64> {
    let config = &inner.retry;
    config.jitter().then(|| {
        config
            .jitter_seed()
            .unwrap_or_else(|| inner.keys.next_u64())
    })
}

/// The wall clock as time since the Unix epoch, for `Retry-After` HTTP-dates.
pub(crate) fn wall_clock() -> Duration {
    web_time::SystemTime::now()
        .duration_since(web_time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// A request can be sent again only if a second delivery cannot apply it twice: safe methods,
/// conditional writes (the precondition fails if the first one landed) and keyed writes.
pub(crate) fn is_retry_safe(request: &HttpRequest) -> bool {
    matches!(request.method, Method::GET | Method::HEAD | Method::OPTIONS)
        || request.headers.contains_key(header::IF_MATCH)
        || request.headers.contains_key(header::IF_NONE_MATCH)
        || request.headers.contains_key("idempotency-key")
}

fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
        })
        .unwrap_or_default()
}

impl Client {
    /// Sends `request`; waits and resends after 429/503 while the policy, the deadline and the
    /// per-host budget allow. Returns every other response as it is.
    pub(crate) async fn exchange(
        &self,
        op: &mut OpState,
        request: HttpRequest,
    ) -> Result<HttpResponse, Error> {
        let inner = &*self.inner;
        let retry_safe = is_retry_safe(&request);
        let host = host_of(&request.url);
        let (method, url) = (request.method.clone(), request.url.clone());
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if attempt > 1 {
                Counters::bump(&inner.counters.retries);
                self.emit(Event::Attempt {
                    method: method.clone(),
                    url: url.clone(),
                    attempt,
                });
            }
            op.requests += 1;
            Counters::bump(&inner.counters.requests);
            let span = tracing::debug_span!("ifmatch.attempt", method = %method, attempt);
            let response = inner
                .transport
                .send(request.clone())
                .instrument(span)
                .await
                .map_err(|source| Error::Transport {
                    method: method.clone(),
                    url: url.clone(),
                    source,
                })?;
            let status = response.status.as_u16();
            if status != 429 && status != 503 {
                if response.status.is_success() {
                    inner.budget.deposit(&host);
                }
                return Ok(response);
            }

            let hint = read_hint(&response.headers, wall_clock());
            for name in &hint.malformed {
                Counters::bump(&inner.counters.malformed_headers);
                tracing::warn!(header = name, value = ?response.headers.get(*name), "ignoring a malformed rate-limit header");
            }
            let throttled = Throttled {
                hint: hint.wait,
                attempts: attempt,
                elapsed: op.elapsed(inner),
                retry_safe,
            };
            match decide_throttle(&throttled, &inner.retry, &mut op.backoff) {
                ThrottleDecision::Wait(delay) => {
                    if !inner.budget.try_withdraw(&host) {
                        Counters::bump(&inner.counters.budget_exhausted);
                        self.emit(Event::BudgetExhausted {
                            method: method.clone(),
                            url: url.clone(),
                            host: host.clone(),
                        });
                        return Err(Error::BudgetExhausted {
                            method,
                            url,
                            host,
                            status,
                        });
                    }
                    inner.counters.add_wait(delay);
                    self.emit(Event::Throttled {
                        method: method.clone(),
                        url: url.clone(),
                        status,
                        hint: hint.wait,
                        delay,
                    });
                    tracing::debug!(status, ?delay, "throttled; waiting before the next attempt");
                    inner.sleeper.sleep(delay).await;
                }
                ThrottleDecision::GiveUp(GiveUp::HintTooLong(delay)) => {
                    return Err(Error::RetryAfterTooLong {
                        method,
                        url,
                        status,
                        delay,
                        max: inner.retry.max_retry_after(),
                    });
                }
                ThrottleDecision::GiveUp(reason) => {
                    tracing::debug!(?reason, status, "not retrying a throttled request");
                    return Err(self.error_for(&method, &url, &response, attempt));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_safety_needs_a_safe_method_a_precondition_or_a_key() {
        let mut post = HttpRequest::new(Method::POST, "http://h/x");
        assert!(!is_retry_safe(&post));
        post.headers
            .insert("idempotency-key", "\"k\"".parse().unwrap());
        assert!(is_retry_safe(&post));
        let mut put = HttpRequest::new(Method::PUT, "http://h/x");
        assert!(!is_retry_safe(&put));
        put.headers
            .insert(header::IF_MATCH, "\"1\"".parse().unwrap());
        assert!(is_retry_safe(&put));
        assert!(is_retry_safe(&HttpRequest::new(Method::GET, "http://h/x")));
    }

    #[test]
    fn hosts_include_the_port() {
        assert_eq!(host_of("http://a.example/x"), "a.example:80");
        assert_eq!(host_of("http://127.0.0.1:9/x"), "127.0.0.1:9");
    }
}
