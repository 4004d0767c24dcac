//! The plain-text report: the headline (a server that ignores `If-Match`) and
//! the rules not run first, then the summary, failures and warnings with their
//! evidence and a fix, then one line per remaining rule.

use std::fmt::Write;

use super::{diff, Failure, Outcome, Report};
use crate::verdict::Verdict;

/// Renders the report for a terminal or a log.
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let profiles: Vec<&str> = report.profiles.iter().map(|p| p.as_str()).collect();
    let counts = report.counts();
    let summary: Vec<String> = counts
        .iter()
        .map(|(v, n)| format!("{n} {}", v.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "ifmatch conformance report (ifmatch-conformance {})",
        report.tool_version
    );
    if let Some(headline) = report.headline() {
        let _ = writeln!(out, "\n!!! {headline}\n");
    }
    let _ = writeln!(
        out,
        "target:   {}  collection {}",
        report.target, report.collection
    );
    let _ = writeln!(
        out,
        "profiles: {}  (mismatch status {})",
        profiles.join(", "),
        report.mismatch_status
    );
    let _ = writeln!(
        out,
        "summary:  {} of {} rules",
        summary.join(", "),
        report.outcomes.len()
    );
    let reasons = report.failure_reasons();
    let _ = writeln!(
        out,
        "result:   {}",
        if reasons.is_empty() {
            "PASSED (no required rule failed)".to_owned()
        } else {
            format!("FAILED ({})", reasons.join("; "))
        }
    );
    for (i, group) in report.not_run().iter().enumerate() {
        let label = if i == 0 { "not run:" } else { "" };
        let _ = writeln!(out, "{label:<9} {}", wrap(&group.sentence(), 12, 100));
    }
    let sorted = report.by_severity();
    let (detailed, rest): (Vec<&Outcome>, Vec<&Outcome>) = sorted
        .into_iter()
        .partition(|o| o.failure.is_some() || o.hint.is_some());
    for o in detailed {
        out.push('\n');
        detail(&mut out, o);
    }
    if !rest.is_empty() {
        out.push('\n');
        let width = rest.iter().map(|o| o.id.len()).max().unwrap_or(0);
        for o in rest {
            let _ = writeln!(
                out,
                "{:<10} {:<width$}  {}",
                o.verdict.as_str(),
                o.id,
                o.message
            );
        }
    }
    out
}

fn detail(out: &mut String, o: &Outcome) {
    let _ = writeln!(
        out,
        "{} {}  [{} · {}]",
        o.verdict.as_str().to_uppercase(),
        o.id,
        o.level.as_str(),
        o.rfc
    );
    let _ = writeln!(out, "  rule:      {}", o.summary);
    if o.failure.is_none() && o.verdict == Verdict::Warn {
        let _ = writeln!(out, "  observed:  {}", o.message);
    }
    out.push_str(&evidence(o));
}

/// The evidence of a failed or warned rule as indented lines: expected and
/// observed, the write and its `curl`, the re-read and its `curl`, the diff of
/// what was sent against what was stored, and the hint. Shared with JUnit.
pub(super) fn evidence(o: &Outcome) -> String {
    let mut out = String::new();
    if let Some(f) = &o.failure {
        failure(&mut out, f);
    }
    if o.harness_error {
        let _ = writeln!(
            out,
            "  note:      the suite could not judge this rule: the server did not answer"
        );
    }
    if let Some(h) = &o.hint {
        let _ = writeln!(out, "  cause:     {}", h.cause);
        let _ = writeln!(out, "  fix:       {}", h.fix);
    }
    out
}

fn failure(out: &mut String, f: &Failure) {
    let _ = writeln!(out, "  expected:  {}", f.expectation);
    let _ = writeln!(out, "  observed:  {}", f.observed);
    if let Some(w) = &f.write {
        request(out, "write:", &w.request);
        response(
            out,
            "answered:",
            w.response_status,
            &w.response_headers,
            Some(&w.response_excerpt),
        );
        let _ = writeln!(out, "  reproduce: {}", w.curl);
    }
    if let Some(req) = &f.request {
        let label = if f.write.is_some() {
            "re-read:"
        } else {
            "request:"
        };
        request(out, label, req);
    }
    if let Some(status) = f.response_status {
        response(
            out,
            "response:",
            status,
            &f.response_headers,
            f.response_excerpt.as_ref(),
        );
    }
    if let Some(curl) = &f.curl {
        let label = if f.write.is_some() {
            "then read:"
        } else {
            "reproduce:"
        };
        let _ = writeln!(out, "  {label:<10} {curl}");
    }
    if let Some(entries) = &f.diff {
        let _ = writeln!(
            out,
            "  diff:      what the write sent against what the re-read found"
        );
        for line in diff::lines(entries) {
            let _ = writeln!(out, "             {line}");
        }
    }
}

fn request(out: &mut String, label: &str, req: &crate::http::RecordedRequest) {
    let _ = writeln!(out, "  {label:<10} {} {}", req.method, req.url);
    for (name, value) in &req.headers {
        let _ = writeln!(out, "             {name}: {value}");
    }
    if let Some(body) = &req.body {
        let _ = writeln!(out, "             {}", indent(body));
    }
}

fn response(
    out: &mut String,
    label: &str,
    status: u16,
    headers: &[(String, String)],
    body: Option<&String>,
) {
    let _ = writeln!(out, "  {label:<10} {status}");
    for (name, value) in headers {
        if matches!(
            name.as_str(),
            "content-type" | "etag" | "location" | "retry-after" | "ratelimit" | "ratelimit-policy"
        ) {
            let _ = writeln!(out, "             {name}: {value}");
        }
    }
    if let Some(body) = body.filter(|b| !b.is_empty()) {
        let _ = writeln!(out, "             {}", indent(body));
    }
}

/// A body's later lines indented like its first, so a pretty-printed body stays
/// inside the evidence block.
fn indent(body: &str) -> String {
    body.trim_end().replace('\n', "\n             ")
}

/// `text` broken at spaces into lines of at most `width` characters (a longer word
/// stays whole), later lines indented by `indent` spaces.
fn wrap(text: &str, indent: usize, width: usize) -> String {
    let mut out = String::new();
    let mut line_len = 0;
    for word in text.split(' ') {
        if line_len > 0 && line_len + 1 + word.chars().count() > width - indent {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            line_len = 0;
        } else if line_len > 0 {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += word.chars().count();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_at_spaces_with_an_indent() {
        // Every line, the first included (it follows a label as wide as the indent),
        // holds width - indent characters.
        assert_eq!(wrap("aa bb cc dd", 2, 7), "aa bb\n  cc dd");
        assert_eq!(wrap("short", 4, 80), "short");
        assert_eq!(
            wrap("averyveryverylongword x", 2, 6),
            "averyveryverylongword\n  x"
        );
    }

    #[test]
    fn later_body_lines_are_indented() {
        assert_eq!(
            indent("{\n  \"n\": 1\n}\n"),
            "{\n               \"n\": 1\n             }"
        );
    }
}
