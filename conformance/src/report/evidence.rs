//! Turning a rule's evidence (the exchange that showed a problem and the write
//! that caused it) into the report's [`Failure`].

use serde::Serialize;

use super::{diff, excerpt, Failure};
use crate::http::{Exchange, RecordedRequest};

/// The write that broke a rule: what was sent, what the server answered, and a
/// `curl` command that sends it again.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WriteEvidence {
    /// The request (secrets redacted).
    pub request: RecordedRequest,
    /// The response status.
    pub response_status: u16,
    /// Response headers.
    #[serde(serialize_with = "crate::http::serialize_headers")]
    pub response_headers: Vec<(String, String)>,
    /// The first bytes of the response body.
    pub response_excerpt: String,
    /// A `curl` command that sends the write again.
    pub curl: String,
}

impl WriteEvidence {
    /// Evidence of `request`, answered with `status`, `headers` and `body`.
    pub fn new(
        request: &RecordedRequest,
        status: u16,
        headers: &[(String, String)],
        body: &str,
    ) -> Self {
        WriteEvidence {
            request: request.clone(),
            response_status: status,
            response_headers: headers.to_vec(),
            response_excerpt: excerpt(body),
            curl: crate::curl::render(request),
        }
    }
}

impl From<&Exchange> for WriteEvidence {
    fn from(x: &Exchange) -> Self {
        WriteEvidence::new(
            &x.request,
            x.response.status,
            &x.response.headers,
            &x.response.body,
        )
    }
}

impl Failure {
    /// The report's view of a rule's evidence: `exchange` showed the problem (often a
    /// re-read), `write` caused it. With both, and JSON bodies on each side, the
    /// failure carries a diff of what the write sent against what the re-read found.
    ///
    /// ```
    /// use ifmatch_conformance::http::{Exchange, RecordedRequest, RecordedResponse};
    /// use ifmatch_conformance::report::{diff::Change, Failure};
    ///
    /// let exchange = |method: &str, body: Option<&str>, answer: &str| Exchange {
    ///     request: RecordedRequest {
    ///         method: method.into(),
    ///         url: "http://127.0.0.1:8080/items/1".into(),
    ///         headers: vec![("Content-Type".into(), "application/json".into())],
    ///         body: body.map(str::to_owned),
    ///     },
    ///     response: RecordedResponse { status: 200, headers: vec![], body: answer.into() },
    /// };
    /// let write = exchange("PUT", Some(r#"{"n":2}"#), "");
    /// let reread = exchange("GET", None, r#"{"n":1,"id":1}"#);
    /// let failure = Failure::new("refused", "applied", Some(&reread), Some(&write));
    /// assert!(failure.write.unwrap().curl.starts_with("curl -i -X PUT"));
    /// let diff = failure.diff.unwrap();
    /// assert_eq!((diff[0].pointer.as_str(), diff[0].change), ("/n", Change::Changed));
    /// assert_eq!((diff[1].pointer.as_str(), diff[1].change), ("/id", Change::Added));
    /// ```
    pub fn new(
        expectation: impl Into<String>,
        observed: impl Into<String>,
        exchange: Option<&Exchange>,
        write: Option<&Exchange>,
    ) -> Self {
        let diff = match (write, exchange) {
            (Some(w), Some(x)) if x.response.status / 100 == 2 => {
                w.request.body.as_deref().and_then(|sent| {
                    let content_type = w
                        .request
                        .headers
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                        .map(|(_, v)| v.as_str());
                    diff::diff_bodies(sent, content_type, &x.response.body)
                })
            }
            _ => None,
        };
        Failure {
            expectation: expectation.into(),
            observed: observed.into(),
            request: exchange.map(|x| x.request.clone()),
            response_status: exchange.map(|x| x.response.status),
            response_headers: exchange
                .map(|x| x.response.headers.clone())
                .unwrap_or_default(),
            response_excerpt: exchange.map(|x| excerpt(&x.response.body)),
            curl: exchange.map(|x| crate::curl::render(&x.request)),
            write: write.map(WriteEvidence::from),
            diff,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::RecordedResponse;

    fn exchange(method: &str, body: Option<&str>, status: u16, answer: &str) -> Exchange {
        Exchange {
            request: RecordedRequest {
                method: method.into(),
                url: "http://h/items/1".into(),
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: body.map(str::to_owned),
            },
            response: RecordedResponse {
                status,
                headers: vec![("etag".into(), "\"2\"".into())],
                body: answer.into(),
            },
        }
    }

    #[test]
    fn a_write_and_its_reread_give_a_diff_and_the_write_curl() {
        let write = exchange("PUT", Some("{\"n\":2,\"t\":\"x\"}"), 200, "");
        let read = exchange("GET", None, 200, "{\"n\":1,\"t\":\"x\",\"id\":1}");
        let f = Failure::new("e", "o", Some(&read), Some(&write));
        let w = f.write.as_ref().unwrap();
        assert_eq!(w.request.method, "PUT");
        assert!(w.curl.starts_with("curl -i -X PUT"), "{}", w.curl);
        assert!(f.curl.as_deref().unwrap().starts_with("curl -i -X GET"));
        let changes: Vec<_> = f
            .diff
            .unwrap()
            .into_iter()
            .map(|e| (e.pointer, e.change))
            .collect();
        assert_eq!(
            changes,
            [
                ("/n".to_owned(), diff::Change::Changed),
                ("/t".to_owned(), diff::Change::Same),
                ("/id".to_owned(), diff::Change::Added),
            ]
        );
    }

    #[test]
    fn no_diff_without_a_write_or_when_the_reread_failed() {
        let write = exchange("PUT", Some("{}"), 200, "");
        let gone = exchange("GET", None, 404, "{\"status\":404}");
        assert!(Failure::new("e", "o", Some(&gone), Some(&write))
            .diff
            .is_none());
        let read = exchange("GET", None, 200, "{}");
        let f = Failure::new("e", "o", Some(&read), None);
        assert!(f.diff.is_none() && f.write.is_none());
    }
}
