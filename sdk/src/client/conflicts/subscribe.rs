//! `client.conflicts().subscribe(filter)`: the conflict stream, reconnecting by itself.

use std::{
    collections::VecDeque,
    future::poll_fn,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures_core::Stream;

use crate::{
    conflicts::track::{Reconnect, Tracker},
    rt::{unfold, BoxStream},
    sse::{SseItem, SseParser},
    stats::Counters,
    timeout::within,
    transport::BodyStream,
    CancelToken, ConflictEvent, ConflictFilter, Error, Event,
};

use super::{
    super::{exchange::jitter_seed, options::Options, Client},
    connect::{connect, Failure},
};

/// How long a subscription waits without receiving a byte (not even a heartbeat) before it
/// takes the connection for dead and reconnects: three of the reference server's 15 s
/// heartbeats.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(45);

/// The most bytes a subscription holds for one event while it arrives: 1 MiB (the reference
/// server's events are a few KiB, with refused bodies cut at 64 KiB).
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1024 * 1024;

/// A live stream of conflict events ([`ConflictEvent`]); built by
/// [`super::Conflicts::subscribe`]. It implements [`futures_core::Stream`]; [`Subscription::next`]
/// reads it without a stream extension trait. Nothing is sent until it is first polled.
///
/// - **Each event once, in order.** It resumes after a lost connection with `Last-Event-ID`
///   (the server replays what it still holds), and skips any event it already yielded.
/// - **Reconnects by itself** after a transport error, a 5xx/429, the server closing the
///   stream, or a stall (nothing received for [`Subscription::stall_timeout`]), waiting the
///   server's `retry:` time (1 s until it sent one; [`crate::RetryConfig::initial_delay`]),
///   doubled per failed attempt in a row up to `RetryConfig::max_delay` (20 s), with jitter;
///   a `Retry-After` is honoured. [`Event::ConflictStreamReconnect`] and
///   [`crate::Stats::conflict_stream_reconnects`] report it.
/// - **Ends** with an `Err` after which it yields nothing: `unauthorized` / `forbidden`
///   (401/403: no reconnect loop with bad credentials), another 4xx (e.g. 404: no such
///   endpoint), a transport that cannot stream (`invalid_config`), `cancelled`
///   ([`Subscription::cancel_on`]), or the last failure once [`Subscription::max_failures`]
///   attempts in a row failed. A record it cannot read is an `Err` (`decode`) item, after
///   which the stream goes on; so is an event larger than [`Subscription::max_event_bytes`]
///   (a server sending one endless line costs at most that much memory; the event is skipped).
/// - **Dropping it** closes the connection (natively the socket, on wasm32 an abort of the
///   `fetch`); it runs no background task.
///
/// # Defaults
/// `stall_timeout` 45 s ([`DEFAULT_STALL_TIMEOUT`]), `max_event_bytes` 1 MiB
/// ([`DEFAULT_MAX_EVENT_BYTES`]), `max_failures` none (keeps trying, as a
/// browser's `EventSource` does), `after` none (live events only), no cancel token.
///
/// ```no_run
/// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
/// use ifmatch::{ConflictEvent, ConflictFilter};
///
/// let mut events = client.conflicts().subscribe(ConflictFilter::new().prefix("/items/"));
/// while let Some(event) = events.next().await {
///     match event? {
///         ConflictEvent::Conflict(c) => println!("{} refused on {}", c.id, c.resource),
///         ConflictEvent::Resolved(c) => println!("{} resolved", c.id),
///         ConflictEvent::Gap { .. } => println!("missed some: list the open ones"),
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
#[must_use = "a subscription does nothing until it is polled"]
pub struct Subscription {
    setup: Option<Setup>,
    running: Option<BoxStream<'static, Result<ConflictEvent, Error>>>,
}

struct Setup {
    client: Client,
    path: String,
    filter: ConflictFilter,
    options: Options,
    stall: Option<Duration>,
    cancel: Option<CancelToken>,
    after: Option<u64>,
    max_failures: Option<u32>,
    max_event_bytes: usize,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Subscription");
        match &self.setup {
            Some(s) => d
                .field("path", &s.path)
                .field("filter", &s.filter)
                .field("options", &s.options)
                .field("stall_timeout", &s.stall)
                .field("after", &s.after)
                .field("max_failures", &s.max_failures)
                .field("max_event_bytes", &s.max_event_bytes),
            None => d.field("running", &self.running.is_some()),
        };
        d.finish_non_exhaustive()
    }
}

