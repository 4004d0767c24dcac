//! Renders a recorded request as a `curl` command a person can paste.

use crate::http::RecordedRequest;

/// Quotes `s` for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A `curl` command that sends `request` again (secret values stay redacted).
///
/// ```
/// use ifmatch_conformance::http::RecordedRequest;
/// let req = RecordedRequest {
///     method: "PUT".into(),
///     url: "http://127.0.0.1:8080/items/1".into(),
///     headers: vec![("If-Match".into(), "\"v1\"".into())],
///     body: Some("{}".into()),
/// };
/// assert_eq!(
///     ifmatch_conformance::curl::render(&req),
///     "curl -i -X PUT 'http://127.0.0.1:8080/items/1' -H 'If-Match: \"v1\"' --data-raw '{}'"
/// );
/// ```
pub fn render(request: &RecordedRequest) -> String {
    let mut parts = vec!["curl -i".to_owned()];
    if request.method == "HEAD" {
        parts.push("--head".into());
    } else {
        parts.push(format!("-X {}", request.method));
    }
    parts.push(shell_quote(&request.url));
    for (name, value) in &request.headers {
        parts.push(format!("-H {}", shell_quote(&format!("{name}: {value}"))));
    }
    if let Some(body) = &request.body {
        parts.push(format!("--data-raw {}", shell_quote(body)));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_quotes_in_values_are_escaped() {
        let req = RecordedRequest {
            method: "POST".into(),
            url: "http://h/x".into(),
            headers: vec![],
            body: Some("{\"a\":\"it's\"}".into()),
        };
        assert_eq!(
            render(&req),
            "curl -i -X POST 'http://h/x' --data-raw '{\"a\":\"it'\\''s\"}'"
        );
    }

    #[test]
    fn head_uses_the_head_flag() {
        let req = RecordedRequest {
            method: "HEAD".into(),
            url: "http://h/x".into(),
            headers: vec![],
            body: None,
        };
        assert_eq!(render(&req), "curl -i --head 'http://h/x'");
    }
}
