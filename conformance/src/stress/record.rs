//! Why updates failed: the last refused response each client saw (status, a body
//! excerpt), kept by a transport wrapped around the SDK's, and turned into the
//! first few [`FailedUpdate`]s of the summary.

use std::sync::{Arc, Mutex};

use ifmatch::http;
use ifmatch::rt::{BoxError, BoxFuture};
use ifmatch::transport::{BodyStream, Bytes, ReqwestTransport, Transport};
use serde::Serialize;

/// How many failed updates the summary describes (the rest are only counted).
pub const FIRST_FAILURES: usize = 5;
/// Longest body excerpt shown for a failed update, in characters.
pub const EXCERPT_CHARS: usize = 200;

/// One update that failed, as the summary shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FailedUpdate {
    /// The client (0-based) that made it.
    pub client: usize,
    /// Which of the client's updates it was (1-based).
    pub update: usize,
    /// The base URL the client talked to.
    pub base_url: String,
    /// The status of the response that ended it; `None` when no response came
    /// (connection error) or the client stopped for another reason.
    pub status: Option<u16>,
    /// The refused request, e.g. `PUT http://127.0.0.1:8080/items/1`.
    pub request: Option<String>,
    /// A body excerpt (at most 200 characters, whitespace collapsed, secrets
    /// redacted), or the error when there was no response.
    pub reason: String,
}

/// A refused response: status, request and body excerpt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    pub status: u16,
    pub request: String,
    pub excerpt: String,
}

/// The last response with a 4xx/5xx status a client's transport saw.
#[derive(Debug, Clone, Default)]
pub(super) struct LastRefusal(Arc<Mutex<Option<Refusal>>>);

impl LastRefusal {
    /// Forgets the last refusal (at the start of each update).
    pub fn clear(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Takes the last refusal.
    pub fn take(&self) -> Option<Refusal> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn set(&self, refusal: Refusal) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(refusal);
    }
}

/// The SDK's reqwest transport, remembering the last refused response.
pub(super) struct RecordingTransport {
    inner: ReqwestTransport,
    last: LastRefusal,
}

impl RecordingTransport {
    pub fn new(inner: ReqwestTransport, last: LastRefusal) -> Self {
        RecordingTransport { inner, last }
    }
}

impl Transport for RecordingTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, BoxError>> {
        let described = format!("{} {}", request.method(), request.uri());
        Box::pin(async move {
            let response = self.inner.send(request).await?;
            let status = response.status().as_u16();
            if status >= 400 {
                self.last.set(Refusal {
                    status,
                    request: described,
                    excerpt: excerpt(response.body()),
                });
            }
            Ok(response)
        })
    }

    fn send_streaming(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<BodyStream>, BoxError>> {
        self.inner.send_streaming(request)
    }
}

/// The first [`EXCERPT_CHARS`] characters of `body`, whitespace collapsed;
/// `(empty body)` when there is nothing.
pub(super) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return "(empty body)".into();
    }
    shorten(&collapsed)
}

/// `text` cut to [`EXCERPT_CHARS`] characters, with `…` when cut.
pub(super) fn shorten(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// `text` with every secret value replaced by `<redacted>` (a server may echo a
/// credential in an error body).
pub(super) fn redact(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text.to_owned(), |t, s| t.replace(s.as_str(), "<redacted>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_collapse_whitespace_and_stop_at_200_characters() {
        assert_eq!(
            excerpt(b"  <h1>Oops</h1>\n\n  <p>x</p> "),
            "<h1>Oops</h1> <p>x</p>"
        );
        assert_eq!(excerpt(b" \n"), "(empty body)");
        let long = "é".repeat(300);
        let cut = excerpt(long.as_bytes());
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(
            shorten(&"a".repeat(EXCERPT_CHARS)),
            "a".repeat(EXCERPT_CHARS)
        );
    }

    #[test]
    fn secrets_are_redacted() {
        let secrets = vec!["Bearer s3cret".to_owned(), String::new()];
        assert_eq!(
            redact("token Bearer s3cret refused", &secrets),
            "token <redacted> refused"
        );
    }
}
