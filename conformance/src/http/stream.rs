//! Reading a `text/event-stream` answer as it arrives. A stream never ends on its
//! own, so it gets a client without the probe's whole-request timeout, and every
//! read is bounded by a deadline the caller chooses instead.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{describe, Exchange, Probe, RecordedRequest, RecordedResponse, Req, TransportError};
use crate::sse::{Item, Parser};

/// Longest wait for a stream's status line and headers.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for the body of an answer that is not a stream.
const BODY_TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes of a stream kept to show in a report.
const KEPT_BYTES: usize = 16 * 1024;

/// What the next read of a stream found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// An event, a comment or a `retry` field.
    Item(Item),
    /// The server closed the stream (or the connection failed).
    Ended,
    /// Nothing came before the deadline.
    TimedOut,
}

/// An open `GET` whose answer is read incrementally as Server-Sent Events.
#[derive(Debug)]
pub struct EventStream {
    request: RecordedRequest,
    status: u16,
    headers: Vec<(String, String)>,
    response: Option<reqwest::Response>,
    parser: Parser,
    pending: VecDeque<Item>,
    kept: Vec<u8>,
}

impl Probe {
    /// Sends `req` (with the `--header` values) and returns as soon as the status
    /// and headers arrive; the body is read later with [`EventStream::next`]. An
    /// answer that is not `200 text/event-stream` has its body read at once.
    pub async fn open_stream(&self, req: Req) -> Result<EventStream, TransportError> {
        let failed = |reason: String| TransportError {
            request: format!("{} {}", req.method, req.url),
            reason,
        };
        let client = reqwest::Client::builder()
            .connect_timeout(HEAD_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| failed(format!("cannot build the HTTP client: {e}")))?;
        let mut builder = client.request(req.method.clone(), &req.url);
        for (name, value) in &self.headers_for(&req) {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        let response = match tokio::time::timeout(HEAD_TIMEOUT, builder.send()).await {
            Err(_) => {
                return Err(failed(format!(
                    "no status line and headers within {} s",
                    HEAD_TIMEOUT.as_secs()
                )))
            }
            Ok(answer) => answer.map_err(|e| failed(describe(&e)))?,
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (n.as_str().to_owned(), self.redact(n.as_str(), value))
            })
            .collect();
        let request = RecordedRequest {
            method: req.method.to_string(),
            url: req.url.clone(),
            headers: self
                .headers_for(&req)
                .into_iter()
                .map(|(n, v)| {
                    let v = self.redact(&n, v);
                    (n, v)
                })
                .collect(),
            body: req.body.clone(),
        };
        let mut stream = EventStream {
            request,
            status,
            headers,
            response: Some(response),
            parser: Parser::default(),
            pending: VecDeque::new(),
            kept: Vec::new(),
        };
        if !stream.is_event_stream() {
            if let Some(response) = stream.response.take() {
                if let Ok(Ok(body)) = tokio::time::timeout(BODY_TIMEOUT, response.bytes()).await {
                    stream.keep(&body);
                }
            }
        }
        Ok(stream)
    }
}

impl EventStream {
    /// The answer's status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The first response header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the answer is `200` with `Content-Type: text/event-stream`.
    pub fn is_event_stream(&self) -> bool {
        let media = self
            .header("content-type")
            .and_then(|v| v.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase());
        self.status == 200 && media.as_deref() == Some("text/event-stream")
    }

    /// The next item, waiting at most until `deadline`.
    pub async fn next(&mut self, deadline: Instant) -> Next {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Next::Item(item);
            }
            let Some(response) = self.response.as_mut() else {
                return Next::Ended;
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Next::TimedOut;
            }
            match tokio::time::timeout(left, response.chunk()).await {
                Err(_) => return Next::TimedOut,
                Ok(Ok(Some(bytes))) => {
                    self.keep(&bytes);
                    let items = self.parser.feed(&bytes);
                    self.pending.extend(items);
                }
                Ok(Ok(None) | Err(_)) => self.response = None,
            }
        }
    }

    /// The next item within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Next {
        self.next(Instant::now() + wait).await
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = KEPT_BYTES.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// The request and what has arrived so far (the first 16 KiB), for a report.
    pub fn exchange(&self) -> Exchange {
        Exchange {
            request: self.request.clone(),
            response: RecordedResponse {
                status: self.status,
                headers: self.headers.clone(),
                body: String::from_utf8_lossy(&self.kept).into_owned(),
            },
        }
    }
}
