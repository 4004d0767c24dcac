//! Sending one request: timeouts, redirects of reads, and waiting out 429/503 (502/504 for reads) as policy allows.

use std::{future::Future, time::Duration};

use http::{header, HeaderMap, StatusCode};
use web_time::Instant;

use crate::{
    pacing::Ticket,
    retry::{
        decide_throttle, is_resent_status, is_retry_safe, read_hint, Backoff, GiveUp,
        ThrottleDecision, Throttled,
    },
    rt::{traced, BoxFuture},
    stats::Counters,
    timeout::within,
    transport::{is_read, Incoming, Outgoing, RedirectNotFollowed},
    Error, Event, TimeoutScope,
};

use super::{lost, options::Options, Client, Inner};

/// Pacing waits shorter than this are not slept: timers have millisecond resolution, and a
/// client paced faster than 1,000 requests/s owes its waits until they add up.
const MIN_PACING_SLEEP: Duration = Duration::from_millis(1);

/// How many redirects a read follows before returning the redirect itself (reqwest's default).
const MAX_REDIRECTS: u32 = 10;

/// State shared by all requests of one logical operation (a get, a write, a whole update).
pub(crate) struct OpState {
    started: Instant,
    backoff: Backoff,
    /// HTTP requests sent so far.
    pub requests: u32,
    /// Headers this operation adds to the client's.
    pub headers: HeaderMap,
    /// The limit for each request of this operation.
    pub attempt_timeout: Option<Duration>,
    /// The lock this operation's writes are made under, when named explicitly.
    pub lock: Option<std::sync::Arc<crate::lock::LockState>>,
    /// The transaction the operation's requests are made in (they carry `Transaction-Id`
    /// and bypass the cache).
    pub transaction: Option<crate::Transaction>,
    /// Whether a repeat of this operation's request cannot apply it twice although neither its
    /// method nor its headers say so (see `retry::is_retry_safe`).
    pub repeatable: bool,
    /// The version a write sends as a query parameter ([`crate::VersionField::sent_in_query`]).
    pub version_query: Option<(String, String)>,
}

impl OpState {
    pub(crate) fn new(inner: &Inner, options: &Options) -> Self {
        let config = &inner.retry;
        let mut headers = options.headers.clone();
        if let Some(tx) = &options.transaction {
            headers.insert("transaction-id", tx.header().clone());
        }
        Self {
            headers,
            transaction: options.transaction.clone(),
            lock: options.lock.clone(),
            attempt_timeout: options.attempt_timeout.unwrap_or(inner.attempt_timeout),
            started: inner.sleeper.now(),
            backoff: Backoff::new(
                config.initial_delay(),
                config.factor(),
                config.max_delay(),
                jitter_seed(inner),
            ),
            requests: 0,
            repeatable: false,
            version_query: None,
        }
    }

    /// The next throttle backoff delay (for resends this module does not decide itself).
    pub(crate) fn next_backoff(&mut self) -> Duration {
        self.backoff.next_delay()
    }

    pub(crate) fn elapsed(&self, inner: &Inner) -> Duration {
        inner.sleeper.now().saturating_duration_since(self.started)
    }
}

/// A response and how it was obtained.
pub(crate) struct Exchanged {
    pub response: Incoming,
    /// How many times this request was sent (redirect hops of a read included).
    pub attempts: u32,
    /// Whether an earlier attempt of this (unsafe-method) request was answered 503, which a
    /// proxy may send after the origin applied it: a refusal now may be the write's own doing.
    pub resent_after_503: bool,
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

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// `Location`, resolved against `base`.
pub(crate) fn location_of(
    response: &Incoming,
    name: header::HeaderName,
    base: &str,
) -> Option<String> {
    let raw = response.headers.get(name)?.to_str().ok()?;
    let resolved = url::Url::parse(base).ok()?.join(raw).ok()?;
    Some(resolved.into())
}

impl Client {
    /// Sends one HTTP request within the attempt timeout; a transport that refused to follow a
    /// redirect for a write becomes [`Error::Redirected`].
    async fn send_once(&self, op: &OpState, request: &Outgoing) -> Result<Incoming, Error> {
        let inner = &*self.inner;
        let (method, url) = (&request.method, &request.url);
        let http = request.to_http().ok_or_else(|| Error::InvalidUrl {
            input: url.clone(),
            reason: "is not a valid HTTP request URI".into(),
        })?;
        let timer = op.attempt_timeout.map(|d| inner.sleeper.timer(d));
        let span = tracing::debug_span!("ifmatch.attempt", method = %method, url = %url);
        match within(timer, traced(span, inner.transport.send(http))).await {
            Err(_) => Err(Error::Timeout {
                what: format!("{method} {url}"),
                url: url.clone(),
                read_only: is_read(method),
                after: op.attempt_timeout.unwrap_or_default(),
                scope: TimeoutScope::Attempt,
            }),
            Ok(Err(source)) => Err(match source.downcast_ref::<RedirectNotFollowed>() {
                Some(redirect) => Error::Redirected {
                    method: method.clone(),
                    url: url.clone(),
                    status: redirect.status.and_then(|s| StatusCode::from_u16(s).ok()),
                    location: redirect.location.clone(),
                },
                None => Error::Transport {
                    method: method.clone(),
                    url: url.clone(),
                    source,
                },
            }),
            Ok(Ok(response)) => Ok(response.into()),
        }
    }

