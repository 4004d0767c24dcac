//! One connection of a conflict subscription: send the GET, judge the answer's head.

use std::{future::poll_fn, time::Duration};

use bytes::BytesMut;
use http::{header, HeaderValue, Method, StatusCode};

use crate::{
    retry::read_hint,
    stats::Counters,
    timeout::within,
    transport::{BodyStream, Incoming, StreamingUnsupported},
    Error, TimeoutScope,
};

use super::super::{exchange::wall_clock, options::Options, Client};

/// Why a connection attempt did not give a stream.
pub(super) enum Failure {
    /// Worth another try after a wait (`hint`: the server's `Retry-After`).
    Retry {
        error: Error,
        hint: Option<Duration>,
    },
    /// Trying again would get the same answer: the subscription ends with it.
    Fatal(Error),
}

/// The most of an error answer's body read for its problem details.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Connects once; the body of a `200 text/event-stream` answer, or why not.
pub(super) async fn connect(
    client: &Client,
    url: &str,
    options: &Options,
    last_seq: Option<u64>,
) -> Result<BodyStream, Failure> {
    let inner = &*client.inner;
    let op = client.op(options);
    let mut request = client.outgoing(&op, Method::GET, url);
    request.headers.insert(
        header::ACCEPT,
        HeaderValue::from_static("text/event-stream"),
    );
    request
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(seq) = last_seq {
        request
            .headers
            .insert("last-event-id", HeaderValue::from(seq));
    }
    let Some(http) = request.to_http() else {
        return Err(Failure::Fatal(Error::InvalidUrl {
            input: url.to_owned(),
            reason: "is not a valid HTTP request URI".into(),
        }));
    };
    Counters::bump(&inner.counters.requests);
    let timer = op.attempt_timeout.map(|d| inner.sleeper.timer(d));
    let response = match within(timer, inner.transport.send_streaming(http)).await {
        Err(_) => {
            return Err(Failure::Retry {
                error: Error::Timeout {
                    what: format!("GET {url}"),
                    url: url.to_owned(),
                    read_only: true,
                    after: op.attempt_timeout.unwrap_or_default(),
                    scope: TimeoutScope::Attempt,
                },
                hint: None,
            })
        }
        Ok(Err(source)) if source.is::<StreamingUnsupported>() => {
            return Err(Failure::Fatal(Error::Config {
                field: "transport",
                reason: "this transport cannot stream response bodies (Transport::send_streaming), which a conflict subscription needs; use the default transport (reqwest natively, fetch on wasm32), ReqwestTransport or MiddlewareTransport, or implement send_streaming".into(),
            }))
        }
        Ok(Err(source)) => {
            return Err(Failure::Retry {
                error: Error::Transport {
                    method: Method::GET,
                    url: url.to_owned(),
                    source,
                },
                hint: None,
            })
        }
        Ok(Ok(response)) => response,
    };
    let (parts, body) = response.into_parts();
    let status = parts.status;
    if status == StatusCode::OK {
        let streams = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));
        if streams {
            return Ok(body);
        }
        return Err(Failure::Fatal(super::requests::malformed(
            url,
            format!(
                "the subscription was answered with Content-Type {:?}, not text/event-stream; is this the conflict stream of a server of the reference shape?",
                parts.headers.get(header::CONTENT_TYPE)
            ),
        )));
    }
    let timer = op.attempt_timeout.map(|d| inner.sleeper.timer(d));
    let body = within(timer, read_some(body, MAX_ERROR_BODY))
        .await
        .unwrap_or_default();
    let answer = Incoming {
        status,
        headers: parts.headers,
        body,
    };
    let error = client.error_for(&Method::GET, url, &answer, 1, None);
    let retry =
        status.is_server_error() || matches!(status.as_u16(), 408 | 429) || status.is_success();
    if retry {
        let hint = read_hint(&answer.headers, wall_clock())
            .wait
            .map(|(d, _)| d);
        Err(Failure::Retry { error, hint })
    } else {
        Err(Failure::Fatal(error))
    }
}

/// Up to `limit` bytes of a body (an error answer's, for its problem details).
async fn read_some(mut body: BodyStream, limit: usize) -> bytes::Bytes {
    let mut out = BytesMut::new();
    while out.len() < limit {
        match poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            Some(Ok(chunk)) => out.extend_from_slice(&chunk),
            _ => break,
        }
    }
    out.freeze()
}
