//! The per-request guard: a head over the limit answers 431, and the body must arrive within
//! the body timeout (a slower one fails to read, which the handlers answer with 408).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::BoxError;
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::ConnectionSettings;
use crate::problem::{Problem, ProblemKind};

/// Middleware: refuses an oversized head with 431, and puts a deadline on the body.
pub(crate) async fn guard(
    State(settings): State<ConnectionSettings>,
    request: Request,
    next: Next,
) -> Response {
    let size = head_size(&request);
    if size > settings.max_header_bytes {
        return Problem::new(
            ProblemKind::HeadersTooLarge,
            request.uri().path(),
            format!(
                "the request head (request line and header fields) is {size} bytes, over this server's limit of {} bytes; send fewer or shorter header fields",
                settings.max_header_bytes
            ),
        )
        .into_response();
    }
    let (parts, body) = request.into_parts();
    // A request without a body (most reads) needs no timer.
    let body = if body.is_end_stream() {
        body
    } else {
        Body::new(DeadlineBody::new(body, settings.body_timeout))
    };
    next.run(Request::from_parts(parts, body)).await
}

/// The size of the head as it came on the wire (HTTP/1.1): the request line, each field as
/// `name: value` plus CRLF, and the blank line.
fn head_size(request: &Request) -> usize {
    let line = request.method().as_str().len() + 1 + request.uri().to_string().len() + 11;
    let fields: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
        .sum();
    line + fields + 2
}

/// The error a body that missed its deadline fails with; [`is_timeout`] recognises it.
#[derive(Debug)]
pub(crate) struct BodyTimedOut(pub(crate) Duration);

impl fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} ms",
            self.0.as_millis()
        )
    }
}

impl std::error::Error for BodyTimedOut {}

/// The body timeout that made reading a body fail, if that is why it failed.
pub(crate) fn timed_out(err: &(dyn std::error::Error + 'static)) -> Option<Duration> {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if let Some(BodyTimedOut(timeout)) = err.downcast_ref::<BodyTimedOut>() {
            return Some(*timeout);
        }
        cause = err.source();
    }
    None
}

/// A request body that fails once its deadline has passed, however the bytes trickle in.
struct DeadlineBody {
    inner: Body,
    timeout: Duration,
    deadline: Instant,
    /// Armed the first time the body has to wait, so a body that is there at once costs no timer.
    sleep: Option<Pin<Box<Sleep>>>,
}

impl DeadlineBody {
    fn new(inner: Body, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            deadline: Instant::now() + timeout,
            sleep: None,
        }
    }

    fn expired(&self) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Poll::Ready(Some(Err(Box::new(BodyTimedOut(self.timeout)))))
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        // The deadline counts first: a client sending a byte now and then never gets past it.
        if Instant::now() >= this.deadline {
            return this.expired();
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|result| result.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => this.expired(),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A body already read in part: yields `data`, then fails with `error`. What a middleware that
/// buffered a body hands on when reading it failed, so the handler sees the same failure.
pub(crate) struct Failed {
    data: Option<Bytes>,
    error: Option<BoxError>,
}

impl Failed {
    pub(crate) fn new(data: Bytes, error: impl Into<BoxError>) -> Self {
        Self {
            data: Some(data).filter(|data| !data.is_empty()),
            error: Some(error.into()),
        }
    }
}

impl HttpBody for Failed {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        Poll::Ready(self.error.take().map(Err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_size_counts_the_request_line_every_field_and_the_blank_line() {
        let request = Request::builder()
            .method("GET")
            .uri("/items/a")
            .header("host", "x")
            .body(Body::empty())
            .unwrap();
        // "GET /items/a HTTP/1.1\r\n" + "host: x\r\n" + "\r\n"
        assert_eq!(head_size(&request), 23 + 9 + 2);
    }

    #[tokio::test]
    async fn a_body_that_stops_before_its_deadline_fails_with_the_timeout() {
        let (sender, slow) = {
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, BoxError>>(4);
            (tx, Body::new(Channel(rx)))
        };
        let mut body = Body::new(DeadlineBody::new(slow, Duration::from_millis(200)));
        sender
            .send(Ok(Frame::data(Bytes::from_static(b"{"))))
            .await
            .unwrap();
        let first = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        assert!(first.unwrap().is_ok(), "what arrived is read");
        // The rest never comes (the sender is still open): the deadline ends the read.
        let err = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(timed_out(&err), Some(Duration::from_millis(200)));
        drop(sender);
    }

    #[tokio::test]
    async fn a_failed_body_yields_its_data_then_its_error() {
        let mut body = Body::new(Failed::new(
            Bytes::from_static(b"12"),
            BodyTimedOut(Duration::from_secs(1)),
        ));
        let bytes = axum::body::to_bytes(Body::new(Failed::new(Bytes::new(), "gone")), 10).await;
        assert!(bytes.is_err());
        let first = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        assert_eq!(first.unwrap().unwrap().into_data().unwrap(), "12");
        let second = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        assert!(timed_out(&second.unwrap().unwrap_err()).is_some());
    }

    struct Channel(tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, BoxError>>);

    impl HttpBody for Channel {
        type Data = Bytes;
        type Error = BoxError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            self.0.poll_recv(cx)
        }
    }
}