    /// Sends `request`; follows redirects of reads, refuses them for writes, and waits and
    /// resends after 429/503 while the policy, the deadline and the per-host budget allow.
    /// Returns every other response as it is.
    ///
    /// Boxed, and never inlined, so that the body is compiled once, in this crate: an `async fn`
    /// future is instantiated again in every crate that polls it (the npm package's, through
    /// the generic builders it uses), which put two copies of this loop in the wasm module.
    #[inline(never)]
    pub(crate) fn exchange<'a>(
        &'a self,
        op: &'a mut OpState,
        request: Outgoing,
    ) -> BoxFuture<'a, Result<Exchanged, Error>> {
        Box::pin(self.exchange_unboxed(op, request))
    }

    async fn exchange_unboxed(
        &self,
        op: &mut OpState,
        mut request: Outgoing,
    ) -> Result<Exchanged, Error> {
        let inner = &*self.inner;
        let host = crate::authority::host_key(&request.url);
        let mut attempt = 1u32;
        let mut hops = 0u32;
        let mut resent_after_503 = false;
        let mut resent_after_loss = false;
        loop {
            // A resend after a 429/503 has waited as the server asked: it takes its token
            // without waiting for it (the next request waits in its place).
            let ticket = self.pace(&host, &request.method, attempt == 1).await;
            op.requests += 1;
            Counters::bump(&inner.counters.requests);
            let response = match self.send_once(op, &request).await {
                Ok(response) => response,
                Err(err) => {
                    // A read whose answer was lost is resent, and so is a keyed write (with
                    // its key) to a server declared to honour keys; anything else ends here.
                    self.before_resending_lost(op, &request, &host, attempt, err)
                        .await?;
                    resent_after_loss = true;
                    attempt += 1;
                    Counters::bump(&inner.counters.retries);
                    self.emit(Event::Attempt {
                        method: request.method.clone(),
                        url: request.url.clone(),
                        attempt,
                    });
                    continue;
                }
            };
            if let (Some(pacing), Some(ticket)) = (&inner.pacing, ticket) {
                let (status, headers) = (response.status, &response.headers);
                let now = inner.sleeper.now();
                pacing.observe(&host, &request.method, ticket, status, headers, now);
            }
            self.observe_deprecation(&request.url, &response.headers);
            if response.headers.contains_key(lost::REPLAYED) {
                Counters::bump(&inner.counters.replayed_answers);
            }
            if is_redirect(response.status) {
                if let Some(next) = redirect_step(&request, &response, hops)? {
                    hops += 1; // a hop is not a retry
                    request.url = next;
                    continue;
                }
            }
            let status = response.status.as_u16();
            // After a lost answer, a 409 to the resend says the first attempt is still being
            // processed (the draft's "in flight"): wait, and ask again for its outcome.
            let in_flight = status == 409 && resent_after_loss && lost::keyed_write(self, &request);
            if !is_resent_status(&request.method, status) && !in_flight {
                if response.status.is_success() {
                    inner.budget.deposit(&host);
                }
                return Ok(Exchanged {
                    response,
                    attempts: attempt + hops,
                    resent_after_503,
                });
            }
            self.wait_out(op, &request, &response, &host, attempt)
                .await?;
            resent_after_503 |= status == 503 && !is_read(&request.method);
            attempt += 1;
            Counters::bump(&inner.counters.retries);
            self.emit(Event::Attempt {
                method: request.method.clone(),
                url: request.url.clone(),
                attempt,
            });
        }
    }

    /// Takes a token from the adaptive limiter of `host` and, when `wait`, waits as long as it
    /// says (a wait under [`MIN_PACING_SLEEP`] is owed, not slept: the next reservation waits
    /// for it).
    async fn pace(&self, host: &str, method: &http::Method, wait: bool) -> Option<Ticket> {
        let inner = &*self.inner;
        let (ticket, delay) = inner
            .pacing
            .as_ref()?
            .reserve(host, method, inner.sleeper.now());
        if wait && delay >= MIN_PACING_SLEEP {
            inner.counters.add_pacing_wait(delay);
            inner.sleeper.sleep(delay).await;
        }
        Some(ticket)
    }

    /// Waits before resending a request answered 429/503 (or a read answered 502/504; its `attempt`), or says why not.
    async fn wait_out(
        &self,
        op: &mut OpState,
        request: &Outgoing,
        response: &Incoming,
        host: &str,
        attempt: u32,
    ) -> Result<(), Error> {
        let inner = &*self.inner;
        let (method, url, status) = (&request.method, &request.url, response.status);
        let hint = read_hint(&response.headers, wall_clock());
        for name in &hint.malformed {
            Counters::bump(&inner.counters.malformed_headers);
            tracing::warn!(header = name, value = ?response.headers.get(*name), "ignoring a malformed rate-limit header");
        }
        let throttled = Throttled {
            hint: hint.wait,
            attempts: attempt,
            elapsed: op.elapsed(inner),
            retry_safe: is_retry_safe(
                method,
                &request.headers,
                op.repeatable,
                status.as_u16(),
                inner.keys_honoured,
            ),
        };
        let delay = match decide_throttle(&throttled, &inner.retry, &mut op.backoff) {
            ThrottleDecision::Wait(delay) => delay,
            ThrottleDecision::GiveUp(GiveUp::HintTooLong(delay)) => {
                return Err(Error::RetryAfterTooLong {
                    method: method.clone(),
                    url: url.clone(),
                    status,
                    delay,
                    max: inner.retry.max_retry_after(),
                });
            }
            ThrottleDecision::GiveUp(reason) => {
                tracing::debug!(?reason, %status, "not retrying a throttled request");
                return Err(self.error_for(method, url, response, attempt, None));
            }
        };
        if !inner.budget.try_withdraw(host) {
            Counters::bump(&inner.counters.budget_exhausted);
            self.emit(Event::BudgetExhausted {
                method: method.clone(),
                url: url.clone(),
                host: host.to_owned(),
            });
            return Err(Error::BudgetExhausted {
                method: method.clone(),
                url: url.clone(),
                host: host.to_owned(),
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
        tracing::debug!(%status, ?delay, "throttled; waiting before the next attempt");
        inner.sleeper.sleep(delay).await;
        Ok(())
    }
}

/// A redirect answer: `Some(url)` to follow it (reads, up to [`MAX_REDIRECTS`] hops), an error
/// for a write (never followed), `None` to return it as it is (no usable `Location`, too many).
fn redirect_step(
    request: &Outgoing,
    response: &Incoming,
    hops: u32,
) -> Result<Option<String>, Error> {
    let location = location_of(response, header::LOCATION, &request.url);
    if !is_read(&request.method) {
        return Err(Error::Redirected {
            method: request.method.clone(),
            url: request.url.clone(),
            status: Some(response.status),
            location,
        });
    }
    Ok(location.filter(|_| hops < MAX_REDIRECTS))
}

impl Client {
    /// Runs one whole operation within `RetryConfig::total_deadline` (real time).
    pub(crate) async fn bounded<T>(
        &self,
        what: String,
        url: &str,
        read_only: bool,
        work: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let deadline = self.inner.retry.total_deadline();
        let timer = deadline.map(|d| self.inner.sleeper.timer(d));
        within(timer, work).await.unwrap_or_else(|_| {
            Err(Error::Timeout {
                what,
                url: url.to_owned(),
                read_only,
                after: deadline.unwrap_or_default(),
                scope: TimeoutScope::Operation,
            })
        })
    }
}