impl Subscription {
    pub(super) fn new(client: Client, path: String, filter: ConflictFilter) -> Self {
        Self {
            setup: Some(Setup {
                client,
                path,
                filter,
                options: Options::default(),
                stall: Some(DEFAULT_STALL_TIMEOUT),
                cancel: None,
                after: None,
                max_failures: None,
                max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            }),
            running: None,
        }
    }

    fn set(mut self, change: impl FnOnce(&mut Setup)) -> Self {
        // Setters apply before the first poll; afterwards the stream runs as it was set up.
        if let Some(setup) = &mut self.setup {
            change(setup);
        }
        self
    }

    /// Reconnect when nothing (no event, no heartbeat comment) arrived for this long; `None`
    /// to wait forever. Keep it a few times the server's heartbeat interval.
    pub fn stall_timeout(self, timeout: Option<Duration>) -> Self {
        self.set(|s| s.stall = timeout)
    }

    /// Start after sequence number `seq` (sent as `Last-Event-ID`): the server first replays
    /// the events after it that its log still holds (a `Gap` when some were forgotten). Use the
    /// `seq` of the last record you handled, e.g. from [`super::Conflicts::list`].
    pub fn after(self, seq: u64) -> Self {
        self.set(|s| s.after = Some(seq))
    }

    /// End with the last error after this many failed connection attempts in a row.
    pub fn max_failures(self, attempts: u32) -> Self {
        self.set(|s| s.max_failures = Some(attempts))
    }

    /// The most bytes held for one event while it arrives (its data so far plus the line
    /// being read); a larger event is skipped and yielded as an `Err` (`decode`) item naming
    /// the limit, and the stream goes on with the next event. At least 1 (0 counts as 1).
    pub fn max_event_bytes(self, bytes: usize) -> Self {
        self.set(|s| s.max_event_bytes = bytes.max(1))
    }

    /// End with [`Error::Cancelled`] as soon as `token` is cancelled.
    pub fn cancel_on(self, token: &CancelToken) -> Self {
        let token = token.clone();
        self.set(|s| s.cancel = Some(token))
    }

    /// Adds a header to the subscription's requests (see the request builders' `header`).
    pub fn header(self, name: &str, value: &str) -> Self {
        self.set(|s| s.options.header(name, value))
    }

    /// `Authorization: Bearer <token>` for the subscription's requests instead of the client's.
    pub fn bearer_token(self, token: &str) -> Self {
        self.set(|s| s.options.bearer_token(token))
    }

    /// The next event; `None` once the stream has ended.
    pub async fn next(&mut self) -> Option<Result<ConflictEvent, Error>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl Stream for Subscription {
    type Item = Result<ConflictEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(setup) = this.setup.take() {
            this.running = Some(start(setup));
        }
        match &mut this.running {
            Some(running) => running.as_mut().poll_next(cx),
            None => Poll::Ready(None),
        }
    }
}

fn start(setup: Setup) -> BoxStream<'static, Result<ConflictEvent, Error>> {
    let url = setup
        .client
        .target(&setup.path, &setup.options)
        .and_then(|_| {
            let mut query = setup.options.query.clone();
            query.extend(setup.filter.query());
            setup.client.resolve(&setup.path, &query)
        });
    let driver = Driver {
        reconnect: Reconnect::new(&setup.client.inner.retry, jitter_seed(&setup.client.inner)),
        url,
        tracker: Tracker::new(setup.after),
        parser: SseParser::new(setup.max_event_bytes),
        body: None,
        ready: VecDeque::new(),
        attempts: 0,
        connections: 0,
        failed_in_row: 0,
        ended: false,
        setup,
    };
    unfold(driver, |mut driver| async move {
        if driver.ended {
            return None;
        }
        let next = match driver.setup.cancel.clone() {
            Some(token) => {
                token
                    .run("the conflict subscription", driver.next_event())
                    .await
            }
            None => driver.next_event().await,
        };
        if matches!(&next, Err(e) if e.is_cancelled()) {
            driver.end();
        }
        Some((next, driver))
    })
}

/// The subscription's state between events.
struct Driver {
    setup: Setup,
    url: Result<String, Error>,
    tracker: Tracker,
    parser: SseParser,
    body: Option<BodyStream>,
    /// Events read but not yet yielded.
    ready: VecDeque<Result<ConflictEvent, Error>>,
    /// Connection attempts so far (every one after the first waits first).
    attempts: u64,
    /// Connections that were answered with a stream.
    connections: u64,
    /// Failed connection attempts in a row.
    failed_in_row: u32,
    reconnect: Reconnect,
    ended: bool,
}

/// What one read of the body gave.
enum Read {
    Chunk(bytes::Bytes),
    Ended(&'static str),
}

impl Driver {
    fn end(&mut self) {
        self.ended = true;
        self.body = None;
    }

    /// Yields `error` and ends the stream.
    fn fatal(&mut self, error: Error) -> Result<ConflictEvent, Error> {
        self.end();
        Err(error)
    }

    async fn next_event(&mut self) -> Result<ConflictEvent, Error> {
        let client = self.setup.client.clone();
        let url = match &self.url {
            Ok(url) => url.clone(),
            Err(_) => {
                let error = std::mem::replace(&mut self.url, Ok(String::new())).unwrap_err();
                return self.fatal(error);
            }
        };
        let mut hint = None;
        loop {
            if let Some(event) = self.ready.pop_front() {
                return event;
            }
            if self.body.is_none() {
                self.connect(&client, &url, &mut hint).await?;
                continue;
            }
            let Some(body) = self.body.as_mut() else {
                continue;
            };
            let timer = self.setup.stall.map(|d| client.inner.sleeper.timer(d));
            let read = match within(timer, poll_fn(|cx| body.as_mut().poll_next(cx))).await {
                Err(_) => Read::Ended("nothing arrived within the stall timeout"),
                Ok(None) => Read::Ended("the server closed the stream"),
                Ok(Some(Err(_))) => Read::Ended("the connection failed mid-stream"),
                Ok(Some(Ok(chunk))) => Read::Chunk(chunk),
            };
            match read {
                Read::Chunk(chunk) => {
                    if !chunk.is_empty() {
                        self.reconnect.healthy();
                    }
                    self.absorb(&url, &chunk);
                }
                Read::Ended(why) => {
                    tracing::debug!(reason = why, "the conflict stream ended; reconnecting");
                    self.body = None;
                }
            }
        }
    }

    /// Waits (unless this is the first attempt) and connects once. `Err` ends the stream: a
    /// fatal answer, or the last failure of `max_failures` in a row.
    async fn connect(
        &mut self,
        client: &Client,
        url: &str,
        hint: &mut Option<Duration>,
    ) -> Result<(), Error> {
        if self.attempts > 0 {
            let delay = self.reconnect.next_delay(hint.take());
            client.emit(Event::ConflictStreamReconnect {
                url: url.to_owned(),
                attempt: self.reconnect.failures(),
                delay,
            });
            client.inner.sleeper.sleep(delay).await;
        }
        self.attempts += 1;
        match connect(client, url, &self.setup.options, self.tracker.last_seq()).await {
            Ok(body) => {
                let counters = &client.inner.counters;
                Counters::bump(&counters.conflict_stream_connects);
                if self.connections > 0 {
                    Counters::bump(&counters.conflict_stream_reconnects);
                }
                self.connections += 1;
                self.failed_in_row = 0;
                self.parser = SseParser::new(self.setup.max_event_bytes);
                self.body = Some(body);
                Ok(())
            }
            Err(Failure::Fatal(error)) => {
                self.end();
                Err(error)
            }
            Err(Failure::Retry { error, hint: wait }) => {
                self.failed_in_row += 1;
                if self
                    .setup
                    .max_failures
                    .is_some_and(|max| self.failed_in_row >= max)
                {
                    self.end();
                    return Err(error);
                }
                tracing::debug!(%error, "the conflict stream could not connect; retrying");
                *hint = wait;
                Ok(())
            }
        }
    }

    /// Parses a chunk and queues the events it completed.
    fn absorb(&mut self, url: &str, chunk: &[u8]) {
        for item in self.parser.push(chunk) {
            match item {
                SseItem::Retry(retry) => self.reconnect.set_server_retry(retry),
                SseItem::Comment(_) => {}
                SseItem::TooLarge(limit) => self.ready.push_back(Err(super::requests::malformed(
                    url,
                    format!(
                        "an event of the conflict stream was larger than {limit} bytes \
                         (Subscription::max_event_bytes); it was skipped"
                    ),
                ))),
                SseItem::Event(event) => match self.tracker.accept(&event) {
                    None => {}
                    Some(Ok(event)) => self.ready.push_back(Ok(event)),
                    Some(Err(what)) => self
                        .ready
                        .push_back(Err(super::requests::malformed(url, what))),
                },
            }
        }
    }
}
